/* New dynamic tables for a dynamic program. Old .dynsym entries keep their
 * indices (old relocations refer to them) and new ones are appended: new
 * imports, then the new code's exports. .dynstr is the old bytes plus new
 * names, so every old string offset stays valid. The relocation table is
 * the old one copied, then the linker's new relocations with their symbol
 * indices mapped into the merged table; new JUMP_SLOTs become GLOB_DATs so
 * they are bound at load time and never need the new PLT's lazy resolver
 * (ld.so knows only the program's own DT_PLTGOT). The hash tables are
 * rebuilt in the styles the program had (see dyn_build). When the new code
 * adds nothing dynamic, the old tables stay as they are. A static-pie
 * relocates itself through the _DYNAMIC its code references, so there the
 * old .dynamic's DT_RELA and DT_RELASZ are edited in place instead. */
#include "relink/relink.h"
#include "unexec/anchors.h"

#include <fnmatch.h>
#include <string.h>

#include "relink/patch.h"	/* patching */
#include "unexec/unexec.h"

struct ldtab {
	const unsigned char *data;
	size_t size;
	uint64_t addr;
	bool present;
};

static struct ldtab ldsec(const struct linked *l, const char *name)
{
	struct ldtab t = { 0 };
	size_t i;

	for (i = 0; i < l->meta.n; i++) {
		if (!strcmp(l->meta.v[i].name, name)) {
			t.present = true;
			t.data = l->meta.v[i].bytes;
			t.size = l->meta.v[i].sh.sh_size;
			t.addr = l->meta.v[i].sh.sh_addr;
		}
	}
	return t;
}

struct vaux {
	uint32_t hash;
	uint16_t flags, other;
	uint32_t name;	/* dynstr offset */
};

struct vfile {
	uint32_t file;	/* dynstr offset */
	VEC(struct vaux) aux;
};

/* The program's DT_GNU_HASH, checked against the file and its symbol count:
 * every run of a bucket lies where the next one starts, and together they
 * cover the hashed symbols exactly. */
struct oldgnu {
	uint32_t nb, symoffset, nbloom, shift;
	const uint64_t *bloom;
	const uint32_t *buckets;
	const uint32_t *chain;		/* by symbol index - symoffset */
	uint32_t *bucket_of;		/* likewise; allocated */
};

struct builder {
	const struct image *img;
	const struct arch *arch;
	const struct linked *l;
	const struct relink_opts *o;
	const char *path;
	struct strapp str;
	VEC(Elf64_Sym) syms;
	VEC(uint16_t) vers;
	VEC(Elf64_Rela) rela;
	VEC(struct vfile) vfiles;
	VEC(uint32_t) needed;	/* dynstr offsets */
	uint16_t next_ver;
	bool versioned, ver_added;
	struct strmap *oldidx;	/* name -> old dynsym index + 1 */
	VEC(Elf64_Rela) jmprel;	/* the old DT_JMPREL table, copied: same order */
	uint32_t gnu_symoffset, gnu_nbuckets;
	/* Of each renumbered symbol from gnu_symoffset on: its GNU hash (the
	 * low bit may be lost for old symbols: only the chain needs it, and
	 * there it is replaced), its bucket, whether it is new. */
	uint32_t *ghash, *gbucket;
	bool *gfresh;
	const uint64_t *gnu_bloom;	/* the program's bloom filter, when its table is kept */
	uint32_t gnu_nbloom, gnu_shift;
	size_t nsyms, nrela, strsz;	/* final sizes, once the arrays are handed over */
	struct oldgnu og;		/* the program's GNU hash table, when og_ok */
	bool og_ok;
	/* ld's tables */
	struct ldtab lsym, lstr, lvers, lverneed, lrela, lrelplt, lriplt, ldyn;
};

static const char *ld_str(const struct builder *b, uint64_t off)
{
	if (off >= b->lstr.size || !memchr(b->lstr.data + off, 0, b->lstr.size - off))
		return NULL;
	return (const char *)b->lstr.data + off;
}

static const char *old_str(const struct builder *b, uint64_t off)
{
	const struct dyninfo *d = &b->img->dyn;

	return off < d->strsz ? d->str + off : NULL;
}

static int parse_old_verneed(struct builder *b)
{
	const struct dyninfo *d = &b->img->dyn;
	uint64_t off = 0;
	size_t i, k;

	for (i = 0; i < d->verneednum && d->verneed_data; i++) {
		Elf64_Verneed vn;
		struct vfile f = { 0 };
		uint64_t aoff;

		if (!range_ok(off, sizeof(vn), d->verneed_size))
			return pr_err(b->img->path, "version needs run outside the file");
		memcpy(&vn, d->verneed_data + off, sizeof(vn));
		f.file = vn.vn_file;
		aoff = off + vn.vn_aux;
		for (k = 0; k < vn.vn_cnt; k++) {
			Elf64_Vernaux va;
			struct vaux a;

			if (!range_ok(aoff, sizeof(va), d->verneed_size))
				return pr_err(b->img->path, "version needs run outside the file");
			memcpy(&va, d->verneed_data + aoff, sizeof(va));
			a = (struct vaux){ va.vna_hash, va.vna_flags, va.vna_other, va.vna_name };
			if (VEC_PUSH(&f.aux, a))
				return -1;
			if (va.vna_other >= b->next_ver)
				b->next_ver = va.vna_other + 1;
			if (!va.vna_next)
				break;
			aoff += va.vna_next;
		}
		if (VEC_PUSH(&b->vfiles, f))
			return -1;
		if (!vn.vn_next)
			break;
		off += vn.vn_next;
	}
	if (d->verdefnum + 1 >= b->next_ver)
		b->next_ver = d->verdefnum + 2;
	if (b->next_ver < 2)
		b->next_ver = 2;
	return 0;
}

/* The version index of (file, version) in the merged needs, added when new. */
static int version_index(struct builder *b, const char *file, const char *ver, uint32_t hash, uint16_t flags)
{
	size_t i, k;
	long foff, voff;

	for (i = 0; i < b->vfiles.n; i++) {
		struct vfile *f = &b->vfiles.v[i];
		const char *fn = strapp_at(&b->str, f->file);

		if (!fn || strcmp(fn, file))
			continue;
		for (k = 0; k < f->aux.n; k++) {
			const char *vn = strapp_at(&b->str, f->aux.v[k].name);

			if (vn && !strcmp(vn, ver))
				return f->aux.v[k].other;
		}
		break;
	}
	foff = strapp_add(&b->str, file);
	voff = strapp_add(&b->str, ver);
	if (foff < 0 || voff < 0)
		return -1;
	if (i == b->vfiles.n) {
		struct vfile nf = { .file = foff };

		if (VEC_PUSH(&b->vfiles, nf))
			return -1;
	}
	{
		struct vaux a = { hash, flags, b->next_ver, voff };

		if (VEC_PUSH(&b->vfiles.v[i].aux, a))
			return -1;
	}
	b->versioned = b->ver_added = true;
	return b->next_ver++;
}

/* ld's version index -> (file, version name, hash, flags). */
static int ld_version(const struct builder *b, uint16_t idx, const char **file, const char **ver,
		      uint32_t *hash, uint16_t *flags)
{
	uint64_t off = 0;

	while (b->lverneed.present && range_ok(off, sizeof(Elf64_Verneed), b->lverneed.size)) {
		Elf64_Verneed vn;
		uint64_t aoff;

		memcpy(&vn, b->lverneed.data + off, sizeof(vn));
		aoff = off + vn.vn_aux;
		for (unsigned k = 0; k < vn.vn_cnt && range_ok(aoff, sizeof(Elf64_Vernaux), b->lverneed.size); k++) {
			Elf64_Vernaux va;

			memcpy(&va, b->lverneed.data + aoff, sizeof(va));
			if ((va.vna_other & 0x7fff) == (idx & 0x7fff)) {
				*file = ld_str(b, vn.vn_file);
				*ver = ld_str(b, va.vna_name);
				*hash = va.vna_hash;
				*flags = va.vna_flags;
				return *file && *ver ? 0 : -1;
			}
			if (!va.vna_next)
				break;
			aoff += va.vna_next;
		}
		if (!vn.vn_next)
			break;
		off += vn.vn_next;
	}
	return -1;
}

/* The merged table's version index for symbol i of the linker's .dynsym. */
static int map_version(struct builder *b, uint64_t i, const char *name, uint16_t *out)
{
	uint16_t ver = 1;

	if (b->lvers.present && (i + 1) * 2 <= b->lvers.size)
		ver = ((const uint16_t *)b->lvers.data)[i];
	if ((ver & 0x7fff) > 1) {
		const char *file, *vname;
		uint32_t hash;
		uint16_t flags;
		int idx;

		if (ld_version(b, ver, &file, &vname, &hash, &flags))
			return pr_err(b->path, "cannot find the version of '%s' in the linker's output", name);
		idx = version_index(b, file, vname, hash, flags);
		if (idx < 0)
			return -1;
		ver = idx;
	}
	*out = ver;
	return 0;
}

/* name is the key in done: it must outlive the builder (the linker's
 * string table does; strapp's buffer moves as it grows). */
static int push_sym(struct builder *b, Elf64_Sym s, const char *name, uint16_t ver, struct strmap *done)
{
	long off = strapp_add(&b->str, name);

	if (off < 0)
		return -1;
	s.st_name = off;
	if (VEC_PUSH(&b->syms, s) || VEC_PUSH(&b->vers, ver))
		return -1;
	return strmap_put(done, name, (void *)(uintptr_t)b->syms.n);
}

/* Maps a symbol of the linker's .dynsym into the merged table. The new
 * code's copies of library variables (add_copies) come first: a program
 * whose own code reaches stdout through its GOT has it as an import, and
 * that import now binds to the copy. */
static long map_ld_sym(struct builder *b, uint64_t i, struct strmap *done)
{
	const Elf64_Sym *ls;
	const char *name;
	uintptr_t old;
	Elf64_Sym s;
	uint16_t ver;

	if (!i)
		return 0;
	if ((i + 1) * sizeof(Elf64_Sym) > b->lsym.size)
		return pr_err(b->path, "the linker's relocation names symbol %llu, past its table", (unsigned long long)i);
	ls = (const Elf64_Sym *)b->lsym.data + i;
	name = ld_str(b, ls->st_name);
	if (!name)
		return pr_err(b->path, "the linker's symbol %llu has no name", (unsigned long long)i);
	old = (uintptr_t)strmap_get(done, name);
	if (old)
		return old - 1;
	old = (uintptr_t)strmap_get(b->oldidx, name);
	if (old)
		return old - 1;
	if (ls->st_shndx != SHN_UNDEF)
		return pr_err(b->path, "the added code's relocation against '%s' needs a dynamic symbol the program does not have",
			      name);
	if (map_version(b, i, name, &ver))
		return -1;
	s = *ls;
	s.st_value = 0;
	s.st_size = 0;
	if (push_sym(b, s, name, ver, done))
		return -1;
	return b->syms.n - 1;
}

/* The linker's copies of shared libraries' variables (COPY relocations: new
 * code built as PIE reaches stdout, environ or optarg directly), and every
 * alias it defines at the same address (environ and __environ): the new
 * .dynsym defines them in the new data, as a normal executable does, so
 * every library binds to that one copy. A variable the program already
 * has (its own copy, or its own definition) never gets here: the frozen
 * object gave the linker the program's, and the new code uses it. */
static int add_copies(struct builder *b, size_t ins, struct strmap *done)
{
	const struct linked *l = b->l;
	const Elf64_Rela *r = (const Elf64_Rela *)b->lrela.data;
	size_t nr = b->lrela.present ? b->lrela.size / sizeof(Elf64_Rela) : 0;
	size_t ns = b->lsym.present ? b->lsym.size / sizeof(Elf64_Sym) : 0, i, k;

	for (i = 1; i < ns; i++) {
		const Elf64_Sym *ls = (const Elf64_Sym *)b->lsym.data + i;
		const char *name = ld_str(b, ls->st_name);
		bool copied = false;
		uint16_t ver;
		Elf64_Sym s;
		size_t pos;

		if (!name || ls->st_shndx == SHN_UNDEF || ls->st_shndx >= SHN_LORESERVE || ls->st_shndx >= l->ld_shnum ||
		    !(pos = l->ld_to_new[ls->st_shndx]) || strmap_get(done, name))
			continue;
		for (k = 0; k < nr && !copied; k++)
			copied = b->arch->rel_class(ELF64_R_TYPE(r[k].r_info)) == REL_COPY && r[k].r_offset == ls->st_value;
		if (!copied)
			continue;
		s = *ls;
		s.st_shndx = ins + pos - 1;
		if (map_version(b, i, name, &ver) || push_sym(b, s, name, ver, done))
			return -1;
		pr_info("'%s' is copied into the new data: every library now binds to that copy", name);
	}
	return 0;
}

static int add_relocs(struct builder *b, const struct ldtab *t, struct strmap *done)
{
	const Elf64_Rela *r = (const Elf64_Rela *)t->data;
	size_t n = t->size / sizeof(Elf64_Rela), i;

	for (i = 0; t->present && i < n; i++) {
		Elf64_Rela x = r[i];
		unsigned type = ELF64_R_TYPE(x.r_info);
		long sym;

		switch (b->arch->rel_class(type)) {
		case REL_NONE:	/* what ld leaves of a relaxed TLS access */
			continue;
		case REL_RELATIVE:
		case REL_IRELATIVE:
			break;
		case REL_JUMP_SLOT:
			type = b->arch->rel_type(REL_GLOB_DAT);
			/* fall through */
		case REL_GLOB_DAT:
		case REL_ABS64:
		case REL_COPY:
		case REL_DTPMOD64:
		case REL_DTPOFF64:
		case REL_TPOFF64:
			sym = map_ld_sym(b, ELF64_R_SYM(x.r_info), done);
			if (sym < 0)
				return -1;
			x.r_info = ELF64_R_INFO(sym, type);
			break;
		default:
			return pr_err(b->path, "the added code needs relocation type %u at run time, which surgeon "
				      "cannot carry (rebuild it with -fPIC)", type);
		}
		if (VEC_PUSH(&b->rela, x))
			return -1;
	}
	return 0;
}

static bool export_wanted(const struct relink_opts *o, const char *name)
{
	const char *p = o->exports;
	char pat[256];

	if (!p || !strcmp(p, "all"))
		return true;
	if (!strcmp(p, "none"))
		return false;
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = 0;
			if (!fnmatch(pat, name, 0))
				return true;
		}
		p += n + (p[n] == ',');
	}
	return false;
}

static int add_exports(struct builder *b, size_t ins, struct dynout *o, const struct strmap *done)
{
	const struct linked *l = b->l;
	size_t i;

	for (i = 1; i < l->nsyms; i++) {
		const Elf64_Sym *ls = &l->syms[i];
		const char *name = linked_str(l, l->sym_strndx, ls->st_name);
		unsigned bind = ELF64_ST_BIND(ls->st_info), vis = ELF64_ST_VISIBILITY(ls->st_other);
		Elf64_Sym s = *ls;
		size_t pos;
		long off;

		/* A copied variable is in the table already; "name@VERSION" is
		 * the linker's name for one, not a definition of the new code. */
		if (!name || !*name || strchr(name, '@') || strmap_get(done, name) || (bind != STB_GLOBAL && bind != STB_WEAK) ||
		    (vis != STV_DEFAULT && vis != STV_PROTECTED) || ls->st_shndx == SHN_UNDEF ||
		    ls->st_shndx >= SHN_LORESERVE || ls->st_shndx >= l->ld_shnum || !(pos = l->ld_to_new[ls->st_shndx]) ||
		    !strncmp(name, ANCHOR_PREFIX, sizeof(ANCHOR_PREFIX) - 1) || !export_wanted(b->o, name))
			continue;
		if (strmap_get(b->oldidx, name)) {
			size_t oi = (uintptr_t)strmap_get(b->oldidx, name) - 1;
			const Elf64_Sym *os = &b->img->dyn.syms[oi];

			if (os->st_shndx != SHN_UNDEF && !b->o->allow_interpose)
				return pr_err(b->path, "the added code exports '%s', which the program already exports "
					      "(use --allow-interpose if the override is intended)", name);
			if (os->st_shndx != SHN_UNDEF) {
				/* Interposed: lookups by name now find the new definition. */
				Elf64_Sym *t = &b->syms.v[oi];

				t->st_value = s.st_value;
				t->st_size = s.st_size;
				t->st_info = ELF64_ST_INFO(ELF64_ST_BIND(t->st_info), ELF64_ST_TYPE(s.st_info));
				t->st_shndx = ins + pos - 1;
				t->st_other = s.st_other;
				pr_info("interposed: '%s' now names the added definition", name);
				continue;
			}
		}
		off = strapp_add(&b->str, name);
		if (off < 0)
			return -1;
		s.st_name = off;
		s.st_shndx = ins + pos - 1;
		if (VEC_PUSH(&b->syms, s) || VEC_PUSH(&b->vers, 1))
			return -1;
		{
			struct dynexport e = { .name = xstrdup(name), .addr = s.st_value };

			if (!e.name || VEC_PUSH(&o->exports, e)) {
				free(e.name);
				return -1;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0, g;

	while (*s) {
		h = (h << 4) + (unsigned char)*s++;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static const char *sym_name(const struct builder *b, const Elf64_Sym *s)
{
	const char *name = strapp_at(&b->str, s->st_name);

	return name ? name : "";
}

static int build_sysv(struct builder *b, bytevec *out)
{
	static const uint32_t sizes[] = { 1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099,
					  8209, 16411, 32771, 65537, 131101, 262147 };
	uint32_t n = b->syms.n, nb = 1, *t;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		if (sizes[i] <= n / 2 + 1)
			nb = sizes[i];
	out->n = (2 + nb + n) * 4;
	out->v = zalloc(out->n);
	if (!out->v)
		return -1;
	t = (uint32_t *)out->v;
	t[0] = nb;
	t[1] = n;
	for (i = 1; i < n; i++) {
		uint32_t h = sysv_hash(sym_name(b, &b->syms.v[i])) % nb;

		t[2 + nb + i] = t[2 + h];
		t[2 + h] = i;
	}
	return 0;
}

/* Renumbers the merged table: locals and undefined symbols first, in their
 * order, then the defined ones grouped by GNU hash bucket, as DT_GNU_HASH
 * requires. Every table that names symbols by index (the relocations, the
 * copied DT_JMPREL, .gnu.version) follows; DT_JMPREL keeps its order, which
 * the old PLT's lazy stubs push as an index.
 *
 * When the program's own GNU hash table is sound, its bucket count, bloom
 * filter and order are kept: its symbols are already grouped by bucket, so
 * the new ones are merged into their buckets' runs, and no old name is
 * hashed again (node has 75K). Otherwise every symbol is hashed and sorted. */
struct order {
	uint32_t idx, bucket, hash;
	bool fresh;		/* a new symbol: its bloom bits are not in the old filter */
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool hashed(const Elf64_Sym *s)
{
	return s->st_shndx != SHN_UNDEF && ELF64_ST_BIND(s->st_info) != STB_LOCAL;
}

static bool read_old_gnu(const struct builder *b, struct oldgnu *g)
{
	const struct image *img = b->img;
	const struct dyninfo *d = &img->dyn;
	const uint32_t *h, *buckets;
	uint64_t off, size;
	uint32_t expect, i;

	memset(g, 0, sizeof(*g));
	if (!d->gnu_hash || !image_vaddr_to_off(img, d->gnu_hash, 16, &off) || off % 8)
		return false;
	h = (const uint32_t *)(img->data + off);
	g->nb = h[0], g->symoffset = h[1], g->nbloom = h[2], g->shift = h[3];
	if (!g->nb || !g->nbloom || (g->nbloom & (g->nbloom - 1)) || g->shift >= 32 || g->symoffset > d->nsyms ||
	    g->symoffset == 0)
		return false;
	size = 16 + (uint64_t)g->nbloom * 8 + (uint64_t)g->nb * 4 + (uint64_t)(d->nsyms - g->symoffset) * 4;
	if (!image_vaddr_to_off(img, d->gnu_hash, size, &off))
		return false;
	g->bloom = (const uint64_t *)(h + 4);
	buckets = g->buckets = (const uint32_t *)(g->bloom + g->nbloom);
	g->chain = buckets + g->nb;
	g->bucket_of = zalloc(((size_t)(d->nsyms - g->symoffset) + 1) * sizeof(*g->bucket_of));
	if (!g->bucket_of)
		return false;
	expect = g->symoffset;
	for (i = 0; i < g->nb; i++) {
		uint32_t k = buckets[i];

		if (!k)
			continue;
		if (k != expect)
			goto bad;
		for (;; k++) {
			if (k >= d->nsyms)
				goto bad;
			g->bucket_of[k - g->symoffset] = i;
			if (g->chain[k - g->symoffset] & 1)
				break;
		}
		expect = k + 1;
	}
	if (expect == d->nsyms)
		return true;
bad:
	free(g->bucket_of);
	g->bucket_of = NULL;
	return false;
}

static int renumber(struct builder *b)
{
	size_t n = b->syms.n, nold = b->img->dyn.nsyms, i, k = 0, nh = 0, first, nf = 0;
	struct order *ord = zalloc(n * sizeof(*ord));
	struct order *fresh = zalloc((n - (nold <= n ? nold : 0) + 1) * sizeof(*fresh));
	uint32_t *map = zalloc(n * sizeof(*map));
	Elf64_Sym *syms = zalloc(n * sizeof(*syms));
	uint16_t *vers = zalloc(n * sizeof(*vers));
	const struct oldgnu g = b->og;
	bool keep = nold <= n && b->og_ok;
	int err = -1;

	if (!ord || !fresh || !map || !syms || !vers)
		goto out;
	if (keep) {
		b->gnu_nbuckets = g.nb;
		b->gnu_nbloom = g.nbloom;
		b->gnu_shift = g.shift;
		b->gnu_bloom = g.bloom;
		/* The old unhashed symbols and the new ones, in order. */
		for (i = 0; i < g.symoffset; i++)
			ord[k++] = (struct order){ i, 0, 0, false };
		for (i = nold; i < n; i++)
			if (!hashed(&b->syms.v[i]))
				ord[k++] = (struct order){ i, 0, 0, false };
		b->gnu_symoffset = k;
		/* Each bucket's old run, then its new symbols: the old runs are in
		 * bucket order already, so the few new ones are sorted and merged
		 * in (a new index is past every old one, which breaks ties). */
		first = k;
		for (i = nold; i < n; i++) {
			uint32_t h;

			if (!hashed(&b->syms.v[i]))
				continue;
			h = gnu_hash(sym_name(b, &b->syms.v[i]));
			fresh[nf++] = (struct order){ i, h % g.nb, h, true };
		}
		if (nf)
			qsort(fresh, nf, sizeof(*fresh), cmp_order);
		for (i = g.symoffset, nh = 0; i < nold || nh < nf;) {
			struct order old = { 0 };

			if (i < nold)
				old = (struct order){ i, g.bucket_of[i - g.symoffset], g.chain[i - g.symoffset] & ~1u, false };
			if (i < nold && (nh == nf || old.bucket <= fresh[nh].bucket)) {
				ord[k++] = old;
				i++;
			} else {
				ord[k++] = fresh[nh++];
			}
		}
		nh = k - first;
	} else {
		for (i = 1; i < n; i++)
			if (hashed(&b->syms.v[i]))
				nh++;
		b->gnu_nbuckets = nh / 4 + 1;
		/* index 0, then the rest that is not hashed, in order */
		for (i = 0; i < n; i++)
			if (!i || !hashed(&b->syms.v[i]))
				ord[k++] = (struct order){ i, 0, 0, false };
		b->gnu_symoffset = k;
		for (i = 1; i < n; i++) {
			uint32_t h;

			if (!hashed(&b->syms.v[i]))
				continue;
			h = gnu_hash(sym_name(b, &b->syms.v[i]));
			ord[k++] = (struct order){ i, h % b->gnu_nbuckets, h, true };
		}
		qsort(ord + b->gnu_symoffset, nh, sizeof(*ord), cmp_order);
	}
	if (k != n) {
		pr_err(b->path, "internal error: %zu of %zu dynamic symbols renumbered", k, n);
		goto out;
	}
	b->ghash = zalloc((nh + 1) * sizeof(*b->ghash));
	b->gbucket = zalloc((nh + 1) * sizeof(*b->gbucket));
	b->gfresh = zalloc(nh + 1);
	if (!b->ghash || !b->gbucket || !b->gfresh)
		goto out;
	for (i = 0; i < nh; i++) {
		b->ghash[i] = ord[b->gnu_symoffset + i].hash;
		b->gbucket[i] = ord[b->gnu_symoffset + i].bucket;
		b->gfresh[i] = ord[b->gnu_symoffset + i].fresh;
	}
	for (i = 0; i < n; i++) {
		map[ord[i].idx] = i;
		syms[i] = b->syms.v[ord[i].idx];
		vers[i] = b->vers.v[ord[i].idx];
	}
	memcpy(b->syms.v, syms, n * sizeof(*syms));
	memcpy(b->vers.v, vers, n * sizeof(*vers));
	for (i = 0; i < b->rela.n; i++) {
		Elf64_Rela *r = &b->rela.v[i];

		if (ELF64_R_SYM(r->r_info) < n)
			r->r_info = ELF64_R_INFO(map[ELF64_R_SYM(r->r_info)], ELF64_R_TYPE(r->r_info));
	}
	for (i = 0; i < b->jmprel.n; i++) {
		Elf64_Rela *r = &b->jmprel.v[i];

		if (ELF64_R_SYM(r->r_info) < n)
			r->r_info = ELF64_R_INFO(map[ELF64_R_SYM(r->r_info)], ELF64_R_TYPE(r->r_info));
	}
	err = 0;
out:
	free(ord);
	free(fresh);
	free(map);
	free(syms);
	free(vers);
	return err;
}

static int build_gnu(struct builder *b, bytevec *out)
{
	uint32_t n = b->syms.n, symoffset = b->gnu_symoffset, nb = b->gnu_nbuckets, nbloom = 1, shift = 6;
	uint32_t nh = n - symoffset, *buckets, *chain;
	uint64_t *bloom;
	size_t i;

	if (b->gnu_bloom) {
		nbloom = b->gnu_nbloom;
		shift = b->gnu_shift;
	} else {
		/* About 8 bloom bits per symbol, as ld gives. */
		while (nbloom * 64 < nh * 8 && nbloom < (1u << 20))
			nbloom *= 2;
	}
	out->n = 16 + (size_t)nbloom * 8 + (size_t)nb * 4 + (size_t)nh * 4;
	out->v = zalloc(out->n);
	if (!out->v)
		return -1;
	((uint32_t *)out->v)[0] = nb;
	((uint32_t *)out->v)[1] = symoffset;
	((uint32_t *)out->v)[2] = nbloom;
	((uint32_t *)out->v)[3] = shift;
	bloom = (uint64_t *)(out->v + 16);
	buckets = (uint32_t *)(out->v + 16 + (size_t)nbloom * 8);
	chain = buckets + nb;
	if (b->gnu_bloom)
		memcpy(bloom, b->gnu_bloom, (size_t)nbloom * 8);
	for (i = symoffset; i < n; i++) {
		uint32_t h = b->ghash[i - symoffset], bk = b->gbucket[i - symoffset];

		if (b->gfresh[i - symoffset])
			bloom[(h / 64) % nbloom] |= (1ull << (h % 64)) | (1ull << ((h >> shift) % 64));
		if (!buckets[bk])
			buckets[bk] = i;
		/* The last symbol of a bucket's run ends its chain. */
		chain[i - symoffset] = (h & ~1u) | (i + 1 == n || b->gbucket[i + 1 - symoffset] != bk);
	}
	return 0;
}

static int build_verneed(struct builder *b, bytevec *out)
{
	size_t i, k, size = 0, pos = 0;

	for (i = 0; i < b->vfiles.n; i++)
		size += sizeof(Elf64_Verneed) + b->vfiles.v[i].aux.n * sizeof(Elf64_Vernaux);
	out->n = size;
	out->v = zalloc(size);
	if (!out->v)
		return -1;
	for (i = 0; i < b->vfiles.n; i++) {
		const struct vfile *f = &b->vfiles.v[i];
		Elf64_Verneed vn = {
			.vn_version = 1, .vn_cnt = f->aux.n, .vn_file = f->file, .vn_aux = sizeof(Elf64_Verneed),
			.vn_next = i + 1 < b->vfiles.n ? sizeof(Elf64_Verneed) + f->aux.n * sizeof(Elf64_Vernaux) : 0,
		};

		memcpy(out->v + pos, &vn, sizeof(vn));
		pos += sizeof(vn);
		for (k = 0; k < f->aux.n; k++) {
			Elf64_Vernaux va = {
				.vna_hash = f->aux.v[k].hash, .vna_flags = f->aux.v[k].flags,
				.vna_other = f->aux.v[k].other, .vna_name = f->aux.v[k].name,
				.vna_next = k + 1 < f->aux.n ? sizeof(Elf64_Vernaux) : 0,
			};

			memcpy(out->v + pos, &va, sizeof(va));
			pos += sizeof(va);
		}
	}
	return 0;
}

static int add_needed(struct builder *b)
{
	const struct dyninfo *d = &b->img->dyn;
	const Elf64_Dyn *ld = (const Elf64_Dyn *)b->ldyn.data;
	size_t i, j, n = b->ldyn.size / sizeof(Elf64_Dyn);

	for (i = 0; i < n && ld[i].d_tag != DT_NULL; i++) {
		const char *name = ld[i].d_tag == DT_NEEDED ? ld_str(b, ld[i].d_un.d_val) : NULL;
		long off;

		if (!name)
			continue;
		for (j = 0; j + 1 < d->ndyn; j++)
			if (d->dyn[j].d_tag == DT_NEEDED && old_str(b, d->dyn[j].d_un.d_val) &&
			    !strcmp(old_str(b, d->dyn[j].d_un.d_val), name))
				break;
		if (j + 1 < d->ndyn)
			continue;
		off = strapp_add(&b->str, name);
		if (off < 0 || VEC_PUSH(&b->needed, (uint32_t)off))
			return -1;
		pr_info("new library needed: %s", name);
	}
	return 0;
}

static int push_out(struct dynout *o, const char *name, uint32_t type, uint64_t flags, uint64_t align,
		    uint64_t entsize, bytevec *buf)
{
	struct newsec s = { .name = name };

	s.sh.sh_type = type;
	s.sh.sh_flags = flags;
	s.sh.sh_addralign = align;
	s.sh.sh_entsize = entsize;
	s.sh.sh_size = buf->n;
	s.bytes = buf->v;
	s.final_links = true;
	if (VEC_PUSH(&o->bufs, (void *)buf->v)) {
		free(buf->v);
		return -1;
	}
	buf->v = NULL;
	return VEC_PUSH(&o->secs, s);
}

void dyn_free(struct dynout *o)
{
	for (size_t i = 0; i < o->exports.n; i++)
		free(o->exports.v[i].name);
	VEC_FREE(&o->exports);
	for (size_t i = 0; i < o->bufs.n; i++)
		free(o->bufs.v[i]);
	VEC_FREE(&o->bufs);
	VEC_FREE(&o->secs);
}

/* A section whose bytes are someone else's (the program's own table), then
 * ours: nothing is copied. */
static int push_view(struct dynout *o, const char *name, uint32_t type, uint64_t flags, uint64_t align,
		     uint64_t entsize, const bytevec *base, const unsigned char *tail, size_t ntail)
{
	struct newsec s = { .name = name, .bytes = base->v, .bytes2 = tail, .size2 = ntail, .final_links = true };

	s.sh.sh_type = type;
	s.sh.sh_flags = flags;
	s.sh.sh_addralign = align;
	s.sh.sh_entsize = entsize;
	s.sh.sh_size = base->n + ntail;
	return VEC_PUSH(&o->secs, s);
}

/* The builder's array itself, handed over: tables of a large program are
 * megabytes, not worth a second copy. */
#define TAKE(vec, elem) ({ bytevec t_ = { .v = (unsigned char *)(vec)->v, .n = (vec)->n * (elem) }; \
			  (vec)->v = NULL; (vec)->n = (vec)->cap = 0; t_; })

static bytevec bytes_of(const void *p, size_t n)
{
	bytevec v = { 0 };

	v.v = zalloc(n);
	if (v.v) {
		memcpy(v.v, p, n);
		v.n = n;
	}
	return v;
}

/* Addresses for the new tables, after the linker's sections: the tables in
 * one read-only group, .dynamic in a writable one (ld.so writes DT_DEBUG
 * and, in a PIE, adjusts pointers in place). */
static void place(const struct linked *l, struct dynout *o, uint64_t page)
{
	uint64_t a = 0;
	size_t i;

	for (i = 0; i < l->secs.n; i++)
		if (l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size > a)
			a = l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size;
	a = align_up(a, page);
	for (i = 0; i < o->secs.n; i++) {
		GElf_Shdr *sh = &o->secs.v[i].sh;

		if (sh->sh_type == SHT_DYNAMIC)
			a = align_up(a, page);
		a = align_up(a, sh->sh_addralign);
		sh->sh_addr = a;
		a += sh->sh_size;
	}
}

static uint64_t addr_of(const struct dynout *o, const char *name)
{
	for (size_t i = 0; i < o->secs.n; i++)
		if (!strcmp(o->secs.v[i].name, name))
			return o->secs.v[i].sh.sh_addr;
	return 0;
}

static int build_dynamic(struct builder *b, struct dynout *o, bool gnu, bool sysv)
{
	const struct dyninfo *d = &b->img->dyn;
	VEC(Elf64_Dyn) v = { 0 };
	bool seen[40] = { 0 };
	bool seen_versym = false, seen_verneed = false, seen_gnu = false;
	size_t i;
	int err = -1;

#define PUT(tag, val) do { Elf64_Dyn e_ = { .d_tag = (tag), .d_un.d_val = (val) }; if (VEC_PUSH(&v, e_)) goto out; } while (0)
	for (i = 0; i + 1 < d->ndyn; i++)
		if (d->dyn[i].d_tag == DT_NEEDED)
			PUT(DT_NEEDED, d->dyn[i].d_un.d_val);
	for (i = 0; i < b->needed.n; i++)
		PUT(DT_NEEDED, b->needed.v[i]);
	for (i = 0; i + 1 < d->ndyn; i++) {
		Elf64_Dyn e = d->dyn[i];

		switch (e.d_tag) {
		case DT_NEEDED:
			continue;
		case DT_HASH: e.d_un.d_ptr = addr_of(o, ".hash"); break;
		case DT_GNU_HASH:
			e.d_un.d_ptr = addr_of(o, ".gnu.hash");
			break;
		case DT_JMPREL:
			e.d_un.d_ptr = addr_of(o, ".rela.plt");
			break;
		case DT_STRTAB: e.d_un.d_ptr = addr_of(o, ".dynstr"); break;
		case DT_STRSZ: e.d_un.d_val = b->strsz; break;
		case DT_SYMTAB: e.d_un.d_ptr = addr_of(o, ".dynsym"); break;
		case DT_RELA: e.d_un.d_ptr = addr_of(o, ".rela.dyn"); break;
		case DT_RELASZ: e.d_un.d_val = b->nrela * sizeof(Elf64_Rela); break;
		case DT_VERSYM: e.d_un.d_ptr = addr_of(o, ".gnu.version"); seen_versym = true; break;
		case DT_VERNEED: e.d_un.d_ptr = addr_of(o, ".gnu.version_r"); seen_verneed = true; break;
		case DT_VERNEEDNUM: e.d_un.d_val = b->vfiles.n; break;
		default: break;
		}
		if (e.d_tag >= 0 && e.d_tag < 40)
			seen[e.d_tag] = true;
		if (e.d_tag == DT_GNU_HASH)
			seen_gnu = true;
		if (VEC_PUSH(&v, e))
			goto out;
	}
	if (sysv && !seen[DT_HASH])
		PUT(DT_HASH, addr_of(o, ".hash"));
	if (gnu && !seen_gnu)
		PUT(DT_GNU_HASH, addr_of(o, ".gnu.hash"));
	if (!seen[DT_RELA] && b->nrela) {
		PUT(DT_RELA, addr_of(o, ".rela.dyn"));
		PUT(DT_RELASZ, b->nrela * sizeof(Elf64_Rela));
		PUT(DT_RELAENT, sizeof(Elf64_Rela));
	}
	if (b->versioned && !seen_versym)
		PUT(DT_VERSYM, addr_of(o, ".gnu.version"));
	if (b->versioned && !seen_verneed) {
		PUT(DT_VERNEED, addr_of(o, ".gnu.version_r"));
		PUT(DT_VERNEEDNUM, b->vfiles.n);
	}
	PUT(DT_NULL, 0);
#undef PUT
	{
		bytevec bv = { .v = (unsigned char *)v.v, .n = v.n * sizeof(Elf64_Dyn) };

		v.v = NULL;
		err = push_out(o, ".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 8, sizeof(Elf64_Dyn), &bv);
	}
out:
	VEC_FREE(&v);
	return err;
}

struct lookup_arg {
	struct builder *b;
	bool oom;
};

/* The lowest index of name in the hashed part of the old table, found as
 * ld.so finds it; recorded unless the head had it. */
static int lookup_hashed(const char *name, void *val, void *arg)
{
	struct lookup_arg *la = arg;
	struct builder *b = la->b;
	const struct oldgnu *g = &b->og;
	uint32_t h = gnu_hash(name), k = g->buckets[h % g->nb];

	(void)val;
	if (strmap_get(b->oldidx, name) || !k)
		return 0;
	for (;; k++) {
		uint32_t c = g->chain[k - g->symoffset];
		const char *s;

		if ((c | 1) == (h | 1) && (s = old_str(b, b->img->dyn.syms[k].st_name)) && !strcmp(s, name)) {
			la->oom = strmap_put(b->oldidx, s, (void *)(uintptr_t)(k + 1));
			return la->oom;
		}
		if (c & 1)
			return 0;
	}
}

/* The old index of each name the new code's tables mention (the linker's
 * dynamic symbols and the new globals that may be exported): they are few,
 * where the old table may hold 100K names. */
static int index_old_names(struct builder *b)
{
	const struct dyninfo *d = &b->img->dyn;
	const struct linked *l = b->l;
	struct strmap *want = strmap_new(64);
	size_t i, n = b->lsym.size / sizeof(Elf64_Sym);
	int err = -1;

	b->oldidx = strmap_new(64);
	if (!want || !b->oldidx)
		goto out;
	for (i = 1; b->lsym.present && i < n; i++) {
		const char *name = ld_str(b, ((const Elf64_Sym *)b->lsym.data)[i].st_name);

		if (name && *name && strmap_put(want, name, (void *)1))
			goto out;
	}
	for (i = 1; i < l->nsyms; i++) {
		const char *name = linked_str(l, l->sym_strndx, l->syms[i].st_name);
		unsigned bind = ELF64_ST_BIND(l->syms[i].st_info);

		if (name && *name && (bind == STB_GLOBAL || bind == STB_WEAK) && strmap_put(want, name, (void *)1))
			goto out;
	}
	/* With a sound GNU hash table, only the unhashed head (imports) is read
	 * in full; the rest is found through the table. */
	for (i = 1; i < (b->og_ok ? b->og.symoffset : d->nsyms); i++) {
		const char *name = old_str(b, d->syms[i].st_name);

		if (name && *name && strmap_get(want, name) && !strmap_get(b->oldidx, name) &&
		    strmap_put(b->oldidx, name, (void *)(uintptr_t)(i + 1)))
			goto out;
	}
	if (b->og_ok) {
		struct lookup_arg la = { b, false };

		strmap_each(want, lookup_hashed, &la);
		if (la.oom)
			goto out;
	}
	err = 0;
out:
	strmap_free(want);
	return err;
}

/* Whether the merged tables would say what the old ones say: no new symbol,
 * relocation, version or library, and no old entry changed (interposition,
 * --replace of an import, a hook in a relocation addend, section indices
 * that the new sections shift). Then nothing dynamic is rewritten, and a
 * program with a large dynamic symbol table costs nothing in size. */
static bool unchanged(const struct builder *b, size_t ins)
{
	const struct dyninfo *d = &b->img->dyn;
	size_t i;

	if (!d->syms || b->syms.n != d->nsyms || b->rela.n != d->nrela || b->needed.n ||
	    b->vfiles.n != d->verneednum || (b->rela.n && memcmp(b->rela.v, d->rela, b->rela.n * sizeof(Elf64_Rela))))
		return false;
	if (b->ver_added)
		return false;
	for (i = 1; i < d->nsyms; i++) {
		const Elf64_Sym *s = &d->syms[i];

		/* An old index the new sections shift must be rewritten. */
		if (s->st_shndx >= ins && s->st_shndx < SHN_LORESERVE)
			return false;
		if (memcmp(s, &b->syms.v[i], sizeof(*s)))
			return false;
	}
	return true;
}

/* New thread-local variables in front of the program's (relink/tls.c):
 * block offsets of the program's own variables grow by the shift (its
 * STT_TLS symbols, the module-relative relocations that name no symbol),
 * and the relocations of the old template apply to its copy as well. */
static int tls_relocs(struct builder *b)
{
	const struct tls_layout *t = &b->l->tls;
	const struct dyninfo *d = &b->img->dyn;
	uint64_t delta = t->start + t->shift - t->old_vaddr, a, off;
	size_t i, n = b->rela.n;

	for (i = 1; i < b->syms.n; i++)
		if (tls_old_offset_moves(b->l, ELF64_ST_TYPE(b->syms.v[i].st_info), b->syms.v[i].st_shndx))
			b->syms.v[i].st_value += t->shift;
	for (i = 0; i < n; i++) {
		Elf64_Rela *r = &b->rela.v[i];
		unsigned type = ELF64_R_TYPE(r->r_info);

		if (!ELF64_R_SYM(r->r_info) &&
		    (b->arch->rel_class(type) == REL_TPOFF64 || b->arch->rel_class(type) == REL_DTPOFF64))
			r->r_addend += t->shift;
		if (r->r_offset >= t->old_vaddr && r->r_offset < t->old_vaddr + t->old_filesz) {
			Elf64_Rela c = *r;

			c.r_offset += delta;
			if (VEC_PUSH(&b->rela, c))
				return -1;
		}
	}
	for (a = t->old_vaddr; d->nrelr && a + 8 <= t->old_vaddr + t->old_filesz; a += 8) {
		Elf64_Rela c = { .r_offset = a + delta, .r_info = ELF64_R_INFO(0, b->arch->rel_type(REL_RELATIVE)) };
		size_t idx;

		if (image_relative_at(b->img, a, &idx) != 'r' || !image_vaddr_to_off(b->img, a, 8, &off))
			continue;
		memcpy(&c.r_addend, b->img->data + off, 8);
		if (VEC_PUSH(&b->rela, c))
			return -1;
	}
	return 0;
}

/* The program's own definition of name in its .dynsym (its copy of a
 * library variable), or NULL. */
static const Elf64_Sym *old_definition(const struct image *img, const char *name)
{
	const struct dyninfo *d = &img->dyn;

	for (size_t i = 1; i < d->nsyms; i++)
		if (d->syms[i].st_shndx != SHN_UNDEF && d->syms[i].st_name < d->strsz &&
		    !strcmp(d->str + d->syms[i].st_name, name))
			return &d->syms[i];
	return NULL;
}

int dyn_copy_aliases(const struct image *img, const struct linked *l, struct strvec *defs)
{
	struct ldtab sym = ldsec(l, ".dynsym"), str = ldsec(l, ".dynstr"), rel = ldsec(l, ".rela.dyn");
	struct builder b = { .lstr = str };
	const Elf64_Rela *r = (const Elf64_Rela *)rel.data;
	const Elf64_Sym *ls = (const Elf64_Sym *)sym.data;
	size_t nr = rel.present ? rel.size / sizeof(Elf64_Rela) : 0, ns = sym.present ? sym.size / sizeof(Elf64_Sym) : 0;
	uint64_t entry = img->eh.e_entry;

	for (size_t k = 0; k < nr; k++) {
		const Elf64_Sym *have = NULL;

		if (img->arch->rel_class(ELF64_R_TYPE(r[k].r_info)) != REL_COPY)
			continue;
		for (size_t i = 1; i < ns && !have; i++) {
			const char *n = ld_str(&b, ls[i].st_name);

			if (n && ls[i].st_shndx != SHN_UNDEF && ls[i].st_value == r[k].r_offset)
				have = old_definition(img, n);
		}
		for (size_t i = 1; have && i < ns; i++) {
			const char *n = ld_str(&b, ls[i].st_name);
			char *a;

			if (!n || ls[i].st_shndx == SHN_UNDEF || ls[i].st_value != r[k].r_offset || old_definition(img, n))
				continue;
			/* Relative to a symbol of the frozen object, so it moves with a PIE. */
			a = xasprintf("--defsym=%s=" ANCHOR_ENTRY "%+lld", n, (long long)(have->st_value - entry));
			if (!a || VEC_PUSH(defs, a)) {
				free(a);
				return -1;
			}
			pr_info("'%s' is an alias of a variable the program has its own copy of: the new code uses that", n);
		}
	}
	return 0;
}

int dyn_build(const struct image *img, const struct linked *l, const struct relink_opts *opts, size_t ins,
	      struct dynout *o, edit_vec *edits)
{
	const struct dyninfo *d = &img->dyn;
	struct builder b = { .img = img, .arch = img->arch, .l = l, .o = opts, .path = opts->output, .next_ver = 2 };
	struct strmap *done = NULL;
	size_t nnew_total, base_pos, i, idx;
	bool static_pie = img->pie && !img->interp;
	/* The hash styles the program had: DT_GNU_HASH needs the merged table
	 * renumbered into its bucket order (renumber()); a DT_HASH nobody asked
	 * for would only make the output bigger. */
	bool gnu = d->gnu_hash != 0, sysv = d->val[DT_HASH] != 0 || !gnu, has_plt = d->njmprel > 0;
	int err = -1;

	memset(o, 0, sizeof(*o));
	if (!d->present)
		return 0;
	b.lsym = ldsec(l, ".dynsym");
	b.lstr = ldsec(l, ".dynstr");
	b.lvers = ldsec(l, ".gnu.version");
	b.lverneed = ldsec(l, ".gnu.version_r");
	b.lrela = ldsec(l, ".rela.dyn");
	b.lrelplt = ldsec(l, ".rela.plt");
	b.lriplt = ldsec(l, ".rela.iplt");
	b.ldyn = ldsec(l, ".dynamic");
	done = strmap_new(64);
	b.og_ok = read_old_gnu(&b, &b.og);
	if (!done || index_old_names(&b))
		goto out;
	/* The old string table, as it is. */
	if (strapp_init(&b.str, (const unsigned char *)d->str, d->str ? d->strsz : 0))
		goto out;
	if (VEC_RESERVE(&b.syms, d->nsyms + l->nsyms + 64) || VEC_RESERVE(&b.vers, d->nsyms + l->nsyms + 64))
		goto out;
	for (i = 0; i < d->nsyms; i++)
		if (VEC_PUSH(&b.syms, d->syms[i]) || VEC_PUSH(&b.vers, d->vers ? d->vers[i] : (i ? 1 : 0)))
			goto out;
	if (!d->syms && (VEC_PUSH(&b.syms, ((Elf64_Sym){ 0 })) || VEC_PUSH(&b.vers, 0)))
		goto out;
	b.versioned = d->vers != NULL;
	if (parse_old_verneed(&b))
		goto out;
	/* Old symbols name old section indices; the new sections shift the
	 * ones after the last old allocated section. */
	nnew_total = l->secs.n + 6 + sysv + gnu + has_plt;
	for (i = 1; i < d->nsyms; i++) {
		Elf64_Sym *s = &b.syms.v[i];

		if (!static_pie && s->st_shndx && s->st_shndx < SHN_LORESERVE)
			s->st_shndx = s->st_shndx < ins ? s->st_shndx : s->st_shndx + nnew_total;
	}

	/* Old relocations, copied; the hooked slots get the thunks as addends. */
	for (i = 0; i < d->nrela; i++)
		if (VEC_PUSH(&b.rela, d->rela[i]))
			goto out;
	if (l->tls.active && tls_relocs(&b))
		goto out;
	for (i = 0; !static_pie && i < d->njmprel; i++)
		if (VEC_PUSH(&b.jmprel, d->jmprel[i]))
			goto out;
	/* patching: relocations against replaced imports name the new code. */
	if (patch_dyn_relocs(opts->patch_plan, img, b.rela.v, b.rela.n))
		goto out;
	if (img->pie) {
		struct hookuse hu[4];
		size_t nh;
		bool entry;

		if (hooks_needed(img, l, hu, &nh, &entry))
			goto out;
		for (i = 0; i < nh; i++) {
			if (image_relative_at(img, hu[i].slot, &idx) != 'a')
				continue;
			b.rela.v[idx].r_addend = hu[i].thunk;
			o->done[o->ndone++] = hu[i].slot;
		}
	}
	/* New relocations, imports, exports, libraries. */
	if ((!static_pie && add_copies(&b, ins, done)) || add_relocs(&b, &b.lrela, done) ||
	    add_relocs(&b, &b.lrelplt, done) || add_relocs(&b, &b.lriplt, done))
		goto out;
	if (!static_pie && (add_exports(&b, ins, o, done) || add_needed(&b)))
		goto out;

	if (static_pie) {
		/* Only the relocations move; the old .dynamic is pointed at them. */
		bytevec rv = bytes_of(b.rela.v, b.rela.n * sizeof(Elf64_Rela));

		if (!rv.v || push_out(o, ".rela.dyn", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &rv))
			goto out;
		place(l, o, img->arch->page_size);
		for (i = 0; i + 1 < d->ndyn; i++) {
			uint64_t v, at = d->addr + i * sizeof(Elf64_Dyn) + 8;

			if (d->dyn[i].d_tag == DT_RELA)
				v = o->secs.v[0].sh.sh_addr;
			else if (d->dyn[i].d_tag == DT_RELASZ)
				v = b.rela.n * sizeof(Elf64_Rela);
			else
				continue;
			if (edit_add(edits, at, 8, &v, "static-pie .dynamic: DT_RELA/DT_RELASZ point at the merged relocations"))
				goto out;
		}
		/* The old .dynsym stays the relocations' symbol table. */
		o->rela_moved = true;
		if (img->dynsym_idx >= 0) {
			size_t old = img->dynsym_idx;

			o->secs.v[0].sh.sh_link = old < ins ? old : old + l->secs.n + o->secs.n;
		}
		err = 0;
		goto out;
	}

	if (unchanged(&b, ins)) {
		pr_info("the new code adds no dynamic symbols, relocations or libraries: the old dynamic tables stay");
		err = 0;
		goto out;
	}
	if (gnu && renumber(&b))
		goto out;
	/* Sections: their links are final output indices. */
	base_pos = ins + l->secs.n;	/* index of the first synthesized section */
	{
		bytevec sv, vv, hv = { 0 }, gv = { 0 }, nv = { 0 }, rv, pv = { 0 };
		bytevec strv;
		size_t first_local;

		/* The hash tables read the symbols: built before these are handed over. */
		if ((sysv && build_sysv(&b, &hv)) || (gnu && build_gnu(&b, &gv)) || build_verneed(&b, &nv))
			goto out;
		first_local = 1;
		for (i = 1; i < b.syms.n && ELF64_ST_BIND(b.syms.v[i].st_info) == STB_LOCAL; i++)
			first_local = i + 1;
		b.nsyms = b.syms.n;
		b.nrela = b.rela.n;
		b.strsz = strapp_size(&b.str);
		sv = TAKE(&b.syms, sizeof(Elf64_Sym));
		vv = TAKE(&b.vers, 2);
		rv = TAKE(&b.rela, sizeof(Elf64_Rela));
		if (has_plt)
			pv = TAKE(&b.jmprel, sizeof(Elf64_Rela));
		/* Order fixes the indices used in links below. */
		if (push_out(o, ".dynsym", SHT_DYNSYM, SHF_ALLOC, 8, sizeof(Elf64_Sym), &sv) ||
		    push_out(o, ".gnu.version", SHT_GNU_versym, SHF_ALLOC, 2, 2, &vv) ||
		    push_out(o, ".gnu.version_r", SHT_GNU_verneed, SHF_ALLOC, 8, 0, &nv) ||
		    (sysv && push_out(o, ".hash", SHT_HASH, SHF_ALLOC, 8, 4, &hv)) ||
		    (gnu && push_out(o, ".gnu.hash", SHT_GNU_HASH, SHF_ALLOC, 8, 0, &gv)) ||
		    push_out(o, ".rela.dyn", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &rv) ||
		    (has_plt && push_out(o, ".rela.plt", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &pv)))
			goto out;
		/* .dynstr: the old table where it is in the program, then the new names. */
		strv = b.str.buf;
		memset(&b.str.buf, 0, sizeof(b.str.buf));
		if (b.str.base_len) {
			bytevec tail = strv;

			strv = (bytevec){ .v = (unsigned char *)b.str.base, .n = b.str.base_len };
			if (VEC_PUSH(&o->bufs, (void *)tail.v)) {
				free(tail.v);
				goto out;
			}
			if (push_view(o, ".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, &strv, tail.v, tail.n))
				goto out;
		} else if (push_out(o, ".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, &strv)) {
			goto out;
		}
		/* .dynamic last: it needs the others' addresses. */
		{
			bytevec tmp = { 0 };
			size_t ndyn = d->ndyn + b.needed.n + 8;

			tmp.v = zalloc(ndyn * sizeof(Elf64_Dyn));
			tmp.n = ndyn * sizeof(Elf64_Dyn);
			if (!tmp.v || push_out(o, ".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 8, sizeof(Elf64_Dyn), &tmp))
				goto out;
		}
		place(l, o, img->arch->page_size);
		o->secs.n--;	/* rebuild .dynamic now that addresses are known */
		free(o->bufs.v[--o->bufs.n]);
		if (build_dynamic(&b, o, gnu, sysv))
			goto out;
		place(l, o, img->arch->page_size);
		if (o->secs.n != nnew_total - l->secs.n) {
			pr_err(b.path, "internal error: %zu dynamic tables, %zu expected", o->secs.n,
			       nnew_total - l->secs.n);
			goto out;
		}
		{
			/* .dynsym, .gnu.version, .gnu.version_r, [.hash], [.gnu.hash],
			 * .rela.dyn, [.rela.plt], .dynstr, .dynamic */
			size_t sym = base_pos, rel = 3 + sysv + gnu, str = base_pos + rel + 1 + has_plt;

			o->secs.v[0].sh.sh_link = str;
			o->secs.v[0].sh.sh_info = first_local;
			o->secs.v[1].sh.sh_link = sym;
			o->secs.v[2].sh.sh_link = str;
			o->secs.v[2].sh.sh_info = b.vfiles.n;
			for (i = 3; i <= rel + has_plt; i++)
				o->secs.v[i].sh.sh_link = sym;
			o->secs.v[o->secs.n - 1].sh.sh_link = str;
			o->link_dynsym = sym;
		}
	}
	o->active = true;
	o->dyn_addr = o->secs.v[o->secs.n - 1].sh.sh_addr;
	o->dyn_size = o->secs.v[o->secs.n - 1].sh.sh_size;
	o->nsyms_old = d->nsyms;
	o->nsyms = b.nsyms;
	err = 0;
out:
	strmap_free(done);
	strmap_free(b.oldidx);
	strapp_free(&b.str);
	for (i = 0; i < b.vfiles.n; i++)
		VEC_FREE(&b.vfiles.v[i].aux);
	VEC_FREE(&b.vfiles);
	VEC_FREE(&b.syms);
	VEC_FREE(&b.vers);
	VEC_FREE(&b.rela);
	VEC_FREE(&b.jmprel);
	VEC_FREE(&b.needed);
	free(b.ghash);
	free(b.og.bucket_of);
	free(b.gbucket);
	free(b.gfresh);
	if (err)
		dyn_free(o);
	return err;
}

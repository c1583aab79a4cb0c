/* The merged dynamic symbol table: the program's symbols where they were,
 * then the new imports, the variables copied from libraries and the new
 * code's exports; the version needs they name; the relocations, with their
 * symbols mapped into the merged table. */
#include "relink/dyn.h"
#include "relink/patch.h"	/* patching */
#include "unexec/anchors.h"

#include <fnmatch.h>
#include <string.h>

struct ldtab dyn_ldsec(const struct linked *l, const char *name)
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

const char *dyn_ld_str(const struct builder *b, uint64_t off)
{
	if (off >= b->lstr.size || !memchr(b->lstr.data + off, 0, b->lstr.size - off))
		return NULL;
	return (const char *)b->lstr.data + off;
}

const char *dyn_old_str(const struct builder *b, uint64_t off)
{
	const struct dyninfo *d = &b->img->dyn;

	return off < d->strsz ? d->str + off : NULL;
}

int dyn_parse_old_verneed(struct builder *b)
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
				*file = dyn_ld_str(b, vn.vn_file);
				*ver = dyn_ld_str(b, va.vna_name);
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

/* A symbol defined in a new section names it by its place among the
 * linker's (ld_to_new, from 1): the writer alone knows output indices. */
int dyn_push(struct builder *b, Elf64_Sym s, uint16_t ver, bool from_ld)
{
	return VEC_PUSH(&b->syms, s) || VEC_PUSH(&b->vers, ver) || VEC_PUSH(&b->from_ld, from_ld) ? -1 : 0;
}

/* name is the key in done: it must outlive the builder (the linker's
 * string table does; strapp's buffer moves as it grows). */
static int push_sym(struct builder *b, Elf64_Sym s, const char *name, uint16_t ver, bool from_ld,
		    struct strmap *done)
{
	long off = strapp_add(&b->str, name);

	if (off < 0)
		return -1;
	s.st_name = off;
	if (dyn_push(b, s, ver, from_ld))
		return -1;
	return strmap_put(done, name, (void *)(uintptr_t)b->syms.n);
}

/* Maps a symbol of the linker's .dynsym into the merged table. The new
 * code's copies of library variables (dyn_add_copies) come first: a program
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
	name = dyn_ld_str(b, ls->st_name);
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
	if (push_sym(b, s, name, ver, false, done))
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
int dyn_add_copies(struct builder *b, struct strmap *done)
{
	const struct linked *l = b->l;
	const Elf64_Rela *r = (const Elf64_Rela *)b->lrela.data;
	size_t nr = b->lrela.present ? b->lrela.size / sizeof(Elf64_Rela) : 0;
	size_t ns = b->lsym.present ? b->lsym.size / sizeof(Elf64_Sym) : 0, i, k;

	for (i = 1; i < ns; i++) {
		const Elf64_Sym *ls = (const Elf64_Sym *)b->lsym.data + i;
		const char *name = dyn_ld_str(b, ls->st_name);
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
		s.st_shndx = pos;
		if (map_version(b, i, name, &ver) || push_sym(b, s, name, ver, true, done))
			return -1;
		pr_info("'%s' is copied into the new data: every library now binds to that copy", name);
	}
	return 0;
}

int dyn_add_relocs(struct builder *b, const struct ldtab *t, struct strmap *done)
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

int dyn_add_exports(struct builder *b, struct dynout *o, const struct strmap *done)
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
				t->st_shndx = pos;
				t->st_other = s.st_other;
				b->from_ld.v[oi] = true;
				pr_info("interposed: '%s' now names the added definition", name);
				continue;
			}
		}
		off = strapp_add(&b->str, name);
		if (off < 0)
			return -1;
		s.st_name = off;
		s.st_shndx = pos;
		if (dyn_push(b, s, 1, true))
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

int dyn_build_verneed(struct builder *b, bytevec *out)
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

int dyn_add_needed(struct builder *b)
{
	const struct dyninfo *d = &b->img->dyn;
	const Elf64_Dyn *ld = (const Elf64_Dyn *)b->ldyn.data;
	size_t i, j, n = b->ldyn.size / sizeof(Elf64_Dyn);

	for (i = 0; i < n && ld[i].d_tag != DT_NULL; i++) {
		const char *name = ld[i].d_tag == DT_NEEDED ? dyn_ld_str(b, ld[i].d_un.d_val) : NULL;
		long off;

		if (!name)
			continue;
		for (j = 0; j + 1 < d->ndyn; j++)
			if (d->dyn[j].d_tag == DT_NEEDED && dyn_old_str(b, d->dyn[j].d_un.d_val) &&
			    !strcmp(dyn_old_str(b, d->dyn[j].d_un.d_val), name))
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
	uint32_t h = dyn_gnu_hash(name), k = g->buckets[h % g->nb];

	(void)val;
	if (strmap_get(b->oldidx, name) || !k)
		return 0;
	for (;; k++) {
		uint32_t c = g->chain[k - g->symoffset];
		const char *s;

		if ((c | 1) == (h | 1) && (s = dyn_old_str(b, b->img->dyn.syms[k].st_name)) && !strcmp(s, name)) {
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
int dyn_index_old_names(struct builder *b)
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
		const char *name = dyn_ld_str(b, ((const Elf64_Sym *)b->lsym.data)[i].st_name);

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
		const char *name = dyn_old_str(b, d->syms[i].st_name);

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

/* New thread-local variables in front of the program's (relink/tls.c):
 * block offsets of the program's own variables grow by the shift (its
 * STT_TLS symbols, the module-relative relocations that name no symbol),
 * and the relocations of the old template apply to its copy as well. */
int dyn_tls_relocs(struct builder *b)
{
	const struct tls_layout *t = &b->l->tls;
	const struct dyninfo *d = &b->img->dyn;
	uint64_t delta = t->start + t->shift - t->old_vaddr, a, off;
	size_t i, n = b->rela.n;

	for (i = 1; i < b->syms.n; i++) {
		Elf64_Sym *s = &b->syms.v[i];

		if (tls_old_offset_moves(b->l, ELF64_ST_TYPE(s->st_info), s->st_shndx)) {
			s->st_value += t->shift;
			s->st_shndx = tls_old_symbol_pos(b->l, s->st_value);
			b->from_ld.v[i] = true;
		}
	}
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

		if (image_relative_at(b->img, a, &idx) != RELATIVE_RELR || !image_vaddr_to_off(b->img, a, 8, &off))
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
	struct ldtab sym = dyn_ldsec(l, ".dynsym"), str = dyn_ldsec(l, ".dynstr"), rel = dyn_ldsec(l, ".rela.dyn");
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
			const char *n = dyn_ld_str(&b, ls[i].st_name);

			if (n && ls[i].st_shndx != SHN_UNDEF && ls[i].st_value == r[k].r_offset)
				have = old_definition(img, n);
		}
		for (size_t i = 1; have && i < ns; i++) {
			const char *n = dyn_ld_str(&b, ls[i].st_name);
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

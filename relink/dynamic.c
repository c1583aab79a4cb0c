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
#include "relink/dyn.h"
#include "relink/patch.h"	/* patching */
#include "unexec/anchors.h"

#include <string.h>

#include "unexec/unexec.h"

static int push_out(struct dynout *o, const char *name, uint32_t type, uint64_t flags, uint64_t align,
		    uint64_t entsize, bytevec *buf, size_t *idx)
{
	struct newsec s = { .name = name };

	s.sh.sh_type = type;
	s.sh.sh_flags = flags;
	s.sh.sh_addralign = align;
	s.sh.sh_entsize = entsize;
	s.sh.sh_size = buf->n;
	s.bytes = buf->v;
	if (VEC_PUSH(&o->bufs, (void *)buf->v)) {
		free(buf->v);
		return -1;
	}
	buf->v = NULL;
	*idx = o->secs.n;
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
	free(o->from_ld);
}

/* A section whose bytes are someone else's (the program's own table), then
 * ours: nothing is copied. */
static int push_view(struct dynout *o, const char *name, uint32_t type, uint64_t flags, uint64_t align,
		     uint64_t entsize, const bytevec *base, const unsigned char *tail, size_t ntail, size_t *idx)
{
	struct newsec s = { .name = name, .bytes = base->v, .bytes2 = tail, .size2 = ntail };

	s.sh.sh_type = type;
	s.sh.sh_flags = flags;
	s.sh.sh_addralign = align;
	s.sh.sh_entsize = entsize;
	s.sh.sh_size = base->n + ntail;
	*idx = o->secs.n;
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

typedef VEC(Elf64_Dyn) dyn_vec;

/* The entries of the new .dynamic: the old ones, pointed at the new tables
 * (whose addresses are 0 before place()), and those the new tables need. */
static int build_dynamic(struct builder *b, const struct dynout *o, bool gnu, bool sysv, dyn_vec *out)
{
	const struct dyninfo *d = &b->img->dyn;
	dyn_vec v = { 0 };
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
	*out = v;
	v = (dyn_vec){ 0 };
	err = 0;
out:
	VEC_FREE(&v);
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

int dyn_build(const struct image *img, const struct linked *l, const struct relink_opts *opts, size_t ins,
	      const struct hookplan *hp, struct dynout *o, edit_vec *edits)
{
	const struct dyninfo *d = &img->dyn;
	struct builder b = { .img = img, .arch = img->arch, .l = l, .o = opts, .path = opts->output, .next_ver = 2 };
	struct strmap *done = NULL;
	size_t i, idx;
	bool static_pie = img->pie && !img->interp;
	/* The hash styles the program had: DT_GNU_HASH needs the merged table
	 * renumbered into its bucket order (dyn_renumber()); a DT_HASH nobody asked
	 * for would only make the output bigger. */
	bool gnu = d->gnu_hash != 0, sysv = d->val[DT_HASH] != 0 || !gnu, has_plt = d->njmprel > 0;
	int err = -1;

	memset(o, 0, sizeof(*o));
	if (!d->present)
		return 0;
	b.lsym = dyn_ldsec(l, ".dynsym");
	b.lstr = dyn_ldsec(l, ".dynstr");
	b.lvers = dyn_ldsec(l, ".gnu.version");
	b.lverneed = dyn_ldsec(l, ".gnu.version_r");
	b.lrela = dyn_ldsec(l, ".rela.dyn");
	b.lrelplt = dyn_ldsec(l, ".rela.plt");
	b.lriplt = dyn_ldsec(l, ".rela.iplt");
	b.ldyn = dyn_ldsec(l, ".dynamic");
	done = strmap_new(64);
	b.og_ok = dyn_read_old_gnu(&b, &b.og);
	if (!done || dyn_index_old_names(&b))
		goto out;
	/* The old string table, as it is. */
	if (strapp_init(&b.str, (const unsigned char *)d->str, d->str ? d->strsz : 0))
		goto out;
	if (VEC_RESERVE(&b.syms, d->nsyms + l->nsyms + 64) || VEC_RESERVE(&b.vers, d->nsyms + l->nsyms + 64))
		goto out;
	/* Old symbols keep the old section indices they name: the writer
	 * maps them (out_seal_dynsym()). */
	for (i = 0; i < d->nsyms; i++)
		if (dyn_push(&b, d->syms[i], d->vers ? d->vers[i] : (i ? 1 : 0), false))
			goto out;
	if (!d->syms && dyn_push(&b, (Elf64_Sym){ 0 }, 0, false))
		goto out;
	b.versioned = d->vers != NULL;
	if (dyn_parse_old_verneed(&b))
		goto out;
	/* Old relocations, copied; the hooked slots get the thunks as addends. */
	for (i = 0; i < d->nrela; i++)
		if (VEC_PUSH(&b.rela, d->rela[i]))
			goto out;
	if (l->tls.active && dyn_tls_relocs(&b))
		goto out;
	for (i = 0; !static_pie && i < d->njmprel; i++)
		if (VEC_PUSH(&b.jmprel, d->jmprel[i]))
			goto out;
	/* patching: relocations against replaced imports name the new code. */
	if (patch_dyn_relocs(opts->patch_plan, img, b.rela.v, b.rela.n))
		goto out;
	if (img->pie) {
		for (i = 0; i < hp->n; i++) {
			if (image_relative_at(img, hp->use[i].slot, &idx) != RELATIVE_RELA)
				continue;
			b.rela.v[idx].r_addend = hp->use[i].thunk;
			o->done[o->ndone++] = hp->use[i].slot;
		}
	}
	/* New relocations, imports, exports, libraries. */
	if ((!static_pie && dyn_add_copies(&b, done)) || dyn_add_relocs(&b, &b.lrela, done) ||
	    dyn_add_relocs(&b, &b.lrelplt, done) || dyn_add_relocs(&b, &b.lriplt, done))
		goto out;
	if (!static_pie && (dyn_add_exports(&b, o, done) || dyn_add_needed(&b)))
		goto out;

	if (static_pie) {
		/* Only the relocations move; the old .dynamic is pointed at them. */
		bytevec rv = bytes_of(b.rela.v, b.rela.n * sizeof(Elf64_Rela));

		if (!rv.v || push_out(o, ".rela.dyn", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &rv, &idx))
			goto out;
		place(l, o, img->page_size);
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
		if (img->dynsym_idx >= 0)
			o->secs.v[0].link = (struct secref){ SEC_OLD, img->dynsym_idx };
		err = 0;
		goto out;
	}

	if (unchanged(&b, ins)) {
		pr_info("the new code adds no dynamic symbols, relocations or libraries: the old dynamic tables stay");
		err = 0;
		goto out;
	}
	if (gnu && dyn_renumber(&b))
		goto out;
	{
		bytevec sv, vv, hv = { 0 }, gv = { 0 }, nv = { 0 }, rv, pv = { 0 };
		bytevec strv;
		size_t first_local, sym, ver, need, hash = 0, ghash = 0, rela, plt = 0, str, dyn;

		/* The hash tables read the symbols: built before these are handed over. */
		if ((sysv && dyn_build_sysv(&b, &hv)) || (gnu && dyn_build_gnu(&b, &gv)) || dyn_build_verneed(&b, &nv))
			goto out;
		first_local = 1;
		for (i = 1; i < b.syms.n && ELF64_ST_BIND(b.syms.v[i].st_info) == STB_LOCAL; i++)
			first_local = i + 1;
		o->nsyms = b.syms.n;
		o->syms = b.syms.v;
		o->from_ld = b.from_ld.v;
		b.from_ld.v = NULL;
		b.nsyms = b.syms.n;
		b.nrela = b.rela.n;
		b.strsz = strapp_size(&b.str);
		sv = TAKE(&b.syms, sizeof(Elf64_Sym));
		vv = TAKE(&b.vers, 2);
		rv = TAKE(&b.rela, sizeof(Elf64_Rela));
		if (has_plt)
			pv = TAKE(&b.jmprel, sizeof(Elf64_Rela));
		if (push_out(o, ".dynsym", SHT_DYNSYM, SHF_ALLOC, 8, sizeof(Elf64_Sym), &sv, &sym) ||
		    push_out(o, ".gnu.version", SHT_GNU_versym, SHF_ALLOC, 2, 2, &vv, &ver) ||
		    push_out(o, ".gnu.version_r", SHT_GNU_verneed, SHF_ALLOC, 8, 0, &nv, &need) ||
		    (sysv && push_out(o, ".hash", SHT_HASH, SHF_ALLOC, 8, 4, &hv, &hash)) ||
		    (gnu && push_out(o, ".gnu.hash", SHT_GNU_HASH, SHF_ALLOC, 8, 0, &gv, &ghash)) ||
		    push_out(o, ".rela.dyn", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &rv, &rela) ||
		    (has_plt && push_out(o, ".rela.plt", SHT_RELA, SHF_ALLOC, 8, sizeof(Elf64_Rela), &pv, &plt)))
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
			if (push_view(o, ".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, &strv, tail.v, tail.n, &str))
				goto out;
		} else if (push_out(o, ".dynstr", SHT_STRTAB, SHF_ALLOC, 1, 0, &strv, &str)) {
			goto out;
		}
		/* .dynamic last: its entries hold the others' addresses, so it is
		 * built once for its size and again once everything is placed. */
		{
			dyn_vec dv = { 0 }, placed = { 0 };
			bytevec bv;
			Elf64_Dyn *at;

			if (build_dynamic(&b, o, gnu, sysv, &dv))
				goto out;
			at = dv.v;
			bv = (bytevec){ .v = (unsigned char *)dv.v, .n = dv.n * sizeof(Elf64_Dyn) };
			if (push_out(o, ".dynamic", SHT_DYNAMIC, SHF_ALLOC | SHF_WRITE, 8, sizeof(Elf64_Dyn), &bv, &dyn))
				goto out;
			place(l, o, img->page_size);
			/* The same entries: only addresses changed. */
			if (build_dynamic(&b, o, gnu, sysv, &placed))
				goto out;
			memcpy(at, placed.v, placed.n * sizeof(Elf64_Dyn));
			VEC_FREE(&placed);
		}
		o->dynamic = dyn;
		o->secs.v[sym].link = (struct secref){ SEC_DYN, str };
		o->secs.v[sym].sh.sh_info = first_local;
		o->secs.v[ver].link = (struct secref){ SEC_DYN, sym };
		o->secs.v[need].link = (struct secref){ SEC_DYN, str };
		o->secs.v[need].sh.sh_info = b.vfiles.n;
		if (sysv)
			o->secs.v[hash].link = (struct secref){ SEC_DYN, sym };
		if (gnu)
			o->secs.v[ghash].link = (struct secref){ SEC_DYN, sym };
		o->secs.v[rela].link = (struct secref){ SEC_DYN, sym };
		if (has_plt)
			o->secs.v[plt].link = (struct secref){ SEC_DYN, sym };
		o->secs.v[dyn].link = (struct secref){ SEC_DYN, str };
	}
	o->active = true;
	o->dyn_addr = o->secs.v[o->dynamic].sh.sh_addr;
	o->dyn_size = o->secs.v[o->dynamic].sh.sh_size;
	err = 0;
out:
	strmap_free(done);
	strmap_free(b.oldidx);
	strapp_free(&b.str);
	for (i = 0; i < b.vfiles.n; i++)
		VEC_FREE(&b.vfiles.v[i].aux);
	VEC_FREE(&b.vfiles);
	VEC_FREE(&b.syms);
	VEC_FREE(&b.from_ld);
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
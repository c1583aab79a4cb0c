/* The output's section table: the old sections with the new ones inserted
 * after the last old allocated one, old tables the new ones supersede
 * renamed, and the symbol table merged (old locals, new locals, old
 * globals, new globals; the string table is the old bytes plus appended
 * names, so old st_names stay valid). */
#include "relink/output.h"
#include "relink/patch.h"	/* patching */
#include "unexec/anchors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relink/payload.h"
#include "relink/note.h"
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

/* The one place section indices of the output are known: an old index,
 * one of the linker's, or a new dynamic table, as the output's. A name no
 * section has is 0, as it is in the linker's output. */
size_t out_index(const struct output *w, struct secref r)
{
	const struct linked *l = w->l;

	switch (r.kind) {
	case SEC_OLD:
		return r.idx < w->img->shnum ? w->old_to_out[r.idx] : 0;
	case SEC_LD:
		return r.idx && r.idx < l->ld_shnum && l->ld_to_new[r.idx] ? w->new_to_out[l->ld_to_new[r.idx] - 1] : 0;
	case SEC_DYN:
		return w->new_to_out[l->secs.n + r.idx];
	case SEC_KEEP:
		break;
	}
	return 0;
}

/* An old symbol's section, as the output's. */
static uint16_t old_shndx(const struct output *w, uint16_t shndx)
{
	return shndx && shndx < SHN_LORESERVE ? out_index(w, (struct secref){ SEC_OLD, shndx }) : shndx;
}

/* An old symbol's section; an old thread-local variable's offset moves, and
 * the variable is in the new template now. */
static uint16_t old_tls_or_shndx(const struct output *w, Elf64_Sym *s)
{
	if (!tls_old_offset_moves(w->l, ELF64_ST_TYPE(s->st_info), s->st_shndx))
		return old_shndx(w, s->st_shndx);
	s->st_value += w->l->tls.shift;
	return w->new_to_out[tls_old_symbol_pos(w->l, s->st_value) - 1];
}

int out_push_sec(struct output *w, const char *name, const GElf_Shdr *sh, const void *buf)
{
	struct outsec s = { .name = name, .sh = *sh, .buf = buf };

	return VEC_PUSH(&w->secs, s);
}

/* The new .dynsym's section indices, now that every section has its place. */
static void seal_dynsym(const struct output *w)
{
	const struct dynout *d = &w->dyn;

	for (size_t i = 1; i < d->nsyms; i++) {
		Elf64_Sym *s = &d->syms[i];

		s->st_shndx = d->from_ld[i] ? w->new_to_out[s->st_shndx - 1] : old_shndx(w, s->st_shndx);
	}
}

static const char *strtab_name(const struct output *w, uint32_t off)
{
	return strapp_at(w->shared_str ? &w->shstr : &w->str, off);
}

/* New symbols from the linker's table, appended after the old ones of each binding. */
static int build_symtab(struct output *w)
{
	const struct image *img = w->img;
	const struct linked *l = w->l;
	const Elf64_Sym *old = NULL;
	size_t nold = 0, oldlocal = 1, noldglob = 0, i, k;
	VEC(Elf64_Sym) loc = { 0 }, glob = { 0 };
	int err = -1;

	if (img->symtab_idx < 0 && img->dyn.syms) {
		/* A stripped program: a new .symtab would hide .dynsym from
		 * objdump and gdb, so it starts with the defined dynamic symbols. */
		for (i = 1; i < img->dyn.nsyms; i++) {
			Elf64_Sym s = img->dyn.syms[i];
			long off;

			if (s.st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s.st_info) == STT_SECTION)
				continue;
			off = strapp_add(&w->str, img->dyn.str + s.st_name);
			if (off < 0)
				goto out;
			s.st_name = off;
			s.st_shndx = old_tls_or_shndx(w, &s);
			if (ELF64_ST_BIND(s.st_info) == STB_LOCAL ? VEC_PUSH(&loc, s) : VEC_PUSH(&glob, s))
				goto out;
		}
	}
	if (img->symtab_idx >= 0) {
		const struct section *s = &img->secs[img->symtab_idx];

		old = (const Elf64_Sym *)(img->data + s->sh.sh_offset);
		nold = s->sh.sh_size / sizeof(Elf64_Sym);
		oldlocal = s->sh.sh_info <= nold ? s->sh.sh_info : nold;
		if (!oldlocal)
			oldlocal = 1;
		noldglob = nold > oldlocal ? nold - oldlocal : 0;
	}
	for (i = 1; i < l->nsyms; i++) {
		Elf64_Sym s = l->syms[i];
		const char *name = linked_str(l, l->sym_strndx, s.st_name);
		size_t pos;
		long off;

		if (!name || !*name || ELF64_ST_TYPE(s.st_info) == STT_SECTION || ELF64_ST_TYPE(s.st_info) == STT_FILE)
			continue;
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE || s.st_shndx >= l->ld_shnum)
			continue;
		pos = l->ld_to_new[s.st_shndx];
		/* The script's marks for the TLS layout name no object. */
		if (!pos || !strncmp(name, ANCHOR_TLS_PREFIX, sizeof(ANCHOR_TLS_PREFIX) - 1))
			continue;
		off = strapp_add(w->shared_str ? &w->shstr : &w->str, name);
		if (off < 0)
			goto out;
		s.st_name = off;
		s.st_shndx = w->new_to_out[pos - 1];
		if (!strncmp(name, ANCHOR_PREFIX, sizeof(ANCHOR_PREFIX) - 1))
			s.st_info = ELF64_ST_INFO(STB_LOCAL, ELF64_ST_TYPE(s.st_info));
		if (ELF64_ST_BIND(s.st_info) == STB_LOCAL ? VEC_PUSH(&loc, s) : VEC_PUSH(&glob, s))
			goto out;
	}
	w->nsym = (nold ? nold : 1) + loc.n + glob.n;
	w->symtab = zalloc(w->nsym * sizeof(*w->symtab));
	if (!w->symtab)
		goto out;
	k = 1;
	for (i = 1; i < oldlocal; i++)
		w->symtab[k++] = old[i];
	if (loc.n)
		memcpy(w->symtab + k, loc.v, loc.n * sizeof(*loc.v));
	k += loc.n;
	w->nlocal = k;
	for (i = 0; i < noldglob; i++)
		w->symtab[k++] = old[oldlocal + i];
	if (glob.n)
		memcpy(w->symtab + k, glob.v, glob.n * sizeof(*glob.v));
	/* Old symbols point at old section indices; _DYNAMIC follows the table. */
	for (i = 1; i < w->nsym; i++) {
		Elf64_Sym *s = &w->symtab[i];
		bool is_old = i < oldlocal || (i >= w->nlocal && i < w->nlocal + noldglob);
		const char *nm;

		if (!is_old)
			continue;
		s->st_shndx = old_tls_or_shndx(w, s);
		nm = w->dyn.active ? strtab_name(w, s->st_name) : NULL;
		if (nm && !strcmp(nm, "_DYNAMIC")) {
			s->st_value = w->dyn.dyn_addr;
			s->st_shndx = out_index(w, (struct secref){ SEC_DYN, w->dyn.dynamic });
		}
	}
	err = 0;
out:
	VEC_FREE(&loc);
	VEC_FREE(&glob);
	return err;
}

/* An old section that keeps its bytes but not its role: ".old" + name. */
int out_rename_old(struct output *w, GElf_Shdr *sh, const char *name)
{
	char *nm = xasprintf("%s%s", OLD_PREFIX, name);
	long off = nm ? strapp_add(&w->shstr, nm) : -1;

	free(nm);
	if (off < 0)
		return -1;
	sh->sh_name = off;
	return 0;
}

/* Old dynamic tables the new ones replace. */
static bool superseded(const struct image *img, const struct section *s)
{
	const struct dyninfo *d = &img->dyn;
	uint64_t a = s->sh.sh_addr;

	switch (s->sh.sh_type) {
	case SHT_DYNSYM:
	case SHT_DYNAMIC:
	case SHT_HASH:
	case SHT_GNU_HASH:
	case SHT_GNU_versym:
	case SHT_GNU_verneed:
		return true;
	case SHT_STRTAB:
		return a && a == d->val[DT_STRTAB];
	case SHT_RELA:
		return a && (a == d->val[DT_RELA] || a == d->val[DT_JMPREL]);
	}
	return false;
}

/* A string table section: the old bytes where they are, then the new names. */
static void use_strapp(struct outsec *s, const struct strapp *t)
{
	s->buf = t->base_len ? t->base : t->buf.v;
	s->buf2 = t->base_len ? t->buf.v : NULL;
	s->size2 = t->base_len ? t->buf.n : 0;
	s->sh.sh_size = strapp_size(t);
}

/* The new sections, in address order, where the old allocated ones end. */
static int push_new(struct output *w)
{
	for (size_t j = 0; j < w->news.n; j++) {
		const struct newsec *ns = &w->news.v[j];
		const char *nm = w->frame_ok && !strcmp(ns->name, ".eh_frame") ? ".surgeon.eh_frame" : ns->name;
		long off = strapp_add(&w->shstr, nm);
		GElf_Shdr sh = ns->sh;
		struct outsec *o;

		if (off < 0)
			return -1;
		sh.sh_name = off;
		sh.sh_offset = w->xnew + (sh.sh_addr - w->vnew);
		w->new_to_out[j] = w->secs.n;
		if (out_push_sec(w, nm, &sh, ns->sh.sh_type == SHT_NOBITS ? NULL : ns->bytes))
			return -1;
		o = &w->secs.v[w->secs.n - 1];
		o->buf2 = ns->bytes2;
		o->size2 = ns->size2;
		o->link = ns->link;
		o->info = ns->info;
	}
	return 0;
}

/* An old section: its bytes and role kept, or its bytes kept under an
 * ".old" name when a new table replaces it, or a debug section merged with
 * the new code's. */
static int push_old(struct output *w, size_t i, bool dbg, bool *used)
{
	const struct image *img = w->img;
	const struct section *s = &img->secs[i];
	uint64_t va;
	/* Old loaded bytes are copied by output_copy_loads(), not through libelf. */
	bool loaded = (s->sh.sh_flags & SHF_ALLOC) && image_off_to_vaddr(img, s->sh.sh_offset, s->sh.sh_size, &va);
	const void *buf = s->sh.sh_type == SHT_NOBITS || loaded ? NULL : img->data + s->sh.sh_offset;
	GElf_Shdr sh = s->sh;
	struct secref link = { SEC_OLD, sh.sh_link }, info = { SEC_KEEP, 0 };
	struct outsec *o;

	if ((sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA || (sh.sh_flags & SHF_INFO_LINK)) && sh.sh_info)
		info = (struct secref){ SEC_OLD, sh.sh_info };
	if ((w->dyn.active && superseded(img, s)) ||
	    (w->l->ehhdr.old_addr && s->sh.sh_addr == w->l->ehhdr.old_addr && !strcmp(s->name, ".eh_frame_hdr")) ||
	    (w->dyn.rela_moved && s->sh.sh_type == SHT_RELA && s->sh.sh_addr && s->sh.sh_addr == img->dyn.val[DT_RELA])) {
		/* The new tables replace these; keep the bytes, not the role. */
		if (out_rename_old(w, &sh, s->name))
			return -1;
		if (sh.sh_type != SHT_STRTAB) {
			sh.sh_type = SHT_PROGBITS;
			sh.sh_link = sh.sh_info = 0;
			link = info = (struct secref){ SEC_KEEP, 0 };
			sh.sh_flags &= ~(uint64_t)SHF_INFO_LINK;
		}
	}
	if (w->l->tls.active && (sh.sh_flags & SHF_TLS)) {
		/* The new template holds the old variables now: these keep the
		 * old bytes (the template the old block was copied from), not the
		 * role. An old .tbss is no bytes and no memory of its own any more. */
		if (out_rename_old(w, &sh, s->name))
			return -1;
		sh.sh_flags &= ~(uint64_t)SHF_TLS;
		if (sh.sh_type == SHT_NOBITS)
			sh.sh_flags &= ~(uint64_t)(SHF_ALLOC | SHF_WRITE);
	}
	if (dbg && !(sh.sh_flags & SHF_ALLOC)) {
		const struct newsec *ns = unexec_debug_section(s->name) ? out_linked_debug(w, s->name, used) : NULL;

		if (ns) {
			out_debug_shdr(ns, &sh);
			buf = ns->bytes;
		} else if (!strcmp(s->name, ".gdb_index") || !strcmp(s->name, ".debug_names")) {
			/* An index of the old units only: gdb would not see the new. */
			if (out_rename_old(w, &sh, s->name))
				return -1;
		}
	}
	if (w->l->tls.shift && !strcmp(s->name, ".debug_info") && buf && !(sh.sh_flags & SHF_COMPRESSED)) {
		buf = out_tls_debug_info(w, buf, sh.sh_size);
		if (!buf)
			return -1;
	}
	if (w->frame_ok && !(sh.sh_flags & SHF_ALLOC) && !strcmp(s->name, ".debug_frame")) {
		out_use_dframe(w, &sh, &buf);
		w->frame_ok = false;	/* placed */
	}
	w->old_to_out[i] = w->secs.n;
	if (out_push_sec(w, s->name, &sh, buf))
		return -1;
	o = &w->secs.v[w->secs.n - 1];
	o->link = link;
	o->info = info;
	o->copied = loaded && s->sh.sh_type != SHT_NOBITS && buf == NULL;
	return 0;
}

/* Debug sections the program did not have (all of them, when it had no
 * debug info of its own), and the new code's CFI if nothing took it. */
static int push_new_debug(struct output *w, bool dbg, const bool *used)
{
	GElf_Shdr sh;
	long off;

	for (size_t i = 0; dbg && i < w->l->debug.n; i++) {
		const struct newsec *ns = &w->l->debug.v[i];
		const void *buf = ns->bytes;

		if (used[i])
			continue;
		off = strapp_add(&w->shstr, ns->name);
		if (off < 0)
			return -1;
		sh = (GElf_Shdr){ .sh_name = off };
		out_debug_shdr(ns, &sh);
		if (w->frame_ok && !strcmp(ns->name, ".debug_frame")) {
			out_use_dframe(w, &sh, &buf);
			w->frame_ok = false;
		}
		if (out_push_sec(w, ns->name, &sh, buf))
			return -1;
	}
	if (w->frame_ok) {
		const void *buf;

		off = strapp_add(&w->shstr, ".debug_frame");
		if (off < 0)
			return -1;
		sh = (GElf_Shdr){ .sh_name = off };
		out_use_dframe(w, &sh, &buf);
		if (out_push_sec(w, ".debug_frame", &sh, buf))
			return -1;
		w->frame_ok = false;
	}
	return 0;
}

/* A section the program lacks that the output needs; returns its index. */
static long push_added(struct output *w, const char *name, GElf_Shdr sh)
{
	long off = strapp_add(&w->shstr, name);

	if (off < 0)
		return -1;
	sh.sh_name = off;
	if (out_push_sec(w, name, &sh, NULL))
		return -1;
	return w->secs.n - 1;
}

/* The tables the output always has: the symbol table (merged, or made for
 * a stripped program), the note, the section names. */
static int push_tables(struct output *w)
{
	const struct image *img = w->img;
	long k;

	if (build_symtab(w))
		return -1;
	if (img->symtab_idx < 0 && w->nsym > 1) {
		if ((k = push_added(w, ".symtab", (GElf_Shdr){ .sh_type = SHT_SYMTAB, .sh_addralign = 8,
							      .sh_entsize = sizeof(Elf64_Sym) })) < 0)
			return -1;
		w->out_symtab = k;
		if ((k = push_added(w, ".strtab", (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 })) < 0)
			return -1;
		w->out_strtab = k;
		w->secs.v[w->out_symtab].sh.sh_link = w->out_strtab;
	}
	if (!w->out_note) {
		if ((k = push_added(w, NOTE_SECTION, (GElf_Shdr){ .sh_type = SHT_NOTE, .sh_addralign = 4 })) < 0)
			return -1;
		w->out_note = k;
	}
	w->secs.v[w->out_note].buf = w->note.v;
	w->secs.v[w->out_note].sh.sh_size = w->note.n;
	if (!img->shnum) {
		if ((k = push_added(w, ".shstrtab", (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 })) < 0)
			return -1;
		w->out_shstrtab = k;
	}
	if (w->secs.n >= SHN_LORESERVE)
		return pr_err(w->path, "too many sections (%zu)", w->secs.n);
	return 0;
}

int out_build_sections(struct output *w)
{
	const struct image *img = w->img;
	int strtab_idx = img->symtab_idx >= 0 ? (int)img->secs[img->symtab_idx].sh.sh_link : -1;
	GElf_Shdr null = { 0 };
	bool dbg, *used = NULL;
	size_t i;
	int err = -1;

	if (img->shnum) {
		const struct section *s = &img->secs[img->shstrndx];

		if (strapp_init(&w->shstr, img->data + s->sh.sh_offset, s->sh.sh_size))
			return -1;
	} else if (strapp_init(&w->shstr, NULL, 0)) {
		return -1;
	}
	w->shared_str = strtab_idx >= 0 && (size_t)strtab_idx == img->shstrndx;
	if (strtab_idx >= 0 && !w->shared_str) {
		const struct section *s = &img->secs[strtab_idx];

		if (strapp_init(&w->str, img->data + s->sh.sh_offset, s->sh.sh_size))
			return -1;
	} else if (strapp_init(&w->str, NULL, 0)) {
		return -1;
	}

	dbg = out_take_debug(w);
	if (out_plan_frames(w, dbg))
		return -1;
	used = zalloc((w->l->debug.n + 1) * sizeof(*used));
	w->old_to_out = zalloc((img->shnum + 1) * sizeof(*w->old_to_out));
	w->new_to_out = zalloc((w->news.n + 1) * sizeof(*w->new_to_out));
	if (!used || !w->old_to_out || !w->new_to_out || out_push_sec(w, "", &null, NULL))
		goto out;
	for (i = 1; i < img->shnum || i == w->ins; i++) {
		if (i == w->ins && push_new(w))
			goto out;
		if (i < img->shnum && push_old(w, i, dbg, used))
			goto out;
	}
	if (push_new_debug(w, dbg, used))
		goto out;
	if (img->symtab_idx >= 0)
		w->out_symtab = w->old_to_out[img->symtab_idx];
	if (strtab_idx >= 0)
		w->out_strtab = w->old_to_out[strtab_idx];
	if (img->shnum)
		w->out_shstrtab = w->old_to_out[img->shstrndx];
	for (i = 1; i < img->shnum; i++)
		if (!strcmp(img->secs[i].name, NOTE_SECTION) && img->secs[i].sh.sh_type == SHT_NOTE)
			w->out_note = w->old_to_out[i];
	if (push_tables(w))
		goto out;
	/* Every section has its place: what names one can be resolved. */
	for (i = 1; i < w->secs.n; i++) {
		struct outsec *o = &w->secs.v[i];

		if (o->link.kind != SEC_KEEP)
			o->sh.sh_link = out_index(w, o->link);
		if (o->info.kind != SEC_KEEP)
			o->sh.sh_info = out_index(w, o->info);
	}
	if (w->dyn.syms)
		seal_dynsym(w);
	/* The rebuilt tables replace the old contents. */
	if (w->out_symtab) {
		struct outsec *s = &w->secs.v[w->out_symtab];

		s->buf = w->symtab;
		s->sh.sh_size = w->nsym * sizeof(Elf64_Sym);
		s->sh.sh_info = w->nlocal;
	}
	if (w->out_strtab && !w->shared_str)
		use_strapp(&w->secs.v[w->out_strtab], &w->str);
	use_strapp(&w->secs.v[w->out_shstrtab], &w->shstr);
	err = 0;
out:
	free(used);
	return err;
}

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

size_t out_remap(const struct writer *w, size_t old)
{
	return old < w->ins ? old : old + w->news.n;
}

int out_push_sec(struct writer *w, const char *name, const GElf_Shdr *sh, const void *buf)
{
	struct outsec s = { .name = name, .sh = *sh, .buf = buf };

	return VEC_PUSH(&w->secs, s);
}

static const char *strtab_name(const struct writer *w, uint32_t off)
{
	return strapp_at(w->shared_str ? &w->shstr : &w->str, off);
}

/* New symbols from the linker's table, appended after the old ones of each binding. */
static int build_symtab(struct writer *w)
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
			if (tls_old_offset_moves(w->l, ELF64_ST_TYPE(s.st_info), s.st_shndx))
				s.st_value += w->l->tls.shift;
			s.st_shndx = s.st_shndx < SHN_LORESERVE ? out_remap(w, s.st_shndx) : s.st_shndx;
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
		s.st_shndx = w->ins + pos - 1;
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
		if (tls_old_offset_moves(w->l, ELF64_ST_TYPE(s->st_info), s->st_shndx))
			s->st_value += w->l->tls.shift;
		if (s->st_shndx && s->st_shndx < SHN_LORESERVE)
			s->st_shndx = out_remap(w, s->st_shndx);
		nm = w->dyn.active ? strtab_name(w, s->st_name) : NULL;
		if (nm && !strcmp(nm, "_DYNAMIC")) {
			s->st_value = w->dyn.dyn_addr;
			s->st_shndx = w->ins + w->news.n - 1;
		}
	}
	err = 0;
out:
	VEC_FREE(&loc);
	VEC_FREE(&glob);
	return err;
}

/* An old section that keeps its bytes but not its role: ".old" + name. */
int out_rename_old(struct writer *w, GElf_Shdr *sh, const char *name)
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

int out_build_sections(struct writer *w)
{
	const struct image *img = w->img;
	const struct linked *l = w->l;
	size_t i;
	GElf_Shdr sh;
	int strtab_idx = img->symtab_idx >= 0 ? (int)img->secs[img->symtab_idx].sh.sh_link : -1;
	bool dbg, *used = NULL;

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
	if (!used)
		goto err;
	memset(&sh, 0, sizeof(sh));
	if (out_push_sec(w, "", &sh, NULL))
		goto err;
	for (i = 1; i <= img->shnum + w->news.n; i++) {
		if (i == w->ins) {
			/* The new sections, in address order. */
			for (size_t j = 0; j < w->news.n; j++) {
				const struct newsec *ns = &w->news.v[j];
				const char *nm = w->frame_ok && !strcmp(ns->name, ".eh_frame") ? ".surgeon.eh_frame" :
						 ns->name;
				long off = strapp_add(&w->shstr, nm);

				if (off < 0)
					goto err;
				sh = ns->sh;
				sh.sh_name = off;
				sh.sh_offset = w->xnew + (sh.sh_addr - w->vnew);
				if (!ns->final_links) {
					sh.sh_link = sh.sh_link && sh.sh_link < l->ld_shnum && l->ld_to_new[sh.sh_link] ?
						     w->ins + l->ld_to_new[sh.sh_link] - 1 : 0;
					sh.sh_info = (sh.sh_flags & SHF_INFO_LINK) && sh.sh_info < l->ld_shnum &&
						     l->ld_to_new[sh.sh_info] ? w->ins + l->ld_to_new[sh.sh_info] - 1 : 0;
				}
				if (out_push_sec(w, nm, &sh, ns->sh.sh_type == SHT_NOBITS ? NULL : ns->bytes))
					goto err;
				w->secs.v[w->secs.n - 1].buf2 = ns->bytes2;
				w->secs.v[w->secs.n - 1].size2 = ns->size2;
			}
		}
		if (i >= img->shnum)
			break;
		{
			const struct section *s = &img->secs[i];
			uint64_t va;
			/* Old loaded bytes are copied by output_copy_loads(), not through libelf. */
			bool loaded = (s->sh.sh_flags & SHF_ALLOC) &&
				      image_off_to_vaddr(img, s->sh.sh_offset, s->sh.sh_size, &va);
			const void *buf = s->sh.sh_type == SHT_NOBITS || loaded ? NULL : img->data + s->sh.sh_offset;

			sh = s->sh;
			sh.sh_link = out_remap(w, sh.sh_link);
			if ((sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA || (sh.sh_flags & SHF_INFO_LINK)) &&
			    sh.sh_info)
				sh.sh_info = out_remap(w, sh.sh_info);
			if ((w->dyn.active && superseded(img, s)) ||
			    (w->l->ehhdr.old_addr && s->sh.sh_addr == w->l->ehhdr.old_addr && !strcmp(s->name, ".eh_frame_hdr")) ||
			    (w->dyn.rela_moved && s->sh.sh_type == SHT_RELA && s->sh.sh_addr &&
			     s->sh.sh_addr == img->dyn.val[DT_RELA])) {
				/* The new tables replace these; keep the bytes, not the role. */
				if (out_rename_old(w, &sh, s->name))
					goto err;
				if (sh.sh_type != SHT_STRTAB) {
					sh.sh_type = SHT_PROGBITS;
					sh.sh_link = sh.sh_info = 0;
					sh.sh_flags &= ~(uint64_t)SHF_INFO_LINK;
				}
			}
			if (dbg && !(sh.sh_flags & SHF_ALLOC)) {
				const struct newsec *ns = unexec_debug_section(s->name) ?
							  out_linked_debug(w, s->name, used) : NULL;

				if (ns) {
					out_debug_shdr(ns, &sh);
					buf = ns->bytes;
				} else if (!strcmp(s->name, ".gdb_index") || !strcmp(s->name, ".debug_names")) {
					/* An index of the old units only: gdb would not see the new. */
					if (out_rename_old(w, &sh, s->name))
						goto err;
				}
			}
			if (w->l->tls.shift && !strcmp(s->name, ".debug_info") && buf && !(sh.sh_flags & SHF_COMPRESSED)) {
				buf = out_tls_debug_info(w, buf, sh.sh_size);
				if (!buf)
					goto err;
			}
			if (w->frame_ok && !(sh.sh_flags & SHF_ALLOC) && !strcmp(s->name, ".debug_frame")) {
				out_use_dframe(w, &sh, &buf);
				w->frame_ok = false;	/* placed */
			}
			if ((int)i == img->symtab_idx)
				w->out_symtab = w->secs.n;
			if (!strcmp(s->name, NOTE_SECTION) && s->sh.sh_type == SHT_NOTE)
				w->out_note = w->secs.n;
			if ((int)i == strtab_idx)
				w->out_strtab = w->secs.n;
			if (i == img->shstrndx)
				w->out_shstrtab = w->secs.n;
			if (out_push_sec(w, s->name, &sh, buf))
				goto err;
			w->secs.v[w->secs.n - 1].copied = loaded && s->sh.sh_type != SHT_NOBITS && buf == NULL;
		}
	}
	/* Debug sections the program did not have (all of them, when it had no
	 * debug info of its own). */
	for (i = 0; dbg && i < w->l->debug.n; i++) {
		const struct newsec *ns = &w->l->debug.v[i];
		long off;

		const void *buf = ns->bytes;

		if (used[i])
			continue;
		off = strapp_add(&w->shstr, ns->name);
		if (off < 0)
			goto err;
		sh = (GElf_Shdr){ .sh_name = off };
		out_debug_shdr(ns, &sh);
		if (w->frame_ok && !strcmp(ns->name, ".debug_frame")) {
			out_use_dframe(w, &sh, &buf);
			w->frame_ok = false;
		}
		if (out_push_sec(w, ns->name, &sh, buf))
			goto err;
	}
	if (w->frame_ok) {
		long off = strapp_add(&w->shstr, ".debug_frame");
		const void *buf;

		if (off < 0)
			goto err;
		sh = (GElf_Shdr){ .sh_name = off };
		out_use_dframe(w, &sh, &buf);
		if (out_push_sec(w, ".debug_frame", &sh, buf))
			goto err;
		w->frame_ok = false;
	}
	free(used);
	used = NULL;
	if (build_symtab(w))
		return -1;
	if (img->symtab_idx < 0 && w->nsym > 1) {
		long a = strapp_add(&w->shstr, ".symtab"), b = strapp_add(&w->shstr, ".strtab");

		if (a < 0 || b < 0)
			return -1;
		w->out_symtab = w->secs.n;
		w->out_strtab = w->secs.n + 1;
		sh = (GElf_Shdr){ .sh_name = a, .sh_type = SHT_SYMTAB, .sh_addralign = 8,
				  .sh_entsize = sizeof(Elf64_Sym), .sh_link = w->out_strtab };
		if (out_push_sec(w, ".symtab", &sh, NULL))
			return -1;
		sh = (GElf_Shdr){ .sh_name = b, .sh_type = SHT_STRTAB, .sh_addralign = 1 };
		if (out_push_sec(w, ".strtab", &sh, NULL))
			return -1;
	}
	if (!w->out_note) {
		long a = strapp_add(&w->shstr, NOTE_SECTION);

		if (a < 0)
			return -1;
		w->out_note = w->secs.n;
		sh = (GElf_Shdr){ .sh_name = a, .sh_type = SHT_NOTE, .sh_addralign = 4 };
		if (out_push_sec(w, NOTE_SECTION, &sh, NULL))
			return -1;
	}
	w->secs.v[w->out_note].buf = w->note.v;
	w->secs.v[w->out_note].sh.sh_size = w->note.n;
	if (!img->shnum) {
		long a = strapp_add(&w->shstr, ".shstrtab");

		if (a < 0)
			return -1;
		w->out_shstrtab = w->secs.n;
		sh = (GElf_Shdr){ .sh_name = a, .sh_type = SHT_STRTAB, .sh_addralign = 1 };
		if (out_push_sec(w, ".shstrtab", &sh, NULL))
			return -1;
	}
	if (w->secs.n >= SHN_LORESERVE)
		return pr_err(w->path, "too many sections (%zu)", w->secs.n);
	/* The rebuilt tables replace the old contents. */
	if (w->out_symtab) {
		struct outsec *s = &w->secs.v[w->out_symtab];

		s->buf = w->symtab;
		s->sh.sh_size = w->nsym * sizeof(Elf64_Sym);
		s->sh.sh_info = w->nlocal;
	}
	if (w->out_strtab && !w->shared_str) {
		use_strapp(&w->secs.v[w->out_strtab], &w->str);
	}
	use_strapp(&w->secs.v[w->out_shstrtab], &w->shstr);
	return 0;
err:
	free(used);
	return -1;
}

/* Writing the output. Old loaded bytes keep their file offsets and their
 * addresses; the new code follows in one page-aligned run; the non-loaded
 * sections (old and rebuilt symbol tables) and the section header table come
 * next; the program header table goes last, in its own read-only segment,
 * at an address that equals (first segment's vaddr - offset) + its file
 * offset, which is where both old kernels (load_addr + e_phoff) and new ones
 * (the PT_LOAD that contains e_phoff) look for it. */
#include "relink/relink.h"
#include "unexec/anchors.h"
#include "relink/patch.h"	/* patching */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relink/payload.h"
#include "relink/note.h"
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

struct outsec {
	const char *name;
	GElf_Shdr sh;
	const void *buf;	/* NULL for NOBITS or empty */
	const void *buf2;	/* then these bytes (old string tables plus new names) */
	size_t size2;
	bool copied;		/* old loaded bytes: output_copy_loads() writes them */
};

struct group {
	uint64_t vaddr, fileend, memend;
	unsigned flags;
};

struct writer {
	const struct image *img;
	const struct linked *l;
	const struct relink_opts *o;
	struct dynout dyn;
	VEC(struct newsec) news;	/* the linker's sections, then the new dynamic tables */
	const char *path;
	int fd;
	VEC(struct outsec) secs;
	VEC(struct group) groups;
	VEC(GElf_Phdr) phdrs;
	size_t ins;		/* where new sections go in the section table */
	uint64_t vnew, xnew;	/* first new address and its file offset */
	struct strapp shstr, str;
	bool shared_str;	/* .symtab's names live in .shstrtab */
	Elf64_Sym *symtab;
	size_t nsym, nlocal;
	size_t out_symtab, out_strtab, out_shstrtab, out_note;
	bytevec note;
	bytevec dframe;		/* .debug_frame with the new code's CFI, when frame_ok */
	bytevec dinfo;		/* .debug_info with moved TLS offsets (tls_debug_info) */
	bool frame_ok;
	uint64_t shoff, phoff, end;
};

static size_t remap(const struct writer *w, size_t old)
{
	return old < w->ins ? old : old + w->news.n;
}

static unsigned pflags(uint64_t shf)
{
	return PF_R | (shf & SHF_WRITE ? PF_W : 0) | (shf & SHF_EXECINSTR ? PF_X : 0);
}

static int make_groups(struct writer *w)
{
	size_t i;

	for (i = 0; i < w->news.n; i++) {
		const GElf_Shdr *sh = &w->news.v[i].sh;
		struct group *g = w->groups.n ? &w->groups.v[w->groups.n - 1] : NULL;
		unsigned f = pflags(sh->sh_flags);

		if (!g || g->flags != f) {
			struct group ng = { .vaddr = sh->sh_addr, .fileend = sh->sh_addr, .flags = f };

			if (g && sh->sh_addr < align_up(g->memend, w->img->arch->page_size))
				return pr_err(w->path, "the linker put section '%s' (0x%llx) on the same page as "
					      "sections of other permissions", w->news.v[i].name,
					      (unsigned long long)sh->sh_addr);
			if (VEC_PUSH(&w->groups, ng))
				return -1;
			g = &w->groups.v[w->groups.n - 1];
		}
		if (sh->sh_type != SHT_NOBITS)
			g->fileend = sh->sh_addr + sh->sh_size;
		g->memend = sh->sh_addr + sh->sh_size;
	}
	w->vnew = w->groups.v[0].vaddr & ~(w->img->arch->page_size - 1);
	w->xnew = align_up(w->img->loaded_end, w->img->arch->page_size);
	return 0;
}

static int push_sec(struct writer *w, const char *name, const GElf_Shdr *sh, const void *buf)
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
			s.st_shndx = s.st_shndx < SHN_LORESERVE ? remap(w, s.st_shndx) : s.st_shndx;
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
			s->st_shndx = remap(w, s->st_shndx);
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
static int rename_old(struct writer *w, GElf_Shdr *sh, const char *name)
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

/* Debug info: the linker's .debug_* sections hold the old units at offset 0
 * and the new ones after them, so they replace the old sections of the same
 * name and the rest are appended. Unless the program's own debug info never
 * reached the linker (the DWARF reader could not use it): then the old
 * sections stay, and the new code's are left out rather than mixed in. */
static bool take_debug(const struct writer *w)
{
	const struct image *img = w->img;
	bool own = false;

	if (!w->l->debug.n)
		return false;
	for (size_t i = 1; i < img->shnum; i++)
		if (!(img->secs[i].sh.sh_flags & SHF_ALLOC) && unexec_debug_section(img->secs[i].name))
			own = true;
	if (own && (!img->dwarf || strcmp(img->dwarf->path, img->path))) {
		pr_warn(img->path, "its debug info was not usable; the new code's debug info is left out");
		return false;
	}
	return true;
}

static const struct newsec *linked_debug(const struct writer *w, const char *name, bool *used)
{
	for (size_t j = 0; j < w->l->debug.n; j++)
		if (!strcmp(w->l->debug.v[j].name, name)) {
			used[j] = true;
			return &w->l->debug.v[j];
		}
	return NULL;
}

/* The new code's CFI as .debug_frame entries after the old ones (ehframe.c
 * says why). The old entries are the linker's .debug_frame when it has the
 * program's debug info, otherwise the program's own. */
static int plan_frames(struct writer *w, bool dbg)
{
	const struct image *img = w->img;
	const struct newsec *eh = NULL;
	const unsigned char *base = NULL;
	uint64_t nbase = 0;
	size_t i;
	int r;

	for (i = 0; i < w->l->secs.n; i++)
		if (!strcmp(w->l->secs.v[i].name, ".eh_frame") && w->l->secs.v[i].bytes)
			eh = &w->l->secs.v[i];
	if (!eh)
		return 0;
	for (i = 0; dbg && i < w->l->debug.n; i++)
		if (!strcmp(w->l->debug.v[i].name, ".debug_frame")) {
			base = w->l->debug.v[i].bytes;
			nbase = w->l->debug.v[i].sh.sh_size;
		}
	for (i = 1; !dbg && i < img->shnum; i++) {
		const GElf_Shdr *sh = &img->secs[i].sh;

		if (strcmp(img->secs[i].name, ".debug_frame") || (sh->sh_flags & SHF_ALLOC) || sh->sh_type != SHT_PROGBITS)
			continue;
		if (sh->sh_flags & SHF_COMPRESSED)
			return 0;
		base = img->data + sh->sh_offset;
		nbase = sh->sh_size;
	}
	while (w->dframe.cap < nbase + 1)
		if (vec_grow((void **)&w->dframe.v, &w->dframe.cap, 1))
			return -1;
	if (nbase)
		memcpy(w->dframe.v, base, nbase);
	w->dframe.n = nbase;
	r = eh_to_debug_frame(eh->bytes, eh->sh.sh_size, eh->sh.sh_addr, &w->dframe);
	/* --wrap's trampolines: their entries sit after the new unwind table. */
	if (!r && w->l->ehhdr.blob_size)
		r = eh_to_debug_frame(w->l->ehhdr.bytes + (w->l->ehhdr.blob_addr - w->l->ehhdr.addr),
				      w->l->ehhdr.blob_size, w->l->ehhdr.blob_addr, &w->dframe);
	if (r < 0)
		return -1;
	if (r) {
		pr_warn(w->path, "the new code's .eh_frame cannot be given to debuggers as .debug_frame; "
			"gdb may not unwind through the old code");
		VEC_FREE(&w->dframe);
		return 0;
	}
	w->frame_ok = true;
	return 0;
}

static void use_dframe(const struct writer *w, GElf_Shdr *sh, const void **buf)
{
	sh->sh_type = SHT_PROGBITS;
	sh->sh_flags = 0;
	sh->sh_size = w->dframe.n;
	sh->sh_addralign = 8;
	sh->sh_entsize = 0;
	*buf = w->dframe.v;
}

/* The linker's header for a debug section; lld keeps SHF_MERGE on a
 * .debug_str it did not merge whole and gives no entry size. */
static void debug_shdr(const struct newsec *ns, GElf_Shdr *sh)
{
	sh->sh_type = ns->sh.sh_type;
	sh->sh_flags = ns->sh.sh_flags;
	sh->sh_size = ns->sh.sh_size;
	sh->sh_addralign = ns->sh.sh_addralign;
	sh->sh_entsize = ns->sh.sh_entsize;
	if ((sh->sh_flags & SHF_MERGE) && !sh->sh_entsize)
		sh->sh_entsize = 1;
}

/* A string table section: the old bytes where they are, then the new names. */
static void use_strapp(struct outsec *s, const struct strapp *t)
{
	s->buf = t->base_len ? t->base : t->buf.v;
	s->buf2 = t->base_len ? t->buf.v : NULL;
	s->size2 = t->base_len ? t->buf.n : 0;
	s->sh.sh_size = strapp_size(t);
}

/* .debug_info with the old thread-local variables' block offsets moved
 * by the new variables in front of them (relink/tls.c): gdb finds them
 * there. The old units come first in the linker's merged section too, so
 * the offsets DWARF reading found are the same in both. */
static const void *tls_debug_info(struct writer *w, const void *old, uint64_t size)
{
	dwarf_tls_ops ops = { 0 };
	size_t moved = 0;

	if (dwarf_tls_operands(w->img, &ops))
		return NULL;
	w->dinfo.v = zalloc(size ? size : 1);
	if (!w->dinfo.v) {
		VEC_FREE(&ops);
		return NULL;
	}
	memcpy(w->dinfo.v, old, size);
	w->dinfo.n = size;
	for (size_t i = 0; i < ops.n; i++) {
		const struct dwarf_tls_op *op = &ops.v[i];
		uint64_t v = 0;

		if (!range_ok(op->off, op->width + 1, size))
			continue;
		memcpy(&v, w->dinfo.v + op->off, op->width);
		if (v > w->l->tls.memsz)
			continue;
		v += w->l->tls.shift;
		memcpy(w->dinfo.v + op->off, &v, op->width);
		moved++;
	}
	pr_info("debug info: %zu thread-local variables' offsets moved by %llu", moved,
		(unsigned long long)w->l->tls.shift);
	VEC_FREE(&ops);
	return w->dinfo.v;
}

static int build_sections(struct writer *w)
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

	dbg = take_debug(w);
	if (plan_frames(w, dbg))
		return -1;
	used = zalloc((w->l->debug.n + 1) * sizeof(*used));
	if (!used)
		goto err;
	memset(&sh, 0, sizeof(sh));
	if (push_sec(w, "", &sh, NULL))
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
				if (push_sec(w, nm, &sh, ns->sh.sh_type == SHT_NOBITS ? NULL : ns->bytes))
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
			sh.sh_link = remap(w, sh.sh_link);
			if ((sh.sh_type == SHT_REL || sh.sh_type == SHT_RELA || (sh.sh_flags & SHF_INFO_LINK)) &&
			    sh.sh_info)
				sh.sh_info = remap(w, sh.sh_info);
			if ((w->dyn.active && superseded(img, s)) ||
			    (w->l->ehhdr.old_addr && s->sh.sh_addr == w->l->ehhdr.old_addr && !strcmp(s->name, ".eh_frame_hdr")) ||
			    (w->dyn.rela_moved && s->sh.sh_type == SHT_RELA && s->sh.sh_addr &&
			     s->sh.sh_addr == img->dyn.val[DT_RELA])) {
				/* The new tables replace these; keep the bytes, not the role. */
				if (rename_old(w, &sh, s->name))
					goto err;
				if (sh.sh_type != SHT_STRTAB) {
					sh.sh_type = SHT_PROGBITS;
					sh.sh_link = sh.sh_info = 0;
					sh.sh_flags &= ~(uint64_t)SHF_INFO_LINK;
				}
			}
			if (dbg && !(sh.sh_flags & SHF_ALLOC)) {
				const struct newsec *ns = unexec_debug_section(s->name) ?
							  linked_debug(w, s->name, used) : NULL;

				if (ns) {
					debug_shdr(ns, &sh);
					buf = ns->bytes;
				} else if (!strcmp(s->name, ".gdb_index") || !strcmp(s->name, ".debug_names")) {
					/* An index of the old units only: gdb would not see the new. */
					if (rename_old(w, &sh, s->name))
						goto err;
				}
			}
			if (w->l->tls.shift && !strcmp(s->name, ".debug_info") && buf && !(sh.sh_flags & SHF_COMPRESSED)) {
				buf = tls_debug_info(w, buf, sh.sh_size);
				if (!buf)
					goto err;
			}
			if (w->frame_ok && !(sh.sh_flags & SHF_ALLOC) && !strcmp(s->name, ".debug_frame")) {
				use_dframe(w, &sh, &buf);
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
			if (push_sec(w, s->name, &sh, buf))
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
		debug_shdr(ns, &sh);
		if (w->frame_ok && !strcmp(ns->name, ".debug_frame")) {
			use_dframe(w, &sh, &buf);
			w->frame_ok = false;
		}
		if (push_sec(w, ns->name, &sh, buf))
			goto err;
	}
	if (w->frame_ok) {
		long off = strapp_add(&w->shstr, ".debug_frame");
		const void *buf;

		if (off < 0)
			goto err;
		sh = (GElf_Shdr){ .sh_name = off };
		use_dframe(w, &sh, &buf);
		if (push_sec(w, ".debug_frame", &sh, buf))
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
		if (push_sec(w, ".symtab", &sh, NULL))
			return -1;
		sh = (GElf_Shdr){ .sh_name = b, .sh_type = SHT_STRTAB, .sh_addralign = 1 };
		if (push_sec(w, ".strtab", &sh, NULL))
			return -1;
	}
	if (!w->out_note) {
		long a = strapp_add(&w->shstr, NOTE_SECTION);

		if (a < 0)
			return -1;
		w->out_note = w->secs.n;
		sh = (GElf_Shdr){ .sh_name = a, .sh_type = SHT_NOTE, .sh_addralign = 4 };
		if (push_sec(w, NOTE_SECTION, &sh, NULL))
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
		if (push_sec(w, ".shstrtab", &sh, NULL))
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

/* The new template, where the new sections put it. */
static GElf_Phdr tls_phdr(const struct writer *w)
{
	const struct tls_layout *t = &w->l->tls;

	return (GElf_Phdr){ .p_type = PT_TLS, .p_flags = PF_R, .p_offset = w->xnew + (t->start - w->vnew),
			    .p_vaddr = t->start, .p_paddr = t->start, .p_filesz = t->size, .p_memsz = t->memsz,
			    .p_align = t->align };
}

/* The new unwind table (relink/ehframe.c). */
static GElf_Phdr eh_phdr(const struct writer *w)
{
	uint64_t a = w->l->ehhdr.addr;

	return (GElf_Phdr){ .p_type = PT_GNU_EH_FRAME, .p_flags = PF_R, .p_offset = w->xnew + (a - w->vnew),
			    .p_vaddr = a, .p_paddr = a, .p_filesz = w->l->ehhdr.size, .p_memsz = w->l->ehhdr.size,
			    .p_align = 4 };
}

static int layout(struct writer *w)
{
	const struct image *img = w->img;
	const struct group *last = &w->groups.v[w->groups.n - 1];
	uint64_t cursor = w->xnew + (last->fileend - w->vnew);
	uint64_t top = last->memend > img->vaddr_end ? last->memend : img->vaddr_end;
	const struct tls_layout *tls = &w->l->tls;
	bool had_tls = false, had_eh = false, add_eh;
	size_t i, nph, last_load = 0;
	GElf_Phdr ph;

	for (i = 0; i < img->phnum; i++) {
		had_tls |= img->phdrs[i].p_type == PT_TLS;
		had_eh |= img->phdrs[i].p_type == PT_GNU_EH_FRAME;
	}
	add_eh = w->l->ehhdr.addr && !had_eh;
	nph = img->phnum + w->groups.n + 1 + (tls->active && !had_tls) + add_eh;

	for (i = 1; i < w->secs.n; i++) {
		GElf_Shdr *sh = &w->secs.v[i].sh;

		if (sh->sh_flags & SHF_ALLOC)
			continue;
		cursor = align_up(cursor, sh->sh_addralign ? sh->sh_addralign : 1);
		sh->sh_offset = cursor;
		if (sh->sh_type != SHT_NOBITS)
			cursor += sh->sh_size;
	}
	w->shoff = align_up(cursor, 8);
	cursor = w->shoff + w->secs.n * sizeof(Elf64_Shdr);
	w->phoff = align_up(cursor, 8);
	if (img->delta_first + w->phoff < align_up(top, w->img->arch->page_size))
		w->phoff = align_up(top, w->img->arch->page_size) - img->delta_first;
	w->end = w->phoff + nph * sizeof(Elf64_Phdr);
	if (nph >= PN_XNUM)
		return pr_err(w->path, "too many program headers (%zu)", nph);

	for (i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_LOAD)
			last_load = i;
	for (i = 0; i < img->phnum; i++) {
		ph = img->phdrs[i];
		if (ph.p_type == PT_DYNAMIC && w->dyn.active) {
			ph.p_vaddr = ph.p_paddr = w->dyn.dyn_addr;
			ph.p_offset = w->xnew + (w->dyn.dyn_addr - w->vnew);
			ph.p_filesz = ph.p_memsz = w->dyn.dyn_size;
		}
		if (ph.p_type == PT_TLS && tls->active)
			ph = tls_phdr(w);
		if (ph.p_type == PT_GNU_EH_FRAME && w->l->ehhdr.addr)
			ph = eh_phdr(w);
		if (ph.p_type == PT_PHDR) {
			ph.p_offset = w->phoff;
			ph.p_vaddr = ph.p_paddr = img->delta_first + w->phoff;
			ph.p_filesz = ph.p_memsz = nph * sizeof(Elf64_Phdr);
		}
		if (VEC_PUSH(&w->phdrs, ph))
			return -1;
		if (i != last_load)
			continue;
		for (size_t g = 0; g < w->groups.n; g++) {
			const struct group *gr = &w->groups.v[g];

			ph = (GElf_Phdr){
				.p_type = PT_LOAD, .p_flags = gr->flags, .p_offset = w->xnew + (gr->vaddr - w->vnew),
				.p_vaddr = gr->vaddr, .p_paddr = gr->vaddr, .p_filesz = gr->fileend - gr->vaddr,
				.p_memsz = gr->memend - gr->vaddr, .p_align = w->img->arch->page_size,
			};
			if (VEC_PUSH(&w->phdrs, ph))
				return -1;
		}
		if (tls->active && !had_tls && VEC_PUSH(&w->phdrs, tls_phdr(w)))
			return -1;
		if (add_eh && VEC_PUSH(&w->phdrs, eh_phdr(w)))
			return -1;
		ph = (GElf_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R, .p_offset = w->phoff,
			.p_vaddr = img->delta_first + w->phoff, .p_paddr = img->delta_first + w->phoff,
			.p_filesz = nph * sizeof(Elf64_Phdr), .p_memsz = nph * sizeof(Elf64_Phdr),
			.p_align = w->img->arch->page_size,
		};
		if (VEC_PUSH(&w->phdrs, ph))
			return -1;
	}
	return 0;
}

static Elf_Data *add_data(struct writer *w, Elf_Scn *scn, const struct outsec *s, const void *buf, uint64_t off,
			  uint64_t size)
{
	Elf_Data *d = elf_newdata(scn);

	if (!d) {
		pr_err(w->path, "section '%s': %s", s->name, elf_errmsg(-1));
		return NULL;
	}
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	d->d_off = off;
	d->d_size = size;
	d->d_buf = (void *)buf;
	return d;
}

static int libelf_write(struct writer *w, GElf_Ehdr *eh)
{
	Elf *e = elf_begin(w->fd, ELF_C_WRITE, NULL);
	size_t i;
	int err = -1;

	if (!e || !gelf_newehdr(e, ELFCLASS64) || !gelf_newphdr(e, w->phdrs.n)) {
		pr_err(w->path, "cannot create ELF: %s", elf_errmsg(-1));
		goto out;
	}
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	for (i = 1; i < w->secs.n; i++) {
		const struct outsec *s = &w->secs.v[i];
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d;

		if (!scn || !gelf_update_shdr(scn, (GElf_Shdr *)&s->sh)) {
			pr_err(w->path, "section '%s': %s", s->name, elf_errmsg(-1));
			goto out;
		}
		if (s->copied) {
			/* No data and not dirty: libelf neither writes these bytes
			 * nor fills them with zeros first (4 KiB per write(), which
			 * for a 100 MB program cost more than all the rest). */
			elf_flagscn(scn, ELF_C_CLR, ELF_F_DIRTY);
			continue;
		}
		d = add_data(w, scn, s, s->sh.sh_type == SHT_NOBITS ? NULL : s->buf, 0, s->sh.sh_size - s->size2);
		if (!d)
			goto out;
		if (!d->d_buf && s->sh.sh_type != SHT_NOBITS)
			d->d_size = 0;
		/* libelf writes the data blocks of a section one after another. */
		if (s->buf2 && s->size2 && !add_data(w, scn, s, s->buf2, s->sh.sh_size - s->size2, s->size2))
			goto out;
	}
	for (i = 0; i < w->phdrs.n; i++)
		if (!gelf_update_phdr(e, i, &w->phdrs.v[i])) {
			pr_err(w->path, "program header %zu: %s", i, elf_errmsg(-1));
			goto out;
		}
	/* Only what is dirty is written. The program header table sits at the
	 * end, far from the ELF header: libelf would zero-fill everything in
	 * between, so write_headers() writes both itself. */
	if (!gelf_update_ehdr(e, eh)) {
		pr_err(w->path, "cannot write: %s", elf_errmsg(-1));
		goto out;
	}
	elf_flagelf(e, ELF_C_CLR, ELF_F_DIRTY);
	elf_flagphdr(e, ELF_C_CLR, ELF_F_DIRTY);
	elf_flagehdr(e, ELF_C_CLR, ELF_F_DIRTY);
	if (elf_update(e, ELF_C_WRITE) < 0) {
		pr_err(w->path, "cannot write: %s", elf_errmsg(-1));
		goto out;
	}
	err = 0;
out:
	if (e)
		elf_end(e);
	return err;
}

/* libelf is given no bytes for the old loaded sections: every old PT_LOAD
 * file range is copied from the original here, in the kernel when the
 * original is a file, so that surgeon itself never touches a large program's
 * pages. It needs nothing from the link, and runs while the linker does. */
int output_copy_loads(const struct image *img, int fd)
{
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type != PT_LOAD || !ph->p_filesz)
			continue;
		if (image_copy_to(img, fd, ph->p_offset, ph->p_filesz))
			return errno ? errno : EIO;
	}
	return 0;
}

struct span {
	uint64_t off, end;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Copies the image's bytes in [at, end) that no span (sorted by offset)
 * covers. 0, or -1 with errno set. */
static int copy_uncovered(const struct image *img, int fd, const struct span *cov, size_t n, uint64_t at,
			  uint64_t end)
{
	size_t k = 0;

	while (at < end) {
		uint64_t next = end;

		while (k < n && cov[k].end <= at)
			k++;
		if (k < n && cov[k].off <= at) {
			at = cov[k].end;	/* a covered run */
			continue;
		}
		if (k < n && cov[k].off < end)
			next = cov[k].off;
		if (image_copy_to(img, fd, at, next - at))
			return -1;
		at = next;
	}
	return 0;
}

/* libelf zero-fills the gap before each section it writes, back to the end
 * of the section before it: old loaded bytes no section covers (padding, the
 * program headers of an earlier surgery) can lie in such a gap. They are
 * copied again once libelf is done; they are few. */
static int recopy_uncovered(struct writer *w)
{
	const struct image *img = w->img;
	VEC(struct span) cov = { 0 };
	int err = -1;

	for (size_t k = 1; k < w->secs.n; k++) {
		const GElf_Shdr *sh = &w->secs.v[k].sh;
		struct span sp = { sh->sh_offset, sh->sh_offset + sh->sh_size };

		if (w->secs.v[k].copied && sh->sh_size && VEC_PUSH(&cov, sp))
			goto out;
	}
	if (cov.n)
		qsort(cov.v, cov.n, sizeof(*cov.v), cmp_span);
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type == PT_LOAD &&
		    copy_uncovered(img, w->fd, cov.v, cov.n, ph->p_offset, ph->p_offset + ph->p_filesz)) {
			pr_err(w->path, "cannot write: %m");
			goto out;
		}
	}
	err = 0;
out:
	VEC_FREE(&cov);
	return err;
}

/* A copy of the whole program, output_copy_loads() having written its loaded
 * bytes already: the rest. 0 or an errno value. */
int output_copy_rest(const struct image *img, int fd)
{
	VEC(struct span) cov = { 0 };
	int err = ENOMEM;

	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		struct span sp = { ph->p_offset, ph->p_offset + ph->p_filesz };

		if (ph->p_type == PT_LOAD && ph->p_filesz && VEC_PUSH(&cov, sp))
			goto out;
	}
	if (cov.n)
		qsort(cov.v, cov.n, sizeof(*cov.v), cmp_span);
	err = copy_uncovered(img, fd, cov.v, cov.n, 0, img->size) ? (errno ? errno : EIO) : 0;
out:
	VEC_FREE(&cov);
	return err;
}

/* The program headers, at the end; the ELF header too when no segment
 * loads it (when one does, its changed fields are edits). */
static int write_headers(struct writer *w, const GElf_Ehdr *eh, bool header_loaded)
{
	if ((!header_loaded && write_all(w->fd, eh, sizeof(Elf64_Ehdr), 0)) ||
	    write_all(w->fd, w->phdrs.v, w->phdrs.n * sizeof(Elf64_Phdr), eh->e_phoff))
		return pr_err(w->path, "cannot write: %m");
	return 0;
}

int edit_add(edit_vec *edits, uint64_t addr, uint64_t size, const void *bytes, const char *reason)
{
	struct edit e = { .addr = addr, .size = size, .reason = reason };

	if (size > EDIT_MAX)
		return pr_err(reason, "internal error: a %llu-byte edit", (unsigned long long)size);
	if (bytes)
		memcpy(e.bytes, bytes, size);
	return VEC_PUSH(edits, e);
}

static int hook_slot(struct writer *w, const struct hookuse *h, edit_vec *edits)
{
	uint64_t off;
	size_t idx;

	for (size_t i = 0; i < w->dyn.ndone; i++) {
		if (w->dyn.done[i] == h->slot) {
			pr_info("%s slot 0x%llx: its RELATIVE relocation (in the new table) now names the thunk",
				h->what, (unsigned long long)h->slot);
			return 0;
		}
	}
	if (w->img->pie && image_relative_at(w->img, h->slot, &idx) != 'r')
		return pr_err(w->path, "cannot hook the %s slot at 0x%llx: no relocation to change", h->what,
			      (unsigned long long)h->slot);
	if (!image_vaddr_to_off(w->img, h->slot, 8, &off))
		return pr_err(w->path, "the %s slot at 0x%llx is not in the file", h->what, (unsigned long long)h->slot);
	return edit_add(edits, h->slot, 8, &h->thunk, h->reason);
}

/* Everything the surgery changes in old bytes, decided before the layout
 * so that the note that records it can be sized. The ELF header's fields
 * get their bytes once the layout is known (header_edit_bytes). */
static int plan_edits(struct writer *w, const struct hookuse *hu, size_t nh, bool entry, edit_vec *edits)
{
	uint64_t va;

	if (image_off_to_vaddr(w->img, 0, 1, &va) &&
	    ((entry && edit_add(edits, va + 0x18, 0x08, NULL,
				"ELF header: e_entry runs the added constructors first (the program has no .init_array)")) ||
	     edit_add(edits, va + 0x20, 0x10, NULL, "ELF header: e_phoff, e_shoff (the header tables moved)") ||
	     edit_add(edits, va + 0x38, 0x08, NULL, "ELF header: e_phnum, e_shnum, e_shstrndx")))
		return -1;
	for (size_t i = 0; i < nh; i++)
		if (hook_slot(w, &hu[i], edits))
			return -1;
	/* patching: the entry jumps of --replace and --wrap. */
	if (patch_plan_edits(w->o->patch_plan, w->img->arch, edits))
		return -1;
	return 0;
}

/* The ELF header's edits take their bytes from the new header. */
static bool header_edit_bytes(const struct image *img, const GElf_Ehdr *eh, edit_vec *edits)
{
	Elf64_Ehdr raw;
	uint64_t va;

	if (!image_off_to_vaddr(img, 0, sizeof(raw), &va))
		return false;
	memcpy(&raw, eh, sizeof(raw));	/* GElf_Ehdr is Elf64_Ehdr */
	for (size_t i = 0; i < edits->n; i++) {
		struct edit *e = &edits->v[i];

		if (e->addr >= va && e->addr + e->size <= va + sizeof(raw))
			memcpy(e->bytes, (const uint8_t *)&raw + (e->addr - va), e->size);
	}
	return true;
}

/* Every edit, where its old bytes are in the output. */
static int apply_edits(const struct image *img, int fd, const char *path, const edit_vec *edits)
{
	for (size_t i = 0; i < edits->n; i++) {
		const struct edit *e = &edits->v[i];
		uint64_t off;

		if (!image_vaddr_to_off(img, e->addr, e->size, &off) || write_all(fd, e->bytes, e->size, off))
			return pr_err(path, "cannot write the edit at 0x%llx (%s)", (unsigned long long)e->addr, e->reason);
	}
	return 0;
}

static int build_note(struct writer *w, const edit_vec *edits)
{
	struct surgery_record rec = { .verb = w->o->verb ? w->o->verb : "relink",
				      .new_above = w->img->vaddr_end, .has_new_above = true };
	struct payload pl;
	const unsigned char *old;
	size_t oldsize, i;
	int err = -1;

	if (note_find(w->img, &old, &oldsize))
		return -1;
	if (w->o->program && note_add_input(&rec, w->o->program, w->o->program_digest))
		goto out;
	for (i = 0; i < w->o->inputs.n; i++)
		if (w->o->inputs.v[i].kind == IN_FILE && note_add_input(&rec, w->o->inputs.v[i].arg, NULL))
			goto out;
	for (i = 0; i < w->dyn.exports.n; i++) {
		struct note_export e = { .name = w->dyn.exports.v[i].name, .addr = w->dyn.exports.v[i].addr };

		if (VEC_PUSH(&rec.exports, e))
			goto out;
	}
	for (i = 0; i < edits->n; i++)
		if (VEC_PUSH(&rec.edits, edits->v[i]))
			goto out;
	payload_find(w->img, &pl);
	payload_note(&pl, &rec);
	err = note_append(&w->note, old, oldsize, &rec, w->img->path);
out:
	note_record_free(&rec);
	return err;
}

int output_write(const struct image *img, const struct linked *l, const struct relink_opts *o, int fd,
		 edit_vec *edits)
{
	struct writer w = { .img = img, .l = l, .o = o, .path = o->output, .fd = fd };
	GElf_Ehdr eh = img->eh;
	struct hookuse hu[4];
	struct payload pl;
	size_t i, nh = 0;
	bool entry = false, header_loaded;
	int err = -1;

	/* New sections go after the last old allocated one in the table. */
	w.ins = 1;
	for (i = 1; i < img->shnum; i++)
		if (img->secs[i].sh.sh_flags & SHF_ALLOC)
			w.ins = i + 1;
	if (dyn_build(img, l, o, w.ins, &w.dyn, edits))
		goto out;
	for (i = 0; i < l->secs.n; i++)
		if (VEC_PUSH(&w.news, l->secs.v[i]))
			goto out;
	for (i = 0; i < w.dyn.secs.n; i++)
		if (VEC_PUSH(&w.news, w.dyn.secs.v[i]))
			goto out;
	if (hooks_needed(img, l, hu, &nh, &entry) || plan_edits(&w, hu, nh, entry, edits) || build_note(&w, edits))
		goto out;
	if (entry)
		eh.e_entry = l->entry_thunk;
	if (make_groups(&w) || build_sections(&w) || layout(&w))
		goto out;
	eh.e_phoff = w.phoff;
	eh.e_phnum = w.phdrs.n;
	eh.e_shoff = w.shoff;
	eh.e_shnum = w.secs.n;
	eh.e_shstrndx = w.out_shstrtab;
	header_loaded = header_edit_bytes(img, &eh, edits);
	if (libelf_write(&w, &eh) || recopy_uncovered(&w) || write_headers(&w, &eh, header_loaded) ||
	    apply_edits(img, fd, w.path, edits))
		goto out;
	/* Appended data last, after the new segments, where its format needs it. */
	payload_find(img, &pl);
	if (payload_write(img, &pl, fd, payload_place(&pl, w.end), w.path))
		goto out;
	err = 0;
out:
	strapp_free(&w.shstr);
	strapp_free(&w.str);
	dyn_free(&w.dyn);
	VEC_FREE(&w.news);
	VEC_FREE(&w.note);
	VEC_FREE(&w.dframe);
	VEC_FREE(&w.dinfo);
	free(w.symtab);
	VEC_FREE(&w.secs);
	VEC_FREE(&w.groups);
	VEC_FREE(&w.phdrs);
	return err;
}

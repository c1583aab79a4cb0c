/* Patching old functions: --replace OLD=NEW and --wrap SYM (relink/patch.c).
 * Planned before the link (which bytes each entry jump displaces, and the
 * __real_SYM trampolines, made as an ET_REL the linker links like hook.o),
 * resolved after it (where NEW and __wrap_SYM landed), then edits of old
 * bytes like the hooked slots, written with them. */
#ifndef SURGEON_PATCH_H
#define SURGEON_PATCH_H

#include "relink/relink.h"

struct patch_site {
	char *what;		/* "--replace OLD=NEW", "--wrap SYM": the edit's reason */
	const char *old;	/* the patched symbol */
	char *target;		/* NEW, or __wrap_SYM: where the entry jump goes */
	bool wrap;
	bool import;		/* OLD is an import: its stub, and its GOT relocations */
	bool has_entry;		/* false for an import without a stub (-fno-plt): relocations only */
	uint64_t sym, entry;	/* the symbol, and where the jump starts (after endbr64) */
	size_t len, jlen;	/* whole instructions displaced; bytes of the jump */
	bool pad;		/* the jump starts with the entry marker: it displaces an
				 * implicit one (paciasp) the program's BTI needs there */
	uint64_t target_addr;	/* after the link */
	/* --wrap: __real_SYM, after the link, and whether its displaced
	 * instructions kept their lengths (then the function's CFI describes
	 * them too: relink/ehframe.c copies it for the unwinder) */
	uint64_t real_addr, real_size;
	bool same_lengths;
};

struct patch_plan {
	VEC(struct patch_site) sites;
	char *obj;		/* the trampolines' object, linked like hook.o */
	size_t nrelocs;		/* dynamic relocations pointed at new code */
};

/* Checks every request against the program and writes the trampolines'
 * object into `dir`. *out stays NULL when there is nothing to patch. */
int patch_plan_make(const struct image *img, const struct relink_opts *o, const char *dir, struct patch_plan **out);
/* After the link: where each jump goes, and whether it reaches. */
int patch_resolve(struct patch_plan *p, const struct image *img, const struct linked *l);
/* The entry jumps, as edits of old bytes with their reasons. */
int patch_plan_edits(const struct patch_plan *p, const struct arch *arch, edit_vec *edits);
/* Points the copied dynamic relocations of replaced imports (GLOB_DAT,
 * JUMP_SLOT, 64) at the new definitions: RELATIVE with the link address. */
int patch_dyn_relocs(struct patch_plan *p, const struct image *img, Elf64_Rela *r, size_t n);
void patch_plan_free(struct patch_plan *p);

#endif

/* Moving instructions: the bytes at a function's entry that a patch jump
 * displaces are re-emitted elsewhere (a --wrap trampoline). PC-relative
 * operands and relative branches get fields that the caller covers with
 * relocations of the class each names (x86-64: 4-byte PC32; aarch64: the
 * instruction's own immediate), so the system linker, not surgeon, fills
 * them in. Capstone stays behind disasm/disasm.h. */
#ifndef SURGEON_RELOCATE_H
#define SURGEON_RELOCATE_H

#include "arch/arch.h"
#include "disasm/disasm.h"
#include "disasm/symindex.h"

/* A PC-relative field at code[off] that must reach `target`: x86-64's
 * 4-byte field = target - (address of the field) + bias (bias is minus the
 * bytes from the field to the end of its instruction); aarch64's
 * instruction at code[off] aims at target (bias 0). */
struct reloc_fix {
	uint32_t off;
	uint64_t target;
	int64_t bias;
	enum rel_class rel;
};

#define RELOC_MAX_CODE 96
#define RELOC_MAX_FIX 12

struct relocated {
	uint8_t code[RELOC_MAX_CODE];
	size_t len;
	size_t moved_len;	/* the moved instructions, without the way back */
	struct reloc_fix fix[RELOC_MAX_FIX];
	size_t nfix;
};

/* Whole instructions from `addr` covering at least `need` bytes: *len.
 * -1 and a reason in `why` when the bytes do not decode. */
int disasm_cover(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, size_t need, size_t *len,
		 char *why, size_t whylen);
/* Re-emits the instructions [addr, addr + len) to run anywhere, followed by
 * a jump to addr + len. -1 with a reason when one cannot be moved (a branch
 * into the range itself, loop/jrcxz, an instruction capstone cannot name). */
int disasm_relocate(struct disasm *d, const uint8_t *code, size_t len, uint64_t addr, struct relocated *out,
		    char *why, size_t whylen);

/* A range [lo, hi) whose interior (lo, hi) nothing may branch into. */
struct branch_guard {
	uint64_t lo, hi;
	uint64_t from;		/* out: the first branch found into it, or 0 */
};
/* Sweeps every executable section (executable segment without section
 * headers) of the image, restarting at each symbol, and records in each
 * guard the first direct branch or call whose target lies strictly inside it.
 * Branches within the guarded range itself are ignored. */
int disasm_branches_into(struct disasm *d, const struct image *img, const struct symindex *ix,
			 struct branch_guard *g, size_t n);

#endif

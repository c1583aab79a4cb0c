/* aarch64: capstone gives the text; what surgeon reasons about (branches
 * and their targets, PC-relative operands, landing pads, stubs, moving the
 * first instructions of a function) comes from the instruction word itself,
 * which the Arm ARM fixes and capstone 4 only partly knows (bti, pac, udf). */
#include "disasm/internal.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

/* v's low `bits` bits as a signed number, as an offset to add to an address. */
static uint64_t sext(uint64_t v, unsigned bits)
{
	return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits));
}

static uint32_t word(const uint8_t *p)
{
	uint32_t w;

	memcpy(&w, p, 4);
	return w;
}

static bool is_b(uint32_t w) { return (w & 0xfc000000) == 0x14000000; }
static bool is_bl(uint32_t w) { return (w & 0xfc000000) == 0x94000000; }
static bool is_bcond(uint32_t w) { return (w & 0xff000010) == 0x54000000; }
static bool is_cbz(uint32_t w) { return (w & 0x7e000000) == 0x34000000; }
static bool is_tbz(uint32_t w) { return (w & 0x7e000000) == 0x36000000; }
static bool is_adr(uint32_t w) { return (w & 0x9f000000) == 0x10000000; }
static bool is_adrp(uint32_t w) { return (w & 0x9f000000) == 0x90000000; }
static bool is_ldr_lit(uint32_t w) { return (w & 0x3b000000) == 0x18000000; }

/* Where a PC-relative instruction at `at` points. */
static uint64_t target_of(uint32_t w, uint64_t at)
{
	if (is_b(w) || is_bl(w))
		return at + (sext(w & 0x3ffffff, 26) << 2);
	if (is_bcond(w) || is_cbz(w) || is_ldr_lit(w))
		return at + (sext((w >> 5) & 0x7ffff, 19) << 2);
	if (is_tbz(w))
		return at + (sext((w >> 5) & 0x3fff, 14) << 2);
	if (is_adr(w))
		return at + sext(((w >> 5) & 0x7ffff) << 2 | ((w >> 29) & 3), 21);
	if (is_adrp(w))
		return (at & ~0xfffull) + (sext(((w >> 5) & 0x7ffff) << 2 | ((w >> 29) & 3), 21) << 12);
	return 0;
}

/* The hint-space and other instructions capstone 4 does not name. */
static const char *own_name(uint32_t w)
{
	switch (w) {
	case 0xd503241f: return "bti";
	case 0xd503245f: return "bti c";
	case 0xd503249f: return "bti j";
	case 0xd50324df: return "bti jc";
	case 0xd503233f: return "paciasp";
	case 0xd503237f: return "pacibsp";
	case 0xd50323bf: return "autiasp";
	case 0xd50323ff: return "autibsp";
	case 0xd503231f: return "paciaz";
	case 0xd503235f: return "pacibz";
	case 0xd503239f: return "autiaz";
	case 0xd50323df: return "autibz";
	case 0xd50320ff: return "xpaclri";
	case 0xd65f0bff: return "retaa";
	case 0xd65f0fff: return "retab";
	default: return NULL;
	}
}

static enum insn_kind kind_of(uint32_t w)
{
	if ((w & 0xffffff3f) == 0xd503241f)
		return INSN_ENDBR;	/* bti, bti c, bti j, bti jc */
	if (w == 0xd503201f)
		return INSN_NOP;
	if ((w & 0xffff0000) == 0 || (w & 0xffe0001f) == 0xd4200000 || (w & 0xffe0001f) == 0xd4400000)
		return INSN_TRAP;	/* udf, brk, hlt */
	if (is_bl(w) || (w & 0xfffffc1f) == 0xd63f0000 || (w & 0xfefff800) == 0xd63f0800)
		return INSN_CALL;	/* bl, blr, blraa... */
	if ((w & 0xfffffc1f) == 0xd65f0000 || w == 0xd65f0bff || w == 0xd65f0fff)
		return INSN_RET;
	if (is_b(w) || (w & 0xfffffc1f) == 0xd61f0000 || (w & 0xfefff800) == 0xd61f0800)
		return INSN_JMP;	/* b, br, braa... */
	if (is_bcond(w) || is_cbz(w) || is_tbz(w))
		return INSN_JCC;
	return INSN_OTHER;
}

int a64_one(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, struct insn *out)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t n = 4;
	const char *name;
	uint32_t w;

	memset(out, 0, sizeof(*out));
	if (size < 4 || (addr & 3))
		return -1;
	w = word(code);
	out->addr = addr;
	out->len = 4;
	memcpy(out->bytes, code, 4);
	out->kind = kind_of(w);
	if ((name = own_name(w))) {
		snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", name);
	} else if ((w & 0xffff0000) == 0) {
		snprintf(out->mnemonic, sizeof(out->mnemonic), "udf");
		snprintf(out->operands, sizeof(out->operands), "#%u", w & 0xffff);
	} else if (cs_disasm_iter(d->cs, &p, &n, &a, d->ci)) {
		snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", d->ci->mnemonic);
		snprintf(out->operands, sizeof(out->operands), "%s", d->ci->op_str);
	} else {
		return -1;
	}
	if (is_b(w) || is_bl(w) || is_bcond(w) || is_cbz(w) || is_tbz(w)) {
		out->has_target = true;
		out->target = target_of(w, addr);
	} else if (is_adr(w) || is_adrp(w) || is_ldr_lit(w)) {
		/* The address it computes or loads from (adrp: its page). */
		out->rip_mem = true;
		out->mem_addr = target_of(w, addr);
	}
	return 0;
}

/* An import stub: [bti c;] adrp x16, PAGE; ldr x17, [x16, #OFF] (the slot
 * is PAGE + OFF); add x16, x16, #OFF; br x17. The same in .plt and .iplt. */
bool a64_stub_slot(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, uint64_t *slot)
{
	size_t off = 0;

	(void)d;
	if (size >= 4 && (word(code) & 0xffffff3f) == 0xd503241f)
		off = 4;
	if (off + 8 > size)
		return false;
	uint32_t w1 = word(code + off), w2 = word(code + off + 4);

	if (!is_adrp(w1) || (w1 & 0x1f) != 16 || (w2 & 0xffc003ff) != 0xf9400211)
		return false;
	*slot = target_of(w1, addr + off) + ((w2 >> 10) & 0xfff) * 8;
	return true;
}

/* ---- moving instructions into a trampoline ---- */

static int emit(struct relocated *r, uint32_t w)
{
	if (r->len + 4 > RELOC_MAX_CODE)
		return -1;
	memcpy(r->code + r->len, &w, 4);
	r->len += 4;
	return 0;
}

static int emit_fix(struct relocated *r, uint32_t w, enum rel_class rel, uint64_t target)
{
	if (r->nfix >= RELOC_MAX_FIX)
		return -1;
	r->fix[r->nfix++] = (struct reloc_fix){ .off = r->len, .target = target, .bias = 0, .rel = rel };
	return emit(r, w);
}

/* The registers an instruction may write, as far as the return veneer
 * cares: x16 and x17 (bit 0 and 1). Conservative: any mention counts. */
static unsigned ip_regs(uint32_t w)
{
	unsigned m = 0;

	for (unsigned sh = 0; sh <= 16; sh += 5) {
		unsigned r = (w >> sh) & 0x1f;

		m |= r == 16 ? 1 : r == 17 ? 2 : 0;
	}
	return m;
}

/* A branch to t through register x: adrp, add, then br or blr. */
static int veneer(struct relocated *r, unsigned x, uint64_t t, bool call)
{
	return emit_fix(r, 0x90000000 | x, REL_ADR_PAGE21, t) || emit_fix(r, 0x91000000 | x << 5 | x, REL_ADD_LO12, t) ||
	       emit(r, (call ? 0xd63f0000 : 0xd61f0000) | x << 5);
}

/* One displaced instruction, moved: PC-relative ones re-aimed at what they
 * reached from their old address, through relocations the linker fills.
 * Far from the old code (the entry jump is the veneer), a branch goes
 * through a veneer of its own in register x: the linker's long-branch stubs
 * are made per symbol, and every fix here names the one anchor symbol. */
static int move_one(uint32_t w, uint64_t at, struct relocated *r, bool far, unsigned x, char *why, size_t whylen)
{
	uint64_t t = target_of(w, at);
	unsigned rt = w & 0x1f;
	uint32_t skip = far ? 4 : 2;	/* instructions from a condition's inverse to past the branch */

	if (is_b(w))
		return far ? veneer(r, x, t, false) : emit_fix(r, 0x14000000, REL_JUMP26, t);
	if (is_bl(w))
		return far ? veneer(r, x, t, true) : emit_fix(r, 0x94000000, REL_CALL26, t);
	if (is_adrp(w))
		return emit_fix(r, 0x90000000 | rt, REL_ADR_PAGE21, t);
	if (is_adr(w))	/* ±1 MiB would rarely reach: adrp + add, 8 bytes */
		return emit_fix(r, 0x90000000 | rt, REL_ADR_PAGE21, t) ||
		       emit_fix(r, 0x91000000 | rt << 5 | rt, REL_ADD_LO12, t);
	if (is_bcond(w) || is_cbz(w) || is_tbz(w)) {
		/* The inverse condition over the branch that takes the old one:
		 * b.!cond, cbnz/cbz Rt, tbnz/tbz Rt, #bit. */
		uint32_t inv = is_bcond(w) ? 0x54000000 | ((w & 0xf) ^ 1) :
			       is_cbz(w) ? (w & 0xff00001f) ^ 0x01000000 : (w & 0xfff8001f) ^ 0x01000000;

		if (is_bcond(w) && (w & 0xf) >= 14)	/* al, nv: always */
			return far ? veneer(r, x, t, false) : emit_fix(r, 0x14000000, REL_JUMP26, t);
		if (emit(r, inv | skip << 5))
			return -1;
		return far ? veneer(r, x, t, false) : emit_fix(r, 0x14000000, REL_JUMP26, t);
	}
	if (is_ldr_lit(w)) {
		unsigned opc = w >> 30, v = (w >> 26) & 1;

		if (!v && opc == 3)	/* prfm: a hint, which the copy may drop */
			return emit(r, 0xd503201f);
		if (!v) {
			/* adrp Xt, X; ldr Wt/Xt or ldrsw Xt, [Xt, :lo12:X] */
			uint32_t ld = opc == 0 ? 0xb9400000 : opc == 1 ? 0xf9400000 : 0xb9800000;

			if (emit_fix(r, 0x90000000 | rt, REL_ADR_PAGE21, t) ||
			    emit_fix(r, ld | rt << 5 | rt, opc == 1 ? REL_LDST64_LO12 : REL_LDST32_LO12, t))
				return -1;
			return 0;
		}
		snprintf(why, whylen, "'ldr' of a SIMD register from a literal at 0x%llx needs a scratch "
			 "register to move", (unsigned long long)at);
		return -1;
	}
	return emit(r, w);
}

int a64_relocate(struct disasm *d, const uint8_t *code, size_t len, uint64_t addr, struct relocated *out,
		 char *why, size_t whylen)
{
	unsigned written = 0;
	size_t off;

	(void)d;
	memset(out, 0, sizeof(*out));
	if (whylen)
		why[0] = 0;
	if (len % 4 || addr % 4) {
		snprintf(why, whylen, "0x%llx is not on an instruction boundary", (unsigned long long)addr);
		return -1;
	}
	for (off = 0; off < len; off += 4) {
		uint32_t w = word(code + off);
		uint64_t t = target_of(w, addr + off);
		enum insn_kind k = kind_of(w);

		if ((k == INSN_JMP || k == INSN_CALL || k == INSN_JCC) && (is_b(w) || is_bl(w) || is_bcond(w) ||
		    is_cbz(w) || is_tbz(w)) && t > addr && t < addr + len) {
			snprintf(why, whylen, "the branch at 0x%llx goes to 0x%llx, inside the displaced bytes",
				 (unsigned long long)(addr + off), (unsigned long long)t);
			return -1;
		}
		if ((written & 3) == 3 && len > 4 && (is_b(w) || is_bl(w) || is_bcond(w) || is_cbz(w) || is_tbz(w))) {
			snprintf(why, whylen, "the branch at 0x%llx needs x16 or x17 to reach its target from the "
				 "trampoline, and the instructions before it use both", (unsigned long long)(addr + off));
			return -1;
		}
		if (move_one(w, addr + off, out, len > 4, written & 1 ? 17 : 16, why, whylen)) {
			if (!*why)
				snprintf(why, whylen, "too many displaced instructions");
			return -1;
		}
		written |= ip_regs(w);
	}
	out->moved_len = out->len;
	/* Back to the first instruction the patch leaves alone: b when the
	 * entry jump is one (the trampoline is as near), else a veneer through
	 * x16 or x17, whichever the moved instructions leave alone. */
	if (len <= 4) {
		if (emit_fix(out, 0x14000000, REL_JUMP26, addr + len))
			goto full;
		return 0;
	}
	if ((written & 3) == 3) {
		snprintf(why, whylen, "the displaced instructions use both x16 and x17, and the way back needs one");
		return -1;
	}
	{
		unsigned x = written & 1 ? 17 : 16;

		if (emit_fix(out, 0x90000000 | x, REL_ADR_PAGE21, addr + len) ||
		    emit_fix(out, 0x91000000 | x << 5 | x, REL_ADD_LO12, addr + len) || emit(out, 0xd61f0000 | x << 5))
			goto full;
	}
	return 0;
full:
	snprintf(why, whylen, "too many displaced instructions");
	return -1;
}

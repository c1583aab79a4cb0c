#include "disasm/internal.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

int disasm_new(struct disasm **out, uint16_t machine, unsigned flags)
{
	struct disasm *d = zalloc(sizeof(*d));
	bool a64 = machine == EM_AARCH64;

	*out = NULL;
	if (!d)
		return -1;
	d->machine = a64 ? EM_AARCH64 : EM_X86_64;
	if (cs_open(a64 ? CS_ARCH_ARM64 : CS_ARCH_X86, a64 ? CS_MODE_ARM : CS_MODE_64, &d->cs) != CS_ERR_OK) {
		free(d);
		return pr_err(NULL, "capstone: cannot open an %s disassembler", a64 ? "aarch64" : "x86-64");
	}
	cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
	if ((flags & DISASM_ATT) && !a64)
		cs_option(d->cs, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
	d->ci = cs_malloc(d->cs);
	if (!d->ci) {
		cs_close(&d->cs);
		free(d);
		return pr_err(NULL, "capstone: out of memory");
	}
	*out = d;
	return 0;
}

void disasm_free(struct disasm *d)
{
	if (!d)
		return;
	cs_free(d->ci, 1);
	cs_close(&d->cs);
	free(d);
}

static enum insn_kind kind_of(const cs_insn *ci)
{
	const cs_detail *det = ci->detail;
	uint8_t i;

	switch (ci->id) {
	case X86_INS_ENDBR64:
	case X86_INS_ENDBR32:
		return INSN_ENDBR;
	case X86_INS_NOP:
		return INSN_NOP;
	case X86_INS_INT3:
	case X86_INS_UD2:
	case X86_INS_HLT:
		return INSN_TRAP;
	default:
		break;
	}
	for (i = 0; i < det->groups_count; i++) {
		switch (det->groups[i]) {
		case CS_GRP_CALL: return INSN_CALL;
		case CS_GRP_RET: return INSN_RET;
		default: break;
		}
	}
	if (ci->id == X86_INS_JMP || ci->id == X86_INS_LJMP)
		return INSN_JMP;
	for (i = 0; i < det->groups_count; i++)
		if (det->groups[i] == CS_GRP_JUMP)
			return INSN_JCC;
	return INSN_OTHER;
}

/* Length decoding for what capstone 4 rejects but objdump decodes (AVX-512
 * mask moves and some EVEX forms, CET's rdssp/incssp, newer 0F opcodes): the
 * encoding alone gives the length, so the listing keeps objdump's boundaries.
 * 0 when the bytes are not an instruction we can measure. */

/* Two-byte (0F) opcodes that do not exist, have no ModRM, or have an imm8. */
static bool op2_invalid(uint8_t op)
{
	return op == 0x04 || op == 0x0a || op == 0x0c || (op >= 0x24 && op <= 0x27) || op == 0x36 ||
	       op == 0x39 || (op >= 0x3b && op <= 0x3f) || op == 0x7a || op == 0x7b || op == 0xa6 || op == 0xa7;
}

static bool op2_no_modrm(uint8_t op)
{
	return (op >= 0x05 && op <= 0x09) || op == 0x0b || op == 0x0e || (op >= 0x30 && op <= 0x37) ||
	       op == 0x77 || (op >= 0x80 && op <= 0x8f) || (op >= 0xa0 && op <= 0xa2) || op == 0xa8 ||
	       op == 0xa9 || op == 0xaa || (op >= 0xc8 && op <= 0xcf);
}

static bool op2_imm8(uint8_t op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xa4 || op == 0xac || op == 0xba || (op >= 0xc2 && op <= 0xc6) ||
	       op == 0x0f;
}

/* ModRM, SIB and displacement starting at c[p]; returns the new position or 0. */
static size_t modrm_len(const uint8_t *c, size_t size, size_t p)
{
	unsigned mod, rm;

	if (p >= size)
		return 0;
	mod = c[p] >> 6;
	rm = c[p] & 7;
	p++;
	if (mod == 3)
		return p;
	if (rm == 4) {
		if (p >= size)
			return 0;
		if (mod == 0 && (c[p] & 7) == 5)
			p += 4;
		p++;
	}
	if (mod == 1)
		p += 1;
	else if (mod == 2 || (mod == 0 && rm == 5))
		p += 4;
	return p;
}

static size_t vex_length(const uint8_t *c, size_t size, size_t p)
{
	size_t map, op;

	if (p + 2 > size)
		return 0;
	switch (c[p]) {
	case 0xc5:
		map = 1;
		p += 2;
		break;
	case 0xc4:
		if (p + 3 > size)
			return 0;
		map = c[p + 1] & 0x1f;
		p += 3;
		break;
	default:	/* 0x62, EVEX */
		if (p + 4 > size || (c[p + 1] & 0x08) || !(c[p + 2] & 0x04))
			return 0;
		map = c[p + 1] & 0x07;
		p += 4;
		break;
	}
	if (!map || map == 4 || map > 6 || p >= size)
		return 0;
	op = c[p++];
	if (map == 1 && op == 0x77)	/* vzeroupper, vzeroall */
		return p;
	p = modrm_len(c, size, p);
	if (p && (map == 3 || (map == 1 && ((op >= 0x70 && op <= 0x73) || (op >= 0xc2 && op <= 0xc6)))))
		p++;
	return p;
}

static size_t insn_length(const uint8_t *c, size_t size)
{
	size_t p = 0;
	uint8_t op;

	while (p < size && p < 14 && memchr("\x66\x67\xf0\xf2\xf3\x2e\x36\x3e\x26\x64\x65", c[p], 11))
		p++;
	if (p < size && (c[p] & 0xf0) == 0x40)
		p++;
	if (p >= size)
		return 0;
	op = c[p];
	if (op == 0xc4 || op == 0xc5 || op == 0x62) {
		p = vex_length(c, size, p);
	} else if (op != 0x0f) {
		/* Capstone knows every one-byte opcode: what it rejects, objdump
		 * calls (bad) too, and both step one byte. */
		return 0;
	} else {
		if (++p >= size)
			return 0;
		op = c[p++];
		if (op2_invalid(op))
			return 0;
		if (op == 0x38 || op == 0x3a) {
			if (!(p = modrm_len(c, size, p + 1)))
				return 0;
			p += op == 0x3a;
		} else if (op2_no_modrm(op)) {
			p += op >= 0x80 && op <= 0x8f ? 4 : 0;
		} else {
			if (!(p = modrm_len(c, size, p)))
				return 0;
			p += op2_imm8(op);
		}
	}
	return p && p <= size && p <= 15 ? p : 0;
}

static int undecoded(const uint8_t *code, size_t size, uint64_t addr, struct insn *out)
{
	size_t len = insn_length(code, size), pos = 0;

	if (!len)
		return -1;
	out->addr = addr;
	out->len = len;
	out->undecoded = true;
	memcpy(out->bytes, code, len);
	strcpy(out->mnemonic, ".byte");
	for (size_t i = 0; i < len; i++)
		pos += snprintf(out->operands + pos, sizeof(out->operands) - pos, "%s0x%02x", i ? ", " : "", code[i]);
	return 0;
}

int disasm_one(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, struct insn *out)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t n = size;
	const cs_x86 *x;
	uint8_t i;

	if (d->machine == EM_AARCH64)
		return a64_one(d, code, size, addr, out);
	memset(out, 0, sizeof(*out));
	if (!cs_disasm_iter(d->cs, &p, &n, &a, d->ci))
		return undecoded(code, size, addr, out);
	out->addr = addr;
	out->len = d->ci->size;
	memcpy(out->bytes, d->ci->bytes, out->len);
	out->kind = kind_of(d->ci);
	snprintf(out->mnemonic, sizeof(out->mnemonic), "%s", d->ci->mnemonic);
	snprintf(out->operands, sizeof(out->operands), "%s", d->ci->op_str);
	x = &d->ci->detail->x86;
	for (i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];

		if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP && op->mem.index == X86_REG_INVALID) {
			out->rip_mem = true;
			out->mem_addr = addr + out->len + (uint64_t)op->mem.disp;
			if (out->kind == INSN_CALL || out->kind == INSN_JMP)
				out->mem_indirect = true;
		} else if (op->type == X86_OP_MEM && op->mem.base != X86_REG_RIP && op->mem.disp &&
			   op->mem.segment != X86_REG_FS && op->mem.segment != X86_REG_GS) {
			out->has_disp = true;
			out->disp = (uint64_t)op->mem.disp;
		} else if (op->type == X86_OP_IMM &&
			   (out->kind == INSN_CALL || out->kind == INSN_JMP || out->kind == INSN_JCC)) {
			out->has_target = true;
			out->target = (uint64_t)op->imm;
		} else if (op->type == X86_OP_IMM) {
			out->has_imm = true;
			out->imm = (uint64_t)op->imm;
		}
	}
	return 0;
}

bool disasm_stub_slot(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, uint64_t *slot)
{
	struct insn in;
	size_t off = 0;
	int k;

	if (d->machine == EM_AARCH64)
		return a64_stub_slot(d, code, size, addr, slot);
	for (k = 0; k < 3 && off < size; k++) {
		if (disasm_one(d, code + off, size - off, addr + off, &in))
			return false;
		if (in.kind == INSN_JMP && in.mem_indirect) {
			*slot = in.mem_addr;
			return true;
		}
		if (in.kind != INSN_ENDBR && in.kind != INSN_NOP)
			return false;
		off += in.len;
	}
	return false;
}

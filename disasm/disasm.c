#include "disasm/disasm.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct disasm {
	csh cs;
	cs_insn *ci;
};

int disasm_new(struct disasm **out, unsigned flags)
{
	struct disasm *d = zalloc(sizeof(*d));

	*out = NULL;
	if (!d)
		return -1;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d->cs) != CS_ERR_OK) {
		free(d);
		return pr_err(NULL, "capstone: cannot open an x86-64 disassembler");
	}
	cs_option(d->cs, CS_OPT_DETAIL, CS_OPT_ON);
	if (flags & DISASM_ATT)
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

int disasm_one(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, struct insn *out)
{
	const uint8_t *p = code;
	uint64_t a = addr;
	size_t n = size;
	const cs_x86 *x;
	uint8_t i;

	memset(out, 0, sizeof(*out));
	if (!cs_disasm_iter(d->cs, &p, &n, &a, d->ci))
		return -1;
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

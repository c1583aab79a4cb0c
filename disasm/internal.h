/* What disasm/'s files share: the decoder handle, and the aarch64 half. */
#ifndef SURGEON_DISASM_INTERNAL_H
#define SURGEON_DISASM_INTERNAL_H

#include <capstone/capstone.h>

#include "disasm/relocate.h"

struct disasm {
	csh cs;
	cs_insn *ci;
	uint16_t machine;	/* EM_X86_64 or EM_AARCH64 */
};

int a64_one(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, struct insn *out);
bool a64_stub_slot(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, uint64_t *slot);
int a64_relocate(struct disasm *d, const uint8_t *code, size_t len, uint64_t addr, struct relocated *out,
		 char *why, size_t whylen);

#endif

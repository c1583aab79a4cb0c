/* Everything instruction-level goes through this interface, so capstone's
 * types never reach unexec/ or relink/ (objtool's arch.h). x86-64 is
 * decoded by capstone (disasm.c), aarch64 from the instruction word with
 * capstone's text (aarch64.c). */
#ifndef SURGEON_DISASM_H
#define SURGEON_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum insn_kind {
	INSN_OTHER,
	INSN_CALL,
	INSN_JMP,	/* unconditional */
	INSN_JCC,	/* conditional, loop, jrcxz */
	INSN_RET,
	INSN_ENDBR,	/* endbr64; bti */
	INSN_NOP,
	INSN_TRAP,	/* int3, ud2, hlt; udf, brk */
};

struct insn {
	uint64_t addr;
	uint8_t len;
	uint8_t bytes[16];
	enum insn_kind kind;
	bool has_target;	/* direct branch: target is its destination */
	uint64_t target;
	bool rip_mem;		/* has a RIP-relative memory operand at mem_addr (aarch64:
				 * adr, adrp (the page) or ldr literal) */
	uint64_t mem_addr;
	bool mem_indirect;	/* the branch goes through memory (jmp [mem]) */
	bool has_imm;		/* an immediate operand that is not a branch target */
	uint64_t imm;
	bool has_disp;		/* a non-RIP memory operand's displacement, maybe an address */
	uint64_t disp;		/* (jmp [rax*8 + 0x402010]; mov eax, [0x404028]) */
	bool undecoded;		/* VEX/EVEX capstone cannot name: only its length is known,
				 * mnemonic is ".byte" and operands the bytes */
	char mnemonic[32];
	char operands[160];
};

enum {
	DISASM_ATT = 1,
};

struct disasm;
/* A decoder for e_machine (EM_X86_64 or EM_AARCH64; DISASM_ATT is x86-64's). */
int disasm_new(struct disasm **out, uint16_t machine, unsigned flags);
void disasm_free(struct disasm *d);
/* Decodes one instruction at `addr`; -1 when the bytes are not one. A VEX or
 * EVEX instruction capstone 4 does not know (AVX-512 mask moves, some EVEX
 * forms) still gets its length, so the listing keeps objdump's boundaries. */
int disasm_one(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, struct insn *out);
/* An import stub (.plt, .plt.sec, .plt.got, .iplt entry): the GOT slot it
 * jumps through, found within its first three instructions. */
bool disasm_stub_slot(struct disasm *d, const uint8_t *code, size_t size, uint64_t addr, uint64_t *slot);

#endif

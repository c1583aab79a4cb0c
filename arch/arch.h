/* What differs between machines, behind one interface: page size, the ELF
 * machine and the linker's names for it, where Debian keeps its libraries,
 * relocation classes, and the machine code relink generates (the entry
 * jump of a patch, the constructor thunks). A program's struct arch comes
 * from its e_machine; arch/x86_64.c fills the one there is. Decoding
 * instructions stays in disasm/, behind its own interface. */
#ifndef SURGEON_ARCH_H
#define SURGEON_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The relocations surgeon reasons about, by what they do. */
enum rel_class {
	REL_NONE,
	REL_RELATIVE,		/* base + addend */
	REL_IRELATIVE,		/* the resolver at base + addend, called */
	REL_GLOB_DAT,		/* a symbol's address, in a GOT slot */
	REL_JUMP_SLOT,		/* the same, bound lazily through the PLT */
	REL_COPY,		/* a library variable copied into the executable */
	REL_ABS64,		/* symbol + addend, 64 bits */
	REL_TPOFF64,		/* offset from the thread pointer */
	REL_DTPMOD64,		/* TLS module id */
	REL_DTPOFF64,		/* offset in a module's TLS block */
	REL_PC32,		/* 32-bit PC-relative (generated code) */
	REL_PLT32,		/* the same, to a function */
	REL_OTHER,
};

/* Machine code relink generates: bytes with 4-byte PC-relative fields at
 * given offsets, each bound by a relocation to a role (hook.c says which
 * symbol plays it). */
enum thunk_role { A_START, A_END, TARGET, I_START, I_END, B_START, B_END, R_START, R_END, NROLES };

struct code_fixup {
	uint32_t off;
	enum rel_class rel;	/* REL_PC32 or REL_PLT32 */
	enum thunk_role role;
};

struct code {
	const uint8_t *bytes;
	size_t len;
	const struct code_fixup *fix;
	size_t nfix;
};

struct arch {
	const char *name;		/* in messages: "x86-64" */
	uint16_t machine;		/* e_machine */
	uint64_t page_size;		/* new segments are aligned to it */
	const char *ld_format, *ld_arch;	/* OUTPUT_FORMAT and OUTPUT_ARCH of linker scripts */
	const char *multiarch;		/* Debian's library directory: /usr/lib/<multiarch> */
	const char *musl_libdir;	/* musl-gcc's */
	enum rel_class (*rel_class)(unsigned type);
	unsigned (*rel_type)(enum rel_class c);
	/* What the first instruction of an indirect-branch target may be
	 * (endbr64), kept first when an entry is patched. */
	const uint8_t *entry_marker;
	size_t entry_marker_len;
	/* The entry jump of --replace and --wrap: near (a 32-bit displacement)
	 * or far (absolute); encode() writes it for a jump from `at` to `to`. */
	size_t near_jump_len, far_jump_len;
	void (*encode_jump)(uint8_t *buf, uint64_t at, uint64_t to, bool far);
	/* Constructor and destructor thunks (relink/hook.c). */
	struct code init_thunk, fini_thunk, entry_thunk;
	/* Alignment padding filler of generated code (int3). */
	uint8_t trap;
};

/* The arch of e_machine, or NULL when surgeon does not know it. */
const struct arch *arch_for(uint16_t machine);
/* The one surgeon runs on: processes and cores it reads are of it. */
const struct arch *arch_native(void);

#endif

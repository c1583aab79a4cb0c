/* What differs between machines, behind one interface: page size, the ELF
 * machine and the linker's names for it, where Debian keeps its libraries
 * and its cross tools, relocation classes, and the machine code relink
 * generates (the entry jump of a patch, the constructor thunks). A
 * program's struct arch comes from its e_machine: arch/x86_64.c and
 * arch/aarch64.c fill one each. Decoding instructions stays in disasm/,
 * behind its own interface. */
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
	/* aarch64's instruction fields (generated and moved code) */
	REL_ADR_PAGE21,		/* adrp: the 4 KiB page, PC-relative */
	REL_ADD_LO12,		/* add: the low 12 bits, absolute */
	REL_ADR_LO21,		/* adr: ±1 MiB, PC-relative */
	REL_LD_LO19,		/* ldr (literal): ±1 MiB */
	REL_CONDBR19,		/* b.cond, cbz, cbnz: ±1 MiB */
	REL_TSTBR14,		/* tbz, tbnz: ±32 KiB */
	REL_CALL26,		/* bl: ±128 MiB */
	REL_JUMP26,		/* b: ±128 MiB */
	REL_LDST32_LO12,	/* ldr w, ldrsw: the low 12 bits, scaled */
	REL_LDST64_LO12,	/* ldr x: the same */
	REL_OTHER,
};

/* Machine code relink generates: bytes with PC-relative fields at given
 * offsets (x86-64: 4-byte displacements; aarch64: instruction immediates),
 * each bound by a relocation to a role (hook.c says which symbol plays it). */
enum thunk_role { A_START, A_END, TARGET, I_START, I_END, B_START, B_END, R_START, R_END, NROLES };

struct code_fixup {
	uint32_t off;
	enum rel_class rel;	/* REL_PC32, REL_PLT32, REL_ADR_PAGE21... */
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
	const char *article;		/* its article there: "an x86-64" */
	uint16_t machine;		/* e_machine */
	/* New segments are aligned to the program's own PT_LOAD p_align, within
	 * [page_size, max_page_size]: an aarch64 program linked for 64 KiB
	 * pages runs on kernels of both sizes (image.c: img->page_size). */
	uint64_t page_size, max_page_size;
	/* The end of user space: no program is loaded, and no process has
	 * memory, at or above it (a core may hold the vsyscall page above). */
	uint64_t user_end;
	/* The stack pointer's place in the general registers as the kernel
	 * gives them (pr_reg of a core's NT_PRSTATUS, which starts at 112 on
	 * both; PTRACE_GETREGSET NT_PRSTATUS): x86-64's rsp is the 20th
	 * register, aarch64's sp follows x0..x30. Its DWARF register number. */
	size_t sp_reg_off;
	unsigned dwarf_sp;
	/* What a function may use below its stack pointer without moving it,
	 * so a dump keeps it (x86-64's red zone, 128 bytes; aarch64 has none). */
	uint64_t red_zone;
	/* SBCL's page on this machine (+backend-page-bytes+, the runtime's
	 * os_vm_page_size): save-lisp-and-die pads the runtime to it before the
	 * core, and the core's spaces are mapped in its units from the core's
	 * start, so a moved core keeps that alignment. x86-64 32 KiB; arm64
	 * 64 KiB, the largest page its ABI allows, for mprotect. */
	uint64_t sbcl_page;
	const char *ld_format, *ld_arch;	/* OUTPUT_FORMAT and OUTPUT_ARCH of linker scripts */
	const char *multiarch;		/* Debian's library directory: /usr/lib/<multiarch> */
	const char *musl_libdir;	/* musl-gcc's */
	/* The GNU triplet: the cross tools, when surgeon does not run on this
	 * machine, are TRIPLET-gcc (which names its ld), and Debian's cross
	 * libraries are in /usr/TRIPLET/lib. */
	const char *triplet;
	/* The ld emulation's search directories beyond /usr/lib/MULTIARCH and
	 * its like (its default script's SEARCH_DIRs), in order. */
	const char *const *ld_dirs;
	/* The dynamic loader's TLS layout: variant II (x86-64: the block below
	 * the thread pointer, new variables in front of the old) or variant I
	 * (aarch64: after a tls_tcb-byte TCB, new variables after the old). */
	bool tls_variant1;
	uint64_t tls_tcb;
	enum rel_class (*rel_class)(unsigned type);
	unsigned (*rel_type)(enum rel_class c);
	/* What the first instruction of an indirect-branch target may be
	 * (endbr64, bti c), kept first when an entry is patched. */
	const uint8_t *entry_marker;
	size_t entry_marker_len;
	/* The entry jump of --replace and --wrap: near (x86-64: a 32-bit
	 * displacement; aarch64: b, ±128 MiB) or far (x86-64: absolute, so
	 * not in a PIE; aarch64: adrp+add+br x16, ±4 GiB, in any program);
	 * encode() writes it for a jump from `at` to `to`. near_reach() says
	 * whether the near one gets there. */
	size_t near_jump_len, far_jump_len;
	bool far_jump_pic;
	const char *near_jump_name;	/* in messages: "32-bit jump" */
	bool (*near_reach)(uint64_t at, uint64_t to);
	bool (*far_reach)(uint64_t at, uint64_t to);	/* NULL: anywhere (absolute) */
	/* How far past the program's end the new code may reach, for the
	 * choice before the link (x86-64 1 GiB, aarch64 64 MiB). */
	uint64_t new_code_slack;
	void (*encode_jump)(uint8_t *buf, uint64_t at, uint64_t to, bool far);
	/* Constructor and destructor thunks (relink/hook.c), and the addend of
	 * their fixups (x86-64: -4, the field ends the instruction). */
	struct code init_thunk, fini_thunk, entry_thunk;
	int64_t code_addend;
	/* Alignment padding filler of generated code (int3; aarch64: udf #0). */
	uint8_t trap;
	/* gold's back end for this machine reads the bytes of executable
	 * NOBITS input sections from the file (aarch64: relink/ld.c). */
	bool gold_reads_nobits_code;
	/* The GNU property whose bits every input must have for the output to
	 * keep them (aarch64: GNU_PROPERTY_AARCH64_FEATURE_1_AND, BTI and PAC),
	 * and the bits surgeon's own code (thunks, trampolines) has; 0: not
	 * looked after on this arch. */
	uint32_t feature_and, own_features;
	const char *feature_bits[4];	/* the first bits' names: "BTI", "PAC" */
	const char *feature_flag;	/* what gives the added code those bits */
	/* The bit under which indirect branches must land on a marker
	 * (aarch64: BTI), and the instructions that are markers without being
	 * entry_marker (paciasp, pacibsp): a patch over one writes
	 * entry_marker first, so the entry stays a landing pad. */
	uint32_t landing_feature;
	bool (*implicit_marker)(const uint8_t *insn, size_t n);
};

/* The arch of e_machine, or NULL when surgeon does not know it. */
const struct arch *arch_for(uint16_t machine);
/* The one surgeon runs on: processes and cores it reads are of it. */
const struct arch *arch_native(void);
/* What an ELF file's identification and machine say, for messages: "an
 * x86-64", "a big-endian aarch64", "an aarch64 ILP32", "a 32-bit ELF (machine
 * 3)"; d holds at least the 20 bytes up to e_machine. */
const char *arch_elf_kind(const unsigned char *d, char *buf, size_t len);
/* Whether d is a 64-bit little-endian ELF of a machine surgeon knows. */
bool arch_elf_known(const unsigned char *d);

/* In the bytes of a .note.gnu.property (NT_GNU_PROPERTY_TYPE_0 notes of
 * owner GNU, 8-byte aligned), the 4-byte value of property `type`: its bits
 * and its offset in p. false when there is none. */
bool arch_gnu_property(const unsigned char *p, size_t n, uint32_t type, uint32_t *bits, size_t *off);

/* The program of a tool ("gcc") for the arch: the plain name natively,
 * TRIPLET-NAME (written into buf) from another machine. */
const char *arch_tool(const struct arch *a, const char *name, char *buf, size_t len);

#endif

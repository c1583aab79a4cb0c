/* x86-64: the System V ABI's relocations, 4 KiB pages, endbr64, jmp rel32,
 * and the constructor thunks as bytes. */
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

static enum rel_class x86_rel_class(unsigned type)
{
	switch (type) {
	case R_X86_64_NONE: return REL_NONE;
	case R_X86_64_RELATIVE: return REL_RELATIVE;
	case R_X86_64_IRELATIVE: return REL_IRELATIVE;
	case R_X86_64_GLOB_DAT: return REL_GLOB_DAT;
	case R_X86_64_JUMP_SLOT: return REL_JUMP_SLOT;
	case R_X86_64_COPY: return REL_COPY;
	case R_X86_64_64: return REL_ABS64;
	case R_X86_64_TPOFF64: return REL_TPOFF64;
	case R_X86_64_DTPMOD64: return REL_DTPMOD64;
	case R_X86_64_DTPOFF64: return REL_DTPOFF64;
	case R_X86_64_PC32: return REL_PC32;
	case R_X86_64_PLT32: return REL_PLT32;
	default: return REL_OTHER;
	}
}

static unsigned x86_rel_type(enum rel_class c)
{
	switch (c) {
	case REL_RELATIVE: return R_X86_64_RELATIVE;
	case REL_IRELATIVE: return R_X86_64_IRELATIVE;
	case REL_GLOB_DAT: return R_X86_64_GLOB_DAT;
	case REL_JUMP_SLOT: return R_X86_64_JUMP_SLOT;
	case REL_COPY: return R_X86_64_COPY;
	case REL_ABS64: return R_X86_64_64;
	case REL_TPOFF64: return R_X86_64_TPOFF64;
	case REL_DTPMOD64: return R_X86_64_DTPMOD64;
	case REL_DTPOFF64: return R_X86_64_DTPOFF64;
	case REL_PC32: return R_X86_64_PC32;
	case REL_PLT32: return R_X86_64_PLT32;
	default: return R_X86_64_NONE;
	}
}

static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };

static bool x86_near_reach(uint64_t at, uint64_t to)
{
	int64_t d = (int64_t)(to - (at + 5));

	return d == (int32_t)d;
}

/* jmp rel32, or jmp *0(%rip) followed by the absolute address. */
static void x86_encode_jump(uint8_t *buf, uint64_t at, uint64_t to, bool far)
{
	if (!far) {
		int32_t rel = (int32_t)(to - (at + 5));

		buf[0] = 0xe9;
		memcpy(buf + 1, &rel, 4);
	} else {
		memcpy(buf, "\xff\x25\0\0\0\0", 6);
		memcpy(buf + 6, &to, 8);
	}
}

/* The thunks, assembled from this (GNU as), kept as bytes so relink needs no assembler.
 * Each thunk is instantiated per hooked slot: relocations bind A, B, I and
 * TARGET to that slot's ranges and to the function the slot held.
 *
 * init:	push %rbx; push %r12; push %r13; push %r14; push %r15
 *	mov %rdi,%r13; mov %rsi,%r14; mov %rdx,%r15	# argc, argv, envp
 *	lea A_START(%rip),%rbx; lea A_END(%rip),%r12
 * 1:	cmp %r12,%rbx; jae 2f				# new constructors before
 *	mov %r13,%rdi; mov %r14,%rsi; mov %r15,%rdx
 *	call *(%rbx); add $8,%rbx; jmp 1b
 * 2:	mov %r13,%rdi; mov %r14,%rsi; mov %r15,%rdx
 *	call TARGET					# what the slot held
 *	lea I_START(%rip),%rbx; lea I_END(%rip),%r12
 * 3:	cmp %r12,%rbx; jae 4f				# IRELATIVE: *r_offset = r_addend()
 *	call *16(%rbx); mov (%rbx),%rcx; mov %rax,(%rcx)
 *	add $24,%rbx; jmp 3b
 * 4:	lea R_START(%rip),%rdi; lea R_END(%rip),%rsi
 *	sub %rdi,%rsi; jbe 7f				# the new RELRO range, now relocated:
 *	mov $10,%eax; mov $1,%edx; syscall		# mprotect(start, len, PROT_READ)
 * 7:	lea B_START(%rip),%rbx; lea B_END(%rip),%r12
 * 5:	cmp %r12,%rbx; jae 6f				# new constructors after
 *	mov %r13,%rdi; mov %r14,%rsi; mov %r15,%rdx
 *	call *(%rbx); add $8,%rbx; jmp 5b
 * 6:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; ret
 */
static const uint8_t init_code[] = {
	0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x49, 0x89, 0xfd, 0x49, 0x89, 0xf6, 0x49,
	0x89, 0xd7, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00, 0x00, 0x00, 0x00,
	0x4c, 0x39, 0xe3, 0x73, 0x11, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0x4c, 0x89, 0xfa, 0xff, 0x13,
	0x48, 0x83, 0xc3, 0x08, 0xeb, 0xea, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0x4c, 0x89, 0xfa, 0xe8,
	0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00, 0x00,
	0x00, 0x00, 0x4c, 0x39, 0xe3, 0x73, 0x0f, 0xff, 0x53, 0x10, 0x48, 0x8b, 0x0b, 0x48, 0x89, 0x01,
	0x48, 0x83, 0xc3, 0x18, 0xeb, 0xec, 0x48, 0x8d, 0x3d, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x35,
	0x00, 0x00, 0x00, 0x00, 0x48, 0x29, 0xfe, 0x76, 0x0c, 0xb8, 0x0a, 0x00, 0x00, 0x00, 0xba, 0x01,
	0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00,
	0x00, 0x00, 0x00, 0x4c, 0x39, 0xe3, 0x73, 0x11, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0x4c, 0x89,
	0xfa, 0xff, 0x13, 0x48, 0x83, 0xc3, 0x08, 0xeb, 0xea, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41,
	0x5c, 0x5b, 0xc3,
};

/*
 * fini:	push %rbx; push %r12; push %r13
 *	lea A_END(%rip),%rbx; lea A_START(%rip),%r12
 * 1:	cmp %r12,%rbx; jbe 2f				# new destructors before, in reverse
 *	sub $8,%rbx; call *(%rbx); jmp 1b
 * 2:	call TARGET
 *	lea B_END(%rip),%rbx; lea B_START(%rip),%r12
 * 3:	cmp %r12,%rbx; jbe 4f				# new destructors after, in reverse
 *	sub $8,%rbx; call *(%rbx); jmp 3b
 * 4:	pop %r13; pop %r12; pop %rbx; ret
 */
static const uint8_t fini_code[] = {
	0x53, 0x41, 0x54, 0x41, 0x55, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00,
	0x00, 0x00, 0x00, 0x4c, 0x39, 0xe3, 0x76, 0x08, 0x48, 0x83, 0xeb, 0x08, 0xff, 0x13, 0xeb, 0xf3,
	0xe8, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00,
	0x00, 0x00, 0x00, 0x4c, 0x39, 0xe3, 0x76, 0x08, 0x48, 0x83, 0xeb, 0x08, 0xff, 0x13, 0xeb, 0xf3,
	0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3,
};

/*
 * entry:	(for programs with no .init_array: e_entry points here)
 *	mov %rdx,%r12; mov %rsp,%r13; and $-16,%rsp	# keep rtld_fini and the stack
 *	mov (%r13),%r14; lea 8(%r13),%r15		# argc, argv
 *	lea 16(%r13,%r14,8),%rbx			# envp
 *	(IRELATIVE loop over I, RELRO mprotect over R, as in init)
 *	(the new constructors B, called with argc, argv, envp)
 *	mov %r13,%rsp; mov %r12,%rdx; xor %ebp,%ebp
 *	jmp TARGET					# the program's entry, as the kernel left it
 */
static const uint8_t entry_code[] = {
	0x49, 0x89, 0xd4, 0x49, 0x89, 0xe5, 0x48, 0x83, 0xe4, 0xf0, 0x4d, 0x8b, 0x75, 0x00, 0x4d, 0x8d,
	0x7d, 0x08, 0x4b, 0x8d, 0x5c, 0xf5, 0x10, 0x48, 0x8d, 0x2d, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d,
	0x05, 0x00, 0x00, 0x00, 0x00, 0x48, 0x39, 0xc5, 0x73, 0x10, 0xff, 0x55, 0x10, 0x48, 0x8b, 0x4d,
	0x00, 0x48, 0x89, 0x01, 0x48, 0x83, 0xc5, 0x18, 0xeb, 0xe4, 0x48, 0x8d, 0x3d, 0x00, 0x00, 0x00,
	0x00, 0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00, 0x48, 0x29, 0xfe, 0x76, 0x0c, 0xb8, 0x0a, 0x00,
	0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x8d, 0x2d, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x8d, 0x05, 0x00, 0x00, 0x00, 0x00, 0x48, 0x39, 0xc5, 0x73, 0x12, 0x4c, 0x89, 0xf7, 0x4c,
	0x89, 0xfe, 0x48, 0x89, 0xda, 0xff, 0x55, 0x00, 0x48, 0x83, 0xc5, 0x08, 0xeb, 0xe2, 0x4c, 0x89,
	0xec, 0x4c, 0x89, 0xe2, 0x31, 0xed, 0xe9, 0x00, 0x00, 0x00, 0x00,
};

static const struct code_fixup init_fixups[] = {
	{ 0x15, REL_PC32, A_START }, { 0x1c, REL_PC32, A_END }, { 0x40, REL_PLT32, TARGET },
	{ 0x47, REL_PC32, I_START }, { 0x4e, REL_PC32, I_END }, { 0x69, REL_PC32, R_START },
	{ 0x70, REL_PC32, R_END }, { 0x88, REL_PC32, B_START }, { 0x8f, REL_PC32, B_END },
};

static const struct code_fixup entry_fixups[] = {
	{ 0x1a, REL_PC32, I_START }, { 0x21, REL_PC32, I_END }, { 0x3d, REL_PC32, R_START },
	{ 0x44, REL_PC32, R_END }, { 0x5c, REL_PC32, B_START }, { 0x63, REL_PC32, B_END },
	{ 0x87, REL_PLT32, TARGET },
};

static const struct code_fixup fini_fixups[] = {
	{ 0x08, REL_PC32, A_END }, { 0x0f, REL_PC32, A_START }, { 0x21, REL_PLT32, TARGET },
	{ 0x28, REL_PC32, B_END }, { 0x2f, REL_PC32, B_START },
};

#define CODE(c, f) { c, sizeof(c), f, sizeof(f) / sizeof(*(f)) }

static const char *const x86_ld_dirs[] = { "/usr/local/lib64", "/lib64", "/usr/lib64", "/usr/local/lib", "/lib",
					   "/usr/lib", NULL };

const struct arch arch_x86_64 = {
	.name = "x86-64",
	.machine = EM_X86_64,
	.page_size = 0x1000,
	.max_page_size = 0x1000,
	.article = "an",
	.user_end = 1ull << 47,		/* 4-level paging; 5-level gives more only to mmap hints above it */
	.sbcl_page = 0x8000,
	.sp_reg_off = 19 * 8,
	.dwarf_sp = 7,
	.red_zone = 128,
	.ld_format = "elf64-x86-64",
	.ld_arch = "i386:x86-64",
	.multiarch = "x86_64-linux-gnu",
	.musl_libdir = "/usr/lib/x86_64-linux-musl",
	.triplet = "x86_64-linux-gnu",
	.ld_dirs = x86_ld_dirs,
	.rel_class = x86_rel_class,
	.rel_type = x86_rel_type,
	.entry_marker = endbr64,
	.entry_marker_len = sizeof(endbr64),
	.near_jump_len = 5,
	.far_jump_len = 14,
	.near_jump_name = "32-bit jump",
	.near_reach = x86_near_reach,
	.new_code_slack = 1ull << 30,
	.encode_jump = x86_encode_jump,
	.init_thunk = CODE(init_code, init_fixups),
	.fini_thunk = CODE(fini_code, fini_fixups),
	.entry_thunk = CODE(entry_code, entry_fixups),
	.code_addend = -4,
	.trap = 0xcc,
};

/* aarch64 (little-endian, LP64): the AArch64 ELF ABI's relocations, pages of
 * 4 or 64 KiB (segments follow the program's p_align), bti c, b and the
 * adrp+add+br veneer, and the constructor thunks as instruction words. */
#include "arch/arch.h"

#include <elf.h>
#include <string.h>

#ifndef R_AARCH64_PLT32
#define R_AARCH64_PLT32 314
#endif

static enum rel_class a64_rel_class(unsigned type)
{
	switch (type) {
	case R_AARCH64_NONE: return REL_NONE;
	case R_AARCH64_RELATIVE: return REL_RELATIVE;
	case R_AARCH64_IRELATIVE: return REL_IRELATIVE;
	case R_AARCH64_GLOB_DAT: return REL_GLOB_DAT;
	case R_AARCH64_JUMP_SLOT: return REL_JUMP_SLOT;
	case R_AARCH64_COPY: return REL_COPY;
	case R_AARCH64_ABS64: return REL_ABS64;
	case R_AARCH64_TLS_TPREL: return REL_TPOFF64;
	case R_AARCH64_TLS_DTPMOD: return REL_DTPMOD64;
	case R_AARCH64_TLS_DTPREL: return REL_DTPOFF64;
	case R_AARCH64_PREL32: return REL_PC32;
	case R_AARCH64_PLT32: return REL_PLT32;
	case R_AARCH64_ADR_PREL_PG_HI21: return REL_ADR_PAGE21;
	case R_AARCH64_ADD_ABS_LO12_NC: return REL_ADD_LO12;
	case R_AARCH64_ADR_PREL_LO21: return REL_ADR_LO21;
	case R_AARCH64_LD_PREL_LO19: return REL_LD_LO19;
	case R_AARCH64_CONDBR19: return REL_CONDBR19;
	case R_AARCH64_TSTBR14: return REL_TSTBR14;
	case R_AARCH64_CALL26: return REL_CALL26;
	case R_AARCH64_JUMP26: return REL_JUMP26;
	case R_AARCH64_LDST32_ABS_LO12_NC: return REL_LDST32_LO12;
	case R_AARCH64_LDST64_ABS_LO12_NC: return REL_LDST64_LO12;
	default: return REL_OTHER;
	}
}

static unsigned a64_rel_type(enum rel_class c)
{
	switch (c) {
	case REL_RELATIVE: return R_AARCH64_RELATIVE;
	case REL_IRELATIVE: return R_AARCH64_IRELATIVE;
	case REL_GLOB_DAT: return R_AARCH64_GLOB_DAT;
	case REL_JUMP_SLOT: return R_AARCH64_JUMP_SLOT;
	case REL_COPY: return R_AARCH64_COPY;
	case REL_ABS64: return R_AARCH64_ABS64;
	case REL_TPOFF64: return R_AARCH64_TLS_TPREL;
	case REL_DTPMOD64: return R_AARCH64_TLS_DTPMOD;
	case REL_DTPOFF64: return R_AARCH64_TLS_DTPREL;
	case REL_PC32: return R_AARCH64_PREL32;
	case REL_PLT32: return R_AARCH64_PLT32;
	case REL_ADR_PAGE21: return R_AARCH64_ADR_PREL_PG_HI21;
	case REL_ADD_LO12: return R_AARCH64_ADD_ABS_LO12_NC;
	case REL_ADR_LO21: return R_AARCH64_ADR_PREL_LO21;
	case REL_LD_LO19: return R_AARCH64_LD_PREL_LO19;
	case REL_CONDBR19: return R_AARCH64_CONDBR19;
	case REL_TSTBR14: return R_AARCH64_TSTBR14;
	case REL_CALL26: return R_AARCH64_CALL26;
	case REL_JUMP26: return R_AARCH64_JUMP26;
	case REL_LDST32_LO12: return R_AARCH64_LDST32_ABS_LO12_NC;
	case REL_LDST64_LO12: return R_AARCH64_LDST64_ABS_LO12_NC;
	default: return R_AARCH64_NONE;
	}
}

/* bti c: the landing pad of calls through a register (hint #34, a nop
 * where BTI is off). */
static const uint8_t bti_c[4] = { 0x5f, 0x24, 0x03, 0xd5 };

/* paciasp and pacibsp: landing pads of calls through a register, as bti c. */
static bool a64_implicit_marker(const uint8_t *insn, size_t n)
{
	uint32_t w;

	if (n < 4)
		return false;
	memcpy(&w, insn, 4);
	return w == 0xd503233f || w == 0xd503237f;
}

static void put32(uint8_t *buf, uint32_t w)
{
	memcpy(buf, &w, 4);
}

static bool a64_near_reach(uint64_t at, uint64_t to)
{
	int64_t d = (int64_t)(to - at);

	return !(d & 3) && d >= -(1ll << 27) && d < (1ll << 27);
}

static bool a64_far_reach(uint64_t at, uint64_t to)
{
	int64_t pages = ((int64_t)(to & ~0xfffull) - (int64_t)(at & ~0xfffull)) / 4096;

	return pages >= -(1ll << 20) && pages < (1ll << 20);
}

/* b TO; or the veneer adrp x16, TO; add x16, x16, :lo12:TO; br x16. x16
 * (IP0) is the register the ABI gives veneers at a call, and a br through
 * x16 may land on a bti c, so the new function's BTI pad accepts it. */
static void a64_encode_jump(uint8_t *buf, uint64_t at, uint64_t to, bool far)
{
	if (!far) {
		put32(buf, 0x14000000u | (uint32_t)(((int64_t)(to - at) >> 2) & 0x3ffffff));
	} else {
		int64_t pages = ((int64_t)(to & ~0xfffull) - (int64_t)(at & ~0xfffull)) >> 12;
		uint32_t lo = (uint32_t)pages & 3, hi = ((uint32_t)pages >> 2) & 0x7ffff;

		put32(buf, 0x90000010u | lo << 29 | hi << 5);
		put32(buf + 4, 0x91000210u | (uint32_t)(to & 0xfff) << 10);
		put32(buf + 8, 0xd61f0200u);
	}
}

/* The thunks, assembled from this (GNU as), kept as words so relink needs
 * no assembler. Each is instantiated per hooked slot: relocations bind A, B,
 * I and TARGET to that slot's ranges and the function the slot held (adrp
 * and add, ADR_PREL_PG_HI21 and ADD_ABS_LO12_NC; bl, CALL26; b, JUMP26).
 *
 * init:	bti c; paciasp				# called through .init_array; signs lr
 *	stp x29, x30, [sp, #-64]!; mov x29, sp
 *	stp x19, x20, [sp, #16]; stp x21, x22, [sp, #32]; str x23, [sp, #48]
 *	mov x21, x0; mov x22, x1; mov x23, x2	# argc, argv, envp
 *	adrp x19, A_START; add x19, x19, :lo12:A_START
 *	adrp x20, A_END; add x20, x20, :lo12:A_END
 * 1:	cmp x19, x20; b.hs 2f			# new constructors before
 *	ldr x3, [x19], #8; mov x0, x21; mov x1, x22; mov x2, x23; blr x3; b 1b
 * 2:	mov x0, x21; mov x1, x22; mov x2, x23
 *	bl TARGET				# what the slot held
 *	adrp x19, I_START; add ...; adrp x20, I_END; add ...
 * 3:	cmp x19, x20; b.hs 4f			# IRELATIVE: *r_offset = r_addend(0, 0)
 *	ldr x3, [x19, #16]; mov x0, #0; mov x1, #0; blr x3
 *	ldr x1, [x19]; str x0, [x1]; add x19, x19, #24; b 3b
 * 4:	adrp x0, R_START; add ...; adrp x1, R_END; add ...
 *	subs x1, x1, x0; b.ls 7f		# the new RELRO range, now relocated:
 *	mov x2, #1; mov x8, #226; svc #0	# mprotect(start, len, PROT_READ)
 * 7:	adrp x19, B_START; add ...; adrp x20, B_END; add ...
 * 5:	cmp x19, x20; b.hs 6f			# new constructors after
 *	ldr x3, [x19], #8; mov x0, x21; mov x1, x22; mov x2, x23; blr x3; b 5b
 * 6:	ldr x23, [sp, #48]; ldp x21, x22, [sp, #32]; ldp x19, x20, [sp, #16]
 *	ldp x29, x30, [sp], #64; autiasp; ret
 *
 * The resolvers get hwcap 0 and no __ifunc_arg_t (the _IFUNC_ARG_HWCAP bit
 * clear): glibc's pick their variant from its cpu_features, and one that
 * reads hwcap takes the baseline. */
static const uint32_t init_words[] = {
	0xd503245f, 0xd503233f, 0xa9bc7bfd, 0x910003fd, 0xa90153f3, 0xa9025bf5,
	0xf9001bf7, 0xaa0003f5, 0xaa0103f6, 0xaa0203f7, 0x90000013, 0x91000273,
	0x90000014, 0x91000294, 0xeb14027f, 0x540000e2, 0xf8408663, 0xaa1503e0,
	0xaa1603e1, 0xaa1703e2, 0xd63f0060, 0x17fffff9, 0xaa1503e0, 0xaa1603e1,
	0xaa1703e2, 0x94000000, 0x90000013, 0x91000273, 0x90000014, 0x91000294,
	0xeb14027f, 0x54000122, 0xf9400a63, 0xd2800000, 0xd2800001, 0xd63f0060,
	0xf9400261, 0xf9000020, 0x91006273, 0x17fffff7, 0x90000000, 0x91000000,
	0x90000001, 0x91000021, 0xeb000021, 0x54000089, 0xd2800022, 0xd2801c48,
	0xd4000001, 0x90000013, 0x91000273, 0x90000014, 0x91000294, 0xeb14027f,
	0x540000e2, 0xf8408663, 0xaa1503e0, 0xaa1603e1, 0xaa1703e2, 0xd63f0060,
	0x17fffff9, 0xf9401bf7, 0xa9425bf5, 0xa94153f3, 0xa8c47bfd, 0xd50323bf,
	0xd65f03c0,
};

/*
 * fini:	bti c; paciasp
 *	stp x29, x30, [sp, #-32]!; mov x29, sp; stp x19, x20, [sp, #16]
 *	adrp x19, A_END; add ...; adrp x20, A_START; add ...
 * 1:	cmp x19, x20; b.ls 2f			# new destructors before, in reverse
 *	ldr x0, [x19, #-8]!; blr x0; b 1b
 * 2:	bl TARGET
 *	adrp x19, B_END; add ...; adrp x20, B_START; add ...
 * 3:	cmp x19, x20; b.ls 4f			# new destructors after, in reverse
 *	ldr x0, [x19, #-8]!; blr x0; b 3b
 * 4:	ldp x19, x20, [sp, #16]; ldp x29, x30, [sp], #32; autiasp; ret
 */
static const uint32_t fini_words[] = {
	0xd503245f, 0xd503233f, 0xa9be7bfd, 0x910003fd, 0xa90153f3, 0x90000013,
	0x91000273, 0x90000014, 0x91000294, 0xeb14027f, 0x54000089, 0xf85f8e60,
	0xd63f0000, 0x17fffffc, 0x94000000, 0x90000013, 0x91000273, 0x90000014,
	0x91000294, 0xeb14027f, 0x54000089, 0xf85f8e60, 0xd63f0000, 0x17fffffc,
	0xa94153f3, 0xa8c27bfd, 0xd50323bf, 0xd65f03c0,
};

/*
 * entry:	(for programs with no .init_array: e_entry points here)
 *	bti c					# ld.so enters a BTI program's entry
 *						# by an indirect branch (the kernel,
 *						# a static one's, by none)
 *	mov x24, x0; mov x25, sp		# keep rtld_fini and the stack
 *	ldr x21, [x25]; add x22, x25, #8	# argc, argv
 *	add x23, x22, x21, lsl #3; add x23, x23, #8	# envp
 *	(IRELATIVE loop over I, RELRO mprotect over R, as in init)
 *	(the new constructors B, called with argc, argv, envp)
 *	mov sp, x25; mov x0, x24; mov x29, #0; mov x30, #0
 *	b TARGET				# the program's entry, as the kernel left it
 */
static const uint32_t entry_words[] = {
	0xd503245f, 0xaa0003f8, 0x910003f9, 0xf9400335, 0x91002336, 0x8b150ed7, 0x910022f7,
	0x90000013, 0x91000273, 0x90000014, 0x91000294, 0xeb14027f, 0x54000122,
	0xf9400a63, 0xd2800000, 0xd2800001, 0xd63f0060, 0xf9400261, 0xf9000020,
	0x91006273, 0x17fffff7, 0x90000000, 0x91000000, 0x90000001, 0x91000021,
	0xeb000021, 0x54000089, 0xd2800022, 0xd2801c48, 0xd4000001, 0x90000013,
	0x91000273, 0x90000014, 0x91000294, 0xeb14027f, 0x540000e2, 0xf8408663,
	0xaa1503e0, 0xaa1603e1, 0xaa1703e2, 0xd63f0060, 0x17fffff9, 0x9100033f,
	0xaa1803e0, 0xd280001d, 0xd280001e, 0x14000000,
};

#define PG REL_ADR_PAGE21
#define LO REL_ADD_LO12

static const struct code_fixup init_fixups[] = {
	{ 0x28, PG, A_START }, { 0x2c, LO, A_START }, { 0x30, PG, A_END }, { 0x34, LO, A_END },
	{ 0x64, REL_CALL26, TARGET },
	{ 0x68, PG, I_START }, { 0x6c, LO, I_START }, { 0x70, PG, I_END }, { 0x74, LO, I_END },
	{ 0xa0, PG, R_START }, { 0xa4, LO, R_START }, { 0xa8, PG, R_END }, { 0xac, LO, R_END },
	{ 0xc4, PG, B_START }, { 0xc8, LO, B_START }, { 0xcc, PG, B_END }, { 0xd0, LO, B_END },
};

static const struct code_fixup fini_fixups[] = {
	{ 0x14, PG, A_END }, { 0x18, LO, A_END }, { 0x1c, PG, A_START }, { 0x20, LO, A_START },
	{ 0x38, REL_CALL26, TARGET },
	{ 0x3c, PG, B_END }, { 0x40, LO, B_END }, { 0x44, PG, B_START }, { 0x48, LO, B_START },
};

static const struct code_fixup entry_fixups[] = {
	{ 0x1c, PG, I_START }, { 0x20, LO, I_START }, { 0x24, PG, I_END }, { 0x28, LO, I_END },
	{ 0x54, PG, R_START }, { 0x58, LO, R_START }, { 0x5c, PG, R_END }, { 0x60, LO, R_END },
	{ 0x78, PG, B_START }, { 0x7c, LO, B_START }, { 0x80, PG, B_END }, { 0x84, LO, B_END },
	{ 0xb8, REL_JUMP26, TARGET },
};

/* Instruction words are little-endian in a little-endian program: the
 * arrays' bytes are the code on a little-endian host, which is every host
 * surgeon builds on (x86-64, aarch64). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "surgeon runs on little-endian hosts");

#define CODE(c, f) { (const uint8_t *)(c), sizeof(c), f, sizeof(f) / sizeof(*(f)) }

static const char *const a64_ld_dirs[] = { "/usr/local/lib", "/lib", "/usr/lib", "/usr/aarch64-linux-gnu/lib", NULL };

const struct arch arch_aarch64 = {
	.name = "aarch64",
	.machine = EM_AARCH64,
	.page_size = 0x1000,
	.max_page_size = 0x10000,
	.article = "an",
	.gold_reads_nobits_code = true,
	.user_end = 1ull << 48,		/* 48-bit VA; a 52-bit kernel gives more only to mmap hints above it */
	.sbcl_page = 0x10000,
	.sp_reg_off = 31 * 8,
	.dwarf_sp = 31,
	.ld_format = "elf64-littleaarch64",
	.ld_arch = "aarch64",
	.multiarch = "aarch64-linux-gnu",
	.musl_libdir = "/usr/lib/aarch64-linux-musl",
	.triplet = "aarch64-linux-gnu",
	.ld_dirs = a64_ld_dirs,
	.tls_variant1 = true,
	.tls_tcb = 16,
	.rel_class = a64_rel_class,
	.rel_type = a64_rel_type,
	.entry_marker = bti_c,
	.entry_marker_len = sizeof(bti_c),
	.near_jump_len = 4,
	.far_jump_len = 12,
	.far_jump_pic = true,
	.near_jump_name = "b (±128 MiB)",
	.near_reach = a64_near_reach,
	.far_reach = a64_far_reach,
	.new_code_slack = 64ull << 20,
	.encode_jump = a64_encode_jump,
	.init_thunk = CODE(init_words, init_fixups),
	.fini_thunk = CODE(fini_words, fini_fixups),
	.entry_thunk = CODE(entry_words, entry_fixups),
	.code_addend = 0,
	.trap = 0x00,
	/* The thunks start with bti c and sign their return address; a
	 * trampoline starts with bti c and runs the function's own first
	 * instructions (its paciasp, when it has one). */
	.feature_and = GNU_PROPERTY_AARCH64_FEATURE_1_AND,
	.own_features = GNU_PROPERTY_AARCH64_FEATURE_1_BTI | GNU_PROPERTY_AARCH64_FEATURE_1_PAC,
	.feature_bits = { "BTI", "PAC" },
	.feature_flag = "gcc -mbranch-protection=standard",
	.landing_feature = GNU_PROPERTY_AARCH64_FEATURE_1_BTI,
	.implicit_marker = a64_implicit_marker,
};

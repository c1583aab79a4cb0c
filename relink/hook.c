/* The thunks that run the new code's constructors and destructors. The
 * program's last .init_array slot is pointed at the init thunk, which calls
 * what the slot held, then the new IFUNC resolvers and constructors: the
 * order a normal link of the program followed by the library would give.
 * Prioritized new constructors sort before everything else in a normal
 * link, so when there are any the first slot gets a thunk that runs them
 * before what it held. (The program's own priorities are not recorded in
 * the file, so a new constructor(150) runs before an old constructor(101)
 * too.) The fini side mirrors it. Hooking slots works alike for dynamic and
 * static glibc and musl, which all walk these arrays, and needs no change
 * to the entry point. */
#include "relink/relink.h"

#include <string.h>

/* Assembled from this (GNU as), kept as bytes so relink needs no assembler.
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
static const unsigned char init_code[] = {
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
static const unsigned char fini_code[] = {
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
static const unsigned char entry_code[] = {
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

enum { A_START, A_END, TARGET, I_START, I_END, B_START, B_END, R_START, R_END, NROLES };

struct fixup {
	uint64_t off;
	unsigned type;
	int role;
};

static const struct fixup init_fixups[] = {
	{ 0x15, R_X86_64_PC32, A_START }, { 0x1c, R_X86_64_PC32, A_END }, { 0x40, R_X86_64_PLT32, TARGET },
	{ 0x47, R_X86_64_PC32, I_START }, { 0x4e, R_X86_64_PC32, I_END }, { 0x69, R_X86_64_PC32, R_START },
	{ 0x70, R_X86_64_PC32, R_END }, { 0x88, R_X86_64_PC32, B_START }, { 0x8f, R_X86_64_PC32, B_END },
};

static const struct fixup entry_fixups[] = {
	{ 0x1a, R_X86_64_PC32, I_START }, { 0x21, R_X86_64_PC32, I_END }, { 0x3d, R_X86_64_PC32, R_START },
	{ 0x44, R_X86_64_PC32, R_END }, { 0x5c, R_X86_64_PC32, B_START }, { 0x63, R_X86_64_PC32, B_END },
	{ 0x87, R_X86_64_PLT32, TARGET },
};

static const struct fixup fini_fixups[] = {
	{ 0x08, R_X86_64_PC32, A_END }, { 0x0f, R_X86_64_PC32, A_START }, { 0x21, R_X86_64_PLT32, TARGET },
	{ 0x28, R_X86_64_PC32, B_END }, { 0x2f, R_X86_64_PC32, B_START },
};

/* The ranges the script brackets (unexec/script.c). Prioritized
 * constructors come first in .init_array, as in a normal link, so the
 * first slot runs them before the program's; the rest run after the last
 * slot. Destructors run backwards: the last slot (first to run) runs the
 * new unprioritized ones first, the first slot (last to run) runs the new
 * prioritized ones after everything else. */
#define IA "__surgeon_init_array_start"
#define IP "__surgeon_init_prio_end"
#define IE "__surgeon_init_array_end"
#define FA "__surgeon_fini_array_start"
#define FP "__surgeon_fini_prio_end"
#define FE "__surgeon_fini_array_end"
#define RI "__surgeon_rela_iplt_start", "__surgeon_rela_iplt_end"
#define RR "__surgeon_relro_start", "__surgeon_relro_end"

struct thunk {
	const char *name;
	bool fini, first, entry;
	const char *sym[NROLES];
};

/* One slot holding both roles when the array has a single entry. */
static const struct thunk thunks[] = {
	{ "__surgeon_init_thunk", false, false, false, { IA, IP, "__surgeon_init_target", RI, IP, IE, RR } },
	{ "__surgeon_init_thunk", false, false, false, { IA, IA, "__surgeon_init_target", RI, IP, IE, RR } },
	{ "__surgeon_init_first_thunk", false, true, false, { IA, IP, "__surgeon_init_first_target", IA, IA, IA, IA, IA, IA } },
	{ "__surgeon_fini_thunk", true, false, false, { FP, FE, "__surgeon_fini_target", NULL, NULL, FA, FP } },
	{ "__surgeon_fini_thunk", true, false, false, { FP, FE, "__surgeon_fini_target", NULL, NULL, FA, FA } },
	{ "__surgeon_fini_first_thunk", true, true, false, { FA, FA, "__surgeon_fini_first_target", NULL, NULL, FA, FP } },
	{ "__surgeon_entry_thunk", false, false, true, { NULL, NULL, "__surgeon_entry", RI, IA, IE, RR } },
};

#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static const unsigned char relro_pad[8];

int hook_write_object(const struct image *img, const char *path)
{
	unsigned char text[2 * (sizeof(init_code) + sizeof(fini_code)) + sizeof(entry_code)];
	Elf64_Rela rela[2 * (NELEM(init_fixups) + NELEM(fini_fixups)) + NELEM(entry_fixups)];
	Elf64_Sym syms[1 + 2 * (2 + NELEM(init_fixups) + NELEM(fini_fixups)) + 1 + NELEM(entry_fixups)];
	struct strset *str = strset_new();
	size_t ntext = 0, nrela = 0, nsyms = 1, i;
	int err = -1;

	memset(syms, 0, sizeof(syms));
	memset(rela, 0, sizeof(rela));
	if (!str)
		goto out;
	for (i = 0; i < sizeof(thunks) / sizeof(*thunks); i++) {
		const struct thunk *t = &thunks[i];
		const struct hook *h = t->fini ? &img->fini : &img->init;
		bool single = h->nslots == 1;
		const unsigned char *code = t->entry ? entry_code : t->fini ? fini_code : init_code;
		size_t len = t->entry ? sizeof(entry_code) : t->fini ? sizeof(fini_code) : sizeof(init_code);
		const struct fixup *fx = t->entry ? entry_fixups : t->fini ? fini_fixups : init_fixups;
		size_t nfx = t->entry ? NELEM(entry_fixups) : t->fini ? NELEM(fini_fixups) : NELEM(init_fixups), k;

		/* Entries 0 and 3 serve single-slot arrays, 1 and 4 the last of
		 * several; the entry thunk stands in when there is no init slot. */
		if (t->entry ? img->init.present :
		    (!h->present || (t->first && (single || !h->first_present)) ||
		     (!t->first && single != (i == 0 || i == 3))))
			continue;
		syms[nsyms++] = (Elf64_Sym){
			.st_name = strset_add(str, t->name),
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_other = STV_HIDDEN,
			.st_shndx = 1, .st_value = ntext, .st_size = len,
		};
		for (k = 0; k < nfx; k++) {
			syms[nsyms] = (Elf64_Sym){
				.st_name = strset_add(str, t->sym[fx[k].role]),
				.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE),
			};
			rela[nrela++] = (Elf64_Rela){
				.r_offset = ntext + fx[k].off, .r_info = ELF64_R_INFO(nsyms, fx[k].type), .r_addend = -4,
			};
			nsyms++;
		}
		memcpy(text + ntext, code, len);
		ntext += len;
	}
	err = relobj_write(path, ".surgeon.text", text, ntext, rela, nrela, syms, nsyms, str,
			   ".surgeon.relro", relro_pad, sizeof(relro_pad));
out:
	strset_free(str);
	return err;
}

/* Which slots to point at which thunks, given what the new code brought. */
int hooks_needed(const struct image *img, const struct linked *l, struct hookuse *out, size_t *n, bool *entry)
{
	bool isingle = img->init.nslots == 1, fsingle = img->fini.nslots == 1;
	bool want_init = l->init_unprio || l->has_irel || (isingle && l->init_prio) || l->relro;
	bool want_fini = l->fini_unprio || (fsingle && l->fini_prio);
	struct hookuse h[4];
	size_t k = 0;

	if (want_init)
		h[k++] = (struct hookuse){ &img->init, img->init.slot, l->init_thunk, "constructors",
			".init_array slot: runs the program's constructor, then the added ones" };
	if (!isingle && l->init_prio)
		h[k++] = (struct hookuse){ &img->init, img->init.first_slot, l->init_first_thunk, "constructors",
			"first .init_array slot: runs the added prioritized constructors, then the program's" };
	if (want_fini)
		h[k++] = (struct hookuse){ &img->fini, img->fini.slot, l->fini_thunk, "destructors",
			".fini_array slot: runs the added destructors, then the program's" };
	if (!fsingle && l->fini_prio)
		h[k++] = (struct hookuse){ &img->fini, img->fini.first_slot, l->fini_first_thunk, "destructors",
			"first .fini_array slot: runs the program's destructor, then the added prioritized ones" };
	/* No init slot (a Free Pascal program, say): the entry thunk runs the
	 * new constructors, all of them, before the program's entry point. */
	*entry = false;
	if (!img->init.present && (want_init || l->init_prio)) {
		size_t j = 0;

		if (!l->entry_thunk)
			return pr_err(l->path, "the added code has constructors, but the program has neither an "
				      ".init_array slot nor an entry point to run them from");
		*entry = true;
		for (size_t i = 0; i < k; i++)
			if (h[i].hook != &img->init)
				h[j++] = h[i];
		k = j;
	}
	/* No fini slot: there is no safe place to run new destructors from. */
	if (!img->fini.present && (want_fini || l->fini_prio)) {
		size_t j = 0;

		pr_warn(img->path, "has no .fini_array slot: the added code's destructors will not run");
		for (size_t i = 0; i < k; i++)
			if (h[i].hook != &img->fini)
				h[j++] = h[i];
		k = j;
	}
	for (size_t i = 0; i < k; i++) {
		if (!h[i].hook->present || !h[i].thunk)
			return pr_err(l->path, "the added code has %s, but the program has no .%s_array slot to run them from",
				      h[i].what, h[i].hook == &img->init ? "init" : "fini");
		out[i] = h[i];
	}
	*n = k;
	return 0;
}

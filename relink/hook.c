/* The thunks that run the new code's constructors and destructors. The
 * program's last .init_array slot is pointed at the init thunk, which calls
 * what the slot held, then the new IFUNC resolvers and constructors: the
 * order a normal link of the program followed by the library would give.
 * The last .fini_array slot (the first to run) gets the fini thunk, which
 * runs the new destructors in reverse and then what the slot held.
 * Hooking a slot works alike for dynamic and static glibc and musl, which
 * all walk these arrays, and needs no change to the entry point. */
#include "relink/relink.h"

#include <string.h>

/* Assembled from this (GNU as), kept as bytes so relink needs no assembler:
 *
 * __surgeon_init_thunk:
 *	push %rbx; push %r12; push %r13; push %r14; push %r15
 *	mov %rdi,%r13; mov %rsi,%r14; mov %rdx,%r15	# argc, argv, envp
 *	lea __surgeon_rela_iplt_start(%rip),%rbx
 *	lea __surgeon_rela_iplt_end(%rip),%r12
 * 1:	cmp %r12,%rbx; jae 2f
 *	call *16(%rbx)				# r_addend: the resolver
 *	mov (%rbx),%rcx; mov %rax,(%rcx)	# *r_offset = its answer
 *	add $24,%rbx; jmp 1b
 * 2:	mov %r13,%rdi; mov %r14,%rsi; mov %r15,%rdx
 *	call __surgeon_init_target
 *	lea __surgeon_init_array_start(%rip),%rbx
 *	lea __surgeon_init_array_end(%rip),%r12
 * 3:	cmp %r12,%rbx; jae 4f
 *	mov %r13,%rdi; mov %r14,%rsi; mov %r15,%rdx
 *	call *(%rbx); add $8,%rbx; jmp 3b
 * 4:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; ret
 */
static const unsigned char init_code[] = {
	0x53, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57, 0x49, 0x89, 0xfd, 0x49, 0x89, 0xf6, 0x49,
	0x89, 0xd7, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00, 0x00, 0x00, 0x00,
	0x4c, 0x39, 0xe3, 0x73, 0x0f, 0xff, 0x53, 0x10, 0x48, 0x8b, 0x0b, 0x48, 0x89, 0x01, 0x48, 0x83,
	0xc3, 0x18, 0xeb, 0xec, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0x4c, 0x89, 0xfa, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00, 0x00, 0x00, 0x00,
	0x4c, 0x39, 0xe3, 0x73, 0x11, 0x4c, 0x89, 0xef, 0x4c, 0x89, 0xf6, 0x4c, 0x89, 0xfa, 0xff, 0x13,
	0x48, 0x83, 0xc3, 0x08, 0xeb, 0xea, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xc3,
};

/*
 * __surgeon_fini_thunk:
 *	push %rbx; push %r12; push %r13
 *	lea __surgeon_fini_array_end(%rip),%rbx
 *	lea __surgeon_fini_array_start(%rip),%r12
 * 1:	cmp %r12,%rbx; jbe 2f
 *	sub $8,%rbx; call *(%rbx); jmp 1b
 * 2:	pop %r13; pop %r12; pop %rbx
 *	jmp __surgeon_fini_target
 */
static const unsigned char fini_code[] = {
	0x53, 0x41, 0x54, 0x41, 0x55, 0x48, 0x8d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x8d, 0x25, 0x00,
	0x00, 0x00, 0x00, 0x4c, 0x39, 0xe3, 0x76, 0x08, 0x48, 0x83, 0xeb, 0x08, 0xff, 0x13, 0xeb, 0xf3,
	0x41, 0x5d, 0x41, 0x5c, 0x5b, 0xe9, 0x00, 0x00, 0x00, 0x00,
};

struct fixup {
	uint64_t off;
	unsigned type;
	const char *sym;
};

static const struct fixup init_fixups[] = {
	{ 0x15, R_X86_64_PC32, "__surgeon_rela_iplt_start" },
	{ 0x1c, R_X86_64_PC32, "__surgeon_rela_iplt_end" },
	{ 0x3e, R_X86_64_PLT32, "__surgeon_init_target" },
	{ 0x45, R_X86_64_PC32, "__surgeon_init_array_start" },
	{ 0x4c, R_X86_64_PC32, "__surgeon_init_array_end" },
};

static const struct fixup fini_fixups[] = {
	{ 0x08, R_X86_64_PC32, "__surgeon_fini_array_end" },
	{ 0x0f, R_X86_64_PC32, "__surgeon_fini_array_start" },
	{ 0x26, R_X86_64_PLT32, "__surgeon_fini_target" },
};

#define NELEM(a) (sizeof(a) / sizeof(*(a)))

static Elf_Scn *add_scn(Elf *e, struct strset *shstr, const char *name, GElf_Shdr *sh, void *buf,
			size_t size, const char *path)
{
	Elf_Scn *scn = elf_newscn(e);
	Elf_Data *d = scn ? elf_newdata(scn) : NULL;
	long off = strset_add(shstr, name);

	if (!d || off < 0) {
		pr_err(path, "cannot add section '%s': %s", name, elf_errmsg(-1));
		return NULL;
	}
	sh->sh_name = off;
	d->d_buf = buf;
	d->d_size = size;
	d->d_type = ELF_T_BYTE;
	d->d_align = sh->sh_addralign ? sh->sh_addralign : 1;
	if (!gelf_update_shdr(scn, sh)) {
		pr_err(path, "cannot add section '%s': %s", name, elf_errmsg(-1));
		return NULL;
	}
	return scn;
}

int hook_write_object(const struct image *img, const char *path)
{
	unsigned char text[sizeof(init_code) + sizeof(fini_code)];
	Elf64_Rela rela[NELEM(init_fixups) + NELEM(fini_fixups)];
	Elf64_Sym syms[3 + NELEM(init_fixups) + NELEM(fini_fixups)];
	struct strset *shstr = strset_new(), *str = strset_new();
	struct outfile out = { .fd = -1 };
	size_t ntext = 0, nrela = 0, nsyms = 1, i;
	GElf_Ehdr eh = { 0 };
	GElf_Shdr sh;
	Elf *e = NULL;
	int err = -1;

	memset(syms, 0, sizeof(syms));
	memset(rela, 0, sizeof(rela));
	if (!shstr || !str)
		goto out;
	for (int pass = 0; pass < 2; pass++) {
		const struct hook *h = pass ? &img->fini : &img->init;
		const unsigned char *code = pass ? fini_code : init_code;
		size_t len = pass ? sizeof(fini_code) : sizeof(init_code);
		const struct fixup *fx = pass ? fini_fixups : init_fixups;
		size_t nfx = pass ? NELEM(fini_fixups) : NELEM(init_fixups);

		if (!h->present)
			continue;
		syms[nsyms++] = (Elf64_Sym){
			.st_name = strset_add(str, pass ? "__surgeon_fini_thunk" : "__surgeon_init_thunk"),
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_other = STV_HIDDEN,
			.st_shndx = 1, .st_value = ntext, .st_size = len,
		};
		for (i = 0; i < nfx; i++) {
			syms[nsyms] = (Elf64_Sym){
				.st_name = strset_add(str, fx[i].sym),
				.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE),
			};
			rela[nrela++] = (Elf64_Rela){
				.r_offset = ntext + fx[i].off, .r_info = ELF64_R_INFO(nsyms, fx[i].type), .r_addend = -4,
			};
			nsyms++;
		}
		memcpy(text + ntext, code, len);
		ntext += len;
	}
	if (outfile_open(&out, path, 0644))
		goto out;
	elf_version(EV_CURRENT);
	e = elf_begin(out.fd, ELF_C_WRITE, NULL);
	if (!e || !gelf_newehdr(e, ELFCLASS64)) {
		pr_err(path, "cannot create ELF: %s", elf_errmsg(-1));
		goto out;
	}
	sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR, .sh_addralign = 16 };
	err = !add_scn(e, shstr, ".surgeon.text", &sh, text, ntext, path);
	sh = (GElf_Shdr){ .sh_type = SHT_RELA, .sh_flags = SHF_INFO_LINK, .sh_link = 3, .sh_info = 1,
			  .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Rela) };
	err = err || !add_scn(e, shstr, ".rela.surgeon.text", &sh, rela, nrela * sizeof(*rela), path);
	sh = (GElf_Shdr){ .sh_type = SHT_SYMTAB, .sh_link = 4, .sh_info = 1, .sh_addralign = 8,
			  .sh_entsize = sizeof(Elf64_Sym) };
	err = err || !add_scn(e, shstr, ".symtab", &sh, syms, nsyms * sizeof(*syms), path);
	sh = (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 };
	err = err || !add_scn(e, shstr, ".strtab", &sh, (void *)strset_data(str), strset_size(str), path);
	sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_addralign = 1 };
	err = err || !add_scn(e, shstr, ".note.GNU-stack", &sh, NULL, 0, path);
	/* Its own name first, so the table is complete when its data is taken. */
	strset_add(shstr, ".shstrtab");
	sh = (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 };
	err = err || !add_scn(e, shstr, ".shstrtab", &sh, (void *)strset_data(shstr), strset_size(shstr), path);
	if (err) {
		err = -1;
		goto out;
	}
	err = -1;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shstrndx = 6;
	if (!gelf_update_ehdr(e, &eh) || elf_update(e, ELF_C_WRITE) < 0) {
		pr_err(path, "cannot write: %s", elf_errmsg(-1));
		goto out;
	}
	elf_end(e);
	e = NULL;
	err = outfile_commit(&out);
out:
	if (e)
		elf_end(e);
	if (err && out.tmp)
		outfile_abort(&out);
	strset_free(shstr);
	strset_free(str);
	return err;
}

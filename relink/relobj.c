/* The small relocatable objects relink generates (the constructor thunks,
 * the patch trampolines): one code section, its relocations against named
 * symbols, and optionally one writable data section. ld does the rest. */
#include "relink/relink.h"

#include <string.h>

int relobj_write(const char *path, const struct arch *arch, const char *text_name, const void *text, size_t ntext,
		 const Elf64_Rela *rela, size_t nrela, const Elf64_Sym *syms, size_t nsyms,
		 struct strset *str, const char *data_name, const void *data, size_t ndata)
{
	struct strset *shstr = strset_new();
	struct outfile out = { .fd = -1 };
	char *rela_name = xasprintf(".rela%s", text_name);
	GElf_Ehdr eh = { 0 };
	Elf *e = NULL;
	size_t i, n;
	int err = -1;
	uint32_t note[8] = { 4, 16, NT_GNU_PROPERTY_TYPE_0, 0x554e47 /* "GNU" */, arch->feature_and, 4,
			     arch->own_features, 0 };
	struct {
		const char *name;
		GElf_Shdr sh;
		const void *buf;
		size_t size;
	} secs[] = {
		{ text_name, { .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR, .sh_addralign = 16 },
		  text, ntext },
		{ rela_name, { .sh_type = SHT_RELA, .sh_flags = SHF_INFO_LINK, .sh_link = 3, .sh_info = 1,
			       .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Rela) }, rela, nrela * sizeof(*rela) },
		{ ".symtab", { .sh_type = SHT_SYMTAB, .sh_link = 4, .sh_info = 1, .sh_addralign = 8,
			       .sh_entsize = sizeof(Elf64_Sym) }, syms, nsyms * sizeof(*syms) },
		{ ".strtab", { .sh_type = SHT_STRTAB, .sh_addralign = 1 }, NULL, 0 },
		{ ".note.GNU-stack", { .sh_type = SHT_PROGBITS, .sh_addralign = 1 }, NULL, 0 },
		{ data_name, { .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE, .sh_addralign = 8 },
		  data, ndata },
		/* What surgeon's code is built with (bti c, paciasp): the linker
		 * ANDs it with the inputs' and the program's. */
		{ arch->feature_and ? ".note.gnu.property" : NULL,
		  { .sh_type = SHT_NOTE, .sh_flags = SHF_ALLOC, .sh_addralign = 8 }, note, sizeof(note) },
		{ ".shstrtab", { .sh_type = SHT_STRTAB, .sh_addralign = 1 }, NULL, 0 },
	};

	/* Absent sections (no data, no property) close up: .shstrtab stays last. */
	for (i = 5, n = 5; i < sizeof(secs) / sizeof(*secs); i++)
		if (secs[i].name)
			secs[n++] = secs[i];
	if (!shstr || !rela_name)
		goto out;
	/* Every name first, so the tables are complete when their data is taken. */
	for (i = 0; i < n; i++)
		if (strset_add(shstr, secs[i].name) < 0)
			goto out;
	secs[3].buf = strset_data(str);
	secs[3].size = strset_size(str);
	secs[n - 1].buf = strset_data(shstr);
	secs[n - 1].size = strset_size(shstr);
	if (outfile_open(&out, path, 0644))
		goto out;
	elf_version(EV_CURRENT);
	e = elf_begin(out.fd, ELF_C_WRITE, NULL);
	if (!e || !gelf_newehdr(e, ELFCLASS64)) {
		pr_elf(path, "cannot create ELF");
		goto out;
	}
	for (i = 0; i < n; i++) {
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d = scn ? elf_newdata(scn) : NULL;

		secs[i].sh.sh_name = strset_add(shstr, secs[i].name);
		if (!d) {
			pr_elf(path, "cannot add section '%s'", secs[i].name);
			goto out;
		}
		d->d_buf = (void *)secs[i].buf;
		d->d_size = secs[i].size;
		d->d_type = ELF_T_BYTE;
		d->d_align = secs[i].sh.sh_addralign;
		if (!gelf_update_shdr(scn, &secs[i].sh)) {
			pr_elf(path, "cannot add section '%s'", secs[i].name);
			goto out;
		}
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = arch->machine;
	eh.e_version = EV_CURRENT;
	eh.e_shstrndx = n;
	if (!gelf_update_ehdr(e, &eh) || elf_update(e, ELF_C_WRITE) < 0) {
		pr_elf(path, "cannot write");
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
	free(rela_name);
	return err;
}

/* Reading an executable into the image model, checking every header first. */
#include "unexec/image.h"
#include "unexec/dwarf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *elf_type_name(unsigned t)
{
	switch (t) {
	case ET_REL: return "a relocatable object";
	case ET_CORE: return "a core file";
	case ET_NONE: return "an ELF file of no type";
	default: return "an ELF file of unknown type";
	}
}

/* The ELF header, by hand before libelf sees the file, so that the message
 * for a wrong file names what is wrong in the user's terms. */
static int check_ident(const char *path, const unsigned char *d, uint64_t size)
{
	char kind[64];

	if (size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG))
		return pr_err(path, "not an ELF file");
	/* aarch64's other ABIs by name: ILP32 (32-bit ELF) and aarch64_be. */
	if (size >= 20 && d[EI_CLASS] == ELFCLASS32 && arch_elf_kind(d, kind, sizeof(kind)) &&
	    strstr(kind, "aarch64 ILP32"))
		return pr_err(path, "is %s program (32-bit ELF); surgeon handles 64-bit (LP64) aarch64 only", kind);
	if (d[EI_CLASS] != ELFCLASS64)
		return pr_err(path, "not a 64-bit ELF file (class %u); surgeon handles x86-64 and aarch64 only",
			      d[EI_CLASS]);
	if (size >= 20 && d[EI_DATA] == ELFDATA2MSB && arch_elf_kind(d, kind, sizeof(kind)) &&
	    strstr(kind, "big-endian aarch64"))
		return pr_err(path, "is a big-endian aarch64 program (aarch64_be); surgeon handles little-endian "
			      "aarch64 only");
	if (d[EI_DATA] != ELFDATA2LSB)
		return pr_err(path, "not a little-endian ELF file (byte order %u)", d[EI_DATA]);
	if (d[EI_VERSION] != EV_CURRENT)
		return pr_err(path, "unknown ELF version %u", d[EI_VERSION]);
	if (size < sizeof(Elf64_Ehdr))
		return pr_err(path, "truncated ELF header (%llu bytes)", (unsigned long long)size);
	return 0;
}

static int check_ehdr(struct image *img)
{
	const GElf_Ehdr *eh = &img->eh;
	const char *p = img->path;

	img->arch = arch_for(eh->e_machine);
	if (!img->arch)
		return pr_err(p, "not a program of a machine surgeon knows (e_machine %u)", eh->e_machine);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return pr_err(p, "is %s, not an executable", elf_type_name(eh->e_type));
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return pr_err(p, "bad ELF header size %u", eh->e_ehsize);
	if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
		return pr_err(p, "bad program header entry size %u", eh->e_phentsize);
	if (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr))
		return pr_err(p, "bad section header entry size %u", eh->e_shentsize);
	return 0;
}

static int read_phdrs(struct image *img)
{
	const char *p = img->path;
	uint64_t bytes;
	size_t i, j;

	if (img->eh.e_phnum && img->eh.e_phnum != PN_XNUM &&
	    !range_ok(img->eh.e_phoff, (uint64_t)img->eh.e_phnum * sizeof(Elf64_Phdr), img->size))
		return pr_err(p, "program header table (%u entries at offset 0x%llx) lies outside the file",
			      img->eh.e_phnum, (unsigned long long)img->eh.e_phoff);
	if (elf_getphdrnum(img->elf, &img->phnum))
		return pr_err(p, "cannot read program headers: %s", elf_errmsg(-1));
	if (!img->phnum)
		return pr_err(p, "has no program headers, so nothing is loaded");
	if (__builtin_mul_overflow(img->phnum, sizeof(Elf64_Phdr), &bytes) ||
	    !range_ok(img->eh.e_phoff, bytes, img->size))
		return pr_err(p, "program header table (%zu entries at offset 0x%llx) lies outside the file",
			      img->phnum, (unsigned long long)img->eh.e_phoff);
	img->phdrs = zalloc(img->phnum * sizeof(*img->phdrs));
	if (!img->phdrs)
		return -1;
	for (i = 0; i < img->phnum; i++) {
		GElf_Phdr *ph = &img->phdrs[i];
		uint64_t end;

		if (!gelf_getphdr(img->elf, i, ph))
			return pr_err(p, "program header %zu: %s", i, elf_errmsg(-1));
		if (ph->p_type != PT_LOAD && ph->p_type != PT_INTERP && ph->p_type != PT_DYNAMIC &&
		    ph->p_type != PT_NOTE && ph->p_type != PT_TLS && ph->p_type != PT_PHDR)
			continue;
		if (!range_ok(ph->p_offset, ph->p_filesz, img->size))
			return pr_err(p, "program header %zu: bytes 0x%llx+0x%llx lie outside the file (size 0x%llx)",
				      i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
				      (unsigned long long)img->size);
		if (ph->p_filesz > ph->p_memsz)
			return pr_err(p, "program header %zu: file size 0x%llx exceeds memory size 0x%llx",
				      i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
		if (add_overflows(ph->p_vaddr, ph->p_memsz, &end) || end > (1ull << 47))
			return pr_err(p, "program header %zu: addresses 0x%llx+0x%llx do not fit in user space",
				      i, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz);
		/* The thread pointer's distance to the block is roundup(memsz,
		 * align): an alignment that is not a power of two has no meaning. */
		if (ph->p_type == PT_TLS && ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)))
			return pr_err(p, "program header %zu: TLS alignment 0x%llx is not a power of two", i,
				      (unsigned long long)ph->p_align);
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_align > 1 && ((ph->p_align & (ph->p_align - 1)) ||
					(ph->p_offset - ph->p_vaddr) % ph->p_align))
			return pr_err(p, "program header %zu: offset 0x%llx and address 0x%llx disagree modulo alignment 0x%llx",
				      i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_vaddr,
				      (unsigned long long)ph->p_align);
		if (end > img->vaddr_end)
			img->vaddr_end = end;
		if (ph->p_align > img->page_size)
			img->page_size = ph->p_align;
		if (ph->p_offset + ph->p_filesz > img->loaded_end)
			img->loaded_end = ph->p_offset + ph->p_filesz;
	}
	if (img->page_size < img->arch->page_size)
		img->page_size = img->arch->page_size;
	if (img->page_size > img->arch->max_page_size)
		img->page_size = img->arch->max_page_size;
	/* Overlapping loads would make "the byte at this address" ambiguous. */
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *a = &img->phdrs[i];

		if (a->p_type != PT_LOAD)
			continue;
		for (j = i + 1; j < img->phnum; j++) {
			const GElf_Phdr *b = &img->phdrs[j];

			if (b->p_type != PT_LOAD || !a->p_memsz || !b->p_memsz)
				continue;
			if (a->p_vaddr < b->p_vaddr + b->p_memsz && b->p_vaddr < a->p_vaddr + a->p_memsz)
				return pr_err(p, "program headers %zu and %zu: loadable segments overlap at 0x%llx",
					      i, j, (unsigned long long)(a->p_vaddr > b->p_vaddr ? a->p_vaddr : b->p_vaddr));
		}
	}
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type == PT_LOAD) {
			img->delta_first = ph->p_vaddr - ph->p_offset;
			break;
		}
	}
	if (i == img->phnum)
		return pr_err(p, "has no loadable segment");
	/* A program's code comes from the file: segments that load no file
	 * bytes (only zeroes, or nothing) cannot be all there is. */
	for (j = 0; j < img->phnum; j++)
		if (img->phdrs[j].p_type == PT_LOAD && img->phdrs[j].p_filesz)
			break;
	if (j == img->phnum)
		return pr_err(p, "loads no bytes from the file");
	return 0;
}

static const char *str_at(const struct image *img, const struct section *strsec, uint64_t off)
{
	const char *base;

	if (!strsec || strsec->sh.sh_type == SHT_NOBITS || off >= strsec->sh.sh_size)
		return NULL;
	base = (const char *)img->data + strsec->sh.sh_offset;
	if (!memchr(base + off, 0, strsec->sh.sh_size - off))
		return NULL;
	return base + off;
}

/* Sections of these types are arrays; libelf refuses to write a partial entry. */
static unsigned fixed_entry_size(uint32_t type)
{
	switch (type) {
	case SHT_SYMTAB: case SHT_DYNSYM: case SHT_RELA: return 24;
	case SHT_REL: case SHT_DYNAMIC: return 16;
	case SHT_INIT_ARRAY: case SHT_FINI_ARRAY: case SHT_PREINIT_ARRAY: return 8;
	case SHT_HASH: case SHT_SYMTAB_SHNDX: return 4;
	case SHT_GNU_versym: return 2;
	default: return 0;
	}
}

/* An allocated section inside a segment must hold the bytes the segment
 * loads at its address; otherwise the file has two stories about them. */
static int check_placement(const struct image *img, size_t idx)
{
	const GElf_Shdr *sh = &img->secs[idx].sh;
	size_t i;

	if (!(sh->sh_flags & SHF_ALLOC) || sh->sh_type == SHT_NOBITS || !sh->sh_size)
		return 0;
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type != PT_LOAD || sh->sh_addr < ph->p_vaddr || sh->sh_addr - ph->p_vaddr >= ph->p_filesz)
			continue;
		if (sh->sh_offset - ph->p_offset != sh->sh_addr - ph->p_vaddr)
			return pr_err(img->path, "section [%zu]: file offset 0x%llx disagrees with its address 0x%llx in program header %zu",
				      idx, (unsigned long long)sh->sh_offset, (unsigned long long)sh->sh_addr, i);
	}
	return 0;
}

static int read_shdrs(struct image *img)
{
	const char *p = img->path;
	const struct section *shstr;
	uint64_t bytes;
	size_t i;

	if (elf_getshdrnum(img->elf, &img->shnum))
		return pr_err(p, "cannot read section headers: %s", elf_errmsg(-1));
	/* libelf reports no sections when the table lies outside the file:
	 * count them from the header ourselves. */
	if (img->eh.e_shoff) {
		uint64_t want = img->eh.e_shnum;
		Elf64_Shdr sh0;

		if (!want) {
			if (!range_ok(img->eh.e_shoff, sizeof(sh0), img->size))
				return pr_err(p, "section header table (at offset 0x%llx) lies outside the file",
					      (unsigned long long)img->eh.e_shoff);
			memcpy(&sh0, img->data + img->eh.e_shoff, sizeof(sh0));
			want = sh0.sh_size;
		}
		if (want != img->shnum || __builtin_mul_overflow(want, sizeof(Elf64_Shdr), &bytes) ||
		    !range_ok(img->eh.e_shoff, bytes, img->size))
			return pr_err(p, "section header table (%llu entries at offset 0x%llx) lies outside the file",
				      (unsigned long long)want, (unsigned long long)img->eh.e_shoff);
	} else if (img->eh.e_shnum) {
		return pr_err(p, "%u section headers at offset 0", img->eh.e_shnum);
	}
	if (!img->shnum)
		return 0;
	if (__builtin_mul_overflow(img->shnum, sizeof(Elf64_Shdr), &bytes) ||
	    !range_ok(img->eh.e_shoff, bytes, img->size))
		return pr_err(p, "section header table (%zu entries at offset 0x%llx) lies outside the file",
			      img->shnum, (unsigned long long)img->eh.e_shoff);
	if (elf_getshdrstrndx(img->elf, &img->shstrndx))
		return pr_err(p, "cannot find the section name table: %s", elf_errmsg(-1));
	if (img->shstrndx >= img->shnum)
		return pr_err(p, "section name table index %zu is out of range", img->shstrndx);
	img->secs = zalloc(img->shnum * sizeof(*img->secs));
	if (!img->secs)
		return -1;
	for (i = 0; i < img->shnum; i++) {
		struct section *s = &img->secs[i];
		Elf_Scn *scn = elf_getscn(img->elf, i);

		if (!scn || !gelf_getshdr(scn, &s->sh))
			return pr_err(p, "section [%zu]: %s", i, elf_errmsg(-1));
		s->index = i;
		if (s->sh.sh_type != SHT_NOBITS && !range_ok(s->sh.sh_offset, s->sh.sh_size, img->size))
			return pr_err(p, "section [%zu]: bytes 0x%llx+0x%llx lie outside the file", i,
				      (unsigned long long)s->sh.sh_offset, (unsigned long long)s->sh.sh_size);
		if (s->sh.sh_link >= img->shnum)
			return pr_err(p, "section [%zu]: link %u points past the last section", i, s->sh.sh_link);
		if (s->sh.sh_addralign > 1 && (s->sh.sh_addralign & (s->sh.sh_addralign - 1)))
			return pr_err(p, "section [%zu]: alignment %llu is not a power of two", i,
				      (unsigned long long)s->sh.sh_addralign);
		if (s->sh.sh_entsize && s->sh.sh_size % s->sh.sh_entsize)
			return pr_err(p, "section [%zu]: size %llu is not a multiple of its entry size %llu", i,
				      (unsigned long long)s->sh.sh_size, (unsigned long long)s->sh.sh_entsize);
		if (fixed_entry_size(s->sh.sh_type) && s->sh.sh_size % fixed_entry_size(s->sh.sh_type))
			return pr_err(p, "section [%zu]: size %llu is not a multiple of its entry size %u", i,
				      (unsigned long long)s->sh.sh_size, fixed_entry_size(s->sh.sh_type));
		if (check_placement(img, i))
			return -1;
	}
	shstr = &img->secs[img->shstrndx];
	if (shstr->sh.sh_type != SHT_STRTAB)
		return pr_err(p, "section name table [%zu] is not a string table", img->shstrndx);
	for (i = 0; i < img->shnum; i++) {
		struct section *s = &img->secs[i];

		s->name = i ? str_at(img, shstr, s->sh.sh_name) : "";
		if (!s->name)
			return pr_err(p, "section [%zu]: name offset %u lies outside the name table", i, s->sh.sh_name);
	}
	return 0;
}

/* The overlay is whatever follows the last byte any header describes. */
static void find_overlay(struct image *img)
{
	uint64_t end = sizeof(Elf64_Ehdr);
	size_t i;

	end = img->eh.e_phoff + img->phnum * sizeof(Elf64_Phdr) > end ?
	      img->eh.e_phoff + img->phnum * sizeof(Elf64_Phdr) : end;
	if (img->shnum && img->eh.e_shoff + img->shnum * sizeof(Elf64_Shdr) > end)
		end = img->eh.e_shoff + img->shnum * sizeof(Elf64_Shdr);
	/* Headers of types nothing reads may point anywhere: they describe no bytes. */
	for (i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_filesz && range_ok(img->phdrs[i].p_offset, img->phdrs[i].p_filesz, img->size) &&
		    img->phdrs[i].p_offset + img->phdrs[i].p_filesz > end)
			end = img->phdrs[i].p_offset + img->phdrs[i].p_filesz;
	for (i = 1; i < img->shnum; i++) {
		const GElf_Shdr *sh = &img->secs[i].sh;

		if (sh->sh_type != SHT_NOBITS && sh->sh_offset + sh->sh_size > end)
			end = sh->sh_offset + sh->sh_size;
	}
	img->elf_end = end;
	img->overlay_off = end;
	img->overlay_size = img->size - end;
}

static int read_interp(struct image *img)
{
	size_t i;

	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type == PT_DYNAMIC)
			img->dynamic = true;
		if (ph->p_type != PT_INTERP)
			continue;
		if (!ph->p_filesz || img->data[ph->p_offset + ph->p_filesz - 1])
			return pr_err(img->path, "interpreter name is not NUL-terminated");
		img->interp = (const char *)img->data + ph->p_offset;
	}
	return 0;
}

static int classify(struct image *img)
{
	if (img->eh.e_type == ET_EXEC)
		return 0;
	/* ET_DYN: a PIE has DF_1_PIE, or an interpreter and no DT_SONAME; a
	 * library (even an executable one such as libc.so.6) has a soname. */
	bool soname = false, pie_flag = false;

	for (size_t i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		uint64_t n, j;

		if (s->sh.sh_type != SHT_DYNAMIC)
			continue;
		n = s->sh.sh_size / sizeof(Elf64_Dyn);
		for (j = 0; j < n && s->sh.sh_offset % 8 == 0; j++) {
			const Elf64_Dyn *d = (const Elf64_Dyn *)(img->data + s->sh.sh_offset) + j;

			if (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_PIE))
				pie_flag = true;
			if (d->d_tag == DT_SONAME)
				soname = true;
		}
	}
	if (pie_flag || (img->interp && !soname)) {
		img->pie = true;
		return 0;
	}
	return pr_err(img->path, "is a shared library, not an executable");
}

/* The ELF, program and section headers, checked: enough to copy the
 * loaded bytes. */
static int init_headers(struct image *img)
{
	int err;

	if (check_ident(img->path, img->data, img->size))
		return -1;
	if (!gelf_getehdr(img->elf, &img->eh))
		return pr_err(img->path, "cannot read ELF header: %s", elf_errmsg(-1));
	img->symtab_idx = img->dynsym_idx = -1;
	err = check_ehdr(img);
	err = err ?: read_phdrs(img);
	err = err ?: read_shdrs(img);
	if (err)
		return err;
	find_overlay(img);
	err = err ?: read_interp(img);
	err = err ?: classify(img);
	return err;
}

int image_load(struct image *img)
{
	int err = 0;

	err = err ?: image_load_symbols(img);
	err = err ?: image_load_dynamic(img);
	if (!img->opts.light && !img->opts.defer_dwarf)
		err = err ?: image_load_dwarf(img);
	if (!img->opts.light) {
		err = err ?: image_build_pieces(img);
		err = err ?: image_find_hooks(img);
	}
	return err;
}

static int image_init(struct image *img)
{
	return init_headers(img) ?: image_load(img);
}

static int begin(struct image *img)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return pr_err(NULL, "libelf is too old: %s", elf_errmsg(-1));
	if (img->fd >= 0)
		img->elf = elf_begin(img->fd, ELF_C_READ_MMAP, NULL);
	else
		img->elf = elf_memory((char *)img->data, img->size);
	if (!img->elf)
		return pr_err(img->path, "cannot read: %s", elf_errmsg(-1));
	if (elf_kind(img->elf) != ELF_K_ELF)
		return pr_err(img->path, elf_kind(img->elf) == ELF_K_AR ? "is an archive, not an executable" :
			      "not an ELF file");
	if (img->fd >= 0) {
		size_t sz;

		img->data = (const unsigned char *)elf_rawfile(img->elf, &sz);
		if (!img->data)
			return pr_err(img->path, "cannot map: %s", elf_errmsg(-1));
		img->size = sz;
	}
	return 0;
}

static int open_file(struct image **out, const char *path, bool all, const struct image_opts *opts)
{
	struct image *img;
	struct stat st;

	*out = NULL;
	img = zalloc(sizeof(*img));
	if (!img)
		return -1;
	if (opts)
		img->opts = *opts;
	img->fd = -1;
	img->path = xstrdup(path);
	if (!img->path)
		goto err;
	img->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		pr_err(path, "%s", strerror(errno));
		goto err;
	}
	if (fstat(img->fd, &st)) {
		pr_err(path, "%s", strerror(errno));
		goto err;
	}
	if (S_ISDIR(st.st_mode)) {
		pr_err(path, "is a directory");
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err(path, "not a regular file");
		goto err;
	}
	if (st.st_size < EI_NIDENT) {
		pr_err(path, st.st_size ? "not an ELF file (too short)" : "empty file");
		goto err;
	}
	if (begin(img) || (all ? image_init(img) : init_headers(img)))
		goto err;
	*out = img;
	return 0;
err:
	image_free(img);
	return -1;
}

int image_open(struct image **out, const char *path, const struct image_opts *opts)
{
	return open_file(out, path, true, opts);
}

int image_open_headers(struct image **out, const char *path, const struct image_opts *opts)
{
	return open_file(out, path, false, opts);
}

int image_open_mem(struct image **out, const char *path, void *buf, uint64_t size, const struct image_opts *opts)
{
	struct image *img;

	*out = NULL;
	img = zalloc(sizeof(*img));
	if (!img) {
		free(buf);
		return -1;
	}
	img->fd = -1;
	if (opts)
		img->opts = *opts;
	img->owned = buf;
	img->data = buf;
	img->size = size;
	img->path = xstrdup(path);
	if (!img->path || begin(img) || image_init(img)) {
		image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

void image_free(struct image *img)
{
	size_t i;

	if (!img)
		return;
	dwarf_info_free(img->dwarf);
	for (i = 0; i < img->pieces.n; i++)
		free(img->pieces.v[i].name);
	VEC_FREE(&img->pieces);
	VEC_FREE(&img->syms);
	strmap_free(img->byname);
	strmap_free(img->interest);
	free(img->secs);
	free(img->phdrs);
	if (img->elf)
		elf_end(img->elf);
	if (img->fd >= 0)
		close(img->fd);
	free(img->owned);
	free(img->path);
	free((void *)img->frozen_from);
	free(img);
}

const struct piece *image_piece_at(const struct image *img, uint64_t addr)
{
	size_t lo = 0, hi = img->pieces.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct piece *pc = &img->pieces.v[mid];

		if (addr < pc->addr)
			hi = mid;
		else if (addr >= pc->addr + pc->size)
			lo = mid + 1;
		else
			return pc;
	}
	return NULL;
}

const struct symbol *image_symbol(const struct image *img, const char *name)
{
	uintptr_t i = img->byname ? (uintptr_t)strmap_get(img->byname, name) : 0;

	return i ? &img->syms.v[i - 1] : NULL;
}

int image_addr_name(const struct image *img, uint64_t addr, char *buf, size_t len)
{
	const struct symbol *best = NULL;
	size_t i;

	/* Linear: used for messages only. */
	for (i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];

		if (s->shndx == SHN_ABS || s->type == STT_TLS || addr < s->addr)
			continue;
		if (addr >= s->addr + (s->size ? s->size : 1))
			continue;
		if (!best || s->addr > best->addr || (s->addr == best->addr && s->bind != STB_LOCAL))
			best = s;
	}
	{
		const char *name = best ? best->name : NULL;
		uint64_t start = best ? best->addr : 0, rstart;
		const char *raw = img->interest ? image_raw_symbol_at(img, addr, &rstart) : NULL;

		/* Loaded filtered (image_want): the tables may know better. */
		if (raw && (!name || rstart > start))
			name = raw, start = rstart;
		if (!name)
			return snprintf(buf, len, "0x%llx", (unsigned long long)addr) < 0 ? -1 : 0;
		if (addr == start)
			snprintf(buf, len, "%s", name);
		else
			snprintf(buf, len, "%s+0x%llx", name, (unsigned long long)(addr - start));
	}
	return 0;
}

int image_copy_to(const struct image *img, int fd, uint64_t off, uint64_t len)
{
	return img->fd >= 0 ? copy_range(img->fd, off, fd, off, len) : write_all(fd, img->data + off, len, off);
}

bool image_vaddr_to_off(const struct image *img, uint64_t addr, uint64_t size, uint64_t *off)
{
	size_t i;

	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type != PT_LOAD || addr < ph->p_vaddr)
			continue;
		if (addr - ph->p_vaddr > ph->p_filesz || size > ph->p_filesz - (addr - ph->p_vaddr))
			continue;
		*off = ph->p_offset + (addr - ph->p_vaddr);
		return true;
	}
	return false;
}

bool image_off_to_vaddr(const struct image *img, uint64_t off, uint64_t size, uint64_t *va)
{
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type != PT_LOAD || off < ph->p_offset || size > ph->p_filesz ||
		    off - ph->p_offset > ph->p_filesz - size)
			continue;
		*va = ph->p_vaddr + (off - ph->p_offset);
		return true;
	}
	return false;
}

const char *image_kind(const struct image *img)
{
	if (img->pie)
		return img->interp ? "PIE executable" : "static-pie executable";
	return img->interp ? "dynamic executable" : "static executable";
}

bool image_gnu_features(const struct image *img, uint32_t *bits, uint64_t *addr)
{
	for (size_t i = 0; img->arch->feature_and && i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		uint64_t off;
		size_t at;

		if (ph->p_type != PT_GNU_PROPERTY || !image_vaddr_to_off(img, ph->p_vaddr, ph->p_filesz, &off))
			continue;
		if (arch_gnu_property(img->data + off, ph->p_filesz, img->arch->feature_and, bits, &at)) {
			*addr = ph->p_vaddr + at;
			return true;
		}
	}
	return false;
}

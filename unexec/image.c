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

/* What the image model needs of the segments beyond the view's checks:
 * alignments that mean something, and the loaded extent. */
static int read_phdrs(struct image *img)
{
	const char *p = img->path;
	bool first = true;
	size_t i;

	img->phdrs = img->view.ph;
	img->phnum = img->view.phnum;
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

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
		if (first)
			img->delta_first = ph->p_vaddr - ph->p_offset;
		first = false;
		if (ph->p_vaddr + ph->p_memsz > img->vaddr_end)
			img->vaddr_end = ph->p_vaddr + ph->p_memsz;
		if (ph->p_align > img->page_size)
			img->page_size = ph->p_align;
		if (ph->p_offset + ph->p_filesz > img->loaded_end)
			img->loaded_end = ph->p_offset + ph->p_filesz;
	}
	if (img->page_size < img->arch->page_size)
		img->page_size = img->arch->page_size;
	if (img->page_size > img->arch->max_page_size)
		img->page_size = img->arch->max_page_size;
	return 0;
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

/* What the image model needs of the sections beyond the view's checks:
 * alignments, whole entries (libelf refuses to write a partial one), and
 * one story about every loaded byte. */
static int read_shdrs(struct image *img)
{
	const char *p = img->path;
	size_t i;

	img->shnum = img->view.shnum;
	img->shstrndx = img->view.shstrndx;
	if (!img->shnum)
		return 0;
	img->secs = zalloc(img->shnum * sizeof(*img->secs));
	if (!img->secs)
		return -1;
	for (i = 0; i < img->shnum; i++) {
		struct section *s = &img->secs[i];

		s->sh = img->view.sh[i];
		s->index = i;
		s->name = elfview_sec_name(&img->view, i);
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

	img->symtab_idx = img->dynsym_idx = -1;
	if (elfview_init(&img->view, img->path, img->data, img->size, ELFVIEW_PROGRAM))
		return -1;
	img->eh = img->view.eh;
	img->arch = img->view.arch;
	err = read_phdrs(img);
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
		return pr_elf(NULL, "libelf is too old");
	if (img->fd >= 0)
		img->elf = elf_begin(img->fd, ELF_C_READ_MMAP, NULL);
	else
		img->elf = elf_memory((char *)img->data, img->size);
	if (!img->elf)
		return pr_elf(img->path, "cannot read");
	if (elf_kind(img->elf) != ELF_K_ELF)
		return pr_err(img->path, elf_kind(img->elf) == ELF_K_AR ? "is an archive, not an executable" :
			      "not an ELF file");
	if (img->fd >= 0) {
		size_t sz;

		img->data = (const unsigned char *)elf_rawfile(img->elf, &sz);
		if (!img->data)
			return pr_elf(img->path, "cannot map");
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

static int open_mem(struct image **out, const char *path, void *buf, uint64_t size, bool all,
		    const struct image_opts *opts)
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
	if (!img->path || begin(img) || (all ? image_init(img) : init_headers(img))) {
		image_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

int image_open_mem(struct image **out, const char *path, void *buf, uint64_t size, const struct image_opts *opts)
{
	return open_mem(out, path, buf, size, true, opts);
}

int image_open_mem_headers(struct image **out, const char *path, void *buf, uint64_t size,
			   const struct image_opts *opts)
{
	return open_mem(out, path, buf, size, false, opts);
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
	elfview_free(&img->view);
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
	return elfview_vaddr_to_off(&img->view, addr, size, off);
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

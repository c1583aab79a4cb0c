/* Reading an object written by `surgeon unexec` back into the image it froze:
 * the chunk table says where each byte of the original file is stored. */
#include "unexec/unexec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rebuild(const char *path, const struct image_opts *opts, Elf *elf, const unsigned char *raw, size_t rawsize,
		   const unsigned char *meta, size_t metasize, struct image **out)
{
	struct frozen_head h;
	const struct frozen_chunk *chunks;
	unsigned char *buf = NULL;
	uint64_t pos = 0;
	size_t shnum, i;
	char *orig;

	if (metasize < sizeof(h))
		return pr_err(path, "section '%s' is truncated", FROZEN_SECTION);
	memcpy(&h, meta, sizeof(h));
	if (memcmp(h.magic, FROZEN_MAGIC, 8) || h.version != 1)
		return pr_err(path, "section '%s' is not from this version of surgeon", FROZEN_SECTION);
	if (h.nchunks > (metasize - sizeof(h)) / sizeof(struct frozen_chunk) ||
	    h.path_len >= metasize - sizeof(h) - (size_t)h.nchunks * sizeof(struct frozen_chunk))
		return pr_err(path, "section '%s' is truncated", FROZEN_SECTION);
	chunks = (const struct frozen_chunk *)(meta + sizeof(h));
	orig = strndup((const char *)(meta + sizeof(h) + h.nchunks * sizeof(*chunks)), h.path_len);
	if (!orig)
		return pr_err(path, "out of memory");

	if (h.flags & FROZEN_THIN) {
		struct image *img;
		int err;

		if (access(orig, R_OK)) {
			err = pr_err(path, "is a thin object and its original '%s' cannot be read: %s", orig,
				     strerror(errno));
			free(orig);
			return err;
		}
		err = image_open(&img, orig, opts);

		if (!err && img->size != h.file_size) {
			err = pr_err(path, "is a thin object and its original %s has changed", orig);
			image_free(img);
		}
		free(orig);
		if (!err)
			*out = img;
		return err;
	}
	/* Every byte of the original is stored at least once, so a genuine
	 * object is never smaller than the file it froze. */
	if (h.file_size > rawsize || !h.file_size) {
		free(orig);
		return pr_err(path, "section '%s' claims an original of %llu bytes", FROZEN_SECTION,
			      (unsigned long long)h.file_size);
	}
	if (elf_getshdrnum(elf, &shnum)) {
		free(orig);
		return pr_elf(path, "cannot read section headers");
	}
	buf = malloc(h.file_size);
	if (!buf) {
		free(orig);
		return pr_err(path, "out of memory");
	}
	for (i = 0; i < h.nchunks; i++) {
		const struct frozen_chunk *c = &chunks[i];
		Elf_Scn *scn = c->shndx < shnum ? elf_getscn(elf, c->shndx) : NULL;
		GElf_Shdr sh;

		if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    !range_ok(sh.sh_offset, sh.sh_size, rawsize) || !range_ok(c->sec_off, c->size, sh.sh_size) ||
		    c->file_off != pos || !range_ok(c->file_off, c->size, h.file_size)) {
			free(buf);
			free(orig);
			return pr_err(path, "section '%s': chunk %zu is inconsistent with the object", FROZEN_SECTION, i);
		}
		memcpy(buf + pos, raw + sh.sh_offset + c->sec_off, c->size);
		pos += c->size;
	}
	if (pos != h.file_size) {
		free(buf);
		free(orig);
		return pr_err(path, "section '%s' does not cover the whole original", FROZEN_SECTION);
	}
	/* Messages about the rebuilt image name the object the user gave. */
	if (image_open_mem(out, path, buf, h.file_size, opts)) {
		free(orig);
		return -1;
	}
	(*out)->frozen_from = orig;
	return 0;
}

int image_open_frozen(struct image **out, const char *path, const struct image_opts *opts)
{
	const unsigned char *raw;
	size_t rawsize, shstrndx;
	Elf_Scn *scn = NULL;
	struct stat st;
	Elf *elf = NULL;
	GElf_Ehdr eh;
	int fd, err = -1;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_err(path, "%s", strerror(errno));
	if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
		pr_err(path, S_ISDIR(st.st_mode) ? "is a directory" : "%s", strerror(errno));
		goto out;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		pr_err(path, "not an ELF file");
		goto out;
	}
	raw = (const unsigned char *)elf_rawfile(elf, &rawsize);
	if (!raw || !gelf_getehdr(elf, &eh)) {
		pr_elf(path, "cannot read");
		goto out;
	}
	if (eh.e_type != ET_REL || elf_getshdrstrndx(elf, &shstrndx)) {
		pr_err(path, "not an object written by surgeon unexec");
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (strcmp(name, FROZEN_SECTION) || sh.sh_type != SHT_PROGBITS)
			continue;
		if (!range_ok(sh.sh_offset, sh.sh_size, rawsize)) {
			pr_err(path, "section '%s' lies outside the file", FROZEN_SECTION);
			goto out;
		}
		err = rebuild(path, opts, elf, raw, rawsize, raw + sh.sh_offset, sh.sh_size, out);
		goto out;
	}
	pr_err(path, "is a relocatable object, but not one written by surgeon unexec (no '%s' section)",
	       FROZEN_SECTION);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return err;
}

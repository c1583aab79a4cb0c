/* Writing the image as a relocatable object pinned at its addresses, and the
 * GNU ld script that keeps it there while new code is linked after it. */
#ifndef SURGEON_UNEXEC_H
#define SURGEON_UNEXEC_H

#include "unexec/image.h"

/* Layout of FROZEN_SECTION: how to rebuild the original file from the object. */
#define FROZEN_MAGIC "SURGEON1"
enum { FROZEN_THIN = 1 };

struct frozen_head {
	char magic[8];
	uint32_t version;
	uint32_t flags;
	uint64_t file_size;	/* size of the original file */
	uint32_t nchunks;
	uint32_t path_len;	/* the original's path follows the chunks */
};

/* Bytes [file_off, file_off+size) of the original are in section `shndx`
 * of the object, at `sec_off`. */
struct frozen_chunk {
	uint64_t file_off, size;
	uint32_t shndx, pad;
	uint64_t sec_off;
};

/* A thin object has no bytes in its pinned sections (they are NOBITS): the
 * linker needs only their addresses, and relink takes the bytes from the
 * original file. add-lib uses it to avoid copying the program twice. */
struct freeze_opts {
	bool thin;		/* no bytes in the pinned sections (add-lib) */
	bool weak_exports;	/* --allow-interpose: the program's exports yield to new definitions */
};
int unexec_write_object(const struct image *img, const char *path, const struct freeze_opts *fo);
int unexec_write_script(const struct image *img, const char *path);
/* The same with tls_pad bytes at the end of the new .tbss, for linkers that
 * place TLS sections one after another (relink/tls.c). */
int unexec_write_script_tls(const struct image *img, const char *path, uint64_t tls_pad);
/* The program's PT_TLS with a nonzero size, or NULL. */
const GElf_Phdr *unexec_tls_segment(const struct image *img);
/* First address the new code may use. */
uint64_t unexec_new_base(const struct image *img);
/* Is this a name the linker defines itself, or one surgeon reserves? */
bool unexec_reserved_name(const char *name);
/* Is this a DWARF section the frozen object carries and ld merges? */
bool unexec_debug_section(const char *name);

#endif

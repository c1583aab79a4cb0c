/* Proving a surgery: the comparison behind relink's last step and
 * `surgeon verify`. verify_fd (relink.h) is the short form. */
#ifndef SURGEON_VERIFY_H
#define SURGEON_VERIFY_H

#include "relink/relink.h"

/* A run of changed bytes no edit explains. */
struct verify_range {
	uint64_t addr, size;
};

struct verify_detail {
	VEC(struct verify_range) bad;	/* the first VERIFY_MAX_RANGES, by address */
	uint64_t nbad;			/* how many there are in all */
	uint64_t bad_bytes;
	uint64_t *edit_bytes;		/* per edit: how many changed bytes it explains */
	uint64_t segments;		/* old PT_LOADs compared */
};

#define VERIFY_MAX_RANGES 10000

/* Compares every byte of orig's PT_LOADs (file bytes, then zeros to p_memsz)
 * with what the file `fd` loads at the same address, both read in chunks.
 * Fails (an error) only when the new file cannot be read or does not load
 * an old address at all; changed bytes go to r and, when given, d. */
int verify_detail(const struct image *orig, int fd, const char *path, const edit_vec *edits,
		  struct verify_report *r, struct verify_detail *d);
/* The same between two files, reading only their program headers: ORIG is
 * not opened as an image, so a large program costs what reading it costs. */
int verify_files(int ofd, const char *opath, int fd, const char *path, const edit_vec *edits,
		 struct verify_report *r, struct verify_detail *d);
void verify_detail_free(struct verify_detail *d);

#endif

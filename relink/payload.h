/* Appended payloads: data after everything an executable's headers describe
 * (the image's overlay). Some formats find their payload through a trailer
 * that records its absolute file offset (SBCL's `save-lisp-and-die
 * :executable t`); surgery puts new segments before the payload, so a
 * recognised payload moves to an offset its format accepts and its trailer
 * is rewritten. An unrecognised one is copied byte for byte to the end. */
#ifndef SURGEON_PAYLOAD_H
#define SURGEON_PAYLOAD_H

#include "unexec/image.h"

/* SBCL's core magic "LCBS" as a little-endian lispobj, and its trailer:
 * the core's file offset (LE 64-bit), then the magic word. */
#define SBCL_CORE_MAGIC "LCBS\0\0\0\0"
#define SBCL_TRAILER_SIZE 16

enum payload_kind {
	PAYLOAD_NONE,		/* no overlay */
	PAYLOAD_UNKNOWN,	/* kept byte-identical at the end */
	PAYLOAD_SBCL,		/* an SBCL core with its trailer */
};

struct payload {
	enum payload_kind kind;
	uint64_t off, size;	/* what moves as a whole, in the input */
	/* Where it goes: the new offset plus anchor must be a multiple of align. */
	uint64_t align, anchor;
	/* SBCL: the trailer's offset and the core's (as the trailer says) in the input. */
	uint64_t trailer_off, core_off;
	char why[160];		/* PAYLOAD_UNKNOWN with a near miss: why it is not recognised */
};

/* Classifies img's overlay. Never fails: what is not recognised is PAYLOAD_UNKNOWN. */
void payload_find(const struct image *img, struct payload *p);
/* A short name of the format: "SBCL core", "unrecognised", "none". */
const char *payload_format(const struct payload *p);
/* The offset in the output where the payload goes, the first suitable one at or after end. */
uint64_t payload_place(const struct payload *p, uint64_t end);
struct surgery_record;
/* Describes a payload whose trailer the surgery rewrites in rec (the note). */
void payload_note(const struct payload *p, struct surgery_record *rec);
/* Copies the payload of img to new_off in fd and rewrites its trailer. */
int payload_write(const struct image *img, const struct payload *p, int fd, uint64_t new_off, const char *path);

#endif

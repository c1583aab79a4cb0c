/* Appended payloads: data after everything an executable's headers describe
 * (the image's overlay). Some formats find their payload through a trailer
 * that records its absolute file offset (SBCL's `save-lisp-and-die
 * :executable t`, CLISP's `saveinitmem :executable t`); surgery puts new segments before the payload, so a
 * recognised payload moves to an offset its format accepts and its trailer
 * is rewritten. An unrecognised one is copied byte for byte to the end. */
#ifndef SURGEON_PAYLOAD_H
#define SURGEON_PAYLOAD_H

#include "unexec/image.h"

/* SBCL's core magic "LCBS" as a little-endian lispobj, and its trailer:
 * the core's file offset (LE 64-bit), then the magic word. */
#define SBCL_CORE_MAGIC "LCBS\0\0\0\0"
#define SBCL_TRAILER_SIZE 16
/* CLISP's memory image starts with memdump_magic (0x70768BD2, 32-bit
 * little-endian); its executable ends with the image's offset as a size_t. */
#define CLISP_MEM_MAGIC "\xd2\x8b\x76\x70"
#define CLISP_TRAILER_SIZE 8
/* CLISP aligns the image's pages to offsets in the whole file, and maps
 * them from it: the image moves by a multiple of the largest page of
 * either machine, so every such alignment holds. */
#define CLISP_MOVE_ALIGN 0x10000

enum payload_kind {
	PAYLOAD_NONE,		/* no overlay */
	PAYLOAD_UNKNOWN,	/* kept byte-identical at the end */
	PAYLOAD_SBCL,		/* an SBCL core with its trailer */
	PAYLOAD_CLISP,		/* a CLISP memory image with its trailer */
};

struct payload {
	enum payload_kind kind;
	uint64_t off, size;	/* what moves as a whole, in the input */
	/* Where it goes: the new offset plus anchor must be a multiple of align. */
	uint64_t align, anchor;
	/* SBCL, CLISP: the trailer's offset and the core's (the memory
	 * image's, for CLISP: as the trailer says) in the input. */
	uint64_t trailer_off, core_off;
	char why[160];		/* PAYLOAD_UNKNOWN with a near miss: why it is not recognised */
};

/* Whether the payload has a trailer that names its offset. */
#define PAYLOAD_HAS_TRAILER(p) ((p)->kind == PAYLOAD_SBCL || (p)->kind == PAYLOAD_CLISP)

/* Classifies img's overlay. Never fails: what is not recognised is PAYLOAD_UNKNOWN. */
void payload_find(const struct image *img, struct payload *p);
/* A short name of the format: "SBCL core", "CLISP memory image", "unrecognised", "none". */
const char *payload_format(const struct payload *p);
/* The offset in the output where the payload goes, the first suitable one at or after end. */
uint64_t payload_place(const struct payload *p, uint64_t end);
struct surgery_record;
/* Describes a payload whose trailer the surgery rewrites in rec (the note). */
void payload_note(const struct payload *p, struct surgery_record *rec);
/* Copies the payload of img to new_off in fd and rewrites its trailer. */
int payload_write(const struct image *img, const struct payload *p, int fd, uint64_t new_off, const char *path);

#endif

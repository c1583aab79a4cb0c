/* Appended payloads: recognising them, placing them after the new segments,
 * rewriting the trailer that says where they are. */
#include "relink/payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "relink/note.h"

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = v & 0xff;
}

static bool all_zero(const unsigned char *p, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* SBCL's executable layout: runtime, zero padding, the core (starting with
 * the magic), and a trailer at the very end naming the core's offset. The
 * runtime reads the trailer from the end of its own file and maps the core
 * from that offset; the core's own page offsets are relative to its start. */
static bool find_sbcl(const struct image *img, struct payload *p)
{
	const unsigned char *d = img->data;
	uint64_t toff, core;

	if (img->overlay_size < SBCL_TRAILER_SIZE)
		return false;
	toff = img->size - SBCL_TRAILER_SIZE;
	if (memcmp(d + toff + 8, SBCL_CORE_MAGIC, 8))
		return false;
	core = le64(d + toff);
	if (core < img->overlay_off || core > toff || toff - core < 8) {
		snprintf(p->why, sizeof(p->why),
			 "an SBCL trailer at 0x%" PRIx64 " names the core offset 0x%" PRIx64
			 ", outside the appended data (0x%" PRIx64 "-0x%" PRIx64 ")",
			 toff, core, img->overlay_off, toff);
		return false;
	}
	if (memcmp(d + core, SBCL_CORE_MAGIC, 8)) {
		snprintf(p->why, sizeof(p->why),
			 "an SBCL trailer at 0x%" PRIx64 " names the core offset 0x%" PRIx64
			 ", which does not start with the core magic", toff, core);
		return false;
	}
	p->kind = PAYLOAD_SBCL;
	p->trailer_off = toff;
	p->core_off = core;
	/* SBCL maps the core's pages from the file: the core stays aligned
	 * to SBCL's page, which differs between machines. */
	p->align = img->arch->sbcl_page;
	/* The zeros before the core are SBCL's padding: new padding replaces
	 * them. Anything else there moves with the core, at the same distance. */
	if (all_zero(d + img->overlay_off, core - img->overlay_off)) {
		p->off = core;
		p->anchor = 0;
	} else {
		p->off = img->overlay_off;
		p->anchor = core - img->overlay_off;
	}
	p->size = img->size - p->off;
	return true;
}

/* CLISP's executable image: the runtime's file as it was, the memory image
 * (starting with its header's magic), and the image's offset as the file's
 * last 8 bytes. The runtime seeks to that offset in its own file, checks
 * the header there, and reads or maps the image from it. */
static bool find_clisp(const struct image *img, struct payload *p)
{
	const unsigned char *d = img->data;
	uint64_t toff, mem;

	if (img->overlay_size < CLISP_TRAILER_SIZE + 4)
		return false;
	toff = img->size - CLISP_TRAILER_SIZE;
	mem = le64(d + toff);
	if (mem < img->overlay_off || mem > toff - 4 || memcmp(d + mem, CLISP_MEM_MAGIC, 4))
		return false;
	p->kind = PAYLOAD_CLISP;
	p->trailer_off = toff;
	p->core_off = mem;
	p->off = img->overlay_off;
	p->size = img->overlay_size;
	p->align = CLISP_MOVE_ALIGN;
	p->anchor = (CLISP_MOVE_ALIGN - p->off % CLISP_MOVE_ALIGN) % CLISP_MOVE_ALIGN;
	return true;
}

void payload_find(const struct image *img, struct payload *p)
{
	memset(p, 0, sizeof(*p));
	if (!img->overlay_size || !range_ok(img->overlay_off, img->overlay_size, img->size))
		return;
	if (find_sbcl(img, p) || find_clisp(img, p))
		return;
	p->kind = PAYLOAD_UNKNOWN;
	p->off = img->overlay_off;
	p->size = img->overlay_size;
	p->align = 1;
}

const char *payload_format(const struct payload *p)
{
	switch (p->kind) {
	case PAYLOAD_SBCL: return "SBCL core";
	case PAYLOAD_CLISP: return "CLISP memory image";
	case PAYLOAD_UNKNOWN: return "unrecognised";
	default: return "none";
	}
}

uint64_t payload_place(const struct payload *p, uint64_t end)
{
	if (p->kind == PAYLOAD_NONE)
		return end;
	return align_up(end + p->anchor, p->align) - p->anchor;
}

void payload_note(const struct payload *p, struct surgery_record *rec)
{
	if (!PAYLOAD_HAS_TRAILER(p))
		return;		/* copied unchanged: nothing to record */
	rec->payload = p->kind == PAYLOAD_SBCL ? "SBCL core: its trailer names the new offset" :
		       "CLISP memory image: its trailer names the new offset";
	rec->payload_off = p->off;
	rec->payload_size = p->size;
}

int payload_write(const struct image *img, const struct payload *p, int fd, uint64_t new_off, const char *path)
{
	int r;

	if (p->kind == PAYLOAD_NONE)
		return 0;
	r = img->fd >= 0 ? copy_range(img->fd, p->off, fd, new_off, p->size) :
	    write_all(fd, img->data + p->off, p->size, new_off);
	if (r)
		return pr_err(path, "cannot copy the data appended to %s: %m", img->path);
	if (p->kind == PAYLOAD_UNKNOWN) {
		pr_warn(img->path, "%" PRIu64 " bytes appended after the ELF data (at 0x%" PRIx64 ") are kept unchanged "
			"at 0x%" PRIx64 "; offsets inside them were not checked%s%s", p->size, p->off, new_off,
			p->why[0] ? ": " : "", p->why);
		return 0;
	}
	if (PAYLOAD_HAS_TRAILER(p)) {
		uint64_t core = new_off + (p->core_off - p->off), toff = new_off + (p->trailer_off - p->off);
		unsigned char b[8];

		put_le64(b, core);
		if (write_all(fd, b, 8, toff))
			return pr_err(path, "cannot write the %s trailer: %m", p->kind == PAYLOAD_SBCL ? "SBCL" : "CLISP");
		pr_info("payload: %s (%" PRIu64 " bytes) moved from 0x%" PRIx64 " to 0x%" PRIx64
			"; its trailer at 0x%" PRIx64 " now names 0x%" PRIx64 " (was 0x%" PRIx64 ")",
			payload_format(p), p->size, p->off, new_off, toff, core, p->core_off);
	}
	return 0;
}

/* Proving a surgery: every byte of every old loadable segment is at the same
 * address in the new file, except the edits the surgery recorded. The loaded
 * images are compared through both files' program headers, in chunks read
 * with pread from both files, so a large program is never held in memory and
 * each byte is read once. */
#include "relink/verify.h"
#include "util/elfview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (256u << 10)

static const GElf_Phdr *load_at(const struct elfview *v, uint64_t addr)
{
	for (size_t i = 0; i < v->phnum; i++) {
		const GElf_Phdr *p = &v->ph[i];

		if (p->p_type == PT_LOAD && addr >= p->p_vaddr && addr - p->p_vaddr < p->p_memsz)
			return p;
	}
	return NULL;
}

/* Which edit covers addr, or -1. Edits are few: a linear search. */
static long edited(const edit_vec *edits, uint64_t addr)
{
	for (size_t i = 0; edits && i < edits->n; i++)
		if (addr >= edits->v[i].addr && addr - edits->v[i].addr < edits->v[i].size)
			return i;
	return -1;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

static int read_at(int fd, const char *path, unsigned char *buf, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t got = pread(fd, buf, len, off);

		if (got <= 0)
			return pr_err(path, "cannot read at offset 0x%llx: %s", (unsigned long long)off,
				      got < 0 ? strerror(errno) : "short file");
		buf += got, off += got, len -= got;
	}
	return 0;
}

/* A changed byte no edit explains: extend the last range or start one. */
static void note_bad(struct verify_report *r, struct verify_detail *d, uint64_t addr)
{
	if (!r->bad) {
		r->bad = true;
		r->first_bad = addr;
	}
	if (!d)
		return;
	d->bad_bytes++;
	if (d->bad.n && d->bad.v[d->bad.n - 1].addr + d->bad.v[d->bad.n - 1].size == addr) {
		d->bad.v[d->bad.n - 1].size++;
		return;
	}
	if (d->nbad++ < VERIFY_MAX_RANGES) {
		struct verify_range vr = { addr, 1 };

		if (VEC_PUSH(&d->bad, vr))
			d->nbad--;	/* out of memory: counted, not listed */
	}
}

static void diff_chunk(const unsigned char *ob, const unsigned char *nb, uint64_t a, uint64_t len,
		       const edit_vec *edits, struct verify_report *r, struct verify_detail *d)
{
	for (uint64_t k = 0; k < len; k++) {
		long e;

		if (ob[k] == nb[k])
			continue;
		r->differing++;
		e = edited(edits, a + k);
		if (e < 0)
			note_bad(r, d, a + k);
		else if (d && d->edit_bytes)
			d->edit_bytes[e]++;
	}
}

/* One side of the comparison: its PT_LOADs, and where its bytes are read. */
struct side {
	const GElf_Phdr *ph;
	size_t n;
	int fd;				/* read with pread when >= 0 */
	const unsigned char *data;	/* else from memory */
	const char *path;
	const struct image *img;	/* for names in messages, or NULL */
};

/* Compares the loaded images at addresses [lo, hi); the new file's bytes
 * are read from fd, where its view nv says. */
static int compare(const struct side *o, const struct elfview *nv, int fd, const edit_vec *edits,
		   struct verify_report *r, struct verify_detail *d, uint64_t lo, uint64_t hi)
{
	static const unsigned char zeros[CHUNK];
	unsigned char *obuf = malloc(CHUNK), *nbuf = malloc(CHUNK);
	const char *path = nv->name;
	size_t i;
	int err = -1;

	memset(r, 0, sizeof(*r));
	if (d) {
		memset(d, 0, sizeof(*d));
		if (edits && edits->n && !(d->edit_bytes = zalloc(edits->n * sizeof(*d->edit_bytes))))
			goto out;
	}
	if (!obuf || !nbuf) {
		pr_err(NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < o->n; i++) {
		const GElf_Phdr *op = &o->ph[i];
		uint64_t a = op->p_vaddr, end = op->p_vaddr + op->p_memsz;

		if (op->p_type != PT_LOAD)
			continue;
		if (a < lo)
			a = lo;
		if (end > hi)
			end = hi;
		if (d)
			d->segments++;
		while (a < end) {
			const GElf_Phdr *np = load_at(nv, a);
			uint64_t ofile = op->p_vaddr + op->p_filesz, nfile, lim, len;
			const unsigned char *ob, *nb;

			if (!np) {
				char where[128];

				if (o->img)
					image_addr_name(o->img, a, where, sizeof(where));
				else
					snprintf(where, sizeof(where), "in %s", o->path);
				err = pr_err(path, "address 0x%llx (%s) of the original is not loaded",
					     (unsigned long long)a, where);
				goto out;
			}
			nfile = np->p_vaddr + np->p_filesz;
			if (a >= ofile && a >= nfile) {
				/* Zero fill on both sides: equal without looking. */
				lim = end < np->p_vaddr + np->p_memsz ? end : np->p_vaddr + np->p_memsz;
				r->compared += lim - a;
				a = lim;
				continue;
			}
			lim = min3(end, np->p_vaddr + np->p_memsz, a + CHUNK);
			/* Stop at either side's end of file-backed bytes. */
			if (a < ofile && ofile < lim)
				lim = ofile;
			if (a < nfile && nfile < lim)
				lim = nfile;
			len = lim - a;
			ob = zeros;
			if (a < ofile) {
				uint64_t off = op->p_offset + (a - op->p_vaddr);

				/* Read from the file when there is one: a mapping would
				 * fault every page in a second time. */
				if (o->fd >= 0) {
					if (read_at(o->fd, o->path, obuf, len, off))
						goto out;
					ob = obuf;
				} else {
					ob = o->data + off;
				}
			}
			nb = zeros;
			if (a < nfile) {
				if (read_at(fd, path, nbuf, len, np->p_offset + (a - np->p_vaddr)))
					goto out;
				nb = nbuf;
			}
			r->compared += len;
			if (memcmp(ob, nb, len))
				diff_chunk(ob, nb, a, len, edits, r, d);
			a = lim;
		}
	}
	err = 0;
out:
	if (err && d)
		verify_detail_free(d);
	free(obuf);
	free(nbuf);
	return err;
}

int verify_detail(const struct image *orig, int fd, const char *path, const edit_vec *edits,
		  struct verify_report *r, struct verify_detail *d)
{
	struct side o = { orig->phdrs, orig->phnum, orig->fd, orig->data, orig->path, orig };
	struct elfview nv;
	int err = elfview_map(&nv, fd, path, ELFVIEW_PROGRAM) ?:
		  compare(&o, &nv, fd, edits, r, d, 0, UINT64_MAX);

	elfview_free(&nv);
	return err;
}

int verify_files(int ofd, const char *opath, int fd, const char *path, const edit_vec *edits,
		 struct verify_report *r, struct verify_detail *d)
{
	struct elfview ov, nv = { 0 };
	struct side o = { .fd = ofd, .path = opath };
	int err = elfview_map(&ov, ofd, opath, ELFVIEW_PROGRAM) ?: elfview_map(&nv, fd, path, ELFVIEW_PROGRAM);

	o.ph = ov.ph;
	o.n = ov.phnum;
	err = err ?: compare(&o, &nv, fd, edits, r, d, 0, UINT64_MAX);
	elfview_free(&ov);
	elfview_free(&nv);
	return err;
}

static int cmp_vaddr(const void *a, const void *b)
{
	const GElf_Phdr *x = *(const GElf_Phdr *const *)a, *y = *(const GElf_Phdr *const *)b;

	return x->p_vaddr < y->p_vaddr ? -1 : x->p_vaddr > y->p_vaddr;
}

/* The address that splits the original's file-backed loaded bytes in two
 * halves, or 0 (all to one side) when that cannot be worked out. */
static uint64_t halfway(const struct image *img)
{
	const GElf_Phdr **load = calloc(img->phnum + 1, sizeof(*load));
	uint64_t total = 0, seen = 0, mid = 0;
	size_t n = 0;

	if (!load)
		return 0;
	for (size_t i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_LOAD) {
			load[n++] = &img->phdrs[i];
			total += img->phdrs[i].p_filesz;
		}
	qsort(load, n, sizeof(*load), cmp_vaddr);
	for (size_t i = 0; i < n; i++) {
		if (seen + load[i]->p_filesz >= total / 2) {
			mid = load[i]->p_vaddr + (total / 2 - seen);
			break;
		}
		seen += load[i]->p_filesz;
	}
	free(load);
	return mid;
}

struct half {
	const struct side *o;
	const struct elfview *nv;
	int fd;
	const edit_vec *edits;
	struct verify_report r;
	uint64_t lo, hi;
};

static int compare_half(void *arg)
{
	struct half *h = arg;

	return compare(h->o, h->nv, h->fd, h->edits, &h->r, NULL, h->lo, h->hi);
}

/* Two halves on two cores: a 100 MB program is 200 MB to read. */
int verify_fd(const struct image *orig, int fd, const char *path, const edit_vec *edits,
	      struct verify_report *r)
{
	struct side o = { orig->phdrs, orig->phnum, orig->fd, orig->data, orig->path, orig };
	uint64_t mid = halfway(orig);
	struct elfview nv;
	struct half h = { &o, &nv, fd, edits, { 0 }, mid, UINT64_MAX };
	struct bgjob job;
	int err;

	if (elfview_map(&nv, fd, path, ELFVIEW_PROGRAM)) {
		elfview_free(&nv);
		return -1;
	}
	bg_start(&job, compare_half, &h);
	err = compare(&o, &nv, fd, edits, r, NULL, 0, mid);
	err |= bg_wait(&job);
	elfview_free(&nv);
	if (err)
		return -1;
	r->compared += h.r.compared;
	r->differing += h.r.differing;
	if (h.r.bad && !r->bad) {
		r->bad = true;
		r->first_bad = h.r.first_bad;
	}
	return 0;
}

void verify_detail_free(struct verify_detail *d)
{
	if (!d)
		return;
	VEC_FREE(&d->bad);
	free(d->edit_bytes);
	d->edit_bytes = NULL;
}

/* The record each injection leaves in the target: a small read-only
 * anonymous mapping that starts with a magic. It holds what a later,
 * separate surgeon run needs to describe and undo the injection: where its
 * code is, its constructor and destructor arrays, the edits with the bytes
 * they replaced, the inputs with their digests, the new code's symbols,
 * and how far the injection got (a surgeon killed halfway leaves a record
 * that eject can still clean up). The mapping is executable: its last
 * bytes hold the code through which surgeon runs system calls in the
 * target (live/remote.c), so that no byte of the program is borrowed for
 * it while a record exists to say so. */
#include "live/live.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define REC_MAX (16u << 20)

const char *rec_state_name(uint32_t s)
{
	static const char *const names[] = { "?", "reserved", "mapped", "loaded", "running constructors", "ready",
					     "patching", "active", "ejecting" };

	return s < sizeof(names) / sizeof(*names) ? names[s] : "?";
}

const char *rec_str(const struct record *r, uint32_t off)
{
	if (!r->strings || off >= r->h.strings_size || !memchr(r->strings + off, 0, r->h.strings_size - off))
		return "?";
	return r->strings + off;
}

int record_encode(struct record *r)
{
	struct rec_head *h = &r->h;
	size_t edits = h->nedits * sizeof(struct rec_edit), inputs = h->ninputs * sizeof(struct rec_input);
	size_t syms = h->nsyms * sizeof(struct rec_sym);
	size_t size = sizeof(*h) + edits + inputs + syms + h->strings_size;

	if (size > REC_MAX)
		return pr_err(NULL, "the injection's record would be too large (%zu bytes)", size);
	free(r->raw);
	r->raw = zalloc(size);
	if (!r->raw)
		return -1;
	memcpy(h->magic, REC_MAGIC, sizeof(h->magic));
	h->version = REC_VERSION;
	h->size = (uint32_t)size;
	h->edits_off = sizeof(*h);
	h->inputs_off = h->edits_off + edits;
	h->syms_off = h->inputs_off + inputs;
	h->strings_off = h->syms_off + syms;
	memcpy(r->raw, h, sizeof(*h));
	if (edits)
		memcpy(r->raw + h->edits_off, r->edits, edits);
	if (inputs)
		memcpy(r->raw + h->inputs_off, r->inputs, inputs);
	if (syms)
		memcpy(r->raw + h->syms_off, r->syms, syms);
	if (h->strings_size)
		memcpy(r->raw + h->strings_off, r->strings, h->strings_size);
	return 0;
}

static void record_free(struct record *r)
{
	free(r->edits);
	free(r->inputs);
	free(r->syms);
	free(r->strings);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

void records_free(record_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		record_free(&v->v[i]);
	VEC_FREE(v);
}

static void *copy_part(const struct record *r, uint32_t off, size_t size)
{
	void *p;

	if (!size)
		return NULL;
	p = malloc(size);
	if (p)
		memcpy(p, r->raw + off, size);
	return p;
}

/* A record read back: every table inside it, or it is not one. */
static int decode(struct record *r)
{
	const struct rec_head *h = &r->h;
	uint64_t e = (uint64_t)h->nedits * sizeof(struct rec_edit), in = (uint64_t)h->ninputs * sizeof(struct rec_input);
	uint64_t s = (uint64_t)h->nsyms * sizeof(struct rec_sym);

	if (h->version != REC_VERSION || !range_ok(h->edits_off, e, h->size) || !range_ok(h->inputs_off, in, h->size) ||
	    !range_ok(h->syms_off, s, h->size) || !range_ok(h->strings_off, h->strings_size, h->size) ||
	    h->region_end < h->region)
		return 1;
	for (uint32_t i = 0; i < h->nedits; i++) {
		struct rec_edit ed;

		memcpy(&ed, r->raw + h->edits_off + i * sizeof(ed), sizeof(ed));
		if (ed.size > EDIT_MAX)
			return 1;
	}
	r->edits = copy_part(r, h->edits_off, e);
	r->inputs = copy_part(r, h->inputs_off, in);
	r->syms = copy_part(r, h->syms_off, s);
	r->strings = copy_part(r, h->strings_off, h->strings_size);
	if ((e && !r->edits) || (in && !r->inputs) || (s && !r->syms) || (h->strings_size && !r->strings))
		return -1;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return x->h.id < y->h.id ? -1 : x->h.id > y->h.id;
}

/* The record at addr, if one starts there: 1 found, 0 not, -1 error. */
static int read_record(struct target *t, uint64_t addr, uint64_t room, record_vec *out)
{
	struct record r = { .addr = addr };
	int bad;

	if (mem_read(t, addr, &r.h, sizeof(r.h)) || memcmp(r.h.magic, REC_MAGIC, sizeof(r.h.magic)))
		return 0;
	if (r.h.size < sizeof(r.h) || r.h.size > room)
		goto damaged;
	r.map_size = rec_map_size(r.h.size);
	if (r.map_size > room)
		goto damaged;
	r.raw = malloc(r.h.size);
	if (!r.raw)
		return -1;
	if (mem_read(t, addr, r.raw, r.h.size)) {
		free(r.raw);
		return 0;
	}
	bad = decode(&r);
	if (bad < 0 || (!bad && VEC_PUSH(out, r))) {
		record_free(&r);
		return -1;
	}
	if (!bad)
		return 1;
	record_free(&r);
damaged:
	pr_warn(t->name, "a damaged injection record at 0x%llx is ignored", (unsigned long long)addr);
	return 0;
}

int records_find(struct target *t, record_vec *out)
{
	memset(out, 0, sizeof(*out));
	if (maps_read(t->pid, t->name, &t->maps))
		return -1;
	/* Candidates: private anonymous read-only mappings, page by page (the
	 * kernel merges neighbouring ones: two records mapped one after the
	 * other are one mapping); the magic decides. */
	for (size_t i = 0; i < t->maps.v.n; i++) {
		const struct mapping *m = &t->maps.v.v[i];

		if (m->shared || (m->prot != PROT_READ && m->prot != (PROT_READ | PROT_EXEC)) || m->inode || (m->path[0] && strncmp(m->path, "[anon:", 6)) ||
		    m->end - m->start > 4 * REC_MAX)
			continue;
		for (uint64_t a = m->start; a < m->end;) {
			size_t before = out->n;
			int r = read_record(t, a, m->end - a, out);

			if (r < 0)
				goto fail;
			a += r ? out->v[before].map_size : 4096;
		}
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_id);
	return 0;
fail:
	records_free(out);
	return -1;
}

uint64_t rec_map_size(uint32_t size)
{
	return align_up((uint64_t)size + REMOTE_CODE_MAX, 4096);
}

uint64_t rec_code_at(const struct record *r)
{
	return r->addr + r->map_size - REMOTE_CODE_MAX;
}

int record_set_state(struct target *t, struct record *r, uint32_t state)
{
	r->h.state = state;
	return mem_write(t, r->addr + offsetof(struct rec_head, state), &state, sizeof(state));
}

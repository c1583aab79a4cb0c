/* The new code's call frame information for debuggers. The output has two
 * allocated .eh_frame sections, the old program's and the linker's, and gdb
 * (like libdwarf) takes only one section of a name: whichever it keeps, the
 * other half of the program cannot be unwound. So the new code's CFI is
 * also written as .debug_frame entries, which gdb reads beside .eh_frame,
 * and the new section is named .surgeon.eh_frame in the output's table (the
 * loaded bytes are the same; nothing finds them by section name at run
 * time). In .debug_frame a CIE's id is 0xffffffff, an FDE points at its CIE
 * by section offset, and addresses are absolute: the FDEs are re-encoded
 * with 8-byte addresses and CIEs without augmentation. */
#include "relink/relink.h"

#include <string.h>

struct rd {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t rd_n(struct rd *r, size_t n)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t rd_uleb(struct rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (r->p < r->end) {
		unsigned char b = *r->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

/* A pointer in DW_EH_PE_* encoding; `at` is the address of the field. */
static uint64_t rd_enc(struct rd *r, unsigned enc, uint64_t at, bool range)
{
	uint64_t v;

	switch (enc & 0x0f) {
	case 0x00: case 0x04: case 0x0c: v = rd_n(r, 8); break;
	case 0x02: v = rd_n(r, 2); break;
	case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_n(r, 2); break;
	case 0x03: v = rd_n(r, 4); break;
	case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_n(r, 4); break;
	default: r->bad = true; return 0;
	}
	if (range)
		return v;
	switch (enc & 0x70) {
	case 0x00: return v;
	case 0x10: return v + at;	/* pcrel */
	default: r->bad = true; return 0;
	}
}

static int put(bytevec *o, const void *p, size_t n)
{
	while (o->n + n > o->cap)
		if (vec_grow((void **)&o->v, &o->cap, 1))
			return -1;
	memcpy(o->v + o->n, p, n);
	o->n += n;
	return 0;
}

static int put_uleb(bytevec *o, uint64_t v)
{
	do {
		unsigned char b = v & 0x7f;

		v >>= 7;
		if (v)
			b |= 0x80;
		if (put(o, &b, 1))
			return -1;
	} while (v);
	return 0;
}

/* Pads an entry that started at `start` to 8 bytes with DW_CFA_nop and
 * writes its length. */
static int finish(bytevec *o, size_t start)
{
	uint32_t len;

	while ((o->n - start) % 8)
		if (put(o, "", 1))
			return -1;
	len = o->n - start - 4;
	memcpy(o->v + start, &len, 4);
	return 0;
}

struct cie {
	size_t eh_off;
	uint64_t df_off;	/* in the output .debug_frame */
	unsigned fde_enc;
	bool z, ok;
};

int eh_to_debug_frame(const unsigned char *eh, size_t size, uint64_t eh_addr, bytevec *out)
{
	VEC(struct cie) cies = { 0 };
	size_t off = 0, nfde = 0;
	int err = -1;

	while (off + 4 <= size) {
		struct rd r = { eh + off, eh + size, false };
		uint32_t len = rd_n(&r, 4), id;
		size_t start = out->n, body = off + 4;
		const unsigned char *end;

		if (!len)
			break;	/* terminator */
		if (len == 0xffffffff || len > size - body)
			goto bad;
		end = eh + body + len;
		r.end = end;
		id = rd_n(&r, 4);
		if (!id) {
			struct cie c = { .eh_off = off, .df_off = out->n, .fde_enc = 0 };
			unsigned version = rd_n(&r, 1);
			const char *aug = (const char *)r.p;
			uint64_t calign, ralign;
			const unsigned char *ds, *de;

			if (!memchr(r.p, 0, end - r.p))
				goto bad;
			r.p += strlen(aug) + 1;
			calign = rd_uleb(&r);
			ds = r.p;	/* the data alignment factor, a sleb128 copied as it is */
			while (r.p < end && (*r.p++ & 0x80))
				;
			de = r.p;
			ralign = version == 1 ? rd_n(&r, 1) : rd_uleb(&r);
			c.ok = !r.bad && (version == 1 || version == 3);
			if (aug[0] == 'z') {
				uint64_t alen = rd_uleb(&r);
				struct rd a = { r.p, r.p, false };

				c.z = true;
				if (alen > (uint64_t)(end - r.p)) {
					c.ok = false;
					alen = 0;
				}
				a.end = r.p + alen;
				for (const char *q = aug + 1; c.ok && *q; q++) {
					if (*q == 'R') {
						c.fde_enc = rd_n(&a, 1);
					} else if (*q == 'P') {
						unsigned penc = rd_n(&a, 1);

						rd_enc(&a, penc & 0x0f, 0, true);
					} else if (*q == 'L') {
						rd_n(&a, 1);
					} else if (*q != 'S') {
						c.ok = false;	/* an augmentation we cannot skip */
					}
				}
				c.ok = c.ok && !a.bad;
				r.p += alen;
			} else if (aug[0]) {
				c.ok = false;
			}
			if (VEC_PUSH(&cies, c))
				goto out;
			if (!c.ok)
				goto next;
			/* length, CIE id, version 3, no augmentation */
			if (put(out, "\0\0\0\0\xff\xff\xff\xff\x03", 10) || put_uleb(out, calign) ||
			    put(out, ds, de - ds) || put_uleb(out, ralign) || put(out, r.p, end - r.p) ||
			    finish(out, start))
				goto out;
		} else {
			size_t cie_off = body - id, i;
			uint64_t pc, range;
			struct cie *c = NULL;

			if (id > body)
				goto bad;
			for (i = 0; i < cies.n; i++)
				if (cies.v[i].eh_off == cie_off)
					c = &cies.v[i];
			if (!c)
				goto bad;
			if (!c->ok)
				goto next;
			pc = rd_enc(&r, c->fde_enc, eh_addr + (r.p - eh), false);
			range = rd_enc(&r, c->fde_enc, 0, true);
			if (c->z) {
				uint64_t alen = rd_uleb(&r);

				if (alen > (uint64_t)(end - r.p))
					goto bad;
				r.p += alen;
			}
			if (r.bad)
				goto bad;
			{
				uint32_t cp = c->df_off;

				if (put(out, "\0\0\0\0", 4) || put(out, &cp, 4) || put(out, &pc, 8) ||
				    put(out, &range, 8) || put(out, r.p, end - r.p) || finish(out, start))
					goto out;
			}
			nfde++;
		}
next:
		off = body + len;
	}
	err = nfde ? 0 : 1;
	goto out;
bad:
	err = 1;
out:
	VEC_FREE(&cies);
	return err;
}

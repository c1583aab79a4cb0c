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
#include "relink/patch.h"	/* patching: --wrap's trampolines */

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

/* One CIE, as an FDE needs it. */
struct cie {
	size_t eh_off;
	uint64_t df_off;	/* in the output .debug_frame */
	unsigned fde_enc;
	bool z, ok;
	/* for .debug_frame: the fields after the augmentation string */
	uint64_t calign, ralign;
	const unsigned char *ds, *de, *insns, *end;
};

/* What a walk over .eh_frame calls: a CIE (parsed; ok when surgeon can
 * read its FDEs) and an FDE of a readable CIE, with its range and its
 * instructions [insns, end). */
struct eh_walker {
	bool skipped;	/* some FDE's CIE was unreadable: that FDE was left out */
	int (*cie)(struct eh_walker *w, struct cie *c);
	int (*fde)(struct eh_walker *w, const struct cie *c, uint64_t fde_addr, uint64_t pc, uint64_t range,
		   const unsigned char *insns, const unsigned char *end);
};

/* Walks the entries of an .eh_frame loaded at eh_addr. 0 when it could be
 * read to its end, 1 when some entry is malformed, -1 out of memory or
 * when a callback says so. */
static int eh_walk(const unsigned char *eh, size_t size, uint64_t eh_addr, struct eh_walker *w)
{
	VEC(struct cie) cies = { 0 };
	size_t off = 0;
	int err = -1;

	while (off + 4 <= size) {
		struct rd r = { eh + off, eh + size, false };
		uint32_t len = rd_n(&r, 4), id;
		size_t body = off + 4;
		const unsigned char *end;

		if (!len)
			break;	/* terminator */
		if (len == 0xffffffff || len > size - body)
			goto bad;
		end = eh + body + len;
		r.end = end;
		id = rd_n(&r, 4);
		if (!id) {
			struct cie c = { .eh_off = off, .end = end };
			unsigned version = rd_n(&r, 1);
			const char *aug = (const char *)r.p;

			if (!memchr(r.p, 0, end - r.p))
				goto bad;
			r.p += strlen(aug) + 1;
			c.calign = rd_uleb(&r);
			c.ds = r.p;	/* the data alignment factor, a sleb128 copied as it is */
			while (r.p < end && (*r.p++ & 0x80))
				;
			c.de = r.p;
			c.ralign = version == 1 ? rd_n(&r, 1) : rd_uleb(&r);
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
			c.insns = r.p;
			if ((w->cie && w->cie(w, &c)) || VEC_PUSH(&cies, c))
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
			if (!c->ok) {
				w->skipped = true;
				goto next;
			}
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
			if (w->fde && w->fde(w, c, eh_addr + off, pc, range, r.p, end))
				goto out;
		}
next:
		off = body + len;
	}
	err = 0;
	goto out;
bad:
	err = 1;
out:
	VEC_FREE(&cies);
	return err;
}

/* ---- .debug_frame for debuggers ---- */

struct to_df {
	struct eh_walker w;
	bytevec *out;
	size_t nfde;
};

static int df_cie(struct eh_walker *w, struct cie *c)
{
	bytevec *out = ((struct to_df *)w)->out;
	size_t start = out->n;

	c->df_off = out->n;
	if (!c->ok)
		return 0;
	/* length, CIE id, version 3, no augmentation */
	return put(out, "\0\0\0\0\xff\xff\xff\xff\x03", 10) || put_uleb(out, c->calign) ||
	       put(out, c->ds, c->de - c->ds) || put_uleb(out, c->ralign) || put(out, c->insns, c->end - c->insns) ||
	       finish(out, start);
}

static int df_fde(struct eh_walker *w, const struct cie *c, uint64_t fde_addr, uint64_t pc, uint64_t range,
		  const unsigned char *insns, const unsigned char *end)
{
	struct to_df *t = (struct to_df *)w;
	size_t start = t->out->n;
	uint32_t cp = c->df_off;

	(void)fde_addr;
	t->nfde++;
	return put(t->out, "\0\0\0\0", 4) || put(t->out, &cp, 4) || put(t->out, &pc, 8) || put(t->out, &range, 8) ||
	       put(t->out, insns, end - insns) || finish(t->out, start);
}

int eh_to_debug_frame(const unsigned char *eh, size_t size, uint64_t eh_addr, bytevec *out)
{
	struct to_df t = { { false, df_cie, df_fde }, out, 0 };
	int r = eh_walk(eh, size, eh_addr, &t.w);

	return r < 0 ? -1 : r || !t.nfde ? 1 : 0;
}

/* ---- the FDEs, for .eh_frame_hdr ---- */

struct to_list {
	struct eh_walker w;
	eh_fde_vec *out;
};

static int list_fde(struct eh_walker *w, const struct cie *c, uint64_t fde_addr, uint64_t pc, uint64_t range,
		    const unsigned char *insns, const unsigned char *end)
{
	struct eh_fde f = { pc, fde_addr };

	(void)c, (void)range, (void)insns, (void)end;
	return VEC_PUSH(((struct to_list *)w)->out, f);
}

int eh_list_fdes(const unsigned char *eh, size_t size, uint64_t eh_addr, eh_fde_vec *out)
{
	struct to_list t = { { false, NULL, list_fde }, out };
	int r = eh_walk(eh, size, eh_addr, &t.w);

	return r ? r : t.w.skipped;
}

/* ---- the output's .eh_frame_hdr ---- */

/* The unwinder (libgcc's _Unwind_Find_FDE, through dl_iterate_phdr) finds an
 * FDE by a binary search in the table PT_GNU_EH_FRAME points at, whose
 * entries are 32-bit offsets from the table: the FDEs themselves may be
 * anywhere within 2 GiB. So the output gets a new table, after the new
 * code, that lists the program's FDEs where they are and the new code's;
 * its eh_frame_ptr (read only by a linear fallback) stays the old
 * .eh_frame. The old table and .eh_frame keep their bytes. A static
 * program has no table (crtbeginT registers its .eh_frame with
 * __register_frame_info, which the unwinder searches first): it gets one,
 * and a PT_GNU_EH_FRAME. gdb reads the new FDEs from .debug_frame
 * (eh_to_debug_frame). */

static int cmp_fde(const void *a, const void *b)
{
	const struct eh_fde *x = a, *y = b;

	if (x->pc != y->pc)
		return x->pc < y->pc ? -1 : 1;
	return x->fde < y->fde ? -1 : x->fde > y->fde;
}

/* How far the .eh_frame at addr goes: its section, or the rest of its
 * segment's file bytes (the walk stops at the terminator). */
static uint64_t old_eh_size(const struct image *img, uint64_t addr)
{
	for (size_t i = 1; i < img->shnum; i++)
		if (img->secs[i].sh.sh_addr == addr && img->secs[i].sh.sh_type == SHT_PROGBITS)
			return img->secs[i].sh.sh_size;
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *p = &img->phdrs[i];

		if (p->p_type == PT_LOAD && addr >= p->p_vaddr && addr < p->p_vaddr + p->p_filesz)
			return p->p_vaddr + p->p_filesz - addr;
	}
	return 0;
}

/* The program's FDEs, from its own table when it has the usual one, or
 * by reading its .eh_frame (found through the table, or by name in a
 * program without one: a static one, whose crtbeginT registers it). */
static int old_fdes(const struct image *img, const GElf_Phdr *ph, uint64_t *eh_frame, eh_fde_vec *out)
{
	uint64_t off, n, ehsize = 0;
	const unsigned char *h;
	struct rd r;
	unsigned fptr_enc, count_enc, table_enc;
	int r2;

	if (!ph) {
		for (size_t i = 1; i < img->shnum; i++)
			if (!strcmp(img->secs[i].name, ".eh_frame") && img->secs[i].sh.sh_type == SHT_PROGBITS &&
			    (img->secs[i].sh.sh_flags & SHF_ALLOC))
				*eh_frame = img->secs[i].sh.sh_addr, ehsize = img->secs[i].sh.sh_size;
		if (!ehsize)
			return 0;
		goto walk;
	}
	if (ph->p_filesz < 12 || !image_vaddr_to_off(img, ph->p_vaddr, ph->p_filesz, &off))
		return pr_err(img->path, "its PT_GNU_EH_FRAME lies outside the file");
	h = img->data + off;
	r = (struct rd){ h + 4, h + ph->p_filesz, false };
	fptr_enc = h[1], count_enc = h[2], table_enc = h[3];
	if (h[0] != 1)
		return pr_err(img->path, "its .eh_frame_hdr has version %u, not 1", h[0]);
	*eh_frame = rd_enc(&r, fptr_enc, ph->p_vaddr + 4, false);
	if (r.bad)
		return pr_err(img->path, "its .eh_frame_hdr has an unreadable eh_frame_ptr (encoding 0x%x)", fptr_enc);
	if (count_enc == 0x03 && table_enc == 0x3b) {
		n = rd_n(&r, 4);
		if (r.bad || n > (uint64_t)(r.end - r.p) / 8)
			return pr_err(img->path, "its .eh_frame_hdr table has %llu entries, more than fit",
				      (unsigned long long)n);
		if (VEC_RESERVE(out, n + 64))
			return -1;
		for (uint64_t i = 0; i < n; i++) {
			struct eh_fde f;

			f.pc = ph->p_vaddr + (int64_t)(int32_t)rd_n(&r, 4);
			f.fde = ph->p_vaddr + (int64_t)(int32_t)rd_n(&r, 4);
			if (VEC_PUSH(out, f))
				return -1;
		}
		return 0;
	}
	/* No table: the .eh_frame section, up to its end or its segment's. */
	ehsize = old_eh_size(img, *eh_frame);
walk:
	if (!ehsize || !image_vaddr_to_off(img, *eh_frame, ehsize, &off))
		return pr_err(img->path, "its .eh_frame at 0x%llx lies outside the file", (unsigned long long)*eh_frame);
	r2 = eh_list_fdes(img->data + off, ehsize, *eh_frame, out);
	if (r2)
		return r2 < 0 ? -1 : pr_err(img->path, "its .eh_frame cannot be read whole: the new unwind table "
					    "would miss some of its functions");
	return 0;
}

/* ---- CFI for --wrap's __real_SYM ---- */

/* The trampoline runs the function's first instructions, moved with their
 * lengths kept, then jumps back: the function's own CFI describes it, from
 * an offset later by the entry marker's length when the function had none
 * (the trampoline always starts with one: endbr64 on x86-64). Its FDE goes after the new table, in the same
 * section (the table may point anywhere), with a CIE of the same rules but
 * no personality: a handler of the function's cannot run in the copy. */
struct find_cfi {
	struct eh_walker w;
	uint64_t pc;
	struct cie cie;
	const unsigned char *insns, *end;
	bool found;
};

static int find_cfi_fde(struct eh_walker *w, const struct cie *c, uint64_t fde_addr, uint64_t pc, uint64_t range,
			const unsigned char *insns, const unsigned char *end)
{
	struct find_cfi *f = (struct find_cfi *)w;

	(void)fde_addr;
	if (!f->found && f->pc >= pc && f->pc - pc < range) {
		f->cie = *c;
		f->insns = insns;
		f->end = end;
		f->found = true;
	}
	return 0;
}

static int put32(bytevec *o, uint32_t v)
{
	return put(o, &v, 4);
}

/* Pads an entry started at `start` to 8 bytes with DW_CFA_nop and writes
 * its .eh_frame length. */
static int finish_eh(bytevec *o, size_t start)
{
	return finish(o, start);
}

/* The CIE and FDE of one trampoline at blob offset blob->n, whose own
 * address will be base + blob->n. */
static int trampoline_cfi(const struct find_cfi *f, bool endbr, size_t marker, uint64_t base, uint64_t tramp,
			  uint64_t size, bytevec *blob, uint64_t *fde_addr)
{
	size_t cie = blob->n, fde;
	/* DW_CFA_advance_loc by the entry marker's length, in code alignment
	 * units (1 on x86-64), which fits the op's 6 bits. */
	unsigned char advance = 0x40 | (marker / (f->cie.calign ? f->cie.calign : 1));
	int32_t pcrel;

	if (put32(blob, 0) || put32(blob, 0) || put(blob, "\x01zR", 4) || put_uleb(blob, f->cie.calign) ||
	    put(blob, f->cie.ds, f->cie.de - f->cie.ds) || put_uleb(blob, f->cie.ralign) || put_uleb(blob, 1) ||
	    put(blob, "\x1b", 1) || put(blob, f->cie.insns, f->cie.end - f->cie.insns) || finish_eh(blob, cie))
		return -1;
	if (f->cie.ralign > 0x7f)	/* version 1 keeps it in one byte: write it as version 3 */
		blob->v[cie + 8] = 3;
	fde = blob->n;
	*fde_addr = base + fde;
	pcrel = (int32_t)(tramp - (base + fde + 8));
	if (put32(blob, 0) || put32(blob, fde + 4 - cie) || put(blob, &pcrel, 4) || put32(blob, size) ||
	    put_uleb(blob, 0) || (!endbr && put(blob, &advance, 1)) ||
	    put(blob, f->insns, f->end - f->insns) || finish_eh(blob, fde))
		return -1;
	return 0;
}

static const GElf_Phdr *eh_frame_phdr(const struct image *img)
{
	for (size_t i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_GNU_EH_FRAME)
			return &img->phdrs[i];
	return NULL;
}

typedef VEC(struct find_cfi) cfi_vec;
typedef VEC(const struct patch_site *) site_vec;

/* The old CFI of each --wrap'd function, for its trampoline. */
static int wrap_cfis(const struct image *img, const struct patch_plan *plan, uint64_t eh_frame, cfi_vec *out,
		     site_vec *sites)
{
	uint64_t size = eh_frame ? old_eh_size(img, eh_frame) : 0, off;

	for (size_t i = 0; plan && i < plan->sites.n; i++) {
		const struct patch_site *ps = &plan->sites.v[i];
		struct find_cfi f = { .w = { false, NULL, find_cfi_fde }, .pc = ps->sym };

		if (!ps->wrap || !ps->real_addr)
			continue;
		if (ps->same_lengths && size && image_vaddr_to_off(img, eh_frame, size, &off) &&
		    eh_walk(img->data + off, size, eh_frame, &f.w) >= 0 && f.found) {
			if (VEC_PUSH(out, f) || VEC_PUSH(sites, ps))
				return -1;
			continue;
		}
		pr_warn(img->path, "%s: no call frame information for __real_%s: exceptions and backtraces do not "
			"pass through it", ps->what, ps->old);
	}
	return 0;
}

int eh_hdr_plan(struct linked *l, const struct image *img, const struct patch_plan *plan)
{
	const GElf_Phdr *ph = eh_frame_phdr(img);
	const struct newsec *neweh = NULL;
	eh_fde_vec fdes = { 0 };
	cfi_vec cfis = { 0 };
	site_vec sites = { 0 };
	bytevec blob = { 0 };
	uint64_t eh_frame = 0, hdr = 0, end = 0, base;
	size_t nold, nnew, i;
	unsigned char *b;
	int r, err = -1;

	for (i = 0; i < l->secs.n; i++) {
		if (!strcmp(l->secs.v[i].name, ".eh_frame") && l->secs.v[i].bytes)
			neweh = &l->secs.v[i];
		if (l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size > end)
			end = l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size;
	}
	if (!neweh)
		return 0;
	if (old_fdes(img, ph, &eh_frame, &fdes))
		goto out;
	nold = fdes.n;
	if (!eh_frame)
		eh_frame = neweh->sh.sh_addr;
	r = eh_list_fdes(neweh->bytes, neweh->sh.sh_size, neweh->sh.sh_addr, &fdes);
	if (r < 0)
		goto out;
	if (r) {
		pr_warn(img->path, "the new code's .eh_frame cannot be read whole: exceptions and backtraces do not "
			"pass through it");
		err = 0;
		goto out;
	}
	nnew = fdes.n - nold;
	if (wrap_cfis(img, plan, nold ? eh_frame : 0, &cfis, &sites))
		goto out;
	hdr = align_up(end, img->page_size);
	base = hdr + 12 + (fdes.n + cfis.n) * 8;
	for (i = 0; i < cfis.n; i++) {
		struct eh_fde f = { .pc = sites.v[i]->real_addr };

		if (trampoline_cfi(&cfis.v[i], sites.v[i]->entry != sites.v[i]->sym, img->arch->entry_marker_len, base,
				   sites.v[i]->real_addr,
				   sites.v[i]->real_size, &blob, &f.fde) || VEC_PUSH(&fdes, f))
			goto out;
	}
	qsort(fdes.v, fdes.n, sizeof(*fdes.v), cmp_fde);
	for (i = 0; i < fdes.n; i++)
		if (fdes.v[i].pc - hdr + 0x80000000ull > 0xffffffffull || fdes.v[i].fde - hdr + 0x80000000ull > 0xffffffffull) {
			pr_warn(img->path, "a function at 0x%llx lies more than 2 GiB from the new unwind table: exceptions "
				"and backtraces do not pass through the new code", (unsigned long long)fdes.v[i].pc);
			err = 0;
			goto out;
		}
	l->ehhdr.size = 12 + fdes.n * 8 + blob.n;
	l->ehhdr.bytes = b = zalloc(l->ehhdr.size);
	if (!b)
		goto out;
	b[0] = 1;
	b[1] = 0x1b;	/* eh_frame_ptr: pcrel sdata4 */
	b[2] = 0x03;	/* fde_count: udata4 */
	b[3] = 0x3b;	/* table: datarel sdata4 */
	{
		int32_t fp = (int32_t)(eh_frame - (hdr + 4));
		uint32_t cnt = fdes.n;

		memcpy(b + 4, &fp, 4);
		memcpy(b + 8, &cnt, 4);
	}
	for (i = 0; i < fdes.n; i++) {
		int32_t pc = (int32_t)(fdes.v[i].pc - hdr), fde = (int32_t)(fdes.v[i].fde - hdr);

		memcpy(b + 12 + 8 * i, &pc, 4);
		memcpy(b + 16 + 8 * i, &fde, 4);
	}
	if (blob.n)
		memcpy(b + 12 + fdes.n * 8, blob.v, blob.n);
	l->ehhdr.addr = hdr;
	l->ehhdr.old_addr = ph ? ph->p_vaddr : 0;
	l->ehhdr.blob_addr = base;
	l->ehhdr.blob_size = blob.n;
	{
		struct newsec s = { .name = ".eh_frame_hdr", .bytes = b };

		s.sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_addr = hdr,
				    .sh_size = l->ehhdr.size, .sh_addralign = 4 };
		if (VEC_PUSH(&l->secs, s))
			goto out;
	}
	pr_info("unwind table: %zu of the program's functions, %zu new ones, %zu trampolines", nold, nnew, cfis.n);
	err = 0;
out:
	VEC_FREE(&fdes);
	VEC_FREE(&cfis);
	VEC_FREE(&sites);
	VEC_FREE(&blob);
	return err;
}

/* The hash tables of the merged dynamic symbol table, in the styles the
 * program had: SysV's DT_HASH and GNU's DT_GNU_HASH (with the symbols
 * renumbered into its bucket order). */
#include "relink/dyn.h"

#include <string.h>

/* ------------------------------------------------------------------ */

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0, g;

	while (*s) {
		h = (h << 4) + (unsigned char)*s++;
		g = h & 0xf0000000;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

uint32_t dyn_gnu_hash(const char *s)
{
	uint32_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

const char *dyn_sym_name(const struct builder *b, const Elf64_Sym *s)
{
	const char *name = strapp_at(&b->str, s->st_name);

	return name ? name : "";
}

int dyn_build_sysv(struct builder *b, bytevec *out)
{
	static const uint32_t sizes[] = { 1, 3, 17, 37, 67, 97, 131, 197, 263, 521, 1031, 2053, 4099,
					  8209, 16411, 32771, 65537, 131101, 262147 };
	uint32_t n = b->syms.n, nb = 1, *t;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		if (sizes[i] <= n / 2 + 1)
			nb = sizes[i];
	out->n = (2 + nb + n) * 4;
	out->v = zalloc(out->n);
	if (!out->v)
		return -1;
	t = (uint32_t *)out->v;
	t[0] = nb;
	t[1] = n;
	for (i = 1; i < n; i++) {
		uint32_t h = sysv_hash(dyn_sym_name(b, &b->syms.v[i])) % nb;

		t[2 + nb + i] = t[2 + h];
		t[2 + h] = i;
	}
	return 0;
}

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

bool dyn_hashed(const Elf64_Sym *s)
{
	return s->st_shndx != SHN_UNDEF && ELF64_ST_BIND(s->st_info) != STB_LOCAL;
}

bool dyn_read_old_gnu(const struct builder *b, struct oldgnu *g)
{
	const struct image *img = b->img;
	const struct dyninfo *d = &img->dyn;
	const uint32_t *h, *buckets;
	uint64_t off, size;
	uint32_t expect, i;

	memset(g, 0, sizeof(*g));
	if (!d->gnu_hash || !image_vaddr_to_off(img, d->gnu_hash, 16, &off) || off % 8)
		return false;
	h = (const uint32_t *)(img->data + off);
	g->nb = h[0], g->symoffset = h[1], g->nbloom = h[2], g->shift = h[3];
	if (!g->nb || !g->nbloom || (g->nbloom & (g->nbloom - 1)) || g->shift >= 32 || g->symoffset > d->nsyms ||
	    g->symoffset == 0)
		return false;
	size = 16 + (uint64_t)g->nbloom * 8 + (uint64_t)g->nb * 4 + (uint64_t)(d->nsyms - g->symoffset) * 4;
	if (!image_vaddr_to_off(img, d->gnu_hash, size, &off))
		return false;
	g->bloom = (const uint64_t *)(h + 4);
	buckets = g->buckets = (const uint32_t *)(g->bloom + g->nbloom);
	g->chain = buckets + g->nb;
	g->bucket_of = zalloc(((size_t)(d->nsyms - g->symoffset) + 1) * sizeof(*g->bucket_of));
	if (!g->bucket_of)
		return false;
	expect = g->symoffset;
	for (i = 0; i < g->nb; i++) {
		uint32_t k = buckets[i];

		if (!k)
			continue;
		if (k != expect)
			goto bad;
		for (;; k++) {
			if (k >= d->nsyms)
				goto bad;
			g->bucket_of[k - g->symoffset] = i;
			if (g->chain[k - g->symoffset] & 1)
				break;
		}
		expect = k + 1;
	}
	if (expect == d->nsyms)
		return true;
bad:
	free(g->bucket_of);
	g->bucket_of = NULL;
	return false;
}

/* Renumbers the merged table: locals and undefined symbols first, in their
 * order, then the defined ones grouped by GNU hash bucket, as DT_GNU_HASH
 * requires. Every table that names symbols by index (the relocations, the
 * copied DT_JMPREL, .gnu.version) follows; DT_JMPREL keeps its order, which
 * the old PLT's lazy stubs push as an index.
 *
 * When the program's own GNU hash table is sound, its bucket count, bloom
 * filter and order are kept: its symbols are already grouped by bucket, so
 * the new ones are merged into their buckets' runs, and no old name is
 * hashed again (node has 75K). Otherwise every symbol is hashed and sorted. */
int dyn_renumber(struct builder *b)
{
	size_t n = b->syms.n, nold = b->img->dyn.nsyms, i, k = 0, nh = 0, first, nf = 0;
	struct order *ord = zalloc(n * sizeof(*ord));
	struct order *fresh = zalloc((n - (nold <= n ? nold : 0) + 1) * sizeof(*fresh));
	uint32_t *map = zalloc(n * sizeof(*map));
	Elf64_Sym *syms = zalloc(n * sizeof(*syms));
	uint16_t *vers = zalloc(n * sizeof(*vers));
	bool *from_ld = zalloc(n * sizeof(*from_ld));
	const struct oldgnu g = b->og;
	bool keep = nold <= n && b->og_ok;
	int err = -1;

	if (!ord || !fresh || !map || !syms || !vers || !from_ld)
		goto out;
	if (keep) {
		b->gnu_nbuckets = g.nb;
		b->gnu_nbloom = g.nbloom;
		b->gnu_shift = g.shift;
		b->gnu_bloom = g.bloom;
		/* The old unhashed symbols and the new ones, in order. */
		for (i = 0; i < g.symoffset; i++)
			ord[k++] = (struct order){ i, 0, 0, false };
		for (i = nold; i < n; i++)
			if (!dyn_hashed(&b->syms.v[i]))
				ord[k++] = (struct order){ i, 0, 0, false };
		b->gnu_symoffset = k;
		/* Each bucket's old run, then its new symbols: the old runs are in
		 * bucket order already, so the few new ones are sorted and merged
		 * in (a new index is past every old one, which breaks ties). */
		first = k;
		for (i = nold; i < n; i++) {
			uint32_t h;

			if (!dyn_hashed(&b->syms.v[i]))
				continue;
			h = dyn_gnu_hash(dyn_sym_name(b, &b->syms.v[i]));
			fresh[nf++] = (struct order){ i, h % g.nb, h, true };
		}
		if (nf)
			qsort(fresh, nf, sizeof(*fresh), cmp_order);
		for (i = g.symoffset, nh = 0; i < nold || nh < nf;) {
			struct order old = { 0 };

			if (i < nold)
				old = (struct order){ i, g.bucket_of[i - g.symoffset], g.chain[i - g.symoffset] & ~1u, false };
			if (i < nold && (nh == nf || old.bucket <= fresh[nh].bucket)) {
				ord[k++] = old;
				i++;
			} else {
				ord[k++] = fresh[nh++];
			}
		}
		nh = k - first;
	} else {
		for (i = 1; i < n; i++)
			if (dyn_hashed(&b->syms.v[i]))
				nh++;
		b->gnu_nbuckets = nh / 4 + 1;
		/* index 0, then the rest that is not hashed, in order */
		for (i = 0; i < n; i++)
			if (!i || !dyn_hashed(&b->syms.v[i]))
				ord[k++] = (struct order){ i, 0, 0, false };
		b->gnu_symoffset = k;
		for (i = 1; i < n; i++) {
			uint32_t h;

			if (!dyn_hashed(&b->syms.v[i]))
				continue;
			h = dyn_gnu_hash(dyn_sym_name(b, &b->syms.v[i]));
			ord[k++] = (struct order){ i, h % b->gnu_nbuckets, h, true };
		}
		qsort(ord + b->gnu_symoffset, nh, sizeof(*ord), cmp_order);
	}
	if (k != n) {
		pr_err(b->path, "internal error: %zu of %zu dynamic symbols renumbered", k, n);
		goto out;
	}
	b->ghash = zalloc((nh + 1) * sizeof(*b->ghash));
	b->gbucket = zalloc((nh + 1) * sizeof(*b->gbucket));
	b->gfresh = zalloc(nh + 1);
	if (!b->ghash || !b->gbucket || !b->gfresh)
		goto out;
	for (i = 0; i < nh; i++) {
		b->ghash[i] = ord[b->gnu_symoffset + i].hash;
		b->gbucket[i] = ord[b->gnu_symoffset + i].bucket;
		b->gfresh[i] = ord[b->gnu_symoffset + i].fresh;
	}
	for (i = 0; i < n; i++) {
		map[ord[i].idx] = i;
		syms[i] = b->syms.v[ord[i].idx];
		vers[i] = b->vers.v[ord[i].idx];
		from_ld[i] = b->from_ld.v[ord[i].idx];
	}
	memcpy(b->syms.v, syms, n * sizeof(*syms));
	memcpy(b->vers.v, vers, n * sizeof(*vers));
	memcpy(b->from_ld.v, from_ld, n * sizeof(*from_ld));
	for (i = 0; i < b->rela.n; i++) {
		Elf64_Rela *r = &b->rela.v[i];

		if (ELF64_R_SYM(r->r_info) < n)
			r->r_info = ELF64_R_INFO(map[ELF64_R_SYM(r->r_info)], ELF64_R_TYPE(r->r_info));
	}
	for (i = 0; i < b->jmprel.n; i++) {
		Elf64_Rela *r = &b->jmprel.v[i];

		if (ELF64_R_SYM(r->r_info) < n)
			r->r_info = ELF64_R_INFO(map[ELF64_R_SYM(r->r_info)], ELF64_R_TYPE(r->r_info));
	}
	err = 0;
out:
	free(ord);
	free(fresh);
	free(map);
	free(syms);
	free(vers);
	free(from_ld);
	return err;
}

int dyn_build_gnu(struct builder *b, bytevec *out)
{
	uint32_t n = b->syms.n, symoffset = b->gnu_symoffset, nb = b->gnu_nbuckets, nbloom = 1, shift = 6;
	uint32_t nh = n - symoffset, *buckets, *chain;
	uint64_t *bloom;
	size_t i;

	if (b->gnu_bloom) {
		nbloom = b->gnu_nbloom;
		shift = b->gnu_shift;
	} else {
		/* About 8 bloom bits per symbol, as ld gives. */
		while (nbloom * 64 < nh * 8 && nbloom < (1u << 20))
			nbloom *= 2;
	}
	out->n = 16 + (size_t)nbloom * 8 + (size_t)nb * 4 + (size_t)nh * 4;
	out->v = zalloc(out->n);
	if (!out->v)
		return -1;
	((uint32_t *)out->v)[0] = nb;
	((uint32_t *)out->v)[1] = symoffset;
	((uint32_t *)out->v)[2] = nbloom;
	((uint32_t *)out->v)[3] = shift;
	bloom = (uint64_t *)(out->v + 16);
	buckets = (uint32_t *)(out->v + 16 + (size_t)nbloom * 8);
	chain = buckets + nb;
	if (b->gnu_bloom)
		memcpy(bloom, b->gnu_bloom, (size_t)nbloom * 8);
	for (i = symoffset; i < n; i++) {
		uint32_t h = b->ghash[i - symoffset], bk = b->gbucket[i - symoffset];

		if (b->gfresh[i - symoffset])
			bloom[(h / 64) % nbloom] |= (1ull << (h % 64)) | (1ull << ((h >> shift) % 64));
		if (!buckets[bk])
			buckets[bk] = i;
		/* The last symbol of a bucket's run ends its chain. */
		chain[i - symoffset] = (h & ~1u) | (i + 1 == n || b->gbucket[i + 1 - symoffset] != bk);
	}
	return 0;
}

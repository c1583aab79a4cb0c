/* A sorted address index over the image's symbols and the regions they live in. */
#include "disasm/symindex.h"

#include <stdio.h>
#include <string.h>

struct region {
	uint64_t start, end;
	const char *name;	/* section name, or NULL for a segment */
};

struct symindex {
	const struct symbol **syms;	/* one per address, sorted */
	size_t n;
	struct region *regs;		/* sorted, non-overlapping */
	size_t nregs;
};

/* Which of two symbols at one address names it: a typed global from .symtab. */
static int pref(const struct symbol *s)
{
	int r = 0;

	if (s->type == STT_FUNC || s->type == STT_OBJECT || s->type == STT_GNU_IFUNC)
		r += 8;
	if (s->bind == STB_GLOBAL)
		r += 4;
	else if (s->bind == STB_WEAK)
		r += 2;
	if (s->src == SYM_SYMTAB)
		r += 1;
	return r;
}

struct key {
	uint64_t addr;
	uint32_t pref, idx;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->pref != y->pref)
		return x->pref > y->pref ? -1 : 1;
	/* Among equals, the first in the file: output does not depend on qsort. */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_reg(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool usable(const struct image *img, const struct symbol *s)
{
	if (s->shndx == SHN_ABS || s->type == STT_TLS || s->type == STT_SECTION || s->type == STT_FILE)
		return false;
	if (s->shndx && s->shndx < img->shnum && !(img->secs[s->shndx].sh.sh_flags & SHF_ALLOC))
		return false;
	return true;
}

int symindex_new(struct symindex **out, const struct image *img)
{
	struct symindex *ix = zalloc(sizeof(*ix));
	struct key *keys;
	size_t i, n = 0;

	*out = NULL;
	if (!ix)
		return -1;
	ix->syms = xrealloc_array(NULL, img->syms.n + 1, sizeof(*ix->syms));
	ix->regs = xrealloc_array(NULL, img->shnum + img->phnum + 1, sizeof(*ix->regs));
	if (!ix->syms || !ix->regs)
		goto err;
	for (i = 0; i < img->shnum; i++) {
		const GElf_Shdr *sh = &img->secs[i].sh;

		/* .tbss overlaps the sections after it: thread-local addresses are offsets. */
		if (!i || !(sh->sh_flags & SHF_ALLOC) || !sh->sh_size || (sh->sh_flags & SHF_TLS))
			continue;
		ix->regs[ix->nregs++] = (struct region){ sh->sh_addr, sh->sh_addr + sh->sh_size, img->secs[i].name };
	}
	if (!ix->nregs) {
		for (i = 0; i < img->phnum; i++) {
			const GElf_Phdr *ph = &img->phdrs[i];

			if (ph->p_type == PT_LOAD && ph->p_memsz)
				ix->regs[ix->nregs++] = (struct region){ ph->p_vaddr, ph->p_vaddr + ph->p_memsz, NULL };
		}
	}
	qsort(ix->regs, ix->nregs, sizeof(*ix->regs), cmp_reg);
	/* Overlapping sections (a broken file): keep the first of each overlap. */
	for (i = 1, n = ix->nregs ? 1 : 0; i < ix->nregs; i++) {
		if (ix->regs[i].start < ix->regs[n - 1].end)
			continue;
		ix->regs[n++] = ix->regs[i];
	}
	ix->nregs = n;

	keys = xrealloc_array(NULL, img->syms.n + 1, sizeof(*keys));
	if (!keys)
		goto err;
	for (i = 0, n = 0; i < img->syms.n; i++)
		if (usable(img, &img->syms.v[i]))
			keys[n++] = (struct key){ img->syms.v[i].addr, pref(&img->syms.v[i]), i };
	qsort(keys, n, sizeof(*keys), cmp_key);
	ix->n = 0;
	for (i = 0; i < n; i++)
		if (!ix->n || ix->syms[ix->n - 1]->addr != keys[i].addr)
			ix->syms[ix->n++] = &img->syms.v[keys[i].idx];
	free(keys);
	*out = ix;
	return 0;
err:
	symindex_free(ix);
	return -1;
}

void symindex_free(struct symindex *ix)
{
	if (!ix)
		return;
	free(ix->syms);
	free(ix->regs);
	free(ix);
}

static const struct region *region_at(const struct symindex *ix, uint64_t addr)
{
	size_t lo = 0, hi = ix->nregs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < ix->regs[mid].start)
			hi = mid;
		else if (addr >= ix->regs[mid].end)
			lo = mid + 1;
		else
			return &ix->regs[mid];
	}
	return NULL;
}

/* Index of the last symbol at or below addr, or (size_t)-1. */
static size_t floor_idx(const struct symindex *ix, uint64_t addr)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->syms[mid]->addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

bool symindex_in_image(const struct symindex *ix, uint64_t addr)
{
	return region_at(ix, addr) != NULL;
}

const struct symbol *symindex_lookup(const struct symindex *ix, uint64_t addr, uint64_t *off)
{
	const struct region *r = region_at(ix, addr);
	size_t i;

	if (!r)
		return NULL;
	i = floor_idx(ix, addr);
	if (i == (size_t)-1 || ix->syms[i]->addr < r->start)
		return NULL;
	if (off)
		*off = addr - ix->syms[i]->addr;
	return ix->syms[i];
}

const struct symbol *symindex_exact(const struct symindex *ix, uint64_t addr)
{
	size_t i = floor_idx(ix, addr);

	return i != (size_t)-1 && ix->syms[i]->addr == addr ? ix->syms[i] : NULL;
}

uint64_t symindex_next(const struct symindex *ix, uint64_t addr)
{
	size_t i = floor_idx(ix, addr) + 1;	/* (size_t)-1 + 1 == 0 */

	return i < ix->n ? ix->syms[i]->addr : UINT64_MAX;
}

void symindex_symname(const struct symbol *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", s->name, s->src == SYM_PLT || s->src == SYM_IPLT ? "@plt" : "");
}

void symindex_name(const struct symindex *ix, uint64_t addr, char *buf, size_t len)
{
	const struct region *r;
	const struct symbol *s;
	uint64_t off = 0;
	char name[256];

	s = symindex_lookup(ix, addr, &off);
	if (s) {
		symindex_symname(s, name, sizeof(name));
	} else if ((r = region_at(ix, addr)) && r->name) {
		snprintf(name, sizeof(name), "%s", r->name);
		off = addr - r->start;
	} else {
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
		return;
	}
	if (off)
		snprintf(buf, len, "%s+0x%llx", name, (unsigned long long)off);
	else
		snprintf(buf, len, "%s", name);
}

/* Cutting the loaded image into pieces pinned at their addresses: the old
 * sections where section headers say where they are, gaps between them, and
 * whole segments when there are no section headers. */
#include "unexec/image.h"

#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_piece(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* A section can name bytes of a segment only if it sits where the segment
 * maps it; TLS .tbss takes no address space at all. */
static bool section_in_segment(const struct section *s, const GElf_Phdr *ph)
{
	const GElf_Shdr *sh = &s->sh;

	if (!(sh->sh_flags & SHF_ALLOC) || !sh->sh_size || sh->sh_type == SHT_NULL)
		return false;
	if ((sh->sh_flags & SHF_TLS) && sh->sh_type == SHT_NOBITS)
		return false;
	if (sh->sh_addr < ph->p_vaddr || sh->sh_addr - ph->p_vaddr >= ph->p_memsz ||
	    sh->sh_size > ph->p_memsz - (sh->sh_addr - ph->p_vaddr))
		return false;
	if (sh->sh_type != SHT_NOBITS && sh->sh_addr - ph->p_vaddr < ph->p_filesz &&
	    sh->sh_offset - ph->p_offset != sh->sh_addr - ph->p_vaddr)
		return false;
	return true;
}

static uint64_t seg_flags(const GElf_Phdr *ph)
{
	uint64_t f = SHF_ALLOC;

	if (ph->p_flags & PF_W)
		f |= SHF_WRITE;
	if (ph->p_flags & PF_X)
		f |= SHF_EXECINSTR;
	return f;
}

static int add_piece(struct image *img, struct strmap *names, int seg, const struct section *owner,
		     uint64_t a, uint64_t b, bool nobits)
{
	const GElf_Phdr *ph = &img->phdrs[seg];
	struct piece pc = {
		.orig = owner ? owner->name : NULL,
		.secidx = owner ? (int)owner->index : -1,
		.addr = a, .size = b - a, .nobits = nobits, .seg = seg,
		.offset = nobits ? 0 : ph->p_offset + (a - ph->p_vaddr),
		.flags = seg_flags(ph),
	};
	char *base, *name;
	int n = 1;

	if (owner && *owner->name)
		base = xasprintf("%s%s%s", OLD_PREFIX, owner->name[0] == '.' ? "" : ".", owner->name);
	else if (img->shnum)
		base = xasprintf("%s.gap.%llx", OLD_PREFIX, (unsigned long long)a);
	else
		base = xasprintf("%s.seg%d%s", OLD_PREFIX, seg, nobits ? ".bss" : "");
	/* The name goes into a linker script: nothing but characters no script
	 * syntax gives a meaning to. */
	for (char *p = base; p && *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '.' && *p != '_' && *p != '-')
			*p = '_';
	if (!base)
		return -1;
	name = xstrdup(base);
	while (name && strmap_get(names, name)) {
		free(name);
		name = xasprintf("%s.%d", base, n++);
	}
	free(base);
	if (!name)
		return -1;
	pc.name = name;
	if (VEC_PUSH(&img->pieces, pc)) {
		free(name);
		return -1;
	}
	return strmap_put(names, name, (void *)1);
}

static int cut_segment(struct image *img, struct strmap *names, int seg)
{
	const GElf_Phdr *ph = &img->phdrs[seg];
	uint64_t va = ph->p_vaddr, fend = va + ph->p_filesz, mend = va + ph->p_memsz;
	VEC(uint64_t) cuts = { 0 };
	size_t i, j;
	int err = 0;

	err |= VEC_PUSH(&cuts, va);
	err |= VEC_PUSH(&cuts, fend);
	err |= VEC_PUSH(&cuts, mend);
	for (i = 1; i < img->shnum && !err; i++) {
		const struct section *s = &img->secs[i];

		if (!section_in_segment(s, ph))
			continue;
		err |= VEC_PUSH(&cuts, s->sh.sh_addr);
		err |= VEC_PUSH(&cuts, s->sh.sh_addr + s->sh.sh_size);
	}
	if (err)
		goto out;
	qsort(cuts.v, cuts.n, sizeof(*cuts.v), cmp_u64);
	for (i = 0; i + 1 < cuts.n && !err; i++) {
		uint64_t a = cuts.v[i], b = cuts.v[i + 1];
		const struct section *owner = NULL;

		if (a == b)
			continue;
		for (j = 1; j < img->shnum; j++) {
			const struct section *s = &img->secs[j];

			if (section_in_segment(s, ph) && s->sh.sh_addr <= a && a < s->sh.sh_addr + s->sh.sh_size) {
				owner = s;
				break;
			}
		}
		err = add_piece(img, names, seg, owner, a, b, a >= fend);
	}
out:
	VEC_FREE(&cuts);
	return err;
}

int image_build_pieces(struct image *img)
{
	struct strmap *names = strmap_new(img->shnum + 16);
	size_t i;
	int err = 0;

	if (!names)
		return -1;
	for (i = 0; i < img->phnum && !err; i++)
		if (img->phdrs[i].p_type == PT_LOAD && img->phdrs[i].p_memsz)
			err = cut_segment(img, names, i);
	strmap_free(names);
	if (err)
		return err;
	qsort(img->pieces.v, img->pieces.n, sizeof(*img->pieces.v), cmp_piece);
	return 0;
}

/* The function an array slot holds: in a PIE the addend of its RELATIVE
 * relocation, or the slot's own bytes when DT_RELR packs it. */
static bool slot_target(const struct image *img, uint64_t slot, uint64_t *target)
{
	const struct piece *pc;
	uint64_t off;
	size_t idx;
	enum relative_how how = img->pie ? image_relative_at(img, slot, &idx) : RELATIVE_NONE;

	if (how == RELATIVE_RELA) {
		*target = img->dyn.rela[idx].r_addend;
	} else {
		if ((img->pie && how != RELATIVE_RELR) || !image_vaddr_to_off(img, slot, 8, &off))
			return false;
		memcpy(target, img->data + off, 8);
	}
	pc = image_piece_at(img, *target);
	/* .ctors-style sentinels (0, -1) or a slot outside code: not a hook. */
	return pc && (pc->flags & SHF_EXECINSTR);
}

static int find_hook(struct image *img, unsigned type, struct hook *h)
{
	const struct section *arr = NULL;
	size_t i;

	memset(h, 0, sizeof(*h));
	for (i = 1; i < img->shnum; i++) {
		if (img->secs[i].sh.sh_type == type && img->secs[i].sh.sh_size >= 8) {
			arr = &img->secs[i];
			break;
		}
	}
	if (!arr)
		return 0;
	h->nslots = arr->sh.sh_size / 8;
	h->slot = arr->sh.sh_addr + (h->nslots - 1) * 8;
	h->present = slot_target(img, h->slot, &h->target);
	if (h->nslots > 1) {
		h->first_slot = arr->sh.sh_addr;
		h->first_present = slot_target(img, h->first_slot, &h->first_target);
	}
	return 0;
}

int image_find_hooks(struct image *img)
{
	return find_hook(img, SHT_INIT_ARRAY, &img->init) ?: find_hook(img, SHT_FINI_ARRAY, &img->fini);
}

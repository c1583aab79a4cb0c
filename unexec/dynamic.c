/* The old program's dynamic section and the tables it points at. Every
 * pointer is mapped through the PT_LOADs and checked against the file. */
#include "unexec/image.h"

#include <string.h>

static const void *at(const struct image *img, uint64_t addr, uint64_t size)
{
	uint64_t off;

	if (!addr || !image_vaddr_to_off(img, addr, size, &off))
		return NULL;
	return img->data + off;
}

/* The same, for a table read through typed pointers: it must be aligned. */
static const void *at_aligned(const struct image *img, uint64_t addr, uint64_t size, uintptr_t align)
{
	const void *p = at(img, addr, size);

	return p && (uintptr_t)p % align == 0 ? p : NULL;
}

/* Symbol count: the section header when there is one, else DT_HASH's
 * nchain, else the end of the last GNU hash chain. */
static int count_syms(struct image *img, struct dyninfo *d)
{
	const uint32_t *h;
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];

		if (s->sh.sh_type == SHT_DYNSYM && s->sh.sh_addr == d->val[DT_SYMTAB]) {
			d->nsyms = s->sh.sh_size / sizeof(Elf64_Sym);
			return 0;
		}
	}
	if ((h = at_aligned(img, d->val[DT_HASH], 8, 4))) {
		d->nsyms = h[1];
		return 0;
	}
	if ((h = at_aligned(img, d->gnu_hash, 16, 4))) {
		uint32_t nbuckets = h[0], symoffset = h[1], bloom = h[2], max = 0;
		const uint32_t *buckets, *chain;
		uint64_t need = 16 + (uint64_t)bloom * 8 + (uint64_t)nbuckets * 4;

		buckets = at_aligned(img, d->gnu_hash, need, 4);
		if (!buckets)
			return pr_err(img->path, "GNU hash table lies outside the file");
		buckets = (const uint32_t *)((const char *)buckets + 16 + (uint64_t)bloom * 8);
		for (i = 0; i < nbuckets; i++)
			if (buckets[i] > max)
				max = buckets[i];
		if (max >= symoffset) {
			for (;;) {
				chain = at_aligned(img, d->gnu_hash + need + (uint64_t)(max - symoffset) * 4, 4, 4);
				if (!chain)
					return pr_err(img->path, "GNU hash chain runs outside the file");
				if (*chain & 1)
					break;
				if (++max > (1u << 24))
					return pr_err(img->path, "GNU hash chain does not end");
			}
			max++;
		}
		d->nsyms = max > symoffset ? max : symoffset;
		return 0;
	}
	return pr_err(img->path, "dynamic section has neither DT_HASH nor DT_GNU_HASH");
}

int image_load_dynamic(struct image *img)
{
	struct dyninfo *d = &img->dyn;
	const GElf_Phdr *ph = elfview_segment(&img->view, PT_DYNAMIC);
	size_t i, n;

	if (!ph)
		return 0;
	if (ph->p_filesz < sizeof(Elf64_Dyn) || ph->p_offset % 8)
		return pr_err(img->path, "dynamic segment is empty or misaligned");
	d->present = true;
	d->addr = ph->p_vaddr;
	d->off = ph->p_offset;
	d->dyn = (const Elf64_Dyn *)(img->data + ph->p_offset);
	n = ph->p_filesz / sizeof(Elf64_Dyn);
	for (i = 0; i < n; i++) {
		const Elf64_Dyn *e = &d->dyn[i];

		if (e->d_tag == DT_NULL)
			break;
		if (e->d_tag >= 0 && e->d_tag < 40)
			d->val[e->d_tag] = e->d_un.d_val;
		switch (e->d_tag) {
		case DT_GNU_HASH: d->gnu_hash = e->d_un.d_ptr; break;
		case DT_VERSYM: d->versym = e->d_un.d_ptr; break;
		case DT_VERNEED: d->verneed = e->d_un.d_ptr; break;
		case DT_VERNEEDNUM: d->verneednum = e->d_un.d_val; break;
		case DT_VERDEF: d->verdef = e->d_un.d_ptr; break;
		case DT_VERDEFNUM: d->verdefnum = e->d_un.d_val; break;
		case DT_RELACOUNT: d->relacount = e->d_un.d_val; break;
		case DT_FLAGS_1: d->flags_1 = e->d_un.d_val; break;
		case 36 /* DT_RELR */: d->relr = e->d_un.d_ptr; break;
		case 35 /* DT_RELRSZ */: d->relrsz = e->d_un.d_val; break;
		}
	}
	if (i == n)
		return pr_err(img->path, "dynamic section has no DT_NULL terminator");
	d->ndyn = i + 1;
	if (d->val[DT_REL])
		return pr_err(img->path, "uses REL relocations, which %s programs do not", img->arch->name);
	if (!d->val[DT_SYMTAB] || !d->val[DT_STRTAB])
		return 0;	/* nothing symbolic: a minimal static-pie */
	if (d->val[DT_SYMENT] && d->val[DT_SYMENT] != sizeof(Elf64_Sym))
		return pr_err(img->path, "dynamic symbol size %llu is not %zu",
			      (unsigned long long)d->val[DT_SYMENT], sizeof(Elf64_Sym));
	d->strsz = d->val[DT_STRSZ];
	d->str = at(img, d->val[DT_STRTAB], d->strsz);
	if (!d->str || !d->strsz || d->str[d->strsz - 1])
		return pr_err(img->path, "dynamic string table lies outside the file or is not terminated");
	if (count_syms(img, d))
		return -1;
	if (d->nsyms > (1u << 24) || !(d->syms = at_aligned(img, d->val[DT_SYMTAB], d->nsyms * sizeof(Elf64_Sym), 8)))
		return pr_err(img->path, "dynamic symbol table (%zu entries) lies outside the file or is misaligned",
			      d->nsyms);
	for (i = 0; i < d->nsyms; i++)
		if (d->syms[i].st_name >= d->strsz)
			return pr_err(img->path, "dynamic symbol %zu has its name outside the string table", i);
	if (d->versym && !(d->vers = at_aligned(img, d->versym, d->nsyms * 2, 2)))
		return pr_err(img->path, "symbol version table lies outside the file or is misaligned");
	if (d->val[DT_RELA]) {
		if (d->val[DT_RELAENT] && d->val[DT_RELAENT] != sizeof(Elf64_Rela))
			return pr_err(img->path, "relocation entry size %llu is not 24", (unsigned long long)d->val[DT_RELAENT]);
		d->nrela = d->val[DT_RELASZ] / sizeof(Elf64_Rela);
		if (!(d->rela = at_aligned(img, d->val[DT_RELA], d->nrela * sizeof(Elf64_Rela), 8)))
			return pr_err(img->path, "DT_RELA table lies outside the file or is misaligned");
	}
	if (d->val[DT_JMPREL]) {
		d->njmprel = d->val[DT_PLTRELSZ] / sizeof(Elf64_Rela);
		if (!(d->jmprel = at_aligned(img, d->val[DT_JMPREL], d->njmprel * sizeof(Elf64_Rela), 8)))
			return pr_err(img->path, "DT_JMPREL table lies outside the file or is misaligned");
	}
	if (d->relr) {
		d->nrelr = d->relrsz / 8;
		if (!(d->relr_data = at_aligned(img, d->relr, d->nrelr * 8, 8)))
			return pr_err(img->path, "DT_RELR table lies outside the file or is misaligned");
	}
	if (d->verneed) {
		uint64_t off;

		if (!image_vaddr_to_off(img, d->verneed, sizeof(Elf64_Verneed), &off))
			return pr_err(img->path, "version needs lie outside the file");
		d->verneed_data = img->data + off;
		/* The walk in relink bounds every entry by this. */
		for (i = 0; i < img->phnum; i++) {
			const GElf_Phdr *p = &img->phdrs[i];

			if (p->p_type == PT_LOAD && off >= p->p_offset && off < p->p_offset + p->p_filesz)
				d->verneed_size = p->p_offset + p->p_filesz - off;
		}
	}
	return 0;
}

/* DT_RELR: an address word, then bitmaps of the next 63 words. */
static bool relr_covers(const struct dyninfo *d, uint64_t addr)
{
	uint64_t base = 0;
	size_t i;

	for (i = 0; i < d->nrelr; i++) {
		uint64_t e = d->relr_data[i];

		if (!(e & 1)) {
			if (e == addr)
				return true;
			base = e + 8;
			continue;
		}
		for (unsigned b = 1; b < 64; b++)
			if ((e >> b) & 1 && base + (b - 1) * 8 == addr)
				return true;
		base += 63 * 8;
	}
	return false;
}

enum relative_how image_relative_at(const struct image *img, uint64_t addr, size_t *index)
{
	const struct dyninfo *d = &img->dyn;
	size_t i;

	for (i = 0; i < d->nrela; i++) {
		if (d->rela[i].r_offset == addr && img->arch->rel_class(ELF64_R_TYPE(d->rela[i].r_info)) == REL_RELATIVE) {
			*index = i;
			return RELATIVE_RELA;
		}
	}
	return relr_covers(d, addr) ? RELATIVE_RELR : RELATIVE_NONE;
}

/* Everything the image knows by name: .symtab, .dynsym, and one symbol per
 * import stub (PLT, PLT.sec, PLT.got, and the IFUNC stubs of static programs). */
#include "unexec/image.h"

#include <string.h>

#include "disasm/disasm.h"

static const char *strtab_str(const struct image *img, size_t strndx, uint64_t off)
{
	const struct section *s;
	const char *base;

	if (strndx >= img->shnum)
		return NULL;
	s = &img->secs[strndx];
	if (s->sh.sh_type != SHT_STRTAB || off >= s->sh.sh_size)
		return NULL;
	base = (const char *)img->data + s->sh.sh_offset;
	/* A table that ends in NUL ends every string in it. */
	if (base[s->sh.sh_size - 1] == 0)
		return base + off;
	return memchr(base + off, 0, s->sh.sh_size - off) ? base + off : NULL;
}

/* Validates a symbol table section and returns its entry count. */
static int symtab_check(const struct image *img, size_t idx, uint64_t *count)
{
	const struct section *s = &img->secs[idx];

	if (s->sh.sh_entsize != sizeof(Elf64_Sym) || s->sh.sh_size % sizeof(Elf64_Sym))
		return pr_err(img->path, "section [%zu] '%s': bad symbol entry size %llu", idx, s->name,
			      (unsigned long long)s->sh.sh_entsize);
	if (img->secs[s->sh.sh_link].sh.sh_type != SHT_STRTAB)
		return pr_err(img->path, "section [%zu] '%s': linked string table [%u] is not a string table",
			      idx, s->name, s->sh.sh_link);
	if (s->sh.sh_offset % 8)
		return pr_err(img->path, "section [%zu] '%s': misaligned symbol table", idx, s->name);
	*count = s->sh.sh_size / sizeof(Elf64_Sym);
	return 0;
}

static int add_sym(struct image *img, const struct symbol *sym)
{
	if (img->interest && !strmap_get(img->interest, sym->name))
		return 0;
	return VEC_PUSH(&img->syms, *sym);
}

/* The symbol tables themselves, for image_addr_name() when they were loaded
 * filtered: the innermost symbol containing addr (a global over a local at
 * the same address). Linear: for messages only. */
const char *image_raw_symbol_at(const struct image *img, uint64_t addr, uint64_t *start)
{
	const char *best = NULL;
	uint64_t bstart = 0;
	bool bglobal = false;
	int tabs[2] = { img->symtab_idx, img->dynsym_idx };

	for (int t = 0; t < 2; t++) {
		const struct section *s;
		const Elf64_Sym *tab;
		uint64_t n = 0;

		if (tabs[t] < 0 || symtab_check(img, tabs[t], &n))
			continue;
		s = &img->secs[tabs[t]];
		tab = (const Elf64_Sym *)(img->data + s->sh.sh_offset);
		for (uint64_t i = 1; i < n; i++) {
			const Elf64_Sym *st = &tab[i];
			unsigned type = GELF_ST_TYPE(st->st_info);
			bool global = GELF_ST_BIND(st->st_info) != STB_LOCAL;
			const char *name;

			if (type == STT_FILE || type == STT_SECTION || type == STT_TLS || st->st_shndx == SHN_UNDEF ||
			    st->st_shndx == SHN_ABS || addr < st->st_value ||
			    addr >= st->st_value + (st->st_size ? st->st_size : 1))
				continue;
			if (best && (st->st_value < bstart || (st->st_value == bstart && (bglobal || !global))))
				continue;
			name = strtab_str(img, s->sh.sh_link, st->st_name);
			if (!name || !*name)
				continue;
			best = name, bstart = st->st_value, bglobal = global;
		}
	}
	*start = bstart;
	return best;
}

/* "file.c:name" may name a local: every part after a colon counts too (a
 * superset is harmless). */
struct want_arg {
	struct strmap *names;
	bool oom;
};

static int add_want(const char *key, void *val, void *arg)
{
	struct want_arg *w = arg;

	(void)val;
	w->oom = strmap_put(w->names, key, (void *)1);
	for (const char *c = strchr(key, ':'); c && !w->oom; c = strchr(c + 1, ':'))
		w->oom = c[1] && strmap_put(w->names, c + 1, (void *)1);
	return w->oom;
}

int image_want(struct image *img, const struct strmap *wanted)
{
	struct want_arg w = { 0 };

	if (!wanted) {
		strmap_free(img->interest);
		img->interest = NULL;
		img->wanted = NULL;
		return 0;
	}
	w.names = strmap_new(64);
	if (!w.names)
		return -1;
	strmap_each(wanted, add_want, &w);
	if (w.oom) {
		strmap_free(w.names);
		return -1;
	}
	strmap_free(img->interest);
	img->interest = w.names;
	img->wanted = wanted;
	return 0;
}

static int load_table(struct image *img, size_t idx, enum sym_source src)
{
	const struct section *s = &img->secs[idx];
	const Elf64_Sym *tab = (const Elf64_Sym *)(img->data + s->sh.sh_offset);
	const char *file = NULL;
	uint64_t n = 0, i;

	if (symtab_check(img, idx, &n))
		return -1;
	for (i = 1; i < n; i++) {
		const Elf64_Sym *st = &tab[i];
		struct symbol sym = { 0 };

		sym.name = strtab_str(img, s->sh.sh_link, st->st_name);
		if (!sym.name)
			return pr_err(img->path, "section [%zu] '%s': symbol %llu has its name outside the string table",
				      idx, s->name, (unsigned long long)i);
		sym.type = GELF_ST_TYPE(st->st_info);
		sym.bind = GELF_ST_BIND(st->st_info);
		sym.vis = GELF_ST_VISIBILITY(st->st_other);
		if (sym.type == STT_FILE) {
			file = *sym.name ? sym.name : NULL;
			continue;
		}
		if (sym.type == STT_SECTION || !*sym.name || st->st_shndx == SHN_UNDEF)
			continue;
		/* "__tzname@@GLIBC_2.2.5": the static linker's record of a copy-relocated
		 * versioned definition. ld would read the name as a version; .dynsym
		 * names the same definition plainly. */
		if (src == SYM_SYMTAB && strchr(sym.name, '@'))
			continue;
		if (st->st_shndx >= SHN_LORESERVE && st->st_shndx != SHN_ABS)
			continue;
		if (st->st_shndx != SHN_ABS && st->st_shndx >= img->shnum)
			return pr_err(img->path, "section [%zu] '%s': symbol '%s' refers to section %u, past the last",
				      idx, s->name, sym.name, st->st_shndx);
		sym.file = sym.bind == STB_LOCAL ? file : NULL;
		sym.addr = st->st_value;
		sym.size = st->st_size;
		sym.shndx = st->st_shndx;
		sym.src = src;
		if (add_sym(img, &sym))
			return -1;
	}
	return 0;
}

/* GOT slot -> import name, from the dynamic relocations, and for static
 * programs IFUNC slot -> resolver address. */
struct slot_name {
	uint64_t slot;
	const char *name;	/* NULL for IRELATIVE */
	uint64_t resolver;
};

typedef VEC(struct slot_name) slot_vec;

static int collect_slots(struct image *img, slot_vec *slots)
{
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		const Elf64_Rela *r;
		const struct section *symsec;
		uint64_t n, j;

		if (s->sh.sh_type != SHT_RELA || !(s->sh.sh_flags & SHF_ALLOC))
			continue;
		if (s->sh.sh_entsize != sizeof(Elf64_Rela) || s->sh.sh_size % sizeof(Elf64_Rela) || s->sh.sh_offset % 8)
			return pr_err(img->path, "section [%zu] '%s': bad relocation entry size", i, s->name);
		symsec = &img->secs[s->sh.sh_link];
		r = (const Elf64_Rela *)(img->data + s->sh.sh_offset);
		n = s->sh.sh_size / sizeof(Elf64_Rela);
		for (j = 0; j < n; j++) {
			enum rel_class c = img->arch->rel_class(ELF64_R_TYPE(r[j].r_info));
			uint64_t symi = ELF64_R_SYM(r[j].r_info);
			struct slot_name sn = { .slot = r[j].r_offset };

			if (c == REL_IRELATIVE) {
				sn.resolver = r[j].r_addend;
			} else if (c == REL_JUMP_SLOT || c == REL_GLOB_DAT) {
				const Elf64_Sym *st;

				if (symsec->sh.sh_type != SHT_DYNSYM || symsec->sh.sh_entsize != sizeof(Elf64_Sym) ||
				    symi >= symsec->sh.sh_size / sizeof(Elf64_Sym))
					return pr_err(img->path, "section [%zu] '%s': relocation %llu names symbol %llu, outside the dynamic symbol table",
						      i, s->name, (unsigned long long)j, (unsigned long long)symi);
				st = (const Elf64_Sym *)(img->data + symsec->sh.sh_offset) + symi;
				sn.name = strtab_str(img, symsec->sh.sh_link, st->st_name);
				if (!sn.name)
					return pr_err(img->path, "section [%zu] '%s': relocation %llu: symbol name outside the string table",
						      i, s->name, (unsigned long long)j);
				if (!*sn.name)
					continue;
			} else {
				continue;
			}
			if (VEC_PUSH(slots, sn))
				return -1;
		}
	}
	return 0;
}

static bool is_stub_section(const char *name)
{
	return !strcmp(name, ".plt") || !strcmp(name, ".plt.sec") || !strcmp(name, ".plt.got") ||
	       !strcmp(name, ".iplt");
}

static int add_stub_syms(struct image *img, struct disasm *d, const struct slot_name *slots, size_t nslots,
			 size_t nsyms_before)
{
	size_t i, j, k;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		uint64_t ent = s->sh.sh_entsize == 8 || s->sh.sh_entsize == 16 ? s->sh.sh_entsize : 16;
		uint64_t off;

		if (s->sh.sh_type != SHT_PROGBITS || !(s->sh.sh_flags & SHF_EXECINSTR) || !is_stub_section(s->name))
			continue;
		for (off = 0; off + ent <= s->sh.sh_size; off += ent) {
			uint64_t slot;

			if (!disasm_stub_slot(d, img->data + s->sh.sh_offset + off, ent, s->sh.sh_addr + off, &slot))
				continue;
			for (j = 0; j < nslots; j++) {
				struct symbol sym = {
					.addr = s->sh.sh_addr + off, .size = ent, .type = STT_FUNC,
					.bind = STB_GLOBAL, .shndx = i, .src = SYM_PLT,
				};

				if (slots[j].slot != slot)
					continue;
				if (slots[j].name) {
					sym.name = slots[j].name;
					if (add_sym(img, &sym))
						return -1;
					continue;
				}
				/* IRELATIVE: every IFUNC symbol at the resolver names this stub. */
				for (k = 0; k < nsyms_before; k++) {
					const struct symbol *f = &img->syms.v[k];

					if (f->type != STT_GNU_IFUNC || f->addr != slots[j].resolver)
						continue;
					sym.name = f->name;
					sym.bind = f->bind;
					sym.src = SYM_IPLT;
					if (add_sym(img, &sym))
						return -1;
				}
			}
		}
	}
	return 0;
}

/* Which definition a name resolves to: a stub beats the IFUNC it stands for,
 * .symtab beats .dynsym, a global beats a weak. */
enum { BATCH = 32 };

static int rank(const struct symbol *s)
{
	int r = 0;

	if (s->src == SYM_IPLT)
		r += 8;
	if (s->src == SYM_SYMTAB)
		r += 2;
	if (s->bind == STB_GLOBAL)
		r += 1;
	if (s->src == SYM_PLT)
		r -= 4;	/* a program that defines a name does not import it */
	return r;
}

int image_load_symbols(struct image *img)
{
	slot_vec slots = { 0 };
	struct disasm *d = NULL;
	size_t i, nbefore;
	int err = 0;

	for (i = 1; i < img->shnum; i++) {
		if (img->secs[i].sh.sh_type == SHT_SYMTAB && img->symtab_idx < 0)
			img->symtab_idx = i;
		if (img->secs[i].sh.sh_type == SHT_DYNSYM && img->dynsym_idx < 0)
			img->dynsym_idx = i;
	}
	/* A large program has hundreds of thousands of symbols: one allocation,
	 * with room for the import stubs and what debug info adds. */
	{
		size_t want = 4096;

		if (img->symtab_idx >= 0)
			want += img->secs[img->symtab_idx].sh.sh_size / sizeof(Elf64_Sym);
		if (img->dynsym_idx >= 0)
			want += img->secs[img->dynsym_idx].sh.sh_size / sizeof(Elf64_Sym);
		if (!img->interest && want < img->size / sizeof(Elf64_Sym) && VEC_RESERVE(&img->syms, want))
			return -1;
	}
	if (img->symtab_idx >= 0)
		err = load_table(img, img->symtab_idx, SYM_SYMTAB);
	if (!err && img->dynsym_idx >= 0)
		err = load_table(img, img->dynsym_idx, SYM_DYNSYM);
	nbefore = img->syms.n;
	err = err ?: collect_slots(img, &slots);
	if (!err && slots.n && !img->opts.light) {
		err = disasm_new(&d, img->arch->machine, 0);
		err = err ?: add_stub_syms(img, d, slots.v, slots.n, nbefore);
		disasm_free(d);
	}
	VEC_FREE(&slots);
	if (err)
		return err;

	if (img->opts.light)
		return 0;
	img->byname = strmap_new(img->syms.n);
	if (!img->byname)
		return -1;
	/* In batches: hash a batch and prefetch its slots, then insert. */
	for (i = 0; i < img->syms.n; i += BATCH) {
		uint64_t h[BATCH];
		size_t k, n = img->syms.n - i < BATCH ? img->syms.n - i : BATCH;

		for (k = 0; k < n; k++) {
			h[k] = hash_str(img->syms.v[i + k].name);
			strmap_prefetch(img->byname, h[k]);
		}
		for (k = 0; k < n; k++) {
			struct symbol *s = &img->syms.v[i + k];
			void **old;

			if (s->bind == STB_LOCAL || s->type == STT_TLS)
				continue;
			old = strmap_ref_hashed(img->byname, s->name, h[k]);
			if (!old)
				return -1;
			if (!*old || rank(&img->syms.v[(uintptr_t)*old - 1]) < rank(s))
				*old = (void *)(i + k + 1);
		}
	}
	return 0;
}

int image_reload_symbols(struct image *img)
{
	VEC_FREE(&img->syms);
	strmap_free(img->byname);
	img->byname = NULL;
	if (img->wanted && image_want(img, img->wanted))
		return -1;
	return image_load_symbols(img);
}

/* A PIE as the process ran it: the same file made a fixed-address program
 * (ET_EXEC) at the address the process loaded it. The dynamic loader then
 * relocates it with a load bias of 0, so everything it computes from the
 * file must already hold the load address: program and section headers,
 * the entry point, the dynamic section's pointers, relocation offsets,
 * symbol values, the lazy GOT slots. RELATIVE relocations (and DT_RELR)
 * are already applied in the memory the dump keeps, and may since have been
 * overwritten by the program: they are dropped, so the loader leaves those
 * words as the program last wrote them. Symbol relocations (GLOB_DAT,
 * JUMP_SLOT, TPOFF64...) stay: shared libraries load elsewhere in the new
 * process, so what they bound must be bound again. */
#include "unexec/undump.h"
#include "arch/arch.h"
#include "util/elfview.h"

#include <stdio.h>
#include <string.h>

struct rb {
	const char *path;
	unsigned char *d;	/* the copy being rebased */
	size_t size;
	uint64_t base;
	struct elfview v;	/* of d; its headers are rebased and written back */
};

static uint64_t get64(const struct rb *r, uint64_t off)
{
	uint64_t v;

	memcpy(&v, r->d + off, 8);
	return v;
}

static void put64(struct rb *r, uint64_t off, uint64_t v)
{
	memcpy(r->d + off, &v, 8);
}

static bool is_ptr_tag(int64_t tag)
{
	switch (tag) {
	case DT_PLTGOT: case DT_HASH: case DT_STRTAB: case DT_SYMTAB: case DT_RELA: case DT_INIT:
	case DT_FINI: case DT_JMPREL: case DT_INIT_ARRAY: case DT_FINI_ARRAY: case DT_PREINIT_ARRAY:
	case DT_SYMTAB_SHNDX: case DT_VERSYM: case DT_VERDEF: case DT_VERNEED:
		return true;
	case DT_CONFIG: case DT_DEPAUDIT: case DT_AUDIT:
		return false;	/* in the address range, but string table offsets */
	default:
		return tag >= DT_ADDRRNGLO && tag <= DT_ADDRRNGHI;	/* DT_GNU_HASH among them */
	}
}

/* Every loaded byte must stay in user space once moved by the base. */
static int check_room(const struct rb *r)
{
	for (size_t i = 0; i < r->v.phnum; i++) {
		const Elf64_Phdr *ph = &r->v.ph[i];

		if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz > r->v.arch->user_end - r->base)
			return pr_err(r->path, "program header %zu: addresses 0x%llx+0x%llx do not fit in user space "
				      "above 0x%llx", i, (unsigned long long)ph->p_vaddr,
				      (unsigned long long)ph->p_memsz, (unsigned long long)r->base);
	}
	return 0;
}

/* Moves every address-valued symbol of a symbol table by the base: those
 * of allocated sections (not TLS offsets, not absolute values) and the
 * canonical addresses undefined functions may carry. */
static int rebase_symbols(struct rb *r, const Elf64_Shdr *s, size_t idx)
{
	uint64_t n, k;

	if (s->sh_offset % 8)	/* in the file: checked by the view */
		return pr_err(r->path, "section [%zu]: symbol table at a misaligned offset 0x%llx", idx,
			      (unsigned long long)s->sh_offset);
	n = s->sh_size / sizeof(Elf64_Sym);
	for (k = 1; k < n; k++) {
		uint64_t off = s->sh_offset + k * sizeof(Elf64_Sym);
		Elf64_Sym sym;

		memcpy(&sym, r->d + off, sizeof(sym));
		if (ELF64_ST_TYPE(sym.st_info) == STT_TLS || sym.st_shndx == SHN_ABS ||
		    (sym.st_shndx >= SHN_LORESERVE && sym.st_shndx != SHN_XINDEX))
			continue;
		if (sym.st_shndx == SHN_UNDEF ? !sym.st_value :
		    sym.st_shndx != SHN_XINDEX && (sym.st_shndx >= r->v.shnum || !(r->v.sh[sym.st_shndx].sh_flags & SHF_ALLOC)))
			continue;
		sym.st_value += r->base;
		memcpy(r->d + off, &sym, sizeof(sym));
	}
	return 0;
}

struct reltab {
	uint64_t addr, size, off;	/* off: in the file */
};

/* One relocation table: offsets moved, RELATIVE dropped (made
 * NONE relocations), IRELATIVE resolvers and lazy JUMP_SLOT targets moved.
 * *lead: how many entries at its head are now NONE. */
static void rebase_relocs(struct rb *r, const struct reltab *t, uint64_t skip_lo, uint64_t skip_hi, uint64_t *lead)
{
	bool leading = true;
	uint64_t k, off;

	*lead = 0;
	for (k = 0; k + sizeof(Elf64_Rela) <= t->size; k += sizeof(Elf64_Rela)) {
		Elf64_Rela rel;
		enum rel_class type;

		if (t->addr + k >= skip_lo && t->addr + k < skip_hi) {
			leading = false;
			continue;	/* the other table's entries, done there */
		}
		memcpy(&rel, r->d + t->off + k, sizeof(rel));
		type = r->v.arch->rel_class(ELF64_R_TYPE(rel.r_info));
		if (type == REL_RELATIVE || (type == REL_ABS64 && !ELF64_R_SYM(rel.r_info)))
			memset(&rel, 0, sizeof(rel));
		if (type == REL_NONE || !rel.r_info) {
			*lead += leading;
		} else {
			leading = false;
			if (type == REL_JUMP_SLOT && elfview_vaddr_to_off(&r->v, rel.r_offset, 8, &off) && get64(r, off))
				put64(r, off, get64(r, off) + r->base);	/* the lazy stub: ld.so adds nothing */
			rel.r_offset += r->base;
			if (type == REL_IRELATIVE)
				rel.r_addend += r->base;
		}
		memcpy(r->d + t->off + k, &rel, sizeof(rel));
	}
}

static int rebase_dynamic(struct rb *r)
{
	const Elf64_Phdr *dyn = elfview_segment(&r->v, PT_DYNAMIC);
	struct reltab rela = { 0 }, plt = { 0 };
	uint64_t pltgot = 0, relacount_at = 0, rela_at = 0, relasz_at = 0, lead = 0, off, k, w;
	bool has_symtab = false;
	size_t i;

	if (!dyn)
		return 0;
	if (dyn->p_offset % 8)	/* in the file: checked by the view */
		return pr_err(r->path, "dynamic segment is misaligned (offset 0x%llx)", (unsigned long long)dyn->p_offset);
	/* Read, moved and written back without the entries dropped. */
	for (k = w = 0; k + sizeof(Elf64_Dyn) <= dyn->p_filesz; k += sizeof(Elf64_Dyn)) {
		Elf64_Dyn e;

		memcpy(&e, r->d + dyn->p_offset + k, sizeof(e));
		if (e.d_tag == DT_NULL)
			break;
		switch (e.d_tag) {
		case DT_TEXTREL:
			return pr_err(r->path, "has text relocations (DT_TEXTREL): its code differs in memory from the file");
		case DT_FLAGS:
			if (e.d_un.d_val & DF_TEXTREL)
				return pr_err(r->path, "has text relocations (DF_TEXTREL): its code differs in memory from the file");
			break;
		case DT_REL: case DT_RELSZ:
			return pr_err(r->path, "has REL relocations, which %s programs do not use", r->v.arch->name);
		case DT_RELR: case DT_RELRSZ: case DT_RELRENT:
			continue;	/* relative relocations, applied in memory: dropped */
		case DT_FLAGS_1:
			e.d_un.d_val &= ~(uint64_t)DF_1_PIE;
			break;
		case DT_RELACOUNT:
			relacount_at = dyn->p_offset + w;
			break;
		case DT_RELA: rela.addr = e.d_un.d_ptr; rela_at = dyn->p_offset + w; break;
		case DT_RELASZ: rela.size = e.d_un.d_val; relasz_at = dyn->p_offset + w; break;
		case DT_JMPREL: plt.addr = e.d_un.d_ptr; break;
		case DT_PLTRELSZ: plt.size = e.d_un.d_val; break;
		case DT_PLTGOT: pltgot = e.d_un.d_ptr; break;
		case DT_SYMTAB: has_symtab = true; break;
		}
		if (is_ptr_tag(e.d_tag) && e.d_un.d_ptr)
			e.d_un.d_ptr += r->base;
		memcpy(r->d + dyn->p_offset + w, &e, sizeof(e));
		w += sizeof(e);
	}
	if (w < k)
		memset(r->d + dyn->p_offset + w, 0, k - w);

	if (has_symtab) {
		for (i = 1; i < r->v.shnum && r->v.sh[i].sh_type != SHT_DYNSYM; i++)
			;
		if (i >= r->v.shnum)
			return pr_err(r->path, "has no section header for its dynamic symbol table");
	}
	if (rela.size && !elfview_vaddr_to_off(&r->v, rela.addr, rela.size, &rela.off))
		return pr_err(r->path, "relocation table at 0x%llx lies outside the file", (unsigned long long)rela.addr);
	if (plt.size && !elfview_vaddr_to_off(&r->v, plt.addr, plt.size, &plt.off))
		return pr_err(r->path, "PLT relocation table at 0x%llx lies outside the file", (unsigned long long)plt.addr);
	if ((rela.size && rela.off % 8) || (plt.size && plt.off % 8))
		return pr_err(r->path, "misaligned relocation table");
	rebase_relocs(r, &rela, 0, 0, &lead);
	/* The loader skips what was dropped at the head of the table (ld sorts
	 * RELATIVE first); dropped entries elsewhere it reads as NONE. */
	if (lead && rela_at && relasz_at) {
		put64(r, rela_at + 8, rela.addr + r->base + lead * sizeof(Elf64_Rela));
		put64(r, relasz_at + 8, rela.size - lead * sizeof(Elf64_Rela));
	}
	if (relacount_at)
		put64(r, relacount_at + 8, 0);
	if (plt.size) {
		uint64_t plt_lead;

		rebase_relocs(r, &plt, rela.addr, rela.addr + rela.size, &plt_lead);
	}
	/* GOT[0]: the link-time address of _DYNAMIC. */
	if (pltgot && elfview_vaddr_to_off(&r->v, pltgot, 8, &off) && get64(r, off))
		put64(r, off, get64(r, off) + r->base);
	return 0;
}

int undump_rebase(const char *path, const unsigned char *d, size_t size, uint64_t base, unsigned char **out)
{
	struct rb r = { .path = path, .size = size, .base = base };
	Elf64_Ehdr *eh = &r.v.eh;
	size_t i;
	int err = -1;

	*out = NULL;
	if (base % 0x1000 || !base)
		return pr_err(path, "bad load address 0x%llx", (unsigned long long)base);
	r.d = malloc(size ? size : 1);
	if (!r.d)
		return pr_err(path, "out of memory (%zu bytes)", size);
	memcpy(r.d, d, size);
	if (elfview_init(&r.v, path, r.d, size, ELFVIEW_PROGRAM))
		goto out;
	if (base >= r.v.arch->user_end) {
		pr_err(path, "bad load address 0x%llx", (unsigned long long)base);
		goto out;
	}
	if (check_room(&r) || rebase_dynamic(&r))
		goto out;
	for (i = 1; i < r.v.shnum; i++)
		if ((r.v.sh[i].sh_type == SHT_SYMTAB || r.v.sh[i].sh_type == SHT_DYNSYM) &&
		    rebase_symbols(&r, &r.v.sh[i], i))
			goto out;
	for (i = 0; i < r.v.phnum; i++) {
		Elf64_Phdr *ph = &r.v.ph[i];

		if (ph->p_type == PT_GNU_STACK || (!ph->p_vaddr && !ph->p_memsz && ph->p_type != PT_LOAD))
			continue;
		ph->p_vaddr += base;
		ph->p_paddr += base;
	}
	memcpy(r.d + eh->e_phoff, r.v.ph, r.v.phnum * sizeof(*r.v.ph));
	for (i = 1; i < r.v.shnum; i++)
		if (r.v.sh[i].sh_flags & SHF_ALLOC)
			r.v.sh[i].sh_addr += base;
	if (r.v.shnum)
		memcpy(r.d + eh->e_shoff, r.v.sh, r.v.shnum * sizeof(*r.v.sh));
	eh->e_type = ET_EXEC;
	if (eh->e_entry)
		eh->e_entry += base;
	memcpy(r.d, eh, sizeof(*eh));
	*out = r.d;
	r.d = NULL;
	err = 0;
out:
	free(r.d);
	elfview_free(&r.v);
	return err;
}

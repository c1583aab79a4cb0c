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

#include <stdio.h>
#include <string.h>

struct rb {
	const char *path;
	unsigned char *d;	/* the copy being rebased */
	size_t size;
	uint64_t base;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;		/* as in the file: addresses from 0 */
	Elf64_Shdr *sh;
	size_t phnum, shnum;
};

/* The file offset of [addr, addr+len) through the file's own PT_LOADs. */
static bool file_at(const struct rb *r, uint64_t addr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < r->phnum; i++) {
		const Elf64_Phdr *ph = &r->ph[i];

		if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr <= ph->p_filesz &&
		    len <= ph->p_filesz - (addr - ph->p_vaddr)) {
			*off = ph->p_offset + (addr - ph->p_vaddr);
			return true;
		}
	}
	return false;
}

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

static int read_headers(struct rb *r)
{
	size_t i;

	memcpy(&r->eh, r->d, sizeof(r->eh));
	r->phnum = r->eh.e_phnum;
	if (r->eh.e_phentsize != sizeof(Elf64_Phdr) || !r->phnum || r->phnum == PN_XNUM ||
	    !range_ok(r->eh.e_phoff, r->phnum * sizeof(Elf64_Phdr), r->size))
		return pr_err(r->path, "bad program header table");
	r->ph = zalloc(r->phnum * sizeof(*r->ph));
	if (!r->ph)
		return -1;
	memcpy(r->ph, r->d + r->eh.e_phoff, r->phnum * sizeof(*r->ph));
	for (i = 0; i < r->phnum; i++) {
		const Elf64_Phdr *ph = &r->ph[i];

		if (ph->p_type == PT_LOAD && (!range_ok(ph->p_offset, ph->p_filesz, r->size) ||
					      ph->p_filesz > ph->p_memsz || ph->p_vaddr >= (1ull << 47) ||
					      ph->p_memsz > (1ull << 47) - ph->p_vaddr ||
					      ph->p_vaddr + ph->p_memsz > (1ull << 47) - r->base))
			return pr_err(r->path, "program header %zu: bad loadable segment", i);
	}
	if (!r->eh.e_shoff)
		return 0;
	r->shnum = r->eh.e_shnum;
	if (!r->shnum || r->eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !range_ok(r->eh.e_shoff, r->shnum * sizeof(Elf64_Shdr), r->size))
		return pr_err(r->path, "bad section header table");
	r->sh = zalloc(r->shnum * sizeof(*r->sh));
	if (!r->sh)
		return -1;
	memcpy(r->sh, r->d + r->eh.e_shoff, r->shnum * sizeof(*r->sh));
	return 0;
}

/* Moves every address-valued symbol of a symbol table by the base: those
 * of allocated sections (not TLS offsets, not absolute values) and the
 * canonical addresses undefined functions may carry. */
static int rebase_symbols(struct rb *r, const Elf64_Shdr *s, size_t idx)
{
	uint64_t n, k;

	if (s->sh_type == SHT_NOBITS || !range_ok(s->sh_offset, s->sh_size, r->size) || s->sh_offset % 8)
		return pr_err(r->path, "section [%zu]: symbol table lies outside the file", idx);
	n = s->sh_size / sizeof(Elf64_Sym);
	for (k = 1; k < n; k++) {
		uint64_t off = s->sh_offset + k * sizeof(Elf64_Sym);
		Elf64_Sym sym;

		memcpy(&sym, r->d + off, sizeof(sym));
		if (ELF64_ST_TYPE(sym.st_info) == STT_TLS || sym.st_shndx == SHN_ABS ||
		    (sym.st_shndx >= SHN_LORESERVE && sym.st_shndx != SHN_XINDEX))
			continue;
		if (sym.st_shndx == SHN_UNDEF ? !sym.st_value :
		    sym.st_shndx != SHN_XINDEX && (sym.st_shndx >= r->shnum || !(r->sh[sym.st_shndx].sh_flags & SHF_ALLOC)))
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
		type = arch_native()->rel_class(ELF64_R_TYPE(rel.r_info));
		if (type == REL_RELATIVE || (type == REL_ABS64 && !ELF64_R_SYM(rel.r_info)))
			memset(&rel, 0, sizeof(rel));
		if (type == REL_NONE || !rel.r_info) {
			*lead += leading;
		} else {
			leading = false;
			if (type == REL_JUMP_SLOT && file_at(r, rel.r_offset, 8, &off) && get64(r, off))
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
	const Elf64_Phdr *dyn = NULL;
	struct reltab rela = { 0 }, plt = { 0 };
	uint64_t pltgot = 0, relacount_at = 0, rela_at = 0, relasz_at = 0, lead = 0, off, k, w;
	bool has_symtab = false;
	size_t i;

	for (i = 0; i < r->phnum; i++)
		if (r->ph[i].p_type == PT_DYNAMIC)
			dyn = &r->ph[i];
	if (!dyn)
		return 0;
	if (!range_ok(dyn->p_offset, dyn->p_filesz, r->size) || dyn->p_offset % 8)
		return pr_err(r->path, "bad PT_DYNAMIC");
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
			return pr_err(r->path, "has REL relocations, which %s programs do not use", arch_native()->name);
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
		for (i = 1; i < r->shnum && r->sh[i].sh_type != SHT_DYNSYM; i++)
			;
		if (i >= r->shnum)
			return pr_err(r->path, "has no section header for its dynamic symbol table");
	}
	if (rela.size && !file_at(r, rela.addr, rela.size, &rela.off))
		return pr_err(r->path, "relocation table at 0x%llx lies outside the file", (unsigned long long)rela.addr);
	if (plt.size && !file_at(r, plt.addr, plt.size, &plt.off))
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
	if (pltgot && file_at(r, pltgot, 8, &off) && get64(r, off))
		put64(r, off, get64(r, off) + r->base);
	return 0;
}

int undump_rebase(const char *path, const unsigned char *d, size_t size, uint64_t base, unsigned char **out)
{
	struct rb r = { .path = path, .size = size, .base = base };
	size_t i;
	int err = -1;

	*out = NULL;
	if (size < sizeof(Elf64_Ehdr))
		return pr_err(path, "not an ELF file");
	if (base % 0x1000 || !base || base >= (1ull << 47))
		return pr_err(path, "bad load address 0x%llx", (unsigned long long)base);
	r.d = malloc(size);
	if (!r.d)
		return pr_err(path, "out of memory (%zu bytes)", size);
	memcpy(r.d, d, size);
	if (read_headers(&r) || rebase_dynamic(&r))
		goto out;
	for (i = 1; i < r.shnum; i++)
		if ((r.sh[i].sh_type == SHT_SYMTAB || r.sh[i].sh_type == SHT_DYNSYM) && rebase_symbols(&r, &r.sh[i], i))
			goto out;
	for (i = 0; i < r.phnum; i++) {
		Elf64_Phdr *ph = &r.ph[i];

		if (ph->p_type == PT_GNU_STACK || (!ph->p_vaddr && !ph->p_memsz && ph->p_type != PT_LOAD))
			continue;
		ph->p_vaddr += base;
		ph->p_paddr += base;
	}
	memcpy(r.d + r.eh.e_phoff, r.ph, r.phnum * sizeof(*r.ph));
	for (i = 1; i < r.shnum; i++)
		if (r.sh[i].sh_flags & SHF_ALLOC)
			r.sh[i].sh_addr += base;
	if (r.shnum)
		memcpy(r.d + r.eh.e_shoff, r.sh, r.shnum * sizeof(*r.sh));
	r.eh.e_type = ET_EXEC;
	if (r.eh.e_entry)
		r.eh.e_entry += base;
	memcpy(r.d, &r.eh, sizeof(r.eh));
	*out = r.d;
	r.d = NULL;
	err = 0;
out:
	free(r.d);
	free(r.ph);
	free(r.sh);
	return err;
}

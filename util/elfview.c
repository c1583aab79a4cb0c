/* The ELF view: every header of a program or core checked once, against
 * the file, before any reader uses it. */
#include "util/elfview.h"
#include "arch/arch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const char *type_name(unsigned t)
{
	switch (t) {
	case ET_EXEC: return "an executable";
	case ET_DYN: return "a PIE or shared library";
	case ET_REL: return "a relocatable object";
	case ET_CORE: return "a core file";
	case ET_NONE: return "an ELF file of no type";
	default: return "an ELF file of unknown type";
	}
}

/* Bytes a header claims lie past the end of the file: in a core, that is
 * almost always a core cut short (a full disk, a size limit), and says so. */
static int outside(const struct elfview *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int outside(const struct elfview *v, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pr_err(v->name, "%s%s", v->kind == ELFVIEW_CORE ? "truncated core: " : "", what);
}

static int check_ehdr(struct elfview *v)
{
	const unsigned char *d = v->data;
	const Elf64_Ehdr *eh = &v->eh;
	bool core = v->kind == ELFVIEW_CORE;

	if (!v->size)
		return pr_err(v->name, "empty file");
	if (v->size < SELFMAG || memcmp(d, ELFMAG, SELFMAG))
		return pr_err(v->name, "not an ELF file");
	if (v->size >= 20) {
		char kind[64];

		/* A core is a file: one of another machine is parsed as well
		 * (its NT_PRSTATUS layout is the arch's). */
		if (core && !arch_elf_known(d))
			return pr_err(v->name, "is %s file, not a core file surgeon reads: x86-64 and aarch64 cores only",
				      arch_elf_kind(d, kind, sizeof(kind)));
		/* aarch64's other ABIs by name: ILP32 (32-bit ELF) and aarch64_be. */
		if (d[EI_CLASS] == ELFCLASS32 && strstr(arch_elf_kind(d, kind, sizeof(kind)), "aarch64 ILP32"))
			return pr_err(v->name, "is %s program (32-bit ELF); surgeon handles 64-bit (LP64) aarch64 only",
				      kind);
		if (d[EI_DATA] == ELFDATA2MSB && strstr(arch_elf_kind(d, kind, sizeof(kind)), "big-endian aarch64"))
			return pr_err(v->name, "is a big-endian aarch64 program (aarch64_be); surgeon handles "
				      "little-endian aarch64 only");
	}
	if (v->size >= EI_NIDENT) {
		if (d[EI_CLASS] != ELFCLASS64)
			return pr_err(v->name, "not a 64-bit ELF file (class %u); surgeon handles x86-64 and aarch64 only",
				      d[EI_CLASS]);
		if (d[EI_DATA] != ELFDATA2LSB)
			return pr_err(v->name, "not a little-endian ELF file (byte order %u)", d[EI_DATA]);
		if (d[EI_VERSION] != EV_CURRENT)
			return pr_err(v->name, "unknown ELF version %u", d[EI_VERSION]);
	}
	if (v->size < sizeof(Elf64_Ehdr))
		return outside(v, "the ELF header needs %zu bytes, the file has %llu", sizeof(Elf64_Ehdr),
			       (unsigned long long)v->size);
	memcpy(&v->eh, d, sizeof(v->eh));
	v->arch = arch_for(eh->e_machine);
	if (!v->arch)
		return pr_err(v->name, "not %s of a machine surgeon knows (e_machine %u)",
			      core ? "a core file" : "a program", eh->e_machine);
	if (core ? eh->e_type != ET_CORE : eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return pr_err(v->name, "is %s, not %s", type_name(eh->e_type), core ? "a core file" : "an executable");
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return pr_err(v->name, "bad ELF header size %u", eh->e_ehsize);
	if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
		return pr_err(v->name, "bad program header entry size %u", eh->e_phentsize);
	if ((eh->e_shnum || eh->e_shoff) && eh->e_shentsize != sizeof(Elf64_Shdr))
		return pr_err(v->name, "bad section header entry size %u", eh->e_shentsize);
	return 0;
}

/* A copy of the n entries of a header table at off, after checking that it
 * lies in the file; NULL after the message. */
static void *read_table(const struct elfview *v, uint64_t off, uint64_t n, size_t entsize, const char *what)
{
	uint64_t bytes;
	void *t;

	if (__builtin_mul_overflow(n, (uint64_t)entsize, &bytes) || !range_ok(off, bytes, v->size)) {
		outside(v, "%s header table (%llu entries at offset 0x%llx) lies outside the file", what,
			(unsigned long long)n, (unsigned long long)off);
		return NULL;
	}
	t = malloc(bytes);
	if (!t) {
		pr_err(v->name, "out of memory (%s header table, %llu bytes)", what, (unsigned long long)bytes);
		return NULL;
	}
	memcpy(t, v->data + off, bytes);
	return t;
}

/* The counts the ELF header has no room for (65535 segments or more, 65280
 * sections or more) are in section 0, as libelf reads them. */
static int read_counts(struct elfview *v, uint64_t *shnum)
{
	const Elf64_Ehdr *eh = &v->eh;
	Elf64_Shdr sh0 = { 0 };

	*shnum = eh->e_shnum;
	v->shstrndx = eh->e_shstrndx;
	if (eh->e_shoff && (!eh->e_shnum || eh->e_phnum == PN_XNUM || eh->e_shstrndx == SHN_XINDEX)) {
		if (!range_ok(eh->e_shoff, sizeof(sh0), v->size))
			return outside(v, "section header table (at offset 0x%llx) lies outside the file",
				       (unsigned long long)eh->e_shoff);
		memcpy(&sh0, v->data + eh->e_shoff, sizeof(sh0));
		if (!eh->e_shnum)
			*shnum = sh0.sh_size;
		if (eh->e_shstrndx == SHN_XINDEX)
			v->shstrndx = sh0.sh_link;
	} else if (!eh->e_shoff && eh->e_shnum) {
		return pr_err(v->name, "%u section headers at offset 0", eh->e_shnum);
	}
	/* No program header table at offset 0: that is the ELF header. */
	v->phnum = !eh->e_phoff ? 0 : eh->e_phnum != PN_XNUM ? eh->e_phnum : eh->e_shoff ? sh0.sh_info : PN_XNUM;
	return 0;
}

/* Segments whose bytes some reader takes from the file. */
static bool has_bytes(uint32_t type)
{
	return type == PT_LOAD || type == PT_INTERP || type == PT_DYNAMIC || type == PT_NOTE || type == PT_TLS ||
	       type == PT_PHDR;
}

static int cmp_load(const void *a, const void *b)
{
	const Elf64_Phdr *x = *(const Elf64_Phdr *const *)a, *y = *(const Elf64_Phdr *const *)b;

	if (x->p_vaddr != y->p_vaddr)
		return x->p_vaddr < y->p_vaddr ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Overlapping loads would make "the byte at this address" ambiguous. Sorted
 * by address, two loads overlap only if two neighbours do. */
static int check_overlap(const struct elfview *v)
{
	const Elf64_Phdr **load = calloc(v->phnum ? v->phnum : 1, sizeof(*load));
	size_t n = 0, i;
	int err = 0;

	if (!load)
		return pr_err(v->name, "out of memory");
	for (i = 0; i < v->phnum; i++)
		if (v->ph[i].p_type == PT_LOAD && v->ph[i].p_memsz)
			load[n++] = &v->ph[i];
	qsort(load, n, sizeof(*load), cmp_load);
	for (i = 1; i < n && !err; i++) {
		const Elf64_Phdr *a = load[i - 1], *b = load[i];
		size_t ia = a - v->ph, ib = b - v->ph;

		if (b->p_vaddr - a->p_vaddr < a->p_memsz)
			err = pr_err(v->name, "program headers %zu and %zu: loadable segments overlap at 0x%llx",
				     ia < ib ? ia : ib, ia < ib ? ib : ia, (unsigned long long)b->p_vaddr);
	}
	free(load);
	return err;
}

static int check_phdrs(struct elfview *v)
{
	bool program = v->kind == ELFVIEW_PROGRAM, loads = false, bytes = false;
	size_t i;

	if (!v->phnum)
		return pr_err(v->name, "has no program headers, so nothing is loaded");
	v->ph = read_table(v, v->eh.e_phoff, v->phnum, sizeof(Elf64_Phdr), "program");
	if (!v->ph)
		return -1;
	for (i = 0; i < v->phnum; i++) {
		const Elf64_Phdr *ph = &v->ph[i];
		uint64_t end;

		if (!has_bytes(ph->p_type))
			continue;
		if (!range_ok(ph->p_offset, ph->p_filesz, v->size))
			return outside(v, "program header %zu: bytes 0x%llx+0x%llx lie outside the file (size 0x%llx)",
				       i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_filesz,
				       (unsigned long long)v->size);
		/* A core's notes are not loaded: their memory size is 0. */
		if (ph->p_filesz > ph->p_memsz && (program || ph->p_type == PT_LOAD))
			return pr_err(v->name, "program header %zu: file size 0x%llx exceeds memory size 0x%llx",
				      i, (unsigned long long)ph->p_filesz, (unsigned long long)ph->p_memsz);
		/* A core may hold the vsyscall page, above user space. */
		if (program && (add_overflows(ph->p_vaddr, ph->p_memsz, &end) || end > v->arch->user_end))
			return pr_err(v->name, "program header %zu: addresses 0x%llx+0x%llx do not fit in user space",
				      i, (unsigned long long)ph->p_vaddr, (unsigned long long)ph->p_memsz);
		if (ph->p_type == PT_LOAD) {
			loads = true;
			bytes |= ph->p_filesz != 0;
		}
	}
	if (check_overlap(v))
		return -1;
	if (program && !loads)
		return pr_err(v->name, "has no loadable segment");
	/* A program's code comes from the file: segments that load no file
	 * bytes (only zeroes, or nothing) cannot be all there is. */
	if (program && !bytes)
		return pr_err(v->name, "loads no bytes from the file");
	return 0;
}

static const char *str_at(const struct elfview *v, const Elf64_Shdr *strsec, uint64_t off)
{
	const char *base = (const char *)v->data + strsec->sh_offset;

	if (off >= strsec->sh_size || !memchr(base + off, 0, strsec->sh_size - off))
		return NULL;
	return base + off;
}

static int check_shdrs(struct elfview *v, uint64_t shnum)
{
	size_t i;

	if (!shnum) {
		v->shstrndx = 0;
		return 0;
	}
	v->sh = read_table(v, v->eh.e_shoff, shnum, sizeof(Elf64_Shdr), "section");
	if (!v->sh)
		return -1;
	v->shnum = shnum;
	if (v->shstrndx >= v->shnum)
		return pr_err(v->name, "section name table index %zu is out of range", v->shstrndx);
	for (i = 0; i < v->shnum; i++) {
		const Elf64_Shdr *s = &v->sh[i];

		if (s->sh_type != SHT_NOBITS && !range_ok(s->sh_offset, s->sh_size, v->size))
			return outside(v, "section [%zu]: bytes 0x%llx+0x%llx lie outside the file", i,
				       (unsigned long long)s->sh_offset, (unsigned long long)s->sh_size);
		if (s->sh_link >= v->shnum)
			return pr_err(v->name, "section [%zu]: link %u points past the last section", i, s->sh_link);
	}
	/* A core with 65535 segments or more has one section header, the
	 * counts' holder, and no names (the kernel writes it so). */
	if (v->kind == ELFVIEW_CORE && v->shstrndx == SHN_UNDEF)
		return 0;
	if (v->sh[v->shstrndx].sh_type != SHT_STRTAB)
		return pr_err(v->name, "section name table [%zu] is not a string table", v->shstrndx);
	for (i = 1; i < v->shnum; i++)
		if (!str_at(v, &v->sh[v->shstrndx], v->sh[i].sh_name))
			return pr_err(v->name, "section [%zu]: name offset %u lies outside the name table", i,
				      v->sh[i].sh_name);
	return 0;
}

int elfview_init(struct elfview *v, const char *name, const void *data, uint64_t size, enum elfview_kind kind)
{
	uint64_t shnum;

	memset(v, 0, sizeof(*v));
	v->name = name;
	v->data = data;
	v->size = size;
	v->kind = kind;
	return check_ehdr(v) ?: read_counts(v, &shnum) ?: check_phdrs(v) ?: check_shdrs(v, shnum);
}

int elfview_map(struct elfview *v, int fd, const char *name, enum elfview_kind kind)
{
	struct stat st;
	void *map = NULL;
	int err;

	memset(v, 0, sizeof(*v));
	if (fstat(fd, &st))
		return pr_err(name, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return pr_err(name, "not a regular file");
	if (st.st_size) {
		map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED)
			return pr_err(name, "cannot map: %s", strerror(errno));
	}
	err = elfview_init(v, name, map, st.st_size, kind);
	v->map = map;
	return err;
}

void elfview_free(struct elfview *v)
{
	if (!v)
		return;
	free(v->ph);
	free(v->sh);
	if (v->map)
		munmap(v->map, v->size);
	memset(v, 0, sizeof(*v));
}

const char *elfview_sec_name(const struct elfview *v, size_t i)
{
	if (!i || i >= v->shnum || (v->kind == ELFVIEW_CORE && v->shstrndx == SHN_UNDEF))
		return "";
	return (const char *)v->data + v->sh[v->shstrndx].sh_offset + v->sh[i].sh_name;
}

size_t elfview_find_sec(const struct elfview *v, const char *name, size_t after)
{
	for (size_t i = after + 1; i < v->shnum; i++)
		if (!strcmp(elfview_sec_name(v, i), name))
			return i;
	return 0;
}

const Elf64_Phdr *elfview_segment(const struct elfview *v, uint32_t type)
{
	const Elf64_Phdr *last = NULL;

	for (size_t i = 0; i < v->phnum; i++)
		if (v->ph[i].p_type == type)
			last = &v->ph[i];
	return last;
}

bool elfview_vaddr_to_off(const struct elfview *v, uint64_t addr, uint64_t len, uint64_t *off)
{
	for (size_t i = 0; i < v->phnum; i++) {
		const Elf64_Phdr *ph = &v->ph[i];

		if (ph->p_type != PT_LOAD || addr < ph->p_vaddr)
			continue;
		if (addr - ph->p_vaddr > ph->p_filesz || len > ph->p_filesz - (addr - ph->p_vaddr))
			continue;
		*off = ph->p_offset + (addr - ph->p_vaddr);
		return true;
	}
	return false;
}

int elfview_note(const struct elfview *v, const Elf64_Phdr *ph, uint64_t *pos, struct elfnote *n)
{
	const unsigned char *seg = v->data + ph->p_offset;	/* inside the file: checked */
	uint64_t k = *pos, dpos;

	if (k > ph->p_filesz || ph->p_filesz - k < 12)
		return 0;
	n->off = ph->p_offset + k;
	memcpy(&n->namesz, seg + k, 4);
	memcpy(&n->descsz, seg + k + 4, 4);
	memcpy(&n->type, seg + k + 8, 4);
	/* 32-bit sizes: these sums cannot overflow. */
	dpos = 12 + align_up(n->namesz, 4);
	if (dpos > ph->p_filesz - k || n->descsz > ph->p_filesz - k - dpos)
		return -1;
	n->name = seg + k + 12;
	n->desc = seg + k + dpos;
	n->desc_addr = ph->p_vaddr + k + dpos;
	*pos = k + dpos + align_up(n->descsz, 4);
	return 1;
}

bool elfview_gnu_note(const struct elfview *v, uint32_t type, struct elfnote *n)
{
	for (size_t i = 0; i < v->phnum; i++) {
		uint64_t pos = 0;

		if (v->ph[i].p_type != PT_NOTE)
			continue;
		while (elfview_note(v, &v->ph[i], &pos, n) > 0)
			if (n->type == type && n->namesz == 4 && !memcmp(n->name, "GNU", 4))
				return true;
	}
	return false;
}

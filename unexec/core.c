/* Reading a core file (gdb's gcore or the kernel's) as the memory of the
 * program: its PT_LOADs are the memory, NT_FILE says which of it is mapped
 * from files, NT_AUXV and the build-id note say whose core it is. */
#include "unexec/undump.h"
#include "arch/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#define PRSTATUS_RSP (112 + 19 * 8)	/* pr_reg[RSP] in struct elf_prstatus */
#define PRSTATUS_PID 32			/* pr_pid, the thread's id */
#define PRPSINFO_PID 24			/* pr_pid in struct elf_prpsinfo */

struct fmap {
	uint64_t start, end;
	const char *name;
};

struct core {
	struct memsrc src;	/* first: the read callback gets it */
	const char *path;
	const unsigned char *d;
	size_t size;
	Elf64_Phdr *ph;
	size_t phnum;
	VEC(struct fmap) files;
	bool have_files, have_auxv;
	uint64_t entry, vdso;
	VEC(uint64_t) tids, rsps;	/* every thread's id and stack pointer (one NT_PRSTATUS each) */
	uint32_t pid;	/* NT_PRPSINFO's: the main thread's id */
};

static int core_read(struct memsrc *s, uint64_t addr, void *buf, size_t len)
{
	struct core *c = (struct core *)s;
	unsigned char *b = buf;

	if (!buf)
		len = 1;
	while (len) {
		size_t i, n;

		for (i = 0; i < c->phnum; i++) {
			const Elf64_Phdr *ph = &c->ph[i];

			if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz)
				break;
		}
		if (i == c->phnum)
			return -1;
		n = c->ph[i].p_filesz - (addr - c->ph[i].p_vaddr);
		if (n > len)
			n = len;
		if (b) {
			memcpy(b, c->d + c->ph[i].p_offset + (addr - c->ph[i].p_vaddr), n);
			b += n;
		}
		addr += n;
		len -= n;
	}
	return 0;
}

static int parse_note(struct core *c, uint32_t type, const char *name, const unsigned char *desc, uint64_t sz)
{
	uint64_t k;

	if (type == NT_PRSTATUS && sz >= PRSTATUS_RSP + 8) {
		uint64_t rsp;
		uint32_t tid;

		memcpy(&rsp, desc + PRSTATUS_RSP, 8);
		memcpy(&tid, desc + PRSTATUS_PID, 4);
		if (VEC_PUSH(&c->rsps, rsp) || VEC_PUSH(&c->tids, tid))
			return -1;
	} else if (type == NT_PRPSINFO && sz >= PRPSINFO_PID + 4) {
		memcpy(&c->pid, desc + PRPSINFO_PID, 4);
	} else if (type == NT_AUXV) {
		c->have_auxv = true;
		for (k = 0; k + 16 <= sz; k += 16) {
			uint64_t a[2];

			memcpy(a, desc + k, 16);
			if (a[0] == AT_ENTRY)
				c->entry = a[1];
			if (a[0] == AT_SYSINFO_EHDR)
				c->vdso = a[1];
		}
	} else if (type == NT_FILE && !strcmp(name, "CORE") && sz >= 16) {
		uint64_t count, i;
		const char *names;
		size_t left;

		memcpy(&count, desc, 8);
		if (count > (sz - 16) / 24)
			return pr_err(c->path, "NT_FILE note is truncated");
		names = (const char *)desc + 16 + count * 24;
		left = sz - 16 - count * 24;
		for (i = 0; i < count; i++) {
			struct fmap f;
			size_t len = strnlen(names, left);
			uint64_t v[3];

			if (len == left)
				return pr_err(c->path, "NT_FILE note is truncated");
			memcpy(v, desc + 16 + i * 24, 24);
			f = (struct fmap){ v[0], v[1], names };
			if (VEC_PUSH(&c->files, f))
				return -1;
			names += len + 1;
			left -= len + 1;
		}
		c->have_files = true;
	}
	return 0;
}

static int parse_core(struct core *c)
{
	Elf64_Ehdr eh;
	size_t i;

	if (c->size < sizeof(eh) || memcmp(c->d, ELFMAG, SELFMAG))
		return pr_err(c->path, "not an ELF file");
	memcpy(&eh, c->d, sizeof(eh));
	if (c->d[EI_CLASS] != ELFCLASS64 || c->d[EI_DATA] != ELFDATA2LSB || eh.e_machine != arch_native()->machine) {
		char kind[64];

		/* Processes and cores are of the machine surgeon runs on. */
		return pr_err(c->path, "is %s file, not an %s core file: surgeon reads cores of the machine it runs "
			      "on", arch_elf_kind(c->d, kind, sizeof(kind)), arch_native()->name);
	}
	if (eh.e_type != ET_CORE)
		return pr_err(c->path, "not a core file (ELF type %u)", eh.e_type);
	c->phnum = eh.e_phnum;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !c->phnum || c->phnum == PN_XNUM)
		return pr_err(c->path, "bad program header table");
	if (!range_ok(eh.e_phoff, c->phnum * sizeof(Elf64_Phdr), c->size))
		return pr_err(c->path, "truncated core: the program header table lies past the end of the file");
	c->ph = zalloc(c->phnum * sizeof(*c->ph));
	if (!c->ph)
		return -1;
	memcpy(c->ph, c->d + eh.e_phoff, c->phnum * sizeof(*c->ph));
	for (i = 0; i < c->phnum; i++) {
		const Elf64_Phdr *ph = &c->ph[i];
		uint64_t k;

		if (ph->p_type != PT_LOAD && ph->p_type != PT_NOTE)
			continue;
		if (!range_ok(ph->p_offset, ph->p_filesz, c->size))
			return pr_err(c->path, "truncated core: segment %zu (0x%llx) needs %llu bytes, the file has %llu",
				      i, (unsigned long long)ph->p_vaddr,
				      (unsigned long long)(ph->p_offset + ph->p_filesz), (unsigned long long)c->size);
		if (ph->p_filesz > ph->p_memsz && ph->p_type == PT_LOAD)
			return pr_err(c->path, "segment %zu: file size exceeds memory size", i);
		if (ph->p_type != PT_NOTE)
			continue;
		for (k = 0; k + 12 <= ph->p_filesz;) {
			const unsigned char *n = c->d + ph->p_offset + k;
			uint32_t namesz, descsz, type;
			uint64_t dpos;
			char name[16] = "";

			memcpy(&namesz, n, 4);
			memcpy(&descsz, n + 4, 4);
			memcpy(&type, n + 8, 4);
			dpos = 12 + align_up(namesz, 4);
			if (dpos > ph->p_filesz - k || descsz > ph->p_filesz - k - dpos)
				return pr_err(c->path, "note at offset 0x%llx is truncated",
					      (unsigned long long)(ph->p_offset + k));
			if (namesz && namesz < sizeof(name))
				memcpy(name, n + 12, namesz);
			name[sizeof(name) - 1] = 0;
			if (parse_note(c, type, name, n + dpos, descsz))
				return -1;
			k += dpos + align_up(descsz, 4);
		}
	}
	return 0;
}

/* The build-id note of the program, from its PT_NOTE segments. */
static bool build_id(const unsigned char *d, size_t size, const Elf64_Ehdr *eh, uint64_t *addr, uint64_t *len)
{
	for (size_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		uint64_t k;

		if (!range_ok(eh->e_phoff + i * sizeof(ph), sizeof(ph), size))
			return false;
		memcpy(&ph, d + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE || !range_ok(ph.p_offset, ph.p_filesz, size))
			continue;
		for (k = 0; k + 12 <= ph.p_filesz;) {
			uint32_t nsz, dsz, type;
			uint64_t dpos;

			memcpy(&nsz, d + ph.p_offset + k, 4);
			memcpy(&dsz, d + ph.p_offset + k + 4, 4);
			memcpy(&type, d + ph.p_offset + k + 8, 4);
			dpos = 12 + align_up(nsz, 4);
			if (dpos > ph.p_filesz - k || dsz > ph.p_filesz - k - dpos)
				break;
			if (type == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(d + ph.p_offset + k + 12, "GNU", 4)) {
				*addr = ph.p_vaddr + k + dpos;
				*len = dsz;
				return dsz > 0;
			}
			k += dpos + align_up(dsz, 4);
		}
	}
	return false;
}

static void hex(char *buf, size_t n, const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len && 2 * i + 2 < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

/* Is this a core of that program? Each check is made when the core has
 * what it needs; the byte comparison of read-only memory follows. */
static int check_owner(struct core *c, const char *exe, const unsigned char *d, size_t size, const char **exe_name)
{
	Elf64_Ehdr eh;
	uint64_t first = UINT64_MAX, bid, blen, base = 0;
	unsigned char mine[64], theirs[64];
	size_t i;

	memcpy(&eh, d, sizeof(eh));
	if ((eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !range_ok(eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr), size))
		return 0;	/* undump_build says why */
	/* A PIE's place is its entry point in memory minus its entry in the file. */
	if (eh.e_type == ET_DYN && c->have_auxv) {
		base = c->entry - eh.e_entry;
		if (c->entry < eh.e_entry || base % 0x1000 || !base)
			return pr_err(c->path, "not a core of %s: its program starts at 0x%llx, which no load address "
				      "of %s (entry 0x%llx) gives", exe, (unsigned long long)c->entry, exe,
				      (unsigned long long)eh.e_entry);
	} else if (c->have_auxv && c->entry != eh.e_entry) {
		return pr_err(c->path, "not a core of %s: its program starts at 0x%llx, %s at 0x%llx", exe,
			      (unsigned long long)c->entry, exe, (unsigned long long)eh.e_entry);
	}
	if (build_id(d, size, &eh, &bid, &blen) && blen <= sizeof(mine) &&
	    !core_read(&c->src, bid + base, theirs, blen)) {
		char a[130] = "", b[130] = "";

		for (i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			uint64_t off;

			memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
			if (ph.p_type == PT_LOAD && bid >= ph.p_vaddr && bid - ph.p_vaddr + blen <= ph.p_filesz) {
				off = ph.p_offset + (bid - ph.p_vaddr);
				memcpy(mine, d + off, blen);
				break;
			}
		}
		if (i < eh.e_phnum && memcmp(mine, theirs, blen)) {
			hex(a, sizeof(a), theirs, blen);
			hex(b, sizeof(b), mine, blen);
			return pr_err(c->path, "not a core of %s: its build-id is %s, the program's is %s", exe, a, b);
		}
	}
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, d + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_vaddr < first)
			first = ph.p_vaddr & ~0xfffull;
	}
	if (c->have_files) {
		for (i = 0; i < c->files.n; i++)
			if (c->files.v[i].start == first + base)
				break;
		if (i == c->files.n)
			return pr_err(c->path, "not a core of %s: no file is mapped at 0x%llx", exe,
				      (unsigned long long)(first + base));
		*exe_name = c->files.v[i].name;
	}
	return 0;
}

/* Anonymous memory the core holds: not mapped from a file, not the main
 * thread's stack, not the vDSO, not a shared library's bss. */
static int core_regions(struct core *c, const char *exe_name)
{
	size_t main = 0;

	/* The main thread's stack is left out whole; the others' unused parts
	 * (undump_build). Without NT_PRPSINFO the first thread is the main one. */
	for (size_t k = 0; k < c->tids.n; k++)
		if (c->tids.v[k] == c->pid)
			main = k;
	for (size_t k = 0; k < c->rsps.n; k++)
		if (k != main && VEC_PUSH(&c->src.stacks, c->rsps.v[k]))
			return -1;
	for (size_t i = 0; i < c->phnum; i++) {
		const Elf64_Phdr *ph = &c->ph[i];
		struct region r = { .start = ph->p_vaddr, .end = ph->p_vaddr + (ph->p_filesz & ~0xfffull),
				    .flags = ph->p_flags & (PF_R | PF_W | PF_X), .kind = REG_GUESS };
		bool skip = false;

		if (ph->p_type != PT_LOAD || r.end <= r.start || r.start >= (1ull << 47) || (r.start & 0xfff))
			continue;
		if (main < c->rsps.n && c->rsps.v[main] >= r.start && c->rsps.v[main] < ph->p_vaddr + ph->p_memsz)
			continue;
		if (c->vdso && r.start == c->vdso)
			continue;
		for (size_t j = 0; j < c->files.n && !skip; j++) {
			const struct fmap *f = &c->files.v[j];

			if (r.start < f->end && f->start < r.end)
				skip = true;
			if (f->end == r.start && (!exe_name || strcmp(f->name, exe_name)))
				skip = true;
		}
		if (!skip && VEC_PUSH(&c->src.regions, r))
			return -1;
	}
	return 0;
}

int undump_core(const char *core, const char *exe, unsigned flags, bytevec *out)
{
	struct core c = { .path = core };
	unsigned char *file = NULL;
	const char *exe_name = NULL;
	size_t size = 0;
	struct stat st;
	void *map = MAP_FAILED;
	int fd, err = -1;

	c.src.name = core;
	c.src.read = core_read;
	fd = open(core, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO is refused, not waited on */
	if (fd < 0)
		return pr_err(core, "%s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return pr_err(core, "not a regular file");
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return pr_err(core, st.st_size ? "truncated core: %lld bytes" : "empty file", (long long)st.st_size);
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return pr_err(core, "cannot map: %s", strerror(errno));
	c.d = map;
	c.size = st.st_size;
	if (parse_core(&c) || undump_read_file(exe, &file, &size))
		goto out;
	if (check_owner(&c, exe, file, size, &exe_name) || core_regions(&c, exe_name))
		goto out;
	c.src.entry = c.entry;
	c.src.have_entry = c.have_auxv;
	err = undump_build(exe, file, size, &c.src, flags | UNDUMP_STRICT, out);
out:
	munmap(map, st.st_size);
	VEC_FREE(&c.files);
	VEC_FREE(&c.rsps);
	VEC_FREE(&c.tids);
	VEC_FREE(&c.src.stacks);
	VEC_FREE(&c.src.regions);
	free(c.ph);
	free(file);
	return err;
}

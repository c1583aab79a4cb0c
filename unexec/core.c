/* Reading a core file (gdb's gcore or the kernel's) as the memory of the
 * program: its PT_LOADs are the memory, NT_FILE says which of it is mapped
 * from files, NT_AUXV and the build-id note say whose core it is. */
#include "unexec/undump.h"
#include "arch/arch.h"
#include "util/elfview.h"

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
#define PRSTATUS_PID 32			/* pr_pid, the thread's id */
#define PRSTATUS_REG 112		/* pr_reg, the general registers */
#define PRPSINFO_PID 24			/* pr_pid in struct elf_prpsinfo */

struct fmap {
	uint64_t start, end;
	const char *name;
};

struct core {
	struct memsrc src;	/* first: the read callback gets it */
	const char *path;
	struct elfview v;
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

		for (i = 0; i < c->v.phnum; i++) {
			const Elf64_Phdr *ph = &c->v.ph[i];

			if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_filesz)
				break;
		}
		if (i == c->v.phnum)
			return -1;
		n = c->v.ph[i].p_filesz - (addr - c->v.ph[i].p_vaddr);
		if (n > len)
			n = len;
		if (b) {
			memcpy(b, c->v.data + c->v.ph[i].p_offset + (addr - c->v.ph[i].p_vaddr), n);
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

	if (type == NT_PRSTATUS && sz >= PRSTATUS_REG + c->v.arch->sp_reg_off + 8) {
		uint64_t rsp;
		uint32_t tid;

		memcpy(&rsp, desc + PRSTATUS_REG + c->v.arch->sp_reg_off, 8);
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

static int parse_core(struct core *c, const unsigned char *d, size_t size)
{
	if (elfview_init(&c->v, c->path, d, size, ELFVIEW_CORE))
		return -1;
	for (size_t i = 0; i < c->v.phnum; i++) {
		struct elfnote n;
		uint64_t pos = 0;
		int got;

		if (c->v.ph[i].p_type != PT_NOTE)
			continue;
		while ((got = elfview_note(&c->v, &c->v.ph[i], &pos, &n)) > 0) {
			char name[16] = "";

			if (n.namesz && n.namesz < sizeof(name))
				memcpy(name, n.name, n.namesz);
			name[sizeof(name) - 1] = 0;
			if (parse_note(c, n.type, name, n.desc, n.descsz))
				return -1;
		}
		if (got < 0)
			return pr_err(c->path, "note at offset 0x%llx is truncated", (unsigned long long)n.off);
	}
	return 0;
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
	struct elfview x;
	struct elfnote bid;
	uint64_t first = UINT64_MAX, base = 0, off;
	unsigned char theirs[64];
	size_t i;
	int err = -1;

	if (elfview_init(&x, exe, d, size, ELFVIEW_PROGRAM))
		goto out;
	if (x.arch != c->v.arch) {
		pr_err(c->path, "not a core of %s: it is %s %s core, and %s is %s %s program", exe, c->v.arch->article,
		       c->v.arch->name, exe, x.arch->article, x.arch->name);
		goto out;
	}
	/* Without NT_FILE every mapping looks anonymous: a shared library's
	 * data would become the dump's, at addresses ld.so then maps libraries
	 * at. qemu-user's cores have none; the kernel's and gdb's have. */
	for (i = 0; i < x.phnum && !c->have_files; i++)
		if (x.ph[i].p_type == PT_INTERP) {
			pr_err(c->path, "has no NT_FILE note (qemu-user writes none), so the shared libraries' memory "
			       "cannot be told from %s's: a dynamic program needs a kernel's or gdb's core", exe);
			goto out;
		}
	/* A PIE's place is its entry point in memory minus its entry in the file. */
	if (x.eh.e_type == ET_DYN && c->have_auxv) {
		base = c->entry - x.eh.e_entry;
		if (c->entry < x.eh.e_entry || base % 0x1000 || !base) {
			pr_err(c->path, "not a core of %s: its program starts at 0x%llx, which no load address "
			       "of %s (entry 0x%llx) gives", exe, (unsigned long long)c->entry, exe,
			       (unsigned long long)x.eh.e_entry);
			goto out;
		}
	} else if (c->have_auxv && c->entry != x.eh.e_entry) {
		pr_err(c->path, "not a core of %s: its program starts at 0x%llx, %s at 0x%llx", exe,
		       (unsigned long long)c->entry, exe, (unsigned long long)x.eh.e_entry);
		goto out;
	}
	if (elfview_gnu_note(&x, NT_GNU_BUILD_ID, &bid) && bid.descsz && bid.descsz <= sizeof(theirs) &&
	    !core_read(&c->src, bid.desc_addr + base, theirs, bid.descsz) &&
	    elfview_vaddr_to_off(&x, bid.desc_addr, bid.descsz, &off) && memcmp(d + off, theirs, bid.descsz)) {
		char a[130] = "", b[130] = "";

		hex(a, sizeof(a), theirs, bid.descsz);
		hex(b, sizeof(b), d + off, bid.descsz);
		pr_err(c->path, "not a core of %s: its build-id is %s, the program's is %s", exe, a, b);
		goto out;
	}
	for (i = 0; i < x.phnum; i++)
		if (x.ph[i].p_type == PT_LOAD && x.ph[i].p_vaddr < first)
			first = x.ph[i].p_vaddr & ~0xfffull;
	if (c->have_files) {
		for (i = 0; i < c->files.n; i++)
			if (c->files.v[i].start == first + base)
				break;
		if (i == c->files.n) {
			pr_err(c->path, "not a core of %s: no file is mapped at 0x%llx", exe,
			       (unsigned long long)(first + base));
			goto out;
		}
		*exe_name = c->files.v[i].name;
	}
	err = 0;
out:
	elfview_free(&x);
	return err;
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
	for (size_t i = 0; i < c->v.phnum; i++) {
		const Elf64_Phdr *ph = &c->v.ph[i];
		struct region r = { .start = ph->p_vaddr, .end = ph->p_vaddr + (ph->p_filesz & ~0xfffull),
				    .flags = ph->p_flags & (PF_R | PF_W | PF_X), .kind = REG_GUESS };
		bool skip = false;

		if (ph->p_type != PT_LOAD || r.end <= r.start || r.start >= c->v.arch->user_end || (r.start & 0xfff))
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
	if (st.st_size)
		map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (st.st_size && map == MAP_FAILED)
		return pr_err(core, "cannot map: %s", strerror(errno));
	if (parse_core(&c, st.st_size ? map : NULL, st.st_size) || undump_read_file(exe, &file, &size))
		goto out;
	if (check_owner(&c, exe, file, size, &exe_name) || core_regions(&c, exe_name))
		goto out;
	c.src.arch = c.v.arch;
	c.src.entry = c.entry;
	c.src.have_entry = c.have_auxv;
	err = undump_build(exe, file, size, &c.src, flags | UNDUMP_STRICT, out);
out:
	if (st.st_size)
		munmap(map, st.st_size);
	elfview_free(&c.v);
	VEC_FREE(&c.files);
	VEC_FREE(&c.rsps);
	VEC_FREE(&c.tids);
	VEC_FREE(&c.src.stacks);
	VEC_FREE(&c.src.regions);
	free(file);
	return err;
}

/* Building the dumped executable: the program's file, with its writable
 * segments read from memory, their bss made file-backed (Emacs' unexelf did
 * the same), and the heap and other memory as new file-backed segments at
 * their addresses. Every file offset after a grown segment moves by whole
 * pages. The program header table moves to a new read-only segment that is
 * the first PT_LOAD and lies just below the old first one, with
 * p_vaddr - p_offset equal for it and for the kernel's idea of the load
 * address, so AT_PHDR is right for kernels before and after 5.18. */
#include "unexec/undump.h"
#include "arch/arch.h"
#include "util/elfview.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG 0x1000ull
#define MMAP_MIN 0x10000ull
#define BRK_RANDOM (1ull << 30)	/* Linux moves brk up to 1 GiB (32 MiB before 6.9) past the last segment */
#define CHUNK (1u << 20)

struct exe {
	const char *path;
	const unsigned char *d;		/* what the dump starts from (a PIE rebased) */
	const unsigned char *orig;	/* the file as the process mapped it */
	size_t size;
	struct elfview v;		/* of d */
	bool interp;
	uint64_t lo, hi;	/* page range of every PT_LOAD */
};

/* libc state that must restart as it was in the file, not as it was in
 * memory; only in static programs, and only when .symtab names it. */
static const struct {
	const char *file, *name, *why;
} resets[] = {
	{ NULL, "__curbrk", "glibc: the break moved; sbrk asks the kernel again" },
	{ "cxa_atexit", "initial", "glibc: exit handlers are mangled with the old pointer guard" },
	{ NULL, "__exit_funcs", "glibc: exit handler list" },
	{ NULL, "__new_exitfn_called", "glibc: exit handler count" },
	{ NULL, "_dl_ns", "glibc: the link map list (the old vDSO is gone)" },
	{ NULL, "_dl_main_map", "glibc: the program's link map" },
	{ NULL, "_dl_nns", "glibc: link map namespaces" },
	{ NULL, "_dl_load_adds", "glibc: link map count" },
	{ NULL, "_dl_sysinfo_map", "glibc: the vDSO's link map" },
	{ "dl-find_object", NULL, "glibc: _dl_find_object's tables, sized for the old segments" },
	{ NULL, "__nptl_nthreads", "glibc: the thread count (the other threads are not dumped)" },
	{ NULL, "__libc_single_threaded", "glibc: single-threaded until a thread is created" },
	{ NULL, "_dl_stack_cache_actsize", "glibc: the size of the thread stack cache, emptied at start" },
	{ NULL, "_dl_in_flight_stack", "glibc: a thread stack being created or freed" },
	{ "__init_tls", "builtin_tls", "musl: the main thread's TLS starts afresh" },
};

int undump_read_file(const char *path, unsigned char **buf, size_t *size)
{
	struct stat st;
	unsigned char *b;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* a FIFO is refused, not waited on */

	*buf = NULL;
	if (fd < 0)
		return pr_err(path, "%s", strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return pr_err(path, S_ISREG(st.st_mode) ? "not an ELF file (too short)" : "not a regular file");
	}
	b = malloc(st.st_size);
	if (!b) {
		close(fd);
		return pr_err(path, "out of memory (%lld bytes)", (long long)st.st_size);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, b + got, st.st_size - got, got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(b);
			close(fd);
			return pr_err(path, "cannot read: %s", n ? strerror(errno) : "file shrank");
		}
		got += n;
	}
	close(fd);
	*buf = b;
	*size = got;
	return 0;
}

/* The headers of x->d, checked; what the dump needs beyond the view's checks. */
static int parse_exe(struct exe *x, const struct arch *mem)
{
	const char *p = x->path;
	size_t i;

	elfview_free(&x->v);
	x->interp = false;
	x->lo = UINT64_MAX;
	x->hi = 0;
	if (elfview_init(&x->v, p, x->d, x->size, ELFVIEW_PROGRAM))
		return -1;
	if (!mem && x->v.arch != arch_native()) {
		char kind[64];

		/* A process is of the machine surgeon runs on; so is its program. */
		return pr_err(p, "is %s program: surgeon dumps processes of the machine it runs on (%s) only",
			      arch_elf_kind(x->d, kind, sizeof(kind)), arch_native()->name);
	}
	if (mem && x->v.arch != mem) {
		char kind[64];

		return pr_err(p, "is %s program, and the memory is of %s %s process",
			      arch_elf_kind(x->d, kind, sizeof(kind)), mem->article, mem->name);
	}
	for (i = 0; i < x->v.phnum; i++) {
		const Elf64_Phdr *ph = &x->v.ph[i];

		if (ph->p_type == PT_INTERP)
			x->interp = true;
		if (ph->p_type != PT_LOAD)
			continue;
		/* The dump maps whole pages of the file at their addresses. */
		if ((ph->p_offset - ph->p_vaddr) % PG)
			return pr_err(p, "program header %zu: offset 0x%llx and address 0x%llx disagree modulo the page size",
				      i, (unsigned long long)ph->p_offset, (unsigned long long)ph->p_vaddr);
		if (ph->p_vaddr < x->lo)
			x->lo = ph->p_vaddr & ~(PG - 1);
		if (align_up(ph->p_vaddr + ph->p_memsz, PG) > x->hi)
			x->hi = align_up(ph->p_vaddr + ph->p_memsz, PG);
	}
	return 0;
}

/* Walks .symtab; calls fn(sym, name, file) until it returns true. */
static bool each_sym(const struct exe *x, bool (*fn)(const Elf64_Sym *, const char *, const char *, void *),
		     void *arg)
{
	for (size_t i = 1; i < x->v.shnum; i++) {
		const Elf64_Shdr *s = &x->v.sh[i], *str;
		const char *file = NULL;
		uint64_t n, k;

		if (s->sh_type != SHT_SYMTAB)
			continue;
		str = &x->v.sh[s->sh_link];	/* link and bytes checked by the view */
		if (str->sh_type != SHT_STRTAB)
			return false;
		n = s->sh_size / sizeof(Elf64_Sym);
		for (k = 1; k < n; k++) {
			Elf64_Sym sym;
			const char *name;

			memcpy(&sym, x->d + s->sh_offset + k * sizeof(sym), sizeof(sym));
			if (sym.st_name >= str->sh_size)
				continue;
			name = (const char *)x->d + str->sh_offset + sym.st_name;
			if (!memchr(name, 0, str->sh_size - sym.st_name))
				continue;
			if (ELF64_ST_TYPE(sym.st_info) == STT_FILE) {
				file = name;
				continue;
			}
			if (fn(&sym, name, ELF64_ST_BIND(sym.st_info) == STB_LOCAL ? file : NULL, arg))
				return true;
		}
	}
	return false;
}

struct range {
	uint64_t addr, size;
};
typedef VEC(struct range) range_vec;

struct find {
	const char *file, *name;
	range_vec *all;		/* name NULL: collect every object of `file` */
	bool failed;
	Elf64_Sym sym;
	const char *found;
	uint64_t addr;
};

static bool match_reset(const Elf64_Sym *s, const char *name, const char *file, void *arg)
{
	struct find *f = arg;
	const char *base;
	size_t n;

	if ((f->name ? strcmp(name, f->name) : ELF64_ST_TYPE(s->st_info) != STT_OBJECT) || !s->st_size ||
	    s->st_shndx == SHN_UNDEF || s->st_shndx >= SHN_LORESERVE)
		return false;
	if (f->file) {
		if (!file)
			return false;
		base = strrchr(file, '/');
		base = base ? base + 1 : file;
		n = strlen(f->file);
		if (strncmp(base, f->file, n) || base[n] != '.')
			return false;
	}
	f->sym = *s;
	f->found = name;
	if (!f->all)
		return true;
	if (VEC_PUSH(f->all, ((struct range){ s->st_value, s->st_size })))
		f->failed = true;
	return false;
}

static bool match_addr(const Elf64_Sym *s, const char *name, const char *file, void *arg)
{
	struct find *f = arg;
	unsigned t = ELF64_ST_TYPE(s->st_info);

	if ((t == STT_FUNC || t == STT_OBJECT) && f->addr >= s->st_value && f->addr - s->st_value < s->st_size) {
		f->sym = *s;
		f->found = name;
		return true;
	}
	return false;
}

static void addr_name(const struct exe *x, uint64_t addr, char *buf, size_t len)
{
	struct find f = { .addr = addr };

	if (each_sym(x, match_addr, &f))
		snprintf(buf, len, "%s+0x%llx", f.found, (unsigned long long)(addr - f.sym.st_value));
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)addr);
}

/* What the dynamic linker writes at start-up (relocation targets, the GOT
 * header, .dynamic) keeps its file value: ld.so relocates it afresh. */
static int dynamic_keeps(const struct exe *x, range_vec *keep)
{
	uint64_t rela[2][2] = { { 0 } }, pltgot = 0, off;
	const Elf64_Phdr *dyn = elfview_segment(&x->v, PT_DYNAMIC);
	size_t i, k;

	if (!dyn)
		return 0;
	if (VEC_PUSH(keep, ((struct range){ dyn->p_vaddr, dyn->p_filesz })))
		return -1;
	for (k = 0; k + sizeof(Elf64_Dyn) <= dyn->p_filesz; k += sizeof(Elf64_Dyn)) {
		Elf64_Dyn e;

		memcpy(&e, x->d + dyn->p_offset + k, sizeof(e));
		if (e.d_tag == DT_NULL)
			break;
		switch (e.d_tag) {
		case DT_RELA: rela[0][0] = e.d_un.d_ptr; break;
		case DT_RELASZ: rela[0][1] = e.d_un.d_val; break;
		case DT_JMPREL: rela[1][0] = e.d_un.d_ptr; break;
		case DT_PLTRELSZ: rela[1][1] = e.d_un.d_val; break;
		case DT_PLTGOT: pltgot = e.d_un.d_ptr; break;
		}
	}
	if (pltgot && VEC_PUSH(keep, ((struct range){ pltgot, 24 })))
		return -1;
	for (i = 0; i < 2; i++) {
		if (!rela[i][1])
			continue;
		if (!elfview_vaddr_to_off(&x->v, rela[i][0], rela[i][1], &off))
			return pr_err(x->path, "relocation table at 0x%llx lies outside the file",
				      (unsigned long long)rela[i][0]);
		for (k = 0; k + sizeof(Elf64_Rela) <= rela[i][1]; k += sizeof(Elf64_Rela)) {
			Elf64_Rela r;
			unsigned t;

			memcpy(&r, x->d + off + k, sizeof(r));
			t = x->v.arch->rel_class(ELF64_R_TYPE(r.r_info));
			if (t != REL_NONE && t != REL_COPY && VEC_PUSH(keep, ((struct range){ r.r_offset, 8 })))
				return -1;
		}
	}
	return 0;
}

static int static_keeps(const struct exe *x, range_vec *keep)
{
	size_t k;

	for (k = 1; k < x->v.shnum && x->v.sh[k].sh_type != SHT_SYMTAB; k++)
		;
	if (k >= x->v.shnum)
		pr_warn(x->path, "static program without .symtab: libc state that must restart (brk, exit "
			"handlers, link maps) cannot be found, and the dump may crash");
	for (size_t i = 0; i < sizeof(resets) / sizeof(*resets); i++) {
		struct find f = { .file = resets[i].file, .name = resets[i].name, .all = resets[i].name ? NULL : keep };
		size_t before = keep->n;

		if (!each_sym(x, match_reset, &f) && keep->n == before)
			continue;
		if (f.failed)
			return -1;
		pr_info("%s: %s keeps its initial value (%s)", x->path, resets[i].name ? resets[i].name : resets[i].file,
			resets[i].why);
		if (resets[i].name && VEC_PUSH(keep, ((struct range){ f.sym.st_value, f.sym.st_size })))
			return -1;
	}
	return 0;
}

/* Reads [addr, addr+len) in chunks, so a huge claim fails at the first
 * missing byte rather than after a huge allocation. */
static int read_mem(struct memsrc *src, uint64_t addr, uint64_t len, bytevec *to)
{
	to->n = 0;
	if (len && (src->read(src, addr, NULL, 0) || src->read(src, addr + len - 1, NULL, 0)))
		return -1;
	while (to->cap < len)
		if (vec_grow((void **)&to->v, &to->cap, 1))
			return -1;
	while (to->n < len) {
		size_t n = len - to->n < CHUNK ? len - to->n : CHUNK;

		if (src->read(src, addr + to->n, to->v + to->n, n))
			return -1;
		to->n += n;
	}
	return 0;
}

struct seg {
	Elf64_Phdr ph;
	bytevec mem;		/* memory of a writable segment or a region */
	int orig;		/* index in the exe's table, -1 for a region, -2 the table */
	uint64_t newoff;
};
typedef VEC(struct seg) seg_vec;

/* Read-only bytes: the file is the reference; memory only checks it. */
static int check_text(const struct exe *x, struct memsrc *src, const Elf64_Phdr *ph, unsigned flags)
{
	unsigned char buf[4096];
	uint64_t a, ndiff = 0, first = 0;
	char where[160];

	for (a = ph->p_vaddr; a < ph->p_vaddr + ph->p_filesz;) {
		uint64_t n = align_up(a + 1, PG) - a;

		if (n > ph->p_vaddr + ph->p_filesz - a)
			n = ph->p_vaddr + ph->p_filesz - a;
		if (!src->read(src, a, buf, n)) {
			const unsigned char *f = x->orig + ph->p_offset + (a - ph->p_vaddr);

			for (uint64_t k = 0; k < n; k++)
				if (buf[k] != f[k] && !ndiff++)
					first = a + k;
		}
		a += n;
	}
	if (!ndiff)
		return 0;
	addr_name(x, first, where, sizeof(where));
	if (flags & UNDUMP_STRICT)
		return pr_err(src->name, "memory at 0x%llx (%s) differs from %s: not a core of this program",
			      (unsigned long long)first, where, x->path);
	pr_warn(src->name, "the process changed its code: %llu bytes differ from %s, the first at 0x%llx (%s); "
		"the dump keeps the file's bytes", (unsigned long long)ndiff, x->path,
		(unsigned long long)first, where);
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->ph.p_vaddr < y->ph.p_vaddr ? -1 : x->ph.p_vaddr > y->ph.p_vaddr;
}

/* Anonymous memory that becomes segments: the heap always, the rest with
 * UNDUMP_ANON; nothing inside the program's own pages. */
static int pick_regions(const struct exe *x, struct memsrc *src, unsigned flags, seg_vec *segs)
{
	bool heap_found = false;
	size_t i, j;

	for (i = 0; i < src->regions.n; i++) {
		struct region *r = &src->regions.v[i];

		if (r->kind != REG_GUESS)
			continue;
		/* A core does not say where brk is: the heap is the anonymous
		 * memory that starts within brk's random offset after the program,
		 * or that runs on from its bss (brk not moved: qemu-user's). */
		if (!heap_found && r->end > x->hi && r->start <= x->hi + BRK_RANDOM + PG) {
			r->kind = REG_HEAP;
			while (i + 1 < src->regions.n && src->regions.v[i + 1].kind == REG_GUESS &&
			       src->regions.v[i + 1].start == r->end) {
				r = &src->regions.v[++i];
				r->kind = REG_HEAP;
			}
			heap_found = true;
		} else {
			r->kind = REG_ANON;
		}
	}
	for (i = 0; i < src->regions.n; i++) {
		struct region r = src->regions.v[i];
		struct seg s = { .orig = -1 };

		if (r.kind == REG_ANON && !(flags & UNDUMP_ANON))
			continue;
		if (r.start < x->hi && r.end > x->lo) {	/* the program's own bss pages */
			if (r.start >= x->lo && r.end <= x->hi)
				continue;
			if (r.start < x->lo)
				r.end = x->lo;
			else
				r.start = x->hi;
		}
		/* Another thread's stack: it is not dumped, nor is the stack it had
		 * not used (below its stack pointer and red zone). The region is
		 * trimmed rather than left out: the kernel merges neighbouring
		 * anonymous mappings, and a malloc'd block may share it. */
		for (j = 0; j < src->stacks.n && r.kind == REG_ANON; j++) {
			uint64_t sp = src->stacks.v[j], cut = (sp - x->v.arch->red_zone) & ~(PG - 1);

			if (sp >= r.start && sp < r.end && cut > r.start) {
				pr_info("%s: a thread's unused stack at 0x%llx-0x%llx is left out", src->name,
					(unsigned long long)r.start, (unsigned long long)cut);
				r.start = cut;
			}
		}
		if (r.start >= r.end || r.start % PG || r.end % PG)
			continue;
		if (read_mem(src, r.start, r.end - r.start, &s.mem)) {
			VEC_FREE(&s.mem);
			if (r.kind == REG_HEAP)
				return pr_err(src->name, "cannot read the heap at 0x%llx-0x%llx",
					      (unsigned long long)r.start, (unsigned long long)r.end);
			pr_info("%s: anonymous memory at 0x%llx-0x%llx cannot be read; left out", src->name,
				(unsigned long long)r.start, (unsigned long long)r.end);
			continue;
		}
		s.ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = r.flags | PF_R, .p_vaddr = r.start,
				     .p_paddr = r.start, .p_filesz = r.end - r.start, .p_memsz = r.end - r.start,
				     .p_align = PG };
		pr_info("%s: %s at 0x%llx-0x%llx becomes a segment", src->name, r.kind == REG_HEAP ? "heap" : "anonymous memory",
			(unsigned long long)r.start, (unsigned long long)r.end);
		if (VEC_PUSH(segs, s)) {
			VEC_FREE(&s.mem);
			return -1;
		}
	}
	return 0;
}

/* A PIE is dumped as the fixed-address program it is in memory: its file
 * rebased to the load address that the entry point in memory gives. */
static int place_pie(struct exe *x, const struct memsrc *src, unsigned char **rebased)
{
	struct elfnote n;
	uint64_t base, entry = x->v.eh.e_entry;

	/* A static-pie relocates itself. musl's takes its load address from
	 * PT_DYNAMIC's place, which the rebased headers make 0; glibc's takes
	 * it from __ehdr_start and adds it to PT_TLS, PT_GNU_RELRO and every
	 * address dl_iterate_phdr reports, while the kernel needs those same
	 * headers absolute to place an ET_EXEC. glibc's start files carry the
	 * NT_GNU_ABI_TAG note; musl's do not. */
	if (!x->interp && elfview_gnu_note(&x->v, NT_GNU_ABI_TAG, &n))
		return pr_err(x->path, "is a glibc static-pie: it adds the address it starts at to its own program "
			      "headers, which a fixed-address program must give absolute, so it cannot be "
			      "undumped (link it with -static -no-pie)");
	if (!src->have_entry)
		return pr_err(src->name, "does not say where the PIE %s was loaded (no auxiliary vector)", x->path);
	base = src->entry - entry;
	if (src->entry < entry || base % PG || !base)
		return pr_err(src->name, "its entry point 0x%llx does not fit %s (entry 0x%llx): not this program",
			      (unsigned long long)src->entry, x->path, (unsigned long long)entry);
	if (undump_rebase(x->path, x->d, x->size, base, rebased))
		return -1;
	x->d = *rebased;
	pr_info("%s: a PIE loaded at 0x%llx: dumped as a fixed-address program there", x->path,
		(unsigned long long)base);
	return 0;
}

struct insert {
	uint64_t at;		/* original file offset */
	uint64_t len;		/* bytes inserted, a multiple of the page size */
	uint64_t pos;		/* where they start in the output */
	int order;
};

static int cmp_insert(const void *a, const void *b)
{
	const struct insert *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order - y->order;
}

static uint64_t newoff(const struct insert *ins, size_t n, uint64_t off)
{
	uint64_t shift = 0;

	for (size_t i = 0; i < n; i++)
		if (ins[i].at <= off)
			shift += ins[i].len;
	return off + shift;
}

int undump_build(const char *exe_path, const unsigned char *exe, size_t exe_size, struct memsrc *src,
		 unsigned flags, bytevec *out)
{
	struct exe x = { .path = exe_path, .d = exe, .orig = exe, .size = exe_size };
	seg_vec segs = { 0 };
	range_vec keep = { 0 };
	struct insert ins[64];
	unsigned char *patched = NULL, *rebased = NULL;
	size_t i, j, nins = 0, nph, tail_ins = 0;
	uint64_t lowest, tsize, vt, tail_at = 0, total;
	int err = -1;

	out->n = 0;
	if (parse_exe(&x, src->arch) ||
	    (x.v.eh.e_type == ET_DYN && (place_pie(&x, src, &rebased) || parse_exe(&x, src->arch))))
		goto out;
	if (dynamic_keeps(&x, &keep) || (!x.interp && static_keeps(&x, &keep)))
		goto out;
	patched = malloc(x.size);
	if (!patched) {
		pr_err(NULL, "out of memory");
		goto out;
	}
	memcpy(patched, x.d, x.size);

	/* The program's own segments: data from memory, text checked. */
	for (i = 0; i < x.v.phnum; i++) {
		const Elf64_Phdr *ph = &x.v.ph[i];
		struct seg s = { .ph = *ph, .orig = i };

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_offset + ph->p_filesz > tail_at)
			tail_at = ph->p_offset + ph->p_filesz;
		if (!(ph->p_flags & PF_W)) {
			if (check_text(&x, src, ph, flags) || VEC_PUSH(&segs, s))
				goto out;
			continue;
		}
		if (read_mem(src, ph->p_vaddr, ph->p_memsz, &s.mem)) {
			VEC_FREE(&s.mem);
			pr_err(src->name, "cannot read the data segment of %s at 0x%llx-0x%llx", x.path,
			       (unsigned long long)ph->p_vaddr, (unsigned long long)(ph->p_vaddr + ph->p_memsz));
			goto out;
		}
		for (j = 0; j < keep.n; j++) {
			uint64_t a = keep.v[j].addr, b = a + keep.v[j].size;

			if (a < ph->p_vaddr)
				a = ph->p_vaddr;
			if (b > ph->p_vaddr + ph->p_memsz)
				b = ph->p_vaddr + ph->p_memsz;
			for (; a < b; a++)
				s.mem.v[a - ph->p_vaddr] = a - ph->p_vaddr < ph->p_filesz ?
							   x.d[ph->p_offset + (a - ph->p_vaddr)] : 0;
		}
		memcpy(patched + ph->p_offset, s.mem.v, ph->p_filesz);
		if (VEC_PUSH(&segs, s)) {
			VEC_FREE(&s.mem);
			goto out;
		}
	}
	if (pick_regions(&x, src, flags, &segs))
		goto out;

	/* The program header table's own segment, below everything. */
	nph = x.v.phnum + 1;
	lowest = x.lo;
	for (i = 0; i < segs.n; i++) {
		if (segs.v[i].orig < 0)
			nph++;
		if (segs.v[i].ph.p_vaddr < lowest)
			lowest = segs.v[i].ph.p_vaddr & ~(PG - 1);
	}
	if (nph >= PN_XNUM) {
		pr_err(src->name, "too many segments (%zu)", nph);
		goto out;
	}
	tsize = align_up(nph * sizeof(Elf64_Phdr), PG);
	if (lowest < MMAP_MIN + tsize) {
		pr_err(src->name, "no room below 0x%llx for the program header table", (unsigned long long)lowest);
		goto out;
	}
	vt = lowest - tsize;

	/* Insertions: each grown segment's bss after its file bytes, then
	 * after every loaded byte the new segments and the header table. */
	for (i = 0; i < segs.n; i++) {
		const Elf64_Phdr *ph = &segs.v[i].ph;

		if (segs.v[i].orig < 0 || !(ph->p_flags & PF_W) || ph->p_memsz == ph->p_filesz)
			continue;
		if (nins == sizeof(ins) / sizeof(*ins) - 1) {
			pr_err(x.path, "too many writable segments");
			goto out;
		}
		ins[nins] = (struct insert){ .at = ph->p_offset + ph->p_filesz,
					     .len = align_up(ph->p_memsz - ph->p_filesz, PG), .order = (int)i };
		nins++;
	}
	{
		uint64_t pad = (PG - tail_at % PG) % PG, len = pad + tsize + tail_at % PG;

		for (i = 0; i < segs.n; i++)
			if (segs.v[i].orig < 0)
				len += segs.v[i].ph.p_filesz;
		tail_ins = nins;
		ins[nins++] = (struct insert){ .at = tail_at, .len = len, .order = 1 << 30 };
	}
	qsort(ins, nins, sizeof(*ins), cmp_insert);
	for (i = 0, total = 0; i < nins; i++) {
		ins[i].pos = ins[i].at + total;
		total += ins[i].len;
		if (ins[i].order == 1 << 30)
			tail_ins = i;
	}
	/* Assemble the file. */
	out->n = 0;
	while (out->cap < x.size + total)
		if (vec_grow((void **)&out->v, &out->cap, 1))
			goto out;
	memset(out->v, 0, x.size + total);
	{
		uint64_t from = 0;

		for (i = 0; i < nins; i++) {
			memcpy(out->v + from + (ins[i].pos - ins[i].at), patched + from, ins[i].at - from);
			from = ins[i].at;
		}
		memcpy(out->v + from + total, patched + from, x.size - from);
	}
	out->n = x.size + total;
	for (i = 0; i < segs.n; i++) {
		struct seg *s = &segs.v[i];

		if (s->orig < 0)
			continue;
		for (j = 0; j < nins; j++)
			if (ins[j].order == (int)i)
				break;
		if (j < nins) {
			memcpy(out->v + ins[j].pos, s->mem.v + s->ph.p_filesz, s->ph.p_memsz - s->ph.p_filesz);
			s->newoff = ins[j].pos - s->ph.p_filesz;
			s->ph.p_filesz = s->ph.p_memsz;
		} else {
			s->newoff = newoff(ins, nins, s->ph.p_offset);
		}
	}
	{
		uint64_t pos = align_up(ins[tail_ins].pos, PG);

		for (i = 0; i < segs.n; i++) {
			struct seg *s = &segs.v[i];

			if (s->orig >= 0)
				continue;
			memcpy(out->v + pos, s->mem.v, s->ph.p_filesz);
			s->newoff = pos;
			pos += s->ph.p_filesz;
		}
		/* The table's segment, the first PT_LOAD. */
		struct seg t = { .orig = -2, .newoff = pos };

		t.ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R, .p_vaddr = vt, .p_paddr = vt,
				     .p_filesz = nph * sizeof(Elf64_Phdr), .p_memsz = nph * sizeof(Elf64_Phdr),
				     .p_align = PG };
		if (VEC_PUSH(&segs, t))
			goto out;
	}
	qsort(segs.v, segs.n, sizeof(*segs.v), cmp_seg);

	/* Headers: program headers with every load in address order where the
	 * first load was; sections and the section table moved; .bss now in the file. */
	{
		Elf64_Phdr *tab = (Elf64_Phdr *)(out->v + segs.v[0].newoff);
		Elf64_Ehdr eh = x.v.eh;
		size_t k = 0;
		bool loads_done = false;

		for (i = 0; i < x.v.phnum; i++) {
			Elf64_Phdr ph = x.v.ph[i];

			if (ph.p_type == PT_LOAD) {
				if (loads_done)
					continue;
				for (j = 0; j < segs.n; j++) {
					Elf64_Phdr p = segs.v[j].ph;

					p.p_offset = segs.v[j].newoff;
					memcpy(&tab[k++], &p, sizeof(p));
				}
				loads_done = true;
				continue;
			}
			if (ph.p_type == PT_PHDR) {
				ph.p_offset = segs.v[0].newoff;
				ph.p_vaddr = ph.p_paddr = vt;
				ph.p_filesz = ph.p_memsz = nph * sizeof(Elf64_Phdr);
			} else {
				ph.p_offset = newoff(ins, nins, ph.p_offset);
			}
			memcpy(&tab[k++], &ph, sizeof(ph));
		}
		eh.e_phoff = segs.v[0].newoff;
		eh.e_phnum = nph;
		if (x.v.shnum)
			eh.e_shoff = newoff(ins, nins, x.v.eh.e_shoff);
		memcpy(out->v, &eh, sizeof(eh));
		for (i = 0; i < x.v.shnum; i++) {
			Elf64_Shdr sh = x.v.sh[i];

			if (!i)
				goto put;
			if (sh.sh_type == SHT_NOBITS && !(sh.sh_flags & SHF_TLS) && (sh.sh_flags & SHF_ALLOC)) {
				for (j = 0; j < segs.n; j++) {
					const struct seg *s = &segs.v[j];

					if (s->orig >= 0 && (s->ph.p_flags & PF_W) && sh.sh_addr >= s->ph.p_vaddr &&
					    sh.sh_addr + sh.sh_size <= s->ph.p_vaddr + s->ph.p_memsz) {
						sh.sh_type = SHT_PROGBITS;
						sh.sh_offset = s->newoff + (sh.sh_addr - s->ph.p_vaddr);
						goto put;
					}
				}
			}
			sh.sh_offset = newoff(ins, nins, sh.sh_offset);
put:
			memcpy(out->v + eh.e_shoff + i * sizeof(sh), &sh, sizeof(sh));
		}
	}
	err = 0;
out:
	if (err)
		out->n = 0;
	for (i = 0; i < segs.n; i++)
		VEC_FREE(&segs.v[i].mem);
	VEC_FREE(&segs);
	VEC_FREE(&keep);
	free(patched);
	free(rebased);
	elfview_free(&x.v);
	return err;
}

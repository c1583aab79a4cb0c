/* The link for inject: add-lib's (relink_link: the program's frozen image,
 * the system linker, --replace and --wrap), against the process as it is
 * now:
 * - the program at its load address: a PIE's file is rebased to where the
 *   process has it (unexec/rebase.c), so the linker sees real addresses;
 * - its shared libraries where they are: a name the added code uses that
 *   neither it nor the program defines is looked up in the libraries, in
 *   the dynamic loader's order, at the default version of the symbol (as
 *   ld.so binds it), and offered to the linker in a small object made here:
 *   a function as a stub that jumps through a slot holding its address (the
 *   linker cannot make a PLT in a static link, and the libraries are too
 *   far for a 32-bit call), a variable as an absolute symbol. The slot of an
 *   IFUNC holds what its resolver returns in the process (inject.c calls it
 *   there). The stubs are weak: a definition from an input or an archive wins;
 * - the new code at a free address within a 32-bit reach of the program:
 *   where add-lib puts it (right after the program) when that is free, so
 *   the code is add-lib's byte for byte; otherwise the nearest free gap.
 * The link is static (relink_opts.live): nothing is left for a dynamic
 * loader to do, so loading is copying. */
#include "arch/arch.h"
#include "live/live.h"
#include "relink/patch.h"
#include "unexec/dwarf.h"
#include "unexec/anchors.h"
#include "unexec/undump.h"
#include "unexec/unexec.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SLOT_PREFIX ANCHOR_PREFIX "slot."
/* A 32-bit displacement's reach, less 16 MiB to spare. */
#define REACH ((1ull << 31) - (16ull << 20))
/* Room left above the brk heap for it to grow. */
#define HEAP_ROOM (64ull << 20)
#define STUB_LEN 8

/* A rebased PIE's .init_array and .fini_array hold what the dynamic
 * loader put there (the rebase drops the RELATIVE relocations that said
 * it): which function each slot runs, as add-lib reads it from the file. */
static void relocated_arrays(struct target *t, unsigned char *d, size_t size)
{
	Elf64_Ehdr eh;

	memcpy(&eh, d, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !range_ok(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), size))
		return;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, d + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if ((sh.sh_type == SHT_INIT_ARRAY || sh.sh_type == SHT_FINI_ARRAY) && range_ok(sh.sh_offset, sh.sh_size, size) &&
		    sh.sh_size <= 65536)
			mem_read(t, sh.sh_addr, d + sh.sh_offset, sh.sh_size);
	}
}

/* The program as the process runs it: a PIE rebased to its load address. */
static int read_program(struct target *t, const struct image_opts *io, struct image **img)
{
	char path[64];
	unsigned char *buf = NULL;
	size_t size = 0;
	Elf64_Ehdr eh;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	{
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? pread(fd, &eh, sizeof(eh), 0) : -1;

		if (fd >= 0)
			close(fd);
		if (n < 0)
			return pr_err(t->name, "cannot read its program %s: %s", t->exe, strerror(errno));
		if (n < (ssize_t)sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
			return pr_err(t->name, "its program %s is not an ELF file", t->exe);
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return pr_err(t->name, "its program %s is not a 64-bit executable", t->exe);
	/* ptrace, the registers and the code surgeon runs there are x86-64's. */
	if (eh.e_machine != EM_X86_64)
		return pr_err(t->name, "its program %s is not an x86-64 one (emulated?): inject works on x86-64 "
			      "processes", t->exe);
	/* A fixed-address program is read where it is (mapped, not copied). */
	if (eh.e_type == ET_EXEC) {
		if (image_open_headers(img, path, io))
			return -1;
		free((*img)->path);
		(*img)->path = xstrdup(t->exe);
		return (*img)->path ? 0 : -1;
	}
	if (undump_read_file(path, &buf, &size))
		return -1;
	{
		uint64_t entry = proc_entry(t), base = entry - eh.e_entry;
		unsigned char *rb = NULL;

		if (!entry) {
			free(buf);
			return pr_err(t->name, "cannot tell where its program is loaded (no AT_ENTRY)");
		}
		if (undump_rebase(t->exe, buf, size, base, &rb)) {
			free(buf);
			return -1;
		}
		free(buf);
		buf = rb;
		pr_info("%s: %s is a PIE loaded at 0x%llx", t->name, t->exe, (unsigned long long)base);
		relocated_arrays(t, buf, size);
	}
	return image_open_mem_headers(img, t->exe, buf, size, io);
}

struct libsym {
	char *name;
	uint64_t addr;
	unsigned char type;
	const char *lib;
};

/* The value a wanted name has until a library defines it. */
static char not_found;

struct lookup {
	struct strmap *want;		/* name -> &not_found, or its struct libsym */
	VEC(struct libsym *) found;
};

/* One library's dynamic symbols: a default-version definition of a wanted
 * name not found in an earlier library is taken. */
static int scan_lib(struct lookup *lk, const struct proclib *pl)
{
	int fd = open(pl->open_path, O_RDONLY | O_CLOEXEC);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	Elf_Scn *scn = NULL, *dynsym = NULL, *versym = NULL;
	Elf_Data *sd, *vd = NULL;
	GElf_Shdr sh, dsh;
	int err = 0;

	if (!e) {
		if (fd >= 0)
			close(fd);
		pr_warn(pl->path, "cannot read its symbols: %s", fd < 0 ? strerror(errno) : elf_errmsg(-1));
		return 0;
	}
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh)) {
			if (sh.sh_type == SHT_DYNSYM)
				dynsym = scn;
			else if (sh.sh_type == SHT_GNU_versym)
				versym = scn;
		}
	if (!dynsym || !gelf_getshdr(dynsym, &dsh) || !(sd = elf_getdata(dynsym, NULL)) || !dsh.sh_entsize)
		goto out;
	if (versym)
		vd = elf_getdata(versym, NULL);
	for (size_t i = 1; i < dsh.sh_size / dsh.sh_entsize; i++) {
		GElf_Sym s;
		GElf_Versym v = 1;
		const char *name;
		struct libsym *ls;

		if (!gelf_getsym(sd, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
		    GELF_ST_BIND(s.st_info) == STB_LOCAL || !(name = elf_strptr(e, dsh.sh_link, s.st_name)))
			continue;
		/* Hidden (non-default) versions are not bound by plain name. */
		if (vd && (!gelf_getversym(vd, (int)i, &v) || (v & 0x8000) || (v & 0x7fff) == 0))
			continue;
		if (strmap_get(lk->want, name) != &not_found)
			continue;	/* not wanted, or found in an earlier library */
		ls = zalloc(sizeof(*ls));
		if (!ls || VEC_PUSH(&lk->found, ls)) {
			free(ls);
			err = -1;
			goto out;
		}
		ls->name = xstrdup(name);
		if (!ls->name) {
			err = -1;
			goto out;
		}
		ls->addr = s.st_shndx == SHN_ABS ? s.st_value : pl->bias + s.st_value;
		ls->type = GELF_ST_TYPE(s.st_info);
		ls->lib = pl->path;
		if (strmap_put(lk->want, name, ls)) {
			err = -1;
			goto out;
		}
	}
out:
	elf_end(e);
	close(fd);
	return err;
}

/* A member of the stubs' archive: an object defining one name. */
struct member {
	const char *name;
	unsigned char *bytes;
	size_t size;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* The object for one library name: a function's stub (jmp *slot(%rip))
 * and its slot, or a variable's absolute symbol. */
static int stub_object(struct live_link *ll, const char *name, const struct libsym *ls, const char *tmp,
		       struct member *m)
{
	const struct arch *a = ll->img->arch;
	static const unsigned char code[STUB_LEN] = { 0xff, 0x25, 0, 0, 0, 0, 0xcc, 0xcc };
	struct strset *str = strset_new();
	char *slot_name = xasprintf(SLOT_PREFIX "%s", name);
	bool fn = ls->type == STT_FUNC || ls->type == STT_GNU_IFUNC;
	uint64_t slot = ls->addr;
	Elf64_Sym syms[3] = { { 0 } };
	Elf64_Rela r = { .r_offset = 2, .r_info = ELF64_R_INFO(1, a->rel_type(REL_PC32)), .r_addend = -4 };
	int err = -1;

	if (!str || !slot_name || strset_add(str, "") < 0)
		goto out;
	syms[1] = (Elf64_Sym){ .st_name = (Elf64_Word)strset_add(str, slot_name),
			       .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_other = STV_HIDDEN,
			       .st_shndx = 6, .st_size = 8 };
	syms[2] = (Elf64_Sym){ .st_name = (Elf64_Word)strset_add(str, name) };
	if (fn) {
		syms[2].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
		syms[2].st_shndx = 1;
		syms[2].st_size = STUB_LEN;
	} else {
		syms[2].st_info = ELF64_ST_INFO(STB_GLOBAL, ls->type == STT_NOTYPE ? STT_NOTYPE : STT_OBJECT);
		syms[2].st_shndx = SHN_ABS;
		syms[2].st_value = ls->addr;
	}
	if (relobj_write(tmp, a, ".surgeon.text", fn ? code : NULL, fn ? STUB_LEN : 0, fn ? &r : NULL, fn, syms, 3,
			 str, ".surgeon.relro", &slot, 8) ||
	    undump_read_file(tmp, &m->bytes, &m->size))
		goto out;
	m->name = name;
	err = 0;
out:
	strset_free(str);
	free(slot_name);
	return err;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
}

static int ar_header(bytevec *b, const char *name, size_t size)
{
	char h[61];

	snprintf(h, sizeof(h), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "0", "0", "0", "644", size);
	for (size_t i = 0; i < 60; i++)
		if (VEC_PUSH(b, (unsigned char)h[i]))
			return -1;
	return 0;
}

static int ar_bytes(bytevec *b, const void *p, size_t n)
{
	if (VEC_RESERVE(b, b->n + n + 1))
		return -1;
	memcpy(b->v + b->n, p, n);
	b->n += n;
	return (n & 1) ? VEC_PUSH(b, (unsigned char)'\n') : 0;
}

/* The process's libraries as an archive (see the top): one member per
 * name, with ld's symbol index, so that the linker takes only the stubs
 * the link turns out to need (gcc's archives included). */
static int write_stubs(struct live_link *ll, struct lookup *lk, const char *path)
{
	VEC(struct member) ms = { 0 };
	bytevec ar = { 0 }, index = { 0 };
	char *tmp = xasprintf("%s.member.o", path);
	size_t names = 0, at;
	int err = -1;

	if (!tmp)
		return -1;
	for (size_t i = 0; i < lk->found.n; i++) {
		const struct libsym *ls = lk->found.v[i];
		struct member m = { 0 };

		if (ls->type == STT_TLS)
			continue;	/* the linker's error names it */
		if (stub_object(ll, ls->name, ls, tmp, &m) || VEC_PUSH(&ms, m)) {
			free(m.bytes);
			goto out;
		}
		if (ls->type == STT_GNU_IFUNC) {
			struct ifunc_slot is = { .name = xstrdup(ls->name), .resolver = ls->addr };

			if (!is.name || VEC_PUSH(&ll->ifuncs, is)) {
				free(is.name);
				goto out;
			}
		}
		pr_info("%s: '%s' is %s's, at 0x%llx%s", ll->img->path, ls->name, ls->lib, (unsigned long long)ls->addr,
			ls->type == STT_GNU_IFUNC ? " (an IFUNC: resolved in the process)" : "");
	}
	if (ms.n)
		qsort(ms.v, ms.n, sizeof(*ms.v), cmp_member);
	/* The symbol index: each name and where its member's header is. */
	for (size_t i = 0; i < ms.n; i++)
		names += strlen(ms.v[i].name) + 1;
	at = 8 + 60 + 4 + 4 * ms.n + names + ((4 + 4 * ms.n + names) & 1);
	if (VEC_RESERVE(&index, 4 + 4 * ms.n + names) )
		goto out;
	index.n = 4 + 4 * ms.n;
	put_be32(index.v, (uint32_t)ms.n);
	for (size_t i = 0; i < ms.n; i++) {
		put_be32(index.v + 4 + 4 * i, (uint32_t)at);
		at += 60 + ms.v[i].size + (ms.v[i].size & 1);
	}
	for (size_t i = 0; i < ms.n; i++) {
		size_t len = strlen(ms.v[i].name) + 1;

		memcpy(index.v + index.n, ms.v[i].name, len);
		index.n += len;
	}
	if (ar_bytes(&ar, "!<arch>\n", 8) || ar_header(&ar, "/", index.n) || ar_bytes(&ar, index.v, index.n))
		goto out;
	for (size_t i = 0; i < ms.n; i++)
		if (ar_header(&ar, "stub.o/", ms.v[i].size) || ar_bytes(&ar, ms.v[i].bytes, ms.v[i].size))
			goto out;
	err = write_file(path, ar.v, ar.n, 0644);
out:
	unlink(tmp);
	for (size_t i = 0; i < ms.n; i++)
		free(ms.v[i].bytes);
	VEC_FREE(&ms);
	VEC_FREE(&ar);
	VEC_FREE(&index);
	free(tmp);
	return err;
}

/* -l NAME of a library the process has loaded: its names come from there. */
static bool lib_loaded(const proclib_vec *libs, const char *name)
{
	for (size_t i = 0; i < libs->n; i++) {
		const char *base = strrchr(libs->v[i].path, '/');

		base = base ? base + 1 : libs->v[i].path;
		if (name[0] == ':' ? !strcmp(base, name + 1) :
		    (!strncmp(base, "lib", 3) && !strncmp(base + 3, name, strlen(name)) &&
		     !strncmp(base + 3 + strlen(name), ".so", 3)))
			return true;
	}
	return false;
}

/* The libraries' part: stubs for what they define, -l inputs they satisfy dropped. */
static int link_libraries(struct target *t, struct live_link *ll)
{
	struct lookup lk = { 0 };
	proclib_vec libs = { 0 };
	size_t j = 0;
	int err = -1;

	/* Wanted: what the inputs (and gcc's archives) use and neither they
	 * nor the program define. */
	lk.want = strmap_new(ll->refs.nnames + 1);
	if (!lk.want)
		goto out;
	for (size_t i = 0; i < ll->refs.nnames; i++) {
		const char *n = ll->refs.names[i];

		if (!strmap_get(ll->refs.defined, n) && !image_symbol(ll->img, n) && !unexec_reserved_name(n) &&
		    strmap_put(lk.want, n, &not_found))
			goto out;
	}
	if (proc_libs(t, ll->img, &libs))
		goto out;
	for (size_t i = 0; i < libs.n; i++)
		if (scan_lib(&lk, &libs.v[i]))
			goto out;
	/* The inputs, less the -l libraries the process has. */
	for (size_t i = 0; i < ll->ro.inputs.n; i++) {
		const struct input *in = &ll->ro.inputs.v[i];

		if (in->kind == IN_LIB && lib_loaded(&libs, in->arg)) {
			pr_info("%s: -l%s: the process has it loaded", t->name, in->arg);
			continue;
		}
		ll->ro.inputs.v[j++] = *in;
	}
	ll->ro.inputs.n = j;
	if (lk.found.n) {
		if (write_stubs(ll, &lk, ll->stubs))
			goto out;
		ll->ro.live_stubs = ll->stubs;
	}
	err = 0;
out:
	for (size_t i = 0; i < lk.found.n; i++) {
		free(lk.found.v[i]->name);
		free(lk.found.v[i]);
	}
	VEC_FREE(&lk.found);
	strmap_free(lk.want);
	proclibs_free(&libs);
	return err;
}

static bool range_free(const struct maps *m, uint64_t lo, uint64_t hi)
{
	if (lo < (1ull << 16) || hi > arch_native()->user_end - (1ull << 20) || hi <= lo)
		return false;
	for (size_t i = 0; i < m->v.n; i++)
		if (m->v.v[i].start < hi && m->v.v[i].end > lo)
			return false;
	return true;
}

static bool reaches(uint64_t lo, uint64_t hi, uint64_t exe_lo, uint64_t exe_hi)
{
	return (hi > exe_hi ? hi : exe_hi) - (lo < exe_lo ? lo : exe_lo) <= REACH;
}

/* Where `size` bytes of new code go: `pref` (add-lib's place) when free,
 * otherwise the free gap nearest the program (leaving the brk heap room
 * to grow), all within a 32-bit reach of the program. */
static int choose_base(const struct target *t, const struct image *img, uint64_t size, uint64_t pref, uint64_t *out)
{
	const struct maps *m = &t->maps;
	uint64_t exe_lo = UINT64_MAX, exe_hi = img->vaddr_end, best = 0, best_dist = UINT64_MAX, prev_end = 1ull << 16;
	const char *prev_path = "";

	for (size_t i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_LOAD && img->phdrs[i].p_vaddr < exe_lo)
			exe_lo = img->phdrs[i].p_vaddr & ~(img->arch->page_size - 1);
	if (range_free(m, pref, pref + size) && reaches(pref, pref + size, exe_lo, exe_hi)) {
		*out = pref;
		return 0;
	}
	for (size_t i = 0; i <= m->v.n; i++) {
		uint64_t g_lo = prev_end + img->arch->page_size, g_hi, cand, dist;

		g_hi = (i < m->v.n ? m->v.v[i].start : img->arch->user_end - (1ull << 20)) - img->arch->page_size;
		if (!strcmp(prev_path, "[heap]"))
			g_lo += HEAP_ROOM;
		if (i < m->v.n) {
			prev_end = m->v.v[i].end;
			prev_path = m->v.v[i].path;
		}
		if (g_hi <= g_lo || g_hi - g_lo < size || g_lo > img->arch->user_end)
			continue;
		if (g_hi <= exe_lo)
			cand = (g_hi - size) & ~(img->arch->page_size - 1);
		else if (g_lo >= exe_hi)
			cand = align_up(g_lo, img->arch->page_size);
		else
			continue;
		if (cand < g_lo || cand + size > g_hi || !reaches(cand, cand + size, exe_lo, exe_hi))
			continue;
		dist = cand >= exe_hi ? cand - exe_hi : exe_lo - (cand + size);
		if (dist < best_dist) {
			best = cand;
			best_dist = dist;
		}
	}
	if (!best)
		return pr_err(t->name, "no free room for %llu bytes of new code within 2 GiB of its program",
			      (unsigned long long)size);
	*out = best;
	return 0;
}

/* The program's unwinding table that relink makes for a file (the
 * program's functions and the new ones): a process's unwinder never sees
 * it (it reads the program's PT_GNU_EH_FRAME in memory), so it is not
 * loaded. */
bool live_unloaded(const struct linked *l, const struct newsec *s)
{
	return l->ehhdr.bytes && s->bytes == l->ehhdr.bytes;
}

/* The end of what the link added (its sections after the old image). */
static uint64_t linked_end(const struct linked *l, uint64_t base)
{
	uint64_t end = base;

	for (size_t i = 0; i < l->secs.n; i++)
		if (!live_unloaded(l, &l->secs.v[i]) && l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size > end)
			end = l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size;
	return end;
}

static int link_at(struct live_link *ll, uint64_t base)
{
	if (ll->linked)
		relink_link_free(&ll->lr);
	ll->linked = false;
	for (size_t i = 0; i < ll->irels.n; i++)
		free(ll->irels.v[i].name);
	ll->irels.n = 0;
	ll->img->new_base = base;
	if (unexec_write_script(ll->img, ll->script))
		return -1;
	/* Freed by live_link_free whether it succeeds or not. */
	ll->linked = true;
	if (relink_link(ll->img, ll->obj, ll->script, &ll->ro, &ll->lr))
		return -1;
	ll->base = base;
	ll->end = align_up(linked_end(&ll->lr.l, base), ll->img->arch->page_size);
	return 0;
}

/* The new code's IFUNCs (a static program's libc.a has many): each
 * IRELATIVE relocation's slot gets what its resolver returns when run in
 * the process (inject.c), as the constructor thunk does in a file. */
static int irelative_slots(struct live_link *ll, const struct newsec *s)
{
	const Elf64_Rela *r = (const Elf64_Rela *)s->bytes;

	if (!s->bytes || s->sh.sh_size % sizeof(*r))
		return pr_err(ll->img->path, "the linker's '%s' is not a relocation table", s->name);
	for (size_t i = 0; i < s->sh.sh_size / sizeof(*r); i++) {
		struct ifunc_slot is = { .slot = r[i].r_offset, .resolver = r[i].r_addend };

		if (ll->img->arch->rel_class(ELF64_R_TYPE(r[i].r_info)) != REL_IRELATIVE)
			return pr_err(ll->img->path, "the added code needs a relocation of type %u at 0x%llx, which only "
				      "a dynamic loader applies", (unsigned)ELF64_R_TYPE(r[i].r_info),
				      (unsigned long long)r[i].r_offset);
		is.name = xasprintf("IRELATIVE 0x%llx", (unsigned long long)is.slot);
		if (!is.name || VEC_PUSH(&ll->irels, is)) {
			free(is.name);
			return -1;
		}
	}
	return 0;
}

/* What a file gets from a dynamic loader or a new thread, a process cannot. */
static int check_linked(const struct target *t, struct live_link *ll)
{
	const struct linked *l = &ll->lr.l;

	if (l->tls.active)
		return pr_err(t->name, "the added code has thread-local variables: the threads the process "
			      "already runs cannot be given them");
	for (size_t i = 0; i < l->secs.n; i++)
		if (!strcmp(l->secs.v[i].name, ".rela.iplt") && l->secs.v[i].sh.sh_size && irelative_slots(ll, &l->secs.v[i]))
			return -1;
	for (size_t i = 0; i < l->meta.n; i++)
		if (!strcmp(l->meta.v[i].name, ".rela.iplt") && l->meta.v[i].sh.sh_size) {
			if (irelative_slots(ll, &l->meta.v[i]))
				return -1;
		} else if (l->meta.v[i].sh.sh_size)
			return pr_err(t->name, "the added code needs the dynamic loader (the linker made '%s'), which "
				      "inject does without", l->meta.v[i].name);
	for (size_t i = 0; i < l->secs.n; i++) {
		const char *n = l->secs.v[i].name;

		if (!strcmp(n, ".interp") || !strcmp(n, ".dynamic"))
			return pr_err(t->name, "the added code needs the dynamic loader (the linker made '%s')", n);
	}
	return 0;
}

int live_link(struct target *t, struct live_link *ll, const struct relink_opts *o, const struct image_opts *io)
{
	struct image_opts opts = *io;
	struct image *img;
	const char *dir = tmp_dir();
	uint64_t pref, base = 0;
	int err;

	memset(ll, 0, sizeof(*ll));
	ll->lr.l.fd = -1;
	ll->ro = *o;
	ll->ro.live = true;
	ll->ro.verb = "inject";
	ll->ro.program = t->exe;
	memset(&ll->ro.inputs, 0, sizeof(ll->ro.inputs));
	for (size_t i = 0; i < o->inputs.n; i++)
		if (VEC_PUSH(&ll->ro.inputs, o->inputs.v[i]))
			return -1;
	for (size_t i = 0; i < o->inputs.n; i++)
		if (o->inputs.v[i].kind == IN_FILE && access(o->inputs.v[i].arg, R_OK))
			return pr_err(o->inputs.v[i].arg, "%s", strerror(errno));
	if (!dir || !(ll->obj = xasprintf("%s/image.o", dir)) || !(ll->script = xasprintf("%s/image.ld", dir)) ||
	    !(ll->stubs = xasprintf("%s/libraries.a", dir)))
		return -1;
	opts.defer_dwarf = true;
	if (read_program(t, &opts, &ll->img))
		return -1;
	img = ll->img;
	/* As add-lib: only the program's names the inputs use are loaded. */
	if (inputs_referenced(&ll->ro, img, &ll->refs))
		return -1;
	if (!ll->refs.set)
		return pr_err(t->name, "cannot tell which names the inputs use (an LTO object, a linker script, a "
			      "library that is not found?): inject needs to know them");
	for (size_t i = 0; i < ll->ro.patch_reqs.n; i++) {
		const struct patch_req *pq = &ll->ro.patch_reqs.v[i];

		if (strmap_put(ll->refs.set, pq->old, (void *)pq->old))
			return -1;
		/* --wrap's __real_SYM: the trampolines' object defines it. */
		if (pq->wrap) {
			char *real = xasprintf("__real_%s", pq->old);

			if (!real || VEC_PUSH(&ll->owned, real) || strmap_put(ll->refs.defined, real, (void *)1)) {
				if (real && (!ll->owned.n || ll->owned.v[ll->owned.n - 1] != real))
					free(real);
				return -1;
			}
		}
	}
	if (img->interp && image_want(img, ll->refs.set))
		return -1;
	if (image_load(img))
		return -1;
	if (img->interest && !input_refs_all_known(img, &ll->refs)) {
		err = libs_archive_names(&ll->refs, img->arch);
		if (err < 0 || (err > 0 && image_want(img, NULL)) || image_reload_symbols(img))
			return -1;
	}
	if (input_refs_need_dwarf(img, &ll->ro, &ll->refs) && image_load_dwarf(img))
		return -1;
	ll->ro.names_all_known = input_refs_all_known(img, &ll->refs);
	/* A dynamic program's libraries: what the process has loaded (and -l
	 * of a loaded library is dropped, even when nothing is wanted). */
	if (img->interp && link_libraries(t, ll))
		return -1;
	if (!ll->ro.names_all_known) {
		if (libs_plan(&ll->libs, img, &ll->ro, &ll->refs))
			return -1;
		ll->ro.libs = &ll->libs;
	}
	ll->ro.refs = &ll->refs;
	if (img->symtab_idx < 0)
		ll->ro.undef_hint = "the program has no .symtab: only its dynamic symbols and imports have names";
	if (unexec_write_object(img, ll->obj, &(struct freeze_opts){ .thin = true }))
		return -1;
	/* Linked where add-lib would put it; again elsewhere when that is taken. */
	img->new_base = 0;
	pref = unexec_new_base(img);
	if (link_at(ll, pref) || check_linked(t, ll) ||
	    choose_base(t, img, ll->end - ll->base, pref, &base))
		return -1;
	if (base != pref) {
		uint64_t size = ll->end - ll->base;

		pr_info("%s: 0x%llx (after the program) is taken: the new code goes to 0x%llx", t->name,
			(unsigned long long)pref, (unsigned long long)base);
		if (link_at(ll, base) || check_linked(t, ll))
			return -1;
		if (ll->end - ll->base != size)
			return pr_err(t->name, "the new code's size changed between two links (%llu, %llu bytes)",
				      (unsigned long long)size, (unsigned long long)(ll->end - ll->base));
	}
	/* Where the IFUNC slots landed. */
	for (size_t k = 0; k < ll->ifuncs.n; k++) {
		char *want = xasprintf(SLOT_PREFIX "%s", ll->ifuncs.v[k].name);

		if (!want)
			return -1;
		ll->ifuncs.v[k].slot = 0;
		for (size_t i = 1; i < ll->lr.l.nsyms && !ll->ifuncs.v[k].slot; i++) {
			const char *name = linked_str(&ll->lr.l, ll->lr.l.sym_strndx, ll->lr.l.syms[i].st_name);

			if (name && !strcmp(name, want))
				ll->ifuncs.v[k].slot = ll->lr.l.syms[i].st_value;
		}
		free(want);
	}
	return 0;
}

void live_link_free(struct live_link *ll)
{
	if (ll->linked)
		relink_link_free(&ll->lr);
	input_refs_free(&ll->refs);
	libs_free(&ll->libs);
	image_free(ll->img);
	VEC_FREE(&ll->ro.inputs);
	for (size_t i = 0; i < ll->ifuncs.n; i++)
		free(ll->ifuncs.v[i].name);
	VEC_FREE(&ll->ifuncs);
	for (size_t i = 0; i < ll->irels.n; i++)
		free(ll->irels.v[i].name);
	VEC_FREE(&ll->irels);
	for (size_t i = 0; i < ll->owned.n; i++)
		free(ll->owned.v[i]);
	VEC_FREE(&ll->owned);
	free(ll->obj);
	free(ll->script);
	free(ll->stubs);
	memset(ll, 0, sizeof(*ll));
}

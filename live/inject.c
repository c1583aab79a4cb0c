/* inject, eject and info --pid, step by step. */
#include "live/live.h"
#include "cli/json.h"
#include "relink/patch.h"
#include "relink/sha256.h"
#include "unexec/anchors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

/* How long a thread may stay in bytes about to change before surgeon gives up. */
#define PATIENCE 2.0

/* ---- inject ---- */

struct load {
	struct target t;
	struct live_link ll;
	record_vec recs;
	struct record rec;
	edit_vec edits;
	hot_vec hot;
	VEC(char *) owned;	/* strings the hot ranges name */
	struct strset *str;	/* the record's strings */
	uint64_t init, init_end, fini, fini_end;
	/* how far it got, for the undoing */
	struct remote *rx;
	bool rec_mapped, region_mapped, ctors_ran;
	bool no_names;		/* the kernel cannot name mappings */
	size_t patched;
};

static uint64_t linked_sym(const struct linked *l, const char *want)
{
	for (size_t i = 1; i < l->nsyms; i++) {
		const char *name = linked_str(l, l->sym_strndx, l->syms[i].st_name);

		if (name && !strcmp(name, want))
			return l->syms[i].st_value;
	}
	return 0;
}

static char *own(struct load *ld, char *s)
{
	if (s && VEC_PUSH(&ld->owned, s)) {
		free(s);
		return NULL;
	}
	return s;
}

/* The record, as it will be written before anything else changes. */
static int plan_record(struct load *ld)
{
	struct record *r = &ld->rec;
	const struct linked *l = &ld->ll.lr.l;
	const struct image *img = ld->ll.img;
	const struct relink_opts *o = &ld->ll.ro;
	VEC(struct rec_input) ins = { 0 };
	VEC(struct rec_sym) syms = { 0 };
	char name[64];
	uint64_t size;
	int err = -1;

	ld->str = strset_new();
	if (!ld->str || strset_add(ld->str, "") < 0)
		return -1;
	r->h.id = ld->recs.n ? ld->recs.v[ld->recs.n - 1].h.id + 1 : 1;
	r->h.state = REC_RESERVED;
	r->h.time = (uint64_t)time(NULL);
	r->h.region = ld->ll.base;
	r->h.region_end = ld->ll.end;
	r->h.init = ld->init, r->h.init_end = ld->init_end;
	r->h.fini = ld->fini, r->h.fini_end = ld->fini_end;
	{
		char exe[64];

		snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)ld->t.pid);
		if (sha256_file(exe, r->h.exe_sha256, &r->h.exe_size))
			return -1;
	}
	r->edits = zalloc((ld->edits.n + 1) * sizeof(*r->edits));
	if (!r->edits)
		return -1;
	for (size_t i = 0; i < ld->edits.n; i++) {
		const struct edit *e = &ld->edits.v[i];
		struct rec_edit *re = &r->edits[i];
		uint64_t off;

		re->addr = e->addr;
		re->size = (uint32_t)e->size;
		re->reason = (uint32_t)strset_add(ld->str, e->reason);
		memcpy(re->new, e->bytes, e->size);
		if (!image_vaddr_to_off(img, e->addr, e->size, &off))
			return pr_err(ld->t.name, "the bytes at 0x%llx are not in its program's file",
				      (unsigned long long)e->addr);
		memcpy(re->old, img->data + off, e->size);
	}
	r->h.nedits = (uint32_t)ld->edits.n;
	/* The user's inputs, with their digests (the libraries' stubs are not one). */
	for (size_t i = 0; i < o->inputs.n; i++) {
		const struct input *in = &o->inputs.v[i];
		struct rec_input ri = { .kind = in->kind, .arg = (uint32_t)strset_add(ld->str, in->arg) };

		if (in->kind == IN_FILE && !strcmp(in->arg, ld->ll.stubs))
			continue;
		if (in->kind == IN_FILE && sha256_file(in->arg, ri.sha256, &ri.size))
			goto out;
		if (VEC_PUSH(&ins, ri))
			goto out;
	}
	/* The new code's global names, for info --pid. */
	for (size_t i = 1; i < l->nsyms && syms.n < 100000; i++) {
		const Elf64_Sym *s = &l->syms[i];
		const char *n = linked_str(l, l->sym_strndx, s->st_name);
		struct rec_sym rs = { .addr = s->st_value };

		if (!n || !*n || ELF64_ST_BIND(s->st_info) == STB_LOCAL || s->st_shndx == SHN_UNDEF ||
		    s->st_shndx == SHN_ABS || s->st_value < ld->ll.base || s->st_value >= ld->ll.end ||
		    ELF64_ST_VISIBILITY(s->st_other) == STV_HIDDEN || !strncmp(n, ANCHOR_PREFIX, strlen(ANCHOR_PREFIX)))
			continue;
		rs.name = (uint32_t)strset_add(ld->str, n);
		if (VEC_PUSH(&syms, rs))
			goto out;
	}
	snprintf(name, sizeof(name), "surgeon-injection-%u", r->h.id);
	strset_add(ld->str, name);
	snprintf(name, sizeof(name), "surgeon-injection-%u-code", r->h.id);
	strset_add(ld->str, name);
	r->inputs = ins.v, r->h.ninputs = (uint32_t)ins.n;
	r->syms = syms.v, r->h.nsyms = (uint32_t)syms.n;
	ins.v = NULL, syms.v = NULL;
	r->h.strings_size = (uint32_t)strset_size(ld->str);
	r->strings = malloc(r->h.strings_size);
	if (!r->strings)
		goto out;
	memcpy(r->strings, strset_data(ld->str), r->h.strings_size);
	if (record_encode(r))
		goto out;
	size = rec_map_size(r->h.size);
	r->map_size = size;
	err = 0;
out:
	VEC_FREE(&ins);
	VEC_FREE(&syms);
	return err;
}

/* The bytes every edit replaces must still be the program's own. */
static int check_edits(struct load *ld)
{
	for (size_t i = 0; i < ld->rec.h.nedits; i++) {
		const struct rec_edit *e = &ld->rec.edits[i];
		uint8_t now[EDIT_MAX];

		if (mem_read(&ld->t, e->addr, now, e->size))
			return pr_err(ld->t.name, "cannot read its memory at 0x%llx", (unsigned long long)e->addr);
		if (memcmp(now, e->old, e->size)) {
			for (size_t k = 0; k < ld->recs.n; k++)
				for (size_t j = 0; j < ld->recs.v[k].h.nedits; j++) {
					const struct rec_edit *o = &ld->recs.v[k].edits[j];

					if (o->addr < e->addr + e->size && e->addr < o->addr + o->size)
						return pr_err(ld->t.name, "%s: injection %u already changed the bytes at 0x%llx "
							      "(%s): eject it first", rec_str(&ld->rec, e->reason),
							      ld->recs.v[k].h.id, (unsigned long long)o->addr,
							      rec_str(&ld->recs.v[k], o->reason));
				}
			return pr_err(ld->t.name, "%s: the bytes at 0x%llx are not its program's (a debugger's "
				      "breakpoint? code the program changed itself?)", rec_str(&ld->rec, e->reason),
				      (unsigned long long)e->addr);
		}
	}
	return 0;
}

/* Pages of the new region with one protection each: runs of [lo, hi). */
static int protect_region(struct load *ld)
{
	const struct linked *l = &ld->ll.lr.l;
	uint64_t rs = linked_sym(l, ANCHOR_RELRO_START), re = linked_sym(l, ANCHOR_RELRO_END);
	uint64_t page = ld->ll.img->arch->page_size, run = ld->ll.base;
	int run_prot = -1;

	for (uint64_t p = ld->ll.base; p <= ld->ll.end; p += page) {
		int prot = PROT_READ;

		for (size_t i = 0; p < ld->ll.end && i < l->secs.n; i++) {
			const GElf_Shdr *sh = &l->secs.v[i].sh;

			if (live_unloaded(l, &l->secs.v[i]))
				continue;
			if (sh->sh_addr < p + page && sh->sh_addr + sh->sh_size > p) {
				if (sh->sh_flags & SHF_WRITE)
					prot |= PROT_WRITE;
				if (sh->sh_flags & SHF_EXECINSTR)
					prot |= PROT_EXEC;
			}
		}
		/* Relocated data the program kept read-only: so is the new (the
		 * linker made its final values; nothing writes them again). */
		if (re > rs && p >= rs && p + page <= re)
			prot &= ~PROT_WRITE;
		if (p == ld->ll.end || (run_prot >= 0 && prot != run_prot)) {
			if (run_prot >= 0 && run_prot != (PROT_READ | PROT_WRITE) &&
			    remote_mprotect(ld->rx, run, p - run, run_prot))
				return -1;
			run = p;
		}
		run_prot = prot;
	}
	return 0;
}

static void name_mapping(struct load *ld, uint64_t addr, uint64_t len, const char *name)
{
	uint64_t a[6] = { PR_SET_VMA, PR_SET_VMA_ANON_NAME, addr, len, 0, 0 };
	const char *s = ld->rec.strings;
	int64_t ret;

	if (ld->no_names)
		return;
	/* The name is read from the target's memory: the record's copy. */
	for (uint32_t off = 0; off < ld->rec.h.strings_size; off += strlen(s + off) + 1)
		if (!strcmp(s + off, name)) {
			a[4] = ld->rec.addr + ld->rec.h.strings_off + off;
			/* A kernel without CONFIG_ANON_VMA_NAME: no names. */
			if (!remote_syscall(ld->rx, SYS_prctl, a, &ret) && ret < 0)
				ld->no_names = true;
			return;
		}
}

/* Runs functions from an array of the new code (constructors forwards,
 * destructors backwards), as the dynamic loader would. */
static int run_array(struct target *t, struct remote *rx, uint64_t lo, uint64_t hi, bool backwards, const char *kind)
{
	size_t n = (hi - lo) / 8;

	for (size_t i = 0; i < n; i++) {
		uint64_t slot = backwards ? hi - 8 * (i + 1) : lo + 8 * i, fn, ret;
		const uint64_t args[6] = { 0 };
		char what[96];

		if (mem_read(t, slot, &fn, 8))
			return pr_err(t->name, "cannot read its memory at 0x%llx", (unsigned long long)slot);
		if (!fn || fn == (uint64_t)-1)
			continue;
		snprintf(what, sizeof(what), "the added %s at 0x%llx", kind, (unsigned long long)fn);
		pr_info("%s: running %s", t->name, what);
		if (remote_call(rx, fn, args, &ret, what))
			return -1;
	}
	return 0;
}

/* Everything done so far undone, in reverse. */
static void undo(struct load *ld)
{
	struct target *t = &ld->t;

	for (size_t i = ld->patched; i-- > 0;)
		mem_write(t, ld->rec.edits[i].addr, ld->rec.edits[i].old, ld->rec.edits[i].size);
	if (ld->ctors_ran && ld->fini_end > ld->fini)
		run_array(t, ld->rx, ld->fini, ld->fini_end, true, "destructor");
	if (ld->region_mapped)
		remote_munmap(ld->rx, ld->ll.base, ld->ll.end - ld->ll.base);
	/* The code surgeon runs cannot unmap itself: it moves out first. */
	if (ld->rec_mapped && !remote_move_code(ld->rx, 0))
		remote_munmap(ld->rx, ld->rec.addr, ld->rec.map_size);
}

/* The stopped part: every write, in an order a later eject can undo from
 * the record whenever surgeon stops. */
static int load(struct load *ld)
{
	struct target *t = &ld->t;
	const struct linked *l = &ld->ll.lr.l;
	uint64_t addr;

	if (check_edits(ld) || maps_read(t->pid, t->name, &t->maps))
		return -1;
	for (uint64_t a = ld->ll.base; a < ld->ll.end; a += 4096)
		if (maps_find(&t->maps, a))
			return pr_err(t->name, "the addresses 0x%llx-0x%llx were taken meanwhile: try again",
				      (unsigned long long)ld->ll.base, (unsigned long long)ld->ll.end);
	if (remote_begin(t, 0, &ld->rx))
		return -1;
	stop_mark(t, "ready to make system calls");
	/* The record first: from here on, eject can find what was done. Its
	 * mapping takes over from the program's page the code surgeon runs. */
	if (remote_mmap(ld->rx, 0, ld->rec.map_size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, &ld->rec.addr))
		return -1;
	ld->rec_mapped = true;
	if (remote_move_code(ld->rx, rec_code_at(&ld->rec)) || mem_write(t, ld->rec.addr, ld->rec.raw, ld->rec.h.size))
		return -1;
	{
		char name[64];

		snprintf(name, sizeof(name), "surgeon-injection-%u", ld->rec.h.id);
		name_mapping(ld, ld->rec.addr, ld->rec.map_size, name);
	}
	if (remote_mmap(ld->rx, ld->ll.base, ld->ll.end - ld->ll.base, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, &addr))
		return -1;
	ld->region_mapped = true;
	stop_mark(t, "record written, region mapped");
	if (record_set_state(t, &ld->rec, REC_MAPPED))
		return -1;
	for (size_t i = 0; i < l->secs.n; i++) {
		const struct newsec *s = &l->secs.v[i];

		if (s->bytes && s->sh.sh_type != SHT_NOBITS && !live_unloaded(l, s) &&
		    mem_write(t, s->sh.sh_addr, s->bytes, s->sh.sh_size))
			return -1;
	}
	for (size_t i = 0; i < ld->ll.ifuncs.n + ld->ll.irels.n; i++) {
		const struct ifunc_slot *is = i < ld->ll.ifuncs.n ? &ld->ll.ifuncs.v[i] : &ld->ll.irels.v[i - ld->ll.ifuncs.n];
		const uint64_t args[6] = { 0 };
		uint64_t fn;
		char what[128];

		if (!is->slot)
			continue;	/* the link did not need it */
		snprintf(what, sizeof(what), "the IFUNC resolver of '%s'", is->name);
		if (remote_call(ld->rx, is->resolver, args, &fn, what) || mem_write(t, is->slot, &fn, 8))
			return -1;
		pr_info("%s: '%s' resolves to 0x%llx", t->name, is->name, (unsigned long long)fn);
	}
	if (protect_region(ld))
		return -1;
	{
		char name[64];

		snprintf(name, sizeof(name), "surgeon-injection-%u-code", ld->rec.h.id);
		name_mapping(ld, ld->ll.base, ld->ll.end - ld->ll.base, name);
	}
	stop_mark(t, "loaded and protected");
	if (record_set_state(t, &ld->rec, REC_LOADED) || record_set_state(t, &ld->rec, REC_CTORS))
		return -1;
	/* The destructors are undone only after every constructor ran. */
	if (run_array(t, ld->rx, ld->init, ld->init_end, false, "constructor"))
		return -1;
	ld->ctors_ran = true;
	if (record_set_state(t, &ld->rec, REC_READY) || record_set_state(t, &ld->rec, REC_PATCHING))
		return -1;
	for (; ld->patched < ld->rec.h.nedits; ld->patched++) {
		const struct rec_edit *e = &ld->rec.edits[ld->patched];

		if (mem_write(t, e->addr, e->new, e->size))
			return -1;
		pr_info("%s: edit 0x%llx-0x%llx: %s", t->name, (unsigned long long)e->addr,
			(unsigned long long)(e->addr + e->size), rec_str(&ld->rec, e->reason));
	}
	stop_mark(t, "constructors run, patched");
	return record_set_state(t, &ld->rec, REC_ACTIVE);
}

static void load_free(struct load *ld)
{
	live_link_free(&ld->ll);
	records_free(&ld->recs);
	free(ld->rec.edits);
	free(ld->rec.inputs);
	free(ld->rec.syms);
	free(ld->rec.strings);
	free(ld->rec.raw);
	VEC_FREE(&ld->edits);
	VEC_FREE(&ld->hot);
	for (size_t i = 0; i < ld->owned.n; i++)
		free(ld->owned.v[i]);
	VEC_FREE(&ld->owned);
	strset_free(ld->str);
	target_close(&ld->t);
}

int live_inject(const char *pid_arg, const struct relink_opts *o, const struct image_opts *io)
{
	struct load ld = { 0 };
	const struct patch_plan *pp;
	int err = -1;

	ld.t.memfd = -1;
	if (remote_host_ok(pid_arg))
		return -1;
	/* Before the process is stopped: everything that takes time. */
	if (target_open(&ld.t, pid_arg) || records_find(&ld.t, &ld.recs) || live_link(&ld.t, &ld.ll, o, io))
		goto out;
	pp = ld.ll.lr.patch;
	if (pp && patch_plan_edits(pp, ld.ll.img->arch, &ld.edits))
		goto out;
	for (size_t i = 0; pp && i < pp->sites.n; i++) {
		const struct patch_site *s = &pp->sites.v[i];
		struct hot_range h = { .lo = s->entry, .hi = s->entry + s->len };

		if (!s->has_entry)
			continue;
		h.what = own(&ld, xasprintf("'%s', whose first bytes %s changes", s->old, s->what));
		if (!h.what || VEC_PUSH(&ld.hot, h))
			goto out;
	}
	ld.init = linked_sym(&ld.ll.lr.l, ANCHOR_INIT_ARRAY_START);
	ld.init_end = linked_sym(&ld.ll.lr.l, ANCHOR_INIT_ARRAY_END);
	ld.fini = linked_sym(&ld.ll.lr.l, ANCHOR_FINI_ARRAY_START);
	ld.fini_end = linked_sym(&ld.ll.lr.l, ANCHOR_FINI_ARRAY_END);
	if (ld.init_end < ld.init || ld.fini_end < ld.fini)
		ld.init_end = ld.init, ld.fini_end = ld.fini;
	if (plan_record(&ld) || check_edits(&ld))
		goto out;
	pr_info("%s: injection %u: 0x%llx-0x%llx, %u edits", ld.t.name, ld.rec.h.id, (unsigned long long)ld.ll.base,
		(unsigned long long)ld.ll.end, ld.rec.h.nedits);
	/* Stopped, with no thread in the bytes the patches change. */
	if (stop_when_safe(&ld.t, &ld.hot, PATIENCE, "inject"))
		goto out;
	err = load(&ld);
	if (err) {
		undo(&ld);
		if (ld.rx)
			remote_end(ld.rx);
	} else if (remote_end(ld.rx)) {
		err = -1;
	}
	ld.rx = NULL;
	stop_mark(&ld.t, "registers back");
	target_resume(&ld.t);
	if (!err)
		pr_info("%s: stopped for %.2f ms (%u stops)", ld.t.name, ld.t.stopped_for * 1e3, ld.t.stops);
	else
		pr_info("%s: left as it was", ld.t.name);
out:
	load_free(&ld);
	return err;
}

/* ---- eject ---- */

static int pick(struct target *t, const record_vec *recs, const char *id_arg, size_t *at)
{
	char *end;
	unsigned long id;

	if (!recs->n)
		return pr_err(t->name, "has no injection to eject");
	if (!id_arg) {
		*at = recs->n - 1;
		return 0;
	}
	errno = 0;
	id = strtoul(id_arg, &end, 10);
	if (*end || !*id_arg || errno)
		return pr_err(t->name, "'%s' is not an injection number", id_arg);
	for (size_t i = 0; i < recs->n; i++)
		if (recs->v[i].h.id == id) {
			*at = i;
			return 0;
		}
	return pr_err(t->name, "has no injection %lu (see surgeon info --pid %d)", id, (int)t->pid);
}

/* The region a record names, mapped: trusted once the record says so, or
 * when a mapping covers exactly its range (mapped before surgeon stopped). */
static bool region_is_ours(struct target *t, const struct record *r)
{
	const struct mapping *m;

	if (r->h.state >= REC_MAPPED)
		return true;
	m = maps_find(&t->maps, r->h.region);
	if (!m || m->start != r->h.region || m->inode)
		return false;
	while (m && m->end < r->h.region_end && !m->inode) {
		const struct mapping *next = maps_find(&t->maps, m->end);

		m = next && next->start == m->end ? next : NULL;
	}
	return m && m->end == r->h.region_end;
}

int live_eject(const char *pid_arg, const char *id_arg)
{
	struct target t;
	record_vec recs = { 0 };
	hot_vec hot = { 0 };
	struct remote *rx = NULL;
	struct record *r;
	char what[64];
	size_t at = 0;
	int err = -1;

	if (remote_host_ok(pid_arg))
		return -1;
	if (target_open(&t, pid_arg) || records_find(&t, &recs) || pick(&t, &recs, id_arg, &at))
		goto out;
	r = &recs.v[at];
	snprintf(what, sizeof(what), "the code of injection %u", r->h.id);
	{
		struct hot_range h = { .lo = r->h.region, .hi = r->h.region_end, .whole = true, .what = what };

		if (r->h.region_end > r->h.region && VEC_PUSH(&hot, h))
			goto out;
	}
	for (uint32_t i = 0; i < r->h.nedits; i++) {
		struct hot_range h = { .lo = r->edits[i].addr, .hi = r->edits[i].addr + r->edits[i].size,
				       .what = rec_str(r, r->edits[i].reason) };

		if (VEC_PUSH(&hot, h))
			goto out;
	}
	if (stop_when_safe(&t, &hot, PATIENCE, "eject"))
		goto out;
	if (remote_begin(&t, rec_code_at(r), &rx))
		goto resume;
	stop_mark(&t, "ready to make system calls");
	{
		uint32_t was = r->h.state;

		if (record_set_state(&t, r, REC_EJECTING))
			goto end;
		/* Destructors only after a complete set of constructors. */
		if (was >= REC_READY && was <= REC_ACTIVE && r->h.fini_end > r->h.fini &&
		    run_array(&t, rx, r->h.fini, r->h.fini_end, true, "destructor"))
			goto end;
		if (was == REC_CTORS)
			pr_warn(t.name, "injection %u was stopped while its constructors ran: its destructors are not run",
				r->h.id);
	}
	for (uint32_t i = 0; i < r->h.nedits; i++) {
		const struct rec_edit *e = &r->edits[i];
		uint8_t now[EDIT_MAX];

		if (mem_read(&t, e->addr, now, e->size))
			continue;
		if (!memcmp(now, e->old, e->size))
			continue;
		if (memcmp(now, e->new, e->size))
			pr_warn(t.name, "the bytes at 0x%llx (%s) were changed since injection %u: restored anyway",
				(unsigned long long)e->addr, rec_str(r, e->reason), r->h.id);
		if (mem_write(&t, e->addr, e->old, e->size))
			goto end;
		pr_info("%s: restored 0x%llx-0x%llx (%s)", t.name, (unsigned long long)e->addr,
			(unsigned long long)(e->addr + e->size), rec_str(r, e->reason));
	}
	stop_mark(&t, "destructors run, bytes restored");
	if (r->h.region_end > r->h.region && region_is_ours(&t, r) &&
	    remote_munmap(rx, r->h.region, r->h.region_end - r->h.region))
		goto end;
	if (remote_move_code(rx, 0) || remote_munmap(rx, r->addr, r->map_size))
		goto end;
	err = 0;
	stop_mark(&t, "unmapped");
end:
	if (remote_end(rx))
		err = -1;
	stop_mark(&t, "registers back");
resume:
	target_resume(&t);
	if (!err)
		pr_info("%s: injection %u ejected; stopped for %.2f ms", t.name, r->h.id, t.stopped_for * 1e3);
out:
	VEC_FREE(&hot);
	records_free(&recs);
	target_close(&t);
	return err;
}

/* ---- info --pid ---- */

static void hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

static void info_text(const struct target *t, const record_vec *recs)
{
	printf("%s: %s\n", t->name, t->exe);
	if (!recs->n)
		printf("no injections\n");
	for (size_t i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];
		time_t when = (time_t)r->h.time;
		char tbuf[64];

		strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", localtime(&when));
		printf("injection %u: %s, %s\n", r->h.id, rec_state_name(r->h.state), tbuf);
		printf("  record at 0x%llx, code and data at 0x%llx-0x%llx (%llu KiB)\n", (unsigned long long)r->addr,
		       (unsigned long long)r->h.region, (unsigned long long)r->h.region_end,
		       (unsigned long long)((r->h.region_end - r->h.region) >> 10));
		printf("  program: %llu bytes, sha256 ", (unsigned long long)r->h.exe_size);
		hex(stdout, r->h.exe_sha256, 32);
		printf("\n");
		for (uint32_t k = 0; k < r->h.ninputs; k++) {
			const struct rec_input *in = &r->inputs[k];

			if (in->kind == IN_FILE) {
				printf("  input %s: %llu bytes, sha256 ", rec_str(r, in->arg), (unsigned long long)in->size);
				hex(stdout, in->sha256, 32);
				printf("\n");
			} else {
				printf("  input %s%s\n", in->kind == IN_LIB ? "-l" : "-L", rec_str(r, in->arg));
			}
		}
		for (uint32_t k = 0; k < r->h.nedits; k++)
			printf("  edit 0x%llx-0x%llx: %s\n", (unsigned long long)r->edits[k].addr,
			       (unsigned long long)(r->edits[k].addr + r->edits[k].size), rec_str(r, r->edits[k].reason));
		for (uint32_t k = 0; k < r->h.nsyms; k++)
			printf("  defines %s at 0x%llx\n", rec_str(r, r->syms[k].name), (unsigned long long)r->syms[k].addr);
	}
}

static void info_json(const struct target *t, const record_vec *recs)
{
	printf("{\"pid\": %d, \"program\": ", (int)t->pid);
	json_str(stdout, t->exe);
	printf(", \"injections\": [");
	for (size_t i = 0; i < recs->n; i++) {
		const struct record *r = &recs->v[i];

		printf("%s{\"id\": %u, \"state\": \"%s\", \"time\": %llu, \"record\": %llu, \"start\": %llu, \"end\": %llu, "
		       "\"program_size\": %llu, \"program_sha256\": \"", i ? ", " : "", r->h.id, rec_state_name(r->h.state),
		       (unsigned long long)r->h.time, (unsigned long long)r->addr, (unsigned long long)r->h.region,
		       (unsigned long long)r->h.region_end, (unsigned long long)r->h.exe_size);
		hex(stdout, r->h.exe_sha256, 32);
		printf("\", \"inputs\": [");
		for (uint32_t k = 0; k < r->h.ninputs; k++) {
			const struct rec_input *in = &r->inputs[k];

			printf("%s{\"kind\": \"%s\", \"arg\": ", k ? ", " : "",
			       in->kind == IN_FILE ? "file" : in->kind == IN_LIB ? "lib" : "libdir");
			json_str(stdout, rec_str(r, in->arg));
			if (in->kind == IN_FILE) {
				printf(", \"size\": %llu, \"sha256\": \"", (unsigned long long)in->size);
				hex(stdout, in->sha256, 32);
				printf("\"");
			}
			printf("}");
		}
		printf("], \"edits\": [");
		for (uint32_t k = 0; k < r->h.nedits; k++) {
			const struct rec_edit *e = &r->edits[k];

			printf("%s{\"addr\": %llu, \"size\": %u, \"reason\": ", k ? ", " : "", (unsigned long long)e->addr,
			       e->size);
			json_str(stdout, rec_str(r, e->reason));
			printf(", \"old\": \"");
			hex(stdout, e->old, e->size);
			printf("\", \"new\": \"");
			hex(stdout, e->new, e->size);
			printf("\"}");
		}
		printf("], \"symbols\": [");
		for (uint32_t k = 0; k < r->h.nsyms; k++) {
			printf("%s{\"name\": ", k ? ", " : "");
			json_str(stdout, rec_str(r, r->syms[k].name));
			printf(", \"addr\": %llu}", (unsigned long long)r->syms[k].addr);
		}
		printf("]}");
	}
	printf("]}\n");
}

int live_info(const char *pid_arg, bool json)
{
	struct target t;
	record_vec recs = { 0 };
	int err = -1;

	if (!target_open(&t, pid_arg) && !records_find(&t, &recs)) {
		if (json)
			info_json(&t, &recs);
		else
			info_text(&t, &recs);
		err = 0;
	}
	records_free(&recs);
	target_close(&t);
	return err;
}

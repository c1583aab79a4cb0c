/* Is any thread running in, or about to return into, bytes that are about
 * to change? Every stopped thread's stack is unwound with elfutils'
 * libdwfl (the library behind eu-stack), from the registers ptrace gives.
 * Where the unwinding cannot go on (code without call frame information,
 * a JIT's), the rest of that thread's stack is searched word by word for
 * an address in the ranges: a false alarm costs a retry, never a crash. */
#include "arch/arch.h"
#include "live/live.h"

#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#define MAX_FRAMES 4096
#define SCAN_MAX (8u << 20)

struct walk {
	const hot_vec *hot;
	struct unsafe_thread *u;
	bool found, have_sp;
	unsigned depth;
	uint64_t sp;
};

/* pc: where the thread is (running), or an address it returns to. */
static const struct hot_range *hit(const hot_vec *hot, uint64_t pc)
{
	for (size_t i = 0; i < hot->n; i++) {
		const struct hot_range *h = &hot->v[i];

		if (pc < h->hi && (pc > h->lo || (h->whole && pc == h->lo)))
			return h;
	}
	return NULL;
}

static int frame_cb(Dwfl_Frame *f, void *arg)
{
	struct walk *w = arg;
	const struct hot_range *h;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	if (!dwfl_frame_pc(f, &pc, &activation))
		return DWARF_CB_ABORT;
	if (!dwfl_frame_reg(f, arch_native()->dwarf_sp, &sp)) {
		w->sp = sp;
		w->have_sp = true;
	}
	if ((h = hit(w->hot, pc))) {
		w->u->pc = pc;
		w->u->what = h->what;
		w->u->returning = !activation;
		w->found = true;
		return DWARF_CB_ABORT;
	}
	return ++w->depth < MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* The words of the stack from sp to the end of its mapping. */
static int scan_stack(struct target *t, uint64_t sp, struct walk *w)
{
	const struct mapping *m = maps_find(&t->maps, sp);
	uint64_t buf[4096], end;

	if (!m)
		return 0;
	end = m->end - sp > SCAN_MAX ? sp + SCAN_MAX : m->end;
	for (uint64_t at = sp & ~(uint64_t)7; at < end; at += sizeof(buf)) {
		size_t n = end - at < sizeof(buf) ? end - at : sizeof(buf);

		if (mem_read(t, at, buf, n))
			return 0;
		for (size_t i = 0; i < n / 8; i++) {
			const struct hot_range *h = hit(w->hot, buf[i]);

			if (h && (buf[i] != h->lo || h->whole)) {
				w->u->pc = buf[i];
				w->u->what = h->what;
				w->u->returning = true;
				w->found = true;
				return 0;
			}
		}
	}
	return 0;
}

int threads_check(struct target *t, const hot_vec *hot, struct unsafe_thread *u)
{
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	Dwfl *d;
	int err = 0;

	if (!hot->n)
		return 0;
	memset(u, 0, sizeof(*u));
	if (maps_read(t->pid, t->name, &t->maps))
		return -1;
	d = dwfl_begin(&cb);
	if (!d)
		return pr_err(t->name, "libdwfl: %s", dwfl_errmsg(-1));
	dwfl_report_begin(d);
	if (dwfl_linux_proc_report(d, t->pid) || dwfl_report_end(d, NULL, NULL) ||
	    dwfl_linux_proc_attach(d, t->pid, true)) {
		err = pr_err(t->name, "cannot read its threads' stacks with libdwfl: %s", dwfl_errmsg(-1));
		goto out;
	}
	for (size_t i = 0; i < t->threads.n && !err; i++) {
		struct walk w = { .hot = hot, .u = u };
		int r;

		u->tid = t->threads.v[i].tid;
		r = dwfl_getthread_frames(d, u->tid, frame_cb, &w);
		if (w.found) {
			err = 1;
			break;
		}
		/* The unwinding stopped short of the outermost frame: what is
		 * left of the stack is searched instead. */
		if (r && w.depth < MAX_FRAMES) {
			if (!w.have_sp && ptrace_sp(u->tid, &w.sp))
				continue;
			pr_info("%s: thread %d: unwound %u frames (%s); searching the rest of its stack", t->name,
				(int)u->tid, w.depth, dwfl_errmsg(-1));
			scan_stack(t, w.sp, &w);
			if (w.found)
				err = 1;
		}
	}
out:
	dwfl_end(d);
	return err;
}

/* Running system calls and functions inside the target, in one of its
 * stopped threads (the executor), so that mmap, mprotect and munmap act on
 * its address space and constructors run with its libc.
 *
 * Surgeon may be killed at any moment (SIGKILL cannot be caught): the
 * kernel then detaches and the executor runs on from wherever it is. So it
 * never runs anything that does not lead back to where it was stopped:
 * its registers (and for function calls its FPU and vector state) are
 * saved on its own stack, below the red zone, and it runs a few
 * instructions written in the unused tail of an executable page (past the
 * end of an executable segment), which end by restoring them all and
 * returning to where it stopped:
 *
 *   S:     syscall              <- a system call: rip = S, rsp = the saved registers
 *          jmp R
 *   L:     mov %rax, %rdi       <- a called function returns here
 *          mov $SYS_getpid, %eax
 *          syscall              <- surgeon sees this one: the result is in %rdi
 *          mov $-1, %eax; mov $-1, %edx
 *          xrstor64 (%rsp)      (or fxrstor64)
 *          add $N, %rsp
 *   R:     rt_sigprocmask(SIG_SETMASK, saved mask)
 *          pop %r15 ... pop %rax; popfq; ret $128
 *
 * While it runs surgeon's calls the thread blocks every signal
 * (PTRACE_SETSIGMASK), so that the signals sent to it meanwhile stay
 * queued in the kernel and reach the program afterwards as they would
 * have; the restoring path puts its mask back too.
 *
 * Surgeon follows each system call with PTRACE_SYSCALL, takes the result at
 * its exit stop and sets the registers back itself; the restoring path runs
 * only when nobody is there to do that. */
#include "live/live.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CALL_TIMEOUT 10.0	/* seconds a constructor or destructor may take */
#define XSTATE_MAX 16384

/* Kernel-internal restart codes a thread stopped in a system call holds in rax. */
enum { ERESTARTSYS_ = 512, ERESTARTNOINTR_ = 513, ERESTARTNOHAND_ = 514, ERESTART_RESTARTBLOCK_ = 516 };

/* Only x86-64 is written: the code above, the registers (user_regs_struct,
 * orig_rax for restarts) and the FPU state (XSAVE) are x86-64's. An aarch64
 * surgeon refuses before it stops anything; see remote_host_ok. */
#if defined(__x86_64__)
int remote_host_ok(const char *name)
{
	return 0;
}

struct remote {
	struct target *t;
	pid_t tid;
	struct user_regs_struct back;	/* what the thread resumes with */
	unsigned char *fp;		/* its FPU/vector state */
	size_t fp_size;
	bool xsave;
	bool fp_dirty;			/* a function ran: put the state back */
	uint64_t scratch;		/* the code: in a page tail, or surgeon's own page */
	unsigned char saved[REMOTE_CODE_MAX];	/* the bytes it covers in a page tail */
	unsigned char code[REMOTE_CODE_MAX];
	size_t code_len, land_off, marker_off;
	bool in_tail;			/* then put the saved bytes back */
	uint64_t mask;			/* the thread's signal mask */
	bool masked;			/* every signal blocked meanwhile */
	uint64_t gpr_area, call_sp;	/* on the thread's stack */
	uint64_t land, marker;		/* L, and the address after its syscall */
};

static size_t put(unsigned char *b, size_t at, const void *bytes, size_t n)
{
	memcpy(b + at, bytes, n);
	return at + n;
}

/* The code above, for an area of `skip` bytes between rsp at L and the
 * saved registers. */
static size_t make_code(unsigned char *b, bool xsave, uint32_t skip, size_t *land, size_t *marker)
{
	static const unsigned char pops[] = {
		/* rt_sigprocmask(SIG_SETMASK, the saved mask, NULL, 8) */
		0xb8, SYS_rt_sigprocmask, 0, 0, 0,		/* mov $SYS_rt_sigprocmask,%eax */
		0xbf, SIG_SETMASK, 0, 0, 0,			/* mov $SIG_SETMASK,%edi */
		0x48, 0x8d, 0x74, 0x24, 15 * 8,			/* lea 120(%rsp),%rsi */
		0x31, 0xd2,					/* xor %edx,%edx */
		0x41, 0xba, 8, 0, 0, 0,				/* mov $8,%r10d */
		0x0f, 0x05,					/* syscall */
		0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58,
		0x5f, 0x5e, 0x5d, 0x5a, 0x59, 0x5b, 0x58,	/* r15..r8, rdi rsi rbp rdx rcx rbx rax */
		0x48, 0x83, 0xc4, 0x08,				/* add $8,%rsp: past the mask */
		0x9d,						/* popfq */
		0xc2, 0x80, 0x00,				/* ret $128 */
	};
	static const unsigned char land_code[] = {
		0x48, 0x89, 0xc7,			/* mov %rax,%rdi */
		0xb8, SYS_getpid, 0, 0, 0,		/* mov $SYS_getpid,%eax */
		0x0f, 0x05,				/* syscall */
		0xb8, 0xff, 0xff, 0xff, 0xff,		/* mov $-1,%eax */
		0xba, 0xff, 0xff, 0xff, 0xff,		/* mov $-1,%edx */
	};
	unsigned char rstor[5] = { 0x48, 0x0f, 0xae, xsave ? 0x2c : 0x0c, 0x24 };	/* x/fxrstor64 (%rsp) */
	unsigned char add[7] = { 0x48, 0x81, 0xc4 };					/* add $imm32,%rsp */
	size_t n = 0, r_at;

	n = put(b, n, (unsigned char[]){ 0x0f, 0x05, 0xeb, 0x00 }, 4);	/* syscall; jmp R (filled below) */
	*land = n;
	n = put(b, n, land_code, sizeof(land_code));
	*marker = *land + 10;
	n = put(b, n, rstor, sizeof(rstor));
	memcpy(add + 3, &skip, 4);
	n = put(b, n, add, sizeof(add));
	r_at = n;
	n = put(b, n, pops, sizeof(pops));
	b[3] = (unsigned char)(r_at - 4);
	return n;
}

/* Room for the code past the end of an executable segment, in the same
 * page: those bytes are mapped but belong to no code, and nothing runs or
 * reads them there. The program's segments first, then the libraries'. */
static int find_scratch(struct remote *r, size_t need, uint64_t *at)
{
	const struct maps *m = &r->t->maps;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->v.n; i++) {
			const struct mapping *mp = &m->v.v[i], *first = NULL;
			Elf64_Ehdr eh;
			Elf64_Phdr ph;
			uint64_t low = UINT64_MAX;

			if (mp->path[0] != '/' || mp->off || ((pass == 0) != !strcmp(mp->path, r->t->exe)))
				continue;
			first = mp;
			if (mem_read(r->t, first->start, &eh, sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
			    eh.e_phentsize != sizeof(ph) || eh.e_phnum > 256)
				continue;
			for (unsigned k = 0; k < eh.e_phnum; k++)
				if (!mem_read(r->t, first->start + eh.e_phoff + k * sizeof(ph), &ph, sizeof(ph)) &&
				    ph.p_type == PT_LOAD && (ph.p_vaddr & ~(uint64_t)0xfff) < low)
					low = ph.p_vaddr & ~(uint64_t)0xfff;
			if (low == UINT64_MAX)
				continue;
			for (unsigned k = 0; k < eh.e_phnum; k++) {
				uint64_t end, page_end;
				const struct mapping *x;

				if (mem_read(r->t, first->start + eh.e_phoff + k * sizeof(ph), &ph, sizeof(ph)) ||
				    ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
					continue;
				/* A position-independent file is placed by its first mapping. */
				end = (eh.e_type == ET_DYN ? first->start - low : 0) + ph.p_vaddr + ph.p_memsz;
				end = align_up(end, 16);
				page_end = align_up(end, 4096);
				x = maps_find(m, end);
				if (page_end - end >= need && x && (x->prot & PROT_EXEC) && x->end >= page_end &&
				    !strcmp(x->path, mp->path)) {
					*at = end;
					return 0;
				}
			}
		}
	return pr_err(r->t->name, "no unused executable bytes to run surgeon's restoring code from "
		      "(every executable segment ends at a page boundary)");
}

/* What belongs at addr: in the program's own pages, its file's bytes (a
 * surgeon killed before it put them back left its code there: this puts
 * the file's back), elsewhere what memory holds. */
static int original_bytes(struct target *t, uint64_t addr, void *buf, size_t len)
{
	const struct mapping *m = maps_find(&t->maps, addr);
	char path[64];
	int fd;
	bool ok;

	if (!m || strcmp(m->path, t->exe))
		return mem_read(t, addr, buf, len);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mem_read(t, addr, buf, len);
	ok = pread(fd, buf, len, (off_t)(m->off + (addr - m->start))) == (ssize_t)len;
	close(fd);
	return ok ? 0 : mem_read(t, addr, buf, len);
}

int remote_move_code(struct remote *r, uint64_t to)
{
	uint64_t from = r->scratch;
	bool tail = r->in_tail;

	if (!to) {
		if (find_scratch(r, r->code_len, &to))
			return -1;
		if (original_bytes(r->t, to, r->saved, r->code_len))
			return pr_err(r->t->name, "cannot read its memory at 0x%llx", (unsigned long long)to);
		r->in_tail = true;
	} else {
		r->in_tail = false;
	}
	if (mem_write(r->t, to, r->code, r->code_len)) {
		r->in_tail = tail;
		return -1;
	}
	r->scratch = to;
	r->land = to + r->land_off;
	r->marker = to + r->marker_off;
	/* The page tail it leaves gets its own bytes back. */
	if (tail && from != to && mem_write(r->t, from, r->saved, r->code_len))
		return -1;
	pr_info("%s: thread %d runs surgeon's calls from code at 0x%llx%s", r->t->name, (int)r->tid,
		(unsigned long long)to, r->in_tail ? " (the unused end of an executable page)" : "");
	return 0;
}

/* The executor's registers go on its stack, below where it is: that must be
 * a stack (the main thread's [stack], or a thread's, which has a guard page
 * under it) with room for them and for the functions surgeon calls, not an
 * alternate signal stack in the heap. */
#define STACK_ROOM (XSTATE_MAX + 32768)
static bool stack_ok(const struct target *t, uint64_t rsp)
{
	const struct mapping *m = maps_find(&t->maps, rsp - 128), *below;

	if (!m || !(m->prot & PROT_WRITE) || m->inode || rsp - 128 - m->start < STACK_ROOM)
		return false;
	if (!strcmp(m->path, "[stack]"))
		return true;
	below = m->start ? maps_find(&t->maps, m->start - 1) : NULL;
	return below && below->end == m->start && !below->prot && !below->inode;
}

static bool in_syscall_restart(const struct user_regs_struct *g)
{
	int64_t ax = (int64_t)g->rax;

	return (int64_t)g->orig_rax >= 0 && (ax == -ERESTARTSYS_ || ax == -ERESTARTNOINTR_ ||
					     ax == -ERESTARTNOHAND_ || ax == -ERESTART_RESTARTBLOCK_);
}

int remote_begin(struct target *t, uint64_t code_at, struct remote **out)
{
	struct remote *r = zalloc(sizeof(*r));
	struct user_regs_struct g;
	struct iovec iov;
	unsigned char area[15 * 8 + 24];
	size_t best = SIZE_MAX;
	uint64_t top, xs;

	*out = NULL;
	if (!r)
		return -1;
	r->t = t;
	/* The executor: a thread stopped by surgeon (not at a signal), best one
	 * not in a system call, the main thread first. */
	for (size_t i = 0; i < t->threads.n; i++) {
		const struct thread *th = &t->threads.v[i];
		size_t rank;

		if (th->how != TS_EVENT || ptrace(PTRACE_GETREGS, th->tid, 0, &g) || !stack_ok(t, g.rsp))
			continue;
		rank = ((int64_t)g.orig_rax >= 0) * 2 + (th->tid != t->pid);
		if (rank < best) {
			best = rank;
			r->tid = th->tid;
			r->back = g;
		}
	}
	/* Every thread is stopped at a signal (a flood of them): one takes its
	 * signal later instead, held and given back at the end with its
	 * siginfo (stop.c); its interrupt stop comes before the next one. */
	for (size_t i = 0; best == SIZE_MAX && i < t->threads.n; i++) {
		struct thread *th = &t->threads.v[i];
		int st, tries = 0;

		while (th->how == TS_SIGNAL && tries++ < 64) {
			if (hold_signal(t, th->tid, th->sig) || ptrace(PTRACE_CONT, th->tid, 0, 0) ||
			    wait_stop(t, th->tid, &st, 5.0))
				break;
			if ((st >> 16) == PTRACE_EVENT_STOP)
				th->how = TS_EVENT;
			else
				th->sig = WSTOPSIG(st);
		}
		if (th->how == TS_EVENT && !ptrace(PTRACE_GETREGS, th->tid, 0, &g) && stack_ok(t, g.rsp)) {
			best = 0;
			r->tid = th->tid;
			r->back = g;
		}
	}
	if (best == SIZE_MAX) {
		free(r);
		return pr_err(t->name, "no thread can run surgeon's system calls (all are taking signals, or "
			      "running on a signal stack, or out of stack)");
	}
	/* A system call it was in is restarted as the kernel would have. */
	if (in_syscall_restart(&r->back)) {
		r->back.rip -= 2;
		r->back.rax = (int64_t)r->back.rax == -ERESTART_RESTARTBLOCK_ ? SYS_restart_syscall : r->back.orig_rax;
	}
	r->back.orig_rax = -1;
	r->fp = malloc(XSTATE_MAX);
	if (!r->fp)
		goto fail;
	iov.iov_base = r->fp;
	iov.iov_len = XSTATE_MAX;
	if (!ptrace(PTRACE_GETREGSET, r->tid, (void *)NT_X86_XSTATE, &iov) && iov.iov_len >= 576) {
		r->xsave = true;
		r->fp_size = iov.iov_len;
	} else if (!ptrace(PTRACE_GETFPREGS, r->tid, 0, r->fp)) {
		r->fp_size = sizeof(struct user_fpregs_struct);
	} else {
		pr_err(t->name, "cannot read thread %d's floating-point state: %s", (int)r->tid, strerror(errno));
		goto fail;
	}
	if (ptrace(PTRACE_GETSIGMASK, r->tid, (void *)sizeof(r->mask), &r->mask)) {
		pr_err(t->name, "cannot read thread %d's signal mask: %s", (int)r->tid, strerror(errno));
		goto fail;
	}
	/* The stack: [call_sp] = L, the FPU state (64-aligned), the general
	 * registers, the signal mask, rflags and rip right under the 128-byte
	 * red zone. */
	top = r->back.rsp - 128;
	r->gpr_area = top - 24 - 15 * 8;
	xs = (r->gpr_area - r->fp_size) & ~(uint64_t)63;
	r->call_sp = xs - 8;
	r->code_len = make_code(r->code, r->xsave, (uint32_t)(r->gpr_area - xs), &r->land_off, &r->marker_off);
	{
		const struct user_regs_struct *b = &r->back;
		const uint64_t v[18] = { b->r15, b->r14, b->r13, b->r12, b->r11, b->r10, b->r9, b->r8, b->rdi, b->rsi,
					 b->rbp, b->rdx, b->rcx, b->rbx, b->rax, r->mask, b->eflags, b->rip };

		memcpy(area, v, sizeof(area));
	}
	if (mem_write(t, r->gpr_area, area, sizeof(area)) || mem_write(t, xs, r->fp, r->fp_size) ||
	    remote_move_code(r, code_at))
		goto fail;
	{
		uint64_t all = ~(uint64_t)0;

		if (ptrace(PTRACE_SETSIGMASK, r->tid, (void *)sizeof(all), &all)) {
			pr_err(t->name, "cannot block thread %d's signals: %s", (int)r->tid, strerror(errno));
			goto fail;
		}
		r->masked = true;
	}
	*out = r;
	return 0;
fail:
	remote_end(r);
	return -1;
}

int remote_end(struct remote *r)
{
	struct iovec iov;
	int err = 0;

	if (!r)
		return 0;
	if (r->fp_dirty) {
		iov.iov_base = r->fp;
		iov.iov_len = r->fp_size;
		if (r->xsave ? ptrace(PTRACE_SETREGSET, r->tid, (void *)NT_X86_XSTATE, &iov) :
			       ptrace(PTRACE_SETFPREGS, r->tid, 0, r->fp))
			err = pr_err(r->t->name, "cannot restore thread %d's floating-point state: %s", (int)r->tid,
				     strerror(errno));
	}
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &r->back))
		err = pr_err(r->t->name, "cannot restore thread %d's registers: %s", (int)r->tid, strerror(errno));
	if (r->masked && ptrace(PTRACE_SETSIGMASK, r->tid, (void *)sizeof(r->mask), &r->mask))
		err = pr_err(r->t->name, "cannot restore thread %d's signal mask: %s", (int)r->tid, strerror(errno));
	/* Once the thread is back where it was, the code is not needed. */
	if (r->in_tail && mem_write(r->t, r->scratch, r->saved, r->code_len))
		err = -1;
	free(r->fp);
	free(r);
	return err;
}

static bool fault_signal(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS) &&
	       si->si_code > 0;
}

/* Runs the thread until its system call at `after - 2` stops it. At
 * `enter` it is the entry stop, then the thread goes on to the exit stop
 * (so that the registers set next are the ones it returns with). */
static int run_until(struct remote *r, uint64_t after, long nr, double timeout, const char *what,
		     struct user_regs_struct *at_enter)
{
	double deadline = now_seconds() + timeout;
	bool entered = false;
	int st;

	for (;;) {
		struct user_regs_struct g;
		double left = deadline - now_seconds();

		if (ptrace(PTRACE_SYSCALL, r->tid, 0, 0))
			return pr_err(r->t->name, "cannot run thread %d: %s", (int)r->tid, strerror(errno));
		if (wait_stop(r->t, r->tid, &st, left > 0 ? left : 0)) {
			if (errno == ETIMEDOUT) {
				ptrace(PTRACE_INTERRUPT, r->tid, 0, 0);
				wait_stop(r->t, r->tid, &st, 2.0);
				return pr_err(r->t->name, "%s did not return within %.0f s (waiting for a lock another "
					      "thread holds?)", what, timeout);
			}
			return pr_err(r->t->name, "exited while running %s", what);
		}
		if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
			if (ptrace(PTRACE_GETREGS, r->tid, 0, &g))
				return pr_err(r->t->name, "cannot read thread %d's registers: %s", (int)r->tid,
					      strerror(errno));
			if (g.rip == after && (long)g.orig_rax == nr) {
				if (entered)
					return 0;
				entered = true;
				if (at_enter)
					*at_enter = g;
			}
			continue;
		}
		if ((st >> 16) != 0)
			continue;	/* an event stop (a group stop): run on */
		{
			int sig = WSTOPSIG(st);
			siginfo_t si;

			memset(&si, 0, sizeof(si));
			ptrace(PTRACE_GETSIGINFO, r->tid, 0, &si);
			if (fault_signal(sig, &si)) {
				ptrace(PTRACE_GETREGS, r->tid, 0, &g);
				return pr_err(r->t->name, "%s crashed: %s at 0x%llx (address 0x%llx)", what, strsignal(sig),
					      (unsigned long long)g.rip, (unsigned long long)(uintptr_t)si.si_addr);
			}
			if (hold_signal(r->t, r->tid, sig))
				return -1;
		}
	}
}

int remote_syscall(struct remote *r, long nr, const uint64_t a[6], int64_t *ret)
{
	struct user_regs_struct g = r->back, e;
	char what[64];

	g.rip = r->scratch;
	g.rsp = r->gpr_area;
	g.rax = nr;
	g.orig_rax = -1;
	g.rdi = a[0], g.rsi = a[1], g.rdx = a[2], g.r10 = a[3], g.r8 = a[4], g.r9 = a[5];
	snprintf(what, sizeof(what), "system call %ld", nr);
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &g))
		return pr_err(r->t->name, "cannot set thread %d's registers: %s", (int)r->tid, strerror(errno));
	if (run_until(r, r->scratch + 2, nr, CALL_TIMEOUT, what, &e) ||
	    ptrace(PTRACE_GETREGS, r->tid, 0, &g))
		return -1;
	*ret = (int64_t)g.rax;
	/* Back where it was at once: between two calls the thread never
	 * depends on surgeon's code (which may move, or be unmapped). */
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &r->back))
		return pr_err(r->t->name, "cannot restore thread %d's registers: %s", (int)r->tid, strerror(errno));
	return 0;
}

int remote_call(struct remote *r, uint64_t fn, const uint64_t a[6], uint64_t *ret, const char *what)
{
	struct user_regs_struct g = r->back, e;
	int err;

	g.rip = fn;
	g.rsp = r->call_sp;
	g.rax = 0;
	g.orig_rax = -1;
	g.eflags &= ~(uint64_t)0x500;	/* DF and TF clear, as the ABI wants at a call */
	g.rdi = a[0], g.rsi = a[1], g.rdx = a[2], g.rcx = a[3], g.r8 = a[4], g.r9 = a[5];
	if (mem_write(r->t, r->call_sp, &r->land, 8))
		return -1;
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &g))
		return pr_err(r->t->name, "cannot set thread %d's registers: %s", (int)r->tid, strerror(errno));
	r->fp_dirty = true;
	err = run_until(r, r->marker, SYS_getpid, CALL_TIMEOUT, what, &e);
	if (!err)
		*ret = e.rdi;
	/* Whatever happened, the thread is given its state back now. */
	if (ptrace(PTRACE_SETREGS, r->tid, 0, &r->back))
		err = pr_err(r->t->name, "cannot restore thread %d's registers: %s", (int)r->tid, strerror(errno));
	{
		struct iovec iov = { r->fp, r->fp_size };

		if (r->xsave ? ptrace(PTRACE_SETREGSET, r->tid, (void *)NT_X86_XSTATE, &iov) :
			       ptrace(PTRACE_SETFPREGS, r->tid, 0, r->fp))
			err = pr_err(r->t->name, "cannot restore thread %d's floating-point state: %s", (int)r->tid,
				     strerror(errno));
		else
			r->fp_dirty = false;
	}
	return err;
}

#else
struct remote {
	struct target *t;
};

int remote_host_ok(const char *name)
{
	return pr_err(name, "inject and eject run code in the process with x86-64 instructions and registers; "
		      "this surgeon was built for another machine");
}

int remote_begin(struct target *t, uint64_t code_at, struct remote **out)
{
	return remote_host_ok(t->name);
}

int remote_move_code(struct remote *r, uint64_t to)
{
	return remote_host_ok(r->t->name);
}

int remote_syscall(struct remote *r, long nr, const uint64_t a[6], int64_t *ret)
{
	return remote_host_ok(r->t->name);
}

int remote_call(struct remote *r, uint64_t fn, const uint64_t a[6], uint64_t *ret, const char *what)
{
	return remote_host_ok(r->t->name);
}

int remote_end(struct remote *r)
{
	return 0;
}
#endif

static int64_t sys(struct remote *r, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		   uint64_t a5, int *err)
{
	const uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };
	int64_t ret = -1;

	*err = remote_syscall(r, nr, a, &ret);
	return ret;
}

int remote_mmap(struct remote *r, uint64_t addr, uint64_t len, int prot, int flags, uint64_t *out)
{
	int err;
	int64_t v = sys(r, SYS_mmap, addr, len, prot, flags, (uint64_t)-1, 0, &err);

	if (err)
		return -1;
	if (v < 0 && v > -4096) {
		if (-v == EEXIST)
			return pr_err(r->t->name, "the addresses 0x%llx-0x%llx were taken meanwhile: try again",
				      (unsigned long long)addr, (unsigned long long)(addr + len));
		return pr_err(r->t->name, "mmap of %llu bytes failed in the process: %s", (unsigned long long)len,
			      strerror((int)-v));
	}
	if ((flags & MAP_FIXED_NOREPLACE) && (uint64_t)v != addr) {
		remote_munmap(r, (uint64_t)v, len);
		return pr_err(r->t->name, "the kernel would not map 0x%llx (it has no MAP_FIXED_NOREPLACE?)",
			      (unsigned long long)addr);
	}
	*out = (uint64_t)v;
	return 0;
}

int remote_mprotect(struct remote *r, uint64_t addr, uint64_t len, int prot)
{
	int err;
	int64_t v = sys(r, SYS_mprotect, addr, len, prot, 0, 0, 0, &err);

	if (err)
		return -1;
	if (v)
		return pr_err(r->t->name, "mprotect of 0x%llx failed in the process: %s", (unsigned long long)addr,
			      strerror((int)-v));
	return 0;
}

int remote_munmap(struct remote *r, uint64_t addr, uint64_t len)
{
	int err;
	int64_t v = sys(r, SYS_munmap, addr, len, 0, 0, 0, 0, &err);

	if (err)
		return -1;
	if (v)
		return pr_err(r->t->name, "munmap of 0x%llx failed in the process: %s", (unsigned long long)addr,
			      strerror((int)-v));
	return 0;
}

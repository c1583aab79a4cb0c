/* Stopping every thread of the target, and letting it go again. Threads are
 * seized (PTRACE_SEIZE) and interrupted (PTRACE_INTERRUPT); the task list
 * is read again until a pass finds no new thread. A thread that was about
 * to take a signal stops at it and is left there: the signal is delivered
 * when surgeon detaches, or by the kernel if surgeon dies first. Signals
 * that arrive for the thread surgeon runs code in are held and given back
 * at the end with their original siginfo. */
#include "live/live.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_TIMEOUT 5.0	/* seconds a thread may take to stop */

int wait_stop(struct target *t, pid_t tid, int *status, double timeout)
{
	double deadline = now_seconds() + timeout;
	unsigned spins = 0;

	(void)t;
	for (;;) {
		pid_t w = waitpid(tid, status, __WALL | WNOHANG);

		if (w == tid)
			return WIFSTOPPED(*status) ? 0 : (errno = ESRCH, -1);
		if (w < 0 && errno != EINTR)
			return -1;
		if (now_seconds() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		/* Most stops come within microseconds: yield first, then sleep. */
		if (spins++ < 200) {
			sched_yield();
		} else {
			struct timespec ts = { 0, spins < 1000 ? 20000 : 200000 };

			nanosleep(&ts, NULL);
		}
	}
}

static bool known(const struct target *t, pid_t tid)
{
	for (size_t i = 0; i < t->threads.n; i++)
		if (t->threads.v[i].tid == tid)
			return true;
	return false;
}

static bool stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Seizes and interrupts a thread; its stop is waited for later
 * (settle()), so that all threads stop at once rather than one by one.
 * 1: seized, 0: it has just exited, -1: error. */
static int seize(struct target *t, pid_t tid, bool leader)
{
	struct thread th = { .tid = tid, .how = TS_PENDING };

	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTRACE_O_TRACESYSGOOD)) {
		int e = errno;

		if (e == ESRCH && !leader)
			return 0;
		if (e == ESRCH)
			return pr_err(t->name, "no such process");
		if (e == EPERM)
			return not_permitted(t);
		return pr_err(t->name, "cannot attach to thread %d: %s", (int)tid, strerror(e));
	}
	if (VEC_PUSH(&t->threads, th)) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return -1;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) && errno != ESRCH)
		return pr_err(t->name, "cannot stop thread %d: %s", (int)tid, strerror(errno));
	return 1;
}

/* Waits for every seized thread's first stop. */
static int settle(struct target *t)
{
	size_t j = 0;
	int err = 0;

	for (size_t i = 0; i < t->threads.n; i++) {
		struct thread *th = &t->threads.v[i];
		int st;

		if (th->how == TS_PENDING) {
			if (wait_stop(t, th->tid, &st, STOP_TIMEOUT)) {
				if (errno == ESRCH || errno == ECHILD) {
					if (th->tid == t->pid)
						err = pr_err(t->name, "exited");
					continue;	/* gone */
				}
				if (!err)
					err = errno == ETIMEDOUT ?
					      pr_err(t->name, "thread %d does not stop (in uninterruptible sleep?)", (int)th->tid) :
					      pr_err(t->name, "cannot wait for thread %d: %s", (int)th->tid, strerror(errno));
			} else if ((st >> 16) == PTRACE_EVENT_STOP) {
				if (stop_signal(WSTOPSIG(st)) && !err)
					err = pr_err(t->name, "was stopped (by a stop signal) while surgeon attached: "
						     "continue it and try again");
				th->how = TS_EVENT;
			} else {
				/* A signal-delivery stop came first: the thread stays at it. */
				th->how = TS_SIGNAL;
				th->sig = WSTOPSIG(st);
			}
		}
		t->threads.v[j++] = *th;
	}
	t->threads.n = j;
	return err;
}

int target_stop(struct target *t)
{
	char path[64];
	bool grew = true;

	t->stop_started = now_seconds();
	t->stopped = true;
	if (seize(t, t->pid, true) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	/* Again until a pass finds nothing new: a thread may be creating another. */
	for (int pass = 0; grew && pass < 1000; pass++) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return pr_err(t->name, "cannot list its threads: %s", strerror(errno));
		grew = false;
		while ((de = readdir(d))) {
			char *end;
			long tid = strtol(de->d_name, &end, 10);

			if (*end || tid <= 0 || known(t, tid))
				continue;
			switch (seize(t, tid, false)) {
			case -1:
				closedir(d);
				settle(t);
				return -1;
			case 1:
				grew = true;
			}
		}
		closedir(d);
		if (settle(t))
			return -1;
	}
	return 0;
}

void stop_mark(const struct target *t, const char *what)
{
	if (verbose > 1 && t->stopped)
		pr_info("%s: %.3f ms stopped: %s", t->name, (now_seconds() - t->stop_started) * 1e3, what);
}

int hold_signal(struct target *t, pid_t tid, int sig)
{
	struct held_signal h = { .tid = tid, .sig = sig };

	if (ptrace(PTRACE_GETSIGINFO, tid, 0, &h.si))
		memset(&h.si, 0, sizeof(h.si));
	pr_info("%s: thread %d received signal %d (%s) meanwhile: it is held and given back at the end", t->name,
		(int)tid, sig, strsignal(sig));
	return VEC_PUSH(&t->held, h);
}

/* A held signal queued again, then delivered with its first siginfo. */
static void give_back(struct target *t, struct thread *th)
{
	bool any = false;
	int st;

	for (size_t i = 0; i < t->held.n; i++)
		if (t->held.v[i].tid == th->tid && !syscall(SYS_tgkill, t->pid, th->tid, t->held.v[i].sig))
			any = true;
	if (!any || th->how != TS_EVENT || ptrace(PTRACE_CONT, th->tid, 0, 0) ||
	    wait_stop(t, th->tid, &st, STOP_TIMEOUT))
		return;
	if ((st >> 16) == 0) {
		th->how = TS_SIGNAL;
		th->sig = WSTOPSIG(st);
		for (size_t i = 0; i < t->held.n; i++)
			if (t->held.v[i].tid == th->tid && t->held.v[i].sig == th->sig) {
				ptrace(PTRACE_SETSIGINFO, th->tid, 0, &t->held.v[i].si);
				break;
			}
	}
}

void target_resume(struct target *t)
{
	for (size_t i = 0; i < t->threads.n; i++) {
		struct thread *th = &t->threads.v[i];

		give_back(t, th);
		ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)(th->how == TS_SIGNAL ? th->sig : 0));
	}
	t->threads.n = 0;
	t->held.n = 0;
	if (t->stopped) {
		t->stopped_for += now_seconds() - t->stop_started;
		t->stops++;
	}
	t->stopped = false;
}

static const char *comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	buf[0] = 0;
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

int stop_when_safe(struct target *t, const hot_vec *hot, double patience, const char *doing)
{
	double deadline = now_seconds() + patience;
	struct unsafe_thread u;
	unsigned attempt;
	char name[32];

	for (attempt = 0;; attempt++) {
		int r;

		if (target_stop(t)) {
			target_resume(t);
			return -1;
		}
		stop_mark(t, "every thread stopped");
		r = threads_check(t, hot, &u);
		stop_mark(t, "every thread's stack unwound");
		if (r < 0)
			target_resume(t);
		if (r <= 0)
			return r;
		if (now_seconds() > deadline) {
			pr_err(t->name, "thread %d (%s) %s %s (at 0x%llx) and did not leave it in %.0f s: %s refused, "
			       "nothing was changed", (int)u.tid, comm(t->pid, u.tid, name, sizeof(name)),
			       u.returning ? "will return into" : "is running in", u.what, (unsigned long long)u.pc,
			       patience, doing);
			target_resume(t);
			return -1;
		}
		if (!attempt)
			pr_info("%s: waiting: thread %d (%s) %s %s (at 0x%llx)", t->name, (int)u.tid,
				comm(t->pid, u.tid, name, sizeof(name)), u.returning ? "will return into" : "is running in",
				u.what, (unsigned long long)u.pc);
		target_resume(t);
		{
			/* Let it run a little longer each time: 1 ms up to 20 ms. */
			struct timespec ts = { 0, (attempt < 20 ? attempt + 1 : 20) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/* Reading a live process: every thread is stopped with PTRACE_SEIZE and
 * PTRACE_INTERRUPT while /proc/PID/mem is read, then detached, which leaves
 * a process that was stopped (SIGSTOP) stopped and resumes one that ran. */
#include "unexec/undump.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAPS_MAX (64u << 20)

struct tracee {
	pid_t tid;
	int sig;	/* a signal the stop took from the thread, given back at detach */
	uint64_t rsp;	/* its stack pointer while stopped; 0 when unknown */
};

struct proc {
	struct memsrc src;	/* first: the read callback gets it */
	pid_t pid;
	int memfd;
	char name[32];
	VEC(struct tracee) stopped;
};

static int proc_read(struct memsrc *s, uint64_t addr, void *buf, size_t len)
{
	struct proc *p = (struct proc *)s;
	unsigned char probe;

	/* No buffer: is the byte at addr readable? */
	return buf ? pread_mem(p->memfd, addr, buf, len) : pread_mem(p->memfd, addr, &probe, 1);
}

static pid_t tracer_of(pid_t pid)
{
	char path[64], line[256];
	long t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %ld", &t) == 1)
			break;
	fclose(f);
	return (pid_t)t;
}

/* Where a stopped thread (not the main one) is on its stack: the unused
 * stack below goes with the thread. */
static void thread_rsp(struct tracee *t)
{
	uint64_t sp;

	if (!ptrace_sp(t->tid, &sp))
		t->rsp = sp;
}

static int stop_thread(struct proc *p, pid_t tid, bool leader)
{
	struct tracee t = { .tid = tid };
	int st;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
		int e = errno;
		pid_t tracer = tracer_of(p->pid);

		if (!leader && e == ESRCH)
			return 0;	/* the thread has just exited */
		if (e == ESRCH)
			return pr_err(p->name, "no such process");
		if (e == EPERM && tracer)
			return pr_err(p->name, "is already traced by pid %d; detach that tracer first", (int)tracer);
		return pr_err(p->name, "cannot attach with ptrace: %s", strerror(e));
	}
	if (VEC_PUSH(&p->stopped, t)) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return -1;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) && errno != ESRCH)
		return pr_err(p->name, "cannot stop thread %d: %s", (int)tid, strerror(errno));
	for (;;) {
		pid_t w = waitpid(tid, &st, __WALL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return pr_err(p->name, "cannot wait for thread %d: %s", (int)tid, strerror(errno));
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			p->stopped.n--;
			return leader ? pr_err(p->name, "exited while being attached") : 0;
		}
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			if (!leader)
				thread_rsp(&p->stopped.v[p->stopped.n - 1]);
			return 0;
		}
		/* A signal-delivery stop came first: keep the signal for the
		 * detach, and wait for the interrupt. */
		p->stopped.v[p->stopped.n - 1].sig = WSTOPSIG(st);
		if (!leader)
			thread_rsp(&p->stopped.v[p->stopped.n - 1]);
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) && errno != ESRCH)
			return pr_err(p->name, "cannot stop thread %d: %s", (int)tid, strerror(errno));
		return 0;
	}
}

static bool is_stopped(const struct proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->stopped.n; i++)
		if (p->stopped.v[i].tid == tid)
			return true;
	return false;
}

/* Every thread, twice over the task list so that one created meanwhile is caught. */
static int stop_all(struct proc *p)
{
	char path[64];
	int pass;

	if (stop_thread(p, p->pid, true))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	for (pass = 0; pass < 2; pass++) {
		DIR *d = opendir(path);
		struct dirent *de;

		if (!d)
			return pr_err(p->name, "cannot list threads: %s", strerror(errno));
		while ((de = readdir(d))) {
			char *end;
			long tid = strtol(de->d_name, &end, 10);

			if (*end || tid <= 0 || is_stopped(p, tid))
				continue;
			if (stop_thread(p, tid, false)) {
				closedir(d);
				return -1;
			}
		}
		closedir(d);
	}
	return 0;
}

static void resume_all(struct proc *p)
{
	for (size_t i = 0; i < p->stopped.n; i++)
		ptrace(PTRACE_DETACH, p->stopped.v[i].tid, 0, (void *)(long)p->stopped.v[i].sig);
	VEC_FREE(&p->stopped);
}

static int read_maps(struct proc *p, const char *exe)
{
	char path[64], *buf = NULL, *line, *save = NULL;
	size_t n = 0, cap = 0;
	char prev_path[PATH_MAX] = "";
	uint64_t prev_end = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_err(p->name, "cannot read its mappings: %s", strerror(errno));
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb = nc <= MAPS_MAX ? realloc(buf, nc) : NULL;

			if (!nb) {
				err = pr_err(p->name, nc > MAPS_MAX ? "too many mappings" : "out of memory");
				break;
			}
			buf = nb;
			cap = nc;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = pr_err(p->name, "cannot read its mappings: %s", strerror(errno));
			break;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (err || !buf) {
		free(buf);
		return err ? err : pr_err(p->name, "has no mappings");
	}
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b, off;
		char perms[8], *name;
		int used = 0;
		struct region r = { 0 };

		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &a, &b, perms, &off, &used) < 4 || !used)
			continue;
		name = line + used;
		while (*name == ' ')
			name++;
		r.start = a;
		r.end = b;
		r.flags = (perms[0] == 'r' ? PF_R : 0) | (perms[1] == 'w' ? PF_W : 0) | (perms[2] == 'x' ? PF_X : 0);
		if (!strcmp(name, "[heap]"))
			r.kind = REG_HEAP;
		else if (!*name || !strncmp(name, "[anon:", 6))
			r.kind = REG_ANON;
		else
			goto next;
		if (perms[0] != 'r' || perms[3] != 'p')
			goto next;
		/* The bss of a shared library: the library's own state, not ours. */
		if (r.kind == REG_ANON && prev_end == r.start && prev_path[0] == '/' && strcmp(prev_path, exe))
			goto next;
		if (VEC_PUSH(&p->src.regions, r)) {
			free(buf);
			return -1;
		}
next:
		prev_end = b;
		snprintf(prev_path, sizeof(prev_path), "%s", name);
	}
	free(buf);
	return 0;
}

/* AT_ENTRY: where the kernel started the program, which places a PIE. */
static void read_entry(struct proc *p)
{
	char path[64];
	uint64_t a[2];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (off_t off = 0; pread(fd, a, sizeof(a), off) == sizeof(a) && a[0] != AT_NULL; off += sizeof(a))
		if (a[0] == AT_ENTRY) {
			p->src.entry = a[1];
			p->src.have_entry = true;
		}
	close(fd);
}

int undump_pid(pid_t pid, unsigned flags, bool attach, char **exe_path, bytevec *out)
{
	struct proc p = { .pid = pid, .memfd = -1 };
	char path[64], exe[PATH_MAX];
	unsigned char *file = NULL;
	size_t size = 0;
	struct stat st;
	ssize_t n;
	int err = -1;

	*exe_path = NULL;
	snprintf(p.name, sizeof(p.name), "pid %d", (int)pid);
	p.src.name = p.name;
	p.src.read = proc_read;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (pid <= 0 || stat(path, &st))
		return pr_err(p.name, "no such process");
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return pr_err(p.name, errno == ENOENT ? "has no executable (a kernel thread?)" :
			      "cannot find its executable: %s", strerror(errno));
	exe[n] = 0;
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = 0;
	*exe_path = xstrdup(exe);
	if (!*exe_path || undump_read_file(path, &file, &size))
		goto out;
	if (attach && stop_all(&p))
		goto out;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	p.memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (p.memfd < 0) {
		pr_err(p.name, "cannot read its memory: %s", strerror(errno));
		goto out;
	}
	if (read_maps(&p, exe))
		goto out;
	read_entry(&p);
	for (size_t i = 0; i < p.stopped.n; i++)
		if (p.stopped.v[i].rsp && VEC_PUSH(&p.src.stacks, p.stopped.v[i].rsp))
			goto out;
	err = undump_build(exe, file, size, &p.src, flags, out);
out:
	resume_all(&p);
	if (p.memfd >= 0)
		close(p.memfd);
	VEC_FREE(&p.src.regions);
	VEC_FREE(&p.src.stacks);
	free(file);
	if (err) {
		free(*exe_path);
		*exe_path = NULL;
	}
	return err;
}

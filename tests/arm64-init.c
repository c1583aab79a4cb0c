/* /init of the aarch64 virtual machine of tests/t-arm64-system.sh: the
 * native ptrace path of `surgeon unexec --pid` needs a real aarch64 kernel
 * (qemu-user runs guests without ptrace). Built static, so it needs nothing
 * from the initramfs; surgeon and the test program use the aarch64 libraries
 * in /lib. No ld in the machine: the objects go out on the console, base64
 * between BEGIN and END lines, and are relinked outside; a second boot
 * (/stop.dump in the initramfs) runs the relinked PIE and the dumps of the
 * first boot's kernel core. Results are lines
 * "R NAME VALUE" the test reads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

static char *envp[] = { "PATH=/", "LD_LIBRARY_PATH=/lib", 0 };

static void nap(void) { nanosleep(&(struct timespec){ 0, 20000000 }, 0); }

/* Starts ARGV with stdin from IN (-1: the console), stdout and stderr to the
 * files OUT and ERR (0: the console). */
static pid_t start(char *const argv[], int in, const char *out, const char *err)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	/* A dump with anonymous memory at its old addresses: the kernel must
	 * not put the new stack there (t-undump-lib's norand). */
	if (getenv("NORAND"))
		personality(ADDR_NO_RANDOMIZE);
	if (in >= 0)
		dup2(in, 0);
	if (out)
		dup2(open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
	if (err)
		dup2(open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
	execve(argv[0], argv, envp);
	_exit(127);
}

/* The exit status, or 128+signal, as a shell says it. */
static int finish(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char state(pid_t pid)
{
	char path[64], buf[512], *p;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return '?';
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the name may hold spaces */
	return p && p[1] ? p[2] : '?';
}

/* Waits (bounded: 10 s) until PID is in state S. */
static char wait_state(pid_t pid, char s)
{
	char c = '?';
	for (int i = 0; i < 500 && (c = state(pid)) != s; i++)
		nap();
	return c;
}

static void emit(const char *tag, const char *path)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char in[57];
	char line[80];
	size_t n;
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("R %s-missing %s\n", tag, path);
		return;
	}
	printf("BEGIN %s\n", tag);
	while ((n = fread(in, 1, sizeof(in), f)) > 0) {
		size_t o = 0;
		for (size_t i = 0; i < n; i += 3) {
			unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
			line[o++] = b64[v >> 18 & 63];
			line[o++] = b64[v >> 12 & 63];
			line[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
			line[o++] = i + 2 < n ? b64[v & 63] : '=';
		}
		line[o++] = '\n';
		fwrite(line, 1, o, stdout);
	}
	fclose(f);
	printf("END %s\n", tag);
	fflush(stdout);
}

/* The maps of PID, for the test's load-address and heap checks. */
static void save_maps(pid_t pid, const char *to)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	int i = open(path, O_RDONLY), o = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;
	while (i >= 0 && o >= 0 && (n = read(i, buf, sizeof(buf))) > 0)
		if (write(o, buf, n) != n)
			break;
	close(i);
	close(o);
}

static void unexec(const char *n, pid_t pid, int anon)
{
	char spid[16], obj[32], err[32];
	snprintf(spid, sizeof(spid), "%d", pid);
	snprintf(obj, sizeof(obj), "/%s.o", n);
	snprintf(err, sizeof(err), "/%s.err", n);
	char *argv[] = { "/surgeon", "unexec", "--pid", spid, "-o", obj, anon ? "--anon" : 0, 0 };
	printf("R %s-unexec %d\n", n, finish(start(argv, -1, 0, err)));
	emit(err + 1, err);
}

/* The threads of PID, and how many of them are running (state R). */
static void tasks(const char *what, pid_t pid)
{
	char path[64];
	int all = 0, running = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.') {
			all++;
			running += state(atoi(e->d_name)) == 'R';
		}
	if (d)
		closedir(d);
	printf("R %s-tasks %d\nR %s-running %d\n", what, all, what, running);
}

/* A running process, blocked on a pipe (its other threads may be busy): N
 * is the name of its files. */
static void pipe_case(const char *n, char *const argv[], int anon)
{
	char out[32], err[32], what[32], buf[16] = "";
	int p[2];
	snprintf(out, sizeof(out), "/%s.out", n);
	snprintf(err, sizeof(err), "/%s.stderr", n);
	if (pipe(p))
		return;
	pid_t pid = start(argv, p[0], out, err);
	close(p[0]);
	for (int i = 0; i < 500; i++) {
		int f = open(out, O_RDONLY);
		ssize_t k = f >= 0 ? read(f, buf, sizeof(buf) - 1) : 0;
		close(f);
		if (k > 0 && !strncmp(buf, "ready", 5))
			break;
		nap();
	}
	printf("R %s-waits %c\n", n, wait_state(pid, 'S'));
	snprintf(what, sizeof(what), "%s-before", n);
	tasks(what, pid);
	unexec(n, pid, anon);
	printf("R %s-state %c\n", n, wait_state(pid, 'S'));
	snprintf(what, sizeof(what), "%s-after", n);
	tasks(what, pid);
	if (write(p[1], "x", 1) != 1)
		printf("R %s-write %s\n", n, strerror(errno));
	close(p[1]);
	printf("R %s-finishes %d\n", n, finish(pid));
}

/* A kernel core: the dynamic PIE killed by SIGABRT while it waits on a
 * pipe, its core in /core (RLIMIT_CORE unlimited, core_pattern a path), and
 * this machine's surgeon's unexec --core of it. The core goes out too: the
 * x86-64 surgeon reads it outside. */
static void core_case(void)
{
	char *app[] = { "/app", "pipe", 0 }, buf[16] = "";
	char *un[] = { "/surgeon", "unexec", "--core", "/core", "--exe", "/app", "-o", "/kcore.o", 0 };
	int p[2], f = open("/proc/sys/kernel/core_pattern", O_WRONLY), st;
	if (f < 0 || write(f, "/core", 5) != 5 || setrlimit(RLIMIT_CORE, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY }) ||
	    pipe(p)) {
		printf("R kcore-setup %s\n", strerror(errno));
		return;
	}
	close(f);
	pid_t pid = start(app, p[0], "/kcore.out", "/kcore.stderr");
	close(p[0]);
	for (int i = 0; i < 500; i++) {
		int o = open("/kcore.out", O_RDONLY);
		ssize_t k = o >= 0 ? read(o, buf, sizeof(buf) - 1) : 0;
		close(o);
		if (k > 0 && !strncmp(buf, "ready", 5))
			break;
		nap();
	}
	printf("R kcore-waits %c\n", wait_state(pid, 'S'));
	save_maps(pid, "/kcore.maps");
	kill(pid, SIGABRT);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	close(p[1]);
	printf("R kcore-dumped %d\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT && WCOREDUMP(st));
	printf("R kcore-unexec %d\n", finish(start(un, -1, 0, "/kcore.err")));
}

static void off(void)
{
	printf("R done 1\n");
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
}

/* The second boot: the relinked PIE, which keeps the address the first boot
 * gave it, above what qemu-user on x86-64 can map. */
static void run_dump(void)
{
	char *full[] = { "/stop.dump", 0 }, *addr[] = { "/stop.dump", "addr", 0 };
	char *tfull[] = { "/thr.dump", 0 }, *tcount[] = { "/thr.dump", "count", 0 };
	printf("R dump %d\n", finish(start(full, -1, "/dump.out", "/dump.err")));
	printf("R addr1 %d\n", finish(start(addr, -1, "/addr1.out", 0)));
	printf("R addr2 %d\n", finish(start(addr, -1, "/addr2.out", 0)));
	setenv("NORAND", "1", 1);
	printf("R tdump %d\n", finish(start(tfull, -1, "/tdump.out", "/tdump.err")));
	printf("R tcount %d\n", finish(start(tcount, -1, "/tcount.out", 0)));
	/* The kernel core's dumps: by the x86-64 surgeon, and by this machine's. */
	char *kx[] = { "/kcore-x86.dump", 0 }, *ka[] = { "/kcore-a64.dump", 0 };
	printf("R kx %d\n", finish(start(kx, -1, "/kx.out", "/kx.err")));
	printf("R ka %d\n", finish(start(ka, -1, "/ka.out", "/ka.err")));
	const char *files[] = { "dump.out", "dump.err", "addr1.out", "addr2.out", "tdump.out", "tdump.err", "tcount.out",
				"kx.out", "kx.err", "ka.out", "ka.err" };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s", files[i]);
		emit(files[i], path);
	}
	off();
}

int main(void)
{
	struct utsname u;
	mount("proc", "/proc", "proc", 0, 0);
	mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
	int c = open("/dev/console", O_RDWR);
	if (c >= 0) {
		dup2(c, 0);
		dup2(c, 1);
		dup2(c, 2);
	}
	setvbuf(stdout, 0, _IOLBF, 0);
	uname(&u);
	printf("R machine %s\nR kernel %s\n", u.machine, u.release);
	if (!access("/stop.dump", X_OK))
		run_dump();

	char *info[] = { "/surgeon", "info", "/app", 0 };
	printf("R info %d\n", finish(start(info, -1, "/info.out", "/info.err")));
	emit("info.out", "/info.out");

	/* A process that stopped itself after its initialization. */
	char *stop[] = { "/app", "stop", 0 };
	pid_t pid = start(stop, -1, "/stop.out", "/stop.stderr");
	int st;
	waitpid(pid, &st, WUNTRACED);
	printf("R stop-stopped %d\n", WIFSTOPPED(st));
	save_maps(pid, "/stop.maps");
	unexec("stop", pid, 0);
	/* Detached, it passes through R on its way back into the stop. */
	printf("R stop-state %c\n", wait_state(pid, 'T'));
	kill(pid, SIGCONT);
	printf("R stop-finishes %d\n", finish(pid));

	/* A running process, blocked on a pipe: the static program; then a
	 * static one with three busy threads (ptrace_sp: their stack pointers). */
	char *run[] = { "/sapp", "pipe", 0 }, *thr[] = { "/thr", "pipe", "busy", 0 };
	pipe_case("pipe", run, 0);
	pipe_case("thr", thr, 1);
	core_case();

	const char *files[] = { "stop.o", "stop.ld", "stop.maps", "stop.out", "pipe.o", "pipe.ld", "pipe.maps", "pipe.out",
				"thr.o", "thr.ld", "thr.out", "core", "kcore.o", "kcore.err", "kcore.maps" };
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/%s", files[i]);
		emit(files[i], path);
	}
	off();
	return 0;
}

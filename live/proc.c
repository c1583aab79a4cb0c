/* The target process: whether it can be operated on at all, its mappings,
 * its memory, its shared libraries. Everything here only reads /proc and
 * the target's memory: nothing changes it. */
#include "arch/arch.h"
#include "live/live.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define MAPS_MAX (64u << 20)

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A small /proc file, NUL-terminated; -1 with errno. */
static int read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');	/* the command name may hold anything */
	return p && p[1] == ' ' ? p[2] : 0;
}

static long status_field(pid_t pid, const char *field)
{
	char path[64], buf[4096], *p;
	size_t len = strlen(field);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, field, len) && p[len] == ':')
			return strtol(p + len + 1, NULL, 10);
	return -1;
}

/* Why ptrace may not attach: the owner, or Yama's setting. Only reads. */
int not_permitted(const struct target *t)
{
	char buf[16];
	long tracer = status_field(t->pid, "TracerPid");
	int scope = -1;

	if (tracer > 0)
		return pr_err(t->name, "is already traced by pid %ld (a debugger?); detach it first", tracer);
	if (!read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf)))
		scope = atoi(buf);
	if (t->uid != geteuid() && geteuid() != 0)
		return pr_err(t->name, "not permitted to trace it: it runs as uid %u and surgeon as uid %u "
			      "(ptrace needs the same user, or CAP_SYS_PTRACE)", (unsigned)t->uid, (unsigned)geteuid());
	if (scope == 3)
		return pr_err(t->name, "not permitted to trace it: kernel.yama.ptrace_scope is 3 (no process "
			      "may be traced until reboot)");
	if (scope == 2)
		return pr_err(t->name, "not permitted to trace it: kernel.yama.ptrace_scope is 2 (only a process "
			      "with CAP_SYS_PTRACE may trace): run surgeon as root");
	if (scope == 1)
		return pr_err(t->name, "not permitted to trace it: kernel.yama.ptrace_scope is 1 (only its "
			      "parent may trace it): run surgeon as root or with CAP_SYS_PTRACE");
	return pr_err(t->name, "not permitted to trace it (a set-user-ID program, or surgeon lacks "
		      "CAP_SYS_PTRACE)");
}

int target_open(struct target *t, const char *pid_arg)
{
	char path[64], exe[PATH_MAX];
	char *end;
	long pid;
	ssize_t n;
	char st;
	long uid;

	memset(t, 0, sizeof(*t));
	t->memfd = -1;
	errno = 0;
	pid = strtol(pid_arg, &end, 10);
	if (*end || !*pid_arg || pid <= 0 || pid > INT32_MAX || errno)
		return pr_err(NULL, "'%s' is not a process id", pid_arg);
	t->pid = (pid_t)pid;
	snprintf(t->name, sizeof(t->name), "pid %d", t->pid);
	if (pid == getpid())
		return pr_err(t->name, "is surgeon itself");
	st = proc_state(t->pid);
	if (!st)
		return pr_err(t->name, "no such process");
	if (st == 'Z' || st == 'X')
		return pr_err(t->name, "is a zombie: it has exited, and its parent has not collected it");
	if (st == 'T')
		return pr_err(t->name, "is stopped (SIGSTOP or a debugger): continue it first (kill -CONT %d)", t->pid);
	uid = status_field(t->pid, "Uid");
	t->uid = uid < 0 ? 0 : (uid_t)uid;
	snprintf(path, sizeof(path), "/proc/%d/exe", t->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0) {
		if (errno == EACCES || errno == EPERM)
			return not_permitted(t);
		if (errno == ENOENT)
			return pr_err(t->name, proc_state(t->pid) ? "has no program (a kernel thread?)" : "no such process");
		return pr_err(t->name, "cannot find its program: %s", strerror(errno));
	}
	exe[n] = 0;
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = 0;
	t->exe = xstrdup(exe);
	if (!t->exe)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
	t->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (t->memfd < 0) {
		if (errno == EACCES || errno == EPERM)
			return not_permitted(t);
		return pr_err(t->name, "cannot open its memory: %s", strerror(errno));
	}
	return maps_read(t->pid, t->name, &t->maps);
}

void target_close(struct target *t)
{
	if (t->memfd >= 0)
		close(t->memfd);
	t->memfd = -1;
	free(t->exe);
	t->exe = NULL;
	maps_free(&t->maps);
	VEC_FREE(&t->threads);
	VEC_FREE(&t->held);
}

void maps_free(struct maps *m)
{
	VEC_FREE(&m->v);
	free(m->buf);
	m->buf = NULL;
}

int maps_read(pid_t pid, const char *name, struct maps *m)
{
	char path[64], *line, *save = NULL;
	size_t n = 0, cap = 0;
	int fd;

	maps_free(m);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pr_err(name, errno == ENOENT ? "no such process" : "cannot read its mappings: %s", strerror(errno));
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb = nc <= MAPS_MAX ? realloc(m->buf, nc) : NULL;

			if (!nb) {
				close(fd);
				return pr_err(name, nc > MAPS_MAX ? "too many mappings" : "out of memory");
			}
			m->buf = nb;
			cap = nc;
		}
		r = read(fd, m->buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return pr_err(name, "cannot read its mappings: %s", strerror(errno));
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (!m->buf)
		return pr_err(name, "has no mappings");
	m->buf[n] = 0;
	for (line = strtok_r(m->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b, off, ino;
		unsigned maj, min;
		char perms[8];
		int used = 0;
		struct mapping mp = { 0 };

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &a, &b, perms, &off, &maj, &min, &ino, &used) < 7)
			continue;
		mp.start = a;
		mp.end = b;
		mp.off = off;
		mp.inode = ino;
		mp.dev_major = maj;
		mp.dev_minor = min;
		mp.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
			  (perms[2] == 'x' ? PROT_EXEC : 0);
		mp.shared = perms[3] == 's';
		mp.path = used ? line + used : "";
		if (VEC_PUSH(&m->v, mp))
			return -1;
	}
	return 0;
}

const struct mapping *maps_find(const struct maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->v.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < m->v.v[mid].start)
			hi = mid;
		else if (addr >= m->v.v[mid].end)
			lo = mid + 1;
		else
			return &m->v.v[mid];
	}
	return NULL;
}

int mem_read(const struct target *t, uint64_t addr, void *buf, size_t len)
{
	return pread_mem(t->memfd, addr, buf, len);
}

int mem_write(const struct target *t, uint64_t addr, const void *buf, size_t len)
{
	const unsigned char *b = buf;

	if (addr >= arch_native()->user_end || len > arch_native()->user_end - addr)
		return pr_err(t->name, "cannot write at 0x%llx", (unsigned long long)addr);
	while (len) {
		ssize_t n = pwrite(t->memfd, b, len, (off_t)addr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return pr_err(t->name, "cannot write its memory at 0x%llx: %s", (unsigned long long)addr,
				      n < 0 ? strerror(errno) : "nothing written");
		b += n;
		addr += n;
		len -= n;
	}
	return 0;
}

uint64_t proc_entry(const struct target *t)
{
	char path[64];
	uint64_t a[2], entry = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (off_t off = 0; pread(fd, a, sizeof(a), off) == sizeof(a) && a[0] != AT_NULL; off += sizeof(a))
		if (a[0] == AT_ENTRY)
			entry = a[1];
	close(fd);
	return entry;
}

void proclibs_free(proclib_vec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].path);
		free(v->v[i].open_path);
	}
	VEC_FREE(v);
}

/* The file surgeon reads for a mapped library: its path when the file
 * there is still the one mapped (same device and inode), otherwise the
 * kernel's handle on the mapped one. */
static char *open_path_for(const struct target *t, const char *path)
{
	const struct mapping *mp = NULL;
	struct stat st;

	for (size_t i = 0; i < t->maps.v.n && !mp; i++)
		if (!strcmp(t->maps.v.v[i].path, path))
			mp = &t->maps.v.v[i];
	if (!mp)
		return NULL;
	if (!stat(path, &st) && st.st_ino == mp->inode && major(st.st_dev) == mp->dev_major &&
	    minor(st.st_dev) == mp->dev_minor)
		return xstrdup(path);
	{
		char *mf = xasprintf("/proc/%d/map_files/%llx-%llx", (int)t->pid, (unsigned long long)mp->start,
				     (unsigned long long)mp->end);

		if (mf && !access(mf, R_OK))
			return mf;
		free(mf);
	}
	pr_err(path, "is no longer the file %s loaded (replaced on disk?)", t->name);
	return (char *)-1;
}

static int push_lib(struct target *t, proclib_vec *out, const char *path, uint64_t bias)
{
	struct proclib pl = { .bias = bias };

	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->v[i].path, path))
			return 0;
	pl.open_path = open_path_for(t, path);
	if (pl.open_path == (char *)-1)
		return -1;
	if (!pl.open_path)
		return 0;	/* not mapped (the vDSO's name, say) */
	pl.path = xstrdup(path);
	if (!pl.path || VEC_PUSH(out, pl)) {
		free(pl.path);
		free(pl.open_path);
		return -1;
	}
	return 0;
}

/* The loader's list: r_debug (from the program's DT_DEBUG) -> link_map. */
static int from_link_map(struct target *t, const struct image *img, proclib_vec *out)
{
	const struct dyninfo *d = &img->dyn;
	uint64_t dbg = 0, map;
	struct r_debug rd;
	size_t i;

	if (!d->present)
		return 0;
	for (i = 0; i < 4096; i++) {
		Elf64_Dyn dy;

		if (mem_read(t, d->addr + i * sizeof(dy), &dy, sizeof(dy)) || dy.d_tag == DT_NULL)
			break;
		if (dy.d_tag == DT_DEBUG)
			dbg = dy.d_un.d_ptr;
	}
	if (!dbg || mem_read(t, dbg, &rd, sizeof(rd)))
		return 0;
	map = (uint64_t)(uintptr_t)rd.r_map;
	for (i = 0; map && i < 65536; i++) {
		struct link_map lm;
		char name[PATH_MAX];

		if (mem_read(t, map, &lm, sizeof(lm)))
			break;
		name[0] = 0;
		if (lm.l_name) {
			size_t k;

			for (k = 0; k < sizeof(name) - 1; k++)
				if (mem_read(t, (uint64_t)(uintptr_t)lm.l_name + k, &name[k], 1) || !name[k])
					break;
			name[k] = 0;
		}
		if (name[0] == '/' && push_lib(t, out, name, lm.l_addr))
			return -1;
		map = (uint64_t)(uintptr_t)lm.l_next;
	}
	return 0;
}

/* Without a link map: every mapped ELF file but the program, by address,
 * placed by its mapping of file offset 0. */
static int from_maps(struct target *t, proclib_vec *out)
{
	for (size_t i = 0; i < t->maps.v.n; i++) {
		const struct mapping *mp = &t->maps.v.v[i];
		Elf64_Ehdr eh;
		Elf64_Phdr ph;
		uint64_t low = UINT64_MAX;

		if (mp->path[0] != '/' || mp->off || !strcmp(mp->path, t->exe) || mem_read(t, mp->start, &eh, sizeof(eh)) ||
		    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_type != ET_DYN || eh.e_phentsize != sizeof(ph))
			continue;
		for (unsigned k = 0; k < eh.e_phnum && k < 256; k++)
			if (!mem_read(t, mp->start + eh.e_phoff + k * sizeof(ph), &ph, sizeof(ph)) && ph.p_type == PT_LOAD &&
			    ph.p_vaddr < low)
				low = ph.p_vaddr & ~(uint64_t)0xfff;
		if (low != UINT64_MAX && push_lib(t, out, mp->path, mp->start - low))
			return -1;
	}
	return 0;
}

int proc_libs(struct target *t, const struct image *img, proclib_vec *out)
{
	memset(out, 0, sizeof(*out));
	if (from_link_map(t, img, out))
		return -1;
	return out->n ? 0 : from_maps(t, out);
}

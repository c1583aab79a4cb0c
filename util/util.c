#include "util/util.h"
#include "arch/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <ftw.h>

int verbose;
int err_count;

/* One line: "surgeon: [FILE: ][warning: ]what[: why]". */
void pr_vmsg(const char *file, const char *kind, const char *why, const char *fmt, va_list ap)
{
	fputs("surgeon: ", stderr);
	if (file)
		fprintf(stderr, "%s: ", file);
	if (kind)
		fputs(kind, stderr);
	vfprintf(stderr, fmt, ap);
	if (why)
		fprintf(stderr, ": %s", why);
	fputc('\n', stderr);
}

int pr_err(const char *file, const char *fmt, ...)
{
	va_list ap;

	err_count++;
	va_start(ap, fmt);
	pr_vmsg(file, NULL, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

void pr_warn(const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pr_vmsg(file, "warning: ", NULL, fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	pr_vmsg(NULL, NULL, NULL, fmt, ap);
	va_end(ap);
}

void *zalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);

	if (!p)
		pr_err(NULL, "out of memory (%zu bytes)", size);
	return p;
}

void *xrealloc_array(void *ptr, size_t nmemb, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &bytes)) {
		pr_err(NULL, "out of memory (%zu x %zu bytes)", nmemb, size);
		return NULL;
	}
	p = realloc(ptr, bytes ? bytes : 1);
	if (!p)
		pr_err(NULL, "out of memory (%zu bytes)", bytes);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		pr_err(NULL, "out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0) {
		pr_err(NULL, "out of memory");
		return NULL;
	}
	return p;
}

int vec_reserve(void **v, size_t *cap, size_t elem, size_t want)
{
	void *p;

	if (want <= *cap)
		return 0;
	p = xrealloc_array(*v, want, elem);
	if (!p)
		return -1;
	*v = p;
	*cap = want;
	return 0;
}

int vec_grow(void **v, size_t *cap, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = xrealloc_array(*v, ncap, elem);

	if (!p)
		return -1;
	*v = p;
	*cap = ncap;
	return 0;
}

/* Eight bytes at a time: a large program's names are long (C++) and there
 * are hundreds of thousands of them. */
uint64_t hash_str(const char *s)
{
	size_t n = strlen(s);
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull), w;

	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0x94d049bb133111ebull;
	h ^= h >> 32;
	h *= 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 29);
}

/* Open addressing with the whole hash kept beside each key: a probe that
 * meets another key is settled without touching that key's string, which
 * for a large table is the cache miss that matters. */
struct slot {
	uint64_t hash;
	const char *key;
	void *val;
};

struct strmap {
	struct slot *slots;
	size_t cap, n;
};

struct strmap *strmap_new(size_t hint)
{
	struct strmap *m = zalloc(sizeof(*m));
	size_t cap = 64;

	if (!m)
		return NULL;
	while (cap * 3 < hint * 4)
		cap *= 2;
	m->cap = cap;
	m->slots = zalloc(cap * sizeof(*m->slots));
	if (!m->slots) {
		strmap_free(m);
		return NULL;
	}
	return m;
}

void strmap_free(struct strmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static struct slot *strmap_slot(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->slots[i].key && (m->slots[i].hash != h || strcmp(m->slots[i].key, key)))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

/* At most three quarters full: with the hashes kept in the slots, the
 * probes stay short, and a table of 100K names stays small. */
static int strmap_grow(struct strmap *m)
{
	struct strmap big;

	if ((m->n + 1) * 4 <= m->cap * 3)
		return 0;
	big = (struct strmap){ .cap = m->cap * 2 };
	big.slots = zalloc(big.cap * sizeof(*big.slots));
	if (!big.slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*strmap_slot(&big, m->slots[i].key, m->slots[i].hash) = m->slots[i];
	free(m->slots);
	m->slots = big.slots;
	m->cap = big.cap;
	return 0;
}

void strmap_prefetch(const struct strmap *m, uint64_t h)
{
	__builtin_prefetch(&m->slots[h & (m->cap - 1)], 1);
}

void **strmap_ref(struct strmap *m, const char *key)
{
	return strmap_ref_hashed(m, key, hash_str(key));
}

void **strmap_ref_hashed(struct strmap *m, const char *key, uint64_t h)
{
	struct slot *sl;

	if (strmap_grow(m))
		return NULL;
	sl = strmap_slot(m, key, h);
	if (!sl->key) {
		sl->key = key;
		sl->hash = h;
		sl->val = NULL;
		m->n++;
	}
	return &sl->val;
}

/* Keys are borrowed: they must outlive the map. */
int strmap_put(struct strmap *m, const char *key, void *val)
{
	void **v = strmap_ref(m, key);

	if (!v)
		return -1;
	*v = val;
	return 0;
}

void strmap_each(const struct strmap *m, int (*fn)(const char *key, void *val, void *arg), void *arg)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && fn(m->slots[i].key, m->slots[i].val, arg))
			return;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	const struct slot *sl = strmap_slot(m, key, hash_str(key));

	return sl->key ? sl->val : NULL;
}

struct strset {
	char *data;
	size_t size, cap;
	struct strmap *index;	/* string -> offset+1 */
	VEC(char *) owned;
};

struct strset *strset_new(void)
{
	struct strset *s = zalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->cap = 4096;
	s->data = zalloc(s->cap);
	s->index = strmap_new(256);
	if (!s->data || !s->index) {
		strset_free(s);
		return NULL;
	}
	s->size = 1;	/* "" at offset 0 */
	return s;
}

void strset_free(struct strset *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->owned.n; i++)
		free(s->owned.v[i]);
	VEC_FREE(&s->owned);
	strmap_free(s->index);
	free(s->data);
	free(s);
}

long strset_add(struct strset *s, const char *str)
{
	size_t len = strlen(str);
	uintptr_t found;
	char *key;

	if (!len)
		return 0;
	found = (uintptr_t)strmap_get(s->index, str);
	if (found)
		return (long)(found - 1);
	while (s->size + len + 1 > s->cap) {
		char *p = xrealloc_array(s->data, s->cap, 2);

		if (!p)
			return -1;
		s->data = p;
		s->cap *= 2;
	}
	memcpy(s->data + s->size, str, len + 1);
	/* The map borrows its keys; the data buffer moves, so keep a copy. */
	key = xstrdup(str);
	if (!key || VEC_PUSH(&s->owned, key) ||
	    strmap_put(s->index, key, (void *)(uintptr_t)(s->size + 1))) {
		free(key);
		return -1;
	}
	s->size += len + 1;
	return (long)(s->size - len - 1);
}

const char *strset_data(const struct strset *s)
{
	return s->data;
}

size_t strset_size(const struct strset *s)
{
	return s->size;
}

/* ---- appending string tables ---- */

/* The old table stays where it is (a large program's .strtab is megabytes):
 * new strings go after it, at offsets that count it. */
int strapp_init(struct strapp *s, const unsigned char *old, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->added = strmap_new(64);
	if (!s->added)
		return -1;
	if (len) {
		s->base = old;
		s->base_len = len;
		return 0;
	}
	return VEC_PUSH(&s->buf, 0);	/* offset 0: the empty name */
}

size_t strapp_size(const struct strapp *s)
{
	return s->base_len + s->buf.n;
}

const char *strapp_at(const struct strapp *s, size_t off)
{
	const unsigned char *p;
	size_t n;

	if (off < s->base_len)
		p = s->base + off, n = s->base_len - off;
	else if (off - s->base_len < s->buf.n)
		p = s->buf.v + (off - s->base_len), n = s->buf.n - (off - s->base_len);
	else
		return NULL;
	/* A part that ends in NUL ends every string in it. */
	if (p[n - 1] == 0 || memchr(p, 0, n))
		return (const char *)p;
	return NULL;
}

long strapp_add(struct strapp *s, const char *str)
{
	size_t len = strlen(str), at = s->base_len + s->buf.n;
	uintptr_t have = (uintptr_t)strmap_get(s->added, str);
	char *key;

	if (have)
		return have - 1;
	while (s->buf.n + len + 1 > s->buf.cap)
		if (vec_grow((void **)&s->buf.v, &s->buf.cap, 1))
			return -1;
	memcpy(s->buf.v + s->buf.n, str, len + 1);
	key = xstrdup(str);
	if (!key || VEC_PUSH(&s->keys, key) || strmap_put(s->added, key, (void *)(uintptr_t)(at + 1))) {
		free(key);
		return -1;
	}
	s->buf.n += len + 1;
	return at;
}

void strapp_free(struct strapp *s)
{
	size_t i;

	for (i = 0; i < s->keys.n; i++)
		free(s->keys.v[i]);
	VEC_FREE(&s->keys);
	VEC_FREE(&s->buf);
	strmap_free(s->added);
}

/* ---- temporary files ---- */

#define MAX_TMPS 64
static char *tmps[MAX_TMPS];
static bool keep_temps;
static char *tmpdir_path;

static void on_signal(int sig)
{
	tmp_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void tmp_init(bool keep)
{
	keep_temps = keep;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
}

int tmp_register(const char *path)
{
	int i;

	for (i = 0; i < MAX_TMPS; i++) {
		if (!tmps[i]) {
			tmps[i] = xstrdup(path);
			return tmps[i] ? 0 : -1;
		}
	}
	return pr_err(NULL, "too many temporary files");
}

void tmp_forget(const char *path)
{
	int i;

	for (i = 0; i < MAX_TMPS; i++) {
		if (tmps[i] && !strcmp(tmps[i], path)) {
			free(tmps[i]);
			tmps[i] = NULL;
		}
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void tmp_cleanup(void)
{
	int i;

	/* Only async-signal-tolerable work here: unlink, rmdir, nftw. */
	for (i = MAX_TMPS - 1; i >= 0; i--) {
		if (!tmps[i])
			continue;
		if (keep_temps && tmpdir_path && tmps[i] == tmpdir_path)
			continue;
		if (tmpdir_path && tmps[i] == tmpdir_path)
			nftw(tmps[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		else
			unlink(tmps[i]);
	}
}

const char *tmp_dir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	int i;

	if (tmpdir_path)
		return tmpdir_path;
	p = xasprintf("%s/surgeon.XXXXXX", base && *base ? base : "/tmp");
	if (!p)
		return NULL;
	if (!mkdtemp(p)) {
		pr_err(p, "cannot create temporary directory: %s", strerror(errno));
		free(p);
		return NULL;
	}
	for (i = 0; i < MAX_TMPS && tmps[i]; i++)
		;
	if (i == MAX_TMPS) {
		rmdir(p);
		free(p);
		pr_err(NULL, "too many temporary files");
		return NULL;
	}
	tmps[i] = p;
	tmpdir_path = p;
	if (keep_temps)
		fprintf(stderr, "surgeon: keeping temporary files in %s\n", p);
	return p;
}

/* ---- output files ---- */

int outfile_open(struct outfile *o, const char *path, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	struct stat st;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	if (!*path)
		return pr_err(NULL, "empty output file name");
	/* The output is renamed into place: through a symbolic link it goes
	 * where the link leads (the link stays), and anything but a regular
	 * file is refused, or /dev/null would become the output. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (!(o->path = realpath(path, NULL)))
			return pr_err(path, "is a symbolic link that leads nowhere: %s", strerror(errno));
		path = o->path;
		slash = strrchr(path, '/');
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		pr_err(path, "is a directory");
		goto err;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		pr_err(path, "is not a regular file (surgeon writes a new file and renames it into place)");
		goto err;
	}
	if (!o->path)
		o->path = xstrdup(path);
	if (slash)
		o->tmp = xasprintf("%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1);
	else
		o->tmp = xasprintf(".%s.XXXXXX", path);
	if (!o->path || !o->tmp)
		goto err;
	o->fd = mkstemp(o->tmp);
	if (o->fd < 0) {
		pr_err(path, "cannot create output: %s", strerror(errno));
		goto err;
	}
	if (tmp_register(o->tmp))
		goto err;
	if (fchmod(o->fd, mode & 07777)) {
		pr_err(path, "cannot set mode: %s", strerror(errno));
		goto err;
	}
	return 0;
err:
	outfile_abort(o);
	return -1;
}

int outfile_commit(struct outfile *o)
{
	if (close(o->fd)) {
		o->fd = -1;
		pr_err(o->path, "cannot write: %s", strerror(errno));
		outfile_abort(o);
		return -1;
	}
	o->fd = -1;
	if (rename(o->tmp, o->path)) {
		pr_err(o->path, "cannot rename into place: %s", strerror(errno));
		outfile_abort(o);
		return -1;
	}
	tmp_forget(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp) {
		unlink(o->tmp);
		tmp_forget(o->tmp);
	}
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	o->fd = -1;
}

int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct outfile o;

	if (outfile_open(&o, path, mode))
		return -1;
	if (write_all(o.fd, buf, len, 0)) {
		pr_err(path, "cannot write: %s", strerror(errno));
		outfile_abort(&o);
		return -1;
	}
	return outfile_commit(&o);
}

static void *bg_main(void *arg)
{
	struct bgjob *j = arg;

	j->result = j->fn(j->arg);
	return NULL;
}

void bg_start(struct bgjob *j, int (*fn)(void *arg), void *arg)
{
	sigset_t all, old;

	j->fn = fn;
	j->arg = arg;
	j->result = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	j->running = !pthread_create(&j->thread, NULL, bg_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!j->running)
		j->result = fn(arg);
}

int bg_wait(struct bgjob *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
	return j->result;
}

int copy_range(int src, off_t off, int dst, off_t dst_off, size_t len)
{
	char buf[1 << 16];

	while (len) {
		ssize_t n = copy_file_range(src, &off, dst, &dst_off, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			len -= n;
			continue;
		}
		if (n == 0) {
			errno = EIO;	/* source shorter than promised */
			return -1;
		}
		/* Cross-filesystem or unsupported: copy through a buffer. */
		while (len) {
			size_t chunk = len < sizeof(buf) ? len : sizeof(buf);
			ssize_t r = pread(src, buf, chunk, off);

			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0)
				errno = EIO;
			if (r <= 0 || write_all(dst, buf, r, dst_off))
				return -1;
			off += r;
			dst_off += r;
			len -= r;
		}
	}
	return 0;
}

/* ---- process memory ---- */

int pread_mem(int memfd, uint64_t addr, void *buf, size_t len)
{
	unsigned char *b = buf;
	uint64_t end = arch_native()->user_end;

	/* Past user space: an offset pread takes as negative, or a wrap. */
	if (addr >= end || len > end - addr)
		return -1;
	while (len) {
		ssize_t n = pread(memfd, b, len, (off_t)addr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		addr += n;
		len -= n;
	}
	return 0;
}

/* PTRACE_GETREGSET rather than PTRACE_GETREGS: aarch64 has only the former. */
int ptrace_sp(pid_t tid, uint64_t *sp)
{
	uint64_t regs[64];	/* more than either machine's general registers */
	struct iovec io = { .iov_base = regs, .iov_len = sizeof(regs) };
	size_t off = arch_native()->sp_reg_off;

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(long)NT_PRSTATUS, &io) || io.iov_len < off + 8)
		return -1;
	memcpy(sp, (unsigned char *)regs + off, 8);
	return 0;
}

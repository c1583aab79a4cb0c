/* Small helpers shared by every part of surgeon: error reporting, growable
 * arrays, a deduplicating string table, temporary files that never outlive
 * a failed run, and whole-file I/O. */
#ifndef SURGEON_UTIL_H
#define SURGEON_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

/* Exit statuses, as in kpatch: failure and usage are told apart. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

extern int verbose;

/* Errors are printed once, where they are found, as one line
 * "surgeon: FILE: what is wrong"; callers only propagate -1. */
int pr_err(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The line itself: err_count is the caller's. */
void pr_vmsg(const char *file, const char *kind, const char *why, const char *fmt, va_list ap);
/* pr_err with libelf's reason for its last failure appended: "...: why".
 * In util/elferr.c: libsurgeon (no libelf) does not link it. */
int pr_elf(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_warn(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How many errors were printed so far: main() uses it to avoid a second line. */
extern int err_count;

void *zalloc(size_t size);
void *xrealloc_array(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable array: `VEC(struct foo) v = {0}; VEC_PUSH(&v, x);` */
#define VEC(T) struct { T *v; size_t n, cap; }
#define VEC_GROW(vec) \
	((vec)->n < (vec)->cap ? 0 : vec_grow((void **)&(vec)->v, &(vec)->cap, sizeof(*(vec)->v)))
#define VEC_PUSH(vec, x) (VEC_GROW(vec) ? -1 : ((vec)->v[(vec)->n++] = (x), 0))
#define VEC_FREE(vec) do { free((vec)->v); (vec)->v = NULL; (vec)->n = (vec)->cap = 0; } while (0)
int vec_grow(void **v, size_t *cap, size_t elem);
/* Room for `want` elements in all, so that a large array known in advance
 * is allocated once, not doubled past its size. */
#define VEC_RESERVE(vec, want) vec_reserve((void **)&(vec)->v, &(vec)->cap, sizeof(*(vec)->v), (want))
int vec_reserve(void **v, size_t *cap, size_t elem, size_t want);
typedef VEC(unsigned char) bytevec;

/* Deduplicating string table for ELF string sections (libbpf's strset):
 * offset 0 is the empty string. */
struct strset;
struct strset *strset_new(void);
void strset_free(struct strset *s);
/* Returns the offset of `str`, adding it if new; -1 when out of memory. */
long strset_add(struct strset *s, const char *str);
const char *strset_data(const struct strset *s);
size_t strset_size(const struct strset *s);

/* A string table kept as some old bytes plus what is appended, so every old
 * offset into it stays valid; appended strings are deduplicated. */
struct strapp {
	const unsigned char *base;	/* the old table, borrowed: not copied */
	size_t base_len;
	bytevec buf;			/* what was appended after it */
	struct strmap *added;
	VEC(char *) keys;
};
int strapp_init(struct strapp *s, const unsigned char *old, size_t len);
long strapp_add(struct strapp *s, const char *str);
size_t strapp_size(const struct strapp *s);
/* The string at off, or NULL when off is past the end or unterminated. */
const char *strapp_at(const struct strapp *s, size_t off);
void strapp_free(struct strapp *s);

/* A small open-addressing hash from string keys to pointers. */
struct strmap;
struct strmap *strmap_new(size_t hint);
void strmap_free(struct strmap *m);
int strmap_put(struct strmap *m, const char *key, void *val);	/* replaces */
void *strmap_get(const struct strmap *m, const char *key);
/* The value's place for key, made (holding NULL) when the key is new: one
 * lookup where a get and a put would take two. NULL when out of memory. */
void **strmap_ref(struct strmap *m, const char *key);
/* The same with the key's hash_str() known, for callers that hash a batch of
 * keys and strmap_prefetch() their slots first: in a table of 100K names
 * each probe is a cache miss, and a batch overlaps them. */
void **strmap_ref_hashed(struct strmap *m, const char *key, uint64_t hash);
void strmap_prefetch(const struct strmap *m, uint64_t hash);
/* Calls fn on every entry, in no meaningful order, until it returns nonzero. */
void strmap_each(const struct strmap *m, int (*fn)(const char *key, void *val, void *arg), void *arg);
uint64_t hash_str(const char *s);

/* Temporary files and directories are registered so that every exit path,
 * including a signal, removes them unless --keep-temps asked otherwise. */
void tmp_init(bool keep);
int tmp_register(const char *path);
void tmp_forget(const char *path);
void tmp_cleanup(void);
/* Creates (once) a private directory for intermediate files. */
const char *tmp_dir(void);

/* Output written to "DIR/.NAME.XXXXXX" beside the target, renamed on commit. */
struct outfile {
	char *path;	/* final name */
	char *tmp;	/* temporary name */
	int fd;
};
int outfile_open(struct outfile *o, const char *path, mode_t mode);
int outfile_commit(struct outfile *o);
void outfile_abort(struct outfile *o);

int write_all(int fd, const void *buf, size_t len, off_t off);
int write_file(const char *path, const void *buf, size_t len, mode_t mode);
/* Copies [off, off+len) of one file into another at `dst_off`, in the kernel. */
int copy_range(int src, off_t off, int dst, off_t dst_off, size_t len);

/* A function run on a thread of its own, so that work that needs no answer
 * yet (hashing or copying a 100 MB program) overlaps with the rest; run at
 * once when no thread can be made. The thread has every signal blocked:
 * they stay with the main thread. fn should leave reporting to its caller;
 * a message it prints is a whole line, but may come in any order. */
struct bgjob {
	pthread_t thread;
	bool running;
	int (*fn)(void *arg);
	void *arg;
	int result;
};
void bg_start(struct bgjob *j, int (*fn)(void *arg), void *arg);
int bg_wait(struct bgjob *j);	/* fn's result; waits only the first time */

/* util/run.c: runs argv (searched in PATH) with stdin and stderr on
 * /dev/null and returns its exit status, with what it printed on stdout
 * in *out (NUL-terminated, to free); -1 with errno when it cannot run. */
int run_output(const char *const argv[], char **out);

static inline uint64_t align_up(uint64_t x, uint64_t a)
{
	return a > 1 ? (x + a - 1) / a * a : x;
}

static inline bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

/* Is [off, off+len) inside [0, size)? Safe against overflow. */
static inline bool range_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* len bytes at addr of a process, through its /proc/PID/mem: 0, or -1 when
 * some byte is not mapped (no message: the caller knows what it asked). */
int pread_mem(int memfd, uint64_t addr, void *buf, size_t len);

/* The stack pointer of a thread stopped under ptrace, in surgeon's own
 * register layout (the host's: a traced process is one of the host's):
 * 0, or -1 with errno. */
int ptrace_sp(pid_t tid, uint64_t *sp);

#endif

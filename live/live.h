/* Live surgery: `surgeon inject PID`, `eject PID`, `info --pid PID`. The
 * same link as add-lib (relink_link: the system linker, the program's
 * frozen image), done against the process as it is now and loaded into it
 * with ptrace instead of written to a file:
 *   proc.c     the process: checks, mappings, memory, its shared libraries
 *   stop.c     every thread stopped (and their signals kept), resumed
 *   remote.c   system calls and function calls run in a stopped thread
 *   unwind.c   which threads are in, or return into, bytes a patch changes
 *   record.c   the record each injection leaves in the target
 *   link.c     the link: the libraries' names, the address, relink_link
 *   inject.c   inject, eject and info --pid, step by step */
#ifndef SURGEON_LIVE_H
#define SURGEON_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "relink/relink.h"

/* ---- proc.c ---- */
struct mapping {
	uint64_t start, end, off;
	unsigned prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;
	unsigned long long inode;
	unsigned dev_major, dev_minor;
	const char *path;	/* "" for anonymous memory, "[heap]", "[stack]"... */
};

struct maps {
	VEC(struct mapping) v;	/* by address */
	char *buf;		/* the text the paths point into */
};

struct target {
	pid_t pid;
	char name[32];		/* "pid 123": what messages name */
	int memfd;		/* /proc/PID/mem, read-write */
	char *exe;		/* the program's path, for messages */
	uid_t uid;
	struct maps maps;
	/* stop.c */
	VEC(struct thread) threads;
	VEC(struct held_signal) held;	/* signals taken while stopped, given back at the end */
	bool stopped;
	double stop_started, stopped_for;	/* seconds */
	unsigned stops;
};

/* Opens the process: it exists, is not a zombie, not stopped, may be
 * traced (a clear error naming the uid or Yama's ptrace_scope), and its
 * program is read (through /proc/PID/exe). */
int target_open(struct target *t, const char *pid_arg);
void target_close(struct target *t);
/* Why ptrace may not attach (a tracer already there, the owner, Yama's
 * ptrace_scope), in one line; returns -1. */
int not_permitted(const struct target *t);
int maps_read(pid_t pid, const char *name, struct maps *m);
void maps_free(struct maps *m);
/* The mapping holding addr, or NULL. */
const struct mapping *maps_find(const struct maps *m, uint64_t addr);
/* Reads and writes the target's memory through /proc/PID/mem (writes
 * reach read-only pages too, as a debugger's breakpoints do). */
int mem_read(const struct target *t, uint64_t addr, void *buf, size_t len);
int mem_write(const struct target *t, uint64_t addr, const void *buf, size_t len);
/* AT_ENTRY from /proc/PID/auxv (0 when unknown). */
uint64_t proc_entry(const struct target *t);
double now_seconds(void);

/* A shared library of the process, at its address. */
struct proclib {
	char *path;		/* as mapped */
	char *open_path;	/* what surgeon reads: the path, or /proc/PID/map_files/... */
	uint64_t bias;		/* load address minus the file's addresses */
};
typedef VEC(struct proclib) proclib_vec;
/* The libraries in the dynamic loader's order (its link map, read from
 * the program's DT_DEBUG), or in address order when there is none. */
int proc_libs(struct target *t, const struct image *img, proclib_vec *out);
void proclibs_free(proclib_vec *v);

/* ---- stop.c ---- */
enum thread_stop { TS_PENDING, TS_EVENT, TS_SIGNAL };
struct thread {
	pid_t tid;
	enum thread_stop how;
	int sig;		/* TS_SIGNAL: the signal it is about to take */
};
struct held_signal {
	pid_t tid;
	int sig;
	siginfo_t si;
};
/* Stops every thread (PTRACE_SEIZE, PTRACE_INTERRUPT), listing
 * /proc/PID/task again until no new one appears. A thread stopped at a
 * signal is left there: the signal is delivered when it is resumed, or by
 * the kernel if surgeon dies. */
int target_stop(struct target *t);
/* Detaches every thread, giving back the signals held meanwhile. */
void target_resume(struct target *t);
/* Waits for tid's next stop (timeout in seconds); 0, or -1 on timeout,
 * exit or error (printing nothing; errno says). */
int wait_stop(struct target *t, pid_t tid, int *status, double timeout);
/* With -v -v: how long the process has been stopped when `what` is done. */
void stop_mark(const struct target *t, const char *what);
/* A signal taken from a thread that surgeon runs, to be given back. */
int hold_signal(struct target *t, pid_t tid, int sig);

/* ---- remote.c ---- */
struct remote;
/* 0 when surgeon can run code in processes of its own machine; else -1
 * after a message naming `name`. */
int remote_host_ok(const char *name);
/* Prepares a stopped thread to run system calls and functions for
 * surgeon; remote_end puts it back exactly as it was. Whatever happens to
 * surgeon meanwhile (SIGKILL), the thread finds its way back by itself:
 * the code it runs restores its registers from its own stack. */
#define REMOTE_CODE_MAX 128	/* bytes of that code */
int remote_begin(struct target *t, uint64_t code_at, struct remote **out);
/* Where that code is: at `to` (a page of surgeon's own, read-only and
 * executable), or with to = 0 in the unused end of an executable page of
 * the program (put back as its file has it when the code moves or ends). */
int remote_move_code(struct remote *r, uint64_t to);
int remote_syscall(struct remote *r, long nr, const uint64_t args[6], int64_t *ret);
int remote_call(struct remote *r, uint64_t fn, const uint64_t args[6], uint64_t *ret, const char *what);
int remote_end(struct remote *r);
/* mmap, mprotect, munmap in the target: 0, or -1 after a message. */
int remote_mmap(struct remote *r, uint64_t addr, uint64_t len, int prot, int flags, uint64_t *out);
int remote_mprotect(struct remote *r, uint64_t addr, uint64_t len, int prot);
int remote_munmap(struct remote *r, uint64_t addr, uint64_t len);

/* ---- unwind.c ---- */
/* A range no thread may execute in or return into: for a patch, the bytes
 * strictly after its first one (a thread about to run the first
 * instruction runs the jump instead); for an injection being ejected, all
 * of its code. */
struct hot_range {
	uint64_t lo, hi;	/* [lo, hi) */
	bool whole;		/* lo itself counts */
	const char *what;	/* the function or "injection 2" */
};
typedef VEC(struct hot_range) hot_vec;
struct unsafe_thread {
	pid_t tid;
	uint64_t pc;
	const char *what;
	bool returning;		/* a return address, not where it runs */
};
/* 1 when some thread is in a hot range (*u says which), 0 when none. */
int threads_check(struct target *t, const hot_vec *hot, struct unsafe_thread *u);
/* Stops the target with every thread out of the hot ranges: retried with
 * the process running in between, for up to `patience` seconds. */
int stop_when_safe(struct target *t, const hot_vec *hot, double patience, const char *doing);

/* ---- record.c ---- */
#define REC_MAGIC "SURGINJ1"
#define REC_VERSION 1
enum rec_state {
	REC_RESERVED = 1,	/* the record exists; the region may not be mapped */
	REC_MAPPED,		/* the region is mapped, its bytes being written */
	REC_LOADED,		/* written and protected */
	REC_CTORS,		/* constructors running */
	REC_READY,		/* constructors done */
	REC_PATCHING,		/* patches being written */
	REC_ACTIVE,		/* all done */
	REC_EJECTING,
};
struct rec_head {
	char magic[8];
	uint32_t version, size;		/* the record's bytes */
	uint32_t id, state;
	uint64_t time;			/* when injected (seconds since the epoch) */
	uint64_t region, region_end;	/* the new code and data */
	uint64_t init, init_end, fini, fini_end;	/* constructor and destructor arrays */
	uint64_t exe_size;
	uint8_t exe_sha256[32];
	uint32_t nedits, ninputs, nsyms;
	uint32_t edits_off, inputs_off, syms_off, strings_off, strings_size;
};
struct rec_edit {
	uint64_t addr;
	uint32_t size, reason;		/* reason: offset in the strings */
	uint8_t old[EDIT_MAX], new[EDIT_MAX];
};
struct rec_input {
	uint64_t size;
	uint32_t arg, kind;		/* arg: offset in the strings; kind: enum input_kind */
	uint8_t sha256[32];
};
struct rec_sym {
	uint64_t addr;
	uint32_t name, pad;
};

/* A record as read from the target (or being built). */
struct record {
	uint64_t addr, map_size;	/* where it is mapped */
	struct rec_head h;
	struct rec_edit *edits;
	struct rec_input *inputs;
	struct rec_sym *syms;
	char *strings;
	unsigned char *raw;		/* the whole record */
};
typedef VEC(struct record) record_vec;

/* Builds the record's bytes (raw, h.size) from its parts. */
int record_encode(struct record *r);
/* Every injection record in the target, by id. */
int records_find(struct target *t, record_vec *out);
void records_free(record_vec *v);
const char *rec_state_name(uint32_t state);
const char *rec_str(const struct record *r, uint32_t off);
int record_set_state(struct target *t, struct record *r, uint32_t state);
/* The record's mapping: the record, then room for surgeon's code at its end. */
uint64_t rec_map_size(uint32_t size);
uint64_t rec_code_at(const struct record *r);

/* ---- link.c ---- */
struct live_link {
	struct image *img;
	struct input_refs refs;
	struct libs libs;
	struct link_result lr;
	bool linked;
	char *obj, *script, *stubs;
	uint64_t base, end;		/* the new region */
	/* Library functions reached through stubs whose slot must hold what
	 * an IFUNC resolver returns: the slot's address (0: the link did not
	 * take that stub) and the resolver. */
	VEC(struct ifunc_slot) ifuncs;
	/* The same for the IFUNCs the link itself defines (IRELATIVE relocations). */
	VEC(struct ifunc_slot) irels;
	struct relink_opts ro;
	VEC(char *) owned;
};
struct ifunc_slot {
	char *name;
	uint64_t slot, resolver;
};
int live_link(struct target *t, struct live_link *ll, const struct relink_opts *o, const struct image_opts *io);
/* A section of the link that inject does not load. */
bool live_unloaded(const struct linked *l, const struct newsec *s);
void live_link_free(struct live_link *ll);

/* ---- inject.c ---- */
int live_inject(const char *pid_arg, const struct relink_opts *o, const struct image_opts *io);
int live_eject(const char *pid_arg, const char *id_arg);
int live_info(const char *pid_arg, bool json);

#endif

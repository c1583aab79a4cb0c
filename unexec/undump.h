/* Undumping: an executable whose data, bss and heap hold the memory of a
 * process (running, in a core file, or the caller itself), built as bytes
 * in memory that image_open_mem() or a plain write turn into a program.
 * Only <elf.h> and util/: libsurgeon links this without libelf. */
#ifndef SURGEON_UNDUMP_H
#define SURGEON_UNDUMP_H

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

enum {
	UNDUMP_ANON = 1,	/* also anonymous private mappings */
	UNDUMP_STRICT = 2,	/* read-only bytes must match the file (a core of this program) */
};

enum region_kind {
	REG_HEAP,	/* the brk heap */
	REG_ANON,	/* anonymous private memory */
	REG_GUESS,	/* anonymous, and the heap if it lies where brk starts (cores) */
};

struct region {
	uint64_t start, end;
	unsigned flags;		/* PF_R | PF_W | PF_X */
	enum region_kind kind;
};

/* Where memory comes from: a process, a core file. */
struct memsrc {
	const char *name;	/* for messages: "pid 123", the core's path */
	/* The machine the memory is of: a core's (an aarch64 core is read on
	 * x86-64 too); NULL: the one surgeon runs on (a process). */
	const struct arch *arch;
	/* Copies [addr, addr+len); -1 when a byte is not available (no message). */
	int (*read)(struct memsrc *src, uint64_t addr, void *buf, size_t len);
	VEC(struct region) regions;	/* anonymous memory, by address */
	uint64_t entry;		/* the program's entry point in memory (AT_ENTRY), */
	bool have_entry;	/* which places a PIE */
	VEC(uint64_t) stacks;	/* stack pointers of the threads other than the main one */
};

/* Reads a whole regular file (an executable) into memory. */
int undump_read_file(const char *path, unsigned char **buf, size_t *size);

/* The executable `exe` (its file bytes) with every writable segment taken
 * from `src`, its bss and the heap (and with UNDUMP_ANON anonymous memory)
 * turned into file-backed segments at their addresses. */
int undump_build(const char *exe_path, const unsigned char *exe, size_t exe_size, struct memsrc *src,
		 unsigned flags, bytevec *out);

/* unexec/rebase.c: the file of a PIE made the fixed-address executable
 * it is in memory at `base` (the address of its first byte): a new copy in
 * *out, the same size, every byte at the same offset. */
int undump_rebase(const char *path, const unsigned char *d, size_t size, uint64_t base, unsigned char **out);

/* unexec/process.c: a live process, stopped with ptrace while it is read
 * (attach=false: the caller's own stopped child, read without ptrace). */
int undump_pid(pid_t pid, unsigned flags, bool attach, char **exe_path, bytevec *out);

/* unexec/core.c: a core file (gcore or kernel) of the program `exe`;
 * checked to be of that program (entry point, build-id, mappings, bytes). */
int undump_core(const char *core, const char *exe, unsigned flags, bytevec *out);

#endif

/* One checked view of an ELF file's headers, for every reader of programs
 * and cores: the image model, the undump of a process or a core, the rebase
 * of a PIE, the verifier and the surgery note. Given the file's bytes (a
 * mapping, or bytes built in memory) and a name for messages, it checks the
 * ELF header, the program and section header tables, the bytes every
 * segment and section claims and the name table, once, and gives the
 * headers typed. Only <elf.h> and util/: libsurgeon links it without
 * libelf. */
#ifndef SURGEON_ELFVIEW_H
#define SURGEON_ELFVIEW_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct arch;

/* What the file must be. */
enum elfview_kind {
	ELFVIEW_PROGRAM,	/* ET_EXEC or ET_DYN */
	ELFVIEW_CORE,		/* ET_CORE: no address or size rules for notes, and a
				 * range past the end says the core was cut short */
};

struct elfview {
	const char *name;		/* for messages, borrowed */
	const unsigned char *data;
	uint64_t size;
	enum elfview_kind kind;
	Elf64_Ehdr eh;
	const struct arch *arch;	/* of e_machine: never NULL once checked */
	/* Copies (aligned whatever the file's offsets); a reader that rewrites
	 * headers (rebase) may edit them and write them back itself. */
	Elf64_Phdr *ph;
	size_t phnum;			/* PN_XNUM resolved through section 0 */
	Elf64_Shdr *sh;
	size_t shnum;			/* 0 when there is no section header table */
	size_t shstrndx;		/* SHN_XINDEX resolved; 0 in a core without names */
	void *map;			/* elfview_map's mapping, or NULL */
};

/* Checks data[0, size) as an ELF file of that kind; every problem is one
 * message naming `name`. On failure *v is still fit for elfview_free. */
int elfview_init(struct elfview *v, const char *name, const void *data, uint64_t size, enum elfview_kind kind);
/* The same over the whole file fd, mapped read-only (only the pages the
 * headers are on are read). */
int elfview_map(struct elfview *v, int fd, const char *name, enum elfview_kind kind);
void elfview_free(struct elfview *v);

/* Section i's name: NUL-terminated inside the name table (checked);
 * "" for section 0 and in a core without a name table. */
const char *elfview_sec_name(const struct elfview *v, size_t i);
/* The index of the first section called `name` after `after` (start at 0),
 * or 0 when there is none. */
size_t elfview_find_sec(const struct elfview *v, const char *name, size_t after);
/* The last segment of this type (as ld.so takes PT_DYNAMIC), or NULL. */
const Elf64_Phdr *elfview_segment(const struct elfview *v, uint32_t type);
/* The file offset of the loaded bytes [addr, addr+len), through the PT_LOADs'
 * file-backed parts. */
bool elfview_vaddr_to_off(const struct elfview *v, uint64_t addr, uint64_t len, uint64_t *off);

/* One note of a PT_NOTE segment (4-byte aligned fields, as ELF64 notes of
 * Linux are). */
struct elfnote {
	uint32_t type;
	const unsigned char *name, *desc;	/* into the file */
	uint32_t namesz, descsz;
	uint64_t off;				/* of its header in the file */
	uint64_t desc_addr;			/* p_vaddr + the descriptor's place */
};

/* The note at *pos (start at 0) of the PT_NOTE segment ph, which must be one
 * of v's checked headers, moving *pos past it: 1, or 0 at the end, or -1
 * when the note runs past the segment (no message: the caller knows whether
 * that is an error). */
int elfview_note(const struct elfview *v, const Elf64_Phdr *ph, uint64_t *pos, struct elfnote *n);
/* The first note of owner "GNU" and this type in any PT_NOTE segment. */
bool elfview_gnu_note(const struct elfview *v, uint32_t type, struct elfnote *n);

#endif

/* The image model: one description of a loaded program, whatever it was read
 * from (an executable, surgeon's own frozen object, later a process or a
 * core). unexec/ fills it, relink/ and disasm/ read it. */
#ifndef SURGEON_IMAGE_H
#define SURGEON_IMAGE_H

#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch/arch.h"
#include "util/elfview.h"
#include "util/util.h"

/* Prefix of the pinned sections in the object unexec writes. */
#define OLD_PREFIX ".old"
#define FROZEN_SECTION ".surgeon.image"
#define REST_SECTION ".surgeon.rest"
/* The program's TLS block as one NOBITS section of the frozen object, so
 * the linker computes the same thread-pointer offsets for its variables as
 * the program's own code uses. Every piece is named ".old." something, so
 * this name is never a piece's. */
#define TLS_SECTION OLD_PREFIX "_tls"

struct section {
	const char *name;	/* validated, NUL-terminated, points into the file */
	GElf_Shdr sh;
	size_t index;
};

enum sym_source { SYM_SYMTAB, SYM_DYNSYM, SYM_PLT, SYM_IPLT, SYM_DWARF };

struct symbol {
	const char *name;	/* plain name, without version */
	const char *file;	/* STT_FILE that precedes a local, or NULL */
	uint64_t addr, size;
	unsigned char type, bind, vis;
	unsigned char src;	/* enum sym_source */
	uint16_t shndx;		/* original section index or SHN_ABS/SHN_UNDEF */
};

/* A piece of the loaded image, pinned at its address in the object:
 * an old section, the part of one that lies in a segment, or a gap. */
struct piece {
	char *name;		/* ".old<origname>" made unique, or ".old.gap.N" */
	const char *orig;	/* original section name, NULL for a gap */
	int secidx;		/* original section index, -1 for a gap */
	uint64_t addr, size;
	uint64_t offset;	/* file offset of the bytes; unused for nobits */
	uint64_t flags;		/* SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR */
	bool nobits;
	int seg;		/* index into image->phdrs */
};

/* A slot of .init_array or .fini_array whose function we call from a thunk
 * so that the new code's constructors and destructors run in link order. */
struct hook {
	bool present;
	uint64_t slot;		/* vaddr of the last 8-byte slot */
	uint64_t target;	/* function it held */
	uint64_t nslots;
	bool first_present;	/* the same for the first slot, when there are several */
	uint64_t first_slot, first_target;
};

/* The old dynamic section and the tables it points at, all validated. */
struct dyninfo {
	bool present;
	uint64_t addr, off;		/* of .dynamic */
	const Elf64_Dyn *dyn;
	size_t ndyn;			/* entries up to and including DT_NULL */
	uint64_t val[40];		/* d_val of tags < 40, 0 when absent */
	uint64_t gnu_hash, versym, verneed, verneednum, verdef, verdefnum, relacount, flags_1, relr, relrsz;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *str;
	size_t strsz;
	const uint16_t *vers;		/* NULL when unversioned */
	const Elf64_Rela *rela;
	size_t nrela;
	const Elf64_Rela *jmprel;
	size_t njmprel;
	const unsigned char *verneed_data;
	size_t verneed_size;		/* bytes up to the end of the file's loaded range */
	const uint64_t *relr_data;
	size_t nrelr;
};

/* How an image is read (image_open() and friends; NULL: everything, now). */
struct image_opts {
	bool light;		/* headers and tables checked, no names decoded, no debug info (verify) */
	bool defer_dwarf;	/* debug info read later, with image_load_dwarf() (add-lib) */
	bool no_dwarf;		/* never any (SURGEON_NO_DWARF=1, or after the watchdog) */
	const char *debug_file;	/* --debug-file: the program's debug info is there */
	/* A verb that needs the debug info (headers) says itself why there is
	 * none: the first problem is kept here instead of printed. */
	char **dwarf_failure;
};

struct image {
	char *path;		/* for messages */
	struct image_opts opts;
	int fd;			/* -1 when read from memory */
	Elf *elf;
	const unsigned char *data;
	uint64_t size;
	void *owned;		/* buffer we allocated for `data`, if any */

	struct elfview view;	/* the headers, checked (util/elfview.h) */
	GElf_Ehdr eh;		/* the view's, for short */
	const struct arch *arch;	/* of eh.e_machine: never NULL once the header is checked */
	uint64_t page_size;	/* new segments' alignment: the PT_LOADs' p_align, within the arch's bounds */
	GElf_Phdr *phdrs;	/* the view's */
	size_t phnum;
	struct section *secs;	/* indexed like the file's section headers */
	size_t shnum;
	size_t shstrndx;

	bool pie;		/* ET_DYN executable */
	bool dynamic;		/* has PT_DYNAMIC */
	const char *interp;	/* PT_INTERP string or NULL */
	uint64_t delta_first;	/* p_vaddr - p_offset of the first PT_LOAD */
	uint64_t vaddr_end;	/* highest p_vaddr + p_memsz of any PT_LOAD */
	uint64_t loaded_end;	/* highest p_offset + p_filesz of any PT_LOAD */
	uint64_t elf_end;	/* end of everything the ELF headers describe */
	uint64_t overlay_off, overlay_size;

	int symtab_idx, dynsym_idx;	/* section indices or -1 */
	VEC(struct symbol) syms;
	struct strmap *byname;	/* global and weak definitions: name -> index in syms + 1 */
	VEC(struct piece) pieces;	/* sorted by address */

	struct hook init, fini;
	struct dyninfo dyn;
	const struct strmap *wanted;	/* names the new code uses, or NULL for all */
	struct strmap *interest;	/* those and their parts after a colon: the only
					 * names loaded when set (image_want) */
	const char *frozen_from;	/* original path, when read from a frozen object */
	struct dwarf_info *dwarf;	/* debug info (unexec/dwarf.h), or NULL */
	uint64_t new_base;	/* where new code starts when not right after the image (inject), or 0 */
};

/* Reads and checks an executable. Every offset and size the file claims is
 * checked against the file before use. */
int image_open(struct image **out, const char *path, const struct image_opts *opts);
/* The same in two steps, so that the loaded bytes can be copied while the
 * rest is read: the headers, checked; then everything else. After a failed
 * image_load() the image is only fit for image_free(). */
int image_open_headers(struct image **out, const char *path, const struct image_opts *opts);
int image_load(struct image *img);
/* Same, from bytes in memory that the image takes ownership of. */
int image_open_mem(struct image **out, const char *path, void *buf, uint64_t size, const struct image_opts *opts);
/* Its headers only, as image_open_headers (then image_load). */
int image_open_mem_headers(struct image **out, const char *path, void *buf, uint64_t size,
			   const struct image_opts *opts);
/* Reads an object written by `surgeon unexec` back into the image it froze. */
int image_open_frozen(struct image **out, const char *path, const struct image_opts *opts);
void image_free(struct image *img);

const struct piece *image_piece_at(const struct image *img, uint64_t addr);
const struct symbol *image_symbol(const struct image *img, const char *name);
/* Name of the symbol containing `addr`, with offset, for messages: "main+0x1c". */
int image_addr_name(const struct image *img, uint64_t addr, char *buf, size_t len);
/* Maps a virtual address to its file offset through the PT_LOADs (file-backed part). */
bool image_vaddr_to_off(const struct image *img, uint64_t addr, uint64_t size, uint64_t *off);
/* The arch's feature property (arch->feature_and: aarch64's BTI and PAC) in
 * the program's PT_GNU_PROPERTY: its bits and the address of its 4 bytes. */
bool image_gnu_features(const struct image *img, uint32_t *bits, uint64_t *addr);
/* The other way: file bytes [off, off+size) to the address a PT_LOAD maps them at. */
bool image_off_to_vaddr(const struct image *img, uint64_t off, uint64_t size, uint64_t *va);
const char *image_kind(const struct image *img);
/* Copies the image's bytes [off, off+len) to the same offset of fd: in the
 * kernel when the image is a file. 0, or -1 with errno set. */
int image_copy_to(const struct image *img, int fd, uint64_t off, uint64_t len);

/* unexec/dynamic.c */
int image_load_dynamic(struct image *img);
/* How the 8 bytes at `addr` are relocated at load time. */
enum relative_how {
	RELATIVE_NONE,
	RELATIVE_RELA,		/* by a RELATIVE entry of DT_RELA: its index is *index */
	RELATIVE_RELR,		/* covered by DT_RELR */
};
enum relative_how image_relative_at(const struct image *img, uint64_t addr, size_t *index);
/* unexec/symbols.c */
int image_load_symbols(struct image *img);
/* Before image_load(): only symbols the new code may name are loaded, so a
 * program with hundreds of thousands of symbols costs a few. image_symbol()
 * then knows those names only; image_addr_name() still reads every table. */
int image_want(struct image *img, const struct strmap *wanted);	/* NULL: every name */
/* Loads the symbols again after the names image_want() was given grew. */
int image_reload_symbols(struct image *img);
const char *image_raw_symbol_at(const struct image *img, uint64_t addr, uint64_t *start);
/* unexec/pieces.c */
int image_build_pieces(struct image *img);
int image_find_hooks(struct image *img);

#endif

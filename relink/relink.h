/* Linking new code against a frozen image with the system linker, and
 * writing the result so that every old byte stays at its old address. */
#ifndef SURGEON_RELINK_H
#define SURGEON_RELINK_H

#include "unexec/image.h"

enum input_kind { IN_FILE, IN_LIB, IN_LIBDIR };

struct input {
	enum input_kind kind;
	const char *arg;
};

struct relink_opts {
	const char *ld;			/* linker program; "ld" when NULL */
	VEC(struct input) inputs;	/* in command-line order */
	VEC(const char *) undefs;	/* -u / --only: pull only these */
	bool only;			/* archives are searched, not added whole */
	const char *output;
	mode_t mode;
	const char *undef_hint;		/* added to 'undefined symbol' errors */
};

/* A deliberate change to old bytes, recorded, listed with -v and allowed by verify. */
struct edit {
	uint64_t addr, size;
	const char *reason;
};
typedef VEC(struct edit) edit_vec;

/* The linker's output, reduced to what is new. */
struct newsec {
	const char *name;
	GElf_Shdr sh;		/* as the linker laid it out */
	const unsigned char *bytes;
	size_t ld_index;
};

struct linked {
	char *path;
	int fd;
	Elf *elf;
	const unsigned char *data;
	size_t size;
	VEC(struct newsec) secs;	/* allocated sections after the old image, by address */
	size_t ld_shnum;
	const Elf64_Sym *syms;		/* the linker's .symtab */
	size_t nsyms;
	size_t sym_strndx;
	size_t *ld_to_new;		/* linker section index -> position in secs + 1, or 0 */
	bool has_init, has_fini, has_irel;
	uint64_t init_thunk, fini_thunk;
};

int relink_run(struct image *img, const char *obj, const char *script, const struct relink_opts *o);

/* relink/ld.c */
int ld_run(const struct relink_opts *o, const char *obj, const char *hook, const char *script,
	   const char *out);
/* relink/hook.c */
int hook_write_object(const struct image *img, const char *path);
/* relink/linked.c */
int linked_open(struct linked *l, const struct image *img, const char *path);
void linked_close(struct linked *l);
const char *linked_str(const struct linked *l, size_t strndx, uint64_t off);
/* relink/write.c */
int output_write(const struct image *img, const struct linked *l, int fd, const char *path, edit_vec *edits);
/* relink/verify.c */
struct verify_report {
	uint64_t compared, differing;	/* bytes */
	uint64_t first_bad;		/* address of the first unexplained difference */
	bool bad;
};
int verify_fd(const struct image *orig, int fd, const char *path, const edit_vec *edits,
	      struct verify_report *r);

#endif

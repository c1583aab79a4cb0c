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

/* --replace OLD=NEW (new = NEW) and --wrap SYM (new = NULL): relink/patch.c. */
struct patch_req {
	const char *old, *new;
	bool wrap;
};
struct patch_plan;

struct sha256_bg;
struct libs;

struct strvec {
	char **v;
	size_t n, cap;
};

struct relink_opts {
	const char *ld;			/* linker program; "ld" when NULL */
	VEC(struct input) inputs;	/* in command-line order */
	VEC(const char *) undefs;	/* -u / --only: pull only these */
	bool only;			/* archives are searched, not added whole */
	const char *output;
	mode_t mode;
	const char *undef_hint;		/* added to 'undefined symbol' errors */
	const char *exports;		/* --export: "all" (NULL), "none", or patterns */
	bool allow_interpose;
	bool names_all_known;		/* the inputs define or find in the program every name they use */
	const char *verb;		/* recorded in the surgery note */
	const char *program;		/* the input program, recorded with its digest */
	struct sha256_bg *program_digest;	/* that digest, on its way (sha256_start), or NULL */
	VEC(struct patch_req) patch_reqs;	/* --replace, --wrap (patching) */
	struct patch_plan *patch_plan;	/* set by relink_run when there are any (patching) */
	const char *libc_file;		/* --libc: a static program's C library archive */
	const struct libs *libs;	/* the libraries gcc would add, or NULL (relink/libs.c) */
	const struct input_refs *refs;	/* what the inputs use and define, or NULL */
	struct strvec ld_extra;		/* more linker options (relink.c's second link) */
	/* inject: the new code is loaded into the running process, not written
	 * to a file: linked statically, everything resolved by the linker (the
	 * process's libraries come as stubs, live/link.c), no dynamic tables. */
	bool live;
	const char *live_stubs;		/* the process's libraries, as an archive of stubs (live/link.c) */
};

/* A deliberate change to old bytes: planned once, with its bytes and its
 * reason; the note records it, -v lists it, verify allows it, and
 * apply_edits() writes it, all from the one list. */
#define EDIT_MAX 16
struct edit {
	uint64_t addr, size;
	const char *reason;
	uint8_t bytes[EDIT_MAX];	/* what goes there (a note's edits have none) */
};
typedef VEC(struct edit) edit_vec;

/* A section named before the output's section table exists: an old
 * section, one of the linker's, or one of the new dynamic tables. Only the
 * writer turns it into an output index (sections.c), once every section
 * has its place; SEC_KEEP leaves the field as it is (a count, not a
 * section). */
enum secref_kind { SEC_KEEP, SEC_OLD, SEC_LD, SEC_DYN };
struct secref {
	enum secref_kind kind;
	size_t idx;
};

/* The linker's output, reduced to what is new. */
struct newsec {
	const char *name;
	GElf_Shdr sh;		/* as the linker laid it out */
	const unsigned char *bytes;
	const unsigned char *bytes2;	/* a second part, when the contents are old bytes plus new */
	size_t size2;
	size_t ld_index;
	struct secref link, info;	/* what sh_link and sh_info name */
};

/* New thread-local variables in front of the program's (relink/tls.c). */
struct tls_layout {
	bool active;			/* the new code has some: a new PT_TLS */
	uint64_t start, size, memsz, align;	/* the new template: file bytes, then zeros */
	uint64_t shift;			/* P: the old block's offsets grow by it (variant II) */
	bool after;			/* variant I: the new variables after the old, which
					 * stay at their offsets but move to the template */
	uint64_t old_vaddr, old_filesz;	/* the old template, whose copy is at start + shift */
	unsigned char *template;
	/* Where in linked.secs (+ 1, as ld_to_new) the template is, and the
	 * zeros after it (0: none): the old variables' sections now. */
	size_t data_pos, bss_pos;
};

struct linked {
	char *path;
	int fd;
	Elf *elf;
	const unsigned char *data;
	size_t size;
	VEC(struct newsec) secs;	/* allocated sections after the old image, by address */
	VEC(struct newsec) meta;	/* the linker's own dynamic tables: merged, not copied */
	VEC(struct newsec) debug;	/* its .debug_* sections: the old units, then the new */
	size_t ld_shnum;
	const Elf64_Sym *syms;		/* the linker's .symtab */
	size_t nsyms;
	size_t sym_strndx;
	size_t *ld_to_new;		/* linker section index -> position in secs + 1, or 0 */
	bool has_irel;
	bool init_prio, init_unprio, fini_prio, fini_unprio;	/* which new ranges are not empty */
	bool relro;			/* new data to make read-only after relocation */
	uint64_t init_thunk, fini_thunk, init_first_thunk, fini_first_thunk, entry_thunk;
	struct tls_layout tls;
	uint32_t features;	/* arch->feature_and as the linker ANDed it: the program's and every input's */
	struct {
		uint64_t addr, size, old_addr;	/* the new .eh_frame_hdr, after the linker's sections */
		uint64_t blob_addr, blob_size;	/* .eh_frame entries of --wrap's trampolines, after the table */
		unsigned char *bytes;
	} ehhdr;
};

/* A slot of the old arrays pointed at a thunk. */
struct hookuse {
	const struct hook *hook;
	uint64_t slot, thunk;
	const char *what, *reason;
};

/* Which slots run the new constructors and destructors (relink/hook.c), and
 * whether the entry point must (a program with no .init_array). */
struct hookplan {
	struct hookuse use[4];
	size_t n;
	bool entry;
};

struct dynexport {
	char *name;
	uint64_t addr;
};

/* New dynamic tables (relink/dynamic.c). */
struct dynout {
	bool active;			/* a new .dynamic replaces the old one */
	uint64_t dyn_addr, dyn_size;
	VEC(struct newsec) secs;	/* the tables, with addresses, after the linker's sections */
	VEC(void *) bufs;
	uint64_t done[4];		/* slots whose hooks went into relocation addends */
	size_t ndone;
	VEC(struct dynexport) exports;
	bool rela_moved;		/* static-pie: only the relocations moved */
	size_t dynamic;			/* .dynamic among secs */
	/* The new .dynsym, whose section indices the writer maps: old entries
	 * name old sections; those marked in from_ld name a new section by
	 * its place among the linker's (linked.ld_to_new). */
	Elf64_Sym *syms;
	bool *from_ld;
	size_t nsyms;
};

int dyn_build(const struct image *img, const struct linked *l, const struct relink_opts *o, size_t ins,
	      const struct hookplan *hp, struct dynout *d, edit_vec *edits);
void dyn_free(struct dynout *d);
/* Library variables the linker copied although the program has its own
 * copy under another name (environ and _environ): --defsym options that
 * give the new code the program's, for a second link. */
int dyn_copy_aliases(const struct image *img, const struct linked *l, struct strvec *defs);

/* relink/inputs.c: the names the inputs use or define globally (set), or
 * set NULL when some input cannot be read that way (then every name must
 * be offered). */
struct input_refs {
	struct strmap *set;	/* name -> its copy in names */
	struct strmap *defined;	/* the names some input defines */
	char **names;
	size_t nnames;
	bool debug;		/* some input carries debug info */
};
int inputs_referenced(const struct relink_opts *o, const struct image *img, struct input_refs *out);
/* Adds what one more file uses and defines (an archive gcc adds itself). */
int input_refs_add_file(struct input_refs *r, const char *path);
void input_refs_free(struct input_refs *in);
/* Every name the inputs use is defined by them or found in the program. */
bool input_refs_all_known(const struct image *img, const struct input_refs *r);
/* Whether the program's debug info is worth reading for this link. */
bool input_refs_need_dwarf(const struct image *img, const struct relink_opts *o, const struct input_refs *r);

/* relink/libs.c: the libraries gcc's driver adds to a link, and a static
 * program's own C library. */
enum libc_kind { LIBC_NONE, LIBC_GLIBC, LIBC_MUSL };
struct libs {
	bool active;
	bool cxx;			/* the inputs are C++: libstdc++ and libm, as g++ adds them */
	struct strvec dirs;		/* gcc's library directories, searched first (-L) */
	struct strvec args;		/* linker arguments after the inputs */
	struct strvec archives;		/* the archives among them, by path */
	enum libc_kind libc;
	char *libc_archive;		/* a static program's libc.a */
	struct strmap *borrowed;	/* names those archives define (static programs) */
	struct strvec owned;
	const struct arch *arch;	/* the program's: whose gcc to ask */
};
int libs_plan(struct libs *lb, const struct image *img, const struct relink_opts *o, const struct input_refs *refs);
int libs_archive_names(struct input_refs *refs, const struct arch *a);
char *libs_find(const struct libs *lb, const char *file);
/* The -l name of a library in the usual places that defines sym, or NULL. */
char *libs_who_defines(const struct arch *a, const char *sym, bool shared);
/* ld's default directories for the arch (its script's SEARCH_DIRs on Debian). */
const struct strvec *libs_system_dirs(const struct arch *a);
/* gcc's library directories (the arch's cross gcc's from another machine),
 * asked once; NULL (reported) when gcc cannot say. */
const struct strvec *libs_gcc_dirs(const struct arch *a);
/* The linker program for --ld's value (NULL: the default) and the arch:
 * natively ld, ld.bfd, ld.gold, ld.lld or the path given; from another
 * machine the cross gcc's (TRIPLET-gcc -print-prog-name=ld). Static
 * storage; NULL (reported) when the cross gcc cannot say. */
const char *libs_linker(const struct arch *a, const char *ld);
struct linked;
int libs_check_duplicates(const struct libs *lb, const struct image *img, const struct linked *l,
			  const struct input_refs *refs);
void libs_free(struct libs *lb);

/* The output, begun as soon as the program is read: the temporary file is
 * open and the old loaded bytes are being copied into it on a thread while
 * the frozen object is written and the linker runs. relink_run() finishes
 * it: renamed into place when verified, removed otherwise. */
struct relink_out {
	struct outfile file;
	struct bgjob copy;
	const struct image *img;
};
int relink_begin(struct relink_out *ro, const struct image *img, const struct relink_opts *o);
/* Whether the link brings new code: an input that is not a -L directory, a
 * -u name, or a --replace/--wrap. */
bool relink_adds_code(const struct relink_opts *o);
/* Waits for the copy and removes the file: for a caller that gives up
 * before relink_run(). Harmless after it. */
void relink_abandon(struct relink_out *ro);

/* relink in three steps: link runs the linker and returns the new code,
 * laid out (TLS, unwind table, trampolines resolved); plan decides the
 * output (sections, segments, dynamic tables, edits, note) without
 * writing; emit writes it into a file. relink_run() does the three, then
 * proves the old bytes intact and renames. */
struct link_result {
	struct linked l;
	struct patch_plan *patch;	/* --replace, --wrap, or NULL */
	struct relink_opts opts;	/* the caller's, with the patch plan */
	struct relink_opts ldopts;	/* what the linker got: the trampolines too */
	char *hook, *path, *script;
};
int relink_link(struct image *img, const char *obj, const char *script, const struct relink_opts *o,
		struct link_result *lr);
void relink_link_free(struct link_result *lr);
struct output;
int output_plan(const struct image *img, const struct linked *l, const struct relink_opts *o, struct output **out);
int output_emit(struct output *out, int fd);
const edit_vec *output_edits(const struct output *out);
void output_free(struct output *out);

int relink_run(struct image *img, const char *obj, const char *script, const struct relink_opts *o,
	       struct relink_out *ro);

/* relink/ld.c */
int ld_run(const struct relink_opts *o, const struct image *img, const char *obj, const char *hook, const char *script,
	   const char *out);
/* relink/hook.c */
int hook_write_object(const struct image *img, const char *path);
/* relink/relobj.c: a code section, its relocations and symbols (st_shndx 1
 * is the code), and optionally a writable data section named data_name. */
int relobj_write(const char *path, const struct arch *arch, const char *text_name, const void *text, size_t ntext,
		 const Elf64_Rela *rela, size_t nrela, const Elf64_Sym *syms, size_t nsyms,
		 struct strset *str, const char *data_name, const void *data, size_t ndata);
int hooks_needed(const struct image *img, const struct linked *l, struct hookplan *hp);
/* relink/tls.c: makes the linker's thread-local sections one template. */
int tls_plan(struct linked *l, const struct image *img);
/* How many bytes of padding the new .tbss needs for the old block to land
 * where its offsets hold (0: where it is is right). */
int tls_pad_needed(const struct linked *l, const struct image *img, uint64_t *pad);
/* Does an old symbol of this type and section hold a block offset that moves? */
bool tls_old_offset_moves(const struct linked *l, unsigned sym_type, uint16_t shndx);
/* The new section (as ld_to_new) that holds an old variable at its moved offset. */
size_t tls_old_symbol_pos(const struct linked *l, uint64_t moved);
/* relink/linked.c */
int linked_open(struct linked *l, const struct image *img, const char *path);
void linked_close(struct linked *l);
const char *linked_str(const struct linked *l, size_t strndx, uint64_t off);
/* relink/emit.c */
/* The old loaded bytes, at their offsets: 0 or an errno value, printing
 * nothing (it runs on a thread while the linker runs). */
int output_copy_loads(const struct image *img, int fd);
/* The rest of the file, for an output that is a copy of the program. */
int output_copy_rest(const struct image *img, int fd);
/* An edit of size bytes (at most EDIT_MAX) at addr, with its bytes (NULL:
 * filled in later) and its reason. */
int edit_add(edit_vec *edits, uint64_t addr, uint64_t size, const void *bytes, const char *reason);
/* relink/verify.c */
struct verify_report {
	uint64_t compared, differing;	/* bytes */
	uint64_t first_bad;		/* address of the first unexplained difference */
	bool bad;
};
int verify_fd(const struct image *orig, int fd, const char *path, const edit_vec *edits,
	      struct verify_report *r);

/* relink/ehframe.c: appends the .eh_frame loaded at eh_addr, converted, to
 * the .debug_frame in `out`. Returns 1 when an entry cannot be converted
 * or there is none (out is then partial), -1 when out of memory. */
int eh_to_debug_frame(const unsigned char *eh, size_t size, uint64_t eh_addr, bytevec *out);
/* Every FDE of an .eh_frame loaded at eh_addr: the code address it starts
 * covering and its own address. 0, 1 (some entry unreadable), -1. */
struct eh_fde {
	uint64_t pc, fde;
};
typedef VEC(struct eh_fde) eh_fde_vec;
int eh_list_fdes(const unsigned char *eh, size_t size, uint64_t eh_addr, eh_fde_vec *out);
/* A new .eh_frame_hdr listing the program's FDEs and the new code's, as a
 * section after the linker's (l->ehhdr): for programs with PT_GNU_EH_FRAME. */
int eh_hdr_plan(struct linked *l, const struct image *img, const struct patch_plan *plan);

#endif

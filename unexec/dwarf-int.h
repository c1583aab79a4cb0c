/* unexec's debug info reader, in parts: dwarf.c (reading one file's units
 * through libdwarf, and what the parts share), dwarf-find.c (where the
 * debug info is: the program, --debug-file, the build-id tree,
 * .gnu_debuglink; split DWARF's .dwo files and .dwp package),
 * dwarf-check.c (what libdwarf must not be given, and the watchdog),
 * dwarf-objects.c (functions and variables, and the symbols only DWARF
 * names), dwarf-types.c, dwarf-lines.c and dwarf-tls.c. Internal to those. */
#ifndef SURGEON_DWARF_INT_H
#define SURGEON_DWARF_INT_H

#include <libdwarf.h>

#include "unexec/dwarf.h"

struct dline {
	uint64_t addr;
	const char *file;
	unsigned line;
	bool end;	/* end of a sequence: no code from here */
};

/* A split DWARF object (-gsplit-dwarf): its types and names stay valid as
 * long as it is open. */
struct dwo {
	Dwarf_Debug dbg;
	Elf *elf;
	int fd;
};

struct dwpriv {
	Dwarf_Debug dbg;
	Elf *elf;	/* of a separate debug file, NULL when the program's own */
	int fd;
	struct strmap *types;	/* "offset" -> struct dtype * */
	VEC(struct dtype *) alltypes;
	VEC(char *) strs;	/* strings we own */
	bool lines_loaded;
	VEC(struct dline) lines;	/* sorted by address */
	VEC(struct dwo) dwos;	/* split DWARF: one per skeleton unit, tied to dbg */
};

/* A skeleton unit: where its split object is, and the file names its
 * declarations number (a split unit has no line table of its own). */
struct dwo_ref {
	uint64_t dwo_id;	/* pairs it with its unit in a .dwp package */
	char *path;
	char **srcfiles;	/* owned by the program's Dwarf_Debug */
	Dwarf_Signed nsrc;
};

/* One pass over the DWARF of one file. */
struct ctx {
	const struct image *img;
	const char *path;
	struct dwarf_info *di;
	struct dwpriv *p;
	Dwarf_Debug dbg;
	Dwarf_Error err;
	char *msg;		/* first libdwarf failure */
	Dwarf_Half version;
	char **srcfiles;
	Dwarf_Signed nsrc;
	const char *cu_name;
	unsigned file;		/* 0: the program's debug info, k: its k-th .dwo */
	VEC(struct dwo_ref) dwo_refs;	/* skeleton units, in unit order */
	const struct dwo_ref *skeleton;	/* the one whose split object is being read */
	bool dwp;		/* reading a package: each unit finds its skeleton */
	uint64_t dwo_id;	/* the unit header's (DWARF 5 split and skeleton units) */
};

struct dbgfile {
	char *path;
	int fd;
	Elf *elf;
};

/* dwarf.c */
__attribute__((format(printf, 3, 4)))
void dw_warn(const struct image *img, const char *file, const char *fmt, ...);
/* Keeps the first failure in c->msg; always -1. */
int dw_fail(struct ctx *c, const char *what);
/* 1 with the value, 0 when absent, -1 on error. */
int dw_attr_get(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *a);
int dw_attr_udata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, uint64_t *val);
int dw_attr_sdata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, int64_t *val, bool *is_unsigned);
int dw_attr_flag(struct ctx *c, Dwarf_Die die, Dwarf_Half at, bool *val);
int dw_attr_ref(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off);
int dw_die_name(struct ctx *c, Dwarf_Die die, const char **name);
int dw_offdie(struct ctx *c, Dwarf_Off off, Dwarf_Die *die);

/* dwarf-check.c */
/* The sections libdwarf 20210528 mishandles, checked before it sees them:
 * false with *why when one is damaged. */
bool dw_sections_sound(Elf *elf, char **why);
/* Arms the caller's watchdog for `seconds` (0 disarms), if it set one. */
void dw_watchdog(unsigned seconds, const char *file, bool required);
bool dw_uleb(const unsigned char *d, uint64_t size, uint64_t *off, uint64_t *v);

/* dwarf-find.c */
bool dw_find_debug(const struct image *img, struct dbgfile *f, bool *own);
void dw_dbgfile_close(struct dbgfile *f);
int dw_note_dwo(struct ctx *c, Dwarf_Die cu, bool *skeleton);
int dw_read_dwos(struct ctx *c);
void dw_free_paths(struct ctx *c);

/* dwarf-objects.c */
int dw_read_all(struct ctx *c);
int dw_merge_symbols(struct image *img, const struct dwarf_info *di);

/* dwarf-types.c */
struct dtype *dw_get_type(struct ctx *c, Dwarf_Off off, int depth);
struct dtype *dw_unknown(struct ctx *c, uint64_t off, const char *why);

#endif

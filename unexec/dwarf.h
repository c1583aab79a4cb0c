/* The program's debug information, read with libdwarf: functions and
 * variables with their addresses and C types, from the executable itself or
 * from a separate debug file found as gdb finds it. Symbols only DWARF names
 * (static functions of a stripped program) join img->syms as SYM_DWARF; the
 * types feed `surgeon headers`. Unusable debug info is a warning, never an
 * error: the image is complete without it. */
#ifndef SURGEON_DWARF_H
#define SURGEON_DWARF_H

#include <stdbool.h>
#include <stdint.h>

#include "unexec/image.h"

/* libdwarf can loop for ever on some damaged input: the watchdog is armed
 * with a time budget (and the file, and whether the verb needs the debug
 * info) before the units are read, and disarmed with 0 after. */
void dwarf_set_watchdog(void (*arm)(unsigned seconds, const char *file, bool required));

/* A C type as DWARF describes it. Named types are not deduplicated across
 * compilation units: each unit has its own `struct item`. */
enum dtype_kind {
	DK_VOID, DK_BASE, DK_STRUCT, DK_UNION, DK_ENUM, DK_TYPEDEF, DK_POINTER,
	DK_CONST, DK_VOLATILE, DK_RESTRICT, DK_ATOMIC, DK_ARRAY, DK_FUNC,
	DK_UNKNOWN,	/* something C cannot say here; `why` tells what */
};

struct dtype;

struct dmember {
	const char *name;	/* NULL: anonymous member, or unnamed parameter */
	struct dtype *type;
	uint64_t offset;	/* bytes from the start of the struct */
	uint64_t bit_size;	/* > 0 for a bit-field */
};

struct denumerator {
	const char *name;
	int64_t value;
	bool is_unsigned;
};

struct dtype {
	enum dtype_kind kind;
	const char *name;	/* NULL when anonymous */
	uint64_t size;		/* DW_AT_byte_size; 0 when DWARF gives none */
	struct dtype *target;	/* pointee, qualified type, typedef'd type, array element,
				 * or function result; NULL means void */
	uint64_t count;		/* array: number of elements, when has_count */
	bool has_count;
	bool declaration;	/* struct/union/enum declared but not defined */
	bool prototyped, varargs;	/* DK_FUNC */
	unsigned encoding;	/* DK_BASE: DW_ATE_* */
	VEC(struct dmember) members;	/* struct/union members, function parameters */
	VEC(struct denumerator) enumerators;
	const char *decl_file;	/* where it is declared, as the line table names it */
	const char *why;	/* DK_UNKNOWN */
	uint64_t off;		/* DIE offset: a stable order */
	int mark;		/* free for the users of the model */
};

/* A function or variable the program defines, as DWARF describes it. */
struct dobject {
	const char *name;
	const char *cu;		/* the compilation unit's DW_AT_name */
	const char *file;	/* its last path component: what STT_FILE says */
	uint64_t addr, size;
	bool func, external;
	/* A concrete instance of an abstract one (DW_AT_abstract_origin): an
	 * out-of-line copy of an inlined function, or a clone (.constprop,
	 * .isra) that may take other arguments at another address. Only a
	 * symbol of the name at that address tells the two apart. */
	bool concrete;
	uint64_t origin;	/* the abstract instance's DIE offset */
	struct dtype *type;	/* a DK_FUNC for functions */
};

struct dwarf_info {
	char *path;		/* the file the debug info came from */
	VEC(struct dobject) objs;
	void *priv;		/* libdwarf state, types and line table (dwarf.c) */
};

/* Reads the debug info (called from image_init after the symbol tables).
 * Fills img->dwarf, or leaves it NULL with a warning when none is usable.
 * Returns -1 only when out of memory. */
int image_load_dwarf(struct image *img);
void dwarf_info_free(struct dwarf_info *di);

/* Source line of the instruction at `addr`, from the line table:
 * *file is valid as long as the image. Returns false when unknown.
 * For `surgeon disasm --lines`. */
bool image_line_for_addr(const struct image *img, uint64_t addr, const char **file, unsigned *line);

/* Where the program's own .debug_info holds thread-local variables' block
 * offsets (the operand of DW_OP_const8u/const4u before
 * DW_OP_form_tls_address): relink moves them when the block grows in front. */
struct dwarf_tls_op {
	uint64_t off;		/* in .debug_info */
	unsigned width;		/* 8 or 4 */
};
typedef VEC(struct dwarf_tls_op) dwarf_tls_ops;
int dwarf_tls_operands(const struct image *img, dwarf_tls_ops *out);

/* Size of a type in bytes, following typedefs, qualifiers and arrays;
 * false when DWARF does not say. */
bool dtype_size(const struct dtype *t, uint64_t *size);
/* The type with typedefs and qualifiers stripped (NULL stays NULL: void). */
const struct dtype *dtype_strip(const struct dtype *t);

#endif

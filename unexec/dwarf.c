/* Debug information through libdwarf: where it is (the program, --debug-file,
 * the build-id tree, .gnu_debuglink), the functions and variables it names,
 * their C types, and the line table. Nothing here is fatal: unusable debug
 * info is reported once as a warning and the image carries on without it. */
#include "unexec/dwarf.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <libdwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>


#define DEBUG_DIR_DEFAULT "/usr/lib/debug"
#define MAX_TYPE_DEPTH 512

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

static void (*watchdog)(unsigned seconds, const char *file, bool required);

void dwarf_set_watchdog(void (*arm)(unsigned seconds, const char *file, bool required))
{
	watchdog = arm;
}

/* A warning about the debug info; when a verb needs it (headers), the first
 * one is kept for that verb's one-line error instead of printed. */
__attribute__((format(printf, 3, 4)))
static void dw_warn(const struct image *img, const char *file, const char *fmt, ...)
{
	char **keep = img->opts.dwarf_failure;
	va_list ap;
	char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	if (!keep)
		pr_warn(file, "%s", msg);
	else if (!*keep) {
		char *tail = strstr(msg, "; carrying on without it");

		if (tail)
			*tail = 0;
		*keep = msg;
		return;
	}
	free(msg);
}

static int fail(struct ctx *c, const char *what)
{
	if (!c->msg)
		c->msg = xasprintf("%s: %s", what, c->err ? dwarf_errmsg(c->err) : "malformed");
	if (c->err) {
		dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
	}
	return -1;
}

/* 1 with the value, 0 when absent, -1 on error. */
static int attr_get(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *a)
{
	int r = dwarf_attr(die, at, a, &c->err);

	if (r == DW_DLV_ERROR)
		return fail(c, "reading an attribute");
	return r == DW_DLV_OK;
}

static int attr_udata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, uint64_t *val)
{
	Dwarf_Attribute a;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	int r = attr_get(c, die, at, &a);

	if (r <= 0)
		return r;
	if (dwarf_formudata(a, &u, &c->err) == DW_DLV_OK) {
		*val = u;
	} else {
		if (c->err)
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
		if (dwarf_formsdata(a, &s, &c->err) != DW_DLV_OK) {
			/* Not a constant (an expression, a reference): unknown. */
			if (c->err)
				dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
			c->err = NULL;
			dwarf_dealloc_attribute(a);
			return 0;
		}
		*val = (uint64_t)s;
	}
	dwarf_dealloc_attribute(a);
	return 1;
}

static int attr_sdata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, int64_t *val, bool *is_unsigned)
{
	Dwarf_Attribute a;
	Dwarf_Half form = 0;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	int r = attr_get(c, die, at, &a);

	if (r <= 0)
		return r;
	r = 1;
	dwarf_whatform(a, &form, &c->err);
	if (form == DW_FORM_udata && dwarf_formudata(a, &u, &c->err) == DW_DLV_OK) {
		*val = (int64_t)u;
		*is_unsigned = u > INT64_MAX;
	} else if (dwarf_formsdata(a, &s, &c->err) == DW_DLV_OK) {
		*val = s;
		*is_unsigned = false;
	} else {
		r = fail(c, "reading a constant");
	}
	dwarf_dealloc_attribute(a);
	return r;
}

static int attr_flag(struct ctx *c, Dwarf_Die die, Dwarf_Half at, bool *val)
{
	Dwarf_Attribute a;
	Dwarf_Bool b = 0;
	int r = attr_get(c, die, at, &a);

	*val = false;
	if (r <= 0)
		return r;
	if (dwarf_formflag(a, &b, &c->err) != DW_DLV_OK)
		r = fail(c, "reading a flag");
	*val = b;
	dwarf_dealloc_attribute(a);
	return r;
}

static int attr_ref(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off)
{
	Dwarf_Attribute a;
	int r = attr_get(c, die, at, &a);

	if (r <= 0)
		return r;
	if (dwarf_global_formref(a, off, &c->err) != DW_DLV_OK)
		r = fail(c, "reading a reference");
	dwarf_dealloc_attribute(a);
	return r;
}

static int die_name(struct ctx *c, Dwarf_Die die, const char **name)
{
	char *n = NULL;
	int r = dwarf_diename(die, &n, &c->err);

	*name = NULL;
	if (r == DW_DLV_ERROR)
		return fail(c, "reading a name");
	if (r == DW_DLV_OK && *n)
		*name = n;	/* lives as long as the Dwarf_Debug */
	return 0;
}

static int offdie(struct ctx *c, Dwarf_Off off, Dwarf_Die *die)
{
	if (dwarf_offdie_b(c->dbg, off, 1, die, &c->err) != DW_DLV_OK)
		return fail(c, "following a reference");
	return 0;
}

static bool uleb(const unsigned char *d, uint64_t size, uint64_t *off, uint64_t *v);

/* A location that is a single DW_OP_addr (or, in split DWARF, an index of
 * one): a static variable's address. */
static int attr_addr_loc(struct ctx *c, Dwarf_Die die, uint64_t *addr)
{
	Dwarf_Attribute a;
	Dwarf_Half form = 0;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr ptr = NULL;
	Dwarf_Block *blk = NULL;
	const unsigned char *b;
	int r = attr_get(c, die, DW_AT_location, &a);

	if (r <= 0)
		return r;
	r = 0;
	if (dwarf_whatform(a, &form, &c->err) != DW_DLV_OK) {
		r = fail(c, "reading a location");
	} else if (form == DW_FORM_exprloc) {
		if (dwarf_formexprloc(a, &len, &ptr, &c->err) != DW_DLV_OK)
			r = fail(c, "reading a location");
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
		   form == DW_FORM_block) {
		if (dwarf_formblock(a, &blk, &c->err) != DW_DLV_OK) {
			r = fail(c, "reading a location");
		} else {
			len = blk->bl_len;
			ptr = blk->bl_data;
		}
	}
	b = ptr;
	if (!r && b && len == 9 && b[0] == DW_OP_addr) {
		memcpy(addr, b + 1, 8);
		r = 1;
	} else if (!r && b && len >= 2 && (b[0] == DW_OP_addrx || b[0] == DW_OP_GNU_addr_index)) {
		/* Split DWARF: an index into the program's .debug_addr. */
		uint64_t idx, pos = 1;
		Dwarf_Addr a0;

		if (uleb(b, len, &pos, &idx) && pos == len) {
			if (dwarf_debug_addr_index_to_addr(die, idx, &a0, &c->err) == DW_DLV_OK) {
				*addr = a0;
				r = 1;
			} else {
				r = fail(c, "reading an indexed address");
			}
		}
	}
	if (blk)
		dwarf_dealloc(c->dbg, blk, DW_DLA_BLOCK);
	dwarf_dealloc_attribute(a);
	return r;
}

/* The name, external flag and type of a definition, from the DIE itself or
 * the DIEs it stands for: the declaration its DW_AT_specification points
 * to, the abstract instance an out-of-line copy of an inlined function (or
 * an LTO unit's DIE) names with DW_AT_abstract_origin, in any mix. *proto:
 * the first DIE of that chain that is not a concrete instance, whose
 * parameters carry their types (a concrete instance's parameters name
 * only their abstract ones). */
static int spec_info(struct ctx *c, Dwarf_Die die, const char **name, bool *external, Dwarf_Off *type,
		     bool *has_type, Dwarf_Off *proto)
{
	Dwarf_Off next;
	Dwarf_Die s = NULL;
	bool have_proto = false;
	int r, depth;

	*name = NULL;
	*external = false;
	*has_type = false;
	for (depth = 0; die && depth < 8; depth++) {
		bool ext = false;

		if (!*name && die_name(c, die, name))
			goto err;
		if (attr_flag(c, die, DW_AT_external, &ext) < 0)
			goto err;
		*external |= ext;
		if (!*has_type) {
			r = attr_ref(c, die, DW_AT_type, type);
			if (r < 0)
				goto err;
			*has_type = r;
		}
		r = attr_ref(c, die, DW_AT_abstract_origin, &next);
		if (r < 0)
			goto err;
		if (!r && !have_proto) {
			if (dwarf_dieoffset(die, proto, &c->err) != DW_DLV_OK) {
				fail(c, "reading a DIE offset");
				goto err;
			}
			have_proto = true;
		}
		if (!r)
			r = attr_ref(c, die, DW_AT_specification, &next);
		if (r < 0)
			goto err;
		if (s)
			dwarf_dealloc_die(s);
		s = NULL;
		if (!r)
			break;
		if (offdie(c, next, &s))
			goto err;
		die = s;
	}
	if (s)
		dwarf_dealloc_die(s);
	if (!have_proto)
		*proto = 0;
	return 0;
err:
	if (s)
		dwarf_dealloc_die(s);
	return -1;
}

/* ---- types ---- */

static struct dtype *new_type(struct ctx *c, enum dtype_kind kind, uint64_t off)
{
	struct dtype *t = zalloc(sizeof(*t));

	if (!t)
		return NULL;
	t->kind = kind;
	t->off = off;
	if (VEC_PUSH(&c->p->alltypes, t)) {
		free(t);
		return NULL;
	}
	return t;
}

static struct dtype *unknown(struct ctx *c, uint64_t off, const char *why)
{
	struct dtype *t = new_type(c, DK_UNKNOWN, off);

	if (t)
		t->why = why;
	return t;
}

static struct dtype *get_type(struct ctx *c, Dwarf_Off off, int depth);

static const char *decl_file(struct ctx *c, Dwarf_Die die)
{
	uint64_t idx;

	if (attr_udata(c, die, DW_AT_decl_file, &idx) <= 0)
		return NULL;
	/* DWARF 5 numbers files from 0, earlier versions from 1. */
	if (c->version < 5) {
		if (!idx)
			return NULL;
		idx--;
	}
	return (Dwarf_Signed)idx < c->nsrc ? c->srcfiles[idx] : NULL;
}

static int read_members(struct ctx *c, Dwarf_Die die, struct dtype *t, int depth)
{
	Dwarf_Die ch = NULL, next;
	int r = dwarf_child(die, &ch, &c->err);

	if (r == DW_DLV_ERROR)
		return fail(c, "reading members");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;
		struct dmember m = { 0 };
		Dwarf_Off toff;
		uint64_t v;
		int has;

		if (dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK)
			goto err;
		if (tag == DW_TAG_member || tag == DW_TAG_formal_parameter) {
			if (die_name(c, ch, &m.name))
				goto err_quiet;
			has = attr_ref(c, ch, DW_AT_type, &toff);
			if (has < 0)
				goto err_quiet;
			m.type = has ? get_type(c, toff, depth + 1) : unknown(c, 0, "a member without a type");
			if (!m.type)
				goto err_quiet;
			if (attr_udata(c, ch, DW_AT_data_member_location, &v) > 0)
				m.offset = v;
			else if (attr_udata(c, ch, DW_AT_data_bit_offset, &v) > 0)
				m.offset = v / 8;
			if (attr_udata(c, ch, DW_AT_bit_size, &v) > 0)
				m.bit_size = v;
			if (c->msg || VEC_PUSH(&t->members, m))
				goto err_quiet;
		} else if (tag == DW_TAG_unspecified_parameters) {
			t->varargs = true;
		} else if (tag == DW_TAG_enumerator) {
			struct denumerator e = { 0 };

			if (die_name(c, ch, &e.name) || attr_sdata(c, ch, DW_AT_const_value, &e.value, &e.is_unsigned) < 0)
				goto err_quiet;
			if (e.name && VEC_PUSH(&t->enumerators, e))
				goto err_quiet;
		}
		r = dwarf_siblingof_b(c->dbg, ch, 1, &next, &c->err);
		dwarf_dealloc_die(ch);
		ch = next;
		if (r == DW_DLV_ERROR)
			return fail(c, "reading members");
	}
	return 0;
err:
	fail(c, "reading members");
err_quiet:
	dwarf_dealloc_die(ch);
	return -1;
}

/* Arrays: one dtype per dimension, outermost first. */
static int read_array(struct ctx *c, Dwarf_Die die, struct dtype *t, int depth)
{
	Dwarf_Die ch = NULL, next;
	VEC(struct dtype *) dims = { 0 };
	Dwarf_Off toff;
	struct dtype *elem;
	size_t i;
	int r;

	r = attr_ref(c, die, DW_AT_type, &toff);
	if (r < 0)
		return -1;
	elem = r ? get_type(c, toff, depth + 1) : unknown(c, t->off, "an array without an element type");
	if (!elem)
		return -1;
	r = dwarf_child(die, &ch, &c->err);
	if (r == DW_DLV_ERROR)
		return fail(c, "reading an array");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;
		struct dtype *d = VEC_GROW(&dims) ? NULL : dims.n ? new_type(c, DK_ARRAY, t->off) : t;
		uint64_t v;

		if (!d || dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK) {
			if (d)
				fail(c, "reading an array");
			dwarf_dealloc_die(ch);
			VEC_FREE(&dims);
			return -1;
		}
		if (tag == DW_TAG_subrange_type) {
			if (attr_udata(c, ch, DW_AT_count, &v) > 0) {
				d->count = v;
				d->has_count = true;
			} else if (attr_udata(c, ch, DW_AT_upper_bound, &v) > 0 && v != UINT64_MAX) {
				d->count = v + 1;
				d->has_count = true;
			}
			dims.v[dims.n++] = d;
		}
		r = dwarf_siblingof_b(c->dbg, ch, 1, &next, &c->err);
		dwarf_dealloc_die(ch);
		ch = next;
		if (r == DW_DLV_ERROR) {
			VEC_FREE(&dims);
			return fail(c, "reading an array");
		}
	}
	if (!dims.n)
		dims.v = NULL;
	for (i = dims.n; i-- > 0;) {
		dims.v[i]->target = elem;
		elem = dims.v[i];
	}
	if (!dims.n)
		t->target = elem;
	VEC_FREE(&dims);
	return c->msg ? -1 : 0;
}

static int fill_type(struct ctx *c, Dwarf_Die die, Dwarf_Half tag, struct dtype *t, int depth)
{
	Dwarf_Off toff;
	uint64_t v;
	bool flag;
	int r;

	if (die_name(c, die, &t->name))
		return -1;
	if (attr_udata(c, die, DW_AT_byte_size, &v) > 0)
		t->size = v;
	if (c->msg)
		return -1;
	switch (tag) {
	case DW_TAG_base_type:
		t->kind = DK_BASE;
		if (attr_udata(c, die, DW_AT_encoding, &v) > 0)
			t->encoding = v;
		if (!t->name)
			return t->kind = DK_UNKNOWN, t->why = "a base type without a name", 0;
		return c->msg ? -1 : 0;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		t->kind = tag == DW_TAG_structure_type ? DK_STRUCT : tag == DW_TAG_union_type ? DK_UNION : DK_ENUM;
		if (attr_flag(c, die, DW_AT_declaration, &flag) < 0)
			return -1;
		t->declaration = flag;
		t->decl_file = decl_file(c, die);
		return flag ? 0 : read_members(c, die, t, depth);
	case DW_TAG_array_type:
		t->kind = DK_ARRAY;
		if (attr_flag(c, die, DW_AT_GNU_vector, &flag) < 0)
			return -1;
		if (flag)
			return t->kind = DK_UNKNOWN, t->why = "a vector type", 0;
		return read_array(c, die, t, depth);
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		t->kind = DK_FUNC;
		t->name = NULL;
		if (attr_flag(c, die, DW_AT_prototyped, &flag) < 0)
			return -1;
		t->prototyped = flag;
		r = attr_ref(c, die, DW_AT_type, &toff);
		if (r < 0 || (r && !(t->target = get_type(c, toff, depth + 1))))
			return -1;
		return read_members(c, die, t, depth);
	case DW_TAG_typedef:
		t->kind = DK_TYPEDEF;
		t->decl_file = decl_file(c, die);
		if (!t->name)
			return t->kind = DK_UNKNOWN, t->why = "a typedef without a name", 0;
		break;
	case DW_TAG_pointer_type: t->kind = DK_POINTER; break;
	case DW_TAG_const_type: t->kind = DK_CONST; break;
	case DW_TAG_volatile_type: t->kind = DK_VOLATILE; break;
	case DW_TAG_restrict_type: t->kind = DK_RESTRICT; break;
	case DW_TAG_atomic_type: t->kind = DK_ATOMIC; break;
	case DW_TAG_unspecified_type:
		/* `void` in some producers' eyes; otherwise nothing C has. */
		if (t->name && !strcmp(t->name, "void"))
			return t->kind = DK_VOID, 0;
		return t->kind = DK_UNKNOWN, t->why = "an unspecified type", 0;
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
		return t->kind = DK_UNKNOWN, t->why = "a C++ reference", 0;
	case DW_TAG_class_type:
		return t->kind = DK_UNKNOWN, t->why = "a C++ class", 0;
	case DW_TAG_ptr_to_member_type:
		return t->kind = DK_UNKNOWN, t->why = "a C++ pointer to member", 0;
	default:
		return t->kind = DK_UNKNOWN, t->why = "a kind of type C cannot declare", 0;
	}
	/* Pointers, qualifiers and typedefs: one target, absent for void. */
	r = attr_ref(c, die, DW_AT_type, &toff);
	if (r < 0 || (r && !(t->target = get_type(c, toff, depth + 1))))
		return -1;
	if (t->kind == DK_POINTER && !t->size)
		t->size = 8;
	return 0;
}

static struct dtype *get_type(struct ctx *c, Dwarf_Off off, int depth)
{
	char key[32];
	struct dtype *t;
	Dwarf_Die die;
	Dwarf_Half tag = 0;

	snprintf(key, sizeof(key), "%x:%llx", c->file, (unsigned long long)off);
	t = strmap_get(c->p->types, key);
	if (t)
		return t;
	if (depth > MAX_TYPE_DEPTH)
		return unknown(c, off, "a type nested too deeply");
	t = new_type(c, DK_UNKNOWN, off);
	if (!t)
		return NULL;
	t->why = "an unreadable type";
	/* In the map before its parts: types refer to themselves through pointers. */
	{
		char *k = xstrdup(key);

		if (!k || VEC_PUSH(&c->p->strs, k)) {
			free(k);
			return NULL;
		}
		if (strmap_put(c->p->types, k, t))
			return NULL;
	}
	if (offdie(c, off, &die))
		return NULL;
	if (dwarf_tag(die, &tag, &c->err) != DW_DLV_OK) {
		fail(c, "reading a type");
		dwarf_dealloc_die(die);
		return NULL;
	}
	if (fill_type(c, die, tag, t, depth)) {
		dwarf_dealloc_die(die);
		return NULL;
	}
	dwarf_dealloc_die(die);
	return t;
}

bool dtype_size(const struct dtype *t, uint64_t *size)
{
	uint64_t n;
	int guard;

	for (guard = 0; t && guard < MAX_TYPE_DEPTH; guard++) {
		switch (t->kind) {
		case DK_TYPEDEF: case DK_CONST: case DK_VOLATILE: case DK_RESTRICT: case DK_ATOMIC:
			if (t->size) {
				*size = t->size;
				return true;
			}
			t = t->target;
			continue;
		case DK_ARRAY:
			if (!t->has_count || !dtype_size(t->target, &n) || __builtin_mul_overflow(n, t->count, size))
				return false;
			return true;
		case DK_BASE: case DK_STRUCT: case DK_UNION: case DK_ENUM: case DK_POINTER:
			*size = t->size;
			return t->size || t->kind == DK_STRUCT || t->kind == DK_UNION;
		default:
			return false;
		}
	}
	return false;
}

const struct dtype *dtype_strip(const struct dtype *t)
{
	int guard;

	for (guard = 0; t && guard < MAX_TYPE_DEPTH; guard++) {
		if (t->kind != DK_TYPEDEF && t->kind != DK_CONST && t->kind != DK_VOLATILE &&
		    t->kind != DK_RESTRICT && t->kind != DK_ATOMIC)
			return t;
		t = t->target;
	}
	return t;
}

/* ---- functions and variables ---- */

static int read_object(struct ctx *c, Dwarf_Die die, Dwarf_Half tag)
{
	struct dobject o = { .cu = c->cu_name, .func = tag == DW_TAG_subprogram };
	Dwarf_Off toff = 0, proto = 0, origin = 0;
	bool has_type, decl = false;
	uint64_t v = 0;
	int r;

	if (attr_flag(c, die, DW_AT_declaration, &decl) < 0)
		return -1;
	if (decl)
		return 0;
	r = attr_ref(c, die, DW_AT_abstract_origin, &origin);
	if (r < 0)
		return -1;
	o.concrete = r;
	o.origin = origin;
	if (o.func) {
		Dwarf_Addr lo = 0, hi = 0;
		Dwarf_Half form = 0;
		enum Dwarf_Form_Class cls = DW_FORM_CLASS_UNKNOWN;

		r = dwarf_lowpc(die, &lo, &c->err);
		if (r == DW_DLV_ERROR)
			return fail(c, "reading a function's address");
		if (r == DW_DLV_NO_ENTRY || !lo)
			return 0;	/* an abstract instance, or code that was dropped */
		r = dwarf_highpc_b(die, &hi, &form, &cls, &c->err);
		if (r == DW_DLV_ERROR)
			return fail(c, "reading a function's end");
		if (r == DW_DLV_OK)
			o.size = cls == DW_FORM_CLASS_CONSTANT ? hi : hi > lo ? hi - lo : 0;
		o.addr = lo;
	} else {
		r = attr_addr_loc(c, die, &v);
		if (r <= 0)
			return r;
		o.addr = v;
	}
	if (spec_info(c, die, &o.name, &o.external, &toff, &has_type, &proto))
		return -1;
	if (!o.name || !o.addr)
		return 0;
	if (o.func) {
		o.type = proto ? get_type(c, proto, 0) : unknown(c, 0, "a function known only by its inlined copies");
		/* A definition naming its declaration may leave the result type
		 * to it: the function DIE's own type says void. */
		if (o.type && o.type->kind == DK_FUNC && !o.type->target && has_type &&
		    !(o.type->target = get_type(c, toff, 0)))
			return -1;
	} else {
		o.type = has_type ? get_type(c, toff, 0) : unknown(c, 0, "a variable without a type");
		if (o.type && !dtype_size(o.type, &o.size))
			o.size = 0;
	}
	if (!o.type)
		return -1;
	if (o.cu) {
		const char *slash = strrchr(o.cu, '/');

		o.file = slash ? slash + 1 : o.cu;
	}
	return VEC_PUSH(&c->di->objs, o);
}

/* A skeleton unit of split DWARF: where its split object is (DW_AT_dwo_name,
 * or GNU's for DWARF 4, relative to DW_AT_comp_dir). */
static int note_dwo(struct ctx *c, Dwarf_Die cu, bool *skeleton)
{
	Dwarf_Attribute a;
	char *name = NULL, *dir = NULL, *path;
	Dwarf_Half tag = 0;
	int r;

	*skeleton = false;
	if (dwarf_tag(cu, &tag, &c->err) != DW_DLV_OK)
		return fail(c, "reading a compilation unit");
	r = attr_get(c, cu, DW_AT_dwo_name, &a);
	if (!r)
		r = attr_get(c, cu, DW_AT_GNU_dwo_name, &a);
	if (r < 0)
		return -1;
	if (!r)
		return tag == DW_TAG_skeleton_unit ? fail(c, "a skeleton unit without DW_AT_dwo_name") : 0;
	*skeleton = true;
	if (dwarf_formstring(a, &name, &c->err) != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return fail(c, "reading DW_AT_dwo_name");
	}
	dwarf_dealloc_attribute(a);
	r = attr_get(c, cu, DW_AT_comp_dir, &a);
	if (r < 0)
		return -1;
	if (r) {
		if (dwarf_formstring(a, &dir, &c->err) != DW_DLV_OK)
			dir = NULL;
		if (c->err) {
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
			c->err = NULL;
		}
		dwarf_dealloc_attribute(a);
	}
	path = name[0] == '/' || !dir ? xstrdup(name) : xasprintf("%s/%s", dir, name);
	struct dwo_ref ref = { .path = path, .dwo_id = c->dwo_id };

	if (!ref.dwo_id && attr_udata(c, cu, DW_AT_GNU_dwo_id, &ref.dwo_id) < 0) {
		free(path);
		return -1;
	}

	if (dwarf_srcfiles(cu, &ref.srcfiles, &ref.nsrc, &c->err) != DW_DLV_OK) {
		if (c->err)
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
		ref.srcfiles = NULL;
		ref.nsrc = 0;
	}
	if (!path || VEC_PUSH(&c->dwo_refs, ref)) {
		free(path);
		return -1;
	}
	return 0;
}

static int read_cu(struct ctx *c, Dwarf_Die cu)
{
	Dwarf_Die ch = NULL, next;
	bool skeleton;
	int r;

	if (note_dwo(c, cu, &skeleton))
		return -1;
	if (skeleton)
		return 0;	/* its functions and types are in the split object */
	if (c->dwp) {
		uint64_t id = c->dwo_id;

		if (!id && attr_udata(c, cu, DW_AT_GNU_dwo_id, &id) < 0)
			return -1;
		c->skeleton = NULL;
		for (size_t i = 0; i < c->dwo_refs.n && !c->skeleton; i++)
			if (c->dwo_refs.v[i].dwo_id == id)
				c->skeleton = &c->dwo_refs.v[i];
	}
	if (die_name(c, cu, &c->cu_name))
		return -1;
	c->srcfiles = NULL;
	c->nsrc = 0;
	r = dwarf_srcfiles(cu, &c->srcfiles, &c->nsrc, &c->err);
	if (r != DW_DLV_OK && c->skeleton) {
		if (c->err)
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
		c->srcfiles = c->skeleton->srcfiles;
		c->nsrc = c->skeleton->nsrc;
	} else if (r == DW_DLV_ERROR) {
		/* Only types' declaring files are lost: system types get defined
		 * rather than included. */
		dw_warn(c->img, c->path, "compilation unit '%s': unreadable file names: %s", c->cu_name ? c->cu_name : "?",
			dwarf_errmsg(c->err));
		dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
		c->srcfiles = NULL;
		c->nsrc = 0;
	}
	r = dwarf_child(cu, &ch, &c->err);
	if (r == DW_DLV_ERROR)
		return fail(c, "reading a compilation unit");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;

		if (dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK) {
			fail(c, "reading a compilation unit");
			dwarf_dealloc_die(ch);
			return -1;
		}
		if ((tag == DW_TAG_subprogram || tag == DW_TAG_variable) && read_object(c, ch, tag)) {
			dwarf_dealloc_die(ch);
			return -1;
		}
		r = dwarf_siblingof_b(c->dbg, ch, 1, &next, &c->err);
		dwarf_dealloc_die(ch);
		ch = next;
		if (r == DW_DLV_ERROR)
			return fail(c, "reading a compilation unit");
	}
	return 0;
}

static int read_all(struct ctx *c)
{
	for (;;) {
		Dwarf_Unsigned next = 0;
		Dwarf_Half ver = 0, cutype = 0;
		Dwarf_Die cu = NULL;
		Dwarf_Sig8 sig = { { 0 } };
		int r = dwarf_next_cu_header_d(c->dbg, 1, NULL, &ver, NULL, NULL, NULL, NULL, &sig, NULL, &next,
					       &cutype, &c->err);

		if (r == DW_DLV_NO_ENTRY)
			return 0;
		if (r == DW_DLV_ERROR)
			return fail(c, "reading a compilation unit header");
		c->version = ver;
		memcpy(&c->dwo_id, &sig, 8);
		r = dwarf_siblingof_b(c->dbg, NULL, 1, &cu, &c->err);
		if (r == DW_DLV_ERROR)
			return fail(c, "reading a compilation unit");
		if (r == DW_DLV_NO_ENTRY)
			continue;
		r = read_cu(c, cu);
		dwarf_dealloc_die(cu);
		if (r)
			return -1;
	}
}

/* ---- finding the debug info ---- */

static int elf_build_id(Elf *elf, const unsigned char **id, size_t *len)
{
	Elf_Scn *scn = NULL;

	*id = NULL;
	*len = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz) {
				*id = (const unsigned char *)d->d_buf + doff;
				*len = nh.n_descsz;
				return 0;
			}
		}
	}
	return 0;
}

static char *hex(const unsigned char *b, size_t n)
{
	char *s = zalloc(2 * n + 1);
	size_t i;

	for (i = 0; s && i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	return s;
}

static bool has_debug_info(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !sh.sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
			return true;
	}
	return false;
}

static int file_crc(int fd, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		c = crc32(c, buf, n);
		off += n;
	}
	*crc = c;
	return n < 0 ? -1 : 0;
}

struct dbgfile {
	char *path;
	int fd;
	Elf *elf;
};

static void dbgfile_close(struct dbgfile *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	f->elf = NULL;
	f->fd = -1;
	f->path = NULL;
}

/* Opens a candidate debug file and checks it belongs to the program:
 * same build-id when both have one, and the CRC .gnu_debuglink records. */
static bool try_debug_file(const struct image *img, const char *path, const uint32_t *want_crc,
			   bool quiet_missing, struct dbgfile *out)
{
	const unsigned char *id, *fid;
	size_t idlen, fidlen;
	struct stat st;
	GElf_Ehdr eh;

	out->fd = -1;
	out->elf = NULL;
	out->path = NULL;
	out->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->fd < 0) {
		if (!quiet_missing || errno != ENOENT)
			dw_warn(img, path, "cannot open debug file: %s", strerror(errno));
		return false;
	}
	out->path = xstrdup(path);
	if (fstat(out->fd, &st) || !S_ISREG(st.st_mode)) {
		dw_warn(img, path, "debug file is not a regular file; ignored");
		goto no;
	}
	out->elf = elf_begin(out->fd, ELF_C_READ_MMAP, NULL);
	if (!out->elf || elf_kind(out->elf) != ELF_K_ELF || !gelf_getehdr(out->elf, &eh) ||
	    gelf_getclass(out->elf) != ELFCLASS64 || eh.e_machine != img->eh.e_machine) {
		dw_warn(img, path, "debug file is not a 64-bit ELF file of the program's machine; ignored");
		goto no;
	}
	if (want_crc) {
		uint32_t crc;

		if (file_crc(out->fd, &crc) || crc != *want_crc) {
			dw_warn(img, path, "debug file's CRC 0x%08x does not match the 0x%08x that %s's .gnu_debuglink records; ignored",
				crc, *want_crc, img->path);
			goto no;
		}
	}
	elf_build_id(img->elf, &id, &idlen);
	elf_build_id(out->elf, &fid, &fidlen);
	if (id && fid && (idlen != fidlen || memcmp(id, fid, idlen))) {
		char *a = hex(id, idlen), *b = hex(fid, fidlen);

		dw_warn(img, path, "debug file's build-id %s does not match %s's %s; ignored", b ? b : "?", img->path,
			a ? a : "?");
		free(a);
		free(b);
		goto no;
	}
	if (!has_debug_info(out->elf)) {
		dw_warn(img, path, "debug file has no .debug_info; ignored");
		goto no;
	}
	return true;
no:
	dbgfile_close(out);
	return false;
}

static const char *debug_dir(void)
{
	const char *d = getenv("SURGEON_DEBUG_DIR");

	return d && *d ? d : DEBUG_DIR_DEFAULT;
}

/* The .gnu_debuglink section: a file name, padding to 4, a CRC32. */
static bool debuglink(const struct image *img, const char **name, uint32_t *crc)
{
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		const char *d;
		size_t len;

		if (strcmp(s->name, ".gnu_debuglink") || s->sh.sh_type == SHT_NOBITS)
			continue;
		d = (const char *)img->data + s->sh.sh_offset;
		len = strnlen(d, s->sh.sh_size);
		if (!len || align_up(len + 1, 4) + 4 > s->sh.sh_size || memchr(d, '/', len)) {
			dw_warn(img, img->path, "section [%zu] '.gnu_debuglink' is malformed; ignored", i);
			return false;
		}
		*name = d;
		memcpy(crc, d + align_up(len + 1, 4), 4);
		return true;
	}
	return false;
}

/* Where the DWARF is, in gdb's order: --debug-file, the program itself,
 * DEBUGDIR/.build-id/xx/yyyy.debug, then .gnu_debuglink beside the program,
 * in .debug/ beside it, and under DEBUGDIR. */
/* Debian's libdwarf (20210528) frees twice when a .debug_rnglists or
 * .debug_loclists unit header is inconsistent (found by fuzzing), so those
 * headers are checked here, against their section, before libdwarf sees
 * the file. A DWARF 5 list unit: length (4, or 12 for 64-bit), version 5,
 * address size 8, segment selector size 0, then offset_entry_count 4- or
 * 8-byte offsets. */
/* The section, or its split DWARF twin (".debug_abbrev.dwo"). */
static bool is_section(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (!name[n] || !strcmp(name + n, ".dwo"));
}

static bool list_headers_sound(Elf *elf, char **why)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return true;	/* libdwarf will say what is wrong */
	while ((scn = elf_nextscn(elf, scn))) {
		const unsigned char *d;
		Elf_Data *data;
		GElf_Shdr sh;
		const char *name;
		uint64_t off = 0;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!is_section(name, ".debug_rnglists") && !is_section(name, ".debug_loclists"))
			continue;
		if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			continue;	/* nothing to read, or libdwarf decompresses and checks */
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != sh.sh_size)
			continue;
		d = data->d_buf;
		while (off < data->d_size) {
			uint64_t len, hdr, left = data->d_size - off, osize = 4;
			uint32_t l32, count;

			if (left < 4)
				goto bad;
			memcpy(&l32, d + off, 4);
			len = l32, hdr = 4;
			if (l32 == 0xffffffff) {
				if (left < 12)
					goto bad;
				memcpy(&len, d + off + 4, 8);
				hdr = 12, osize = 8;
			}
			if (len > left - hdr || len < 8)
				goto bad;
			if (d[off + hdr] != 5 || d[off + hdr + 1] != 0 || d[off + hdr + 2] != 8 || d[off + hdr + 3] != 0)
				goto bad;
			memcpy(&count, d + off + hdr + 4, 4);
			if ((uint64_t)count * osize > len - 8)
				goto bad;
			off += hdr + len;
		}
		continue;
bad:
		*why = xasprintf("section %s: unit at 0x%llx is inconsistent", name, (unsigned long long)off);
		return false;
	}
	return true;
}

static bool uleb(const unsigned char *d, uint64_t size, uint64_t *off, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*off < size && shift < 64) {
		unsigned char b = d[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* libdwarf 20210528 can also loop for ever on a damaged .debug_abbrev (found
 * by fuzzing): every abbreviation must end inside the section, with known
 * forms and no DW_FORM_indirect. */
static bool abbrev_sound(Elf *elf, char **why)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	VEC(char *) keys = { 0 };

	if (elf_getshdrstrndx(elf, &shstrndx))
		return true;
	while ((scn = elf_nextscn(elf, scn))) {
		const unsigned char *d;
		Elf_Data *data;
		GElf_Shdr sh;
		const char *name;
		uint64_t off = 0, code, tag, at, form, v;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    !is_section(name, ".debug_abbrev") || sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		d = data->d_buf;
		struct strmap *seen = strmap_new(64);
		char key[24];

		if (!seen)
			return true;
		while (off < data->d_size) {
			if (!uleb(d, data->d_size, &off, &code)) {
				strmap_free(seen);
				goto bad;
			}
			if (!code) {
				/* The end of one unit's list: codes may repeat in the next. */
				strmap_free(seen);
				if (!(seen = strmap_new(64)))
					return true;
				continue;
			}
			snprintf(key, sizeof(key), "%llx", (unsigned long long)code);
			if (strmap_get(seen, key)) {
				strmap_free(seen);
				goto bad;	/* a code twice in one list */
			}
			{
				char *k = xstrdup(key);

				if (!k || VEC_PUSH(&keys, k) || strmap_put(seen, k, (void *)1)) {
					free(k);
					strmap_free(seen);
					return true;
				}
			}
			if (!uleb(d, data->d_size, &off, &tag) || off >= data->d_size) {
				strmap_free(seen);
				goto bad;
			}
			off++;		/* DW_CHILDREN_yes/no */
			for (;;) {
				if (!uleb(d, data->d_size, &off, &at) || !uleb(d, data->d_size, &off, &form) ||
				    ((at || form) && (form == DW_FORM_indirect || !form ||
						      (form > 0x2c && form != DW_FORM_GNU_addr_index &&
						       form != DW_FORM_GNU_str_index))) ||
				    (form == DW_FORM_implicit_const && !uleb(d, data->d_size, &off, &v))) {
					strmap_free(seen);
					goto bad;
				}
				if (!at && !form)
					break;
			}
		}
		strmap_free(seen);
		continue;
bad:
		*why = xasprintf("section .debug_abbrev: entry near 0x%llx is damaged", (unsigned long long)off);
		for (size_t i = 0; i < keys.n; i++)
			free(keys.v[i]);
		VEC_FREE(&keys);
		return false;
	}
	for (size_t i = 0; i < keys.n; i++)
		free(keys.v[i]);
	VEC_FREE(&keys);
	return true;
}

static bool find_debug(const struct image *img, struct dbgfile *f, bool *own)
{
	const unsigned char *id;
	size_t idlen;
	const char *name;
	uint32_t crc;
	char *dir, *slash, *path;
	const char *where[3];
	int i;
	bool found = false;

	*own = false;
	if (img->opts.debug_file && try_debug_file(img, img->opts.debug_file, NULL, false, f))
		return true;
	if (has_debug_info(img->elf)) {
		*own = true;
		return true;
	}
	elf_build_id(img->elf, &id, &idlen);
	if (id && idlen >= 2) {
		char *h = hex(id, idlen);

		path = h ? xasprintf("%s/.build-id/%.2s/%s.debug", debug_dir(), h, h + 2) : NULL;
		found = path && try_debug_file(img, path, NULL, true, f);
		free(path);
		free(h);
		if (found)
			return true;
	}
	if (!debuglink(img, &name, &crc))
		return false;
	dir = xstrdup(img->path);
	if (!dir)
		return false;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	where[0] = slash ? dir : ".";
	where[1] = ".debug";
	where[2] = debug_dir();
	for (i = 0; i < 3 && !found; i++) {
		if (i == 0)
			path = xasprintf("%s/%s", where[0], name);
		else if (i == 1)
			path = xasprintf("%s/.debug/%s", where[0], name);
		else
			path = xasprintf("%s/%s/%s", where[2], where[0], name);
		found = path && try_debug_file(img, path, &crc, true, f);
		free(path);
	}
	free(dir);
	return found;
}

/* ---- symbols ---- */

static uint16_t section_of(const struct image *img, uint64_t addr)
{
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const GElf_Shdr *sh = &img->secs[i].sh;

		if ((sh->sh_flags & SHF_ALLOC) && addr >= sh->sh_addr && addr - sh->sh_addr < sh->sh_size &&
		    !(sh->sh_flags & SHF_TLS))
			return i < SHN_LORESERVE ? i : SHN_ABS;
	}
	return SHN_ABS;
}

static bool loaded(const struct image *img, uint64_t addr)
{
	size_t i;

	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type == PT_LOAD && addr >= ph->p_vaddr && addr - ph->p_vaddr < ph->p_memsz)
			return true;
	}
	return false;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* How many times v is in the sorted array. */
static size_t copies(const uint64_t *a, size_t n, uint64_t v)
{
	size_t lo = 0, hi = n, k;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k < n && a[k] == v; k++)
		;
	return k - lo;
}

/* Adds the names only DWARF knows. The symbol tables can hold hundreds of
 * thousands of names and DWARF usually adds few: the objects are indexed by
 * name (a small map), and the symbols are run through it once. */
static int merge_symbols(struct image *img, const struct dwarf_info *di)
{
	size_t nobj = di->objs.n, nold = img->syms.n, i, j;
	struct strmap *byname = strmap_new(nobj);
	uint64_t *origins = calloc(nobj + 1, sizeof(*origins));
	size_t norigins = 0;
	size_t *next = calloc(nobj + 1, sizeof(*next));	/* same name, earlier object, +1 */
	size_t *old = calloc(nobj + 1, sizeof(*old));	/* old symbol at the same name@addr, +1 */
	bool *added = calloc(nobj + 1, sizeof(*added));
	int err = -1;

	if (!byname || !origins || !next || !old || !added)
		goto out;
	for (i = 0; i < nobj; i++) {
		const char *name = di->objs.v[i].name;

		next[i] = (uintptr_t)strmap_get(byname, name);
		if (strmap_put(byname, name, (void *)(i + 1)))
			goto out;
	}
	for (i = 0; i < nold; i++)
		for (j = (uintptr_t)strmap_get(byname, img->syms.v[i].name); j; j = next[j - 1])
			if (di->objs.v[j - 1].addr == img->syms.v[i].addr)
				old[j - 1] = i + 1;
	/* The abstract instances of the concrete ones, sorted: how many copies
	 * each has decides whether a name may come from DWARF alone. */
	for (i = 0; i < nobj; i++)
		if (di->objs.v[i].concrete)
			origins[norigins++] = di->objs.v[i].origin;
	qsort(origins, norigins, sizeof(*origins), u64_cmp);
	for (i = 0; i < nobj; i++) {
		const struct dobject *o = &di->objs.v[i];
		struct symbol sym = {
			.name = o->name, .addr = o->addr, .size = o->size,
			.type = o->func ? STT_FUNC : STT_OBJECT,
			.bind = o->external ? STB_GLOBAL : STB_LOCAL, .src = SYM_DWARF,
		};
		bool dup = false;

		if (!loaded(img, o->addr) || (o->external && image_symbol(img, o->name)))
			continue;
		/* A static's only copy may be a clone; an external function has
		 * its own copy, which is ambiguous beside clones. */
		if (o->concrete && !old[i] && (!o->external || copies(origins, norigins, o->origin) != 1))
			continue;
		if (old[i]) {
			struct symbol *s = &img->syms.v[old[i] - 1];

			/* strip -g drops STT_FILE: DWARF still knows a static's file. */
			if (s->bind == STB_LOCAL && !s->file && !o->external)
				s->file = o->file;
			continue;
		}
		for (j = next[i]; j && !dup; j = next[j - 1])
			dup = added[j - 1] && di->objs.v[j - 1].addr == o->addr;
		if (dup)
			continue;
		added[i] = true;
		sym.file = o->external ? NULL : o->file;
		sym.shndx = section_of(img, o->addr);
		if (VEC_PUSH(&img->syms, sym))
			goto out;
		if (o->external && strmap_put(img->byname, o->name, (void *)(uintptr_t)img->syms.n))
			goto out;
		pr_info("%s: %s %s '%s' at 0x%llx from debug info", img->path, o->external ? "global" : "static",
			o->func ? "function" : "variable", o->name, (unsigned long long)o->addr);
	}
	err = 0;
out:
	strmap_free(byname);
	free(origins);
	free(next);
	free(old);
	free(added);
	return err;
}

/* ---- split DWARF ---- */

static void free_paths(struct ctx *c)
{
	for (size_t i = 0; i < c->dwo_refs.n; i++)
		free(c->dwo_refs.v[i].path);
	VEC_FREE(&c->dwo_refs);
}

/* Opens a split object or package, tied to the program for addresses
 * (.debug_addr is in the program). 0, or -1 with a warning given. */
static int open_dwo(struct ctx *c, const char *path, Dwarf_Debug main, struct dwo *w)
{
	char *why = NULL;

	struct stat st;

	/* The name comes from the debug info: a FIFO or a device there must not
	 * block or feed us for ever. */
	*w = (struct dwo){ .fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) };
	if (w->fd < 0) {
		pr_warn(path, "cannot open split debug info: %s; its declarations are left out", strerror(errno));
		return -1;
	}
	if (fstat(w->fd, &st) || !S_ISREG(st.st_mode)) {
		pr_warn(path, "split debug info is not a regular file; its declarations are left out");
		close(w->fd);
		return -1;
	}
	w->elf = elf_begin(w->fd, ELF_C_READ_MMAP, NULL);
	if (!w->elf || elf_kind(w->elf) != ELF_K_ELF || gelf_getclass(w->elf) != ELFCLASS64 ||
	    !list_headers_sound(w->elf, &why) || !abbrev_sound(w->elf, &why) ||
	    dwarf_elf_init_b(w->elf, DW_DLC_READ, DW_GROUPNUMBER_DWO, NULL, NULL, &w->dbg, &c->err) != DW_DLV_OK ||
	    dwarf_set_tied_dbg(w->dbg, main, &c->err) != DW_DLV_OK) {
		pr_warn(path, "unusable split debug info (%s); its declarations are left out",
			why ? why : c->err ? dwarf_errmsg(c->err) : "not an x86-64 ELF object");
		free(why);
		if (c->err)
			dwarf_dealloc(main, c->err, DW_DLA_ERROR);
		c->err = NULL;
		if (w->dbg) {
			Dwarf_Error e = NULL;

			dwarf_finish(w->dbg, &e);
		}
		if (w->elf)
			elf_end(w->elf);
		close(w->fd);
		return -1;
	}
	return 0;
}

/* Each skeleton unit's split object (FILE.dwo), read like the program's own
 * units; or, when they are gone, the package dwp made of them, beside the
 * debug info as PROGRAM.dwp (where gdb looks). One that is missing or
 * unusable is a warning: the others still declare what they hold. */
static int read_dwos(struct ctx *c)
{
	Dwarf_Debug main = c->dbg;
	bool missing = false;
	char *dwp;
	struct stat st;
	int r = 0;

	for (size_t i = 0; i < c->dwo_refs.n; i++)
		if (stat(c->dwo_refs.v[i].path, &st))
			missing = true;
	dwp = missing ? xasprintf("%s.dwp", c->path) : NULL;
	if (dwp && !stat(dwp, &st)) {
		struct dwo w;

		if (VEC_GROW(&c->p->dwos)) {
			free(dwp);
			return -1;
		}
		if (!open_dwo(c, dwp, main, &w)) {
			c->p->dwos.v[c->p->dwos.n++] = w;
			c->dbg = w.dbg;
			c->file = c->p->dwos.n;
			c->dwp = true;
			r = read_all(c);
			c->dwp = false;
			c->skeleton = NULL;
			c->dbg = main;
		}
		free(dwp);
		return r;
	}
	free(dwp);
	for (size_t i = 0; i < c->dwo_refs.n; i++) {
		struct dwo w;

		if (VEC_GROW(&c->p->dwos))
			return -1;
		if (open_dwo(c, c->dwo_refs.v[i].path, main, &w))
			continue;
		c->p->dwos.v[c->p->dwos.n++] = w;
		c->dbg = w.dbg;
		c->file = c->p->dwos.n;
		c->skeleton = &c->dwo_refs.v[i];
		r = read_all(c);
		c->skeleton = NULL;
		c->dbg = main;
		if (r)
			return -1;
	}
	return 0;
}

/* ---- the whole ---- */

static void priv_free(struct dwpriv *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->dwos.n; i++) {
		Dwarf_Error e = NULL;

		if (p->dwos.v[i].dbg)
			dwarf_finish(p->dwos.v[i].dbg, &e);
		if (p->dwos.v[i].elf)
			elf_end(p->dwos.v[i].elf);
		if (p->dwos.v[i].fd >= 0)
			close(p->dwos.v[i].fd);
	}
	VEC_FREE(&p->dwos);
	if (p->dbg) {
		Dwarf_Error e = NULL;

		dwarf_finish(p->dbg, &e);
	}
	if (p->elf)
		elf_end(p->elf);
	if (p->fd >= 0)
		close(p->fd);
	for (i = 0; i < p->alltypes.n; i++) {
		VEC_FREE(&p->alltypes.v[i]->members);
		VEC_FREE(&p->alltypes.v[i]->enumerators);
		free(p->alltypes.v[i]);
	}
	VEC_FREE(&p->alltypes);
	for (i = 0; i < p->strs.n; i++)
		free(p->strs.v[i]);
	VEC_FREE(&p->strs);
	VEC_FREE(&p->lines);
	strmap_free(p->types);
	free(p);
}

void dwarf_info_free(struct dwarf_info *di)
{
	if (!di)
		return;
	priv_free(di->priv);
	VEC_FREE(&di->objs);
	free(di->path);
	free(di);
}

int image_load_dwarf(struct image *img)
{
	struct dbgfile f = { .fd = -1 };
	struct dwarf_info *di = NULL;
	struct dwpriv *p = NULL;
	struct ctx c = { 0 };
	bool own;
	int r;

	if (img->opts.no_dwarf)
		return 0;
	if (!img->elf || !find_debug(img, &f, &own)) {
		if (verbose > 1)
			pr_info("%s: no debug info", img->path);
		return 0;
	}
	di = zalloc(sizeof(*di));
	p = zalloc(sizeof(*p));
	if (!di || !p)
		goto oom;
	di->priv = p;
	p->fd = -1;
	di->path = xstrdup(own ? img->path : f.path);
	p->types = strmap_new(256);
	if (!di->path || !p->types)
		goto oom;
	if (!own) {
		p->elf = f.elf;
		p->fd = f.fd;
		f.elf = NULL;
		f.fd = -1;
	}
	c.img = img;
	c.path = di->path;
	c.di = di;
	c.p = p;
	if (!list_headers_sound(own ? img->elf : p->elf, &c.msg) || !abbrev_sound(own ? img->elf : p->elf, &c.msg))
		goto bad;
	r = dwarf_elf_init_b(own ? img->elf : p->elf, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &p->dbg, &c.err);
	if (r != DW_DLV_OK) {
		if (r == DW_DLV_ERROR)
			fail(&c, "opening");
		p->dbg = NULL;
		if (c.msg)
			goto bad;
		goto none;
	}
	c.dbg = p->dbg;
	/* libdwarf can loop for ever on some damaged input: a budget of 10 s
	 * plus one per MB of the file, after which the caller carries on
	 * without debug info (cli/main.c). */
	if (watchdog)
		watchdog(10 + (unsigned)(img->size >> 20), di->path, img->opts.dwarf_failure != NULL);
	r = read_all(&c) ?: read_dwos(&c);
	if (watchdog)
		watchdog(0, NULL, false);
	if (r)
		goto bad;
	if (merge_symbols(img, di))
		goto oom;
	pr_info("%s: debug info from %s%s: %zu functions and variables", img->path, di->path,
		p->dwos.n ? " and its split objects" : "", di->objs.n);
	free_paths(&c);
	dbgfile_close(&f);
	img->dwarf = di;
	return 0;
bad:
	if (c.msg)
		dw_warn(img, di->path, "unusable debug info (%s); carrying on without it", c.msg);
none:
	free_paths(&c);
	free(c.msg);
	dbgfile_close(&f);
	dwarf_info_free(di);
	return 0;
oom:
	free_paths(&c);
	free(c.msg);
	dbgfile_close(&f);
	dwarf_info_free(di);
	return -1;
}

/* ---- lines ---- */

static int line_cmp(const void *a, const void *b)
{
	const struct dline *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (int)y->end - (int)x->end;	/* an end before a start at the same address */
}

static void load_lines(struct dwpriv *p)
{
	Dwarf_Error err = NULL;

	p->lines_loaded = true;
	for (;;) {
		Dwarf_Unsigned next = 0, ver = 0;
		Dwarf_Small count = 0;
		Dwarf_Line_Context ctx = NULL;
		Dwarf_Line *lines = NULL;
		Dwarf_Signed n = 0, i;
		Dwarf_Die cu = NULL;
		int r = dwarf_next_cu_header_d(p->dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &next,
					       NULL, &err);

		if (r != DW_DLV_OK)
			break;
		if (dwarf_siblingof_b(p->dbg, NULL, 1, &cu, &err) != DW_DLV_OK)
			break;
		r = dwarf_srclines_b(cu, &ver, &count, &ctx, &err);
		dwarf_dealloc_die(cu);
		if (r == DW_DLV_ERROR)
			break;
		if (r != DW_DLV_OK)
			continue;
		if (dwarf_srclines_from_linecontext(ctx, &lines, &n, &err) == DW_DLV_OK) {
			for (i = 0; i < n; i++) {
				Dwarf_Addr a = 0;
				Dwarf_Unsigned ln = 0;
				Dwarf_Bool end = 0;
				char *src = NULL;
				struct dline l;

				if (dwarf_lineaddr(lines[i], &a, &err) != DW_DLV_OK ||
				    dwarf_lineno(lines[i], &ln, &err) != DW_DLV_OK ||
				    dwarf_lineendsequence(lines[i], &end, &err) != DW_DLV_OK)
					break;
				l = (struct dline){ .addr = a, .line = ln, .end = end };
				if (!end && dwarf_linesrc(lines[i], &src, &err) == DW_DLV_OK) {
					char *copy = xstrdup(src);

					dwarf_dealloc(p->dbg, src, DW_DLA_STRING);
					if (!copy || VEC_PUSH(&p->strs, copy)) {
						free(copy);
						break;
					}
					l.file = copy;
				}
				if (VEC_PUSH(&p->lines, l))
					break;
			}
		}
		dwarf_srclines_dealloc_b(ctx);
		if (err)
			break;
	}
	if (err)
		dwarf_dealloc(p->dbg, err, DW_DLA_ERROR);
	if (p->lines.n)
		qsort(p->lines.v, p->lines.n, sizeof(*p->lines.v), line_cmp);
}

bool image_line_for_addr(const struct image *img, uint64_t addr, const char **file, unsigned *line)
{
	struct dwpriv *p;
	size_t lo = 0, hi;

	if (!img->dwarf || !(p = img->dwarf->priv) || !p->dbg)
		return false;
	if (!p->lines_loaded)
		load_lines(p);
	/* The last row at or below addr. */
	hi = p->lines.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->lines.v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || p->lines.v[lo - 1].end || !p->lines.v[lo - 1].file)
		return false;
	*file = p->lines.v[lo - 1].file;
	*line = p->lines.v[lo - 1].line;
	return true;
}

/* ---- thread-local variables' block offsets ---- */

static unsigned uleb_size(uint64_t v)
{
	unsigned n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* A variable whose location is its block offset for the thread's TLS
 * block: DW_OP_const8u (or const4u) OFFSET, DW_OP_form_tls_address (or
 * GNU's push_tls_address). Where the operand sits in .debug_info. */
static int tls_operand(Dwarf_Debug dbg, Dwarf_Die die, dwarf_tls_ops *out)
{
	Dwarf_Attribute a;
	Dwarf_Error err = NULL;
	Dwarf_Half form = 0;
	Dwarf_Unsigned len = 0;
	Dwarf_Ptr ptr = NULL;
	Dwarf_Block *blk = NULL;
	Dwarf_Off off = 0;
	unsigned hdr = 0, width = 0;
	const unsigned char *b;
	int r = 0;

	if (dwarf_attr(die, DW_AT_location, &a, &err) != DW_DLV_OK)
		return 0;
	if (dwarf_whatform(a, &form, &err) == DW_DLV_OK) {
		if (form == DW_FORM_exprloc && dwarf_formexprloc(a, &len, &ptr, &err) == DW_DLV_OK) {
			hdr = uleb_size(len);
		} else if ((form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
			    form == DW_FORM_block) && dwarf_formblock(a, &blk, &err) == DW_DLV_OK) {
			len = blk->bl_len;
			ptr = blk->bl_data;
			hdr = form == DW_FORM_block1 ? 1 : form == DW_FORM_block2 ? 2 : form == DW_FORM_block4 ? 4 :
			      uleb_size(len);
		}
	}
	b = ptr;
	if (b && len == 10 && b[0] == DW_OP_const8u && (b[9] == DW_OP_GNU_push_tls_address || b[9] == DW_OP_form_tls_address))
		width = 8;
	if (b && len == 6 && b[0] == DW_OP_const4u && (b[5] == DW_OP_GNU_push_tls_address || b[5] == DW_OP_form_tls_address))
		width = 4;
	if (width && dwarf_attr_offset(die, a, &off, &err) == DW_DLV_OK) {
		struct dwarf_tls_op op = { .off = off + hdr + 1, .width = width };

		r = VEC_PUSH(out, op);
	}
	if (blk)
		dwarf_dealloc(dbg, blk, DW_DLA_BLOCK);
	if (err)
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
	dwarf_dealloc_attribute(a);
	return r;
}

/* Every DIE below this one (file-scope and function-scope statics alike). */
static int tls_walk(Dwarf_Debug dbg, Dwarf_Die die, int depth, dwarf_tls_ops *out)
{
	Dwarf_Error err = NULL;
	Dwarf_Die ch = NULL, next = NULL;
	Dwarf_Half tag = 0;
	int r;

	if (dwarf_tag(die, &tag, &err) != DW_DLV_OK)
		return 1;
	if (tag == DW_TAG_variable && tls_operand(dbg, die, out))
		return -1;
	if (depth > 64)
		return 0;
	r = dwarf_child(die, &ch, &err);
	while (r == DW_DLV_OK) {
		int w = tls_walk(dbg, ch, depth + 1, out);

		if (w) {
			dwarf_dealloc_die(ch);
			return w;
		}
		r = dwarf_siblingof_b(dbg, ch, 1, &next, &err);
		dwarf_dealloc_die(ch);
		ch = next;
	}
	if (r == DW_DLV_ERROR) {
		dwarf_dealloc(dbg, err, DW_DLA_ERROR);
		return 1;
	}
	return 0;
}

int dwarf_tls_operands(const struct image *img, dwarf_tls_ops *out)
{
	const struct dwarf_info *di = img->dwarf;
	const struct dwpriv *p = di ? di->priv : NULL;
	Dwarf_Error err = NULL;
	int r = 0;

	/* Only the program's own debug info goes into the output. */
	if (!p || !p->dbg || p->elf || strcmp(di->path, img->path))
		return 0;
	while (!r) {
		Dwarf_Unsigned next = 0;
		Dwarf_Die cu = NULL;
		int n = dwarf_next_cu_header_d(p->dbg, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &next, NULL,
					       &err);

		if (n != DW_DLV_OK)
			break;
		if (dwarf_siblingof_b(p->dbg, NULL, 1, &cu, &err) != DW_DLV_OK)
			continue;
		r = tls_walk(p->dbg, cu, 0, out);
		dwarf_dealloc_die(cu);
	}
	if (err)
		dwarf_dealloc(p->dbg, err, DW_DLA_ERROR);
	if (r > 0)
		dw_warn(img, img->path, "its debug info could not be read whole: gdb may show some of its thread-local "
			"variables at their old offsets");
	return r < 0 ? -1 : 0;
}

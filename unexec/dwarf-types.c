/* C types as DWARF describes them, read on demand and kept by DIE offset
 * (and file, for split DWARF): types refer to themselves through pointers. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPE_DEPTH 512

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

struct dtype *dw_unknown(struct ctx *c, uint64_t off, const char *why)
{
	struct dtype *t = new_type(c, DK_UNKNOWN, off);

	if (t)
		t->why = why;
	return t;
}

static const char *decl_file(struct ctx *c, Dwarf_Die die)
{
	uint64_t idx;

	if (dw_attr_udata(c, die, DW_AT_decl_file, &idx) <= 0)
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
		return dw_fail(c, "reading members");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;
		struct dmember m = { 0 };
		Dwarf_Off toff;
		uint64_t v;
		int has;

		if (dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK)
			goto err;
		if (tag == DW_TAG_member || tag == DW_TAG_formal_parameter) {
			if (dw_die_name(c, ch, &m.name))
				goto err_quiet;
			has = dw_attr_ref(c, ch, DW_AT_type, &toff);
			if (has < 0)
				goto err_quiet;
			m.type = has ? dw_get_type(c, toff, depth + 1) : dw_unknown(c, 0, "a member without a type");
			if (!m.type)
				goto err_quiet;
			if (dw_attr_udata(c, ch, DW_AT_data_member_location, &v) > 0)
				m.offset = v;
			else if (dw_attr_udata(c, ch, DW_AT_data_bit_offset, &v) > 0)
				m.offset = v / 8;
			if (dw_attr_udata(c, ch, DW_AT_bit_size, &v) > 0)
				m.bit_size = v;
			if (c->msg || VEC_PUSH(&t->members, m))
				goto err_quiet;
		} else if (tag == DW_TAG_unspecified_parameters) {
			t->varargs = true;
		} else if (tag == DW_TAG_enumerator) {
			struct denumerator e = { 0 };

			if (dw_die_name(c, ch, &e.name) || dw_attr_sdata(c, ch, DW_AT_const_value, &e.value, &e.is_unsigned) < 0)
				goto err_quiet;
			if (e.name && VEC_PUSH(&t->enumerators, e))
				goto err_quiet;
		}
		r = dwarf_siblingof_b(c->dbg, ch, 1, &next, &c->err);
		dwarf_dealloc_die(ch);
		ch = next;
		if (r == DW_DLV_ERROR)
			return dw_fail(c, "reading members");
	}
	return 0;
err:
	dw_fail(c, "reading members");
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

	r = dw_attr_ref(c, die, DW_AT_type, &toff);
	if (r < 0)
		return -1;
	elem = r ? dw_get_type(c, toff, depth + 1) : dw_unknown(c, t->off, "an array without an element type");
	if (!elem)
		return -1;
	r = dwarf_child(die, &ch, &c->err);
	if (r == DW_DLV_ERROR)
		return dw_fail(c, "reading an array");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;
		struct dtype *d = VEC_GROW(&dims) ? NULL : dims.n ? new_type(c, DK_ARRAY, t->off) : t;
		uint64_t v;

		if (!d || dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK) {
			if (d)
				dw_fail(c, "reading an array");
			dwarf_dealloc_die(ch);
			VEC_FREE(&dims);
			return -1;
		}
		if (tag == DW_TAG_subrange_type) {
			if (dw_attr_udata(c, ch, DW_AT_count, &v) > 0) {
				d->count = v;
				d->has_count = true;
			} else if (dw_attr_udata(c, ch, DW_AT_upper_bound, &v) > 0 && v != UINT64_MAX) {
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
			return dw_fail(c, "reading an array");
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

	if (dw_die_name(c, die, &t->name))
		return -1;
	if (dw_attr_udata(c, die, DW_AT_byte_size, &v) > 0)
		t->size = v;
	if (c->msg)
		return -1;
	switch (tag) {
	case DW_TAG_base_type:
		t->kind = DK_BASE;
		if (dw_attr_udata(c, die, DW_AT_encoding, &v) > 0)
			t->encoding = v;
		if (!t->name)
			return t->kind = DK_UNKNOWN, t->why = "a base type without a name", 0;
		return c->msg ? -1 : 0;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		t->kind = tag == DW_TAG_structure_type ? DK_STRUCT : tag == DW_TAG_union_type ? DK_UNION : DK_ENUM;
		if (dw_attr_flag(c, die, DW_AT_declaration, &flag) < 0)
			return -1;
		t->declaration = flag;
		t->decl_file = decl_file(c, die);
		return flag ? 0 : read_members(c, die, t, depth);
	case DW_TAG_array_type:
		t->kind = DK_ARRAY;
		if (dw_attr_flag(c, die, DW_AT_GNU_vector, &flag) < 0)
			return -1;
		if (flag)
			return t->kind = DK_UNKNOWN, t->why = "a vector type", 0;
		return read_array(c, die, t, depth);
	case DW_TAG_subroutine_type:
	case DW_TAG_subprogram:
		t->kind = DK_FUNC;
		t->name = NULL;
		if (dw_attr_flag(c, die, DW_AT_prototyped, &flag) < 0)
			return -1;
		t->prototyped = flag;
		r = dw_attr_ref(c, die, DW_AT_type, &toff);
		if (r < 0 || (r && !(t->target = dw_get_type(c, toff, depth + 1))))
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
	r = dw_attr_ref(c, die, DW_AT_type, &toff);
	if (r < 0 || (r && !(t->target = dw_get_type(c, toff, depth + 1))))
		return -1;
	if (t->kind == DK_POINTER && !t->size)
		t->size = 8;
	return 0;
}

struct dtype *dw_get_type(struct ctx *c, Dwarf_Off off, int depth)
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
		return dw_unknown(c, off, "a type nested too deeply");
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
	if (dw_offdie(c, off, &die))
		return NULL;
	if (dwarf_tag(die, &tag, &c->err) != DW_DLV_OK) {
		dw_fail(c, "reading a type");
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

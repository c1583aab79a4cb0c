/* The functions and variables the debug info defines, unit by unit, with
 * their addresses and types; and the names among them that no symbol
 * table has, which join the image's symbols. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

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
	int r = dw_attr_get(c, die, DW_AT_location, &a);

	if (r <= 0)
		return r;
	r = 0;
	if (dwarf_whatform(a, &form, &c->err) != DW_DLV_OK) {
		r = dw_fail(c, "reading a location");
	} else if (form == DW_FORM_exprloc) {
		if (dwarf_formexprloc(a, &len, &ptr, &c->err) != DW_DLV_OK)
			r = dw_fail(c, "reading a location");
	} else if (form == DW_FORM_block1 || form == DW_FORM_block2 || form == DW_FORM_block4 ||
		   form == DW_FORM_block) {
		if (dwarf_formblock(a, &blk, &c->err) != DW_DLV_OK) {
			r = dw_fail(c, "reading a location");
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

		if (dw_uleb(b, len, &pos, &idx) && pos == len) {
			if (dwarf_debug_addr_index_to_addr(die, idx, &a0, &c->err) == DW_DLV_OK) {
				*addr = a0;
				r = 1;
			} else {
				r = dw_fail(c, "reading an indexed address");
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

		if (!*name && dw_die_name(c, die, name))
			goto err;
		if (dw_attr_flag(c, die, DW_AT_external, &ext) < 0)
			goto err;
		*external |= ext;
		if (!*has_type) {
			r = dw_attr_ref(c, die, DW_AT_type, type);
			if (r < 0)
				goto err;
			*has_type = r;
		}
		r = dw_attr_ref(c, die, DW_AT_abstract_origin, &next);
		if (r < 0)
			goto err;
		if (!r && !have_proto) {
			if (dwarf_dieoffset(die, proto, &c->err) != DW_DLV_OK) {
				dw_fail(c, "reading a DIE offset");
				goto err;
			}
			have_proto = true;
		}
		if (!r)
			r = dw_attr_ref(c, die, DW_AT_specification, &next);
		if (r < 0)
			goto err;
		if (s)
			dwarf_dealloc_die(s);
		s = NULL;
		if (!r)
			break;
		if (dw_offdie(c, next, &s))
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

static int read_object(struct ctx *c, Dwarf_Die die, Dwarf_Half tag)
{
	struct dobject o = { .cu = c->cu_name, .func = tag == DW_TAG_subprogram };
	Dwarf_Off toff = 0, proto = 0, origin = 0;
	bool has_type, decl = false;
	uint64_t v = 0;
	int r;

	if (dw_attr_flag(c, die, DW_AT_declaration, &decl) < 0)
		return -1;
	if (decl)
		return 0;
	r = dw_attr_ref(c, die, DW_AT_abstract_origin, &origin);
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
			return dw_fail(c, "reading a function's address");
		if (r == DW_DLV_NO_ENTRY || !lo)
			return 0;	/* an abstract instance, or code that was dropped */
		r = dwarf_highpc_b(die, &hi, &form, &cls, &c->err);
		if (r == DW_DLV_ERROR)
			return dw_fail(c, "reading a function's end");
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
		o.type = proto ? dw_get_type(c, proto, 0) : dw_unknown(c, 0, "a function known only by its inlined copies");
		/* A definition naming its declaration may leave the result type
		 * to it: the function DIE's own type says void. */
		if (o.type && o.type->kind == DK_FUNC && !o.type->target && has_type &&
		    !(o.type->target = dw_get_type(c, toff, 0)))
			return -1;
	} else {
		o.type = has_type ? dw_get_type(c, toff, 0) : dw_unknown(c, 0, "a variable without a type");
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

static int read_cu(struct ctx *c, Dwarf_Die cu)
{
	Dwarf_Die ch = NULL, next;
	bool skeleton;
	int r;

	if (dw_note_dwo(c, cu, &skeleton))
		return -1;
	if (skeleton)
		return 0;	/* its functions and types are in the split object */
	if (c->dwp) {
		uint64_t id = c->dwo_id;

		if (!id && dw_attr_udata(c, cu, DW_AT_GNU_dwo_id, &id) < 0)
			return -1;
		c->skeleton = NULL;
		for (size_t i = 0; i < c->dwo_refs.n && !c->skeleton; i++)
			if (c->dwo_refs.v[i].dwo_id == id)
				c->skeleton = &c->dwo_refs.v[i];
	}
	if (dw_die_name(c, cu, &c->cu_name))
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
		return dw_fail(c, "reading a compilation unit");
	while (r == DW_DLV_OK) {
		Dwarf_Half tag = 0;

		if (dwarf_tag(ch, &tag, &c->err) != DW_DLV_OK) {
			dw_fail(c, "reading a compilation unit");
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
			return dw_fail(c, "reading a compilation unit");
	}
	return 0;
}

int dw_read_all(struct ctx *c)
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
			return dw_fail(c, "reading a compilation unit header");
		c->version = ver;
		memcpy(&c->dwo_id, &sig, 8);
		r = dwarf_siblingof_b(c->dbg, NULL, 1, &cu, &c->err);
		if (r == DW_DLV_ERROR)
			return dw_fail(c, "reading a compilation unit");
		if (r == DW_DLV_NO_ENTRY)
			continue;
		r = read_cu(c, cu);
		dwarf_dealloc_die(cu);
		if (r)
			return -1;
	}
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
int dw_merge_symbols(struct image *img, const struct dwarf_info *di)
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

/* surgeon headers: C declarations of the program's functions and variables,
 * with every type they need, from its DWARF, so that new code compiles
 * against the old program's real types. Sizes and member offsets become
 * _Static_asserts: a header that disagrees with the program does not compile. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <dwarf.h>

#include "cli/cli.h"
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

enum { OPT_STATIC = OPT_FIRST_VERB, OPT_DEBUG };

static const struct option headers_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "static", required_argument, NULL, OPT_STATIC },
	{ "debug-file", required_argument, NULL, OPT_DEBUG },
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char headers_help[] =
	"usage: surgeon headers APP [-o APP.h] [--static NAME]... [--debug-file FILE]\n"
	"\n"
	"Write C declarations of APP's global functions and variables, and of every\n"
	"struct, union, enum and typedef they use, from APP's debug info. Sizes and\n"
	"member offsets are checked at compile time with _Static_assert.\n"
	"\n"
	"  -o, --output FILE    the header (default: standard output)\n"
	"      --static NAME    also declare the static function or variable NAME\n"
	"                       (or FILE:NAME) under the name new code links to\n"
	"      --debug-file F   APP's separate debug info (default: found through its\n"
	"                       build-id or .gnu_debuglink)\n";

/* dtype.mark: emission state in the low bits, the generation of the last
 * expressibility walk above them. */
enum { M_DONE = 1, M_BUSY = 2, M_WANT = 4, M_REG = 8, M_GEN_SHIFT = 4 };
#define MAX_DEPTH 256

struct hw {
	const struct image *img;
	FILE *f;
	struct strmap *canon;		/* "s name" -> the type that defines it */
	struct strmap *conflict;	/* keys defined differently by two units */
	struct strmap *incseen;
	VEC(char *) keys;
	VEC(char *) includes;
	VEC(struct dtype *) want;	/* named structs and unions, in discovery order */
	int gen;
	int failed;
};

static bool named_kind(const struct dtype *t)
{
	return t && t->name && (t->kind == DK_STRUCT || t->kind == DK_UNION || t->kind == DK_ENUM ||
				t->kind == DK_TYPEDEF);
}

static char *type_key(const struct dtype *t)
{
	static const char tag[] = { [DK_STRUCT] = 's', [DK_UNION] = 'u', [DK_ENUM] = 'e', [DK_TYPEDEF] = 't' };

	return xasprintf("%c %s", tag[t->kind], t->name);
}

static struct dtype *canon(struct hw *w, const struct dtype *t)
{
	struct dtype *c;
	char *k;

	if (!named_kind(t))
		return (struct dtype *)t;
	k = type_key(t);
	c = k ? strmap_get(w->canon, k) : NULL;
	free(k);
	return c ? c : (struct dtype *)t;
}

static bool conflicted(struct hw *w, const struct dtype *t)
{
	char *k = type_key(t);
	bool r = k && strmap_get(w->conflict, k);

	free(k);
	return r;
}

/* The header a system type comes from, or NULL for the program's own types.
 * glibc's bits/ headers may not be included directly: map the common ones. */
static const char *system_header(const struct dtype *t)
{
	static const char *const bits[][2] = {
		{ "bits/types/FILE.h", "stdio.h" }, { "bits/types/struct_FILE.h", "stdio.h" },
		{ "bits/types/__FILE.h", "stdio.h" }, { "bits/types/__fpos_t.h", "stdio.h" },
		{ "bits/stdint-intn.h", "stdint.h" }, { "bits/stdint-uintn.h", "stdint.h" },
		{ "bits/stdint-least.h", "stdint.h" }, { "bits/types.h", "sys/types.h" },
		{ "bits/types/time_t.h", "time.h" }, { "bits/types/clock_t.h", "time.h" },
		{ "bits/types/struct_timespec.h", "time.h" }, { "bits/types/struct_tm.h", "time.h" },
		{ "bits/types/struct_timeval.h", "sys/time.h" }, { "bits/types/sigset_t.h", "signal.h" },
		{ "bits/types/__sigset_t.h", "signal.h" }, { "bits/pthreadtypes.h", "pthread.h" },
		{ "bits/thread-shared-types.h", "pthread.h" }, { "bits/struct_mutex.h", "pthread.h" },
		{ "bits/types/struct_iovec.h", "sys/uio.h" }, { "bits/struct_stat.h", "sys/stat.h" },
		{ "bits/types/__mbstate_t.h", "wchar.h" }, { "bits/types/mbstate_t.h", "wchar.h" },
		{ "bits/setjmp.h", "setjmp.h" }, { "bits/types/struct___jmp_buf_tag.h", "setjmp.h" },
		{ "bits/types/locale_t.h", "locale.h" }, { "bits/types/__locale_t.h", "locale.h" },
		{ "bits/types/error_t.h", "errno.h" }, { "bits/dirent.h", "dirent.h" },
	};
	const char *f = t->decl_file, *inc;
	size_t i;

	/* /usr/include, gcc's own, and a cross libc's (/usr/aarch64-linux-gnu/include). */
	if (!f || (strncmp(f, "/usr/include/", 13) && !((strstr(f, "/lib/gcc/") || strstr(f, "/lib/gcc-cross/")) && strstr(f, "/include/")) &&
		   !(!strncmp(f, "/usr/", 5) && strstr(f, "-linux-gnu/include/"))))
		return NULL;
	inc = strstr(f, "/include/") + 9;
	/* Debian's multiarch directory (x86_64-linux-gnu/bits/...). */
	{
		const char *slash = strchr(inc, '/');

		if (slash && slash - inc > 10 && !strncmp(slash - 10, "-linux-gnu", 10))
			inc = slash + 1;
	}
	if (strncmp(inc, "bits/", 5) && strncmp(inc, "sys/", 4) && strchr(inc, '/') && strncmp(inc, "linux/", 6) &&
	    strncmp(inc, "asm/", 4) && strncmp(inc, "netinet/", 8) && strncmp(inc, "arpa/", 5))
		return NULL;
	if (strncmp(inc, "bits/", 5))
		return inc;
	for (i = 0; i < sizeof(bits) / sizeof(*bits); i++)
		if (!strcmp(inc, bits[i][0]))
			return bits[i][1];
	return NULL;	/* an unknown bits/ header: define the type ourselves */
}

/* Pass 1: one defining type per name. */
static void register_types(struct hw *w, const struct dtype *t, int depth)
{
	size_t i;

	if (!t || depth > MAX_DEPTH || (t->mark & M_REG))
		return;
	((struct dtype *)t)->mark |= M_REG;
	if (named_kind(t)) {
		char *k = type_key(t);
		struct dtype *old = k ? strmap_get(w->canon, k) : NULL;

		if (!k || VEC_PUSH(&w->keys, k)) {
			free(k);
			w->failed = 1;
			return;
		}
		if (!old || (old->declaration && !t->declaration))
			strmap_put(w->canon, k, (void *)t);
		else if (!t->declaration && (old->size != t->size || old->kind != t->kind ||
					     old->members.n != t->members.n))
			strmap_put(w->conflict, k, (void *)1);
		if (system_header(t))
			return;
	}
	register_types(w, t->target, depth + 1);
	for (i = 0; i < t->members.n; i++)
		register_types(w, t->members.v[i].type, depth + 1);
}

/* Can C say this type? `why` names the first thing it cannot. */
static bool expressible(struct hw *w, const struct dtype *t, const char **why, int depth)
{
	size_t i;

	if (!t)
		return true;
	if (depth > MAX_DEPTH)
		return *why = "a type nested too deeply", false;
	if (named_kind(t)) {
		if (conflicted(w, t))
			return *why = "a type two compilation units define differently", false;
		t = canon(w, t);
		if (system_header(t))
			return true;
	}
	if ((t->mark >> M_GEN_SHIFT) == w->gen)
		return true;	/* being checked, or checked in this walk */
	((struct dtype *)t)->mark = (t->mark & ((1 << M_GEN_SHIFT) - 1)) | (w->gen << M_GEN_SHIFT);
	if (t->kind == DK_UNKNOWN)
		return *why = t->why ? t->why : "an unknown type", false;
	if (t->kind == DK_BASE && !strcmp(t->name, "__unknown__"))
		return *why = "an unknown base type", false;
	if (!expressible(w, t->target, why, depth + 1))
		return false;
	for (i = 0; i < t->members.n; i++)
		if (!expressible(w, t->members.v[i].type, why, depth + 1))
			return false;
	return true;
}

static char *base_name(const struct dtype *t)
{
	if (!strncmp(t->name, "complex ", 8))
		return xasprintf("_Complex %s", t->name + 8);
	if (!strcmp(t->name, "__int128 unsigned"))
		return xstrdup("unsigned __int128");
	return xstrdup(t->name);
}

static char *decl(struct hw *w, const struct dtype *t, const char *inner, int indent, int depth);

static char *join(const char *spec, const char *inner)
{
	return xasprintf("%s%s%s", spec, *inner && *inner != '[' ? " " : "", inner);
}

static void tabs(FILE *f, int n)
{
	while (n-- > 0)
		fputc('\t', f);
}

/* "{ ... }" of a struct, union or enum, members indented one level deeper. */
static char *body(struct hw *w, const struct dtype *t, int indent, int depth)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("{\n", f);
	if (t->kind == DK_ENUM) {
		for (i = 0; i < t->enumerators.n; i++) {
			const struct denumerator *e = &t->enumerators.v[i];

			tabs(f, indent + 1);
			if (e->is_unsigned)
				fprintf(f, "%s = %lluu,\n", e->name, (unsigned long long)e->value);
			else
				fprintf(f, "%s = %lld,\n", e->name, (long long)e->value);
		}
	}
	for (i = 0; t->kind != DK_ENUM && i < t->members.n; i++) {
		const struct dmember *m = &t->members.v[i];
		char *d = decl(w, m->type, m->name ? m->name : "", indent + 1, depth + 1);

		if (!d) {
			w->failed = 1;
			break;
		}
		tabs(f, indent + 1);
		if (m->bit_size)
			fprintf(f, "%s : %llu;\n", d, (unsigned long long)m->bit_size);
		else
			fprintf(f, "%s;\n", d);
		free(d);
	}
	tabs(f, indent);
	fputc('}', f);
	fclose(f);
	return buf;
}

static const char *kind_word(enum dtype_kind k)
{
	return k == DK_STRUCT ? "struct" : k == DK_UNION ? "union" : "enum";
}

static char *params(struct hw *w, const struct dtype *t, int indent, int depth)
{
	char *s = xstrdup(""), *n;
	size_t i;

	if (!t->prototyped)
		return s;
	if (!t->members.n) {
		free(s);
		return xstrdup(t->varargs ? "" : "void");	/* "(...)" alone is not C11 */
	}
	for (i = 0; s && i < t->members.n; i++) {
		char *p = decl(w, t->members.v[i].type, "", indent, depth + 1);

		n = p ? xasprintf("%s%s%s", s, i ? ", " : "", p) : NULL;
		free(p);
		free(s);
		s = n;
	}
	if (s && t->varargs) {
		n = xasprintf("%s, ...", s);
		free(s);
		s = n;
	}
	return s;
}

/* The declaration of `inner` with type t, the way C spells it inside out. */
static char *decl(struct hw *w, const struct dtype *t, const char *inner, int indent, int depth)
{
	char *s = NULL, *in = NULL, *spec;

	if (depth > MAX_DEPTH)
		return NULL;
	t = canon(w, t);
	if (!t || t->kind == DK_VOID)
		return join("void", inner);
	switch (t->kind) {
	case DK_BASE:
		spec = base_name(t);
		s = spec ? join(spec, inner) : NULL;
		free(spec);
		return s;
	case DK_TYPEDEF:
		return join(t->name, inner);
	case DK_STRUCT:
	case DK_UNION:
	case DK_ENUM:
		if (t->name) {
			spec = xasprintf("%s %s", kind_word(t->kind), t->name);
		} else {
			char *b = body(w, t, indent, depth);

			spec = b ? xasprintf("%s %s", kind_word(t->kind), b) : NULL;
			free(b);
		}
		s = spec ? join(spec, inner) : NULL;
		free(spec);
		return s;
	case DK_POINTER: {
		const struct dtype *to = canon(w, t->target);

		in = to && (to->kind == DK_ARRAY || to->kind == DK_FUNC) ? xasprintf("(*%s)", inner) :
		     xasprintf("*%s", inner);
		s = in ? decl(w, t->target, in, indent, depth + 1) : NULL;
		free(in);
		return s;
	}
	case DK_CONST:
	case DK_VOLATILE:
	case DK_RESTRICT:
	case DK_ATOMIC: {
		const char *q = t->kind == DK_CONST ? "const" : t->kind == DK_VOLATILE ? "volatile" :
				t->kind == DK_RESTRICT ? "restrict" : "_Atomic";
		const struct dtype *to = canon(w, t->target);

		if (to && to->kind == DK_POINTER) {
			in = xasprintf("%s%s%s", q, *inner ? " " : "", inner);
			s = in ? decl(w, to, in, indent, depth + 1) : NULL;
			free(in);
			return s;
		}
		if (to && to->kind == DK_ARRAY) {
			/* A qualified array is an array of qualified elements. */
			struct dtype arr = *to, elem = { .kind = t->kind, .target = to->target };
			const struct dtype *e = canon(w, to->target);

			arr.target = e && e->kind == t->kind ? to->target : &elem;
			return decl(w, &arr, inner, indent, depth + 1);
		}
		spec = decl(w, t->target, inner, indent, depth + 1);
		s = spec ? xasprintf("%s %s", q, spec) : NULL;
		free(spec);
		return s;
	}
	case DK_ARRAY:
		in = t->has_count ? xasprintf("%s[%llu]", inner, (unsigned long long)t->count) :
		     xasprintf("%s[]", inner);
		s = in ? decl(w, t->target, in, indent, depth + 1) : NULL;
		free(in);
		return s;
	case DK_FUNC:
		spec = params(w, t, indent, depth);
		in = spec ? xasprintf("%s(%s)", inner, spec) : NULL;
		free(spec);
		s = in ? decl(w, t->target, in, indent, depth + 1) : NULL;
		free(in);
		return s;
	default:
		return NULL;
	}
}

static void want_include(struct hw *w, const char *h)
{
	char *copy;

	if (strmap_get(w->incseen, h))
		return;
	copy = xstrdup(h);
	if (!copy || VEC_PUSH(&w->includes, copy) || strmap_put(w->incseen, copy, (void *)1))
		w->failed = 1;
}

static void emit_def(struct hw *w, struct dtype *t, int depth);
static void dep_decl(struct hw *w, const struct dtype *t, int depth);

/* What must come before a use of t that needs its size. */
static void dep_complete(struct hw *w, const struct dtype *t, int depth)
{
	size_t i;

	t = canon(w, t);
	if (!t || depth > MAX_DEPTH)
		return;
	if (named_kind(t) && system_header(t)) {
		want_include(w, system_header(t));
		return;
	}
	switch (t->kind) {
	case DK_TYPEDEF:
		emit_def(w, (struct dtype *)t, depth + 1);
		dep_complete(w, t->target, depth + 1);
		return;
	case DK_STRUCT: case DK_UNION: case DK_ENUM:
		if (t->name) {
			emit_def(w, (struct dtype *)t, depth + 1);
			return;
		}
		for (i = 0; i < t->members.n; i++)
			dep_complete(w, t->members.v[i].type, depth + 1);
		return;
	case DK_POINTER: case DK_FUNC:
		dep_decl(w, t, depth + 1);
		return;
	case DK_CONST: case DK_VOLATILE: case DK_RESTRICT: case DK_ATOMIC: case DK_ARRAY:
		dep_complete(w, t->target, depth + 1);
		return;
	default:
		return;
	}
}

/* What must come before a use of t through a pointer. Named structs and
 * unions are declared ahead of everything; they are defined later. */
static void dep_decl(struct hw *w, const struct dtype *t, int depth)
{
	size_t i;

	t = canon(w, t);
	if (!t || depth > MAX_DEPTH)
		return;
	if (named_kind(t) && system_header(t)) {
		want_include(w, system_header(t));
		return;
	}
	switch (t->kind) {
	case DK_STRUCT: case DK_UNION:
		if (!t->name) {
			dep_complete(w, t, depth + 1);
		} else if (!(t->mark & M_WANT)) {
			((struct dtype *)t)->mark |= M_WANT;
			if (VEC_PUSH(&w->want, (struct dtype *)t))
				w->failed = 1;
		}
		return;
	case DK_ENUM: case DK_TYPEDEF:
		emit_def(w, (struct dtype *)t, depth + 1);
		return;
	case DK_POINTER: case DK_CONST: case DK_VOLATILE: case DK_RESTRICT: case DK_ATOMIC:
		dep_decl(w, t->target, depth + 1);
		return;
	case DK_ARRAY:
		dep_complete(w, t->target, depth + 1);
		return;
	case DK_FUNC:
		dep_decl(w, t->target, depth + 1);
		for (i = 0; i < t->members.n; i++)
			dep_decl(w, t->members.v[i].type, depth + 1);
		return;
	default:
		return;
	}
}

static void static_asserts(struct hw *w, const struct dtype *t, const char *name)
{
	size_t i;

	if (t->declaration)
		return;
	fprintf(w->f, "_Static_assert(sizeof(%s) == %llu, \"%s: size in the program\");\n", name,
		(unsigned long long)t->size, name);
	if (t->kind == DK_ENUM)
		return;
	for (i = 0; i < t->members.n; i++) {
		const struct dmember *m = &t->members.v[i];

		if (!m->name || m->bit_size)
			continue;
		fprintf(w->f, "_Static_assert(__builtin_offsetof(%s, %s) == %llu, \"%s: offset of %s\");\n", name,
			m->name, (unsigned long long)m->offset, name, m->name);
	}
}

/* Defines a named struct, union, enum or typedef, after what it needs. */
static void emit_def(struct hw *w, struct dtype *t, int depth)
{
	const struct dtype *target;
	char *d, *name;
	size_t i;

	t = canon(w, t);
	if (!t || (t->mark & (M_DONE | M_BUSY)) || depth > MAX_DEPTH || system_header(t))
		return;
	t->mark |= M_BUSY;
	if (t->kind == DK_TYPEDEF) {
		target = canon(w, t->target);
		dep_decl(w, t->target, depth + 1);
		d = decl(w, t->target, t->name, 0, 0);
		if (d)
			fprintf(w->f, "typedef %s;\n", d);
		else
			w->failed = 1;
		free(d);
		/* typedef struct { ... } name: its layout is checked under the typedef name. */
		target = dtype_strip(target);
		if (target && !target->name && (target->kind == DK_STRUCT || target->kind == DK_UNION))
			static_asserts(w, target, t->name);
		fputc('\n', w->f);
	} else if (t->declaration) {
		/* Never defined in the program: it stays incomplete. */
	} else {
		for (i = 0; i < t->members.n; i++)
			dep_complete(w, t->members.v[i].type, depth + 1);
		d = body(w, t, 0, 0);
		name = xasprintf("%s %s", kind_word(t->kind), t->name);
		if (d && name) {
			fprintf(w->f, "%s %s;\n", name, d);
			if (t->size)
				static_asserts(w, t, name);
			fputc('\n', w->f);
		} else {
			w->failed = 1;
		}
		free(d);
		free(name);
	}
	t->mark = (t->mark & ~M_BUSY) | M_DONE;
}

/* ---- which objects, under which names ---- */

struct chosen {
	const struct dobject *o;
	char *label;		/* asm label, or NULL for the plain name */
	const char *why;	/* cannot declare it: why */
};

static int chosen_cmp(const void *a, const void *b)
{
	const struct chosen *x = a, *y = b;
	int r = strcmp(x->o->name, y->o->name);

	return r ? r : strcmp(x->o->file ? x->o->file : "", y->o->file ? y->o->file : "");
}

/* How new code names a static: "FILE:NAME" when that pair is unique, the
 * plain name when no other symbol has it (the frozen object's rules). */
static int static_label(const struct image *img, const struct dobject *o, struct chosen *c)
{
	const struct symbol *me = NULL;
	size_t i, pairs = 0, names = 0;

	for (i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];

		if (strcmp(s->name, o->name))
			continue;
		names++;
		if (s->bind == STB_LOCAL && s->addr == o->addr && !me)
			me = s;
	}
	if (!me || !me->file) {
		c->why = "the program has no symbol for it";
		return 0;
	}
	for (i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];

		if (s->bind == STB_LOCAL && s->file && !strcmp(s->name, o->name) && !strcmp(s->file, me->file))
			pairs++;
	}
	if (pairs == 1) {
		c->label = xasprintf("%s:%s", me->file, o->name);
		return c->label ? 0 : -1;
	}
	if (names != 1)
		c->why = "several statics share its name and file";
	return 0;
}

static bool static_wanted(const struct dobject *o, char **statics, size_t n, bool *used)
{
	size_t i;
	bool hit = false;

	for (i = 0; i < n; i++) {
		const char *colon = strrchr(statics[i], ':');

		if (!strcmp(statics[i], o->name) ||
		    (colon && o->file && !strcmp(colon + 1, o->name) &&
		     (size_t)(colon - statics[i]) == strlen(o->file) && !strncmp(statics[i], o->file, colon - statics[i]))) {
			used[i] = true;
			hit = true;
		}
	}
	return hit;
}

static char *guard_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *g, *p;

	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	g = dot && !strcmp(dot, ".h") ? xasprintf("SURGEON_%.*s_H", (int)(dot - base), base) :
	    xasprintf("SURGEON_%s_H", base);
	for (p = g; p && *p; p++)
		*p = isalnum((unsigned char)*p) ? toupper((unsigned char)*p) : '_';
	return g;
}

static int include_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_header(const struct image *img, FILE *f, const char *guard_from, char **statics, size_t nstatics)
{
	const struct dwarf_info *di = img->dwarf;
	struct hw w = { .img = img, .gen = 1 };
	VEC(struct chosen) objs = { 0 };
	char *types = NULL, *guard = NULL;
	size_t tlen = 0, i, j;
	struct strmap *seen = strmap_new(64);	/* external names declared */
	bool *used = zalloc(nstatics + 1);
	FILE *tf = NULL;
	int err = -1;

	w.canon = strmap_new(256);
	w.conflict = strmap_new(16);
	w.incseen = strmap_new(16);
	if (!used || !w.canon || !w.conflict || !w.incseen || !seen)
		goto out;
	/* Global definitions the program exports by name, and the statics asked
	 * for. An optimized program's DWARF may describe one function several
	 * times (out-of-line copies of an inlined function, clones, LTO's units
	 * naming the early ones): the copy at the symbol's address is the
	 * function, declared once. */
	for (i = 0; i < di->objs.n; i++) {
		const struct dobject *o = &di->objs.v[i];
		const struct symbol *s;
		struct chosen c = { .o = o };
		bool want = static_wanted(o, statics, nstatics, used);

		if (o->external) {
			s = image_symbol(img, o->name);
			if (!s || s->addr != o->addr || unexec_reserved_name(o->name) || strmap_get(seen, o->name))
				continue;
			if (strmap_put(seen, o->name, (void *)1))
				goto out;
		} else if (!want) {
			continue;
		} else if (static_label(img, o, &c)) {
			goto out;
		}
		if (VEC_PUSH(&objs, c))
			goto out;
	}
	for (i = 0; i < nstatics; i++)
		if (!used[i]) {
			pr_err(di->path, "no static function or variable '%s' in the debug info", statics[i]);
			goto out;
		}
	if (objs.n)
		qsort(objs.v, objs.n, sizeof(*objs.v), chosen_cmp);
	/* A static described twice (a clone beside its own copy): the copy the
	 * program's symbol names, once. */
	for (i = j = 0; i < objs.n; i++) {
		struct chosen *c = &objs.v[i];
		struct chosen *prev = j ? &objs.v[j - 1] : NULL;

		if (prev && !c->o->external && !prev->o->external && !strcmp(c->o->name, prev->o->name) &&
		    !strcmp(c->o->file ? c->o->file : "", prev->o->file ? prev->o->file : "")) {
			if (prev->why && !c->why) {
				free(prev->label);
				*prev = *c;
			} else {
				free(c->label);
			}
			continue;
		}
		objs.v[j++] = *c;
	}
	objs.n = j;
	for (i = 0; i < objs.n; i++)
		register_types(&w, objs.v[i].o->type, 0);
	for (i = 0; i < objs.n; i++) {
		w.gen++;
		if (!objs.v[i].why && !expressible(&w, objs.v[i].o->type, &objs.v[i].why, 0) && !objs.v[i].why)
			objs.v[i].why = "an unknown type";
	}
	/* Types, into a buffer: the includes they need go first. */
	tf = open_memstream(&types, &tlen);
	if (!tf)
		goto out;
	w.f = tf;
	for (i = 0; i < objs.n; i++)
		if (!objs.v[i].why)
			dep_complete(&w, objs.v[i].o->type, 0);
	for (i = 0; i < w.want.n; i++)
		emit_def(&w, w.want.v[i], 0);
	fclose(tf);
	tf = NULL;
	if (w.failed)
		goto out;

	guard = guard_name(guard_from);
	if (!guard)
		goto out;
	fprintf(f, "/* Generated by surgeon headers from the debug info of %s (%s). */\n", img->path, di->path);
	fprintf(f, "#ifndef %s\n#define %s\n\n", guard, guard);
	if (w.includes.n) {
		qsort(w.includes.v, w.includes.n, sizeof(*w.includes.v), include_cmp);
		for (i = 0; i < w.includes.n; i++)
			fprintf(f, "#include <%s>\n", w.includes.v[i]);
		fputc('\n', f);
	}
	if (w.want.n) {
		for (i = 0; i < w.want.n; i++)
			fprintf(f, "%s %s;\n", kind_word(w.want.v[i]->kind), w.want.v[i]->name);
		fputc('\n', f);
	}
	fputs(types ? types : "", f);
	for (i = 0; i < objs.n; i++) {
		const struct chosen *c = &objs.v[i];
		const struct dtype *st;
		uint64_t size;
		char *d;

		if (c->why) {
			fprintf(f, "/* %s %s%s%s: not declared: %s */\n", c->o->func ? "function" : "variable",
				c->o->external ? "" : c->o->file, c->o->external ? "" : ":", c->o->name, c->why);
			continue;
		}
		d = decl(&w, c->o->type, c->o->name, 0, 0);
		if (!d)
			goto out;
		if (c->label)
			fprintf(f, "extern %s __asm__(\"\\\"%s\\\"\");\n", d, c->label);
		else
			fprintf(f, "extern %s;\n", d);
		free(d);
		st = canon(&w, dtype_strip(c->o->type));
		if (!c->o->func && dtype_size(c->o->type, &size) && size && st &&
		    !((st->kind == DK_STRUCT || st->kind == DK_UNION) && st->declaration))
			fprintf(f, "_Static_assert(sizeof(%s) == %llu, \"%s: size in the program\");\n", c->o->name,
				(unsigned long long)size, c->o->name);
	}
	fprintf(f, "\n#endif /* %s */\n", guard);
	err = 0;
out:
	if (tf)
		fclose(tf);
	free(types);
	free(guard);
	for (i = 0; i < objs.n; i++)
		free(objs.v[i].label);
	VEC_FREE(&objs);
	for (i = 0; i < w.keys.n; i++)
		free(w.keys.v[i]);
	VEC_FREE(&w.keys);
	for (i = 0; i < w.includes.n; i++)
		free(w.includes.v[i]);
	VEC_FREE(&w.includes);
	VEC_FREE(&w.want);
	strmap_free(w.canon);
	strmap_free(w.conflict);
	strmap_free(w.incseen);
	strmap_free(seen);
	free(used);
	return err;
}

int cmd_headers(int argc, char **argv)
{
	VEC(char *) statics = { 0 };
	const char *app = NULL, *output = NULL;
	struct image *img = NULL;
	char *buf = NULL, *failure = NULL;
	struct image_opts io = cli_image_opts();
	size_t len = 0;
	FILE *mem;
	int opt, rc = EXIT_FAIL;

	io.dwarf_failure = &failure;	/* the debug info is what headers needs: its problem is the error */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-o:vh", headers_opts, NULL)) != -1) {
		switch (opt) {
		case 1:
			if (app) {
				rc = usage_error("headers takes one program: surgeon headers APP [-o APP.h]");
				goto done;
			}
			app = optarg;
			break;
		case 'o': output = optarg; break;
		case OPT_STATIC:
			if (VEC_PUSH(&statics, optarg))
				goto done;
			break;
		case OPT_DEBUG: io.debug_file = optarg; break;
		case '?':
			rc = usage_error("unknown option '%s'", argv[optind - 1]);
			goto done;
		default:
			if (!cli_common_opt(opt, headers_help)) {
				rc = usage_error("option '%s' needs an argument", argv[optind - 1]);
				goto done;
			}
		}
	}
	if (!app) {
		rc = usage_error("headers needs a program: surgeon headers APP [-o APP.h]");
		goto done;
	}
	if (image_open(&img, app, &io))
		goto done;
	if (!img->dwarf) {
		if (failure)
			pr_err(app, "no usable debug info: %s", failure);
		else
			pr_err(app, "no usable debug info: build it with -g, or name its debug file with --debug-file");
		goto done;
	}
	mem = open_memstream(&buf, &len);
	if (!mem)
		goto done;
	if (write_header(img, mem, output ? output : app, statics.v, statics.n)) {
		fclose(mem);
		goto done;
	}
	fclose(mem);
	if (output ? write_file(output, buf, len, 0644) : fwrite(buf, 1, len, stdout) != len)
		goto done;
	rc = EXIT_OK;
done:
	free(failure);
	free(buf);
	image_free(img);
	VEC_FREE(&statics);
	return rc;
}

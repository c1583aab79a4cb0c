/* Debug information through libdwarf: the entry point, which finds the
 * debug info, checks it, reads its units and merges what they name into
 * the symbols; and the readers of DIEs' attributes every part uses. The
 * parts are listed in unexec/dwarf-int.h. Nothing here is fatal: unusable
 * debug info is reported once as a warning and the image carries on
 * without it. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A warning about the debug info; when a verb needs it (headers), the first
 * one is kept for that verb's one-line error instead of printed. */
void dw_warn(const struct image *img, const char *file, const char *fmt, ...)
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

int dw_fail(struct ctx *c, const char *what)
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
int dw_attr_get(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Attribute *a)
{
	int r = dwarf_attr(die, at, a, &c->err);

	if (r == DW_DLV_ERROR)
		return dw_fail(c, "reading an attribute");
	return r == DW_DLV_OK;
}

int dw_attr_udata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, uint64_t *val)
{
	Dwarf_Attribute a;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	int r = dw_attr_get(c, die, at, &a);

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

int dw_attr_sdata(struct ctx *c, Dwarf_Die die, Dwarf_Half at, int64_t *val, bool *is_unsigned)
{
	Dwarf_Attribute a;
	Dwarf_Half form = 0;
	Dwarf_Unsigned u;
	Dwarf_Signed s;
	int r = dw_attr_get(c, die, at, &a);

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
		r = dw_fail(c, "reading a constant");
	}
	dwarf_dealloc_attribute(a);
	return r;
}

int dw_attr_flag(struct ctx *c, Dwarf_Die die, Dwarf_Half at, bool *val)
{
	Dwarf_Attribute a;
	Dwarf_Bool b = 0;
	int r = dw_attr_get(c, die, at, &a);

	*val = false;
	if (r <= 0)
		return r;
	if (dwarf_formflag(a, &b, &c->err) != DW_DLV_OK)
		r = dw_fail(c, "reading a flag");
	*val = b;
	dwarf_dealloc_attribute(a);
	return r;
}

int dw_attr_ref(struct ctx *c, Dwarf_Die die, Dwarf_Half at, Dwarf_Off *off)
{
	Dwarf_Attribute a;
	int r = dw_attr_get(c, die, at, &a);

	if (r <= 0)
		return r;
	if (dwarf_global_formref(a, off, &c->err) != DW_DLV_OK)
		r = dw_fail(c, "reading a reference");
	dwarf_dealloc_attribute(a);
	return r;
}

int dw_die_name(struct ctx *c, Dwarf_Die die, const char **name)
{
	char *n = NULL;
	int r = dwarf_diename(die, &n, &c->err);

	*name = NULL;
	if (r == DW_DLV_ERROR)
		return dw_fail(c, "reading a name");
	if (r == DW_DLV_OK && *n)
		*name = n;	/* lives as long as the Dwarf_Debug */
	return 0;
}

int dw_offdie(struct ctx *c, Dwarf_Off off, Dwarf_Die *die)
{
	if (dwarf_offdie_b(c->dbg, off, 1, die, &c->err) != DW_DLV_OK)
		return dw_fail(c, "following a reference");
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
	if (!img->elf || !dw_find_debug(img, &f, &own)) {
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
	if (!dw_sections_sound(own ? img->elf : p->elf, &c.msg))
		goto bad;
	r = dwarf_elf_init_b(own ? img->elf : p->elf, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &p->dbg, &c.err);
	if (r != DW_DLV_OK) {
		if (r == DW_DLV_ERROR)
			dw_fail(&c, "opening");
		p->dbg = NULL;
		if (c.msg)
			goto bad;
		goto none;
	}
	c.dbg = p->dbg;
	/* libdwarf can loop for ever on some damaged input: a budget of 10 s
	 * plus one per MB of the file, after which the caller carries on
	 * without debug info (cli/main.c). */
	dw_watchdog(10 + (unsigned)(img->size >> 20), di->path, img->opts.dwarf_failure != NULL);
	r = dw_read_all(&c) ?: dw_read_dwos(&c);
	dw_watchdog(0, NULL, false);
	if (r)
		goto bad;
	if (dw_merge_symbols(img, di))
		goto oom;
	pr_info("%s: debug info from %s%s: %zu functions and variables", img->path, di->path,
		p->dwos.n ? " and its split objects" : "", di->objs.n);
	dw_free_paths(&c);
	dw_dbgfile_close(&f);
	img->dwarf = di;
	return 0;
bad:
	if (c.msg)
		dw_warn(img, di->path, "unusable debug info (%s); carrying on without it", c.msg);
none:
	dw_free_paths(&c);
	free(c.msg);
	dw_dbgfile_close(&f);
	dwarf_info_free(di);
	return 0;
oom:
	dw_free_paths(&c);
	free(c.msg);
	dw_dbgfile_close(&f);
	dwarf_info_free(di);
	return -1;
}

/* The line table, read whole the first time a line is asked for: only
 * `disasm --lines` asks. */
#include "unexec/dwarf-int.h"

#include <stdlib.h>

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

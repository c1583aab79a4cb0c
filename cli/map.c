/* surgeon info --map FILE [NEW]: the address space drawn as text. One box
 * per loadable segment, on an address axis whose lines stand for a fixed
 * number of bytes, so sizes and gaps are to scale where a line can show
 * them. Segments are marked old or new: by the surgery note's "new-above"
 * addresses with one file, by comparison with ORIG with two, drawn side by
 * side so that an old segment that moved would show at a glance. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "relink/note.h"
#include "relink/payload.h"
#include "unexec/image.h"

enum { ORIGIN_UNKNOWN = -1, ORIGIN_OLD = 0 };	/* k > 0: added by surgery k */
enum status { ST_NONE, ST_KEPT, ST_MOVED, ST_SAME, ST_NEW, ST_CHANGED };
static const char *const status_names[] = { NULL, "kept", "moved", "kept", "new", "changed" };

#define MAX_LINES 24	/* the segments' share of the drawing, at most, where sizes allow */
#define CUT_GAP 3	/* a gap of more lines than this is drawn as one '~' line */
#define BOX 22		/* the label's width inside a box */

struct mseg {
	size_t index;		/* in the program headers */
	uint64_t start, end;	/* [p_vaddr, p_vaddr + p_memsz) */
	uint64_t dstart;	/* where it is drawn from: past an earlier overlapping segment */
	uint64_t off, filesz;
	char perm[4];
	int origin;
	enum status status;
	bool ehdr, phdrs;	/* holds the ELF header / the program header table */
	char contains[96];	/* the other program headers inside it: "INTERP NOTE" */
};

struct mfile {
	const char *path;
	struct image *img;
	struct surgery_history h;
	VEC(struct mseg) segs;	/* by address */
	struct payload pl;
	size_t nold, nnew;
};

/* One stretch of the axis between two segment boundaries. */
struct row {
	uint64_t start, end;
	long seg[2];		/* the segment drawn there in each column, or -1 */
	unsigned lines;
	bool cut;		/* a gap drawn shorter than to scale */
};

typedef VEC(struct row) rowvec;

static int by_start(const void *a, const void *b)
{
	const struct mseg *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void human(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 && v != (uint64_t)v ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static bool within(uint64_t off, uint64_t size, uint64_t start, uint64_t len)
{
	return off >= start && off - start <= len && size <= len - (off - start);
}

static int load_file(struct mfile *f, const char *path)
{
	const struct image *img;
	const unsigned char *note;
	size_t note_size, i, k;
	uint64_t reach;
	bool known = true;
	int err;

	struct image_opts io = cli_image_opts();

	io.light = true;
	f->path = path;
	err = image_open(&f->img, path, &io);
	err = err ?: note_find(f->img, &note, &note_size);
	err = err ?: note_parse(note, note_size, &f->h, f->img->path);
	if (err)
		return -1;
	img = f->img;
	payload_find(img, &f->pl);
	for (i = 0; i < f->h.recs.n; i++)
		known &= f->h.recs.v[i].has_new_above;
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *p = &img->phdrs[i];
		struct mseg s = { .index = i, .start = p->p_vaddr, .off = p->p_offset, .filesz = p->p_filesz };

		if (p->p_type != PT_LOAD)
			continue;
		s.end = p->p_memsz > UINT64_MAX - p->p_vaddr ? UINT64_MAX : p->p_vaddr + p->p_memsz;
		s.perm[0] = p->p_flags & PF_R ? 'R' : '-';
		s.perm[1] = p->p_flags & PF_W ? 'W' : '-';
		s.perm[2] = p->p_flags & PF_X ? 'X' : '-';
		s.ehdr = p->p_offset == 0 && p->p_filesz >= sizeof(Elf64_Ehdr);
		s.phdrs = img->phnum && within(img->eh.e_phoff, img->phnum * (uint64_t)sizeof(Elf64_Phdr), p->p_offset,
					       p->p_filesz);
		/* Each surgery's segments start at or above the end of what it was given. */
		s.origin = known ? ORIGIN_OLD : ORIGIN_UNKNOWN;
		for (k = 0; known && k < f->h.recs.n; k++)
			if (s.start >= f->h.recs.v[k].new_above)
				s.origin = k + 1;
		for (k = 0; k < img->phnum; k++) {
			const GElf_Phdr *q = &img->phdrs[k];
			char tb[32];
			size_t used = strlen(s.contains);

			if (q->p_type == PT_LOAD || q->p_type == PT_NULL || q->p_type == PT_GNU_STACK || !q->p_memsz ||
			    !within(q->p_vaddr, q->p_memsz, s.start, s.end - s.start))
				continue;
			snprintf(s.contains + used, sizeof(s.contains) - used, "%s%s", used ? " " : "",
				 phdr_type_name(q->p_type, tb, sizeof(tb)));
		}
		if (VEC_PUSH(&f->segs, s))
			return -1;
		if (s.origin == ORIGIN_OLD)
			f->nold++;
		else if (s.origin > 0)
			f->nnew++;
	}
	if (f->segs.n)
		qsort(f->segs.v, f->segs.n, sizeof(*f->segs.v), by_start);
	/* Overlapping segments (a damaged file) are drawn from where those
	 * before end; one wholly inside another is not drawn. */
	for (i = 0, reach = 0; i < f->segs.n; i++) {
		struct mseg *s = &f->segs.v[i];

		s->dstart = s->start < reach ? (reach < s->end ? reach : s->end) : s->start;
		if (s->end > reach)
			reach = s->end;
	}
	return 0;
}

static bool same_seg(const struct mseg *a, const struct mseg *b)
{
	return a->start == b->start && a->end == b->end && a->filesz == b->filesz && !strcmp(a->perm, b->perm);
}

/* ORIG's segments are kept or moved; NEW's are kept, new or changed. */
static void compare(struct mfile *o, struct mfile *n)
{
	size_t i, j;

	for (i = 0; i < o->segs.n; i++)
		o->segs.v[i].status = ST_MOVED;
	for (i = 0; i < n->segs.n; i++) {
		struct mseg *s = &n->segs.v[i];
		size_t lo = 0, hi = o->segs.n;

		s->status = ST_NEW;
		while (lo < hi) {	/* the first of ORIG's starting at or after s */
			size_t mid = lo + (hi - lo) / 2;

			if (o->segs.v[mid].start < s->start)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (j = lo; j < o->segs.n && o->segs.v[j].start == s->start; j++)
			if (same_seg(&o->segs.v[j], s) && o->segs.v[j].status == ST_MOVED) {
				o->segs.v[j].status = ST_KEPT;
				s->status = ST_SAME;
				break;
			}
		if (s->status == ST_SAME)
			continue;
		if ((lo && o->segs.v[lo - 1].end > s->start) || (lo < o->segs.n && o->segs.v[lo].start < s->end))
			s->status = ST_CHANGED;
	}
}

/* The rows: every segment boundary of every file, and the stretches between. */
static int make_rows(struct mfile *f, size_t nf, rowvec *rows, uint64_t *unit)
{
	VEC(uint64_t) b = { 0 };
	size_t i, c, k, pos[2] = { 0, 0 }, nb = 0;
	unsigned total;
	int err = -1;

	for (c = 0; c < nf; c++)
		for (i = 0; i < f[c].segs.n; i++)
			if (f[c].segs.v[i].dstart < f[c].segs.v[i].end &&
			    (VEC_PUSH(&b, f[c].segs.v[i].dstart) || VEC_PUSH(&b, f[c].segs.v[i].end)))
				goto out;
	if (b.n)
		qsort(b.v, b.n, sizeof(*b.v), cmp_u64);
	for (i = 0; i < b.n; i++)
		if (!nb || b.v[nb - 1] != b.v[i])
			b.v[nb++] = b.v[i];
	for (i = 0; i + 1 < nb; i++) {
		struct row r = { .start = b.v[i], .end = b.v[i + 1], .seg = { -1, -1 } };

		for (c = 0; c < nf; c++) {
			const struct mseg *s = f[c].segs.v;

			while (pos[c] < f[c].segs.n && (s[pos[c]].end <= r.start || s[pos[c]].dstart == s[pos[c]].end))
				pos[c]++;
			if (pos[c] < f[c].segs.n && s[pos[c]].dstart <= r.start)
				r.seg[c] = pos[c];
		}
		if (VEC_PUSH(rows, r))
			goto out;
	}
	/* The smallest power of two of at least a page per line that fits the
	 * segments in MAX_LINES lines (each gets one at least). */
	for (*unit = 4096;; *unit *= 2) {
		for (total = 0, k = 0; k < rows->n; k++) {
			struct row *r = &rows->v[k];
			uint64_t n = (r->end - r->start) / *unit + ((r->end - r->start) % *unit >= *unit / 2);

			if (r->seg[0] < 0 && r->seg[1] < 0) {
				r->cut = n > CUT_GAP;
				r->lines = r->cut || !n ? 1 : n;
			} else {
				r->lines = n ? (n > 1000 ? 1000 : n) : 1;
				total += r->lines;
			}
		}
		if (total <= MAX_LINES || *unit >= (UINT64_C(1) << 62))
			break;
	}
	err = 0;
out:
	VEC_FREE(&b);
	return err;
}

static void label(const struct mfile *f, const struct mseg *s, bool two, char *buf, size_t len)
{
	char tag[16] = "";

	if (two && s->status == ST_MOVED)
		snprintf(tag, sizeof(tag), " MOVED");
	else if (two && s->status == ST_CHANGED)
		snprintf(tag, sizeof(tag), " CHANGED");
	else if (two && s->status == ST_NEW)
		snprintf(tag, sizeof(tag), " new");
	else if (two && s->status == ST_SAME)
		snprintf(tag, sizeof(tag), " kept");
	else if (!two && s->origin == ORIGIN_OLD && f->h.recs.n)
		snprintf(tag, sizeof(tag), " old");
	else if (!two && s->origin > 0)
		snprintf(tag, sizeof(tag), f->h.recs.n > 1 ? " new %d" : " new", s->origin);
	else if (!two && s->origin == ORIGIN_UNKNOWN)
		snprintf(tag, sizeof(tag), " ?");
	snprintf(buf, len, "%s LOAD %zu%s", s->perm, s->index, tag);
}

/* "ELF header, program headers; INTERP NOTE" */
static void notes(const struct mseg *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", s->ehdr ? "ELF header" : "", s->ehdr && s->phdrs ? ", " : "",
		 s->phdrs ? "program headers" : "", (s->ehdr || s->phdrs) && s->contains[0] ? "; " : "", s->contains);
}

static void print_overlay(FILE *o, const struct mfile *f, bool two)
{
	char sz[32];

	if (!f->img->overlay_size)
		return;
	human(f->img->overlay_size, sz, sizeof(sz));
	fprintf(o, "%s%soverlay: %s at file offset 0x%" PRIx64 ", not loaded (%s", two ? f->path : "", two ? ": " : "",
		sz, f->img->overlay_off, payload_format(&f->pl));
	if (PAYLOAD_HAS_TRAILER(&f->pl))
		fprintf(o, " at 0x%" PRIx64 ", its trailer at 0x%" PRIx64, f->pl.core_off, f->pl.trailer_off);
	fprintf(o, ")\n");
}

static void draw(FILE *o, struct mfile *f, size_t nf, const struct row *rows, size_t nrows, uint64_t unit)
{
	uint64_t top = 0, lo[2], hi[2];
	int aw = 8;
	char us[32], lb[64], nt[512], sz[32];
	size_t c, i, k;
	bool two = nf == 2;

	for (c = 0; c < nf; c++)
		for (i = 0; i < f[c].segs.n; i++)
			if (f[c].segs.v[i].end > top)
				top = f[c].segs.v[i].end;
	while (aw < 16 && top >> (4 * aw))
		aw++;
	/* Each file's extent: a gap is its gap only between its segments. */
	for (c = 0; c < nf; c++) {
		lo[c] = UINT64_MAX, hi[c] = 0;
		for (i = 0; i < f[c].segs.n; i++) {
			if (f[c].segs.v[i].dstart < lo[c])
				lo[c] = f[c].segs.v[i].dstart;
			if (f[c].segs.v[i].end > hi[c])
				hi[c] = f[c].segs.v[i].end;
		}
	}
	human(unit, us, sizeof(us));
	if (two) {
		size_t kept = 0, moved = 0, added = 0, changed = 0;

		for (i = 0; i < f[0].segs.n; i++)
			kept += f[0].segs.v[i].status == ST_KEPT, moved += f[0].segs.v[i].status == ST_MOVED;
		for (i = 0; i < f[1].segs.n; i++)
			added += f[1].segs.v[i].status == ST_NEW, changed += f[1].segs.v[i].status == ST_CHANGED;
		if (!moved)
			fprintf(o, "%s -> %s: all %zu LOAD segments of %s are in %s at their addresses, with their sizes and "
			       "permissions; %zu new\n", f[0].path, f[1].path, kept, f[0].path, f[1].path, added);
		else
			fprintf(o, "%s -> %s: %zu of the %zu LOAD segments of %s are NOT in %s as they were (MOVED); %zu kept, "
			       "%zu new, %zu changed\n", f[0].path, f[1].path, moved, f[0].segs.n, f[0].path, f[1].path,
			       kept, added, changed);
	} else {
		fprintf(o, "%s: %s, %s; %zu LOAD segment%s", f->path, f->img->eh.e_type == ET_EXEC ? "ET_EXEC" : "ET_DYN",
		       f->img->pie ? "position-independent" : "fixed addresses", f->segs.n, f->segs.n == 1 ? "" : "s");
		if (!f->h.recs.n)
			fprintf(o, ", no surgery recorded\n");
		else if (f->segs.n && f->nold + f->nnew == f->segs.n)
			fprintf(o, ": %zu old, %zu added by %zu surger%s\n", f->nold, f->nnew, f->h.recs.n,
			       f->h.recs.n == 1 ? "y" : "ies");
		else
			fprintf(o, ", %zu surger%s recorded, by a surgeon that did not note where it put new segments ('?')\n",
			       f->h.recs.n, f->h.recs.n == 1 ? "y" : "ies");
	}
	fprintf(o, "one line = %s; a segment or gap smaller than a line gets one; ~ marks a gap cut short\n\n", us);
	fprintf(o, "%*s", aw + 3, "");
	for (c = 0; c < nf; c++)
		fprintf(o, " %-*.*s %s", BOX + 2, BOX + 2, f[c].path, c + 1 < nf ? " " : "\n");

	for (k = 0; k < nrows; k++) {
		const struct row *r = &rows[k];
		const struct row *prev = k ? &rows[k - 1] : NULL;
		bool gap = r->seg[0] < 0 && (!two || r->seg[1] < 0);

		/* The border at r->start. */
		fprintf(o, "0x%0*" PRIx64 " ", aw, r->start);
		for (c = 0; c < nf; c++) {
			long s = r->seg[c], p = prev ? prev->seg[c] : -1;

			if (s >= 0 || p >= 0)
				fprintf(o, s >= 0 && s == p ? "|%*s|" : "+%.*s+", BOX + 2, s >= 0 && s == p ? "" :
				       "--------------------------------");
			else
				fprintf(o, "%*s", BOX + 4, "");
			fprintf(o, c + 1 < nf ? " " : "");
		}
		fprintf(o, "\n");
		for (unsigned l = 0; l < r->lines; l++) {
			fprintf(o, "%*s", aw + 3, "");
			nt[0] = 0;
			for (c = 0; c < nf; c++) {
				long s = r->seg[c];

				if (s < 0 && gap && l == 0 && r->start >= lo[c] && r->end <= hi[c]) {
					char g[48];

					human(r->end - r->start, sz, sizeof(sz));
					snprintf(g, sizeof(g), r->cut ? "~~ gap %s ~~" : "gap %s", sz);
					fprintf(o, "  %-*s  ", BOX, g);
				} else if (s < 0) {
					fprintf(o, "%*s", BOX + 4, "");
				} else if (l == 0 && (!prev || prev->seg[c] != s)) {
					const struct mseg *m = &f[c].segs.v[s];

					label(&f[c], m, two, lb, sizeof(lb));
					fprintf(o, "| %-*.*s |", BOX, BOX, lb);
					if (c + 1 == nf) {
						char n2[128];

						human(m->end - m->start, sz, sizeof(sz));
						notes(m, n2, sizeof(n2));
						snprintf(nt, sizeof(nt), "%s%s%s", sz, n2[0] ? "  " : "", n2);
					}
				} else {
					fprintf(o, "|%*s|", BOX + 2, "");
				}
				fprintf(o, c + 1 < nf ? " " : "");
			}
			fprintf(o, "%s%s\n", nt[0] ? " " : "", nt);
		}
	}
	if (nrows) {
		const struct row *r = &rows[nrows - 1];

		fprintf(o, "0x%0*" PRIx64 " ", aw, r->end);
		for (c = 0; c < nf; c++)
			fprintf(o, r->seg[c] >= 0 ? "+%.*s+%s" : "%*s%s", r->seg[c] >= 0 ? BOX + 2 : BOX + 4,
			       r->seg[c] >= 0 ? "--------------------------------" : "", c + 1 < nf ? " " : "");
		fprintf(o, "\n");
	}
	for (c = 0; c < nf; c++)
		print_overlay(o, &f[c], two);
}

/* The drawing, without the spaces that pad its lines at their ends. */
static int print_text(struct mfile *f, size_t nf, const struct row *rows, size_t nrows, uint64_t unit)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	if (!o)
		return pr_err(NULL, "%m");
	draw(o, f, nf, rows, nrows, unit);
	if (fclose(o)) {
		free(buf);
		return pr_err(NULL, "%m");
	}
	for (line = buf; line < buf + len; line = nl + 1) {
		size_t n;

		nl = memchr(line, '\n', buf + len - line);
		if (!nl)
			nl = buf + len;
		for (n = nl - line; n && line[n - 1] == ' '; n--)
			;
		printf("%.*s\n", (int)n, line);
	}
	free(buf);
	return 0;
}

static void print_json(struct mfile *f, size_t nf, uint64_t unit)
{
	uint64_t reach;
	size_t c, i;
	bool any;

	printf("{\n  \"unit\": %" PRIu64 ",\n", unit);
	if (nf == 2) {
		bool moved = false;

		for (i = 0; i < f[0].segs.n; i++)
			moved |= f[0].segs.v[i].status == ST_MOVED;
		printf("  \"old_kept\": %s,\n", moved ? "false" : "true");
	}
	printf("  \"files\": [");
	for (c = 0; c < nf; c++) {
		const struct mfile *m = &f[c];

		printf("%s\n    {\"file\": ", c ? "," : "");
		json_str(stdout, m->path);
		printf(", \"type\": \"%s\", \"pie\": %s, \"surgeries\": %zu,\n     \"segments\": [",
		       m->img->eh.e_type == ET_EXEC ? "ET_EXEC" : "ET_DYN", m->img->pie ? "true" : "false", m->h.recs.n);
		for (i = 0; i < m->segs.n; i++) {
			const struct mseg *s = &m->segs.v[i];
			const char *sp = s->contains;

			printf("%s\n       {\"index\": %zu, \"vaddr\": %" PRIu64 ", \"end\": %" PRIu64 ", \"offset\": %" PRIu64
			       ", \"filesz\": %" PRIu64 ", \"flags\": \"%s\", \"origin\": ", i ? "," : "", s->index, s->start,
			       s->end, s->off, s->filesz, s->perm);
			if (s->origin == ORIGIN_UNKNOWN)
				printf("null, \"surgery\": null");
			else
				printf("\"%s\", \"surgery\": ", s->origin ? "new" : "old"),
				printf(s->origin ? "%d" : "null", s->origin);
			printf(", \"status\": ");
			json_str(stdout, status_names[s->status]);
			printf(", \"ehdr\": %s, \"phdrs\": %s, \"contains\": [", s->ehdr ? "true" : "false",
			       s->phdrs ? "true" : "false");
			for (bool first = true; *sp; first = false) {
				size_t n = strcspn(sp, " ");

				printf("%s\"%.*s\"", first ? "" : ", ", (int)n, sp);
				sp += n + (sp[n] == ' ');
			}
			printf("]}");
		}
		printf("%s],\n     \"gaps\": [", m->segs.n ? "\n     " : "");
		for (i = 0, reach = 0, any = false; i < m->segs.n; i++) {
			if (i && reach < m->segs.v[i].start) {
				printf("%s{\"start\": %" PRIu64 ", \"end\": %" PRIu64 "}", any ? ", " : "", reach,
				       m->segs.v[i].start);
				any = true;
			}
			if (m->segs.v[i].end > reach)
				reach = m->segs.v[i].end;
		}
		printf("],\n     \"overlay\": ");
		if (m->img->overlay_size) {
			printf("{\"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"format\": ", m->img->overlay_off,
			       m->img->overlay_size);
			json_str(stdout, payload_format(&m->pl));
			if (PAYLOAD_HAS_TRAILER(&m->pl))
				printf(", \"core\": %" PRIu64 ", \"trailer\": %" PRIu64, m->pl.core_off, m->pl.trailer_off);
			printf("}}");
		} else {
			printf("null}");
		}
	}
	printf("\n  ]\n}\n");
}

int info_map(char **paths, int n, bool json)
{
	struct mfile f[2] = { 0 };
	rowvec rows = { 0 };
	uint64_t unit = 4096;
	int c, rc = EXIT_FAIL;

	for (c = 0; c < n; c++)
		if (load_file(&f[c], paths[c]))
			goto out;
	if (n == 2)
		compare(&f[0], &f[1]);
	if (make_rows(f, n, &rows, &unit))
		goto out;
	if (json)
		print_json(f, n, unit);
	else if (print_text(f, n, rows.v, rows.n, unit))
		goto out;
	rc = EXIT_OK;
out:
	for (c = 0; c < 2; c++) {
		VEC_FREE(&f[c].segs);
		note_history_free(&f[c].h);
		image_free(f[c].img);
	}
	VEC_FREE(&rows);
	return rc;
}

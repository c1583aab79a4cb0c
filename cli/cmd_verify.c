/* surgeon verify ORIG NEW: prove that NEW keeps every byte ORIG loads at its
 * address, but for the edits NEW's surgery note records. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "disasm/symindex.h"
#include "relink/note.h"
#include "relink/verify.h"

enum { OPT_JSON = OPT_FIRST_VERB };

static const struct option verify_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char verify_help[] =
	"usage: surgeon verify ORIG NEW [--json]\n"
	"\n"
	"Prove a surgery: every byte of every loadable segment of ORIG (its file\n"
	"bytes, then zeros up to its memory size) is loaded unchanged at the same\n"
	"address by NEW, except the edits recorded in NEW's surgery note by the\n"
	"surgeries done after ORIG. Without a note no change is allowed.\n"
	"Each changed range no edit explains is listed with the ORIG symbol that\n"
	"contains it. Exit status: 0 proved, 1 not proved (or an error).\n"
	"\n"
	"  --json   print the result as one JSON object\n";

/* "main+0x1c"; bytes outside every section by what holds them. */
static void addr_name(const struct image *img, const struct symindex *ix, uint64_t addr, char *buf, size_t len)
{
	uint64_t ph = img->delta_first + img->eh.e_phoff, phend = ph + img->phnum * sizeof(Elf64_Phdr);

	if (symindex_in_image(ix, addr) || addr < img->delta_first)
		symindex_name(ix, addr, buf, len);
	else if (addr - img->delta_first < sizeof(Elf64_Ehdr))
		snprintf(buf, len, "ELF header+0x%" PRIx64, addr - img->delta_first);
	else if (addr >= ph && addr < phend)
		snprintf(buf, len, "program headers+0x%" PRIx64, addr - ph);
	else
		symindex_name(ix, addr, buf, len);
}

/* The surgeries NEW's history adds to ORIG's; their edits are the allowed ones. */
static int allowed_edits(int ofd, const char *orig_path, const struct surgery_history *nh, size_t *first,
			 edit_vec *edits, const char *new_path)
{
	struct surgery_history oh = { 0 };
	size_t i, j;
	int err;

	err = note_read_fd(ofd, orig_path, &oh);
	if (err)
		goto out;
	if (oh.recs.n > nh->recs.n) {
		err = pr_err(new_path, "records %zu surger%s but %s records %zu: it was not made from it",
			     nh->recs.n, nh->recs.n == 1 ? "y" : "ies", orig_path, oh.recs.n);
		goto out;
	}
	for (i = 0; i < oh.recs.n; i++) {
		const struct surgery_record *a = &oh.recs.v[i], *b = &nh->recs.v[i];

		if (strcmp(a->verb, b->verb) || a->inputs.n != b->inputs.n ||
		    (a->inputs.n && memcmp(a->inputs.v[0].sha256, b->inputs.v[0].sha256, SHA256_LEN))) {
			err = pr_err(new_path, "surgery %zu differs from %s's: it was not made from it",
				     i + 1, orig_path);
			goto out;
		}
	}
	*first = oh.recs.n;
	for (i = oh.recs.n; i < nh->recs.n; i++)
		for (j = 0; j < nh->recs.v[i].edits.n; j++)
			if (VEC_PUSH(edits, nh->recs.v[i].edits.v[j])) {
				err = -1;
				goto out;
			}
out:
	note_history_free(&oh);
	return err;
}

static void print_json(const char *orig_path, const struct image *orig, const char *new_path, const struct surgery_history *nh,
		       size_t first, const edit_vec *edits, const struct verify_report *r,
		       const struct verify_detail *d, const struct symindex *ix)
{
	char where[300];
	size_t i;

	printf("{\n  \"orig\": ");
	json_str(stdout, orig_path);
	printf(",\n  \"new\": ");
	json_str(stdout, new_path);
	printf(",\n  \"proved\": %s,\n  \"segments\": %" PRIu64 ",\n  \"compared\": %" PRIu64
	       ",\n  \"differing\": %" PRIu64 ",\n  \"unexplained_bytes\": %" PRIu64
	       ",\n  \"surgeries\": %zu,\n  \"surgeries_checked\": %zu,\n  \"edits\": [",
	       r->bad ? "false" : "true", d->segments, r->compared, r->differing, d->bad_bytes,
	       nh->recs.n, nh->recs.n - first);
	for (i = 0; i < edits->n; i++) {
		addr_name(orig, ix, edits->v[i].addr, where, sizeof(where));
		printf("%s\n    {\"addr\": %" PRIu64 ", \"size\": %" PRIu64 ", \"changed\": %" PRIu64 ", \"symbol\": ",
		       i ? "," : "", edits->v[i].addr, edits->v[i].size, d->edit_bytes ? d->edit_bytes[i] : 0);
		json_str(stdout, where);
		printf(", \"reason\": ");
		json_str(stdout, edits->v[i].reason);
		printf("}");
	}
	printf("%s],\n  \"unexplained_ranges\": %" PRIu64 ",\n  \"unexplained\": [", edits->n ? "\n  " : "", d->nbad);
	for (i = 0; i < d->bad.n; i++) {
		addr_name(orig, ix, d->bad.v[i].addr, where, sizeof(where));
		printf("%s\n    {\"addr\": %" PRIu64 ", \"size\": %" PRIu64 ", \"symbol\": ", i ? "," : "",
		       d->bad.v[i].addr, d->bad.v[i].size);
		json_str(stdout, where);
		printf("}");
	}
	printf("%s]\n}\n", d->bad.n ? "\n  " : "");
}

static void print_text(const char *orig_path, const struct image *orig, const char *new_path, const struct surgery_history *nh,
		       size_t first, const edit_vec *edits, const struct verify_report *r,
		       const struct verify_detail *d, const struct symindex *ix)
{
	char where[300];
	size_t i;

	for (i = 0; i < d->bad.n; i++) {
		addr_name(orig, ix, d->bad.v[i].addr, where, sizeof(where));
		printf("changed 0x%" PRIx64 "-0x%" PRIx64 " %s: %" PRIu64 " byte%s, no recorded edit\n",
		       d->bad.v[i].addr, d->bad.v[i].addr + d->bad.v[i].size, where, d->bad.v[i].size,
		       d->bad.v[i].size == 1 ? "" : "s");
	}
	if (d->nbad > d->bad.n)
		printf("... and %" PRIu64 " more changed ranges\n", d->nbad - d->bad.n);
	for (i = 0; verbose && i < edits->n; i++) {
		addr_name(orig, ix, edits->v[i].addr, where, sizeof(where));
		printf("edit 0x%" PRIx64 "-0x%" PRIx64 " %s: %s (%" PRIu64 " bytes changed)\n", edits->v[i].addr,
		       edits->v[i].addr + edits->v[i].size, where, edits->v[i].reason, d->edit_bytes[i]);
	}
	if (r->bad)
		printf("NOT PROVED: %" PRIu64 " changed byte%s in %" PRIu64 " range%s of %s's loaded image are not explained by the %zu recorded edit%s\n",
		       d->bad_bytes, d->bad_bytes == 1 ? "" : "s", d->nbad, d->nbad == 1 ? "" : "s", orig_path,
		       edits->n, edits->n == 1 ? "" : "s");
	else
		printf("proved: the %" PRIu64 " bytes %s loads (%" PRIu64 " segment%s) are at their addresses in %s; %" PRIu64
		       " byte%s changed, all by the %zu recorded edit%s of %zu surger%s\n",
		       r->compared, orig_path, d->segments, d->segments == 1 ? "" : "s", new_path, r->differing,
		       r->differing == 1 ? "" : "s", edits->n, edits->n == 1 ? "" : "s", nh->recs.n - first,
		       nh->recs.n - first == 1 ? "y" : "ies");
}

int cmd_verify(int argc, char **argv)
{
	struct surgery_history nh = { 0 };
	struct verify_detail d = { 0 };
	struct verify_report r;
	struct symindex *ix = NULL;
	struct image *orig = NULL;
	edit_vec edits = { 0 };
	const char *orig_path, *new_path;
	bool json = false;
	size_t first = 0;
	int opt, ofd = -1, fd = -1, rc = EXIT_FAIL;
	struct image_opts io = cli_image_opts(), light = io;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", verify_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: json = true; break;
		case '?':
			return usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if (!cli_common_opt(opt, verify_help))
				return usage_error("option '%s' needs an argument", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return usage_error("verify takes two files: surgeon verify ORIG NEW [--json]");
	orig_path = argv[optind];
	new_path = argv[optind + 1];

	ofd = open(orig_path, O_RDONLY | O_CLOEXEC);
	if (ofd < 0) {
		pr_err(orig_path, "%m");
		goto out;
	}
	fd = open(new_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err(new_path, "%m");
		goto out;
	}
	light.light = true;
	/* Both files are checked like every verb checks its input (headers,
	 * tables, strings), without the names that cost more than comparing. */
	if (image_open(&orig, orig_path, &light))
		goto out;
	image_free(orig);
	orig = NULL;
	{
		struct image *nimg = NULL;

		if (image_open(&nimg, new_path, &light))
			goto out;
		image_free(nimg);
	}
	/* The allowed edits, then the comparison: program headers and bytes only. */
	if (note_read_fd(fd, new_path, &nh) || allowed_edits(ofd, orig_path, &nh, &first, &edits, new_path) ||
	    verify_files(ofd, orig_path, fd, new_path, &edits, &r, &d))
		goto out;
	/* Names, only when there is something to name: reading the symbols of a
	 * large program costs more than comparing it. */
	if (d.bad.n || (edits.n && (verbose || json))) {
		if (image_open(&orig, orig_path, &io) || symindex_new(&ix, orig))
			goto out;
	}
	if (json)
		print_json(orig_path, orig, new_path, &nh, first, &edits, &r, &d, ix);
	else
		print_text(orig_path, orig, new_path, &nh, first, &edits, &r, &d, ix);
	rc = r.bad ? EXIT_FAIL : EXIT_OK;
out:
	if (ofd >= 0)
		close(ofd);
	if (fd >= 0)
		close(fd);
	symindex_free(ix);
	verify_detail_free(&d);
	VEC_FREE(&edits);
	note_history_free(&nh);
	image_free(orig);
	return rc;
}

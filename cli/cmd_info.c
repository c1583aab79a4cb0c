/* surgeon info FILE: what kind of program it is, how it loads, what it
 * names, and what surgeries were done to it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "live/live.h"
#include "relink/note.h"
#include "relink/payload.h"
#include "unexec/image.h"

enum { OPT_JSON = OPT_FIRST_VERB, OPT_MAP, OPT_PID };

static const struct option info_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "map", no_argument, NULL, OPT_MAP },
	{ "pid", required_argument, NULL, OPT_PID },
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char info_help[] =
	"usage: surgeon info FILE [--json]\n"
	"       surgeon info --map FILE [NEW] [--json]\n"
	"       surgeon info --pid PID [--json]\n"
	"\n"
	"Describe the executable FILE: ELF type, PIE or not, static or dynamic,\n"
	"interpreter, entry point, program headers, the overlay (bytes after\n"
	"everything the headers describe) and the payload format found in it\n"
	"(an SBCL core and its trailer), symbol counts, and the history of\n"
	"surgeries recorded in its .note.surgeon section.\n"
	"\n"
	"  --json   print one JSON object (addresses and sizes as numbers)\n"
	"  --map    draw FILE's address space: each loadable segment with its\n"
	"           permissions, old or added by a surgery, the segment holding\n"
	"           the program headers, the gaps and the overlay, to scale where\n"
	"           a line can show it; with NEW, the original FILE and the\n"
	"           output NEW side by side, each NEW segment kept, new or changed\n"
	"  --pid PID  what 'surgeon inject' put into the running process PID: each\n"
	"           injection's state, where its code is, its inputs with their\n"
	"           SHA-256, its edits of old bytes and the names it defines\n";

const char *phdr_type_name(uint32_t t, char *buf, size_t len)
{
	switch (t) {
	case PT_NULL: return "NULL";
	case PT_LOAD: return "LOAD";
	case PT_DYNAMIC: return "DYNAMIC";
	case PT_INTERP: return "INTERP";
	case PT_NOTE: return "NOTE";
	case PT_SHLIB: return "SHLIB";
	case PT_PHDR: return "PHDR";
	case PT_TLS: return "TLS";
	case PT_GNU_EH_FRAME: return "GNU_EH_FRAME";
	case PT_GNU_STACK: return "GNU_STACK";
	case PT_GNU_RELRO: return "GNU_RELRO";
	case PT_GNU_PROPERTY: return "GNU_PROPERTY";
	default:
		snprintf(buf, len, "0x%" PRIx32, t);
		return buf;
	}
}

static void flags_str(uint32_t f, char out[4])
{
	out[0] = f & PF_R ? 'R' : '-';
	out[1] = f & PF_W ? 'W' : '-';
	out[2] = f & PF_X ? 'X' : '-';
	out[3] = 0;
}

struct counts {
	uint64_t symtab, dynsym;	/* entries in the tables, as readelf counts them */
	uint64_t plt, iplt;		/* import stubs named */
	uint64_t named;			/* symbols the image model knows */
};

static void count(const struct image *img, struct counts *c)
{
	memset(c, 0, sizeof(*c));
	if (img->symtab_idx >= 0)
		c->symtab = img->secs[img->symtab_idx].sh.sh_size / sizeof(Elf64_Sym);
	if (img->dynsym_idx >= 0)
		c->dynsym = img->secs[img->dynsym_idx].sh.sh_size / sizeof(Elf64_Sym);
	for (size_t i = 0; i < img->syms.n; i++) {
		c->plt += img->syms.v[i].src == SYM_PLT;
		c->iplt += img->syms.v[i].src == SYM_IPLT;
	}
	c->named = img->syms.n;
}

static void json_record(const struct surgery_record *r)
{
	size_t i;

	printf("{\"tool\": ");
	json_str(stdout, r->version);
	printf(", \"verb\": ");
	json_str(stdout, r->verb);
	printf(", \"inputs\": [");
	for (i = 0; i < r->inputs.n; i++) {
		printf("%s{\"path\": ", i ? ", " : "");
		json_str(stdout, r->inputs.v[i].path);
		printf(", \"size\": %" PRIu64 ", \"sha256\": \"", r->inputs.v[i].size);
		for (int k = 0; k < SHA256_LEN; k++)
			printf("%02x", r->inputs.v[i].sha256[k]);
		printf("\"}");
	}
	printf("], \"exports\": [");
	for (i = 0; i < r->exports.n; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		json_str(stdout, r->exports.v[i].name);
		printf(", \"addr\": %" PRIu64 "}", r->exports.v[i].addr);
	}
	printf("], \"edits\": [");
	for (i = 0; i < r->edits.n; i++) {
		printf("%s{\"addr\": %" PRIu64 ", \"size\": %" PRIu64 ", \"reason\": ", i ? ", " : "",
		       r->edits.v[i].addr, r->edits.v[i].size);
		json_str(stdout, r->edits.v[i].reason);
		printf("}");
	}
	printf("], \"payload\": ");
	if (r->payload) {
		printf("{\"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"what\": ", r->payload_off, r->payload_size);
		json_str(stdout, r->payload);
		printf("}");
	} else {
		printf("null");
	}
	printf("}");
}

/* "payload": null, or what the overlay holds and where. */
static void json_payload(const struct image *img)
{
	struct payload p;

	payload_find(img, &p);
	printf("  \"payload\": ");
	if (p.kind == PAYLOAD_NONE) {
		printf("null,\n");
		return;
	}
	printf("{\"format\": ");
	json_str(stdout, payload_format(&p));
	printf(", \"offset\": %" PRIu64 ", \"size\": %" PRIu64, p.off, p.size);
	if (PAYLOAD_HAS_TRAILER(&p))
		printf(", \"trailer\": %" PRIu64 ", \"core\": %" PRIu64, p.trailer_off, p.core_off);
	printf("},\n");
}

static void text_payload(const struct image *img)
{
	struct payload p;

	payload_find(img, &p);
	if (PAYLOAD_HAS_TRAILER(&p))
		printf("payload: %s, trailer at 0x%" PRIx64 ", %s at 0x%" PRIx64 " (%" PRIu64
		       " bytes from 0x%" PRIx64 ")\n", payload_format(&p), p.trailer_off,
		       p.kind == PAYLOAD_SBCL ? "core" : "image", p.core_off, p.size, p.off);
	else if (p.kind == PAYLOAD_UNKNOWN)
		printf("payload: unrecognised format (%" PRIu64 " bytes at 0x%" PRIx64 ")%s%s\n", p.size, p.off,
		       p.why[0] ? ": " : "", p.why);
}

static void print_json(const struct image *img, const struct counts *c, const struct surgery_history *h)
{
	char tb[32], fl[4];
	size_t i;

	printf("{\n  \"file\": ");
	json_str(stdout, img->path);
	printf(",\n  \"size\": %" PRIu64 ",\n  \"type\": \"%s\",\n  \"pie\": %s,\n  \"linking\": \"%s\",\n  \"kind\": ",
	       img->size, img->eh.e_type == ET_EXEC ? "ET_EXEC" : "ET_DYN", img->pie ? "true" : "false",
	       img->dynamic || img->interp ? "dynamic" : "static");
	json_str(stdout, image_kind(img));
	printf(",\n  \"machine\": ");
	json_str(stdout, img->arch->name);
	printf(",\n  \"interpreter\": ");
	json_str(stdout, img->interp);
	printf(",\n  \"entry\": %" PRIu64 ",\n  \"segments\": [", img->eh.e_entry);
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *p = &img->phdrs[i];

		flags_str(p->p_flags, fl);
		printf("%s\n    {\"type\": \"%s\", \"offset\": %" PRIu64 ", \"vaddr\": %" PRIu64 ", \"filesz\": %" PRIu64
		       ", \"memsz\": %" PRIu64 ", \"flags\": \"%s\", \"align\": %" PRIu64 "}",
		       i ? "," : "", phdr_type_name(p->p_type, tb, sizeof(tb)), p->p_offset, p->p_vaddr, p->p_filesz,
		       p->p_memsz, fl, p->p_align);
	}
	printf("\n  ],\n  \"sections\": %zu,\n  \"overlay\": {\"offset\": %" PRIu64 ", \"size\": %" PRIu64 "},\n",
	       img->shnum, img->overlay_off, img->overlay_size);
	json_payload(img);
	printf("  \"symbols\": {\"symtab\": %" PRIu64 ", \"dynsym\": %" PRIu64 ", \"plt\": %" PRIu64
	       ", \"iplt\": %" PRIu64 ", \"named\": %" PRIu64 "},\n  \"surgeries\": [",
	       c->symtab, c->dynsym, c->plt, c->iplt, c->named);
	for (i = 0; i < h->recs.n; i++) {
		printf("%s\n    ", i ? "," : "");
		json_record(&h->recs.v[i]);
	}
	printf("%s]\n}\n", h->recs.n ? "\n  " : "");
}

static void print_text(const struct image *img, const struct counts *c, const struct surgery_history *h)
{
	char tb[32], fl[4];
	size_t i, j;

	printf("%s: %s (%s), %s\n", img->path, image_kind(img), img->eh.e_type == ET_EXEC ? "ET_EXEC" : "ET_DYN",
	       img->pie ? "position-independent" : "fixed addresses");
	printf("machine: %s\n", img->arch->name);
	if (img->interp)
		printf("interpreter: %s\n", img->interp);
	printf("entry: 0x%" PRIx64 "\n", img->eh.e_entry);
	printf("segments:\n  %-13s %-10s %-18s %-10s %-10s %-3s %s\n", "type", "offset", "vaddr", "filesz", "memsz",
	       "flg", "align");
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *p = &img->phdrs[i];

		flags_str(p->p_flags, fl);
		printf("  %-13s 0x%08" PRIx64 " 0x%016" PRIx64 " 0x%08" PRIx64 " 0x%08" PRIx64 " %s 0x%" PRIx64 "\n",
		       phdr_type_name(p->p_type, tb, sizeof(tb)), p->p_offset, p->p_vaddr, p->p_filesz, p->p_memsz, fl,
		       p->p_align);
	}
	printf("sections: %zu\n", img->shnum);
	printf("overlay: %" PRIu64 " bytes at offset 0x%" PRIx64 "\n", img->overlay_size, img->overlay_off);
	text_payload(img);
	printf("symbols: %" PRIu64 " in .symtab, %" PRIu64 " in .dynsym, %" PRIu64 " import stubs (PLT), %" PRIu64
	       " IFUNC stubs\n", c->symtab, c->dynsym, c->plt, c->iplt);
	if (!h->recs.n) {
		printf("surgeries: none recorded\n");
		return;
	}
	printf("surgeries: %zu\n", h->recs.n);
	for (i = 0; i < h->recs.n; i++) {
		const struct surgery_record *r = &h->recs.v[i];

		printf("  %zu. surgeon %s %s\n", i + 1, r->version, r->verb);
		for (j = 0; j < r->inputs.n; j++) {
			printf("     input %s (%" PRIu64 " bytes, sha256 ", r->inputs.v[j].path, r->inputs.v[j].size);
			for (int k = 0; k < SHA256_LEN; k++)
				printf("%02x", r->inputs.v[j].sha256[k]);
			printf(")\n");
		}
		for (j = 0; j < r->exports.n; j++)
			printf("     export %s at 0x%" PRIx64 "\n", r->exports.v[j].name, r->exports.v[j].addr);
		for (j = 0; j < r->edits.n; j++)
			printf("     edit 0x%" PRIx64 "-0x%" PRIx64 ": %s\n", r->edits.v[j].addr,
			       r->edits.v[j].addr + r->edits.v[j].size, r->edits.v[j].reason);
		if (r->payload)
			printf("     payload of %" PRIu64 " bytes at 0x%" PRIx64 " in the input: %s\n", r->payload_size,
			       r->payload_off, r->payload);
	}
}

int cmd_info(int argc, char **argv)
{
	struct image_opts io = cli_image_opts();
	struct surgery_history h = { 0 };
	struct image *img = NULL;
	const unsigned char *note;
	struct counts c;
	bool json = false, map = false;
	const char *pid = NULL;
	size_t note_size;
	int opt, rc = EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", info_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON: json = true; break;
		case OPT_MAP: map = true; break;
		case OPT_PID: pid = optarg; break;
		case '?':
			return usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if (!cli_common_opt(opt, info_help))
				return usage_error("option '%s' needs an argument", argv[optind - 1]);
		}
	}
	if (pid && (map || argc != optind))
		return usage_error("info --pid takes no file: surgeon info --pid PID [--json]");
	if (pid)
		return live_info(pid, json) ? EXIT_FAIL : EXIT_OK;
	if (map && (argc - optind == 1 || argc - optind == 2))
		return info_map(argv + optind, argc - optind, json);
	if (map)
		return usage_error("info --map takes one file, or the original and the output: surgeon info --map FILE [NEW]");
	if (argc - optind != 1)
		return usage_error("info takes one file: surgeon info FILE [--json]");
	if (image_open(&img, argv[optind], &io) || note_find(img, &note, &note_size) ||
	    note_parse(note, note_size, &h, img->path))
		goto out;
	count(img, &c);
	if (json)
		print_json(img, &c, &h);
	else
		print_text(img, &c, &h);
	rc = EXIT_OK;
out:
	note_history_free(&h);
	image_free(img);
	return rc;
}

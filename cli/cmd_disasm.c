/* surgeon disasm: the program's code, one instruction per line, with
 * operands that point into the image named by its symbols. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "disasm/disasm.h"
#include "disasm/symindex.h"
#include "unexec/dwarf.h"
#include "unexec/image.h"

enum { OPT_BYTES = OPT_FIRST_VERB, OPT_ATT, OPT_INTEL, OPT_XREFS, OPT_LINES };

static const struct option disasm_opts[] = {
	{ "bytes", no_argument, NULL, OPT_BYTES },
	{ "att", no_argument, NULL, OPT_ATT },
	{ "intel", no_argument, NULL, OPT_INTEL },
	{ "xrefs", required_argument, NULL, OPT_XREFS },
	{ "lines", no_argument, NULL, OPT_LINES },
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char disasm_help[] =
	"usage: surgeon disasm FILE [SYMBOL | ADDR | ADDR-END] [options]\n"
	"\n"
	"Disassemble FILE: every executable section (every executable segment when\n"
	"there are no section headers), one symbol, the code from ADDR to the next\n"
	"symbol, or the range [ADDR, END) (hexadecimal, 0x optional). Decoding\n"
	"restarts at each symbol, so data in code cannot derail the listing past\n"
	"it; a byte that is no instruction is shown as '.byte 0xNN'. Branch targets\n"
	"and operands that point into the image are named: 'call printf@plt',\n"
	"'lea rdi, [rip + 0x2ec1]  # counter+8'.\n"
	"\n"
	"  --bytes         show each instruction's bytes\n"
	"  --att           AT&T syntax (default: Intel)\n"
	"  --intel         Intel syntax (the default; after --att, undoes it)\n"
	"  --xrefs SYMBOL  list every instruction that calls, jumps to or takes the\n"
	"                  address of SYMBOL (anywhere in its range)\n"
	"  --lines         print 'file:line' from the debug info before an\n"
	"                  instruction whenever the source line changes\n";

struct span {
	uint64_t start, end;
	const unsigned char *bytes;	/* at start */
	const char *secname;		/* printed as a heading, or NULL */
};

struct dis {
	const struct image *img;
	struct symindex *ix;
	struct disasm *d;
	bool bytes;
	bool xrefs;
	bool lines;
	const char *lfile;	/* the last line printed (--lines) */
	unsigned lline;
	uint64_t xlo, xhi;	/* the range --xrefs looks for */
	uint64_t count;
};

static bool hit(const struct dis *ds, uint64_t a)
{
	return a >= ds->xlo && a < ds->xhi;
}

static bool refers(const struct dis *ds, const struct insn *in)
{
	return (in->has_target && hit(ds, in->target)) || (in->rip_mem && hit(ds, in->mem_addr)) ||
	       (in->has_imm && hit(ds, in->imm)) || (in->has_disp && hit(ds, in->disp));
}

/* Appends "  # name" for an operand value that points into the image. */
static size_t comment(const struct dis *ds, char *buf, size_t pos, size_t len, uint64_t v, bool *first)
{
	char name[300];

	if (pos >= len || !symindex_in_image(ds->ix, v))
		return pos;
	symindex_name(ds->ix, v, name, sizeof(name));
	pos += snprintf(buf + pos, len - pos, "%s%s", *first ? "  # " : ", ", name);
	*first = false;
	return pos;
}

static void print_insn(struct dis *ds, const struct insn *in, bool bad)
{
	char line[1024], name[300];
	size_t pos = 0, len = sizeof(line);
	bool first = true;
	int i;

	if (ds->xrefs) {
		symindex_name(ds->ix, in->addr, name, sizeof(name));
		pos += snprintf(line, len, "%" PRIx64 " <%s>:\t", in->addr, name);
	} else {
		pos += snprintf(line, len, "%8" PRIx64 ":\t", in->addr);
	}
	if (ds->bytes) {
		for (i = 0; i < in->len; i++)
			pos += snprintf(line + pos, len - pos, "%02x ", in->bytes[i]);
		for (; i < 7; i++)
			pos += snprintf(line + pos, len - pos, "   ");
		pos += snprintf(line + pos, len - pos, "\t");
	}
	if (bad) {
		pos += snprintf(line + pos, len - pos, ".byte 0x%02x\n", in->bytes[0]);
		fwrite(line, 1, pos, stdout);
		return;
	}
	pos += snprintf(line + pos, len - pos, "%s", in->mnemonic);
	if (in->has_target && symindex_in_image(ds->ix, in->target)) {
		const struct symbol *s = symindex_exact(ds->ix, in->target);
		const char *comma = strrchr(in->operands, ',');

		/* The operands before the target stay (aarch64: cbz x1, tbz w0, #3). */
		if (comma)
			pos += snprintf(line + pos, len - pos, " %.*s", (int)(comma - in->operands + 1), in->operands);
		if (s) {
			symindex_symname(s, name, sizeof(name));
			pos += snprintf(line + pos, len - pos, " %s", name);
		} else {
			symindex_name(ds->ix, in->target, name, sizeof(name));
			pos += snprintf(line + pos, len - pos, " 0x%" PRIx64 " <%s>", in->target, name);
		}
	} else if (in->operands[0]) {
		pos += snprintf(line + pos, len - pos, " %s", in->operands);
	}
	if (in->undecoded)
		pos += snprintf(line + pos, len - pos, "  # (%s instruction capstone cannot decode)",
				in->bytes[0] == 0x62 ? "EVEX" : "VEX");
	if (in->rip_mem)
		pos = comment(ds, line, pos, len, in->mem_addr, &first);
	if (in->has_imm)
		pos = comment(ds, line, pos, len, in->imm, &first);
	if (in->has_disp)
		pos = comment(ds, line, pos, len, in->disp, &first);
	if (pos > len - 2)
		pos = len - 2;
	line[pos++] = '\n';
	fwrite(line, 1, pos, stdout);
}

static void print_heading(struct dis *ds, uint64_t addr)
{
	const struct symbol *s = symindex_exact(ds->ix, addr);
	char name[300];

	if (!s || ds->xrefs)
		return;
	symindex_symname(s, name, sizeof(name));
	printf("\n%016" PRIx64 " <%s>:\n", addr, name);
}

/* Bytes of a data object that sits in code, 16 to a line as objdump shows them. */
static void print_data(struct dis *ds, uint64_t addr, const unsigned char *p, uint64_t n)
{
	char line[256];
	size_t pos;

	if (ds->xrefs)
		return;
	pos = snprintf(line, sizeof(line), "%8" PRIx64 ":\t.byte ", addr);
	for (uint64_t i = 0; i < n; i++)
		pos += snprintf(line + pos, sizeof(line) - pos, "%s0x%02x", i ? ", " : "", p[i]);
	line[pos++] = '\n';
	fwrite(line, 1, pos, stdout);
}

/* --lines: "file:line" when the instruction at addr starts another line. */
static void print_line(struct dis *ds, uint64_t addr)
{
	const char *file;
	unsigned line;

	if (!image_line_for_addr(ds->img, addr, &file, &line)) {
		ds->lfile = NULL;
		return;
	}
	if (ds->lfile && line == ds->lline && !strcmp(file, ds->lfile))
		return;
	printf("%s:%u\n", file, line);
	ds->lfile = file;
	ds->lline = line;
}

static bool is_data(const struct symbol *s)
{
	return s && (s->type == STT_OBJECT || s->type == STT_TLS);
}

/* Decodes [start, end), restarting at every symbol, objdump's way; the bytes
 * of a data object (STT_OBJECT) in code are shown as data, not decoded. */
static void disasm_span(struct dis *ds, const struct span *sp)
{
	uint64_t addr = sp->start, lim = 0;
	bool data = is_data(symindex_lookup(ds->ix, addr, NULL));
	struct insn in;

	if (sp->secname && !ds->xrefs)
		printf("\nDisassembly of section %s:\n", sp->secname);
	print_heading(ds, addr);
	while (addr < sp->end) {
		bool bad;

		if (addr >= lim) {
			if (lim && addr == lim) {
				print_heading(ds, addr);
				data = is_data(symindex_exact(ds->ix, addr));
			}
			lim = symindex_next(ds->ix, addr);
			if (lim > sp->end)
				lim = sp->end;
		}
		if (data) {
			uint64_t n = lim - addr < 16 ? lim - addr : 16;

			print_data(ds, addr, sp->bytes + (addr - sp->start), n);
			addr += n;
			continue;
		}
		bad = disasm_one(ds->d, sp->bytes + (addr - sp->start), lim - addr, addr, &in) != 0;
		if (bad) {
			memset(&in, 0, sizeof(in));
			in.addr = addr;
			in.len = 1;
			in.bytes[0] = sp->bytes[addr - sp->start];
		}
		ds->count++;
		if (ds->lines && !ds->xrefs)
			print_line(ds, addr);
		if (!ds->xrefs || (!bad && refers(ds, &in)))
			print_insn(ds, &in, bad);
		addr += in.len;
	}
}

typedef VEC(struct span) span_vec;

static int code_spans(const struct image *img, span_vec *spans)
{
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		struct span sp = { s->sh.sh_addr, s->sh.sh_addr + s->sh.sh_size,
				   img->data + s->sh.sh_offset, s->name };

		if ((s->sh.sh_flags & (SHF_ALLOC | SHF_EXECINSTR)) != (SHF_ALLOC | SHF_EXECINSTR) ||
		    s->sh.sh_type == SHT_NOBITS || !s->sh.sh_size)
			continue;
		if (VEC_PUSH(spans, sp))
			return -1;
	}
	if (img->shnum)
		return 0;
	for (i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		struct span sp = { ph->p_vaddr, ph->p_vaddr + ph->p_filesz, img->data + ph->p_offset, NULL };

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !ph->p_filesz)
			continue;
		if (VEC_PUSH(spans, sp))
			return -1;
	}
	return 0;
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* [lo, hi) cut along the file-backed parts of the PT_LOADs. */
static int range_spans(const struct image *img, uint64_t lo, uint64_t hi, span_vec *spans)
{
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		uint64_t a = ph->p_vaddr > lo ? ph->p_vaddr : lo;
		uint64_t b = ph->p_vaddr + ph->p_filesz < hi ? ph->p_vaddr + ph->p_filesz : hi;
		struct span sp = { a, b, NULL, NULL };

		if (ph->p_type != PT_LOAD || a >= b)
			continue;
		sp.bytes = img->data + ph->p_offset + (a - ph->p_vaddr);
		if (VEC_PUSH(spans, sp))
			return -1;
	}
	qsort(spans->v, spans->n, sizeof(*spans->v), cmp_span);
	if (!spans->n)
		return pr_err(img->path, "no bytes of the file are loaded at 0x%" PRIx64 "-0x%" PRIx64, lo, hi);
	return 0;
}

/* A symbol by name: global first, then any local, then "NAME@plt". */
static const struct symbol *find_symbol(const struct image *img, const char *name)
{
	const struct symbol *s = image_symbol(img, name), *best = NULL;
	size_t n = strlen(name);

	if (s)
		return s;
	for (size_t i = 0; i < img->syms.n; i++) {
		const struct symbol *c = &img->syms.v[i];
		bool plt = c->src == SYM_PLT || c->src == SYM_IPLT;

		if (c->shndx == SHN_ABS || c->type == STT_TLS)
			continue;
		if (!strcmp(c->name, name) || (plt && n > 4 && !strcmp(name + n - 4, "@plt") &&
					       !strncmp(c->name, name, n - 4) && !c->name[n - 4])) {
			if (!best || (c->size && !best->size))
				best = c;
		}
	}
	return best;
}

static bool parse_addr(const char *s, const char **end, uint64_t *v)
{
	char *e;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
		return false;
	*v = strtoull(s, &e, 16);
	*end = e;
	return true;
}

/* The range a symbol covers: its size, or up to the next symbol. */
static void symbol_range(const struct symindex *ix, const struct symbol *s, uint64_t *lo, uint64_t *hi)
{
	*lo = s->addr;
	*hi = s->size ? s->addr + s->size : symindex_next(ix, s->addr);
	if (*hi == UINT64_MAX)
		*hi = s->addr + 1;
}

int cmd_disasm(int argc, char **argv)
{
	struct image_opts io = cli_image_opts();
	struct dis ds = { 0 };
	struct image *img = NULL;
	span_vec spans = { 0 };
	const char *xsym = NULL, *what = NULL;
	static char outbuf[1 << 20];
	unsigned flags = 0;
	int opt, rc = EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", disasm_opts, NULL)) != -1) {
		switch (opt) {
		case OPT_BYTES: ds.bytes = true; break;
		case OPT_ATT: flags |= DISASM_ATT; break;
		case OPT_INTEL: flags &= ~DISASM_ATT; break;
		case OPT_XREFS: xsym = optarg; break;
		case OPT_LINES: ds.lines = true; break;
		case '?':
			return usage_error("unknown option '%s'", argv[optind - 1]);
		default:
			if (!cli_common_opt(opt, disasm_help))
				return usage_error("option '%s' needs an argument", argv[optind - 1]);
		}
	}
	if (optind >= argc || argc - optind > 2)
		return usage_error("disasm takes a file and at most one symbol or range: surgeon disasm FILE [SYMBOL | ADDR | ADDR-END]");
	if (argc - optind == 2)
		what = argv[optind + 1];
	if (what && xsym)
		return usage_error("--xrefs searches the whole program; give no SYMBOL or range with it");

	if (image_open(&img, argv[optind], &io) || symindex_new(&ds.ix, img) || disasm_new(&ds.d, img->arch->machine, flags))
		goto out;
	ds.img = img;
	if (xsym) {
		const struct symbol *s = find_symbol(img, xsym);

		if (!s) {
			pr_err(img->path, "no symbol '%s'", xsym);
			goto out;
		}
		ds.xrefs = true;
		symbol_range(ds.ix, s, &ds.xlo, &ds.xhi);
	}
	if (what) {
		const struct symbol *s = find_symbol(img, what);
		uint64_t lo, hi;
		const char *e;

		if (s) {
			symbol_range(ds.ix, s, &lo, &hi);
		} else if (parse_addr(what, &e, &lo)) {
			if (*e == '-') {
				if (!parse_addr(e + 1, &e, &hi) || *e || hi <= lo) {
					rc = usage_error("bad range '%s': want ADDR-END with END above ADDR", what);
					goto out;
				}
			} else if (*e) {
				pr_err(img->path, "no symbol '%s'", what);
				goto out;
			} else {
				hi = symindex_next(ds.ix, lo);
				if (hi == UINT64_MAX)
					hi = img->vaddr_end;
			}
		} else {
			pr_err(img->path, "no symbol '%s'", what);
			goto out;
		}
		if (range_spans(img, lo, hi, &spans))
			goto out;
	} else if (code_spans(img, &spans)) {
		goto out;
	}

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	for (size_t i = 0; i < spans.n; i++)
		disasm_span(&ds, &spans.v[i]);
	if (fflush(stdout) || ferror(stdout)) {
		pr_err("<stdout>", "write error");
		goto out;
	}
	rc = EXIT_OK;
out:
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	VEC_FREE(&spans);
	disasm_free(ds.d);
	symindex_free(ds.ix);
	image_free(img);
	return rc;
}

/* surgeon's command line: each verb is a short pipeline over the image model. */
#include <getopt.h>
#include <stdarg.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "surgeon.h"
#include "relink/relink.h"
#include "unexec/unexec.h"

static const char usage_text[] =
	"usage: surgeon [-v] COMMAND ARGS...\n"
	"\n"
	"Relink an executable nobody can rebuild: every byte it loads stays at its\n"
	"address, new code and data go into new segments after the old ones.\n"
	"\n"
	"Commands:\n"
	"  add-lib APP LIB... [-o OUT]     link static libraries and objects into APP\n"
	"  unexec APP [-o APP.o] [-T APP.ld]\n"
	"                                  freeze APP into a relocatable object whose\n"
	"                                  sections are pinned at APP's addresses, and a\n"
	"                                  GNU ld script that keeps them there\n"
	"  relink APP.o [-T APP.ld] INPUT... -o OUT\n"
	"                                  link a frozen object with new inputs\n"
	"\n"
	"Inputs (add-lib, relink), in link order:\n"
	"  FILE.a, FILE.o    archives named here are added whole (every member)\n"
	"  -l NAME, -L DIR   libraries searched like ld does (members pulled as needed)\n"
	"  -u SYM            pull only what SYM needs from the archives (repeatable)\n"
	"  --only SYM,...    the same for a list of symbols\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE   output (add-lib default: ./APP.new; unexec: ./APP.o)\n"
	"  -T, --script FILE   linker script (unexec: where to write it; relink: which\n"
	"                      to use, default: generated from APP.o)\n"
	"      --ld LINKER     linker program: ld (default), bfd, lld, gold, mold or a path\n"
	"      --keep-temps    keep the intermediate object, script and linker output\n"
	"  -v, --verbose       say what is done, and list every deliberate edit of old bytes\n"
	"  -h, --help          this text\n"
	"      --version       print the version\n";

enum { OPT_LD = 256, OPT_KEEP, OPT_ONLY, OPT_VERSION };

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "script", required_argument, NULL, 'T' },
	{ "ld", required_argument, NULL, OPT_LD },
	{ "keep-temps", no_argument, NULL, OPT_KEEP },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 }
};

struct cli {
	const char *verb;
	VEC(const char *) args;	/* positional, in order */
	const char *output, *script;
	bool keep;
	struct relink_opts ro;
};

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "surgeon: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'surgeon --help'.\n");
	return EXIT_USAGE;
}

/* Inputs keep their order: "-" in optstring hands positionals back in place. */
static int parse(struct cli *c, int argc, char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "-o:T:l:L:u:vh", long_opts, NULL)) != -1) {
		struct input in;
		char *list, *tok, *save = NULL;

		switch (opt) {
		case 1:
			if (!c->verb) {
				c->verb = optarg;
				break;
			}
			if (VEC_PUSH(&c->args, optarg))
				return EXIT_FAIL;
			if (c->args.n > 1 || strcmp(c->verb, "add-lib")) {
				in = (struct input){ IN_FILE, optarg };
				if (c->args.n > 1 && VEC_PUSH(&c->ro.inputs, in))
					return EXIT_FAIL;
			}
			break;
		case 'o': c->output = optarg; break;
		case 'T': c->script = optarg; break;
		case 'l':
		case 'L':
			in = (struct input){ opt == 'l' ? IN_LIB : IN_LIBDIR, optarg };
			if (VEC_PUSH(&c->ro.inputs, in))
				return EXIT_FAIL;
			break;
		case 'u':
			if (VEC_PUSH(&c->ro.undefs, optarg))
				return EXIT_FAIL;
			c->ro.only = true;
			break;
		case OPT_ONLY:
			list = optarg;
			for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (VEC_PUSH(&c->ro.undefs, tok))
					return EXIT_FAIL;
			c->ro.only = true;
			break;
		case OPT_LD: c->ro.ld = optarg; break;
		case OPT_KEEP: c->keep = true; break;
		case 'v': verbose++; break;
		case 'h': fputs(usage_text, stdout); exit(EXIT_OK);
		case OPT_VERSION: printf("surgeon %s\n", SURGEON_VERSION); exit(EXIT_OK);
		case ':': return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

static char *default_name(const char *path, const char *suffix)
{
	char *copy = xstrdup(path), *name;

	if (!copy)
		return NULL;
	name = xasprintf("%s%s", basename(copy), suffix);
	free(copy);
	return name;
}

/* "x.o" -> "x.ld", anything else -> "anything.ld". */
static char *script_beside(const char *obj)
{
	size_t n = strlen(obj);

	if (n > 2 && !strcmp(obj + n - 2, ".o"))
		return xasprintf("%.*s.ld", (int)(n - 2), obj);
	return xasprintf("%s.ld", obj);
}

static int cmd_unexec(struct cli *c)
{
	struct image *img = NULL;
	char *out = NULL, *script = NULL;
	int err = -1;

	if (c->args.n != 1 || c->ro.inputs.n > 1 || c->ro.undefs.n)
		return usage_error("%s", "unexec takes one executable: surgeon unexec APP [-o APP.o] [-T APP.ld]");
	out = c->output ? xstrdup(c->output) : default_name(c->args.v[0], ".o");
	script = c->script ? xstrdup(c->script) : out ? script_beside(out) : NULL;
	if (!out || !script)
		goto done;
	err = image_open(&img, c->args.v[0]);
	err = err ?: unexec_write_object(img, out, false);
	err = err ?: unexec_write_script(img, script);
done:
	image_free(img);
	free(out);
	free(script);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int cmd_relink(struct cli *c)
{
	const char *obj = c->args.v[0];
	struct image *img = NULL;
	char *script = NULL;
	int err;

	if (!c->args.n)
		return usage_error("%s", "relink needs a frozen object: surgeon relink APP.o [-T APP.ld] INPUT... -o OUT");
	if (!c->output)
		return usage_error("%s", "relink needs an output: -o OUT");
	c->ro.output = c->output;
	c->ro.mode = 0755 & ~0022;
	err = image_open_frozen(&img, obj);
	if (!err && !c->script) {
		script = xasprintf("%s/frozen.ld", tmp_dir());
		err = !script || unexec_write_script(img, script);
	}
	err = err ?: relink_run(img, obj, c->script ? c->script : script, &c->ro);
	image_free(img);
	free(script);
	return err ? EXIT_FAIL : EXIT_OK;
}

static int cmd_add_lib(struct cli *c)
{
	const char *app = c->args.n ? c->args.v[0] : NULL;
	struct image *img = NULL;
	char *obj = NULL, *script = NULL, *out = NULL;
	struct stat st;
	int err = -1;

	if (c->args.n < 1)
		return usage_error("%s", "add-lib needs a program and libraries: surgeon add-lib APP LIB... [-o OUT]");
	if (!c->ro.inputs.n)
		return usage_error("%s", "add-lib needs at least one library or object to add");
	if (c->script)
		return usage_error("%s", "add-lib writes its own linker script; use unexec and relink for -T");
	out = c->output ? xstrdup(c->output) : default_name(app, ".new");
	obj = xasprintf("%s/image.o", tmp_dir());
	script = xasprintf("%s/image.ld", tmp_dir());
	if (!out || !obj || !script)
		goto done;
	c->ro.output = out;

	/* Read and check the program. */
	if (image_open(&img, app))
		goto done;
	c->ro.mode = fstat(img->fd, &st) ? 0755 : st.st_mode & 07777;
	/* Freeze it: addresses only, the bytes stay in the original. */
	if (unexec_write_object(img, obj, true) || unexec_write_script(img, script))
		goto done;
	/* Link, write, verify, rename. */
	err = relink_run(img, obj, script, &c->ro);
done:
	image_free(img);
	free(obj);
	free(script);
	free(out);
	return err ? EXIT_FAIL : EXIT_OK;
}

static const struct verb {
	const char *name;
	int (*run)(struct cli *c);
} verbs[] = {
	{ "add-lib", cmd_add_lib },
	{ "unexec", cmd_unexec },
	{ "relink", cmd_relink },
};

int main(int argc, char **argv)
{
	struct cli c = { 0 };
	int rc;
	size_t i;

	rc = parse(&c, argc, argv);
	if (rc)
		return rc;
	if (!c.verb)
		return usage_error("%s", "no command given");
	tmp_init(c.keep);
	atexit(tmp_cleanup);
	for (i = 0; i < sizeof(verbs) / sizeof(*verbs); i++) {
		if (!strcmp(c.verb, verbs[i].name)) {
			rc = verbs[i].run(&c);
			VEC_FREE(&c.args);
			VEC_FREE(&c.ro.inputs);
			VEC_FREE(&c.ro.undefs);
			return rc;
		}
	}
	return usage_error("unknown command '%s'", c.verb);
}

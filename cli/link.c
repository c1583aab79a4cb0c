/* The verbs that link: add-lib, unexec and relink. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "live/live.h"
#include "relink/relink.h"
#include "relink/sha256.h"
#include "unexec/dwarf.h"
#include "unexec/undump.h"
#include "unexec/unexec.h"

enum { OPT_LD = OPT_FIRST_VERB, OPT_ONLY, OPT_EXPORT, OPT_INTERPOSE, OPT_DEBUG_FILE,
       OPT_PID, OPT_CORE, OPT_EXE, OPT_ANON,
       OPT_REPLACE, OPT_WRAP /* patching */, OPT_LIBC, OPT_PTHREAD };

static const struct option link_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "script", required_argument, NULL, 'T' },
	{ "ld", required_argument, NULL, OPT_LD },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "export", required_argument, NULL, OPT_EXPORT },
	{ "allow-interpose", no_argument, NULL, OPT_INTERPOSE },
	{ "debug-file", required_argument, NULL, OPT_DEBUG_FILE },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "core", required_argument, NULL, OPT_CORE },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "anon", no_argument, NULL, OPT_ANON },
	{ "replace", required_argument, NULL, OPT_REPLACE },	/* patching */
	{ "wrap", required_argument, NULL, OPT_WRAP },		/* patching */
	{ "libc", required_argument, NULL, OPT_LIBC },
	{ "pthread", no_argument, NULL, OPT_PTHREAD },
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char add_lib_help[] =
	"usage: surgeon add-lib APP INPUT... [-o OUT] [options]\n"
	"\n"
	"Link static libraries and objects into the executable APP. Every byte APP\n"
	"loads stays at its address; the new code and data go into new segments\n"
	"after the highest old address. The result is verified byte by byte before\n"
	"it is renamed into place; APP itself is never modified.\n"
	"\n"
	"Inputs, in link order:\n"
	"  FILE.a, FILE.o    archives named here are added whole (every member)\n"
	"  -l NAME, -L DIR   libraries searched as ld does (members pulled as needed); in a\n"
	"                    dynamic program a shared library found this way, or named as\n"
	"                    path/libx.so, becomes a new DT_NEEDED entry; -l:FILE as in ld\n"
	"  -pthread, --pthread  as gcc's: -lpthread\n"
	"  -u SYM            instead of whole archives, pull only what SYM needs (repeatable)\n"
	"  --only SYM,...    the same, for a list of symbols\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE  output file (default: ./APP.new); it keeps APP's mode\n"
	"      --export=none|all|PATTERN,...\n"
	"                     which global symbols of the added code go into the dynamic\n"
	"                     symbol table (default all), for dlsym and later libraries\n"
	"      --allow-interpose  let an added symbol override one the program exports\n"
	"      --ld LINKER    ld (default), bfd, gold, lld, or a path (mold has no\n"
	"                     SECTIONS in linker scripts: refused)\n"
	"      --replace OLD=NEW  every call of APP's function OLD (direct, through\n"
	"                     pointers, the PLT, dlsym) reaches the added NEW: a jump\n"
	"                     is written at OLD's entry; for an import of a dynamic\n"
	"                     APP, its stub and its GOT relocations (repeatable)\n"
	"      --wrap SYM     the same to the added __wrap_SYM, which may call\n"
	"                     __real_SYM for SYM's original behaviour (repeatable)\n"
	"      --debug-file FILE  APP's separate debug info (default: found through\n"
	"                     its build-id or .gnu_debuglink, as gdb does)\n"
	"      --libc FILE    a static APP's C library archive, for the libc functions\n"
	"                     the added code needs and APP lacks (default: the system's\n"
	"                     glibc or musl libc.a, when it is the one APP was built with)\n"
	"      --keep-temps   keep the frozen object, script and linker output\n"
	"  -v, --verbose      print the linker command and every deliberate edit of old bytes\n";

static const char unexec_help[] =
	"usage: surgeon unexec APP [-o APP.o] [-T APP.ld]\n"
	"       surgeon unexec --pid PID [--anon] -o APP.o [-T APP.ld]\n"
	"       surgeon unexec --core CORE --exe APP [--anon] -o APP.o [-T APP.ld]\n"
	"\n"
	"Freeze the executable APP into a relocatable object whose sections hold\n"
	"APP's loaded bytes pinned at their addresses, with APP's symbols (.symtab,\n"
	".dynsym, and one per import stub: 'printf' is APP's printf@plt), and a GNU\n"
	"ld script that keeps the sections there and places new code after them.\n"
	"\n"
	"\n"
	"With --pid or --core, undump: the object is APP as it is in that process's\n"
	"memory: its data and bss hold their current contents, and the brk heap is\n"
	"kept at its addresses. 'surgeon relink APP.o -o APP2' then writes a program\n"
	"that starts at its entry point with that data already in place. A PIE\n"
	"becomes a fixed-address program at the address the process had it; only\n"
	"the main thread is dumped.\n"
	"\n"
	"  -o, --output FILE  the object (default: ./APP.o)\n"
	"  -T, --script FILE  the linker script (default: the object's name with .ld)\n"
	"      --debug-file FILE  APP's separate debug info (default: found through\n"
	"                     its build-id or .gnu_debuglink, as gdb does)\n"
	"      --pid PID      undump a running (or stopped) process; it is stopped with\n"
	"                     ptrace while it is read, then left as it was\n"
	"      --core CORE    undump a core file (gcore or kernel) of the program --exe APP\n"
	"      --exe APP      the program the core file is of (with --core)\n"
	"      --anon         also keep anonymous memory (mmap, large malloc blocks,\n"
	"                     musl's heap) at its addresses\n"
	"  -v, --verbose      say what is done\n";

static const char relink_help[] =
	"usage: surgeon relink APP.o [-T APP.ld] INPUT... -o OUT [options]\n"
	"\n"
	"Link an object written by 'surgeon unexec' with new inputs using the system\n"
	"linker, and write an executable in which every old byte is where it was.\n"
	"With no inputs the output is the original program, byte for byte.\n"
	"\n"
	"Inputs are as for add-lib: FILE.a (whole), FILE.o, -l NAME, -L DIR, -u SYM, --only,\n"
	"-pthread; the libraries gcc adds itself come last, as for add-lib.\n"
	"\n"
	"  -o, --output FILE  output file (required)\n"
	"      --libc FILE    a static program's C library archive (as for add-lib)\n"
	"  -T, --script FILE  linker script (default: generated afresh from APP.o)\n"
	"      --export=none|all|PATTERN,...  as for add-lib\n"
	"      --replace OLD=NEW, --wrap SYM  as for add-lib (repeatable)\n"
	"      --debug-file FILE  the program's separate debug info (as for add-lib)\n"
	"      --ld LINKER    ld (default), bfd, gold, lld, or a path (mold has no\n"
	"                     SECTIONS in linker scripts: refused)\n"
	"      --keep-temps   keep the linker output\n"
	"  -v, --verbose      print the linker command and every deliberate edit of old bytes\n";

static const char inject_help[] =
	"usage: surgeon inject PID INPUT... [--replace OLD=NEW] [--wrap SYM] [options]\n"
	"\n"
	"Link static libraries and objects into the running process PID, as add-lib\n"
	"links them into a file, and undoably: 'surgeon eject PID' takes them out.\n"
	"The system linker resolves the new code against the program at its load\n"
	"address and the process's shared libraries where they are loaded. The code\n"
	"goes within 2 GiB of the program (where add-lib would put it, when that is\n"
	"free), its constructors run in the process, then --replace and --wrap patch\n"
	"the old functions. Every thread is stopped meanwhile, and none may be running\n"
	"in, or return into, bytes a patch changes: inject lets the process run and\n"
	"tries again for up to 2 s, then refuses and changes nothing. Each injection\n"
	"leaves a record in the process, for eject and 'surgeon info --pid PID'.\n"
	"\n"
	"Inputs, in link order:\n"
	"  FILE.a, FILE.o    archives named here are added whole (every member)\n"
	"  -l NAME, -L DIR   a library the process has loaded gives its functions where\n"
	"                    they are; otherwise NAME's static archive is searched\n"
	"  -pthread, --pthread  as gcc's: -lpthread\n"
	"  -u SYM            instead of whole archives, pull only what SYM needs (repeatable)\n"
	"  --only SYM,...    the same, for a list of symbols\n"
	"\n"
	"Options:\n"
	"      --replace OLD=NEW  every call of the program's function OLD reaches the\n"
	"                     added NEW: a jump is written at OLD's entry (repeatable)\n"
	"      --wrap SYM     the same to the added __wrap_SYM, which may call\n"
	"                     __real_SYM for SYM's original behaviour (repeatable)\n"
	"      --ld LINKER    ld (default), bfd, gold, lld, or a path\n"
	"      --debug-file FILE  the program's separate debug info\n"
	"      --libc FILE    a static program's C library archive (as for add-lib)\n"
	"      --keep-temps   keep the frozen object, script and linker output\n"
	"  -v, --verbose      print the linker command, the address chosen, every edit,\n"
	"                     and how long the process was stopped\n";

struct link_cli {
	VEC(const char *) args;	/* positionals, in order */
	struct image_opts io;
	const char *output, *script;
	const char *pid, *core, *exe;	/* unexec: undump sources */
	bool anon;
	struct relink_opts ro;
};

static const char *verb_name(const char *help)
{
	return help == unexec_help ? "unexec" : help == relink_help ? "relink" : help == inject_help ? "inject" : "add-lib";
}

/* Which options a verb takes: the four share one table. unexec links
 * nothing; relink's object was frozen already, so how its exports bind
 * (--allow-interpose) is settled; only unexec undumps; inject writes no
 * file and exports nothing (the process's dynamic loader never learns of
 * the new code). */
static bool verb_takes(const char *help, int opt)
{
	switch (opt) {
	case 'l': case 'L': case 'u': case OPT_ONLY: case OPT_LD:
	case OPT_REPLACE: case OPT_WRAP: case OPT_LIBC: case OPT_PTHREAD:
		return help != unexec_help;
	case OPT_EXPORT:
		return help != unexec_help && help != inject_help;
	case 'o': case 'T':
		return help != inject_help;
	case OPT_INTERPOSE:
		return help == add_lib_help;
	case OPT_PID: case OPT_CORE: case OPT_EXE: case OPT_ANON:
		return help == unexec_help;
	default:
		return true;
	}
}

/* Inputs keep their order: "-" in optstring hands positionals back in place.
 * The first positional is the program (or frozen object); the rest are inputs. */
static int parse(struct link_cli *c, int argc, char **argv, const char *help)
{
	int opt;

	c->io = cli_image_opts();
	/* gcc spells it with one dash. */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-pthread"))
			argv[i] = (char *)"--pthread";
	optind = 1;
	opterr = 0;
	int li = -1;

	while ((opt = getopt_long(argc, argv, "-:o:T:l:L:u:vh", link_opts, &li)) != -1) {
		struct input in;
		char *tok, *save = NULL;

		if (!verb_takes(help, opt)) {
			if (li >= 0)
				return usage_error("%s does not take --%s", verb_name(help), link_opts[li].name);
			return usage_error("%s does not take -%c", verb_name(help), opt);
		}
		li = -1;
		switch (opt) {
		case 1:
			if (VEC_PUSH(&c->args, optarg))
				return EXIT_FAIL;
			in = (struct input){ IN_FILE, optarg };
			if (c->args.n > 1 && VEC_PUSH(&c->ro.inputs, in))
				return EXIT_FAIL;
			break;
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
			for (tok = strtok_r(optarg, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				if (VEC_PUSH(&c->ro.undefs, tok))
					return EXIT_FAIL;
			c->ro.only = true;
			break;
		case OPT_LD: c->ro.ld = optarg; break;
		case OPT_LIBC:
		case OPT_PTHREAD:
			if (opt == OPT_LIBC) {
				c->ro.libc_file = optarg;
				break;
			}
			in = (struct input){ IN_LIB, "pthread" };
			if (VEC_PUSH(&c->ro.inputs, in))
				return EXIT_FAIL;
			break;
		case 'o': c->output = optarg; break;
		case 'T': c->script = optarg; break;
		case OPT_EXPORT: c->ro.exports = optarg; break;
		case OPT_INTERPOSE: c->ro.allow_interpose = true; break;
		case OPT_DEBUG_FILE: c->io.debug_file = optarg; break;
		case OPT_REPLACE:	/* patching */
		case OPT_WRAP: {
			struct patch_req r = { .old = optarg, .wrap = opt == OPT_WRAP };
			char *eq = strchr(optarg, '=');

			if (opt == OPT_REPLACE) {
				if (!eq || eq == optarg || !eq[1])
					return usage_error("--replace wants OLD=NEW, not '%s'", optarg);
				*eq = 0;
				r.new = eq + 1;
			} else if (!*optarg || eq) {
				return usage_error("--wrap wants a function name, not '%s'", optarg);
			}
			if (VEC_PUSH(&c->ro.patch_reqs, r))
				return EXIT_FAIL;
			break;
		}
		case OPT_PID:
		case OPT_CORE:
		case OPT_EXE:
		case OPT_ANON:
			if (opt == OPT_PID) c->pid = optarg;
			if (opt == OPT_CORE) c->core = optarg;
			if (opt == OPT_EXE) c->exe = optarg;
			if (opt == OPT_ANON) c->anon = true;
			break;
		case '?':
			return usage_error("unknown option '%s'", argv[optind - 1]);
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (!cli_common_opt(opt, help))
				return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

static void link_cli_free(struct link_cli *c)
{
	VEC_FREE(&c->args);
	VEC_FREE(&c->ro.inputs);
	VEC_FREE(&c->ro.undefs);
	VEC_FREE(&c->ro.patch_reqs);	/* patching */
	sha256_free(c->ro.program_digest);
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

/* --pid and --core: the program as it is in memory, as an image in memory. */
static int undump(struct link_cli *c, struct image **img)
{
	unsigned flags = c->anon ? UNDUMP_ANON : 0;
	bytevec buf = { 0 };
	char *exe = NULL, *end;
	int err;

	if (c->pid) {
		long pid = strtol(c->pid, &end, 10);

		if (*end || !*c->pid || pid <= 0 || pid > INT32_MAX)
			return pr_err(NULL, "--pid %s: not a process id", c->pid);
		err = undump_pid(pid, flags, true, &exe, &buf);
	} else {
		err = undump_core(c->core, c->exe, flags, &buf);
	}
	if (!err)
		err = image_open_mem(img, exe ? exe : c->exe, buf.v, buf.n, &c->io);
	else
		VEC_FREE(&buf);
	free(exe);
	return err;
}

int cmd_unexec(int argc, char **argv)
{
	struct link_cli c = { 0 };
	struct image *img = NULL;
	char *out = NULL, *script = NULL;
	int rc = parse(&c, argc, argv, unexec_help), err = -1;
	bool dump;

	if (rc)
		goto done;
	dump = c.pid || c.core;
	if (c.ro.undefs.n || (dump ? c.args.n != 0 : c.args.n != 1) || c.ro.inputs.n > 1) {
		rc = usage_error("unexec takes one executable: surgeon unexec APP [-o APP.o] [-T APP.ld]");
		goto done;
	}
	if ((c.pid && c.core) || (c.core && !c.exe) || (c.exe && !c.core) || (c.anon && !dump)) {
		rc = usage_error("undump takes --pid PID, or --core CORE --exe APP (--anon with either)");
		goto done;
	}
	out = c.output ? xstrdup(c.output) : default_name(dump ? (c.exe ? c.exe : "dump") : c.args.v[0], ".o");
	script = c.script ? xstrdup(c.script) : out ? script_beside(out) : NULL;
	if (out && script) {
		/* Read and check, then write the object and the script beside it. */
		err = dump ? undump(&c, &img) : image_open(&img, c.args.v[0], &c.io);
		err = err ?: unexec_write_object(img, out, &(struct freeze_opts){ .thin = false });
		err = err ?: unexec_write_script(img, script);
		if (err)
			unlink(out);
	}
	rc = err ? EXIT_FAIL : EXIT_OK;
done:
	image_free(img);
	free(out);
	free(script);
	link_cli_free(&c);
	return rc;
}

int cmd_relink(int argc, char **argv)
{
	struct link_cli c = { 0 };
	struct relink_out rout = { .file.fd = -1 };
	struct input_refs refs = { 0 };
	struct libs libs = { 0 };
	struct image *img = NULL;
	char *script = NULL;
	int rc = parse(&c, argc, argv, relink_help), err;

	if (rc)
		goto done;
	if (!c.args.n) {
		rc = usage_error("relink needs a frozen object: surgeon relink APP.o [-T APP.ld] INPUT... -o OUT");
		goto done;
	}
	if (!c.output) {
		rc = usage_error("relink needs an output: -o OUT");
		goto done;
	}
	c.ro.output = c.output;
	c.ro.mode = 0755;
	c.ro.verb = "relink";
	c.ro.program = c.args.v[0];
	c.ro.program_digest = sha256_start(c.ro.program);
	/* Rebuild the original image from the object, then link as add-lib does. */
	err = image_open_frozen(&img, c.args.v[0], &c.io);
	if (!err && !c.script) {
		const char *dir = tmp_dir();

		script = dir ? xasprintf("%s/frozen.ld", dir) : NULL;
		err = !script || unexec_write_script(img, script);
	}
	err = err ?: relink_begin(&rout, img, &c.ro);
	/* The libraries gcc would add, as add-lib adds them; as there, when
	 * the program defines every name the inputs use (or nothing is new),
	 * the linker need not find the program's libraries (a cross link may
	 * have no copy of them). */
	c.ro.names_all_known = !relink_adds_code(&c.ro);
	if (!err && c.ro.inputs.n) {
		err = inputs_referenced(&c.ro, img, &refs);
		c.ro.names_all_known = !err && input_refs_all_known(img, &refs);
		err = err || (!c.ro.names_all_known && libs_plan(&libs, img, &c.ro, &refs));
		c.ro.libs = &libs;
		c.ro.refs = &refs;
	}
	err = err ?: relink_run(img, c.args.v[0], c.script ? c.script : script, &c.ro, &rout);
	rc = err ? EXIT_FAIL : EXIT_OK;
done:
	relink_abandon(&rout);
	image_free(img);
	input_refs_free(&refs);
	libs_free(&libs);
	free(script);
	link_cli_free(&c);
	return rc;
}

int cmd_add_lib(int argc, char **argv)
{
	struct link_cli c = { 0 };
	struct image *img = NULL;
	char *obj = NULL, *script = NULL, *out = NULL;
	struct input_refs refs = { 0 };
	struct relink_out rout = { .file.fd = -1 };
	struct libs libs = { 0 };
	const char *dir;
	struct stat st;
	int rc = parse(&c, argc, argv, add_lib_help), err = -1;

	if (rc)
		goto done;
	if (c.args.n < 1 || !c.ro.inputs.n) {
		rc = usage_error("add-lib needs a program and what to add: surgeon add-lib APP LIB... [-o OUT]");
		goto done;
	}
	if (c.script) {
		rc = usage_error("add-lib writes its own linker script; use unexec and relink for -T");
		goto done;
	}
	rc = EXIT_FAIL;
	dir = tmp_dir();
	out = c.output ? xstrdup(c.output) : default_name(c.args.v[0], ".new");
	obj = dir ? xasprintf("%s/image.o", dir) : NULL;
	script = dir ? xasprintf("%s/image.ld", dir) : NULL;
	if (!out || !obj || !script)
		goto done;
	c.ro.output = out;
	c.ro.verb = "add-lib";
	c.ro.program = c.args.v[0];
	/* The note's digest of the program is computed meanwhile, on another core. */
	c.ro.program_digest = sha256_start(c.ro.program);

	/* Read and check the program's headers; its old bytes start on their
	 * way to the output while the rest is read (its debug info waits:
	 * input_refs_need_dwarf). */
	c.io.defer_dwarf = true;
	if (image_open_headers(&img, c.args.v[0], &c.io))
		goto done;
	c.ro.mode = fstat(img->fd, &st) ? 0755 : st.st_mode & 07777;
	if (relink_begin(&rout, img, &c.ro))
		goto done;
	/* Only the program's names the inputs use (and --replace/--wrap name)
	 * are loaded and offered to the linker: node has 184K symbols. */
	if (inputs_referenced(&c.ro, img, &refs))
		goto done;
	for (size_t i = 0; refs.set && i < c.ro.patch_reqs.n; i++)	/* patching */
		if (strmap_put(refs.set, c.ro.patch_reqs.v[i].old, (void *)c.ro.patch_reqs.v[i].old))
			goto done;
	/* A static program is loaded whole: the C library it may borrow
	 * from refers to much of what it has (relink/libs.c). */
	if (refs.set && img->interp && image_want(img, refs.set))
		goto done;
	err = image_load(img);
	if (err)
		goto done;
	err = -1;
	/* A name nothing the program's tables give may come from a library gcc
	 * adds: the names those archives use are offered too. */
	if (img->interest && !input_refs_all_known(img, &refs)) {
		err = libs_archive_names(&refs, img->arch);
		if (err < 0 || (err > 0 && image_want(img, NULL)) || image_reload_symbols(img))
			goto done;
		err = -1;
	}
	if (input_refs_need_dwarf(img, &c.ro, &refs) && image_load_dwarf(img))
		goto done;
	/* Then the program's shared libraries have nothing to give the linker,
	 * nor the libraries gcc adds. */
	c.ro.names_all_known = input_refs_all_known(img, &refs);
	if (!c.ro.names_all_known) {
		if (libs_plan(&libs, img, &c.ro, &refs))
			goto done;
		c.ro.libs = &libs;
	}
	c.ro.refs = &refs;
	if (img->symtab_idx < 0)
		c.ro.undef_hint = "the program has no .symtab: only its dynamic symbols and imports have names";
	/* Freeze it: addresses and symbols only; the bytes stay in the original. */
	if (unexec_write_object(img, obj, &(struct freeze_opts){ .thin = true, .weak_exports = c.ro.allow_interpose }) ||
	    unexec_write_script(img, script))
		goto done;
	/* Link, write, verify, rename. */
	err = relink_run(img, obj, script, &c.ro, &rout);
	rc = err ? EXIT_FAIL : EXIT_OK;
done:
	relink_abandon(&rout);
	image_free(img);
	input_refs_free(&refs);
	libs_free(&libs);
	free(obj);
	free(script);
	free(out);
	link_cli_free(&c);
	return rc;
}

/* inject: the link of add-lib, loaded into a process (live/). */
int cmd_inject(int argc, char **argv)
{
	struct link_cli c = { 0 };
	int rc = parse(&c, argc, argv, inject_help);

	if (rc)
		goto done;
	if (c.args.n < 1 || (!c.ro.inputs.n && !c.ro.undefs.n)) {
		rc = usage_error("inject needs a process and what to add: surgeon inject PID INPUT...");
		goto done;
	}
	rc = live_inject(c.args.v[0], &c.ro, &c.io) ? EXIT_FAIL : EXIT_OK;
done:
	link_cli_free(&c);
	return rc;
}

/* surgeon's entry point: global options, then the verb. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <signal.h>
#include <unistd.h>

#include "surgeon.h"
#include "cli/cli.h"
#include "unexec/dwarf.h"

static const char usage_text[] =
	"usage: surgeon [OPTION]... COMMAND ARGS...\n"
	"\n"
	"Relink an executable nobody can rebuild: every byte it loads stays at its\n"
	"address; new code and data go into new segments after the old ones.\n"
	"\n"
	"Commands:\n"
	"  add-lib APP LIB... [-o OUT]     link static libraries and objects into APP\n"
	"  unexec APP [-o APP.o] [-T APP.ld]\n"
	"                                  freeze APP into a relocatable object pinned\n"
	"                                  at APP's addresses, and a GNU ld script\n"
	"  relink APP.o [-T APP.ld] INPUT... -o OUT\n"
	"                                  link a frozen object with new inputs\n"
	"  headers APP [-o APP.h] [--static NAME]...\n"
	"                                  C declarations of APP's functions, variables\n"
	"                                  and types, from its debug info\n"
	"  verify ORIG NEW [--json]        prove every old loaded byte of ORIG is\n"
	"                                  unchanged in NEW but for recorded edits\n"
	"  info FILE [--json]              segments, symbols and surgery history\n"
	"  info --map FILE [NEW]           draw the address space: old and new segments\n"
	"  disasm FILE [SYMBOL|ADDR[-END]]\n"
	"                                  disassemble, with symbolized operands\n"
	"  inject PID LIB... [--replace OLD=NEW]\n"
	"                                  link libraries into a running process\n"
	"  eject PID [ID]                  undo an injection\n"
	"  info --pid PID                  what was injected into a process\n"
	"\n"
	"Options, before the command or after it:\n"
	"  -v, --verbose      say what is done; list deliberate edits of old bytes\n"
	"      --keep-temps   keep intermediate files\n"
	"  -h, --help         print this help, or after a command, the command's\n"
	"      --version      print surgeon's version\n"
	"\n"
	"'surgeon COMMAND --help' describes each command's options; 'man surgeon-COMMAND'\n"
	"tells more.\n";

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("surgeon: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'surgeon --help'.\n", stderr);
	return EXIT_USAGE;
}

bool cli_common_opt(int opt, const char *help)
{
	switch (opt) {
	case 'v':
		verbose++;
		return true;
	case 'h':
		fputs(help, stdout);
		exit(EXIT_OK);
	case OPT_KEEP:
		tmp_init(true);
		return true;
	case OPT_VERSION:
		printf("surgeon %s\n", SURGEON_VERSION);
		exit(EXIT_OK);
	}
	return false;
}

static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
} verbs[] = {
	{ "add-lib", cmd_add_lib },
	{ "unexec", cmd_unexec },
	{ "relink", cmd_relink },
	{ "headers", cmd_headers },
	{ "disasm", cmd_disasm },
	{ "info", cmd_info },
	{ "verify", cmd_verify },
	{ "inject", cmd_inject },
	{ "eject", cmd_eject },
};

static char **saved_argv;
static const char *dwarf_file;	/* the watchdog's: what is being read */
static bool dwarf_fatal;	/* and whether the verb needs it */

struct image_opts cli_image_opts(void)
{
	const char *no = getenv("SURGEON_NO_DWARF");

	return (struct image_opts){ .no_dwarf = no && !strcmp(no, "1") };
}

/* libdwarf looping on damaged debug info: start again without reading any,
 * as if it had been unusable (only unlink, nftw and execve happen here). */
static void dwarf_timeout(int sig)
{
	static const char warn[] = ": warning: reading its debug info takes too long (damaged?); carrying on without it\n";
	static const char err[] = ": reading its debug info takes too long (damaged?)\n";
	const char *f = dwarf_file ? dwarf_file : "debug info";
	bool fatal = dwarf_fatal;

	(void)sig;
	tmp_cleanup();
	if (write(2, "surgeon: ", 9) < 0 || write(2, f, strlen(f)) < 0 ||
	    write(2, fatal ? err : warn, fatal ? sizeof(err) - 1 : sizeof(warn) - 1) < 0 || fatal)
		_exit(EXIT_FAIL);
	setenv("SURGEON_NO_DWARF", "1", 1);
	execv("/proc/self/exe", saved_argv);
	_exit(EXIT_FAIL);
}

static void watchdog(unsigned seconds, const char *file, bool required)
{
	dwarf_file = file;
	dwarf_fatal = required;
	signal(SIGALRM, dwarf_timeout);
	alarm(seconds);
}

int main(int argc, char **argv)
{
	int i = 1;
	size_t v;

	saved_argv = argv;
	dwarf_set_watchdog(watchdog);
	tmp_init(false);
	atexit(tmp_cleanup);
	/* Options before the verb: only the common ones. */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose++;
		else if (!strcmp(argv[i], "--keep-temps"))
			tmp_init(true);
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			cli_common_opt('h', usage_text);
		else if (!strcmp(argv[i], "--version"))
			cli_common_opt(OPT_VERSION, NULL);
		else
			return usage_error("unknown option '%s'", argv[i]);
	}
	if (i == argc)
		return usage_error("no command given");
	for (v = 0; v < sizeof(verbs) / sizeof(*verbs); v++)
		if (!strcmp(argv[i], verbs[v].name))
			return verbs[v].run(argc - i, argv + i);
	return usage_error("unknown command '%s'", argv[i]);
}

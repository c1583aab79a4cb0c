/* surgeon eject PID [ID]: undo an injection (inject is in cli/link.c, with
 * the other verbs that link; info --pid in cli/cmd_info.c). */
#include <stdio.h>

#include "cli/cli.h"
#include "live/live.h"

static const struct option eject_opts[] = {
	CLI_COMMON_LONG_OPTS,
	{ 0 }
};

static const char eject_help[] =
	"usage: surgeon eject PID [ID]\n"
	"\n"
	"Undo an injection made by 'surgeon inject' in the running process PID: the\n"
	"last one, or injection ID ('surgeon info --pid PID' lists them). Every\n"
	"thread is stopped; none may be running in the injected code, or in bytes a\n"
	"patch changed, or about to return there: eject lets the process run and\n"
	"tries again for up to 2 s, then refuses and changes nothing. Then the added\n"
	"destructors run, the patched bytes get their original contents back, and\n"
	"the injected code and its record are unmapped. An injection that surgeon\n"
	"did not finish (it was killed) is cleaned up the same way.\n"
	"\n"
	"  -v, --verbose      say what is done, and how long the process was stopped\n";

int cmd_eject(int argc, char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "vh", eject_opts, NULL)) != -1) {
		if (opt == '?')
			return usage_error("unknown option '%s'", argv[optind - 1]);
		if (!cli_common_opt(opt, eject_help))
			return usage_error("unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind < 1 || argc - optind > 2)
		return usage_error("eject takes a process and optionally an injection: surgeon eject PID [ID]");
	return live_eject(argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL) ? EXIT_FAIL : EXIT_OK;
}

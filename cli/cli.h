/* The command line: main() dispatches on the verb; each verb parses its own
 * options and reads as its pipeline. */
#ifndef SURGEON_CLI_H
#define SURGEON_CLI_H

#include <getopt.h>

#include "unexec/image.h"
#include "util/util.h"

/* One line "surgeon: ..." plus a hint to try --help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Handles options every verb shares (-v, --keep-temps, --help, --version). */
bool cli_common_opt(int opt, const char *help);

enum {
	OPT_KEEP = 1000,
	OPT_VERSION,
	OPT_FIRST_VERB,	/* verbs number their own long options from here */
};

#define CLI_COMMON_LONG_OPTS \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "keep-temps", no_argument, NULL, OPT_KEEP }, \
	{ "version", no_argument, NULL, OPT_VERSION }

/* How verbs read programs, as the environment says (SURGEON_NO_DWARF). */
struct image_opts cli_image_opts(void);
/* "LOAD", "GNU_RELRO", or the number in hex (in buf). */
const char *phdr_type_name(uint32_t type, char *buf, size_t len);
/* info --map: the address space of one file, or of ORIG and NEW side by side. */
int info_map(char **paths, int n, bool json);

int cmd_add_lib(int argc, char **argv);
int cmd_unexec(int argc, char **argv);
int cmd_relink(int argc, char **argv);
int cmd_headers(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inject(int argc, char **argv);
int cmd_eject(int argc, char **argv);

#endif

/* Uses stdout and environ: the program's copies of them. */
#include <stdio.h>
#include <string.h>
extern char **environ;
extern void (*hook)(void);
static void my_hook(void)
{
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "SURGEON_T_A=", 12))
			fprintf(stdout, "plugin sees %s\n", *e);
	fputs("plugin wrote to stdout\n", stdout);
}
__attribute__((constructor)) static void init(void) { hook = my_hook; }

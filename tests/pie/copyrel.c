/* A program whose data references to libc's stdout, stderr and environ are
 * COPY relocations when it is not position-independent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern char **environ;
void (*hook)(void);
int main(void)
{
	int n = 0;
	for (char **e = environ; *e; e++)
		if (!strncmp(*e, "SURGEON_T_", 10))
			n++;
	fprintf(stdout, "environ has %d SURGEON_T_ variables\n", n);
	fflush(stdout);
	if (hook)
		hook();
	fprintf(stderr, "to stderr\n");
	return n;
}

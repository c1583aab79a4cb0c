/* A static glibc program's errno, through __errno_location and directly:
 * the program's own thread-local errno (glibc's libc.a defines it as the
 * TLS symbol errno). */
#include <errno.h>
#include <stdio.h>
#undef errno
extern __thread int errno;
extern void (*plugin_hook)(void);

static void run(void)
{
	errno = 0;
	if (!fopen("/nonexistent/surgeon", "r"))
		printf("errno: directly %d, through __errno_location %d\n", errno, *__errno_location());
	errno = 33;
	printf("errno: set directly, read through __errno_location: %d\n", *__errno_location());
}

__attribute__((constructor)) static void init(void)
{
	plugin_hook = run;
}

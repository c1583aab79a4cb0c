/* The C library itself: stdio streams, errno, the environment, and
 * variables the program does not use (so a PIE plugin gets them copied);
 * IFUNCs the program lacks (memrchr, wcslen: a static program borrows them
 * with their resolvers). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

extern char **environ;
extern void (*plugin_hook)(int argc, char **argv);

static void bye(void)
{
	printf("libc: atexit handler ran\n");
}

static void run(int argc, char **argv)
{
	int n = 0;

	printf("libc: opterr from the program: %d\n", opterr);
	opterr = 9;
	fputs("libc: to stdout through the stdout variable\n", stdout);
	errno = 0;
	if (!fopen("/nonexistent/surgeon", "r"))
		printf("libc: fopen failed: errno %d (%s)\n", errno, strerror(errno));
	setenv("SURGEON_REAL_LIBS", "yes", 1);
	for (char **e = environ; *e; e++)
		n += !strcmp(*e, "SURGEON_REAL_LIBS=yes");
	printf("libc: environ sees setenv: %d, getenv: %s\n", n, getenv("SURGEON_REAL_LIBS"));
	setenv("TZ", "EST5", 1);
	tzset();
	printf("libc: timezone %ld daylight %d tzname %s\n", timezone, daylight, tzname[0]);
	char buf[64];
	snprintf(buf, sizeof(buf), "%05.1f|%x|%s", 3.25, 255, argc > 0 ? "argv" : "");
	printf("libc: %s %zu\n", buf, strlen(argv[0]) > 0 ? (size_t)1 : (size_t)0);
	optind = 1;
	printf("libc: getopt %d\n", getopt(argc, argv, "x"));
	printf("libc: memrchr %s wcslen %zu\n", (const char *)memrchr(buf, '|', strlen(buf)), wcslen(L"surgeon"));
	/* libc_nonshared.a's atexit (in a dynamic program), libgcc's popcount.
	 * (musl's exit() calls a weak stand-in unless atexit was linked: a
	 * static musl program without it cannot run new handlers.) */
#ifdef __GLIBC__
	atexit(bye);
#else
	(void)bye;
#endif
	volatile unsigned long long bits = 0xf0f0f0f0f0f0f0f1ull;
	printf("libc: popcount %d\n", __builtin_popcountll(bits));
}

__attribute__((constructor)) static void init(void) { plugin_hook = run; }

/* Indirect calls everywhere, so that BTI matters: into the program (tw),
 * into added code (hook, set by an added constructor), and from added code
 * into the program (app_add1). With no libc (raw system calls) unless
 * LIBC: a static program that needs no crt files. */
#ifdef LIBC
#include <stdio.h>
#define say(s, v) printf("%s%d\n", s, v)
#else
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

static void say(const char *s, int v)
{
	char buf[64], d[12];
	int n = 0, k = 0;

	while (*s)
		buf[n++] = *s++;
	do d[k++] = '0' + v % 10; while (v /= 10);
	while (k)
		buf[n++] = d[--k];
	buf[n++] = '\n';
	sys3(64, 1, (long)buf, n);
}
#endif

int twice(int x);
int app_add1(int x) { return x + 1; }
int (*volatile tw)(int) = twice;
int (*volatile hook)(int);

/* With CTOR the program has its own constructor (and, with libc, a
 * destructor): surgeon hooks its .init_array and .fini_array slots with
 * its thunks, which the start-up code and ld.so call through pointers. */
#ifdef CTOR
static int ctor_ran;
__attribute__((constructor)) static void app_init(void) { ctor_ran = 40; }
#ifdef LIBC
__attribute__((destructor)) static void app_fini(void) { say("app_fini ", ctor_ran); }
#endif
#else
#define ctor_ran 0
#endif

int main(int argc, char **argv)
{
	(void)argv;
	say("twice(5)=", tw(5 + argc - 1) + ctor_ran);
	if (hook)
		say("hook(7)=", hook(7));
	return 0;
}

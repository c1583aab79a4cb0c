/* The program to patch: sum_to has an off-by-one bug and is reached directly,
 * through a function-pointer table and through a callback; twice is wrapped;
 * getenv is an import (dynamic builds) or a libc function (static builds),
 * called directly and through a pointer. Built from source with -DFIXED,
 * -DWRAPPED and -DENVFIX (plus wrap.c, env.c) it is the oracle. */
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline, noclone))

NOINLINE int sum_to(int n)
{
	int s = 0;
#ifdef FIXED
	for (int i = 0; i <= n; i++)
#else
	for (int i = 0; i < n; i++)	/* the bug: n itself is left out */
#endif
		s += i;
	return s;
}

#ifdef WRAPPED
#define twice __real_twice
#endif
NOINLINE int twice(int x)
{
	return 2 * x + (x > 100);
}
#ifdef WRAPPED
#undef twice
int __wrap_twice(int);
#define twice __wrap_twice
#endif

#ifdef ENVFIX
char *my_getenv(const char *);
#define getenv my_getenv
#endif

int (*table[])(int) = { sum_to, twice };
char *(*getter)(const char *) = getenv;

NOINLINE int apply(int (*f)(int), int v) { return f(v); }
NOINLINE int tail(int n) { return sum_to(n + 1); }

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	const char *e1 = getenv("PATCH_TEST_VAR"), *e2 = getter("PATCH_TEST_VAR"), *e3 = getenv("HOME");

	printf("sum direct=%d table=%d callback=%d tail=%d\n", sum_to(n), table[argc > 9](n), apply(sum_to, n),
	       tail(n));
	int t1 = twice(n);
	int t2 = table[1](n + 1);
	int t3 = apply(twice, n + 2);

	printf("twice direct=%d table=%d callback=%d\n", t1, t2, t3);
	printf("env direct=%s pointer=%s home-set=%d\n", e1 ? e1 : "(null)", e2 ? e2 : "(null)", e3 != NULL);
	return sum_to(3);
}

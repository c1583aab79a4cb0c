/* A program for the PIE tests: globals, a hook the plugin installs, data the
 * plugin points at, and (unless NO_DLSYM) a dlsym lookup of the plugin's
 * export "plug_entry". It never calls puts, strlen, qsort, memcpy, cos. */
#include <stdio.h>
#ifndef NO_DLSYM
#include <dlfcn.h>
#endif
int counter = 5;
const char *greeting = "hello";
int table[4] = { 1, 2, 3, 4 };
void (*hook)(int);
int add(int a) { return a + counter; }
int twice(int a) { return 2 * a; }

int main(int argc, char **argv)
{
	(void)argv;
	printf("add=%d argc=%d\n", add(1), argc);
	if (hook)
		hook(42);
#ifndef NO_DLSYM
	{
		int (*f)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "plug_entry");

		printf("dlsym plug_entry: %s\n", f ? "found" : "missing");
		if (f)
			printf("plug_entry(7)=%d\n", f(7));
	}
#endif
	printf("counter=%d table=%d,%d,%d,%d\n", counter, table[0], table[1], table[2], table[3]);
	return counter & 0x7f;
}

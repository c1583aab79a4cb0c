/* The old program of the core tests: globals, a function-pointer hook the
 * plugin installs itself into, and output that shows what the plugin did. */
#include <stdio.h>

int counter = 5;
int table[4] = { 1, 2, 3, 4 };
void (*hook)(int);
const char *greeting = "hello";

__attribute__((noinline)) int add(int a)
{
	return a + counter;
}

__attribute__((noinline)) int twice(int a)
{
	return 2 * a;
}

int main(int argc, char **argv)
{
	printf("main: add(1)=%d twice(3)=%d argc=%d\n", add(1), twice(3), argc);
	if (hook)
		hook(42);
	printf("main: counter=%d table=%d,%d,%d,%d greeting=%s\n", counter, table[0], table[1],
	       table[2], table[3], greeting);
	return counter & 0x7f;
}

/* A plugin for app.c: calls old functions, reads and writes old globals, keeps
 * pointers to old globals and functions in initialized data, installs itself
 * into the old hook from a constructor and prints from a destructor. */
#include <stdio.h>

extern int counter;
extern int table[4];
extern void (*hook)(int);
extern const char *greeting;
int add(int);
int twice(int);

int *p_counter = &counter;
int (*f_add)(int) = add;
int (*f_twice)(int) = twice;
int *p_table2 = &table[2];
int plug_calls;

void plug_hook(int x)
{
	plug_calls++;
	printf("plug: hook(%d) add=%d via pointer=%d twice=%d greeting=%s\n", x, add(x), f_add(x),
	       f_twice(x), greeting);
	*p_counter += 10;
	*p_table2 = 99;
	table[0] = -table[0];
}

__attribute__((constructor)) static void plug_init(void)
{
	printf("plug: init counter=%d hook=%d\n", counter, hook != 0);
	hook = plug_hook;
	counter++;
}

__attribute__((destructor)) static void plug_fini(void)
{
	printf("plug: fini counter=%d calls=%d\n", counter, plug_calls);
}

/* Plugin (a): calls old functions, touches old globals, keeps pointers to
 * old data and functions in initialized data (RELATIVE relocations in a
 * PIE), installs the hook from a constructor, and has a destructor. */
#include <stdio.h>
extern int counter, table[4];
extern const char *greeting;
extern void (*hook)(int);
int add(int), twice(int);

int *p_counter = &counter;
int *p_table2 = &table[2];
const char **p_greeting = &greeting;
int (*p_ops[2])(int) = { add, twice };
static struct { const char *name; int (*fn)(int); int *where; } entries[] = {
	{ "add", add, &counter }, { "twice", twice, &table[3] },
};

static void my_hook(int x)
{
	printf("hook %d: %s add=%d twice=%d\n", x, *p_greeting, p_ops[0](x), p_ops[1](x));
	for (unsigned i = 0; i < sizeof entries / sizeof *entries; i++)
		printf("  %s(%d)=%d where=%d\n", entries[i].name, x, entries[i].fn(x), *entries[i].where);
	*p_counter += 10;
	*p_table2 = add(100);
}

__attribute__((constructor)) static void plug_init(void) { hook = my_hook; printf("plug ctor counter=%d\n", counter); }
__attribute__((destructor)) static void plug_fini(void) { printf("plug dtor counter=%d table2=%d\n", counter, table[2]); }

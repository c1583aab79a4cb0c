/* Plugin (b): needs libm (cos) and libc functions the program never
 * imports (puts, strlen, qsort, memcpy), and exports plug_entry, which the
 * program finds with dlsym. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern int counter;
extern void (*hook)(int);
int add(int);
int plug_helper(int x) { return x + 1; }

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int plug_entry(int x)
{
	int v[5] = { 9, x, 3, counter, 1 }, w[5];
	char buf[64];
	volatile size_t n = sizeof v;

	memcpy(w, v, n);
	qsort(w, 5, sizeof *w, cmp);
	snprintf(buf, sizeof buf, "sorted %d %d %d %d %d", w[0], w[1], w[2], w[3], w[4]);
	puts(buf);
	return (int)strlen(buf) + plug_helper(x) + (int)(100 * cos((double)x / (counter + 1)));
}

static void my_hook(int x) { printf("hook %d entry=%d\n", x, plug_entry(x)); }
__attribute__((constructor)) static void plug_init(void) { hook = my_hook; }

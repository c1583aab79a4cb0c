/* The plugin reads nothing thread-local itself; it calls back into old code. */
#include <stdio.h>
extern void (*hook)(int);
static void my_hook(int v) { printf("hook sees tv=%d\n", v); }
__attribute__((constructor)) static void init(void) { hook = my_hook; }

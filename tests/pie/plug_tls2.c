/* The plugin reads and writes the program's __thread variable. */
#include <stdio.h>
extern __thread int tv;
extern void (*hook)(int);
static void my_hook(int v) { tv += 1000; printf("hook sees tv=%d param=%d\n", tv, v); }
__attribute__((constructor)) static void init(void) { hook = my_hook; }

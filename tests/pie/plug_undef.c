/* Needs zlibVersion, which only libz provides; the program does not link libz. */
#include <stdio.h>
extern void (*hook)(int);
const char *zlibVersion(void);
static void h(int x) { printf("%s\n", zlibVersion()); }
__attribute__((constructor)) static void init(void) { hook = h; }

#include <stdio.h>
#include <string.h>
extern void (*hook)(int);
static void my_hook(int n) { char s[16]; snprintf(s, sizeof s, "%*d", n, n); printf("hook %d len=%zu\n", n, strlen(s)); }
__attribute__((constructor)) static void init(void) { hook = my_hook; }

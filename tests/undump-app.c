/* A program with an expensive initialization: a table in static storage and
 * a linked list built with malloc, guarded by `initialized`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef SELF
#include <surgeon.h>
#endif

struct node { struct node *next; unsigned val; char name[20]; };
static int initialized;
static unsigned table[50000];
static struct node *list;
static char *big;
static unsigned long rounds = 1;

static void init(void)
{
	unsigned x = 12345;
	for (unsigned long r = 0; r < rounds; r++)
		for (int i = 0; i < 50000; i++) { x = x * 1103515245u + 12345u; table[i] ^= x >> 7; }
	for (int i = 0; i < 2000; i++) {
		struct node *n = malloc(sizeof(*n) + (i % 5) * 24);
		n->val = table[(i * 97) % 50000];
		snprintf(n->name, sizeof(n->name), "node%d", i);
		n->next = list; list = n;
	}
#ifndef NOBIG
	big = malloc(300000);	/* above the mmap threshold: anonymous memory */
	for (int i = 0; i < 300000; i++) big[i] = (char)(i * 7);
#endif
	initialized = 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "full";
	int ran = 0;
	if (getenv("ROUNDS")) rounds = strtoul(getenv("ROUNDS"), 0, 10);	/* benchmarks: a longer init */
	if (!initialized) { init(); ran = 1; }
	fprintf(stderr, "init ran: %s\n", ran ? "yes" : "no");
	if (ran && !strcmp(mode, "stop")) { fflush(NULL); raise(SIGSTOP); }
	if (ran && !strcmp(mode, "pipe")) { char c; fflush(NULL); printf("ready\n"); fflush(stdout); if (read(0, &c, 1) < 0) return 9; }
	/* Where the program's data and the heap block it points at are, and a
	 * shared library's function: the tests compare runs. */
	if (!strcmp(mode, "addr")) { printf("%p %p %p\n", (void *)table, (void *)list, (void *)(unsigned long)printf); return 0; }
#ifdef SELF
	if (ran && !strcmp(mode, "self")) { fprintf(stderr, "at %p %p\n", (void *)table, (void *)list); if (surgeon_dump_self(argv[2])) { perror("surgeon_dump_self"); return 3; } }
#endif
	unsigned long sum = 0, cnt = 0, bigsum = 0;
	for (int i = 0; i < 50000; i++) sum = sum * 31 + table[i];
	for (struct node *n = list; n; n = n->next) { sum += n->val + (unsigned char)n->name[4]; cnt++; }
	if (big) for (int i = 0; i < 300000; i += 97) bigsum += (unsigned char)big[i];
	printf("table+list %lu nodes %lu big %lu first %s\n", sum, cnt, bigsum, list ? list->name : "-");
	/* malloc and free after the dump */
	void *ps[500];
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < 500; i++) { ps[i] = malloc(16 + i * 40); memset(ps[i], i, 16 + i * 40); }
		for (int i = 0; i < 500; i += 2) free(ps[i]);
		for (int i = 1; i < 500; i += 2) { if (((unsigned char *)ps[i])[10] != (unsigned char)i) { printf("corrupt\n"); return 4; } free(ps[i]); }
	}
	char *large = malloc(1 << 20); memset(large, 1, 1 << 20); free(large);
#ifdef FREE_OLD
	while (list) { struct node *n = list->next; free(list); list = n; }
	free(big); big = 0;
	printf("old blocks freed\n");
#endif
	printf("malloc ok\n");
	return 0;
}

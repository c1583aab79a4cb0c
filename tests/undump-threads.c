/* A threaded program with an expensive initialization: a table and a
 * malloc'd list built once, guarded by `initialized`, then three workers
 * that are either blocked on a condition variable or busy spinning while
 * the main thread waits on standard input ("pipe"). A dump keeps the memory
 * and loses the workers: the dumped program skips the initialization and
 * the old workers, then, like a full run, starts new threads that read the
 * table, allocate and free, forks, and prints the same results. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct node { struct node *next; unsigned val; };
static int initialized;
static unsigned table[50000];
static struct node *list;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int go;
static volatile unsigned long spins[3];
static pthread_t old[3];

static void *blocked(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return arg;
}

static void *busy(void *arg)
{
	long i = (long)arg;

	while (!go)
		spins[i]++;
	return arg;
}

/* A new thread's share: a slice of the table, and allocations. */
static void *work(void *arg)
{
	long k = (long)arg;
	unsigned long sum = 0;
	void *p[100];

	for (int i = (int)k * 12500; i < (int)(k + 1) * 12500; i++)
		sum = sum * 31 + table[i];
	for (int r = 0; r < 20; r++) {
		for (int i = 0; i < 100; i++) { p[i] = malloc(16 + i * 8); memset(p[i], (int)k, 16 + i * 8); }
		for (int i = 0; i < 100; i++) free(p[i]);
	}
	return (void *)sum;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "full", *kind = argc > 2 ? argv[2] : "blocked";
	int ran = 0;

	if (!initialized) {
		unsigned x = 12345;
		for (int i = 0; i < 50000; i++) { x = x * 1103515245u + 12345u; table[i] = x >> 7; }
		for (int i = 0; i < 2000; i++) {
			struct node *n = malloc(sizeof(*n));
			n->val = table[(i * 97) % 50000]; n->next = list; list = n;
		}
		for (long i = 0; i < 3; i++)
			if (pthread_create(&old[i], NULL, strcmp(kind, "busy") ? blocked : busy, (void *)i))
				return 5;
		initialized = ran = 1;
	}
	fprintf(stderr, "init ran: %s\n", ran ? "yes" : "no");
	if (!strcmp(mode, "count")) {	/* how many threads run now */
		int n = 0;
		DIR *d = opendir("/proc/self/task");
		for (struct dirent *e; d && (e = readdir(d));)
			n += e->d_name[0] != '.';
		printf("%d threads\n", n);
		return 0;
	}
	if (ran && !strcmp(mode, "pipe")) {
		char c;
		while (!strcmp(kind, "busy") && (!spins[0] || !spins[1] || !spins[2]))
			usleep(1000);
		printf("ready\n"); fflush(stdout);
		if (read(0, &c, 1) < 0) return 9;
	}
	if (ran) {	/* a full run ends its workers; a dump has none */
		pthread_mutex_lock(&mu); go = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu);
		for (int i = 0; i < 3; i++) pthread_join(old[i], NULL);
	}
	pthread_t t[4];
	unsigned long sums[4], listsum = 0;
	for (long k = 0; k < 4; k++)
		if (pthread_create(&t[k], NULL, work, (void *)k)) { printf("pthread_create failed\n"); return 6; }
	for (int k = 0; k < 4; k++) { void *r; pthread_join(t[k], &r); sums[k] = (unsigned long)r; }
	for (struct node *n = list; n; n = n->next) listsum += n->val;
	fflush(stdout);
	pid_t c = fork();
	if (!c) _exit(7);
	int st = 0;
	waitpid(c, &st, 0);
	printf("slices %lu %lu %lu %lu list %lu fork %d\n", sums[0], sums[1], sums[2], sums[3], listsum,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

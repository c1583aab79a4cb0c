/* New thread-local variables (initialised, zero, over-aligned) beside the
 * program's, used from the main thread and from threads the plugin makes,
 * before and after: each thread starts from the templates. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

extern __thread int counter;
extern __thread long zcount;
extern __thread char label[16];
extern void (*plugin_hook)(void);

__thread long newv = 77;
__thread char newz[40];
/* aarch64 builds it with -DTLS_ALIGN=16 too: its TLS block cannot take a
 * larger alignment than it had without moving the old variables. */
#ifndef TLS_ALIGN
#define TLS_ALIGN 32
#endif
__thread double newd __attribute__((aligned(TLS_ALIGN))) = 2.5;
static __thread int hidden = -3;

__attribute__((noinline)) void plugin_in_thread(long k)
{
	newv += k;
	counter += 1000;
	snprintf(label, sizeof(label), "t%ld", k);
	printf("thread %ld: newv %ld newd %.1f newz %d hidden %d counter %d zcount %ld label %s\n", k, newv, newd,
	       newz[3], hidden, counter, zcount, label);
}

static void *thr(void *a)
{
	plugin_in_thread((long)a);
	return NULL;
}

static void run(void)
{
	pthread_t t[2];

	printf("plugin: counter %d zcount %ld newv %ld hidden %d label %s\n", counter, zcount, newv, hidden, label);
	counter += 10;
	zcount = 1;
	newz[3] = 4;
	hidden = 8;
	strcpy(label, "plugged");
	for (long k = 0; k < 2; k++) {
		pthread_create(&t[k], NULL, thr, (void *)(k + 5));
		pthread_join(t[k], NULL);
	}
	printf("plugin: main newv %ld newz %d hidden %d\n", newv, newz[3], hidden);
}

__attribute__((constructor)) static void init(void)
{
	newv++;
	plugin_hook = run;
}

/* An added C frame (built with -fexceptions) between old code that throws
 * and old code that catches; backtrace() and pthread_cancel through added
 * frames; a function to stop in for gdb and eu-stack. */
#include <execinfo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern int (*via)(int (*cb)(int), int);
extern void (*hook)(void);

__attribute__((noinline)) static int via_impl(int (*cb)(int), int x)
{
	int r = cb(x);

	__asm__ volatile("" : "+r"(r));
	return r + 1;
}

/* Where backtrace() is called: the added frames and the program's main. */
__attribute__((noinline)) void added_backtrace(void)
{
	void *pcs[16];
	int n = backtrace(pcs, 16);
	FILE *f = fopen(getenv("UNWIND_PCS") ? getenv("UNWIND_PCS") : "/dev/null", "w");

	if (f)	/* where this function is, to take a PIE's load address out */
		fprintf(f, "%p\n", (void *)added_backtrace);
	for (int i = 0; f && i < n; i++)
		fprintf(f, "%p\n", pcs[i]);
	if (f)
		fclose(f);
	printf("backtrace: %d frames\n", n);
}

static void cleanup(void *arg)
{
	(void)arg;
	printf("cancel: the added code's cleanup handler ran\n");
}

/* Blocks in added code until cancelled: the cancellation unwinds it. */
__attribute__((noinline)) static void blocked_in_added_code(int fd)
{
	char c;

	pthread_cleanup_push(cleanup, NULL);
	while (read(fd, &c, 1) != 0)
		;
	pthread_cleanup_pop(0);
}

static void *blocker(void *arg)
{
	blocked_in_added_code((int)(long)arg);
	return NULL;
}

/* eu-stack and gdb look at the process while it waits here. */
__attribute__((noinline)) void added_wait(void)
{
	if (getenv("UNWIND_WAIT")) {
		printf("waiting\n");
		fflush(stdout);
		pause();
	}
}

static void run(void)
{
	pthread_t t;
	int p[2];
	void *ret = NULL;

	added_backtrace();
	if (pipe(p) == 0 && pthread_create(&t, NULL, blocker, (void *)(long)p[0]) == 0) {
		usleep(100000);
		pthread_cancel(t);
		pthread_join(t, &ret);
		printf("cancel: the thread %s\n", ret == PTHREAD_CANCELED ? "was cancelled" : "returned");
	}
	added_wait();
}

__attribute__((constructor)) static void init(void)
{
	via = via_impl;
	hook = run;
}

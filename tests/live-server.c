/* A long-running target for the live surgery tests (tests/t-live-*.sh).
 *   live-server pipe          answers each line "N" on stdin with "N handler(N)"
 *   live-server threads K     K threads call handler() in a loop; each line on
 *                             stdin is answered as in pipe mode, plus how many
 *                             calls the threads made and whether each result
 *                             was the old or the new handler's
 *   live-server park          a thread spins inside parked() until SIGUSR1;
 *                             lines are answered as in pipe mode
 *   live-server parkforever   the same, but the thread never leaves
 * A line "s" is answered with how many SIGRTMIN it has received.
 * It prints "ready" on stderr when it is.
 * handler(x) = 3x + 7; libfix's handler_fixed(x) = 3x + 1000. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline, noipa)) long handler(long x)
{
	return x * 3 + 7;
}

/* parked(): its first instruction is the system call that blocks it
 * (pause, set up by park_call), so a thread waiting there sits inside the
 * bytes --replace changes: after the call, at parked+2. It leaves once
 * `go` is set (by SIGUSR1 in park mode). */
volatile int go;
long park_call(long x);
__asm__(".text\n"
	".globl parked\n"
	".type parked, @function\n"
	"parked:\n"
	"	syscall\n"
	"	cmpl $0, go(%rip)\n"
	"	jne 2f\n"
	"	mov $34, %eax\n"		/* __NR_pause */
	"	jmp parked\n"
	"2:	lea 5(%rdi), %rax\n"
	"	ret\n"
	".size parked, .-parked\n"
	".globl park_call\n"
	".type park_call, @function\n"
	"park_call:\n"
	"	mov $34, %eax\n"
	"	jmp parked\n"
	".size park_call, .-park_call\n");

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static long rt_count;	/* handled by any thread: counted atomically */

static void on_rt(int sig)
{
	(void)sig;
	__atomic_fetch_add(&rt_count, 1, __ATOMIC_RELAXED);
}

static volatile long calls[16], olds[16], news[16];

static void *worker(void *arg)
{
	long k = (long)arg;

	for (long i = 0;; i++) {
		long r = handler(i);

		if (r == i * 3 + 7)
			olds[k]++;
		else if (r == i * 3 + 1000)
			news[k]++;
		calls[k]++;
	}
	return NULL;
}

static void *parker(void *arg)
{
	(void)arg;
	park_call(1);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "pipe";
	char line[256];
	int nthreads = 0;
	pthread_t th;

	struct sigaction sa = { .sa_handler = on_rt, .sa_flags = SA_RESTART };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGRTMIN, &sa, NULL);
	if (!strcmp(mode, "threads")) {
		nthreads = argc > 2 ? atoi(argv[2]) : 4;
		for (long k = 0; k < nthreads && k < 16; k++)
			pthread_create(&th, NULL, worker, (void *)k);
	} else if (!strcmp(mode, "park") || !strcmp(mode, "parkforever")) {
		sigset_t usr1;

		if (!strcmp(mode, "park"))
			signal(SIGUSR1, on_usr1);
		pthread_create(&th, NULL, parker, NULL);
		/* SIGUSR1 goes to the parked thread, the only one that takes it. */
		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	}
	fprintf(stderr, "ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		long n = strtol(line, NULL, 10);

		if (line[0] == 's') {
			printf("signals=%ld\n", __atomic_load_n(&rt_count, __ATOMIC_RELAXED));
		} else if (nthreads) {
			long o = 0, w = 0, c = 0;

			for (int k = 0; k < nthreads; k++)
				o += olds[k], w += news[k], c += calls[k];
			printf("%ld %ld calls=%ld old=%ld new=%ld\n", n, handler(n), c, o, w);
		} else {
			printf("%ld %ld\n", n, handler(n));
		}
	}
	return 0;
}

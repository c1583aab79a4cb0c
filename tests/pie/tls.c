/* TLS of the old program: its own __thread variable (local-exec) and a
 * shared library's (initial-exec, a TPOFF64 relocation), per thread. */
#include <pthread.h>
#include <stdio.h>
__thread int tv = 7;
extern __thread int lib_tv __attribute__((tls_model("initial-exec")));
void (*hook)(int);
static void *worker(void *arg)
{
	int k = (int)(long)arg;
	tv += k;
	lib_tv += 10 * k;
	return (void *)(long)(tv + lib_tv);
}
int main(void)
{
	pthread_t th[3];
	void *r;
	for (long k = 0; k < 3; k++)
		pthread_create(&th[k], NULL, worker, (void *)(k + 1));
	for (int k = 0; k < 3; k++) {
		pthread_join(th[k], &r);
		printf("thread %d: %ld\n", k, (long)r);
	}
	if (hook)
		hook(tv);
	printf("main: tv=%d lib_tv=%d\n", tv, lib_tv);
	return tv;
}

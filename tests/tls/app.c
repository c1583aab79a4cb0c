/* A program with thread-local variables of its own, initialised and zero,
 * read by its own code after a plugin has run in other threads. */
#include <pthread.h>
#include <stdio.h>

__thread int counter = 5;
__thread long zcount;
__thread char label[16] = "main";
void (*plugin_hook)(void);

static void *worker(void *arg)
{
	counter += (int)(long)arg;
	return (void *)(long)counter;
}

int main(void)
{
	pthread_t t;
	void *r;

	counter++;
	zcount = 9;
	pthread_create(&t, NULL, worker, (void *)100);
	pthread_join(t, &r);
	printf("app: worker saw counter %ld\n", (long)r);
	if (plugin_hook)
		plugin_hook();
	printf("app: counter %d zcount %ld label %s\n", counter, zcount, label);
	return 0;
}

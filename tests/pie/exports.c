/* Old exports and new ones through every lookup path: dlsym(RTLD_DEFAULT),
 * a dlopen(NULL) handle, and a library dlopen'ed later (argv[1]) whose
 * undefined symbols are the plugin's plug_entry and the program's counter. */
#include <dlfcn.h>
#include <stdio.h>
int counter = 5;
int add(int a) { return a + counter; }
int mul(int a) { return a * counter; }

int main(int argc, char **argv)
{
	void *self = dlopen(NULL, RTLD_NOW), *late;
	int (*f)(int), *c;

	f = (int (*)(int))dlsym(RTLD_DEFAULT, "add");
	printf("default add: %d\n", f ? f(1) : -1);
	f = (int (*)(int))dlsym(self, "mul");
	printf("self mul: %d\n", f ? f(3) : -1);
	c = (int *)dlsym(self, "counter");
	printf("self counter: %d\n", c ? *c : -1);
	printf("self no_such_symbol: %s\n", dlsym(self, "no_such_symbol") ? "found" : "missing");
	f = (int (*)(int))dlsym(RTLD_DEFAULT, "plug_entry");
	printf("default plug_entry: %d\n", f ? f(2) : -1);
	f = (int (*)(int))dlsym(self, "plug_entry");
	printf("self plug_entry: %d\n", f ? f(3) : -1);
	f = (int (*)(int))dlsym(self, "plug_other");
	printf("self plug_other: %d\n", f ? f(4) : -1);
	if (argc > 1) {
		late = dlopen(argv[1], RTLD_NOW);
		if (!late) {
			printf("dlopen late: failed\n");
			return 3;
		}
		f = (int (*)(int))dlsym(late, "late_fn");
		printf("late_fn: %d\n", f ? f(10) : -1);
	}
	return 0;
}

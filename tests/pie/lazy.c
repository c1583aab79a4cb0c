/* Calls through the old PLT: printf always, getpid and getppid only when
 * asked to (argc > 3), so lazy binding leaves them unbound. */
#include <stdio.h>
#include <unistd.h>
void (*hook)(int);
int main(int argc, char **argv)
{
	(void)argv;
	printf("argc=%d\n", argc);
	if (argc > 3)
		printf("pid>0: %d ppid>0: %d\n", getpid() > 0, getppid() > 0);
	if (hook)
		hook(argc);
	return argc;
}

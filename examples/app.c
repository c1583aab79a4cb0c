/* A "shipped" program: pretend nobody has its sources any more. It keeps a
 * table of greeters and calls whatever is installed in the `greeter` hook. */
#include <stdio.h>
#include <string.h>

int visits = 41;
const char *motto = "stay where you are";
void (*greeter)(const char *who);

int bump(int n)
{
	visits += n;
	return visits;
}

int main(int argc, char **argv)
{
	const char *who = argc > 1 ? argv[1] : "world";

	printf("app: hello, %s (visit %d)\n", who, bump(1));
	if (greeter)
		greeter(who);
	else
		printf("app: no greeter installed\n");
	printf("app: motto is \"%s\" (%zu letters)\n", motto, strlen(motto));
	return 0;
}

/* New code for the old program: a constructor installs a greeter into the
 * program's hook, calls the program's own bump(), reads its globals, and
 * uses libm, which the program never linked with. */
#include <math.h>
#include <stdio.h>

extern int visits;
extern const char *motto;
extern void (*greeter)(const char *who);
int bump(int n);

static void fancy_greeter(const char *who)
{
	printf("greet: a warmer hello to %s; visits now %d\n", who, bump(10));
	printf("greet: sqrt(visits) = %.3f\n", sqrt((double)visits));
}

/* Exported: other code can find it with dlsym(RTLD_DEFAULT, "greet_version"). */
int greet_version(void)
{
	return 2;
}

__attribute__((constructor)) static void install(void)
{
	printf("greet: installed into a program whose motto is \"%s\"\n", motto);
	greeter = fancy_greeter;
}

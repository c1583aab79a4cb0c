#include <stdio.h>
#include <gmp.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	mpz_t f, p;

	mpz_init(f);
	mpz_init(p);
	mpz_fac_ui(f, 40);
	gmp_printf("gmp: 40! = %Zd\n", f);
	mpz_ui_pow_ui(p, 2, 200);
	mpz_nextprime(p, p);
	gmp_fprintf(stdout, "gmp: next prime after 2^200: %Zx\n", p);
	printf("gmp: %s\n", gmp_version);
	mpz_clear(f);
	mpz_clear(p);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

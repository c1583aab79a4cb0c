/* The program of t-dynamic-hash: exported functions, data and a TLS
 * variable, names that share a hash with ones the plugin adds, and with
 * -DVERSIONED a second, older definition of app_add (app_add@APP_0.9 beside
 * app_add@@APP_1.0; see the test's version script). tests/dynhash/gen
 * adds hundreds more exports (app_gen_*.c, built by the test). */
#include <stdio.h>

int app_counter = 5;
const char app_name[] = "dynhash";
long app_zeroed[64];
__thread int app_tls = 11;
int app_add(int a) { return a + app_counter; }
/* Same GNU hash as the plugin's coll_gnu_FY, same SysV hash as coll_sysv_BQ. */
int coll_gnu_Ez(void) { return 1; }
int coll_sysv_Aa(void) { return 2; }
/* Not exported: must not be found in the program. */
static int app_local(int a) { return a * 3; }
__attribute__((visibility("hidden"))) int app_hidden(int a) { return a * 7; }
int *app_tls_addr(void) { return &app_tls; }
#ifdef VERSIONED
int app_v09_only(void) { return 9; }
int app_old_add(int a) { return a + 1; }
__asm__(".symver app_old_add, app_add@APP_0.9");
#endif
int app_gen_sum(void);

int main(int argc, char **argv)
{
	(void)argv;
	printf("%s %d %d %d %d %ld\n", app_name, app_add(argc), app_local(argc), app_hidden(argc),
	       *app_tls_addr() + coll_gnu_Ez() + coll_sysv_Aa(), (long)app_gen_sum() + app_zeroed[argc]);
	return 0;
}

/* Calls the functions of moved_fns.s (tests/t-arm64-patch.sh). With -DBIG
 * its bss is 256 MiB, so code added after it is out of reach of a b from
 * the old functions: their patches are adrp+add+br veneers. */
#include <stdio.h>

int adrp_load(int), adr_load(int), lit_load(int), cbz_fn(int), tbz_fn(int), bcond_fn(int), tail_b(int),
    calls_bl(int), simd_lit(void);
long lit_load64(long);
#ifdef BIG
char big[256 << 20];
#endif

int main(int argc, char **argv)
{
	int x = argc > 1 ? argv[1][0] - '0' : 5;

	printf("%d %d %d %ld %d %d %d %d %d %d %d %d %d\n", adrp_load(x), adr_load(x), lit_load(x), lit_load64(x),
	       cbz_fn(x), cbz_fn(0), tbz_fn(x), tbz_fn(x + 1), bcond_fn(x), bcond_fn(-x), tail_b(x), calls_bl(x),
	       simd_lit());
#ifdef BIG
	big[x] = 1;
	return big[5];
#else
	return 0;
#endif
}

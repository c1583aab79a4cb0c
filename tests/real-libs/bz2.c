#include <stdio.h>
#include <string.h>
#include <bzlib.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	char text[2000], out[4000], back[2000];
	unsigned np = sizeof(out), nb = sizeof(back);

	for (int i = 0; i < (int)sizeof(text); i++)
		text[i] = "surgeon"[i % 7];
	if (BZ2_bzBuffToBuffCompress(out, &np, text, sizeof(text), 9, 0, 0) != BZ_OK ||
	    BZ2_bzBuffToBuffDecompress(back, &nb, out, np, 0, 0) != BZ_OK)
		printf("bz2: failed\n");
	printf("bz2: %s: %zu -> %u -> %u %s\n", BZ2_bzlibVersion(), sizeof(text), np, nb,
	       nb == sizeof(text) && !memcmp(back, text, nb) ? "same" : "different");
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

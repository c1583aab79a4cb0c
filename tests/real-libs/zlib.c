#include <stdio.h>
#include <string.h>
#include <zlib.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	const char *text = "surgeon surgeon surgeon surgeon surgeon surgeon";
	unsigned char packed[256], back[256];
	uLongf np = sizeof(packed), nb = sizeof(back);

	printf("zlib: version %s\n", zlibVersion());
	if (compress2(packed, &np, (const Bytef *)text, strlen(text) + 1, 9) != Z_OK ||
	    uncompress(back, &nb, packed, np) != Z_OK)
		printf("zlib: failed\n");
	printf("zlib: %lu -> %lu -> %lu: %s crc %08lx\n", (unsigned long)strlen(text) + 1, (unsigned long)np,
	       (unsigned long)nb, back, crc32(0, (const Bytef *)text, strlen(text)));
	gzFile f = gzopen("/nonexistent/x.gz", "rb");
	printf("zlib: gzopen of a missing file: %s\n", f ? "opened" : "NULL");
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

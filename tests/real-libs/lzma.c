#include <stdio.h>
#include <string.h>
#include <lzma.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	const char *text = "surgeon keeps every old byte at its old address; surgeon keeps every old byte";
	uint8_t out[512], back[512];
	size_t np = 0, nb = 0, in = 0;
	uint64_t limit = UINT64_MAX;

	if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (const uint8_t *)text, strlen(text), out, &np,
				    sizeof(out)) != LZMA_OK ||
	    lzma_stream_buffer_decode(&limit, 0, NULL, out, &in, np, back, &nb, sizeof(back)) != LZMA_OK)
		printf("lzma: failed\n");
	printf("lzma: %s: %zu -> %zu -> %zu %s\n", lzma_version_string(), strlen(text), np, nb,
	       nb == strlen(text) && !memcmp(back, text, nb) ? "same" : "different");
	printf("lzma: crc32 %08x\n", lzma_crc32((const uint8_t *)text, strlen(text), 0));
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

/* libFuzzer target: the image reader on arbitrary bytes. Every offset and
 * size the input claims must be checked before use (unexec/image.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unexec/image.h"
#include "unexec/dwarf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libdwarf 20210528 loops and frees twice on some damaged input, which
	 * surgeon cannot fix: its reader is left out here (cli/main.c guards it
	 * with a watchdog; t-hostile feeds it the cases found). */
	const struct image_opts io = { .no_dwarf = true };
	struct image *img;
	void *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* image_open_mem owns buf from here, whatever happens. */
	if (!image_open_mem(&img, "fuzz", buf, size, &io))
		image_free(img);
	return 0;
}

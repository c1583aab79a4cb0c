#include <stdio.h>
#include <stdlib.h>
#include <png.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	png_image img = { .version = PNG_IMAGE_VERSION, .width = 4, .height = 3, .format = PNG_FORMAT_RGB };
	unsigned char px[4 * 3 * 3], *mem;
	png_alloc_size_t size = 0;

	for (size_t i = 0; i < sizeof(px); i++)
		px[i] = (unsigned char)(i * 21);
	png_image_write_to_memory(&img, NULL, &size, 0, px, 0, NULL);
	mem = malloc(size);
	if (!mem || !png_image_write_to_memory(&img, mem, &size, 0, px, 0, NULL))
		printf("png: write failed: %s\n", img.message);
	png_image back = { .version = PNG_IMAGE_VERSION };
	if (!png_image_begin_read_from_memory(&back, mem, size))
		printf("png: read failed: %s\n", back.message);
	printf("png: libpng %s: %zu bytes, %ux%u format %u\n", png_get_libpng_ver(NULL), (size_t)size, back.width,
	       back.height, back.format);
	png_image_free(&back);
	free(mem);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

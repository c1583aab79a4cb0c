/* libFuzzer target: unexec in memory. An executable is read, written as a
 * thin and as a full frozen object, and the full one read back; an input
 * that is itself a relocatable object is read as a frozen object; a PIE is
 * also rebased as an undump of it would be. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unexec/dwarf.h"
#include "unexec/undump.h"
#include "unexec/unexec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char obj[64], frozen[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	snprintf(obj, sizeof(obj), "%s/surgeon-fuzz-%d.o", dir && strlen(dir) < 24 ? dir : "/tmp", (int)getpid());
	snprintf(frozen, sizeof(frozen), "%s/surgeon-fuzz-%d.in", dir && strlen(dir) < 24 ? dir : "/tmp", (int)getpid());
	tmp_init(false);
	return 0;
}

/* libdwarf 20210528 loops and frees twice on some damaged input, which
 * surgeon cannot fix: its reader is left out here (cli/main.c guards it
 * with a watchdog; t-hostile feeds it the cases found). */
static const struct image_opts io = { .no_dwarf = true };

static void read_frozen(const char *path)
{
	struct image *img;

	if (!image_open_frozen(&img, path, &io))
		image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image *img;
	void *buf;

	if (size >= 18 && data[16] == ET_REL && data[17] == 0) {
		if (!write_file(frozen, data, size, 0600))
			read_frozen(frozen);
		unlink(frozen);
		return 0;
	}
	if (size >= 18 && data[16] == ET_DYN && data[17] == 0) {
		unsigned char *rebased;

		if (!undump_rebase("fuzz", data, size, 0x555555554000ull, &rebased))
			free(rebased);
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (image_open_mem(&img, "fuzz", buf, size, &io))
		return 0;
	if (!unexec_write_object(img, obj, &(struct freeze_opts){ .thin = true }))
		read_frozen(obj);
	if (!unexec_write_object(img, obj, &(struct freeze_opts){ .thin = false }))
		read_frozen(obj);
	unlink(obj);
	image_free(img);
	return 0;
}

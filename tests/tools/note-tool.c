/* A test driver for relink/note.c, linked with it by the tests:
 *   note-tool append OLD|- OUT VERB [--input PATH] [--export NAME ADDR] [--edit ADDR SIZE REASON]...
 *       writes OLD's note bytes plus one record to OUT
 *   note-tool parse NOTE     prints the history, one line per field
 *   note-tool attach ELF NOTE OUT
 *       copies ELF with NOTE as a new .note.surgeon section: the bytes, a
 *       longer section name table and a new section header table go at the
 *       end; only e_shoff and e_shnum change in the ELF header. An existing
 *       .note.surgeon is replaced (its header points at the new bytes). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relink/note.h"


static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : NULL;
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;

	*size = 0;
	if (!strcmp(path, "-"))
		return NULL;
	if (!f) {
		perror(path);
		exit(1);
	}
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				exit(1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*size = n;
	return buf;
}

static int cmd_append(int argc, char **argv)
{
	struct surgery_record rec = { 0 };
	bytevec out = { 0 };
	unsigned char *old;
	size_t old_size;
	int i;

	if (argc < 5)
		return 2;
	old = slurp(argv[2], &old_size);
	rec.verb = argv[4];
	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--input") && i + 1 < argc) {
			if (note_add_input(&rec, argv[++i], NULL))
				return 1;
		} else if (!strcmp(argv[i], "--export") && i + 2 < argc) {
			struct note_export ex = { argv[i + 1], strtoull(argv[i + 2], NULL, 0) };

			VEC_PUSH(&rec.exports, ex);
			i += 2;
		} else if (!strcmp(argv[i], "--edit") && i + 3 < argc) {
			struct edit e = { strtoull(argv[i + 1], NULL, 0), strtoull(argv[i + 2], NULL, 0), argv[i + 3] };

			VEC_PUSH(&rec.edits, e);
			i += 3;
		} else {
			fprintf(stderr, "note-tool: bad argument '%s'\n", argv[i]);
			return 2;
		}
	}
	{
		int rc = note_append(&out, old, old_size, &rec, argv[2]) || write_file(argv[3], out.v, out.n, 0644);

		note_record_free(&rec);
		VEC_FREE(&out);
		free(old);
		return rc;
	}
}

static int cmd_parse(const char *path)
{
	struct surgery_history h = { 0 };
	size_t size, i, j;
	unsigned char *data = slurp(path, &size);

	if (note_parse(data, size, &h, path)) {
		note_history_free(&h);
		free(data);
		return 1;
	}
	printf("records %zu\n", h.recs.n);
	for (i = 0; i < h.recs.n; i++) {
		const struct surgery_record *r = &h.recs.v[i];

		printf("record %zu tool %s verb %s\n", i + 1, r->version, r->verb);
		for (j = 0; j < r->inputs.n; j++) {
			printf("input %zu ", i + 1);
			for (int k = 0; k < SHA256_LEN; k++)
				printf("%02x", r->inputs.v[j].sha256[k]);
			printf(" %" PRIu64 " %s\n", r->inputs.v[j].size, r->inputs.v[j].path);
		}
		for (j = 0; j < r->exports.n; j++)
			printf("export %zu %s 0x%" PRIx64 "\n", i + 1, r->exports.v[j].name, r->exports.v[j].addr);
		for (j = 0; j < r->edits.n; j++)
			printf("edit %zu 0x%" PRIx64 " 0x%" PRIx64 " %s\n", i + 1, r->edits.v[j].addr, r->edits.v[j].size,
			       r->edits.v[j].reason);
	}
	note_history_free(&h);
	free(data);
	return 0;
}

static int cmd_attach(const char *elf, const char *notef, const char *outf)
{
	size_t size, nsize, names_size;
	unsigned char *buf = slurp(elf, &size), *note = slurp(notef, &nsize), *out;
	Elf64_Ehdr eh;
	Elf64_Shdr *sh, *nsh;
	uint64_t names_off, note_off, shoff, end;

	if (size < sizeof(eh))
		return 1;
	memcpy(&eh, buf, sizeof(eh));
	if (!eh.e_shnum || eh.e_shstrndx >= eh.e_shnum || eh.e_shoff + eh.e_shnum * sizeof(*sh) > size)
		return 1;
	sh = (Elf64_Shdr *)(buf + eh.e_shoff);
	names_size = sh[eh.e_shstrndx].sh_size;
	for (unsigned i = 1; i < eh.e_shnum; i++) {
		if (sh[i].sh_name < names_size &&
		    !strcmp((char *)buf + sh[eh.e_shstrndx].sh_offset + sh[i].sh_name, NOTE_SECTION)) {
			note_off = align_up(size, 8);
			out = calloc(1, note_off + nsize);
			memcpy(out, buf, size);
			memcpy(out + note_off, note, nsize);
			((Elf64_Shdr *)(out + eh.e_shoff))[i].sh_offset = note_off;
			((Elf64_Shdr *)(out + eh.e_shoff))[i].sh_size = nsize;
			{
				int rc = write_file(outf, out, note_off + nsize, 0755) ? 1 : 0;

				free(out);
				free(buf);
				free(note);
				return rc;
			}
		}
	}
	names_off = align_up(size, 8);
	note_off = align_up(names_off + names_size + sizeof(NOTE_SECTION), 8);
	shoff = align_up(note_off + nsize, 8);
	end = shoff + (eh.e_shnum + 1) * sizeof(*sh);
	out = calloc(1, end);
	memcpy(out, buf, size);
	memcpy(out + names_off, buf + sh[eh.e_shstrndx].sh_offset, names_size);
	memcpy(out + names_off + names_size, NOTE_SECTION, sizeof(NOTE_SECTION));
	memcpy(out + note_off, note, nsize);
	nsh = (Elf64_Shdr *)(out + shoff);
	memcpy(nsh, sh, eh.e_shnum * sizeof(*sh));
	nsh[eh.e_shstrndx].sh_offset = names_off;
	nsh[eh.e_shstrndx].sh_size = names_size + sizeof(NOTE_SECTION);
	nsh[eh.e_shnum] = (Elf64_Shdr){ .sh_name = names_size, .sh_type = SHT_NOTE, .sh_offset = note_off,
					.sh_size = nsize, .sh_addralign = 4 };
	eh.e_shoff = shoff;
	eh.e_shnum++;
	memcpy(out, &eh, sizeof(eh));
	{
		int rc = write_file(outf, out, end, 0755) ? 1 : 0;

		free(out);
		free(buf);
		free(note);
		return rc;
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "append"))
		return cmd_append(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "parse"))
		return cmd_parse(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: note-tool append|parse|attach ...\n");
	return 2;
}

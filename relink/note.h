/* The surgery note: a non-allocated SHT_NOTE section ".note.surgeon" that
 * records every surgery done to a program, oldest first, so that a file
 * changed three times carries three records. `surgeon verify` accepts exactly
 * the edits the records list; `surgeon info` prints them.
 *
 * Format: a sequence of ELF notes (Elf64_Nhdr, 4-byte aligned), each with
 * owner "surgeon" and type NT_SURGEON_RECORD. The descriptor is UTF-8 text,
 * one "\n"-terminated line per field, so `readelf -p .note.surgeon` is
 * readable:
 *     surgeon-record 1
 *     tool 0.1.0
 *     verb add-lib
 *     new-above <addr hex>
 *     input <sha256 hex> <size> <path>
 *     export <addr hex> <name>
 *     edit <addr hex> <size hex> <reason>
 *     payload <offset hex> <size hex> <what>
 * "new-above": the end of the program's loaded addresses before this surgery;
 * every segment it added is at or above it (absent in notes of surgeon
 * 0.1.0 before `info --map`).
 * "payload" describes appended data (not loaded, so not an edit) whose
 * trailer the surgery rewrote: where it was in the input and how big.
 * Paths, names and reasons escape '\\' and control characters (\n, \xNN).
 * Readers ignore lines with unknown keys and notes of unknown types. */
#ifndef SURGEON_NOTE_H
#define SURGEON_NOTE_H

#include <stdbool.h>

#include "relink/relink.h"
#include "relink/sha256.h"

#define NOTE_SECTION ".note.surgeon"
#define NOTE_OWNER "surgeon"
#define NT_SURGEON_RECORD 0x5352	/* "SR"; readelf shows it as unknown, not as NT_VERSION */
#define NOTE_RECORD_MAGIC "surgeon-record 1"

struct note_input {
	const char *path;
	uint64_t size;
	unsigned char sha256[SHA256_LEN];
};

struct note_export {
	const char *name;
	uint64_t addr;
};

/* One surgery. Built by the caller for note_append (strings are borrowed),
 * or filled by note_parse (strings owned, freed by note_history_free). */
struct surgery_record {
	const char *version;	/* surgeon's version; SURGEON_VERSION when NULL */
	const char *verb;	/* "add-lib", "relink", ... */
	VEC(struct note_input) inputs;	/* the program first, then what was linked in */
	VEC(struct note_export) exports;
	edit_vec edits;		/* deliberate changes to old bytes (relink.h) */
	uint64_t new_above;	/* the segments this surgery added start at or above it */
	bool has_new_above;	/* false in notes written before it was recorded */
	const char *payload;	/* appended data whose trailer was rewritten, or NULL */
	uint64_t payload_off, payload_size;	/* where it was in the input */
	bool owned;		/* strings belong to the record */
};

struct surgery_history {
	VEC(struct surgery_record) recs;	/* oldest first */
};

/* Adds `path` to rec->inputs with its size and SHA-256 (the path string is
 * borrowed, not copied). */
/* digest: the file's digest computing in the background, or NULL to compute it now. */
int note_add_input(struct surgery_record *rec, const char *path, struct sha256_bg *digest);
/* out = old_note (checked with note_parse first; may be NULL/0) followed by
 * one new note for `rec`: the contents of the new .note.surgeon section.
 * `path` names the file the old note came from, for messages. */
int note_append(bytevec *out, const unsigned char *old_note, size_t old_size,
		const struct surgery_record *rec, const char *path);
/* Appends the records of a .note.surgeon section's contents to h (which the
 * caller zero-initialises). Bad input: an error naming `path`, never a crash;
 * h may then hold the records before the bad one: free it either way. */
int note_parse(const unsigned char *data, size_t size, struct surgery_history *h, const char *path);
/* The .note.surgeon section of an image (*data NULL, *size 0 when none). */
int note_find(const struct image *img, const unsigned char **data, size_t *size);
/* Reads the history of an ELF file by its section headers, through pread:
 * an empty history when the file has no .note.surgeon. */
int note_read_fd(int fd, const char *path, struct surgery_history *h);
void note_record_free(struct surgery_record *rec);
void note_history_free(struct surgery_history *h);

#endif

/* Which symbol is at or before an address: a sorted index over the image's
 * symbols, for the disassembler's operands and verify's messages (objtool's
 * interval lookups; image_addr_name is linear and meant for one message). */
#ifndef SURGEON_SYMINDEX_H
#define SURGEON_SYMINDEX_H

#include "unexec/image.h"

struct symindex;

int symindex_new(struct symindex **out, const struct image *img);
void symindex_free(struct symindex *ix);
/* The symbol preferred for `addr`: the nearest one at or below it in the same
 * section (segment, without section headers); NULL when none, or when `addr`
 * is not inside the loaded image. *off is addr - symbol. */
const struct symbol *symindex_lookup(const struct symindex *ix, uint64_t addr, uint64_t *off);
/* A symbol that starts exactly at `addr`, or NULL. */
const struct symbol *symindex_exact(const struct symindex *ix, uint64_t addr);
/* The lowest symbol address above `addr`, or UINT64_MAX. */
uint64_t symindex_next(const struct symindex *ix, uint64_t addr);
/* Is `addr` inside the loaded image (a section, or a PT_LOAD without them)? */
bool symindex_in_image(const struct symindex *ix, uint64_t addr);
/* "main", "main+0x1c", "printf@plt", ".rodata+0x10", or "0x401000". */
void symindex_name(const struct symindex *ix, uint64_t addr, char *buf, size_t len);
/* How a symbol is printed: import stubs as "NAME@plt". */
void symindex_symname(const struct symbol *s, char *buf, size_t len);

#endif

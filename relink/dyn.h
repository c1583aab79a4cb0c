/* relink's dynamic tables, built in three files: the merged symbol table
 * and what names it (dynsym.c), its hash tables (gnuhash.c), and the
 * tables and .dynamic around them (dynamic.c). Internal to those. */
#ifndef SURGEON_DYN_H
#define SURGEON_DYN_H

#include "relink/relink.h"

struct ldtab {
	const unsigned char *data;
	size_t size;
	uint64_t addr;
	bool present;
};

struct vaux {
	uint32_t hash;
	uint16_t flags, other;
	uint32_t name;	/* dynstr offset */
};

struct vfile {
	uint32_t file;	/* dynstr offset */
	VEC(struct vaux) aux;
};

/* The program's DT_GNU_HASH, checked against the file and its symbol count:
 * every run of a bucket lies where the next one starts, and together they
 * cover the hashed symbols exactly. */
struct oldgnu {
	uint32_t nb, symoffset, nbloom, shift;
	const uint64_t *bloom;
	const uint32_t *buckets;
	const uint32_t *chain;		/* by symbol index - symoffset */
	uint32_t *bucket_of;		/* likewise; allocated */
};

struct builder {
	const struct image *img;
	const struct arch *arch;
	const struct linked *l;
	const struct relink_opts *o;
	const char *path;
	struct strapp str;
	VEC(Elf64_Sym) syms;
	VEC(bool) from_ld;	/* of each symbol, as dynout.from_ld */
	VEC(uint16_t) vers;
	VEC(Elf64_Rela) rela;
	VEC(struct vfile) vfiles;
	VEC(uint32_t) needed;	/* dynstr offsets */
	uint16_t next_ver;
	bool versioned, ver_added;
	struct strmap *oldidx;	/* name -> old dynsym index + 1 */
	VEC(Elf64_Rela) jmprel;	/* the old DT_JMPREL table, copied: same order */
	uint32_t gnu_symoffset, gnu_nbuckets;
	/* Of each renumbered symbol from gnu_symoffset on: its GNU hash (the
	 * low bit may be lost for old symbols: only the chain needs it, and
	 * there it is replaced), its bucket, whether it is new. */
	uint32_t *ghash, *gbucket;
	bool *gfresh;
	const uint64_t *gnu_bloom;	/* the program's bloom filter, when its table is kept */
	uint32_t gnu_nbloom, gnu_shift;
	size_t nsyms, nrela, strsz;	/* final sizes, once the arrays are handed over */
	struct oldgnu og;		/* the program's GNU hash table, when og_ok */
	bool og_ok;
	/* ld's tables */
	struct ldtab lsym, lstr, lvers, lverneed, lrela, lrelplt, lriplt, ldyn;
};

/* A symbol of the renumbered table: its old index, bucket and hash. */
struct order {
	uint32_t idx, bucket, hash;
	bool fresh;		/* a new symbol: its bloom bits are not in the old filter */
};

/* dynsym.c */
int dyn_push(struct builder *b, Elf64_Sym s, uint16_t ver, bool from_ld);
struct ldtab dyn_ldsec(const struct linked *l, const char *name);
const char *dyn_ld_str(const struct builder *b, uint64_t off);
const char *dyn_old_str(const struct builder *b, uint64_t off);
int dyn_parse_old_verneed(struct builder *b);
int dyn_add_copies(struct builder *b, struct strmap *done);
int dyn_add_relocs(struct builder *b, const struct ldtab *t, struct strmap *done);
int dyn_add_exports(struct builder *b, struct dynout *o, const struct strmap *done);
int dyn_add_needed(struct builder *b);
int dyn_build_verneed(struct builder *b, bytevec *out);
int dyn_index_old_names(struct builder *b);
int dyn_tls_relocs(struct builder *b);
/* gnuhash.c */
uint32_t dyn_gnu_hash(const char *s);
const char *dyn_sym_name(const struct builder *b, const Elf64_Sym *s);
bool dyn_hashed(const Elf64_Sym *s);
bool dyn_read_old_gnu(const struct builder *b, struct oldgnu *g);
int dyn_renumber(struct builder *b);
int dyn_build_gnu(struct builder *b, bytevec *out);
int dyn_build_sysv(struct builder *b, bytevec *out);

#endif

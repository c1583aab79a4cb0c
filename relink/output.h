/* The output of relink, as it is planned (sections, segments, edits) and
 * written. Internal to relink's writer files: sections.c (the section
 * table and the symbol table), debug.c (the debug info merged, the new
 * code's CFI for debuggers), plan.c (segments, layout, edits, the note)
 * and emit.c (writing the file). */
#ifndef SURGEON_OUTPUT_H
#define SURGEON_OUTPUT_H

#include "relink/relink.h"
#include "relink/payload.h"

struct outsec {
	const char *name;
	GElf_Shdr sh;
	const void *buf;	/* NULL for NOBITS or empty */
	const void *buf2;	/* then these bytes (old string tables plus new names) */
	size_t size2;
	bool copied;		/* old loaded bytes: output_copy_loads() writes them */
	struct secref link, info;	/* what sh_link and sh_info name, until resolved */
};

struct group {
	uint64_t vaddr, fileend, memend;
	unsigned flags;
};

/* The output as planned: everything emit writes, decided without writing. */
struct output {
	const struct image *img;
	const struct linked *l;
	const struct relink_opts *o;
	struct dynout dyn;
	VEC(struct newsec) news;	/* the linker's sections, then the new dynamic tables */
	const char *path;
	int fd;			/* while emitting */
	GElf_Ehdr eh;
	edit_vec edits;		/* every change to old bytes: the note, verify and emit read it */
	char feature_why[160];	/* the reason of the GNU property edit, which edits point at */
	struct hookplan hooks;
	bool header_loaded;	/* a segment loads the ELF header: its fields are edits */
	struct payload pl;
	uint64_t payload_at;
	VEC(struct outsec) secs;
	VEC(struct group) groups;
	VEC(GElf_Phdr) phdrs;
	size_t ins;		/* where new sections go in the section table */
	size_t *old_to_out;	/* an old section's index in the output */
	size_t *new_to_out;	/* likewise for news */
	uint64_t vnew, xnew;	/* first new address and its file offset */
	struct strapp shstr, str;
	bool shared_str;	/* .symtab's names live in .shstrtab */
	Elf64_Sym *symtab;
	size_t nsym, nlocal;
	size_t out_symtab, out_strtab, out_shstrtab, out_note;
	bytevec note;
	bytevec dframe;		/* .debug_frame with the new code's CFI, when frame_ok */
	bytevec dinfo;		/* .debug_info with moved TLS offsets (tls_debug_info) */
	bool frame_ok;
	uint64_t shoff, phoff, end;
};

/* sections.c */
size_t out_index(const struct output *w, struct secref r);
int out_push_sec(struct output *w, const char *name, const GElf_Shdr *sh, const void *buf);
int out_rename_old(struct output *w, GElf_Shdr *sh, const char *name);
int out_build_sections(struct output *w);
/* debug.c */
bool out_take_debug(const struct output *w);
const struct newsec *out_linked_debug(const struct output *w, const char *name, bool *used);
int out_plan_frames(struct output *w, bool dbg);
void out_use_dframe(const struct output *w, GElf_Shdr *sh, const void **buf);
void out_debug_shdr(const struct newsec *ns, GElf_Shdr *sh);
const void *out_tls_debug_info(struct output *w, const void *old, uint64_t size);
/* plan.c */
int out_make_groups(struct output *w);
int out_layout(struct output *w);
int out_plan_edits(struct output *w);
bool out_header_edit_bytes(const struct image *img, const GElf_Ehdr *eh, edit_vec *edits);
int out_build_note(struct output *w);
/* emit.c */
int out_libelf_write(struct output *w);
int out_recopy_uncovered(struct output *w);
int out_write_headers(struct output *w);
int out_apply_edits(struct output *w);

#endif

/* Writing the output. Old loaded bytes keep their file offsets and their
 * addresses; the new code follows in one page-aligned run; the non-loaded
 * sections (old and rebuilt symbol tables) and the section header table come
 * next; the program header table goes last, in its own read-only segment,
 * at an address that equals (first segment's vaddr - offset) + its file
 * offset, which is where both old kernels (load_addr + e_phoff) and new ones
 * (the PT_LOAD that contains e_phoff) look for it. */
#include "relink/output.h"
#include "relink/patch.h"	/* patching */
#include "unexec/anchors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relink/payload.h"
#include "relink/note.h"
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

static Elf_Data *add_data(struct output *w, Elf_Scn *scn, const struct outsec *s, const void *buf, uint64_t off,
			  uint64_t size)
{
	Elf_Data *d = elf_newdata(scn);

	if (!d) {
		pr_elf(w->path, "section '%s'", s->name);
		return NULL;
	}
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	d->d_off = off;
	d->d_size = size;
	d->d_buf = (void *)buf;
	return d;
}

int out_libelf_write(struct output *w)
{
	GElf_Ehdr *eh = &w->eh;
	Elf *e = elf_begin(w->fd, ELF_C_WRITE, NULL);
	size_t i;
	int err = -1;

	if (!e || !gelf_newehdr(e, ELFCLASS64) || !gelf_newphdr(e, w->phdrs.n)) {
		pr_elf(w->path, "cannot create ELF");
		goto out;
	}
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	for (i = 1; i < w->secs.n; i++) {
		const struct outsec *s = &w->secs.v[i];
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d;

		if (!scn || !gelf_update_shdr(scn, (GElf_Shdr *)&s->sh)) {
			pr_elf(w->path, "section '%s'", s->name);
			goto out;
		}
		if (s->copied) {
			/* No data and not dirty: libelf neither writes these bytes
			 * nor fills them with zeros first (4 KiB per write(), which
			 * for a 100 MB program cost more than all the rest). */
			elf_flagscn(scn, ELF_C_CLR, ELF_F_DIRTY);
			continue;
		}
		d = add_data(w, scn, s, s->sh.sh_type == SHT_NOBITS ? NULL : s->buf, 0, s->sh.sh_size - s->size2);
		if (!d)
			goto out;
		if (!d->d_buf && s->sh.sh_type != SHT_NOBITS)
			d->d_size = 0;
		/* libelf writes the data blocks of a section one after another. */
		if (s->buf2 && s->size2 && !add_data(w, scn, s, s->buf2, s->sh.sh_size - s->size2, s->size2))
			goto out;
	}
	for (i = 0; i < w->phdrs.n; i++)
		if (!gelf_update_phdr(e, i, &w->phdrs.v[i])) {
			pr_elf(w->path, "program header %zu", i);
			goto out;
		}
	/* Only what is dirty is written. The program header table sits at the
	 * end, far from the ELF header: libelf would zero-fill everything in
	 * between, so out_write_headers() writes both itself. */
	if (!gelf_update_ehdr(e, eh)) {
		pr_elf(w->path, "cannot write");
		goto out;
	}
	elf_flagelf(e, ELF_C_CLR, ELF_F_DIRTY);
	elf_flagphdr(e, ELF_C_CLR, ELF_F_DIRTY);
	elf_flagehdr(e, ELF_C_CLR, ELF_F_DIRTY);
	if (elf_update(e, ELF_C_WRITE) < 0) {
		pr_elf(w->path, "cannot write");
		goto out;
	}
	err = 0;
out:
	if (e)
		elf_end(e);
	return err;
}

/* libelf is given no bytes for the old loaded sections: every old PT_LOAD
 * file range is copied from the original here, in the kernel when the
 * original is a file, so that surgeon itself never touches a large program's
 * pages. It needs nothing from the link, and runs while the linker does. */
int output_copy_loads(const struct image *img, int fd)
{
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type != PT_LOAD || !ph->p_filesz)
			continue;
		if (image_copy_to(img, fd, ph->p_offset, ph->p_filesz))
			return errno ? errno : EIO;
	}
	return 0;
}

struct span {
	uint64_t off, end;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Copies the image's bytes in [at, end) that no span (sorted by offset)
 * covers. 0, or -1 with errno set. */
static int copy_uncovered(const struct image *img, int fd, const struct span *cov, size_t n, uint64_t at,
			  uint64_t end)
{
	size_t k = 0;

	while (at < end) {
		uint64_t next = end;

		while (k < n && cov[k].end <= at)
			k++;
		if (k < n && cov[k].off <= at) {
			at = cov[k].end;	/* a covered run */
			continue;
		}
		if (k < n && cov[k].off < end)
			next = cov[k].off;
		if (image_copy_to(img, fd, at, next - at))
			return -1;
		at = next;
	}
	return 0;
}

/* libelf zero-fills the gap before each section it writes, back to the end
 * of the section before it: old loaded bytes no section covers (padding, the
 * program headers of an earlier surgery) can lie in such a gap. They are
 * copied again once libelf is done; they are few. */
int out_recopy_uncovered(struct output *w)
{
	const struct image *img = w->img;
	VEC(struct span) cov = { 0 };
	int err = -1;

	for (size_t k = 1; k < w->secs.n; k++) {
		const GElf_Shdr *sh = &w->secs.v[k].sh;
		struct span sp = { sh->sh_offset, sh->sh_offset + sh->sh_size };

		if (w->secs.v[k].copied && sh->sh_size && VEC_PUSH(&cov, sp))
			goto out;
	}
	if (cov.n)
		qsort(cov.v, cov.n, sizeof(*cov.v), cmp_span);
	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];

		if (ph->p_type == PT_LOAD &&
		    copy_uncovered(img, w->fd, cov.v, cov.n, ph->p_offset, ph->p_offset + ph->p_filesz)) {
			pr_err(w->path, "cannot write: %m");
			goto out;
		}
	}
	err = 0;
out:
	VEC_FREE(&cov);
	return err;
}

/* A copy of the whole program, output_copy_loads() having written its loaded
 * bytes already: the rest. 0 or an errno value. */
int output_copy_rest(const struct image *img, int fd)
{
	VEC(struct span) cov = { 0 };
	int err = ENOMEM;

	for (size_t i = 0; i < img->phnum; i++) {
		const GElf_Phdr *ph = &img->phdrs[i];
		struct span sp = { ph->p_offset, ph->p_offset + ph->p_filesz };

		if (ph->p_type == PT_LOAD && ph->p_filesz && VEC_PUSH(&cov, sp))
			goto out;
	}
	if (cov.n)
		qsort(cov.v, cov.n, sizeof(*cov.v), cmp_span);
	err = copy_uncovered(img, fd, cov.v, cov.n, 0, img->size) ? (errno ? errno : EIO) : 0;
out:
	VEC_FREE(&cov);
	return err;
}

/* The program headers, at the end; the ELF header too when no segment
 * loads it (when one does, its changed fields are edits). */
int out_write_headers(struct output *w)
{
	if ((!w->header_loaded && write_all(w->fd, &w->eh, sizeof(Elf64_Ehdr), 0)) ||
	    write_all(w->fd, w->phdrs.v, w->phdrs.n * sizeof(Elf64_Phdr), w->eh.e_phoff))
		return pr_err(w->path, "cannot write: %m");
	return 0;
}

int edit_add(edit_vec *edits, uint64_t addr, uint64_t size, const void *bytes, const char *reason)
{
	struct edit e = { .addr = addr, .size = size, .reason = reason };

	if (size > EDIT_MAX)
		return pr_err(reason, "internal error: a %llu-byte edit", (unsigned long long)size);
	if (bytes)
		memcpy(e.bytes, bytes, size);
	return VEC_PUSH(edits, e);
}

/* Every edit, where its old bytes are in the output. */
int out_apply_edits(struct output *w)
{
	for (size_t i = 0; i < w->edits.n; i++) {
		const struct edit *e = &w->edits.v[i];
		uint64_t off;

		if (!image_vaddr_to_off(w->img, e->addr, e->size, &off) || write_all(w->fd, e->bytes, e->size, off))
			return pr_err(w->path, "cannot write the edit at 0x%llx (%s)", (unsigned long long)e->addr, e->reason);
	}
	return 0;
}

/* Writes the planned output around the old bytes output_copy_loads()
 * wrote: libelf writes the sections, the headers go at the end, the edits
 * into the old bytes, and an appended payload after everything. */
int output_emit(struct output *w, int fd)
{
	w->fd = fd;
	if (out_libelf_write(w) || out_recopy_uncovered(w) || out_write_headers(w) || out_apply_edits(w))
		return -1;
	return payload_write(w->img, &w->pl, fd, w->payload_at, w->path);
}

const edit_vec *output_edits(const struct output *w)
{
	return &w->edits;
}

void output_free(struct output *w)
{
	if (!w)
		return;
	strapp_free(&w->shstr);
	strapp_free(&w->str);
	dyn_free(&w->dyn);
	VEC_FREE(&w->news);
	VEC_FREE(&w->note);
	VEC_FREE(&w->dframe);
	VEC_FREE(&w->dinfo);
	VEC_FREE(&w->edits);
	free(w->symtab);
	VEC_FREE(&w->secs);
	free(w->old_to_out);
	free(w->new_to_out);
	VEC_FREE(&w->groups);
	VEC_FREE(&w->phdrs);
	free(w);
}

/* Debug info in the output: the linker's merged .debug_* sections (the old
 * units at offset 0, the new after them) replace the program's; the new
 * code's CFI is given to debuggers as .debug_frame; thread-local variables'
 * offsets moved with the TLS block. */
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

/* Debug info: the linker's .debug_* sections hold the old units at offset 0
 * and the new ones after them, so they replace the old sections of the same
 * name and the rest are appended. Unless the program's own debug info never
 * reached the linker (the DWARF reader could not use it): then the old
 * sections stay, and the new code's are left out rather than mixed in. */
bool out_take_debug(const struct output *w)
{
	const struct image *img = w->img;
	bool own = false;

	if (!w->l->debug.n)
		return false;
	for (size_t i = 1; i < img->shnum; i++)
		if (!(img->secs[i].sh.sh_flags & SHF_ALLOC) && unexec_debug_section(img->secs[i].name))
			own = true;
	if (own && (!img->dwarf || strcmp(img->dwarf->path, img->path))) {
		pr_warn(img->path, "its debug info was not usable; the new code's debug info is left out");
		return false;
	}
	return true;
}

const struct newsec *out_linked_debug(const struct output *w, const char *name, bool *used)
{
	for (size_t j = 0; j < w->l->debug.n; j++)
		if (!strcmp(w->l->debug.v[j].name, name)) {
			used[j] = true;
			return &w->l->debug.v[j];
		}
	return NULL;
}

/* The new code's CFI as .debug_frame entries after the old ones (ehframe.c
 * says why). The old entries are the linker's .debug_frame when it has the
 * program's debug info, otherwise the program's own. */
int out_plan_frames(struct output *w, bool dbg)
{
	const struct image *img = w->img;
	const struct newsec *eh = NULL;
	const unsigned char *base = NULL;
	uint64_t nbase = 0;
	size_t i;
	int r;

	for (i = 0; i < w->l->secs.n; i++)
		if (!strcmp(w->l->secs.v[i].name, ".eh_frame") && w->l->secs.v[i].bytes)
			eh = &w->l->secs.v[i];
	if (!eh)
		return 0;
	for (i = 0; dbg && i < w->l->debug.n; i++)
		if (!strcmp(w->l->debug.v[i].name, ".debug_frame")) {
			base = w->l->debug.v[i].bytes;
			nbase = w->l->debug.v[i].sh.sh_size;
		}
	for (i = 1; !dbg && i < img->shnum; i++) {
		const GElf_Shdr *sh = &img->secs[i].sh;

		if (strcmp(img->secs[i].name, ".debug_frame") || (sh->sh_flags & SHF_ALLOC) || sh->sh_type != SHT_PROGBITS)
			continue;
		if (sh->sh_flags & SHF_COMPRESSED)
			return 0;
		base = img->data + sh->sh_offset;
		nbase = sh->sh_size;
	}
	while (w->dframe.cap < nbase + 1)
		if (vec_grow((void **)&w->dframe.v, &w->dframe.cap, 1))
			return -1;
	if (nbase)
		memcpy(w->dframe.v, base, nbase);
	w->dframe.n = nbase;
	r = eh_to_debug_frame(eh->bytes, eh->sh.sh_size, eh->sh.sh_addr, &w->dframe);
	/* --wrap's trampolines: their entries sit after the new unwind table. */
	if (!r && w->l->ehhdr.blob_size)
		r = eh_to_debug_frame(w->l->ehhdr.bytes + (w->l->ehhdr.blob_addr - w->l->ehhdr.addr),
				      w->l->ehhdr.blob_size, w->l->ehhdr.blob_addr, &w->dframe);
	if (r < 0)
		return -1;
	if (r) {
		pr_warn(w->path, "the new code's .eh_frame cannot be given to debuggers as .debug_frame; "
			"gdb may not unwind through the old code");
		VEC_FREE(&w->dframe);
		return 0;
	}
	w->frame_ok = true;
	return 0;
}

void out_use_dframe(const struct output *w, GElf_Shdr *sh, const void **buf)
{
	sh->sh_type = SHT_PROGBITS;
	sh->sh_flags = 0;
	sh->sh_size = w->dframe.n;
	sh->sh_addralign = 8;
	sh->sh_entsize = 0;
	*buf = w->dframe.v;
}

/* The linker's header for a debug section; lld keeps SHF_MERGE on a
 * .debug_str it did not merge whole and gives no entry size. */
void out_debug_shdr(const struct newsec *ns, GElf_Shdr *sh)
{
	sh->sh_type = ns->sh.sh_type;
	sh->sh_flags = ns->sh.sh_flags;
	sh->sh_size = ns->sh.sh_size;
	sh->sh_addralign = ns->sh.sh_addralign;
	sh->sh_entsize = ns->sh.sh_entsize;
	if ((sh->sh_flags & SHF_MERGE) && !sh->sh_entsize)
		sh->sh_entsize = 1;
}

/* .debug_info with the old thread-local variables' block offsets moved
 * by the new variables in front of them (relink/tls.c): gdb finds them
 * there. The old units come first in the linker's merged section too, so
 * the offsets DWARF reading found are the same in both. */
const void *out_tls_debug_info(struct output *w, const void *old, uint64_t size)
{
	dwarf_tls_ops ops = { 0 };
	size_t moved = 0;

	if (dwarf_tls_operands(w->img, &ops))
		return NULL;
	w->dinfo.v = zalloc(size ? size : 1);
	if (!w->dinfo.v) {
		VEC_FREE(&ops);
		return NULL;
	}
	memcpy(w->dinfo.v, old, size);
	w->dinfo.n = size;
	for (size_t i = 0; i < ops.n; i++) {
		const struct dwarf_tls_op *op = &ops.v[i];
		uint64_t v = 0;

		if (!range_ok(op->off, op->width + 1, size))
			continue;
		memcpy(&v, w->dinfo.v + op->off, op->width);
		if (v > w->l->tls.memsz)
			continue;
		v += w->l->tls.shift;
		memcpy(w->dinfo.v + op->off, &v, op->width);
		moved++;
	}
	pr_info("debug info: %zu thread-local variables' offsets moved by %llu", moved,
		(unsigned long long)w->l->tls.shift);
	VEC_FREE(&ops);
	return w->dinfo.v;
}

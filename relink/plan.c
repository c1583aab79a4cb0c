/* Planning the output: the new sections in one run of page-aligned groups
 * (one PT_LOAD each) after the old loaded bytes, the non-loaded sections
 * and the header tables after them, the program header table last in its
 * own read-only PT_LOAD at an address both old kernels (load_addr +
 * e_phoff) and new ones (the PT_LOAD that contains it) find; the edits of
 * old bytes and the note that records them. */
#include "relink/output.h"
#include "relink/patch.h"	/* patching */
#include "unexec/anchors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relink/payload.h"
#include "relink/note.h"
#include "unexec/dwarf.h"
#include "unexec/unexec.h"

static unsigned pflags(uint64_t shf)
{
	return PF_R | (shf & SHF_WRITE ? PF_W : 0) | (shf & SHF_EXECINSTR ? PF_X : 0);
}

int out_make_groups(struct output *w)
{
	size_t i;

	for (i = 0; i < w->news.n; i++) {
		const GElf_Shdr *sh = &w->news.v[i].sh;
		struct group *g = w->groups.n ? &w->groups.v[w->groups.n - 1] : NULL;
		unsigned f = pflags(sh->sh_flags);

		/* A .tbss takes no room in its PT_LOAD: the next section may be where it seems to be. */
		if (sh->sh_type == SHT_NOBITS && (sh->sh_flags & SHF_TLS))
			continue;
		if (!g || g->flags != f) {
			struct group ng = { .vaddr = sh->sh_addr, .fileend = sh->sh_addr, .flags = f };

			if (g && sh->sh_addr < align_up(g->memend, w->img->page_size))
				return pr_err(w->path, "the linker put section '%s' (0x%llx) on the same page as "
					      "sections of other permissions", w->news.v[i].name,
					      (unsigned long long)sh->sh_addr);
			if (VEC_PUSH(&w->groups, ng))
				return -1;
			g = &w->groups.v[w->groups.n - 1];
		}
		if (sh->sh_type != SHT_NOBITS)
			g->fileend = sh->sh_addr + sh->sh_size;
		g->memend = sh->sh_addr + sh->sh_size;
	}
	w->vnew = w->groups.v[0].vaddr & ~(w->img->page_size - 1);
	w->xnew = align_up(w->img->loaded_end, w->img->page_size);
	return 0;
}

/* The new template, where the new sections put it. */
static GElf_Phdr tls_phdr(const struct output *w)
{
	const struct tls_layout *t = &w->l->tls;

	return (GElf_Phdr){ .p_type = PT_TLS, .p_flags = PF_R, .p_offset = w->xnew + (t->start - w->vnew),
			    .p_vaddr = t->start, .p_paddr = t->start, .p_filesz = t->size, .p_memsz = t->memsz,
			    .p_align = t->align };
}

/* The new unwind table (relink/ehframe.c). */
static GElf_Phdr eh_phdr(const struct output *w)
{
	uint64_t a = w->l->ehhdr.addr;

	return (GElf_Phdr){ .p_type = PT_GNU_EH_FRAME, .p_flags = PF_R, .p_offset = w->xnew + (a - w->vnew),
			    .p_vaddr = a, .p_paddr = a, .p_filesz = w->l->ehhdr.size, .p_memsz = w->l->ehhdr.size,
			    .p_align = 4 };
}

int out_layout(struct output *w)
{
	const struct image *img = w->img;
	const struct group *last = &w->groups.v[w->groups.n - 1];
	uint64_t cursor = w->xnew + (last->fileend - w->vnew);
	uint64_t top = last->memend > img->vaddr_end ? last->memend : img->vaddr_end;
	const struct tls_layout *tls = &w->l->tls;
	bool had_tls = false, had_eh = false, add_eh;
	size_t i, nph, last_load = 0;
	GElf_Phdr ph;

	for (i = 0; i < img->phnum; i++) {
		had_tls |= img->phdrs[i].p_type == PT_TLS;
		had_eh |= img->phdrs[i].p_type == PT_GNU_EH_FRAME;
	}
	add_eh = w->l->ehhdr.addr && !had_eh;
	nph = img->phnum + w->groups.n + 1 + (tls->active && !had_tls) + add_eh;

	for (i = 1; i < w->secs.n; i++) {
		GElf_Shdr *sh = &w->secs.v[i].sh;

		if (sh->sh_flags & SHF_ALLOC)
			continue;
		cursor = align_up(cursor, sh->sh_addralign ? sh->sh_addralign : 1);
		sh->sh_offset = cursor;
		if (sh->sh_type != SHT_NOBITS)
			cursor += sh->sh_size;
	}
	w->shoff = align_up(cursor, 8);
	cursor = w->shoff + w->secs.n * sizeof(Elf64_Shdr);
	w->phoff = align_up(cursor, 8);
	if (img->delta_first + w->phoff < align_up(top, w->img->page_size))
		w->phoff = align_up(top, w->img->page_size) - img->delta_first;
	w->end = w->phoff + nph * sizeof(Elf64_Phdr);
	if (nph >= PN_XNUM)
		return pr_err(w->path, "too many program headers (%zu)", nph);

	for (i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_LOAD)
			last_load = i;
	for (i = 0; i < img->phnum; i++) {
		ph = img->phdrs[i];
		if (ph.p_type == PT_DYNAMIC && w->dyn.active) {
			ph.p_vaddr = ph.p_paddr = w->dyn.dyn_addr;
			ph.p_offset = w->xnew + (w->dyn.dyn_addr - w->vnew);
			ph.p_filesz = ph.p_memsz = w->dyn.dyn_size;
		}
		if (ph.p_type == PT_TLS && tls->active)
			ph = tls_phdr(w);
		if (ph.p_type == PT_GNU_EH_FRAME && w->l->ehhdr.addr)
			ph = eh_phdr(w);
		if (ph.p_type == PT_PHDR) {
			ph.p_offset = w->phoff;
			ph.p_vaddr = ph.p_paddr = img->delta_first + w->phoff;
			ph.p_filesz = ph.p_memsz = nph * sizeof(Elf64_Phdr);
		}
		if (VEC_PUSH(&w->phdrs, ph))
			return -1;
		if (i != last_load)
			continue;
		for (size_t g = 0; g < w->groups.n; g++) {
			const struct group *gr = &w->groups.v[g];

			ph = (GElf_Phdr){
				.p_type = PT_LOAD, .p_flags = gr->flags, .p_offset = w->xnew + (gr->vaddr - w->vnew),
				.p_vaddr = gr->vaddr, .p_paddr = gr->vaddr, .p_filesz = gr->fileend - gr->vaddr,
				.p_memsz = gr->memend - gr->vaddr, .p_align = w->img->page_size,
			};
			if (VEC_PUSH(&w->phdrs, ph))
				return -1;
		}
		if (tls->active && !had_tls && VEC_PUSH(&w->phdrs, tls_phdr(w)))
			return -1;
		if (add_eh && VEC_PUSH(&w->phdrs, eh_phdr(w)))
			return -1;
		ph = (GElf_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R, .p_offset = w->phoff,
			.p_vaddr = img->delta_first + w->phoff, .p_paddr = img->delta_first + w->phoff,
			.p_filesz = nph * sizeof(Elf64_Phdr), .p_memsz = nph * sizeof(Elf64_Phdr),
			.p_align = w->img->page_size,
		};
		if (VEC_PUSH(&w->phdrs, ph))
			return -1;
	}
	return 0;
}

static int hook_slot(struct output *w, const struct hookuse *h)
{
	uint64_t off;
	size_t idx;

	for (size_t i = 0; i < w->dyn.ndone; i++) {
		if (w->dyn.done[i] == h->slot) {
			pr_info("%s slot 0x%llx: its RELATIVE relocation (in the new table) now names the thunk",
				h->what, (unsigned long long)h->slot);
			return 0;
		}
	}
	if (w->img->pie && image_relative_at(w->img, h->slot, &idx) != RELATIVE_RELR)
		return pr_err(w->path, "cannot hook the %s slot at 0x%llx: no relocation to change", h->what,
			      (unsigned long long)h->slot);
	if (!image_vaddr_to_off(w->img, h->slot, 8, &off))
		return pr_err(w->path, "the %s slot at 0x%llx is not in the file", h->what, (unsigned long long)h->slot);
	return edit_add(&w->edits, h->slot, 8, &h->thunk, h->reason);
}

/* The program's BTI and PAC claims (aarch64's GNU_PROPERTY_AARCH64_FEATURE_1_AND)
 * hold for the output only if the added code has them too: the linker ANDed
 * the program's bits with every input's. A bit the added code lacks is
 * dropped from the program's property, a recorded edit, with a warning: BTI
 * kept on would make the kernel or ld.so fault the added code's first
 * indirect call into a function without a landing pad. */
static int feature_edit(struct output *w)
{
	const struct arch *a = w->img->arch;
	uint32_t old, now;
	uint64_t addr;
	char names[64] = "", *why = w->feature_why;
	size_t pos = 0;

	if (!image_gnu_features(w->img, &old, &addr))
		return 0;
	pr_info("GNU property 0x%x: the program has 0x%x, the program and the inputs together 0x%x",
		a->feature_and, old, w->l->features);
	if (!(old & ~w->l->features))
		return 0;
	now = old & w->l->features;
	for (unsigned b = 0; b < 32; b++)
		if ((old & ~now) >> b & 1)
			pos += snprintf(names + pos, pos < sizeof(names) ? sizeof(names) - pos : 0, "%s%s",
					pos ? " and " : "", b < 4 && a->feature_bits[b] ? a->feature_bits[b] : "?");
	snprintf(why, sizeof(w->feature_why), "GNU property: %s dropped (the added code is not built with %s)", names,
		 a->feature_flag);
	pr_warn(w->img->path, "%s: the output no longer claims it", why + 14);
	return edit_add(&w->edits, addr, 4, &now, why);
}

/* Everything the surgery changes in old bytes, decided before the layout
 * so that the note that records it can be sized. The ELF header's fields
 * get their bytes once the layout is known (header_edit_bytes). */
int out_plan_edits(struct output *w)
{
	edit_vec *edits = &w->edits;
	uint64_t va;

	if (image_off_to_vaddr(w->img, 0, 1, &va) &&
	    ((w->hooks.entry && edit_add(edits, va + 0x18, 0x08, NULL,
				"ELF header: e_entry runs the added constructors first (the program has no .init_array)")) ||
	     edit_add(edits, va + 0x20, 0x10, NULL, "ELF header: e_phoff, e_shoff (the header tables moved)") ||
	     edit_add(edits, va + 0x38, 0x08, NULL, "ELF header: e_phnum, e_shnum, e_shstrndx")))
		return -1;
	for (size_t i = 0; i < w->hooks.n; i++)
		if (hook_slot(w, &w->hooks.use[i]))
			return -1;
	/* patching: the entry jumps of --replace and --wrap. */
	if (patch_plan_edits(w->o->patch_plan, w->img->arch, edits))
		return -1;
	return feature_edit(w);
}

/* The ELF header's edits take their bytes from the new header. */
bool out_header_edit_bytes(const struct image *img, const GElf_Ehdr *eh, edit_vec *edits)
{
	Elf64_Ehdr raw;
	uint64_t va;

	if (!image_off_to_vaddr(img, 0, sizeof(raw), &va))
		return false;
	memcpy(&raw, eh, sizeof(raw));	/* GElf_Ehdr is Elf64_Ehdr */
	for (size_t i = 0; i < edits->n; i++) {
		struct edit *e = &edits->v[i];

		if (e->addr >= va && e->addr + e->size <= va + sizeof(raw))
			memcpy(e->bytes, (const uint8_t *)&raw + (e->addr - va), e->size);
	}
	return true;
}

int out_build_note(struct output *w)
{
	const edit_vec *edits = &w->edits;
	struct surgery_record rec = { .verb = w->o->verb ? w->o->verb : "relink",
				      .new_above = w->img->vaddr_end, .has_new_above = true };
	struct payload pl;
	const unsigned char *old;
	size_t oldsize, i;
	int err = -1;

	if (note_find(w->img, &old, &oldsize))
		return -1;
	if (w->o->program && note_add_input(&rec, w->o->program, w->o->program_digest))
		goto out;
	for (i = 0; i < w->o->inputs.n; i++)
		if (w->o->inputs.v[i].kind == IN_FILE && note_add_input(&rec, w->o->inputs.v[i].arg, NULL))
			goto out;
	for (i = 0; i < w->dyn.exports.n; i++) {
		struct note_export e = { .name = w->dyn.exports.v[i].name, .addr = w->dyn.exports.v[i].addr };

		if (VEC_PUSH(&rec.exports, e))
			goto out;
	}
	for (i = 0; i < edits->n; i++)
		if (VEC_PUSH(&rec.edits, edits->v[i]))
			goto out;
	payload_find(w->img, &pl);
	payload_note(&pl, &rec);
	err = note_append(&w->note, old, oldsize, &rec, w->img->path);
out:
	note_record_free(&rec);
	return err;
}

/* The whole output, decided: the new dynamic tables, the edits and the note
 * that records them, segments, sections, the layout of the file. */
int output_plan(const struct image *img, const struct linked *l, const struct relink_opts *o, struct output **out)
{
	struct output *w = zalloc(sizeof(*w));
	GElf_Ehdr *eh;
	size_t i;

	*out = w;
	if (!w)
		return -1;
	*w = (struct output){ .img = img, .l = l, .o = o, .path = o->output, .fd = -1, .eh = img->eh };
	eh = &w->eh;
	/* New sections go after the last old allocated one in the table. */
	w->ins = 1;
	for (i = 1; i < img->shnum; i++)
		if (img->secs[i].sh.sh_flags & SHF_ALLOC)
			w->ins = i + 1;
	if (hooks_needed(img, l, &w->hooks) || dyn_build(img, l, o, w->ins, &w->hooks, &w->dyn, &w->edits))
		return -1;
	for (i = 0; i < l->secs.n; i++)
		if (VEC_PUSH(&w->news, l->secs.v[i]))
			return -1;
	for (i = 0; i < w->dyn.secs.n; i++)
		if (VEC_PUSH(&w->news, w->dyn.secs.v[i]))
			return -1;
	if (out_plan_edits(w) || out_build_note(w))
		return -1;
	if (w->hooks.entry)
		eh->e_entry = l->entry_thunk;
	if (out_make_groups(w) || out_build_sections(w) || out_layout(w))
		return -1;
	eh->e_phoff = w->phoff;
	eh->e_phnum = w->phdrs.n;
	eh->e_shoff = w->shoff;
	eh->e_shnum = w->secs.n;
	eh->e_shstrndx = w->out_shstrtab;
	w->header_loaded = out_header_edit_bytes(img, eh, &w->edits);
	/* Appended data last, after the new segments, where its format needs it. */
	payload_find(img, &w->pl);
	w->payload_at = payload_place(&w->pl, w->end);
	return 0;
}

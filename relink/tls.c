/* New thread-local variables.
 *
 * aarch64 (TLS variant I, like arm, riscv, ppc64): the thread pointer points
 * at a 16-byte TCB and the program's block starts roundup(16, A) past it, A
 * being the PT_TLS alignment (glibc: TLS_TCB_SIZE and _dl_determine_tlsoffset,
 * __libc_setup_tls's "l_tls_offset = roundup (TLS_INIT_TCB_SIZE, align)";
 * musl: GAP_ABOVE_TP; binutils elfNN-aarch64.c: TCB_SIZE in tpoff). The
 * block grows at its end: the new variables go after the old ones, whose
 * offsets do not change, as long as A does not grow past 16 or the old A.
 * The script puts the old block first in the linker's TLS segment, the
 * template is [old .tdata, zeros for the old .tbss, new .tdata], and the
 * old symbols move into it at their offsets.
 *
 * x86-64 (variant II): the TLS block lies below the
 * thread pointer: a block of size M and alignment A puts the pointer at
 * roundup(M, A) past its start, and old code reaches its variable at block
 * offset o as %fs:(o - roundup(M, A)), a constant in its instructions. The
 * block grows in front: the new variables take the first P bytes, the old
 * template follows, and P + roundup(M, A) is a multiple of the new
 * alignment, so that the pointer moves P bytes further from the start and
 * every old access still lands on its variable (glibc __libc_setup_tls and
 * _dl_determine_tlsoffset, musl static_init_tls, binutils elf_x86_64_tpoff
 * all compute it so).
 *
 * The linker sees that layout (unexec's script puts the old block, the
 * frozen object's TLS_SECTION, P bytes after the new sections) and
 * computes the new code's offsets from it. Here its TLS sections become one
 * template for the output: [new .tdata, then zeros for the new .tbss][a
 * copy of the old .tdata], to which the new PT_TLS points. The old template
 * bytes stay where they were. Block offsets stored elsewhere move by P: the
 * old STT_TLS symbols' values (write.c, dynamic.c) and the dynamic
 * relocations that hold one. */
#include "relink/relink.h"

#include <string.h>

#include "unexec/unexec.h"

static int ld_tls_phdr(const struct linked *l, GElf_Phdr *out)
{
	size_t n;

	if (elf_getphdrnum(l->elf, &n))
		return pr_elf(l->path, "cannot read the linker's program headers");
	for (size_t i = 0; i < n; i++)
		if (gelf_getphdr(l->elf, i, out) && out->p_type == PT_TLS)
			return 0;
	return pr_err(l->path, "the linker made thread-local sections but no PT_TLS");
}

/* The address the linker gave the program's old block. */
static int ld_old_block(const struct linked *l, uint64_t *addr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(l->elf, &shstrndx))
		return pr_elf(l->path, "cannot read the linker's sections");
	while ((scn = elf_nextscn(l->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(l->elf, shstrndx, sh.sh_name)) &&
		    !strcmp(name, TLS_SECTION)) {
			*addr = sh.sh_addr;
			return 0;
		}
	}
	return pr_err(l->path, "the linker's output has no '%s' section", TLS_SECTION);
}

/* The linker's thread-local sections: where they start in l->secs, how
 * many, their PT_TLS, and how far they reach. 0 sections: no new TLS. */
struct tls_seen {
	size_t first, n;
	GElf_Phdr ph;
	uint64_t extent;
};

static int tls_seen(const struct linked *l, struct tls_seen *ts)
{
	size_t i;

	memset(ts, 0, sizeof(*ts));
	ts->first = l->secs.n;
	for (i = 0; i < l->secs.n; i++) {
		if (!(l->secs.v[i].sh.sh_flags & SHF_TLS))
			continue;
		if (ts->first == l->secs.n)
			ts->first = i;
		if (i != ts->first + ts->n)
			return pr_err(l->path, "the linker's thread-local sections are not together");
		ts->n++;
	}
	if (!ts->n)
		return 0;
	if (ld_tls_phdr(l, &ts->ph))
		return -1;
	for (i = ts->first; i < ts->first + ts->n; i++) {
		const GElf_Shdr *sh = &l->secs.v[i].sh;

		if (sh->sh_addr < ts->ph.p_vaddr || sh->sh_addr + sh->sh_size - ts->ph.p_vaddr > ts->ph.p_memsz)
			return pr_err(l->path, "the linker's section '%s' lies outside its PT_TLS", l->secs.v[i].name);
		if (sh->sh_addr + sh->sh_size - ts->ph.p_vaddr > ts->extent)
			ts->extent = sh->sh_addr + sh->sh_size - ts->ph.p_vaddr;
	}
	return 0;
}

/* The modulus P + roundup(M, A) must meet: 64, the script's, or more when
 * the new variables want more. */
static uint64_t tls_modulus(const GElf_Phdr *ph)
{
	return ph->p_align > 64 ? ph->p_align : 64;
}

int tls_pad_needed(const struct linked *l, const struct image *img, uint64_t *pad)
{
	const GElf_Phdr *old = unexec_tls_segment(img);
	struct tls_seen ts;
	uint64_t oldaddr, shift, r, m, want;

	*pad = 0;
	if (img->arch->tls_variant1)
		return 0;	/* the new variables follow the old block: no padding to find */
	if (!old || tls_seen(l, &ts) || !ts.n)
		return old && ts.n ? -1 : 0;
	if (ld_old_block(l, &oldaddr))
		return -1;
	r = align_up(old->p_memsz, old->p_align ? old->p_align : 1);
	m = tls_modulus(&ts.ph);
	shift = oldaddr - ts.ph.p_vaddr;
	if (oldaddr < ts.ph.p_vaddr + ts.extent)
		return pr_err(img->path, "the linker put the program's TLS block inside the new one");
	want = align_up(shift + r, m) - r;
	*pad = want - shift;
	return 0;
}

int tls_plan(struct linked *l, const struct image *img)
{
	const GElf_Phdr *old = unexec_tls_segment(img);
	struct tls_layout *t = &l->tls;
	struct tls_seen ts;
	size_t first, n, i;
	uint64_t start, extent, size, memsz, oldaddr = 0, off = 0;
	GElf_Phdr ph;
	struct newsec s = { .name = ".tdata" };
	VEC(size_t) tbss = { 0 };

	if (tls_seen(l, &ts))
		return -1;
	if (!ts.n)
		return 0;
	first = ts.first, n = ts.n, ph = ts.ph, extent = ts.extent;
	start = ph.p_vaddr;
	if (!ph.p_align || start % ph.p_align)
		return pr_err(img->path, "the new thread-local variables need an alignment of %llu, which their block "
			      "at 0x%llx does not have", (unsigned long long)ph.p_align, (unsigned long long)start);
	if (old && img->arch->tls_variant1) {
		uint64_t tcb = img->arch->tls_tcb, end = 0;

		/* Variant I: the block starts roundup(TCB, alignment) past the
		 * thread pointer. The linker's segment starts with the old block;
		 * a larger alignment would move that start, and every old offset. */
		if (ld_old_block(l, &oldaddr))
			return -1;
		if (oldaddr != start || oldaddr + old->p_memsz > start + ph.p_memsz)
			return pr_err(img->path, "the linker did not start its thread-local segment with the "
				      "program's block");
		if (align_up(tcb, ph.p_align) != align_up(tcb, old->p_align ? old->p_align : 1))
			return pr_err(img->path, "the new thread-local variables need an alignment of %llu: the "
				      "program's block would start %llu bytes past the thread pointer instead of %llu, "
				      "and its own variables would move (%s TLS is variant I)",
				      (unsigned long long)ph.p_align, (unsigned long long)align_up(tcb, ph.p_align),
				      (unsigned long long)align_up(tcb, old->p_align ? old->p_align : 1),
				      img->arch->name);
		if (!image_vaddr_to_off(img, old->p_vaddr, old->p_filesz, &off))
			return pr_err(img->path, "its PT_TLS template lies outside the file");
		for (i = first; i < first + n; i++)
			if (l->secs.v[i].sh.sh_type != SHT_NOBITS &&
			    l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size - start > end)
				end = l->secs.v[i].sh.sh_addr + l->secs.v[i].sh.sh_size - start;
		t->shift = 0;
		t->after = true;
		size = end > old->p_filesz ? end : old->p_filesz;
		memsz = ph.p_memsz;
	} else if (old) {
		uint64_t r = align_up(old->p_memsz, old->p_align ? old->p_align : 1);

		if (ld_old_block(l, &oldaddr))
			return -1;
		t->shift = oldaddr - start;
		/* What the script asked for, checked: the old block last, at a
		 * shift that keeps the thread pointer's distance to it. */
		if (oldaddr < start + extent || (t->shift + r) % tls_modulus(&ph) ||
		    oldaddr + old->p_memsz != start + ph.p_memsz)
			return pr_err(img->path, "cannot lay out the new thread-local variables in front of the "
				      "program's (alignment %llu, %llu bytes of them)", (unsigned long long)ph.p_align,
				      (unsigned long long)extent);
		if (!image_vaddr_to_off(img, old->p_vaddr, old->p_filesz, &off))
			return pr_err(img->path, "its PT_TLS template lies outside the file");
		size = t->shift + old->p_filesz;
		memsz = t->shift + old->p_memsz;
	} else {
		size = memsz = ph.p_memsz;
	}
	t->template = zalloc(size ? size : 1);
	if (!t->template)
		return -1;
	for (i = first; i < first + n; i++) {
		const struct newsec *ns = &l->secs.v[i];

		if (ns->sh.sh_type != SHT_NOBITS && ns->bytes)
			memcpy(t->template + (ns->sh.sh_addr - start), ns->bytes, ns->sh.sh_size);
	}
	if (old && old->p_filesz)
		memcpy(t->template + t->shift, img->data + off, old->p_filesz);
	t->active = true;
	t->start = start;
	t->size = size;
	t->memsz = memsz;
	t->align = ph.p_align;
	t->old_vaddr = old ? old->p_vaddr : 0;
	t->old_filesz = old ? old->p_filesz : 0;
	if (t->after)
		pr_info("new thread-local variables: %llu bytes after the program's %llu",
			(unsigned long long)(memsz - old->p_memsz), (unsigned long long)old->p_memsz);
	else
		pr_info("new thread-local variables: %llu bytes in front of the program's %llu",
			(unsigned long long)t->shift, (unsigned long long)(old ? old->p_memsz : 0));

	/* One section for the template, in place of the linker's. */
	s.sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE | SHF_TLS,
			    .sh_addr = start, .sh_size = size, .sh_addralign = ph.p_align };
	s.bytes = t->template;
	s.ld_index = l->secs.v[first].ld_index;
	if (first + n < l->secs.n && start + size > l->secs.v[first + n].sh.sh_addr)
		return pr_err(l->path, "the linker put section '%s' where the thread-local template goes",
			      l->secs.v[first + n].name);
	for (i = 0; i <= l->ld_shnum; i++) {
		size_t p = l->ld_to_new[i];

		/* Variant I: the new .tbss lies past the template, in the zeros. */
		if (t->after && p > first && p <= first + n && l->secs.v[p - 1].sh.sh_type == SHT_NOBITS &&
		    VEC_PUSH(&tbss, i)) {
			VEC_FREE(&tbss);
			return -1;
		}
		if (p > first + 1 && p <= first + n)
			l->ld_to_new[i] = first + 1;
		else if (p > first + n)
			l->ld_to_new[i] = p - (n - 1);
	}
	l->secs.v[first] = s;
	memmove(l->secs.v + first + 1, l->secs.v + first + n, (l->secs.n - first - n) * sizeof(*l->secs.v));
	l->secs.n -= n - 1;
	t->data_pos = first + 1;
	if (memsz > size) {
		/* The old block's zeros, after the template: a section of their
		 * own, so that the old variables there are in one (tools check
		 * that a symbol lies in its section). Like any .tbss it takes no
		 * room in its PT_LOAD. */
		struct newsec z = { .name = ".tbss" };

		z.sh = (GElf_Shdr){ .sh_type = SHT_NOBITS, .sh_flags = SHF_ALLOC | SHF_WRITE | SHF_TLS,
				    .sh_addr = start + size, .sh_size = memsz - size, .sh_addralign = 1 };
		if (VEC_PUSH(&l->secs, z)) {
			VEC_FREE(&tbss);
			return -1;
		}
		memmove(l->secs.v + first + 2, l->secs.v + first + 1, (l->secs.n - first - 2) * sizeof(*l->secs.v));
		l->secs.v[first + 1] = z;
		for (i = 0; i <= l->ld_shnum; i++)
			if (l->ld_to_new[i] > first + 1)
				l->ld_to_new[i]++;
		t->bss_pos = first + 2;
		for (i = 0; i < tbss.n; i++)
			l->ld_to_new[tbss.v[i]] = t->bss_pos;
	}
	VEC_FREE(&tbss);
	return 0;
}

size_t tls_old_symbol_pos(const struct linked *l, uint64_t moved)
{
	return moved >= l->tls.size && l->tls.bss_pos ? l->tls.bss_pos : l->tls.data_pos;
}

bool tls_old_offset_moves(const struct linked *l, unsigned sym_type, uint16_t shndx)
{
	return l->tls.active && (l->tls.shift || l->tls.after) && sym_type == STT_TLS && shndx != SHN_UNDEF;
}

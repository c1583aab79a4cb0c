/* --replace OLD=NEW and --wrap SYM: a jump at OLD's entry (after its entry
 * marker, endbr64), so that every path into OLD (direct and tail calls,
 * function pointers, the PLT, dlsym) reaches the new code. The jump is the
 * arch's near one (x86-64: jmp rel32, 5 bytes), or its far one (jmp
 * *0(%rip); .quad NEW, 14) in a non-PIE whose new code is out of reach.
 * Before anything is written the displaced bytes must be whole instructions
 * of OLD (or alignment padding after it that no symbol starts in), and no
 * direct branch anywhere in the program may land inside them.
 *
 * --wrap: __real_SYM is a trampoline in new code: the displaced instructions
 * moved (disasm/relocate.c), their RIP-relative fields and branch targets
 * covered by PC32 relocations against __surgeon_entry (a symbol of
 * the frozen object, so the addends stay right in a PIE), then a jump back to
 * OLD + displaced length. The linker fills every field; surgeon only writes
 * the entry jumps.
 *
 * An import (OLD is APP's PLT/.plt.sec/.plt.got stub) is patched the same way
 * at its stub, which covers calls through the PLT and the canonical PLT
 * address a non-PIE hands out as &OLD; the copied GLOB_DAT and 64-bit
 * relocations against it (-fno-plt calls, .plt.got, address-taken in a PIE)
 * become RELATIVE relocations to NEW in the new relocation table. The shared
 * library is not touched. Old JUMP_SLOTs stay: the patched stub no longer
 * jumps through them (--wrap's __real_SYM does). */
#include "relink/patch.h"
#include "unexec/anchors.h"

#include <stdio.h>
#include <string.h>

#include "disasm/relocate.h"
#include "unexec/unexec.h"

void patch_plan_free(struct patch_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->sites.n; i++) {
		free(p->sites.v[i].what);
		free(p->sites.v[i].target);
	}
	VEC_FREE(&p->sites);
	free(p->obj);
	free(p);
}

/* OLD by name: a global or weak definition (an import's stub), else a local
 * named NAME or FILE:NAME that is unique. */
static const struct symbol *find_old(const struct image *img, const char *name, bool *ambiguous)
{
	const struct symbol *s = image_symbol(img, name), *best = NULL;
	const char *colon = strrchr(name, ':');

	*ambiguous = false;
	if (s)
		return s;
	for (size_t i = 0; i < img->syms.n; i++) {
		const struct symbol *c = &img->syms.v[i];
		bool match = !strcmp(c->name, name);

		if (!match && colon && c->file && !strcmp(c->name, colon + 1) &&
		    strlen(c->file) == (size_t)(colon - name) && !strncmp(c->file, name, colon - name))
			match = true;
		if (!match || c->shndx == SHN_UNDEF || c->type == STT_TLS)
			continue;
		if (best && best->addr != c->addr)
			*ambiguous = true;
		best = c;
	}
	return *ambiguous ? NULL : best;
}

/* Is NAME imported through .dynsym (undefined there)? */
static bool is_dyn_import(const struct image *img, const char *name)
{
	const struct dyninfo *d = &img->dyn;

	for (size_t i = 1; d->syms && i < d->nsyms; i++)
		if (d->syms[i].st_shndx == SHN_UNDEF && d->syms[i].st_name < d->strsz &&
		    !strcmp(d->str + d->syms[i].st_name, name))
			return true;
	return false;
}

static bool is_pad(struct disasm *d, const unsigned char *p, size_t n, uint64_t a, size_t *len, uint8_t trap)
{
	struct insn in;

	if (disasm_one(d, p, n, a, &in) || (in.kind != INSN_NOP && !(in.kind == INSN_TRAP && in.bytes[0] == trap)))
		return false;
	*len = in.len;
	return true;
}

/* Where the jump goes and how many bytes it takes; refusals say why and what to do instead. */
static int plan_site(const struct image *img, struct disasm *d, const struct symindex *ix, struct patch_site *s)
{
	const struct arch *a = img->arch;
	const struct symbol *sym;
	uint64_t off, end, next, base, feat_addr;
	uint32_t feat;
	bool amb;
	char why[256];
	const char *opt = s->what;

	sym = find_old(img, s->old, &amb);
	if (!sym && amb)
		return pr_err(img->path, "%s: several functions are named '%s'; name one as FILE:NAME", opt, s->old);
	if (!sym && img->dyn.present && is_dyn_import(img, s->old)) {
		if (s->wrap)
			return pr_err(img->path, "%s: '%s' is imported without a PLT stub (only through the GOT), so "
				      "there are no old instructions for __real_%s to run; use --replace", opt, s->old,
				      s->old);
		s->import = true;
		return 0;
	}
	if (!sym)
		return pr_err(img->path, "%s: no function '%s' in the program", opt, s->old);
	if (sym->type == STT_GNU_IFUNC && sym->src != SYM_IPLT)
		return pr_err(img->path, "%s: '%s' is an IFUNC resolver, not the function it selects", opt, s->old);
	if (sym->type != STT_FUNC && sym->type != STT_GNU_IFUNC && sym->type != STT_NOTYPE)
		return pr_err(img->path, "%s: '%s' is not a function", opt, s->old);
	s->import = sym->src == SYM_PLT;
	s->has_entry = true;
	s->sym = sym->addr;
	s->entry = sym->addr;
	next = symindex_next(ix, sym->addr);
	end = sym->size ? sym->addr + sym->size : next;
	if (end == UINT64_MAX || !image_vaddr_to_off(img, sym->addr, end > sym->addr ? end - sym->addr : 1, &off))
		return pr_err(img->path, "%s: the bytes of '%s' at 0x%llx are not in the file", opt, s->old,
			      (unsigned long long)sym->addr);
	if (end - sym->addr >= a->entry_marker_len && !memcmp(img->data + off, a->entry_marker, a->entry_marker_len))
		s->entry += a->entry_marker_len;
	else if (a->implicit_marker && a->implicit_marker(img->data + off, end - sym->addr) &&
		 image_gnu_features(img, &feat, &feat_addr) && (feat & a->landing_feature))
		s->pad = true;	/* bti c, then the jump: the paciasp moves into __real_SYM */
	/* Alignment padding after the function, up to where anything else starts. */
	for (;;) {
		uint64_t o2;
		size_t pl;

		if (end >= next || !image_vaddr_to_off(img, end, 1, &o2) ||
		    !is_pad(d, img->data + o2, next - end < 16 ? next - end : 16, end, &pl, a->trap) || end + pl > next)
			break;
		if (end - s->entry >= 14)
			break;
		end += pl;
	}
	base = unexec_new_base(img);
	s->jlen = a->near_jump_len;
	if (!a->near_reach(s->entry, base + a->new_code_slack)) {
		if (img->pie && !a->far_jump_pic)
			return pr_err(img->path, "%s: the new code is too far from '%s' for a %s", opt,
				      s->old, a->near_jump_name);
		s->jlen = a->far_jump_len;
	}
	if (s->pad)
		s->jlen += a->entry_marker_len;
	if (end <= s->entry || disasm_cover(d, img->data + off + (s->entry - sym->addr), end - s->entry, s->entry,
					    s->jlen, &s->len, why, sizeof(why)) || s->entry + s->len > end) {
		return pr_err(img->path, "%s: '%s' is too short to patch: %llu bytes from 0x%llx (with the alignment "
			      "padding after it) hold no %zu-byte jump; replace its callers instead (e.g. "
			      "--replace on each caller)", opt, s->old,
			      (unsigned long long)(end > s->entry ? end - s->entry : 0),
			      (unsigned long long)s->entry, s->jlen);
	}
	if (symindex_next(ix, s->entry) < s->entry + s->len) {
		char name[256];

		symindex_name(ix, symindex_next(ix, s->entry), name, sizeof(name));
		return pr_err(img->path, "%s: symbol %s starts inside the %zu bytes the jump at 0x%llx displaces",
			      opt, name, s->len, (unsigned long long)s->entry);
	}
	if (s->wrap && s->import) {
		uint64_t slot;

		/* A .plt.got stub jumps through the GLOB_DAT slot that is pointed at __wrap_SYM. */
		if (disasm_stub_slot(d, img->data + off + (s->entry - sym->addr), s->len, s->entry, &slot))
			for (size_t k = 0; k < img->dyn.nrela; k++)
				if (img->dyn.rela[k].r_offset == slot &&
				    a->rel_class(ELF64_R_TYPE(img->dyn.rela[k].r_info)) != REL_JUMP_SLOT)
					return pr_err(img->path, "%s: the stub of '%s' jumps through a GOT slot that --wrap "
						      "points at __wrap_%s, so __real_%s would loop; use --replace",
						      opt, s->old, s->old, s->old);
	}
	if (s->wrap) {
		struct relocated r;

		if (disasm_relocate(d, img->data + off + (s->entry - sym->addr), s->len, s->entry, &r, why,
				    sizeof(why)))
			return pr_err(img->path, "%s: cannot move the first instructions of '%s' into __real_%s: %s; "
				      "use --replace and reimplement it", opt, s->old, s->old, why);
	}
	return 0;
}

/* The trampolines' object: .text.surgeon_patch (placed with the new .text by
 * the script's .text.* pattern) with __real_SYM, PC32 relocations against
 * __surgeon_entry, and an undefined reference to every NEW and __wrap_SYM so
 * that the linker pulls them from archives given with -u/--only too. */
static int write_object(const struct image *img, struct disasm *d, struct patch_plan *p, const char *path)
{
	const struct arch *a = img->arch;
	bytevec text = { 0 };
	VEC(Elf64_Rela) rela = { 0 };
	VEC(Elf64_Sym) syms = { 0 };
	VEC(char *) names = { 0 };
	struct strset *str = strset_new();
	Elf64_Sym z = { 0 };
	int err = -1;
	size_t anchor, i;
	char why[256];

	if (!str || VEC_PUSH(&syms, z))
		goto out;
	anchor = syms.n;
	z.st_name = strset_add(str, ANCHOR_ENTRY);
	z.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE);
	if (VEC_PUSH(&syms, z))
		goto out;
	for (i = 0; i < p->sites.n; i++) {
		struct patch_site *s = &p->sites.v[i];
		Elf64_Sym u = { .st_name = strset_add(str, s->target), .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE) };
		struct relocated r;
		uint64_t off;
		size_t start;
		char *real;

		if (VEC_PUSH(&syms, u))
			goto out;
		if (!s->wrap)
			continue;
		if (!image_vaddr_to_off(img, s->entry, s->len, &off) ||
		    disasm_relocate(d, img->data + off, s->len, s->entry, &r, why, sizeof(why))) {
			pr_err(img->path, "%s: %s", s->what, why);
			goto out;
		}
		while (text.n % 16)
			if (VEC_PUSH(&text, a->trap))
				goto out;
		start = text.n;
		for (size_t k = 0; k < a->entry_marker_len + r.len; k++)
			if (VEC_PUSH(&text, k < a->entry_marker_len ? a->entry_marker[k] : r.code[k - a->entry_marker_len]))
				goto out;
		for (size_t k = 0; k < r.nfix; k++) {
			Elf64_Rela x = {
				.r_offset = start + a->entry_marker_len + r.fix[k].off,
				.r_info = ELF64_R_INFO(anchor, a->rel_type(r.fix[k].rel)),
				.r_addend = (int64_t)(r.fix[k].target - img->eh.e_entry) + r.fix[k].bias,
			};

			if (VEC_PUSH(&rela, x))
				goto out;
		}
		/* The relocated copy and its jump back, lengths unchanged. */
		s->same_lengths = r.moved_len == s->len;
		real = xasprintf("__real_%s", s->old);
		if (!real || VEC_PUSH(&names, real)) {
			free(real);
			goto out;
		}
		u = (Elf64_Sym){ .st_name = strset_add(str, real), .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
				 .st_other = STV_HIDDEN, .st_shndx = 1, .st_value = start, .st_size = text.n - start };
		if (VEC_PUSH(&syms, u))
			goto out;
	}
	err = relobj_write(path, img->arch, ".text.surgeon_patch", text.v, text.n, rela.v, rela.n, syms.v, syms.n, str,
			   NULL, NULL, 0);
out:
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	VEC_FREE(&names);
	VEC_FREE(&text);
	VEC_FREE(&rela);
	VEC_FREE(&syms);
	strset_free(str);
	return err;
}

int patch_plan_make(const struct image *img, const struct relink_opts *o, const char *dir, struct patch_plan **out)
{
	struct patch_plan *p;
	struct disasm *d = NULL;
	struct symindex *ix = NULL;
	struct branch_guard *g = NULL;
	size_t i, j, ng = 0;
	int err = -1;

	*out = NULL;
	if (!o->patch_reqs.n)
		return 0;
	p = zalloc(sizeof(*p));
	if (!p || disasm_new(&d, img->arch->machine, 0) || symindex_new(&ix, img))
		goto out;
	for (i = 0; i < o->patch_reqs.n; i++) {
		const struct patch_req *r = &o->patch_reqs.v[i];
		struct patch_site s = { .old = r->old, .wrap = r->wrap };

		s.what = r->wrap ? xasprintf("--wrap %s", r->old) : xasprintf("--replace %s=%s", r->old, r->new);
		s.target = r->wrap ? xasprintf("__wrap_%s", r->old) : xstrdup(r->new);
		if (!s.what || !s.target || VEC_PUSH(&p->sites, s)) {
			free(s.what);
			free(s.target);
			goto out;
		}
		if (plan_site(img, d, ix, &p->sites.v[p->sites.n - 1]))
			goto out;
	}
	/* One patch per function, and no two that overlap. */
	for (i = 0; i < p->sites.n; i++)
		for (j = 0; j < i; j++) {
			const struct patch_site *a = &p->sites.v[i], *b = &p->sites.v[j];

			if (!strcmp(a->old, b->old) || (a->has_entry && b->has_entry && a->entry < b->entry + b->len &&
							b->entry < a->entry + a->len)) {
				pr_err(img->path, "%s and %s patch the same bytes; give one per function", b->what, a->what);
				goto out;
			}
		}
	/* Nothing may branch into the bytes a jump displaces. */
	g = zalloc((p->sites.n + 1) * sizeof(*g));
	if (!g)
		goto out;
	for (i = 0; i < p->sites.n; i++)
		if (p->sites.v[i].has_entry)
			g[ng++] = (struct branch_guard){ .lo = p->sites.v[i].entry,
							 .hi = p->sites.v[i].entry + p->sites.v[i].len };
	if (ng && disasm_branches_into(d, img, ix, g, ng))
		goto out;
	for (i = 0, j = 0; i < p->sites.n; i++) {
		const struct patch_site *s = &p->sites.v[i];
		char from[256];

		if (!s->has_entry)
			continue;
		if (g[j].from) {
			symindex_name(ix, g[j].from, from, sizeof(from));
			pr_err(img->path, "%s: the code at 0x%llx (%s) branches into the %zu bytes the jump at "
			       "0x%llx would displace; patch that caller instead (--replace %s)", s->what,
			       (unsigned long long)g[j].from, from, s->len, (unsigned long long)s->entry, from);
			goto out;
		}
		j++;
	}
	p->obj = xasprintf("%s/patch.o", dir);
	if (!p->obj || write_object(img, d, p, p->obj))
		goto out;
	*out = p;
	p = NULL;
	err = 0;
out:
	free(g);
	symindex_free(ix);
	disasm_free(d);
	patch_plan_free(p);
	return err;
}

int patch_resolve(struct patch_plan *p, const struct image *img, const struct linked *l)
{
	for (size_t i = 0; i < p->sites.n; i++) {
		struct patch_site *s = &p->sites.v[i];
		bool found = false;

		for (size_t k = 1; k < l->nsyms && !found; k++) {
			const char *name = linked_str(l, l->sym_strndx, l->syms[k].st_name);

			if (name && l->syms[k].st_shndx != SHN_UNDEF && ELF64_ST_BIND(l->syms[k].st_info) != STB_LOCAL &&
			    !strcmp(name, s->target)) {
				s->target_addr = l->syms[k].st_value;
				found = true;
			}
		}
		if (!found)
			return pr_err(img->path, "%s: the added code does not define '%s'", s->what, s->target);
		for (size_t k = 1; s->wrap && k < l->nsyms; k++) {
			const char *name = linked_str(l, l->sym_strndx, l->syms[k].st_name);

			if (name && !strncmp(name, "__real_", 7) && !strcmp(name + 7, s->old) &&
			    l->syms[k].st_shndx != SHN_UNDEF) {
				s->real_addr = l->syms[k].st_value;
				s->real_size = l->syms[k].st_size;
			}
		}
		if (s->has_entry && s->jlen == img->arch->near_jump_len + (s->pad ? img->arch->entry_marker_len : 0) &&
		    !img->arch->near_reach(s->entry + (s->pad ? img->arch->entry_marker_len : 0), s->target_addr))
			return pr_err(img->path, "%s: '%s' at 0x%llx is out of reach of a %s", s->what,
				      s->target, (unsigned long long)s->target_addr, img->arch->near_jump_name);
		if (s->has_entry && img->arch->far_reach && !img->arch->far_reach(s->entry, s->target_addr))
			return pr_err(img->path, "%s: '%s' at 0x%llx is out of reach of the jump at 0x%llx", s->what,
				      s->target, (unsigned long long)s->target_addr, (unsigned long long)s->entry);
		if (s->has_entry)
			pr_info("%s: jump at 0x%llx (%zu of %zu displaced bytes) to %s at 0x%llx", s->what,
				(unsigned long long)s->entry, s->jlen, s->len, s->target,
				(unsigned long long)s->target_addr);
	}
	return 0;
}

int patch_plan_edits(const struct patch_plan *p, const struct arch *arch, edit_vec *edits)
{
	for (size_t i = 0; p && i < p->sites.n; i++) {
		const struct patch_site *s = &p->sites.v[i];
		uint8_t j[EDIT_MAX];

		if (!s->has_entry)
			continue;
		size_t m = s->pad ? arch->entry_marker_len : 0;

		if (s->jlen > sizeof(j))
			return pr_err(s->what, "internal error: a %zu-byte jump", s->jlen);
		memcpy(j, arch->entry_marker, m);
		arch->encode_jump(j + m, s->entry + m, s->target_addr, s->jlen - m != arch->near_jump_len);
		if (edit_add(edits, s->entry, s->jlen, j, s->what))
			return -1;
	}
	return 0;
}

int patch_dyn_relocs(struct patch_plan *p, const struct image *img, Elf64_Rela *r, size_t n)
{
	const struct dyninfo *d = &img->dyn;
	const struct arch *a = img->arch;

	for (size_t i = 0; p && i < p->sites.n; i++) {
		const struct patch_site *s = &p->sites.v[i];

		if (!s->import)
			continue;
		for (size_t k = 0; k < n; k++) {
			enum rel_class c = a->rel_class(ELF64_R_TYPE(r[k].r_info));
			uint32_t si = ELF64_R_SYM(r[k].r_info);

			if ((c != REL_GLOB_DAT && c != REL_ABS64 && c != REL_JUMP_SLOT) || !si ||
			    si >= d->nsyms || d->syms[si].st_name >= d->strsz ||
			    strcmp(d->str + d->syms[si].st_name, s->old))
				continue;
			r[k].r_addend = s->target_addr + (c == REL_ABS64 ? r[k].r_addend : 0);
			r[k].r_info = ELF64_R_INFO(0, a->rel_type(REL_RELATIVE));
			p->nrelocs++;
			pr_info("%s: the relocation of 0x%llx against %s (new table) now holds %s",
				s->what, (unsigned long long)r[k].r_offset, s->old, s->target);
		}
	}
	return 0;
}

/* Reading what the linker made: only the sections after the old image, and
 * their symbols, are taken from it. Old bytes come from the original. */
#include "relink/relink.h"
#include "unexec/anchors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unexec/unexec.h"

const char *linked_str(const struct linked *l, size_t strndx, uint64_t off)
{
	Elf_Scn *scn = elf_getscn(l->elf, strndx);
	GElf_Shdr sh;
	const char *base;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB || off >= sh.sh_size ||
	    !range_ok(sh.sh_offset, sh.sh_size, l->size))
		return NULL;
	base = (const char *)l->data + sh.sh_offset;
	return memchr(base + off, 0, sh.sh_size - off) ? base + off : NULL;
}

/* The linker's own dynamic tables: relink/dynamic.c merges them with the
 * program's into new ones, so they are not copied. */
static bool is_meta(const char *name)
{
	static const char *const meta[] = { ".interp", ".dynamic", ".dynsym", ".dynstr", ".hash", ".gnu.hash",
					    ".gnu.version", ".gnu.version_r", ".gnu.version_d", ".rela.dyn",
					    ".rela.plt" };

	for (size_t i = 0; i < sizeof(meta) / sizeof(*meta); i++)
		if (!strcmp(name, meta[i]))
			return true;
	return false;
}

/* Sections the new code may not bring: dynamic linking in a static
 * program (a static link's .plt holds only the IFUNC stubs of .iplt: the
 * linker makes no other). */
static int refuse(const struct linked *l, const struct image *img, const struct newsec *s)
{
	if (!img->dyn.present && s->sh.sh_type == SHT_RELA && strcmp(s->name, ".rela.iplt") && s->bytes && s->sh.sh_size &&
	    s->sh.sh_size % sizeof(Elf64_Rela) == 0) {
		const Elf64_Rela *r = (const Elf64_Rela *)s->bytes;
		size_t n = s->sh.sh_size / sizeof(Elf64_Rela), i;

		for (i = 0; i < n && img->arch->rel_class(ELF64_R_TYPE(r[i].r_info)) == REL_IRELATIVE; i++)
			;
		if (i == n)
			return pr_err(img->path, "the linker put the new IFUNCs' relocations in its own '%s', where "
				      "surgeon's constructor thunk cannot apply them in a static program: link with GNU "
				      "ld or lld (--ld bfd, --ld lld)", s->name);
	}
	if (!img->dyn.present && is_meta(s->name))
		return pr_err(img->path, "is statically linked, but the added code needs dynamic linking "
			      "(the linker made section '%s'): add static libraries for what it imports", s->name);
	return 0;
}

/* aarch64's GNU ld makes a .got (GOT[0]: _DYNAMIC's address) and .got.plt's
 * reserved entries for any dynamic link, even one that brings nothing: with
 * no other new section and no relocation, the link added nothing. */
static bool only_reserved_got(const struct linked *l)
{
	size_t i;

	for (i = 0; i < l->meta.n; i++)
		if (!strncmp(l->meta.v[i].name, ".rela", 5) && l->meta.v[i].sh.sh_size)
			return false;
	for (i = 0; i < l->secs.n; i++) {
		const struct newsec *s = &l->secs.v[i];
		bool got = !strcmp(s->name, ".got");

		if (!got && strcmp(s->name, ".got.plt"))
			return false;
		if (s->sh.sh_type == SHT_NOBITS)	/* only the RELRO alignment the script asks for */
			continue;
		if (s->sh.sh_type != SHT_PROGBITS || !s->bytes)
			return false;
		for (uint64_t k = got ? 8 : 0; k < s->sh.sh_size; k++)
			if (s->bytes[k])
				return false;
	}
	return l->secs.n > 0;
}

int linked_open(struct linked *l, const struct image *img, const char *path)
{
	uint64_t base = unexec_new_base(img);
	size_t shstrndx, i;
	Elf_Scn *scn = NULL;
	size_t sz;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->path = xstrdup(path);
	if (!l->path)
		return -1;
	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		return pr_err(path, "%s", strerror(errno));
	l->elf = elf_begin(l->fd, ELF_C_READ_MMAP, NULL);
	if (!l->elf || elf_kind(l->elf) != ELF_K_ELF || !(l->data = (const unsigned char *)elf_rawfile(l->elf, &sz)))
		return pr_elf(path, "cannot read the linker's output");
	l->size = sz;
	if (elf_getshdrnum(l->elf, &l->ld_shnum) || elf_getshdrstrndx(l->elf, &shstrndx))
		return pr_elf(path, "cannot read the linker's sections");
	l->ld_to_new = zalloc((l->ld_shnum + 1) * sizeof(*l->ld_to_new));
	if (!l->ld_to_new)
		return -1;
	while ((scn = elf_nextscn(l->elf, scn))) {
		struct newsec s = { .ld_index = elf_ndxscn(scn) };

		if (!gelf_getshdr(scn, &s.sh) || !(s.name = elf_strptr(l->elf, shstrndx, s.sh.sh_name)))
			return pr_elf(path, "cannot read section %zu", s.ld_index);
		/* An sh_info that names no section is not kept: what the linker
		 * counted there counts its own table. */
		s.link = (struct secref){ SEC_LD, s.sh.sh_link };
		s.info = (struct secref){ SEC_LD, s.sh.sh_flags & SHF_INFO_LINK ? s.sh.sh_info : 0 };
		if (s.sh.sh_type == SHT_SYMTAB) {
			if (s.sh.sh_entsize != sizeof(Elf64_Sym) || !range_ok(s.sh.sh_offset, s.sh.sh_size, l->size))
				return pr_err(path, "bad symbol table");
			l->syms = (const Elf64_Sym *)(l->data + s.sh.sh_offset);
			l->nsyms = s.sh.sh_size / sizeof(Elf64_Sym);
			l->sym_strndx = s.sh.sh_link;
			continue;
		}
		if (!(s.sh.sh_flags & SHF_ALLOC) && s.sh.sh_type == SHT_PROGBITS && s.sh.sh_size &&
		    unexec_debug_section(s.name)) {
			if (!range_ok(s.sh.sh_offset, s.sh.sh_size, l->size))
				return pr_err(path, "section '%s' lies outside the file", s.name);
			s.bytes = l->data + s.sh.sh_offset;
			if (VEC_PUSH(&l->debug, s))
				return -1;
			continue;
		}
		if (!(s.sh.sh_flags & SHF_ALLOC) || !s.sh.sh_size || !strncmp(s.name, OLD_PREFIX, strlen(OLD_PREFIX)))
			continue;
		/* The BTI/PAC bits every input has (unexec's script keeps them here). */
		if (img->arch->feature_and && !strcmp(s.name, ".note.gnu.property")) {
			size_t at;

			if (s.sh.sh_type == SHT_NOTE && range_ok(s.sh.sh_offset, s.sh.sh_size, l->size) &&
			    !arch_gnu_property(l->data + s.sh.sh_offset, s.sh.sh_size, img->arch->feature_and,
					       &l->features, &at))
				l->features = 0;
			continue;
		}
		if (s.sh.sh_addr < base)
			return pr_err(path, "the linker placed section '%s' at 0x%llx, inside the old program "
				      "(below 0x%llx)", s.name, (unsigned long long)s.sh.sh_addr,
				      (unsigned long long)base);
		if (s.sh.sh_type != SHT_NOBITS) {
			if (!range_ok(s.sh.sh_offset, s.sh.sh_size, l->size))
				return pr_err(path, "section '%s' lies outside the file", s.name);
			s.bytes = l->data + s.sh.sh_offset;
		}
		if (refuse(l, img, &s))
			return -1;
		if (is_meta(s.name) || (img->dyn.present && !strcmp(s.name, ".rela.iplt"))) {
			if (VEC_PUSH(&l->meta, s))
				return -1;
			continue;
		}
		if (!strcmp(s.name, ".rela.iplt"))
			l->has_irel = true;
		if (VEC_PUSH(&l->secs, s))
			return -1;
		l->ld_to_new[s.ld_index] = l->secs.n;
	}
	{
		/* The script brackets the new arrays: [start, prio_end) holds the
		 * prioritized entries, [prio_end, end) the rest. */
		uint64_t ia = 0, ip = 0, ie = 0, fa = 0, fp = 0, fe = 0, rs = 0, re = 0;
		const struct { const char *name; uint64_t *v; } want[] = {
			{ ANCHOR_INIT_THUNK, &l->init_thunk }, { ANCHOR_FINI_THUNK, &l->fini_thunk },
			{ ANCHOR_INIT_FIRST_THUNK, &l->init_first_thunk },
			{ ANCHOR_FINI_FIRST_THUNK, &l->fini_first_thunk },
			{ ANCHOR_ENTRY_THUNK, &l->entry_thunk },
			{ ANCHOR_INIT_ARRAY_START, &ia }, { ANCHOR_INIT_PRIO_END, &ip },
			{ ANCHOR_INIT_ARRAY_END, &ie }, { ANCHOR_FINI_ARRAY_START, &fa },
			{ ANCHOR_FINI_PRIO_END, &fp }, { ANCHOR_FINI_ARRAY_END, &fe },
			{ ANCHOR_RELRO_START, &rs }, { ANCHOR_RELRO_END, &re },
		};

		for (i = 1; i < l->nsyms; i++) {
			const char *name = linked_str(l, l->sym_strndx, l->syms[i].st_name);

			for (size_t k = 0; name && k < sizeof(want) / sizeof(*want); k++)
				if (!strcmp(name, want[k].name))
					*want[k].v = l->syms[i].st_value;
		}
		l->init_prio = ip > ia;
		l->init_unprio = ie > ip;
		l->fini_prio = fp > fa;
		l->fini_unprio = fe > fp;
		/* Worth protecting only if the new code brought relocated data: the
		 * range always holds relink's own 8-byte .surgeon.relro. */
		l->relro = false;
		for (i = 0; re > rs && i < l->secs.n; i++) {
			const char *n = l->secs.v[i].name;

			if (!strcmp(n, ".init_array") || !strcmp(n, ".fini_array") || !strcmp(n, ".data.rel.ro") ||
			    !strcmp(n, ".got") || (!strcmp(n, ".got.plt") && l->has_irel))
				l->relro = true;
		}
		for (i = 0; re > rs && i < l->meta.n; i++)
			if (!strcmp(l->meta.v[i].name, ".rela.plt") && l->meta.v[i].sh.sh_size)
				l->relro = true;
	}
	if (only_reserved_got(l))
		l->secs.n = 0;
	/* The linker lists sections by address already; keep it that way. */
	for (i = 1; i < l->secs.n; i++)
		if (l->secs.v[i].sh.sh_addr < l->secs.v[i - 1].sh.sh_addr)
			return pr_err(path, "the linker's sections are not in address order");
	return 0;
}

void linked_close(struct linked *l)
{
	if (l->elf)
		elf_end(l->elf);
	if (l->fd >= 0)
		close(l->fd);
	VEC_FREE(&l->secs);
	VEC_FREE(&l->meta);
	VEC_FREE(&l->debug);
	free(l->tls.template);
	free(l->ehhdr.bytes);
	free(l->ld_to_new);
	free(l->path);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

/* The frozen object: the old program's loaded bytes as sections pinned at
 * their addresses, its symbols, and what relink needs to rebuild the file. */
#include "unexec/unexec.h"
#include "unexec/anchors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unexec/dwarf.h"

static const char *const reserved[] = {
	"_GLOBAL_OFFSET_TABLE_", "_DYNAMIC", "_PROCEDURE_LINKAGE_TABLE_", "__ehdr_start",
	"__executable_start", "_etext", "etext", "__etext", "_edata", "edata", "_end", "end",
	"__bss_start", "__init_array_start", "__init_array_end", "__fini_array_start",
	"__fini_array_end", "__preinit_array_start", "__preinit_array_end", "__rela_iplt_start",
	"__rela_iplt_end", "__GNU_EH_FRAME_HDR", "_TLS_MODULE_BASE_", "__TMC_END__",
};

bool unexec_reserved_name(const char *name)
{
	size_t i;

	if (!strncmp(name, ANCHOR_PREFIX, sizeof(ANCHOR_PREFIX) - 1) || !strncmp(name, ".L", 2))
		return true;
	for (i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (!strcmp(name, reserved[i]))
			return true;
	return false;
}

uint64_t unexec_new_base(const struct image *img)
{
	return img->new_base ? img->new_base : align_up(img->vaddr_end, img->page_size);
}

const GElf_Phdr *unexec_tls_segment(const struct image *img)
{
	for (size_t i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_TLS && img->phdrs[i].p_memsz)
			return &img->phdrs[i];
	return NULL;
}

struct objw {
	const struct image *img;
	struct freeze_opts fo;
	const char *path;
	Elf *elf;
	struct strset *shstr, *str;
	VEC(Elf64_Sym) locals;
	VEC(Elf64_Sym) globals;
	size_t *piece_shndx;	/* object section index of each piece */
	size_t nsec;
	struct strmap *exports;	/* see exported() */
	size_t tls_shndx;	/* the old TLS block's section, or 0 */
};

static Elf_Scn *new_section(struct objw *w, const char *name, GElf_Shdr *sh, void *buf, size_t size,
			    Elf_Type type)
{
	Elf_Scn *scn = elf_newscn(w->elf);
	Elf_Data *d;
	long off = strset_add(w->shstr, name);

	if (!scn || off < 0) {
		pr_elf(w->path, "cannot add section '%s'", name);
		return NULL;
	}
	sh->sh_name = off;
	d = elf_newdata(scn);
	if (!d) {
		pr_elf(w->path, "cannot add data to section '%s'", name);
		return NULL;
	}
	d->d_buf = buf;
	d->d_size = size;
	d->d_type = type;
	d->d_align = sh->sh_addralign ? sh->sh_addralign : 1;
	if (!gelf_update_shdr(scn, sh)) {
		pr_elf(w->path, "cannot write header of section '%s'", name);
		return NULL;
	}
	w->nsec++;
	return scn;
}

static int add_sym(struct objw *w, const char *name, uint64_t value, uint64_t size, unsigned bind,
		   unsigned type, unsigned vis, size_t shndx)
{
	/* Only what the new code refers to, when that is known; anchors stay. */
	if (w->img->wanted && *name && strncmp(name, ANCHOR_PREFIX, sizeof(ANCHOR_PREFIX) - 1) && !strmap_get(w->img->wanted, name))
		return 0;
	Elf64_Sym s = {
		.st_info = ELF64_ST_INFO(bind, type), .st_other = vis,
		.st_shndx = shndx, .st_value = value, .st_size = size,
	};
	long off = strset_add(w->str, name);

	if (off < 0)
		return -1;
	s.st_name = off;
	return bind == STB_LOCAL ? VEC_PUSH(&w->locals, s) : VEC_PUSH(&w->globals, s);
}

/* Where a symbol at `addr` lives in the object: a piece and an offset, or
 * an absolute value when no piece holds it. */
static int place(const struct objw *w, uint64_t addr, size_t *shndx, uint64_t *value)
{
	const struct image *img = w->img;
	const struct piece *pc = image_piece_at(img, addr);

	if (!pc && addr) {
		/* A symbol just past the end of a piece (_etext and the like). */
		pc = image_piece_at(img, addr - 1);
		if (pc && addr != pc->addr + pc->size)
			pc = NULL;
	}
	if (pc) {
		*shndx = w->piece_shndx[pc - img->pieces.v];
		*value = addr - pc->addr;
		return 0;
	}
	if (img->pie)
		return -1;	/* an absolute address means nothing in a PIE */
	*shndx = SHN_ABS;
	*value = addr;
	return 0;
}

/* Names the program exports; built on first use (--allow-interpose only). */
static bool exported(struct objw *w, const char *name)
{
	const struct image *img = w->img;

	if (!w->exports) {
		w->exports = strmap_new(img->dyn.nsyms);
		if (!w->exports)
			return false;
		for (size_t i = 0; i < img->syms.n; i++) {
			const struct symbol *s = &img->syms.v[i];

			if (s->src == SYM_DYNSYM && s->shndx != SHN_UNDEF && strmap_put(w->exports, s->name, (void *)1))
				return false;
		}
	}
	return strmap_get(w->exports, name);
}

/* A local of the program under the names new code can use: itself (for
 * debuggers reading the object), FILE:NAME when that pair is unique, and
 * plainly NAME, weak, when no other symbol of the program has that name
 * (weak, so that a new global of that name wins for the new code). */
static int add_local(struct objw *w, const struct symbol *s, unsigned type, size_t shndx, uint64_t value,
		     const struct strmap *count, const struct strmap *filecount, bool plain)
{
	int err;

	if (add_sym(w, s->name, value, s->size, STB_LOCAL, type, STV_DEFAULT, shndx))
		return -1;
	if (s->file) {
		char *fn = xasprintf("%s:%s", s->file, s->name);

		err = !fn;
		if (!err && (uintptr_t)strmap_get(filecount, fn) == 1)
			err = add_sym(w, fn, value, s->size, STB_GLOBAL, type, STV_HIDDEN, shndx);
		free(fn);
		if (err)
			return -1;
	}
	if (plain && (uintptr_t)strmap_get(count, s->name) == 1 &&
	    add_sym(w, s->name, value, s->size, STB_WEAK, type, STV_HIDDEN, shndx))
		return -1;
	return 0;
}

/* A static-pie's IFUNCs are locals, and so are the stubs that call them:
 * NAME is the stub (calling the IFUNC symbol itself would make the linker
 * add an IRELATIVE relocation of its own), and the IFUNC does not count as
 * a second symbol of that name. */
static bool stubbed_ifunc(const struct symbol *s, const struct strmap *stubs)
{
	return s->type == STT_GNU_IFUNC && s->src != SYM_IPLT && s->bind == STB_LOCAL && strmap_get(stubs, s->name);
}

/* The program's thread-local variables, in the TLS block's section: their
 * values are offsets into the block already. */
static int add_tls_symbol(struct objw *w, const struct symbol *s, const struct strmap *count,
			  const struct strmap *filecount, const GElf_Phdr *tls)
{
	if (!w->tls_shndx || s->shndx == SHN_UNDEF || s->addr > tls->p_memsz)
		return 0;
	if (s->bind == STB_LOCAL)
		return s->src == SYM_SYMTAB || s->src == SYM_DWARF ?
			add_local(w, s, STT_TLS, w->tls_shndx, s->addr, count, filecount, true) : 0;
	/* A global is in .symtab and again in .dynsym: the first one read. */
	if (s->src != (w->img->symtab_idx >= 0 ? SYM_SYMTAB : SYM_DYNSYM))
		return 0;
	return add_sym(w, s->name, s->addr, s->size, s->bind == STB_WEAK ? STB_WEAK : STB_GLOBAL, STT_TLS,
		       STV_DEFAULT, w->tls_shndx);
}

static int add_image_symbols(struct objw *w)
{
	const struct image *img = w->img;
	const struct strmap *interest = img->interest;
	const GElf_Phdr *tls = unexec_tls_segment(img);
	struct strmap *count = NULL, *filecount = NULL, *stubs = NULL;
	VEC(char *) names = { 0 };
	size_t i, shndx, hint = img->syms.n;
	uint64_t value;
	int err = -1;

	/* With a filter (image_want), only the symbols the new code may name
	 * were loaded, or are looked at: a large program has hundreds of
	 * thousands. */
	if (interest)
		hint = 64;
	count = strmap_new(hint);
	filecount = strmap_new(hint);
	stubs = strmap_new(64);
	if (!count || !filecount || !stubs)
		goto out;
	for (i = 0; i < img->syms.n; i++)
		if (img->syms.v[i].src == SYM_IPLT && img->syms.v[i].bind == STB_LOCAL &&
		    strmap_put(stubs, img->syms.v[i].name, (void *)1))
			goto out;
	/* How often each plain name and each FILE:NAME occurs, to know which
	 * local aliases are unambiguous. */
	for (i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];
		char *fn;

		if ((interest && !strmap_get(interest, s->name)) || stubbed_ifunc(s, stubs))
			continue;
		strmap_put(count, s->name, (void *)((uintptr_t)strmap_get(count, s->name) + 1));
		if (s->bind != STB_LOCAL || !s->file)
			continue;
		fn = xasprintf("%s:%s", s->file, s->name);
		if (!fn || VEC_PUSH(&names, fn)) {
			free(fn);
			goto out;
		}
		if (strmap_put(filecount, fn, (void *)((uintptr_t)strmap_get(filecount, fn) + 1)))
			goto out;
	}
	for (i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];
		unsigned type = s->type == STT_GNU_IFUNC && s->src == SYM_IPLT ? STT_FUNC : s->type;

		if (interest && !strmap_get(interest, s->name))
			continue;
		if (unexec_reserved_name(s->name))
			continue;
		if (type == STT_TLS) {
			if (add_tls_symbol(w, s, count, filecount, tls))
				goto out;
			continue;
		}
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE && type != STT_GNU_IFUNC)
			continue;
		if (s->bind == STB_LOCAL && (s->src == SYM_SYMTAB || s->src == SYM_DWARF || s->src == SYM_IPLT)) {
			if (place(w, s->addr, &shndx, &value))
				continue;
			if (s->src == SYM_IPLT) {
				if ((uintptr_t)strmap_get(count, s->name) == 1 &&
				    add_sym(w, s->name, value, s->size, STB_WEAK, type, STV_HIDDEN, shndx))
					goto out;
				continue;
			}
			if (add_local(w, s, type, shndx, value, count, filecount, !stubbed_ifunc(s, stubs)))
				goto out;
			continue;
		}
		if (s->bind == STB_LOCAL || image_symbol(img, s->name) != s)
			continue;
		if (place(w, s->addr, &shndx, &value)) {
			pr_info("%s: symbol '%s' at 0x%llx lies in no loaded piece; not exported to new code",
				img->path, s->name, (unsigned long long)s->addr);
			continue;
		}
		/* With --allow-interpose an old export yields to a new definition;
		 * an import stub yields to any: a static library the new code
		 * brings may define what the program takes from a shared one
		 * (a program using libz.so.1, a plugin linking libz.a), as a
		 * normal link of the two would. */
		if (add_sym(w, s->name, value, s->size,
			    s->bind == STB_WEAK || s->src == SYM_PLT || (w->fo.weak_exports && exported(w, s->name)) ?
			    STB_WEAK : STB_GLOBAL, type, STV_DEFAULT, shndx))
			goto out;
	}
	/* Anchors that relink's generated code and the script refer to. */
	if (!place(w, img->eh.e_entry, &shndx, &value) &&
	    add_sym(w, ANCHOR_ENTRY, value, 0, STB_GLOBAL, STT_NOTYPE, STV_HIDDEN, shndx))
		goto out;
	if (img->init.present && !place(w, img->init.target, &shndx, &value) &&
	    add_sym(w, ANCHOR_INIT_TARGET, value, 0, STB_GLOBAL, STT_FUNC, STV_HIDDEN, shndx))
		goto out;
	if (img->fini.present && !place(w, img->fini.target, &shndx, &value) &&
	    add_sym(w, ANCHOR_FINI_TARGET, value, 0, STB_GLOBAL, STT_FUNC, STV_HIDDEN, shndx))
		goto out;
	if (img->init.first_present && !place(w, img->init.first_target, &shndx, &value) &&
	    add_sym(w, ANCHOR_INIT_FIRST_TARGET, value, 0, STB_GLOBAL, STT_FUNC, STV_HIDDEN, shndx))
		goto out;
	if (img->fini.first_present && !place(w, img->fini.first_target, &shndx, &value) &&
	    add_sym(w, ANCHOR_FINI_FIRST_TARGET, value, 0, STB_GLOBAL, STT_FUNC, STV_HIDDEN, shndx))
		goto out;
	err = 0;
out:
	for (i = 0; i < names.n; i++)
		free(names.v[i]);
	VEC_FREE(&names);
	strmap_free(count);
	strmap_free(filecount);
	strmap_free(stubs);
	return err;
}

/* ---- the old program's debug info ---- */

/* DWARF sections ld concatenates: every .debug_* but the name index, which
 * would describe only some of the output's units (gdb then ignores the rest). */
bool unexec_debug_section(const char *name)
{
	return !strncmp(name, ".debug_", 7) && strcmp(name, ".debug_names");
}

/* The file the debug info was read from, when it is not the program. */
struct dbgsrc {
	int fd;
	Elf *elf;
};

/* Adds the old program's .debug_* sections (from the program, or from the
 * separate debug file the DWARF reader used) as plain non-allocated input
 * sections. The object is ld's first input, so each lands at offset 0 of its
 * output section: every offset the old units hold stays valid without a
 * relocation, and ld appends and relocates the new code's units after it.
 * SHF_MERGE is dropped (merging would move old strings); SHF_COMPRESSED is
 * kept and ld decompresses. Debug info the reader could not use is left out. */
static int add_debug_sections(struct objw *w, struct dbgsrc *src)
{
	const struct image *img = w->img;
	const struct dwarf_info *di = img->dwarf;
	const unsigned char *raw = img->data;
	size_t rawsize = img->size, shnum = img->shnum, shstrndx = 0, i, n = 0;
	Elf *elf = NULL;

	if (!di)
		return 0;
	if (strcmp(di->path, img->path)) {
		size_t sz;

		src->fd = open(di->path, O_RDONLY | O_CLOEXEC);
		src->elf = src->fd >= 0 ? elf_begin(src->fd, ELF_C_READ_MMAP, NULL) : NULL;
		raw = src->elf ? (const unsigned char *)elf_rawfile(src->elf, &sz) : NULL;
		if (!raw || elf_getshdrnum(src->elf, &shnum) || elf_getshdrstrndx(src->elf, &shstrndx)) {
			pr_warn(di->path, "cannot read the debug sections; the output gets no old debug info");
			return 0;
		}
		rawsize = sz;
		elf = src->elf;
	}
	for (i = 1; i < shnum; i++) {
		GElf_Shdr in, sh;
		const char *name;

		if (elf) {
			Elf_Scn *scn = elf_getscn(elf, i);

			if (!scn || !gelf_getshdr(scn, &in) || !(name = elf_strptr(elf, shstrndx, in.sh_name)))
				continue;
		} else {
			in = img->secs[i].sh;
			name = img->secs[i].name;
		}
		if (!unexec_debug_section(name) || (in.sh_flags & SHF_ALLOC) || in.sh_type != SHT_PROGBITS ||
		    !in.sh_size)
			continue;
		if (!range_ok(in.sh_offset, in.sh_size, rawsize)) {
			pr_warn(elf ? di->path : img->path, "section [%zu] '%s' lies outside the file; "
				"the output gets no old debug info from it", i, name);
			continue;
		}
		sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = in.sh_flags & SHF_COMPRESSED,
				  .sh_size = in.sh_size, .sh_addralign = in.sh_addralign ? in.sh_addralign : 1 };
		if (!new_section(w, name, &sh, (void *)(raw + in.sh_offset), in.sh_size, ELF_T_BYTE))
			return -1;
		n++;
	}
	pr_info("%s: %zu debug sections from %s for the linker", img->path, n, di->path);
	return 0;
}

/* Chunks telling relink where every byte of the original file went. */
typedef VEC(struct frozen_chunk) chunk_vec;

static int cmp_chunk(const void *a, const void *b)
{
	const struct frozen_chunk *x = a, *y = b;

	return x->file_off < y->file_off ? -1 : x->file_off > y->file_off;
}

static int build_chunks(struct objw *w, chunk_vec *chunks, bytevec *rest, size_t rest_shndx)
{
	const struct image *img = w->img;
	chunk_vec loaded = { 0 };
	uint64_t pos = 0;
	size_t i;
	int err = 0;

	for (i = 0; i < img->pieces.n && !err; i++) {
		const struct piece *pc = &img->pieces.v[i];
		struct frozen_chunk c = { .file_off = pc->offset, .size = pc->size, .shndx = w->piece_shndx[i] };

		if (!pc->nobits)
			err = VEC_PUSH(&loaded, c);
	}
	if (err)
		goto out;
	qsort(loaded.v, loaded.n, sizeof(*loaded.v), cmp_chunk);
	for (i = 0; i <= loaded.n && !err; i++) {
		uint64_t start = i < loaded.n ? loaded.v[i].file_off : img->size;
		struct frozen_chunk c;

		if (start > pos) {
			/* Bytes no piece loads: kept in the rest section. */
			c = (struct frozen_chunk){ .file_off = pos, .size = start - pos,
						   .shndx = rest_shndx, .sec_off = rest->n };
			err = VEC_PUSH(chunks, c);
			while (!err && rest->n + c.size > rest->cap)
				err = vec_grow((void **)&rest->v, &rest->cap, 1);
			if (err)
				break;
			memcpy(rest->v + rest->n, img->data + pos, c.size);
			rest->n += c.size;
			pos = start;
		}
		if (i == loaded.n)
			break;
		c = loaded.v[i];
		/* Two segments may map the same file bytes: store them once. */
		if (c.file_off + c.size <= pos)
			continue;
		if (c.file_off < pos) {
			c.sec_off = pos - c.file_off;
			c.size -= c.sec_off;
			c.file_off = pos;
		}
		err = VEC_PUSH(chunks, c);
		pos = c.file_off + c.size;
	}
out:
	VEC_FREE(&loaded);
	return err;
}

int unexec_write_object(const struct image *img, const char *path, const struct freeze_opts *fo)
{
	struct objw w = { .img = img, .fo = *fo, .path = path };
	bool thin = fo->thin;
	struct dbgsrc dsrc = { .fd = -1 };
	bytevec rest = { 0 };
	chunk_vec chunks = { 0 };
	unsigned char *meta = NULL, *tls_zeros = NULL;
	unsigned char feat_note[32];
	uint32_t feat;
	uint64_t feat_addr;
	struct outfile out = { .fd = -1 };
	Elf64_Sym *symtab = NULL;
	GElf_Ehdr eh = { 0 };
	GElf_Shdr sh;
	Elf_Scn *scn;
	size_t i, rest_shndx = 0, symtab_shndx, strtab_shndx, nsyms, shstrndx;
	size_t path_len, meta_size;
	int err = -1;

	w.shstr = strset_new();
	w.str = strset_new();
	w.piece_shndx = zalloc((img->pieces.n + 1) * sizeof(*w.piece_shndx));
	if (!w.shstr || !w.str || !w.piece_shndx)
		goto out;
	if (outfile_open(&out, path, 0644))
		goto out;
	w.elf = elf_begin(out.fd, ELF_C_WRITE, NULL);
	if (!w.elf || !gelf_newehdr(w.elf, ELFCLASS64)) {
		pr_elf(path, "cannot create ELF");
		goto out;
	}
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = img->eh.e_ident[EI_OSABI];
	eh.e_type = ET_REL;
	eh.e_machine = img->arch->machine;
	eh.e_version = EV_CURRENT;
	w.nsec = 1;

	for (i = 0; i < img->pieces.n; i++) {
		const struct piece *pc = &img->pieces.v[i];
		bool nobits = pc->nobits || thin;

		sh = (GElf_Shdr){
			.sh_type = nobits ? SHT_NOBITS : SHT_PROGBITS, .sh_flags = pc->flags,
			.sh_addr = pc->addr, .sh_size = pc->size, .sh_addralign = 1,
		};
		w.piece_shndx[i] = w.nsec;
		if (!new_section(&w, pc->name, &sh, nobits ? NULL : (void *)(img->data + pc->offset),
				 pc->size, ELF_T_BYTE))
			goto out;
		if (add_sym(&w, "", 0, 0, STB_LOCAL, STT_SECTION, STV_DEFAULT, w.piece_shndx[i]))
			goto out;
	}
	/* The TLS block, as the linker must see it to compute the program's
	 * own thread-pointer offsets: where it starts, its size and alignment.
	 * TLS variant I (aarch64): new variables go after it, in the same
	 * segment, so it is bytes (zeros) the linker's .tdata can follow. */
	if (unexec_tls_segment(img)) {
		const GElf_Phdr *tls = unexec_tls_segment(img);
		bool v1 = img->arch->tls_variant1;

		sh = (GElf_Shdr){ .sh_type = v1 ? SHT_PROGBITS : SHT_NOBITS,
				  .sh_flags = SHF_ALLOC | SHF_WRITE | SHF_TLS,
				  .sh_addr = tls->p_vaddr, .sh_size = tls->p_memsz,
				  .sh_addralign = tls->p_align ? tls->p_align : 1 };
		if (v1 && !(tls_zeros = zalloc(tls->p_memsz ? tls->p_memsz : 1)))
			goto out;
		w.tls_shndx = w.nsec;
		if (!new_section(&w, TLS_SECTION, &sh, tls_zeros, tls->p_memsz, ELF_T_BYTE))
			goto out;
	}
	/* The program's BTI/PAC property, for the linker to AND with the
	 * inputs': what it makes of them says whether the added code keeps the
	 * program's claims (relink/plan.c). */
	if (image_gnu_features(img, &feat, &feat_addr)) {
		uint32_t n[8] = { 4, 16, NT_GNU_PROPERTY_TYPE_0, 0x554e47 /* "GNU" */, img->arch->feature_and, 4, feat, 0 };

		memcpy(feat_note, n, sizeof(n));
		sh = (GElf_Shdr){ .sh_type = SHT_NOTE, .sh_flags = SHF_ALLOC, .sh_addralign = 8 };
		if (!new_section(&w, ".note.gnu.property", &sh, feat_note, sizeof(feat_note), ELF_T_BYTE))
			goto out;
	}
	/* The linker must not think the new code wants an executable stack. */
	sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_addralign = 1 };
	if (!new_section(&w, ".note.GNU-stack", &sh, NULL, 0, ELF_T_BYTE))
		goto out;
	if (add_debug_sections(&w, &dsrc))
		goto out;

	if (!thin) {
		rest_shndx = w.nsec;
		if (build_chunks(&w, &chunks, &rest, rest_shndx))
			goto out;
		sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_EXCLUDE, .sh_addralign = 1,
				  .sh_size = rest.n };
		if (!new_section(&w, REST_SECTION, &sh, rest.v, rest.n, ELF_T_BYTE))
			goto out;
	}
	path_len = strlen(img->frozen_from ? img->frozen_from : img->path);
	meta_size = sizeof(struct frozen_head) + chunks.n * sizeof(struct frozen_chunk) + path_len + 1;
	meta = zalloc(meta_size);
	if (!meta)
		goto out;
	{
		struct frozen_head h = {
			.version = 1, .flags = thin ? FROZEN_THIN : 0, .file_size = img->size,
			.nchunks = chunks.n, .path_len = path_len,
		};

		memcpy(h.magic, FROZEN_MAGIC, 8);
		memcpy(meta, &h, sizeof(h));
		if (chunks.n)
			memcpy(meta + sizeof(h), chunks.v, chunks.n * sizeof(*chunks.v));
		memcpy(meta + sizeof(h) + chunks.n * sizeof(*chunks.v),
		       img->frozen_from ? img->frozen_from : img->path, path_len);
	}
	sh = (GElf_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_EXCLUDE, .sh_addralign = 8, .sh_size = meta_size };
	if (!new_section(&w, FROZEN_SECTION, &sh, meta, meta_size, ELF_T_BYTE))
		goto out;

	if (add_image_symbols(&w))
		goto out;
	symtab_shndx = w.nsec;
	strtab_shndx = w.nsec + 1;
	shstrndx = w.nsec + 2;
	nsyms = 1 + w.locals.n + w.globals.n;
	symtab = zalloc(nsyms * sizeof(*symtab));
	if (!symtab)
		goto out;
	if (w.locals.n)
		memcpy(symtab + 1, w.locals.v, w.locals.n * sizeof(*symtab));
	if (w.globals.n)
		memcpy(symtab + 1 + w.locals.n, w.globals.v, w.globals.n * sizeof(*symtab));
	sh = (GElf_Shdr){ .sh_type = SHT_SYMTAB, .sh_link = strtab_shndx, .sh_info = 1 + w.locals.n,
			  .sh_entsize = sizeof(Elf64_Sym), .sh_addralign = 8, .sh_size = nsyms * sizeof(Elf64_Sym) };
	if (!new_section(&w, ".symtab", &sh, symtab, nsyms * sizeof(Elf64_Sym), ELF_T_SYM))
		goto out;
	/* Names must be complete before the string sections are sized. */
	strset_add(w.shstr, ".strtab");
	strset_add(w.shstr, ".shstrtab");
	sh = (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1, .sh_size = strset_size(w.str) };
	if (!new_section(&w, ".strtab", &sh, (void *)strset_data(w.str), strset_size(w.str), ELF_T_BYTE))
		goto out;
	sh = (GElf_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 };
	scn = new_section(&w, ".shstrtab", &sh, NULL, 0, ELF_T_BYTE);
	if (!scn)
		goto out;
	{
		Elf_Data *d = elf_getdata(scn, NULL);

		d->d_buf = (void *)strset_data(w.shstr);
		d->d_size = strset_size(w.shstr);
	}
	(void)symtab_shndx;
	eh.e_shstrndx = shstrndx;
	if (!gelf_update_ehdr(w.elf, &eh) || elf_update(w.elf, ELF_C_WRITE) < 0) {
		pr_elf(path, "cannot write object");
		goto out;
	}
	elf_end(w.elf);
	w.elf = NULL;
	err = outfile_commit(&out);
out:
	if (w.elf)
		elf_end(w.elf);
	if (err && out.tmp)
		outfile_abort(&out);
	free(symtab);
	free(meta);
	free(tls_zeros);
	VEC_FREE(&rest);
	VEC_FREE(&chunks);
	VEC_FREE(&w.locals);
	VEC_FREE(&w.globals);
	free(w.piece_shndx);
	strmap_free(w.exports);
	if (dsrc.elf)
		elf_end(dsrc.elf);
	if (dsrc.fd >= 0)
		close(dsrc.fd);
	strset_free(w.shstr);
	strset_free(w.str);
	return err;
}

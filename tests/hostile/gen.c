/* Malformed ELF files for tests/t-hostile.sh, from a valid seed, with plain
 * <elf.h> and no surgeon code, so that the generator shares no bug with the
 * reader it tests.
 *
 *   gen exe SEED OUTDIR NAME     mutations of an executable
 *   gen frozen OBJ OUTDIR NAME   mutations of a `surgeon unexec` object
 *
 * Writes OUTDIR/NAME.CLASS.DESC and prints one manifest line per file:
 * "FILE CLASS EXPECT", where EXPECT is "fail" (the file is certainly
 * malformed: surgeon must refuse it) or "any" (it may still be a usable
 * program: surgeon may accept it, but must not crash, hang or leave files). */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *seed;
static size_t seed_size;
static const char *outdir, *base;

static unsigned char *buf;	/* the file being mutated */
static size_t buf_size;

static void die(const char *what)
{
	fprintf(stderr, "gen: %s: %s\n", what, errno ? strerror(errno) : "bad seed");
	exit(1);
}

static void reset(void)
{
	free(buf);
	buf = malloc(seed_size ? seed_size : 1);
	if (!buf)
		die("malloc");
	memcpy(buf, seed, seed_size);
	buf_size = seed_size;
}

static void emit(const char *cls, const char *expect, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes the current buffer as one case, then resets it to the seed. */
static void emit(const char *cls, const char *expect, const char *fmt, ...)
{
	char desc[128], path[4096];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s.%s.%s", outdir, base, cls, desc);
	f = fopen(path, "wb");
	if (!f || (buf_size && fwrite(buf, 1, buf_size, f) != buf_size) || fclose(f))
		die(path);
	printf("%s %s %s\n", path, cls, expect);
	reset();
}

static Elf64_Ehdr *eh(void) { return (Elf64_Ehdr *)buf; }

static Elf64_Phdr *ph(size_t i)
{
	return (Elf64_Phdr *)(buf + eh()->e_phoff) + i;
}

static Elf64_Shdr *sh(size_t i)
{
	return (Elf64_Shdr *)(buf + eh()->e_shoff) + i;
}

static const char *sec_name(size_t i)
{
	const Elf64_Shdr *s = sh(i), *str = sh(eh()->e_shstrndx);

	return (const char *)buf + str->sh_offset + s->sh_name;
}

static int find_sec(const char *name)
{
	for (size_t i = 1; i < eh()->e_shnum; i++)
		if (!strcmp(sec_name(i), name))
			return (int)i;
	return -1;
}

static int find_type(uint32_t type)
{
	for (size_t i = 1; i < eh()->e_shnum; i++)
		if (sh(i)->sh_type == type)
			return (int)i;
	return -1;
}

/* Deterministic noise: xorshift64*. */
static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void truncations(void)
{
	size_t cuts[4096], n = 0, i;
	const Elf64_Ehdr *e = eh();

	cuts[n++] = 0;
	cuts[n++] = 4;
	cuts[n++] = EI_NIDENT;
	cuts[n++] = sizeof(Elf64_Ehdr) - 1;
	cuts[n++] = sizeof(Elf64_Ehdr);
	for (i = 0; i <= e->e_phnum && n < 4000; i++)
		cuts[n++] = e->e_phoff + i * sizeof(Elf64_Phdr);
	for (i = 0; i <= e->e_shnum && n < 4000; i++)
		cuts[n++] = e->e_shoff + i * sizeof(Elf64_Shdr);
	for (i = 1; i < e->e_shnum && n < 4000; i++)
		if (sh(i)->sh_type != SHT_NOBITS)
			cuts[n++] = sh(i)->sh_offset;
	qsort(cuts, n, sizeof(*cuts), cmp_size);
	for (i = 0; i < n; i++) {
		if (cuts[i] >= seed_size || (i && cuts[i] == cuts[i - 1]))
			continue;
		buf_size = cuts[i];
		emit("trunc", "fail", "%zu", cuts[i]);
	}
	/* One byte short of the end: the section headers lose their last byte. */
	buf_size = seed_size - 1;
	emit("trunc", "fail", "last-byte");
}

static void ident(void)
{
	buf[EI_MAG1] = 'X'; emit("ident", "fail", "magic");
	buf[EI_CLASS] = ELFCLASS32; emit("ident", "fail", "class32");
	buf[EI_CLASS] = ELFCLASSNONE; emit("ident", "fail", "class0");
	buf[EI_CLASS] = 7; emit("ident", "fail", "class7");
	buf[EI_DATA] = ELFDATA2MSB; emit("ident", "fail", "bigendian");
	buf[EI_DATA] = ELFDATANONE; emit("ident", "fail", "data0");
	buf[EI_VERSION] = 0; emit("ident", "fail", "version0");
	eh()->e_machine = EM_386; emit("ident", "fail", "machine386");
	/* A machine surgeon knows with another's code: sound headers, nonsense
	 * instructions; only the cross linker may find it wrong. */
	eh()->e_machine = EM_AARCH64; emit("ident", "any", "machine-aarch64");
	eh()->e_type = ET_REL; emit("ident", "fail", "type-rel");
	eh()->e_type = ET_CORE; emit("ident", "fail", "type-core");
	eh()->e_type = ET_NONE; emit("ident", "fail", "type-none");
	eh()->e_type = 0xfe00; emit("ident", "fail", "type-os");
	eh()->e_ehsize = 0; emit("ident", "fail", "ehsize0");
}

static void counts(void)
{
	eh()->e_phnum = 0xffff; emit("counts", "fail", "phnum-ffff");
	eh()->e_phnum = 0xfffe; emit("counts", "fail", "phnum-fffe");
	eh()->e_phnum = 0; emit("counts", "fail", "phnum0");
	eh()->e_shnum = 0xffff; emit("counts", "fail", "shnum-ffff");
	eh()->e_shnum = 0xfeff; emit("counts", "fail", "shnum-feff");
	eh()->e_shnum += 1; emit("counts", "fail", "shnum-plus1");
	eh()->e_phnum += 1; emit("counts", "any", "phnum-plus1");
	eh()->e_shnum = 0; emit("counts", "any", "shnum0");
	eh()->e_phentsize = 0; emit("counts", "fail", "phentsize0");
	eh()->e_phentsize = 7; emit("counts", "fail", "phentsize7");
	eh()->e_shentsize = 7; emit("counts", "fail", "shentsize7");
	eh()->e_shentsize = 0; emit("counts", "fail", "shentsize0");
	/* PN_XNUM with a section 0 that claims a huge count. */
	eh()->e_phnum = PN_XNUM; sh(0)->sh_info = 0xffffffff; emit("counts", "fail", "phnum-xnum-huge");
	eh()->e_shnum = 0; sh(0)->sh_size = 0x10000000; emit("counts", "fail", "shnum-ext-huge");
	eh()->e_shnum = 0; sh(0)->sh_size = 1ull << 62; emit("counts", "fail", "shnum-ext-2p62");
}

static void offsets(void)
{
	eh()->e_phoff = seed_size; emit("offsets", "fail", "phoff-end");
	eh()->e_phoff = UINT64_MAX - 8; emit("offsets", "fail", "phoff-wrap");
	eh()->e_phoff = 1ull << 63; emit("offsets", "fail", "phoff-2p63");
	eh()->e_shoff = seed_size; emit("offsets", "fail", "shoff-end");
	eh()->e_shoff = UINT64_MAX - 63; emit("offsets", "fail", "shoff-wrap");
	eh()->e_shoff = seed_size - 1; emit("offsets", "fail", "shoff-lastbyte");
	eh()->e_shoff += 1; emit("offsets", "any", "shoff-misaligned");
	eh()->e_phoff += 1; emit("offsets", "any", "phoff-misaligned");
}

static void segments(void)
{
	size_t i, nload = 0, first = 0, second = 0;

	for (i = 0; i < eh()->e_phnum; i++) {
		uint32_t t = ph(i)->p_type;

		if (t == PT_LOAD) {
			if (!nload++)
				first = i;
			else if (nload == 2)
				second = i;
			if (nload > 3)	/* the first few are enough */
				continue;
			ph(i)->p_filesz = seed_size + 1; ph(i)->p_memsz = 1ull << 40;
			emit("sizes", "fail", "load%zu-filesz-past-end", i);
			ph(i)->p_filesz = 1ull << 63; ph(i)->p_memsz = 1ull << 63;
			emit("sizes", "fail", "load%zu-filesz-2p63", i);
			ph(i)->p_offset = UINT64_MAX - 0xfff;
			emit("offsets", "fail", "load%zu-offset-wraps", i);
			ph(i)->p_offset = seed_size + 0x1000;
			emit("offsets", "fail", "load%zu-offset-past-end", i);
			ph(i)->p_memsz = 1ull << 63;
			emit("sizes", "fail", "load%zu-memsz-2p63", i);
			ph(i)->p_vaddr = UINT64_MAX - 0xfff; ph(i)->p_offset = seed_size - 1; ph(i)->p_filesz = 1;
			emit("sizes", "fail", "load%zu-vaddr-wraps", i);
			if (ph(i)->p_filesz) {
				ph(i)->p_memsz = ph(i)->p_filesz - 1;
				emit("sizes", "fail", "load%zu-memsz-lt-filesz", i);
			}
			ph(i)->p_align = 3;
			emit("sizes", "fail", "load%zu-align3", i);
		} else if (t == PT_INTERP) {
			ph(i)->p_filesz = seed_size; emit("sizes", "fail", "interp-huge");
			buf[ph(i)->p_offset + ph(i)->p_filesz - 1] = 'x';
			emit("strings", "fail", "interp-unterminated");
			ph(i)->p_filesz = 0; emit("strings", "fail", "interp-empty");
		} else if (t == PT_DYNAMIC) {
			ph(i)->p_offset = UINT64_MAX - 8; emit("offsets", "fail", "dynamic-offset-wraps");
		}
	}
	if (nload >= 2) {
		ph(second)->p_vaddr = ph(first)->p_vaddr;
		ph(second)->p_offset = ph(first)->p_offset;
		emit("overlap", "fail", "load-same-address");
		ph(second)->p_vaddr = ph(first)->p_vaddr + (ph(second)->p_vaddr & 0xfff);
		emit("overlap", "fail", "load-first-page");
		ph(first)->p_memsz = UINT64_MAX / 2;
		emit("overlap", "fail", "load-covers-everything");
	}
	for (i = 0; i < eh()->e_phnum; i++)
		ph(i)->p_type = PT_NULL;
	emit("counts", "fail", "no-load");
}

static void sections(void)
{
	size_t i, shnum = eh()->e_shnum;
	int bss = find_type(SHT_NOBITS), text = find_sec(".text");

	if (text > 0) {
		sh(text)->sh_size = 1ull << 63; emit("sizes", "fail", "text-size-2p63");
		sh(text)->sh_size = seed_size; emit("sizes", "fail", "text-size-filesize");
		sh(text)->sh_offset = UINT64_MAX - 15; emit("offsets", "fail", "text-offset-wraps");
		sh(text)->sh_offset = seed_size; emit("offsets", "fail", "text-offset-end");
		sh(text)->sh_addralign = 3; emit("sizes", "fail", "text-align3");
		sh(text)->sh_addr = UINT64_MAX - 0x10; emit("sizes", "any", "text-addr-wraps");
		sh(text)->sh_addr = 0; emit("sizes", "any", "text-addr0");
		sh(text)->sh_type = SHT_NOBITS; emit("sizes", "any", "text-nobits");
		sh(text)->sh_link = text; emit("links", "any", "text-link-self");
		sh(text)->sh_link = 9999; emit("links", "fail", "text-link-9999");
	}
	if (bss > 0) {
		sh(bss)->sh_size = 1ull << 63; emit("sizes", "any", "bss-size-2p63");
		sh(bss)->sh_addr = UINT64_MAX - 0x10; emit("sizes", "any", "bss-addr-wraps");
	}
	for (i = 1; i < shnum; i++) {
		if (i == (size_t)text)
			continue;
		sh(i)->sh_name = 0x7fffffff; emit("strings", "fail", "shname-past-%zu", i);
	}
	sh(eh()->e_shstrndx)->sh_type = SHT_PROGBITS; emit("strings", "fail", "shstrtab-progbits");
	sh(eh()->e_shstrndx)->sh_size = 1; emit("strings", "fail", "shstrtab-size1");
	sh(eh()->e_shstrndx)->sh_size = 0; emit("strings", "fail", "shstrtab-size0");
	{
		Elf64_Shdr *s = sh(eh()->e_shstrndx);

		memset(buf + s->sh_offset, 'A', s->sh_size);
		emit("strings", "fail", "shstrtab-no-nul");
	}
	eh()->e_shstrndx = shnum + 3; emit("shstrndx", "fail", "past-end");
	eh()->e_shstrndx = 0; emit("shstrndx", "fail", "zero");
	eh()->e_shstrndx = SHN_XINDEX; emit("shstrndx", "fail", "xindex");
	eh()->e_shstrndx = SHN_XINDEX; sh(0)->sh_link = 0xfffffff; emit("shstrndx", "fail", "xindex-huge");
	if (text > 0) {
		eh()->e_shstrndx = text; emit("shstrndx", "fail", "text");
	}
}

/* Section names are the file's to choose: they must not leak into the
 * linker script surgeon writes as syntax. */
static void names(void)
{
	static const char bad[] = { ' ', ')', '"', '*', '{', ';', (char)0x98 };
	int s = find_sec(".rodata");

	if (s < 0 || strlen(sec_name(s)) < 4)
		return;
	for (size_t k = 0; k < sizeof(bad); k++) {
		((char *)sec_name(s))[3] = bad[k];
		emit("names", "any", "rodata-char%02x", (unsigned char)bad[k]);
	}
	memcpy((char *)sec_name(s), ".a)}b", 5);
	emit("names", "any", "rodata-close-brace");
}

static void symtab(const char *secname, uint32_t type)
{
	int s = find_type(type), str;
	size_t n, i, named = 0;
	Elf64_Sym *syms;

	if (s < 0)
		return;
	str = sh(s)->sh_link;
	n = sh(s)->sh_size / sizeof(Elf64_Sym);
	if (n < 2)
		return;
	sh(s)->sh_entsize = 0; emit("symbols", "fail", "%s-entsize0", secname);
	sh(s)->sh_entsize = 7; emit("symbols", "fail", "%s-entsize7", secname);
	sh(s)->sh_entsize = 25; emit("symbols", "fail", "%s-entsize25", secname);
	sh(s)->sh_size -= 1; emit("symbols", "fail", "%s-size-odd", secname);
	sh(s)->sh_size = 1ull << 62; emit("symbols", "fail", "%s-size-2p62", secname);
	sh(s)->sh_offset += 4; emit("symbols", "any", "%s-misaligned", secname);
	sh(s)->sh_link = s; emit("links", "fail", "%s-link-self", secname);
	sh(s)->sh_link = 9999; emit("links", "fail", "%s-link-9999", secname);
	sh(s)->sh_link = 0; emit("links", "fail", "%s-link-null", secname);
	sh(s)->sh_type = SHT_STRTAB; sh(s)->sh_link = s; emit("links", "any", "%s-link-self-strtab", secname);
	if (sh(str)->sh_size) {
		/* A name that runs off the end of the table. */
		syms = (Elf64_Sym *)(buf + sh(s)->sh_offset);
		buf[sh(str)->sh_offset + sh(str)->sh_size - 1] = 'X';
		syms[1].st_name = sh(str)->sh_size - 1;
		emit("strings", "fail", "%s-name-unterminated", secname);
		syms = (Elf64_Sym *)(buf + sh(s)->sh_offset);
		memset(buf + sh(str)->sh_offset, 'Y', sh(str)->sh_size);
		emit("strings", "fail", "%s-strtab-all-Y", secname);
		sh(str)->sh_size = 0; emit("strings", "fail", "%s-strtab-size0", secname);
	}
	for (i = 1; i < n; i++) {
		syms = (Elf64_Sym *)(buf + sh(s)->sh_offset);
		if (ELF64_ST_TYPE(syms[i].st_info) == STT_SECTION || ELF64_ST_TYPE(syms[i].st_info) == STT_FILE ||
		    !syms[i].st_name)
			continue;
		syms[i].st_name = 0xfffffff0;
		emit("strings", "fail", "%s-sym%zu-name-past", secname, i);
		if (syms[i].st_shndx == SHN_UNDEF || syms[i].st_shndx >= SHN_LORESERVE)
			continue;
		syms[i].st_shndx = eh()->e_shnum + 5;
		emit("symbols", "fail", "%s-sym%zu-shndx-past", secname, i);
		syms[i].st_shndx = SHN_XINDEX;
		emit("symbols", "any", "%s-sym%zu-shndx-xindex", secname, i);
		syms[i].st_value = UINT64_MAX; syms[i].st_size = UINT64_MAX;
		emit("symbols", "any", "%s-sym%zu-value-max", secname, i);
		if (++named >= 3)
			break;
	}
}

static void relocs(void)
{
	for (size_t i = 1; i < eh()->e_shnum; i++) {
		Elf64_Rela *r;

		if (sh(i)->sh_type != SHT_RELA || !(sh(i)->sh_flags & SHF_ALLOC) || sh(i)->sh_size < sizeof(*r))
			continue;
		sh(i)->sh_entsize = 7; emit("relocs", "fail", "rela%zu-entsize7", i);
		sh(i)->sh_entsize = 0; emit("relocs", "fail", "rela%zu-entsize0", i);
		sh(i)->sh_size -= 1; emit("relocs", "fail", "rela%zu-size-odd", i);
		sh(i)->sh_link = i; emit("links", "any", "rela%zu-link-self", i);
		sh(i)->sh_link = 9999; emit("links", "fail", "rela%zu-link-9999", i);
		r = (Elf64_Rela *)(buf + sh(i)->sh_offset);
		r[0].r_info = ELF64_R_INFO(0xffffff, R_X86_64_JUMP_SLOT);
		emit("relocs", "fail", "rela%zu-sym-past", i);
		r = (Elf64_Rela *)(buf + sh(i)->sh_offset);
		r[0].r_info = ELF64_R_INFO(0, R_X86_64_IRELATIVE);
		r[0].r_offset = UINT64_MAX; r[0].r_addend = -1;
		emit("relocs", "any", "rela%zu-irelative-wild", i);
	}
}

static void init_arrays(void)
{
	const char *names[] = { ".init_array", ".fini_array" };

	for (size_t k = 0; k < 2; k++) {
		int i = find_sec(names[k]);

		if (i < 0)
			continue;
		sh(i)->sh_size = 0; emit("sizes", "any", "%s-size0", names[k] + 1);
		sh(i)->sh_size = 3; emit("sizes", "any", "%s-size3", names[k] + 1);
		sh(i)->sh_addr += 0x100000; emit("sizes", "any", "%s-outside-segment", names[k] + 1);
		sh(i)->sh_type = SHT_NOBITS; emit("sizes", "any", "%s-nobits", names[k] + 1);
		memset(buf + sh(i)->sh_offset, 0xff, sh(i)->sh_size);
		emit("noise", "any", "%s-slots-ff", names[k] + 1);
	}
}

static void noise(void)
{
	size_t i, j, hdr_end = eh()->e_phoff + eh()->e_phnum * sizeof(Elf64_Phdr);
	uint64_t shtab = eh()->e_shoff, shtab_size = eh()->e_shnum * sizeof(Elf64_Shdr);

	for (i = 0; i < 16; i++) {
		size_t n = 1 + rnd() % 64, start = seed_size / 4 + rnd() % (seed_size / 2);

		for (j = 0; j < n && start + j < seed_size; j++)
			buf[start + j] = rnd();
		emit("noise", "any", "middle%zu", i);
	}
	for (i = 0; i < 8; i++) {
		for (j = 0; j < 4; j++)
			buf[sizeof(Elf64_Ehdr) + rnd() % (hdr_end - sizeof(Elf64_Ehdr))] = rnd();
		emit("noise", "any", "phdrs%zu", i);
	}
	for (i = 0; i < 8 && shtab_size; i++) {
		for (j = 0; j < 4; j++)
			buf[shtab + rnd() % shtab_size] = rnd();
		emit("noise", "any", "shdrs%zu", i);
	}
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 8; j++)
			buf[EI_NIDENT + rnd() % (sizeof(Elf64_Ehdr) - EI_NIDENT)] = rnd();
		emit("noise", "any", "ehdr%zu", i);
	}
}

/* The frozen object: damage .surgeon.image. Layout from unexec/unexec.h:
 * head {magic[8], u32 version, u32 flags, u64 file_size, u32 nchunks,
 * u32 path_len}, then chunks {u64 file_off, size; u32 shndx, pad; u64 sec_off}. */
struct fhead { char magic[8]; uint32_t version, flags; uint64_t file_size; uint32_t nchunks, path_len; };
struct fchunk { uint64_t file_off, size; uint32_t shndx, pad; uint64_t sec_off; };

static void frozen(void)
{
	int s = find_sec(".surgeon.image");
	struct fhead *h;
	struct fchunk *c;
	size_t i;

	if (s < 0 || sh(s)->sh_size < sizeof(*h) + 2 * sizeof(*c))
		die(".surgeon.image");
#define H ((struct fhead *)(buf + sh(s)->sh_offset))
#define C(k) ((struct fchunk *)(buf + sh(s)->sh_offset + sizeof(struct fhead)) + (k))
	H->magic[0] = 'X'; emit("frozen", "fail", "magic");
	H->version = 2; emit("frozen", "fail", "version2");
	H->nchunks = 0xffffffff; emit("frozen", "fail", "nchunks-max");
	H->nchunks = 0; emit("frozen", "fail", "nchunks0");
	H->nchunks -= 1; emit("frozen", "fail", "nchunks-minus1");
	H->path_len = 0xffffffff; emit("frozen", "fail", "pathlen-max");
	H->path_len = 0; emit("frozen", "any", "pathlen0");
	H->file_size = 1ull << 63; emit("frozen", "fail", "filesize-2p63");
	H->file_size = 0; emit("frozen", "fail", "filesize0");
	H->file_size += 1; emit("frozen", "fail", "filesize-plus1");
	H->flags = 1; emit("frozen", "any", "thin-flag");
	H->flags = 1; memset(buf + sh(s)->sh_offset + sh(s)->sh_size - H->path_len - 1, 'Z', H->path_len);
	emit("frozen", "fail", "thin-missing-original");
	C(0)->shndx = 0xffff; emit("frozen", "fail", "chunk0-shndx-ffff");
	C(0)->shndx = 0; emit("frozen", "fail", "chunk0-shndx0");
	C(0)->shndx = s; emit("frozen", "any", "chunk0-shndx-self");
	C(0)->sec_off = 1ull << 63; emit("frozen", "fail", "chunk0-secoff-2p63");
	C(0)->size = 1ull << 63; emit("frozen", "fail", "chunk0-size-2p63");
	C(0)->size = UINT64_MAX; emit("frozen", "fail", "chunk0-size-max");
	C(1)->file_off = 0; emit("frozen", "fail", "chunk1-fileoff0");
	C(1)->file_off = UINT64_MAX; emit("frozen", "fail", "chunk1-fileoff-max");
	sh(s)->sh_size = 8; emit("frozen", "fail", "section-size8");
	sh(s)->sh_size = 40; emit("frozen", "fail", "section-size40");
	sh(s)->sh_size = 1ull << 40; emit("frozen", "fail", "section-size-2p40");
	sh(s)->sh_offset = UINT64_MAX - 8; emit("frozen", "fail", "section-offset-wraps");
	sh(s)->sh_type = SHT_NOBITS; emit("frozen", "fail", "section-nobits");
	for (i = 0; i < 8; i++) {
		for (size_t j = 0; j < 4; j++)
			buf[sh(s)->sh_offset + rnd() % sh(s)->sh_size] = rnd();
		emit("frozen", "any", "noise%zu", i);
	}
	for (i = 0; i < 8; i++) {
		for (size_t j = 0; j < 16; j++)
			buf[seed_size / 8 + rnd() % (seed_size * 3 / 4)] = rnd();
		emit("frozen", "any", "object-noise%zu", i);
	}
#undef H
#undef C
}

static int seed_ok(void)
{
	const Elf64_Ehdr *e = eh();

	if (seed_size < sizeof(*e) || memcmp(e->e_ident, ELFMAG, SELFMAG) || e->e_ident[EI_CLASS] != ELFCLASS64 ||
	    (e->e_phnum && e->e_phentsize != sizeof(Elf64_Phdr)) || e->e_shentsize != sizeof(Elf64_Shdr) ||
	    e->e_phoff > seed_size || e->e_phnum * sizeof(Elf64_Phdr) > seed_size - e->e_phoff ||
	    e->e_shoff > seed_size || e->e_shnum * sizeof(Elf64_Shdr) > seed_size - e->e_shoff ||
	    !e->e_shnum || e->e_shstrndx >= e->e_shnum)
		return 0;
	for (size_t i = 0; i < e->e_shnum; i++) {
		const Elf64_Shdr *s = sh(i);

		if (s->sh_type != SHT_NOBITS && (s->sh_offset > seed_size || s->sh_size > seed_size - s->sh_offset))
			return 0;
		if (s->sh_link >= e->e_shnum)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	FILE *f;
	long sz;

	if (argc != 5 || (strcmp(argv[1], "exe") && strcmp(argv[1], "frozen"))) {
		fprintf(stderr, "usage: gen exe|frozen SEED OUTDIR NAME\n");
		return 2;
	}
	outdir = argv[3];
	base = argv[4];
	f = fopen(argv[2], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die(argv[2]);
	seed_size = sz;
	seed = malloc(seed_size ? seed_size : 1);
	if (!seed || fread(seed, 1, seed_size, f) != seed_size)
		die(argv[2]);
	fclose(f);
	reset();
	if (!seed_ok())
		die(argv[2]);
	rng = 0x9e3779b97f4a7c15ull ^ seed_size;
	if (!strcmp(argv[1], "frozen")) {
		frozen();
		return 0;
	}
	truncations();
	ident();
	counts();
	offsets();
	segments();
	sections();
	names();
	symtab("symtab", SHT_SYMTAB);
	symtab("dynsym", SHT_DYNSYM);
	relocs();
	init_arrays();
	noise();
	return 0;
}

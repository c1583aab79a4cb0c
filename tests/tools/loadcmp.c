/* loadcmp A B: an independent checker of "every old loaded byte is where it was".
 *
 * For every address that a PT_LOAD of A covers (p_vaddr .. p_vaddr+p_memsz),
 * the loaded byte is the file byte for the first p_filesz bytes and zero for
 * the rest (bss). The same address is looked up through B's PT_LOADs (zero
 * past p_filesz; "unmapped" when no PT_LOAD of B covers it). Every maximal
 * range of addresses where the two differ is printed as one line
 *
 *     0xSTART-0xEND
 *
 * (END exclusive), followed by " unmapped" when B does not load it at all.
 * Exit status: 0 when nothing differs, 1 when something does, 2 on error.
 * Plain <elf.h>, no libelf, nothing shared with surgeon. */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct file {
	const char *path;
	const unsigned char *data;
	size_t size;
	const Elf64_Phdr *ph;
	size_t phnum;
};

static void die(const char *path, const char *what)
{
	fprintf(stderr, "loadcmp: %s: %s\n", path, what);
	exit(2);
}

static void load(struct file *f, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	const Elf64_Ehdr *eh;

	f->path = path;
	if (fd < 0 || fstat(fd, &st))
		die(path, "cannot open");
	f->size = st.st_size;
	if (f->size < sizeof(Elf64_Ehdr))
		die(path, "too small");
	f->data = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (f->data == MAP_FAILED)
		die(path, "cannot map");
	close(fd);
	eh = (const Elf64_Ehdr *)f->data;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		die(path, "not a 64-bit ELF file");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > f->size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f->size - eh->e_phoff)
		die(path, "bad program header table");
	f->ph = (const Elf64_Phdr *)(f->data + eh->e_phoff);
	f->phnum = eh->e_phnum;
	for (size_t i = 0; i < f->phnum; i++)
		if (f->ph[i].p_type == PT_LOAD &&
		    (f->ph[i].p_offset > f->size || f->ph[i].p_filesz > f->size - f->ph[i].p_offset))
			die(path, "a PT_LOAD lies outside the file");
}

/* The loaded byte at addr: 0..255, or -1 when no PT_LOAD covers it. */
static int byte_at(const struct file *f, uint64_t addr)
{
	for (size_t i = 0; i < f->phnum; i++) {
		const Elf64_Phdr *p = &f->ph[i];

		if (p->p_type != PT_LOAD || addr < p->p_vaddr || addr - p->p_vaddr >= p->p_memsz)
			continue;
		if (addr - p->p_vaddr < p->p_filesz)
			return f->data[p->p_offset + (addr - p->p_vaddr)];
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct file a, b;
	int any = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: loadcmp A B\n");
		return 2;
	}
	load(&a, argv[1]);
	load(&b, argv[2]);
	for (size_t i = 0; i < a.phnum; i++) {
		const Elf64_Phdr *p = &a.ph[i];
		uint64_t start = 0;
		int open_range = 0, unmapped = 0;

		if (p->p_type != PT_LOAD)
			continue;
		for (uint64_t addr = p->p_vaddr; addr <= p->p_vaddr + p->p_memsz; addr++) {
			int diff = 0, um = 0;

			if (addr < p->p_vaddr + p->p_memsz) {
				int x = byte_at(&a, addr), y = byte_at(&b, addr);

				um = y < 0;
				diff = x != y;
			}
			if (diff && open_range && um != unmapped)
				diff = 2;	/* a change of kind ends the range */
			if (open_range && diff != 1) {
				printf("0x%llx-0x%llx%s\n", (unsigned long long)start,
				       (unsigned long long)addr, unmapped ? " unmapped" : "");
				open_range = 0;
				any = 1;
			}
			if (diff && !open_range) {
				start = addr;
				unmapped = um;
				open_range = 1;
			}
		}
	}
	return any;
}

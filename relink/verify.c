/* Proving a surgery: every byte of every old loadable segment is at the same
 * address in the new file, except the edits the surgery recorded. The loaded
 * images are compared through both files' program headers, in chunks, so a
 * large program is never held in memory twice. */
#include "relink/relink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1u << 20)

struct newimg {
	GElf_Phdr *ph;
	size_t n;
	uint64_t size;
};

static int read_new(int fd, const char *path, struct newimg *ni)
{
	Elf64_Ehdr eh;
	off_t size = lseek(fd, 0, SEEK_END);
	size_t i;

	memset(ni, 0, sizeof(*ni));
	if (size < (off_t)sizeof(eh) || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return pr_err(path, "not a 64-bit ELF file");
	ni->size = size;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum || eh.e_phnum == PN_XNUM ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), ni->size))
		return pr_err(path, "bad program header table");
	ni->n = eh.e_phnum;
	ni->ph = zalloc(ni->n * sizeof(*ni->ph));
	if (!ni->ph)
		return -1;
	for (i = 0; i < ni->n; i++) {
		Elf64_Phdr p;

		if (pread(fd, &p, sizeof(p), eh.e_phoff + i * sizeof(p)) != sizeof(p))
			return pr_err(path, "cannot read program header %zu", i);
		ni->ph[i] = p;
		if (p.p_type == PT_LOAD && (!range_ok(p.p_offset, p.p_filesz, ni->size) || p.p_filesz > p.p_memsz))
			return pr_err(path, "program header %zu lies outside the file", i);
	}
	return 0;
}

static const GElf_Phdr *new_load_at(const struct newimg *ni, uint64_t addr)
{
	for (size_t i = 0; i < ni->n; i++) {
		const GElf_Phdr *p = &ni->ph[i];

		if (p->p_type == PT_LOAD && addr >= p->p_vaddr && addr - p->p_vaddr < p->p_memsz)
			return p;
	}
	return NULL;
}

static bool edited(const edit_vec *edits, uint64_t addr)
{
	for (size_t i = 0; edits && i < edits->n; i++)
		if (addr >= edits->v[i].addr && addr - edits->v[i].addr < edits->v[i].size)
			return true;
	return false;
}

static uint64_t min3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < b ? a : b;

	return m < c ? m : c;
}

int verify_fd(const struct image *orig, int fd, const char *path, const edit_vec *edits,
	      struct verify_report *r)
{
	static const unsigned char zeros[CHUNK];
	unsigned char *buf = malloc(CHUNK);
	struct newimg ni;
	size_t i;
	int err = -1;

	memset(r, 0, sizeof(*r));
	if (!buf)
		return pr_err(NULL, "out of memory");
	if (read_new(fd, path, &ni))
		goto out;
	for (i = 0; i < orig->phnum; i++) {
		const GElf_Phdr *op = &orig->phdrs[i];
		uint64_t a = op->p_vaddr, end = op->p_vaddr + op->p_memsz;

		if (op->p_type != PT_LOAD)
			continue;
		while (a < end) {
			const GElf_Phdr *np = new_load_at(&ni, a);
			uint64_t ofile = op->p_vaddr + op->p_filesz, nfile, lim, len;
			const unsigned char *ob;
			const unsigned char *nb;

			if (!np) {
				char where[128];

				image_addr_name(orig, a, where, sizeof(where));
				err = pr_err(path, "address 0x%llx (%s) of the original is not loaded",
					     (unsigned long long)a, where);
				goto out;
			}
			nfile = np->p_vaddr + np->p_filesz;
			lim = min3(end, np->p_vaddr + np->p_memsz, a + CHUNK);
			/* Stop at either side's end of file-backed bytes. */
			if (a < ofile && ofile < lim)
				lim = ofile;
			if (a < nfile && nfile < lim)
				lim = nfile;
			len = lim - a;
			ob = a < ofile ? orig->data + op->p_offset + (a - op->p_vaddr) : zeros;
			if (a < nfile) {
				ssize_t got = pread(fd, buf, len, np->p_offset + (a - np->p_vaddr));

				if (got != (ssize_t)len) {
					err = pr_err(path, "cannot read: %s", got < 0 ? strerror(errno) : "short file");
					goto out;
				}
				nb = buf;
			} else {
				nb = zeros;
			}
			r->compared += len;
			if (memcmp(ob, nb, len)) {
				for (uint64_t k = 0; k < len; k++) {
					if (ob[k] == nb[k])
						continue;
					r->differing++;
					if (!edited(edits, a + k) && !r->bad) {
						r->bad = true;
						r->first_bad = a + k;
					}
				}
			}
			a = lim;
		}
	}
	err = 0;
out:
	free(ni.ph);
	free(buf);
	return err;
}

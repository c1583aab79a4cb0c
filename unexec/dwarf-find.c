/* Where the debug info is, as gdb finds it: --debug-file, the program
 * itself, the build-id tree, .gnu_debuglink; and split DWARF, each
 * skeleton unit's .dwo (or the program's .dwp package), read like the
 * program's own units. A candidate that does not belong to the program is
 * a warning and is passed over. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DEBUG_DIR_DEFAULT "/usr/lib/debug"

/* ---- finding the debug info ---- */

static int elf_build_id(Elf *elf, const unsigned char **id, size_t *len)
{
	Elf_Scn *scn = NULL;

	*id = NULL;
	*len = 0;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((char *)d->d_buf + noff, "GNU", 4) && nh.n_descsz) {
				*id = (const unsigned char *)d->d_buf + doff;
				*len = nh.n_descsz;
				return 0;
			}
		}
	}
	return 0;
}

static char *hex(const unsigned char *b, size_t n)
{
	char *s = zalloc(2 * n + 1);
	size_t i;

	for (i = 0; s && i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	return s;
}

static bool has_debug_info(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return false;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !sh.sh_size)
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")))
			return true;
	}
	return false;
}

static int file_crc(int fd, uint32_t *crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, NULL, 0);
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		c = crc32(c, buf, n);
		off += n;
	}
	*crc = c;
	return n < 0 ? -1 : 0;
}

void dw_dbgfile_close(struct dbgfile *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	f->elf = NULL;
	f->fd = -1;
	f->path = NULL;
}

/* Opens a candidate debug file and checks it belongs to the program:
 * same build-id when both have one, and the CRC .gnu_debuglink records. */
static bool try_debug_file(const struct image *img, const char *path, const uint32_t *want_crc,
			   bool quiet_missing, struct dbgfile *out)
{
	const unsigned char *id, *fid;
	size_t idlen, fidlen;
	struct stat st;
	GElf_Ehdr eh;

	out->fd = -1;
	out->elf = NULL;
	out->path = NULL;
	out->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->fd < 0) {
		if (!quiet_missing || errno != ENOENT)
			dw_warn(img, path, "cannot open debug file: %s", strerror(errno));
		return false;
	}
	out->path = xstrdup(path);
	if (fstat(out->fd, &st) || !S_ISREG(st.st_mode)) {
		dw_warn(img, path, "debug file is not a regular file; ignored");
		goto no;
	}
	out->elf = elf_begin(out->fd, ELF_C_READ_MMAP, NULL);
	if (!out->elf || elf_kind(out->elf) != ELF_K_ELF || !gelf_getehdr(out->elf, &eh) ||
	    gelf_getclass(out->elf) != ELFCLASS64 || eh.e_machine != img->eh.e_machine) {
		dw_warn(img, path, "debug file is not a 64-bit ELF file of the program's machine; ignored");
		goto no;
	}
	if (want_crc) {
		uint32_t crc;

		if (file_crc(out->fd, &crc) || crc != *want_crc) {
			dw_warn(img, path, "debug file's CRC 0x%08x does not match the 0x%08x that %s's .gnu_debuglink records; ignored",
				crc, *want_crc, img->path);
			goto no;
		}
	}
	elf_build_id(img->elf, &id, &idlen);
	elf_build_id(out->elf, &fid, &fidlen);
	if (id && fid && (idlen != fidlen || memcmp(id, fid, idlen))) {
		char *a = hex(id, idlen), *b = hex(fid, fidlen);

		dw_warn(img, path, "debug file's build-id %s does not match %s's %s; ignored", b ? b : "?", img->path,
			a ? a : "?");
		free(a);
		free(b);
		goto no;
	}
	if (!has_debug_info(out->elf)) {
		dw_warn(img, path, "debug file has no .debug_info; ignored");
		goto no;
	}
	return true;
no:
	dw_dbgfile_close(out);
	return false;
}

static const char *debug_dir(void)
{
	const char *d = getenv("SURGEON_DEBUG_DIR");

	return d && *d ? d : DEBUG_DIR_DEFAULT;
}

/* The .gnu_debuglink section: a file name, padding to 4, a CRC32. */
static bool debuglink(const struct image *img, const char **name, uint32_t *crc)
{
	size_t i;

	for (i = 1; i < img->shnum; i++) {
		const struct section *s = &img->secs[i];
		const char *d;
		size_t len;

		if (strcmp(s->name, ".gnu_debuglink") || s->sh.sh_type == SHT_NOBITS)
			continue;
		d = (const char *)img->data + s->sh.sh_offset;
		len = strnlen(d, s->sh.sh_size);
		if (!len || align_up(len + 1, 4) + 4 > s->sh.sh_size || memchr(d, '/', len)) {
			dw_warn(img, img->path, "section [%zu] '.gnu_debuglink' is malformed; ignored", i);
			return false;
		}
		*name = d;
		memcpy(crc, d + align_up(len + 1, 4), 4);
		return true;
	}
	return false;
}

/* Where the DWARF is, in gdb's order: --debug-file, the program itself,
 * DEBUGDIR/.build-id/xx/yyyy.debug, then .gnu_debuglink beside the program,
 * in .debug/ beside it, and under DEBUGDIR. */
bool dw_find_debug(const struct image *img, struct dbgfile *f, bool *own)
{
	const unsigned char *id;
	size_t idlen;
	const char *name;
	uint32_t crc;
	char *dir, *slash, *path;
	const char *where[3];
	int i;
	bool found = false;

	*own = false;
	if (img->opts.debug_file && try_debug_file(img, img->opts.debug_file, NULL, false, f))
		return true;
	if (has_debug_info(img->elf)) {
		*own = true;
		return true;
	}
	elf_build_id(img->elf, &id, &idlen);
	if (id && idlen >= 2) {
		char *h = hex(id, idlen);

		path = h ? xasprintf("%s/.build-id/%.2s/%s.debug", debug_dir(), h, h + 2) : NULL;
		found = path && try_debug_file(img, path, NULL, true, f);
		free(path);
		free(h);
		if (found)
			return true;
	}
	if (!debuglink(img, &name, &crc))
		return false;
	dir = xstrdup(img->path);
	if (!dir)
		return false;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	where[0] = slash ? dir : ".";
	where[1] = ".debug";
	where[2] = debug_dir();
	for (i = 0; i < 3 && !found; i++) {
		if (i == 0)
			path = xasprintf("%s/%s", where[0], name);
		else if (i == 1)
			path = xasprintf("%s/.debug/%s", where[0], name);
		else
			path = xasprintf("%s/%s/%s", where[2], where[0], name);
		found = path && try_debug_file(img, path, &crc, true, f);
		free(path);
	}
	free(dir);
	return found;
}

/* ---- split DWARF ---- */

/* A skeleton unit of split DWARF: where its split object is (DW_AT_dwo_name,
 * or GNU's for DWARF 4, relative to DW_AT_comp_dir). */
int dw_note_dwo(struct ctx *c, Dwarf_Die cu, bool *skeleton)
{
	Dwarf_Attribute a;
	char *name = NULL, *dir = NULL, *path;
	Dwarf_Half tag = 0;
	int r;

	*skeleton = false;
	if (dwarf_tag(cu, &tag, &c->err) != DW_DLV_OK)
		return dw_fail(c, "reading a compilation unit");
	r = dw_attr_get(c, cu, DW_AT_dwo_name, &a);
	if (!r)
		r = dw_attr_get(c, cu, DW_AT_GNU_dwo_name, &a);
	if (r < 0)
		return -1;
	if (!r)
		return tag == DW_TAG_skeleton_unit ? dw_fail(c, "a skeleton unit without DW_AT_dwo_name") : 0;
	*skeleton = true;
	if (dwarf_formstring(a, &name, &c->err) != DW_DLV_OK) {
		dwarf_dealloc_attribute(a);
		return dw_fail(c, "reading DW_AT_dwo_name");
	}
	dwarf_dealloc_attribute(a);
	r = dw_attr_get(c, cu, DW_AT_comp_dir, &a);
	if (r < 0)
		return -1;
	if (r) {
		if (dwarf_formstring(a, &dir, &c->err) != DW_DLV_OK)
			dir = NULL;
		if (c->err) {
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
			c->err = NULL;
		}
		dwarf_dealloc_attribute(a);
	}
	path = name[0] == '/' || !dir ? xstrdup(name) : xasprintf("%s/%s", dir, name);
	struct dwo_ref ref = { .path = path, .dwo_id = c->dwo_id };

	if (!ref.dwo_id && dw_attr_udata(c, cu, DW_AT_GNU_dwo_id, &ref.dwo_id) < 0) {
		free(path);
		return -1;
	}

	if (dwarf_srcfiles(cu, &ref.srcfiles, &ref.nsrc, &c->err) != DW_DLV_OK) {
		if (c->err)
			dwarf_dealloc(c->dbg, c->err, DW_DLA_ERROR);
		c->err = NULL;
		ref.srcfiles = NULL;
		ref.nsrc = 0;
	}
	if (!path || VEC_PUSH(&c->dwo_refs, ref)) {
		free(path);
		return -1;
	}
	return 0;
}

void dw_free_paths(struct ctx *c)
{
	for (size_t i = 0; i < c->dwo_refs.n; i++)
		free(c->dwo_refs.v[i].path);
	VEC_FREE(&c->dwo_refs);
}

/* Opens a split object or package, tied to the program for addresses
 * (.debug_addr is in the program). 0, or -1 with a warning given. */
static int open_dwo(struct ctx *c, const char *path, Dwarf_Debug main, struct dwo *w)
{
	char *why = NULL;

	struct stat st;

	/* The name comes from the debug info: a FIFO or a device there must not
	 * block or feed us for ever. */
	*w = (struct dwo){ .fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) };
	if (w->fd < 0) {
		pr_warn(path, "cannot open split debug info: %s; its declarations are left out", strerror(errno));
		return -1;
	}
	if (fstat(w->fd, &st) || !S_ISREG(st.st_mode)) {
		pr_warn(path, "split debug info is not a regular file; its declarations are left out");
		close(w->fd);
		return -1;
	}
	w->elf = elf_begin(w->fd, ELF_C_READ_MMAP, NULL);
	if (!w->elf || elf_kind(w->elf) != ELF_K_ELF || gelf_getclass(w->elf) != ELFCLASS64 ||
	    !dw_sections_sound(w->elf, &why) ||
	    dwarf_elf_init_b(w->elf, DW_DLC_READ, DW_GROUPNUMBER_DWO, NULL, NULL, &w->dbg, &c->err) != DW_DLV_OK ||
	    dwarf_set_tied_dbg(w->dbg, main, &c->err) != DW_DLV_OK) {
		pr_warn(path, "unusable split debug info (%s); its declarations are left out",
			why ? why : c->err ? dwarf_errmsg(c->err) : "not a 64-bit ELF object");
		free(why);
		if (c->err)
			dwarf_dealloc(main, c->err, DW_DLA_ERROR);
		c->err = NULL;
		if (w->dbg) {
			Dwarf_Error e = NULL;

			dwarf_finish(w->dbg, &e);
		}
		if (w->elf)
			elf_end(w->elf);
		close(w->fd);
		return -1;
	}
	return 0;
}

/* Each skeleton unit's split object (FILE.dwo), read like the program's own
 * units; or, when they are gone, the package dwp made of them, beside the
 * debug info as PROGRAM.dwp (where gdb looks). One that is missing or
 * unusable is a warning: the others still declare what they hold. */
int dw_read_dwos(struct ctx *c)
{
	Dwarf_Debug main = c->dbg;
	bool missing = false;
	char *dwp;
	struct stat st;
	int r = 0;

	for (size_t i = 0; i < c->dwo_refs.n; i++)
		if (stat(c->dwo_refs.v[i].path, &st))
			missing = true;
	dwp = missing ? xasprintf("%s.dwp", c->path) : NULL;
	if (dwp && !stat(dwp, &st)) {
		struct dwo w;

		if (VEC_GROW(&c->p->dwos)) {
			free(dwp);
			return -1;
		}
		if (!open_dwo(c, dwp, main, &w)) {
			c->p->dwos.v[c->p->dwos.n++] = w;
			c->dbg = w.dbg;
			c->file = c->p->dwos.n;
			c->dwp = true;
			r = dw_read_all(c);
			c->dwp = false;
			c->skeleton = NULL;
			c->dbg = main;
		}
		free(dwp);
		return r;
	}
	free(dwp);
	for (size_t i = 0; i < c->dwo_refs.n; i++) {
		struct dwo w;

		if (VEC_GROW(&c->p->dwos))
			return -1;
		if (open_dwo(c, c->dwo_refs.v[i].path, main, &w))
			continue;
		c->p->dwos.v[c->p->dwos.n++] = w;
		c->dbg = w.dbg;
		c->file = c->p->dwos.n;
		c->skeleton = &c->dwo_refs.v[i];
		r = dw_read_all(c);
		c->skeleton = NULL;
		c->dbg = main;
		if (r)
			return -1;
	}
	return 0;
}

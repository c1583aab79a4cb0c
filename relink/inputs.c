/* Which names the inputs refer to. A large program has hundreds of
 * thousands of symbols and the new code uses a handful: the frozen object
 * given to the linker carries only those, which keeps the link of a 100 MB
 * program fast and small. Any input that cannot be read this way (an LTO
 * object, a linker script, a shared library named with -l that resolves
 * to one) turns the filter off: then every symbol is given, as before. */
#include "relink/relink.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct refs {
	const struct relink_opts *opts;	/* for -l in a linker script */
	const struct arch *arch;
	const char *prog;	/* the program's name, for messages */
	bool dynamic;
	struct strmap *set;
	VEC(char *) names;
	struct strmap *defined;	/* the subset some input defines */
	bool debug;		/* some input has debug info */
	bool unknown;		/* some input could not be scanned */
	bool named;		/* the file being scanned was named, not found by -l */
};

static int add_name(struct refs *r, const char *name, bool defined)
{
	char *copy = strmap_get(r->set, name);

	if (!copy) {
		copy = xstrdup(name);
		if (!copy || VEC_PUSH(&r->names, copy) || strmap_put(r->set, copy, copy)) {
			free(copy);
			return -1;
		}
	}
	return defined ? strmap_put(r->defined, copy, (void *)1) : 0;
}

/* Names one relocatable ELF object uses or defines globally. */
static int scan_object(struct refs *r, Elf *e, const char *path, const char *member)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;

	if (!gelf_getehdr(e, &eh) || eh.e_type != ET_REL) {
		r->unknown = true;
		return 0;
	}
	/* ld would say "file in wrong format" of a named input of another
	 * machine (it skips those it finds by -l, and so does this). */
	if (r->arch && r->named && eh.e_machine != r->arch->machine) {
		char kind[64], tool[64];
		size_t n;
		const unsigned char *raw = (const unsigned char *)elf_rawfile(e, &n);

		if (raw && n >= 20)
			arch_elf_kind(raw, kind, sizeof(kind));
		else
			snprintf(kind, sizeof(kind), "a machine %u", eh.e_machine);
		return pr_err(r->prog, "input %s%s%s%s is %s object, and the program is %s %s one: build it with %s",
			      path, member ? " (member " : "", member ? member : "", member ? ")" : "", kind,
			      r->arch->article, r->arch->name,
			      arch_tool(r->arch, "gcc", tool, sizeof(tool)));
	}
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t n, i;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_PROGBITS && !(sh.sh_flags & SHF_ALLOC)) {
			size_t shstrndx;
			const char *nm = elf_getshdrstrndx(e, &shstrndx) ? NULL : elf_strptr(e, shstrndx, sh.sh_name);

			if (nm && !strncmp(nm, ".debug_", 7))
				r->debug = true;
		}
		if (sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d) {
			r->unknown = true;
			return 0;
		}
		n = sh.sh_size / sh.sh_entsize;
		for (i = 1; i < n; i++) {
			GElf_Sym s;
			const char *name;

			/* Undefined names, and defined globals: an old definition of
			 * the same name must still make the linker say they clash. */
			if (!gelf_getsym(d, i, &s) ||
			    (s.st_shndx != SHN_UNDEF && GELF_ST_BIND(s.st_info) == STB_LOCAL))
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			if (name && *name && add_name(r, name, s.st_shndx != SHN_UNDEF))
				return -1;
		}
	}
	return 0;
}

static int scan_file(struct refs *r, const char *path, int depth);
static char *find_lib(const struct refs *r, const char *name);

/* A linker script that only names other files, as libm.a and libc.so are
 * on Debian: GROUP, INPUT and AS_NEEDED lists of paths and -l names are
 * scanned in turn. Anything else in a script turns the filter off. */
static int scan_script(struct refs *r, const char *path, int depth)
{
	static const char *const lists[] = { "GROUP", "INPUT", "AS_NEEDED" };
	char buf[8192], *p, *tok, *save = NULL, *slash;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	r->unknown = true;
	if (fd < 0 || depth > 4)
		goto out;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || n == (ssize_t)sizeof(buf) - 1)
		goto out;
	buf[n] = 0;
	/* Comments out, and OUTPUT_FORMAT(...) with them. */
	while ((p = strstr(buf, "/*"))) {
		char *e = strstr(p + 2, "*/");

		if (!e)
			goto out;
		memset(p, ' ', e + 2 - p);
	}
	if ((p = strstr(buf, "OUTPUT_FORMAT"))) {
		char *e = strchr(p, ')');

		if (!e)
			goto out;
		memset(p, ' ', e + 1 - p);
	}
	r->unknown = false;
	for (tok = strtok_r(buf, " \t\n(),", &save); tok && !err && !r->unknown; tok = strtok_r(NULL, " \t\n(),", &save)) {
		bool keyword = false;
		char *file;

		for (size_t i = 0; i < sizeof(lists) / sizeof(*lists); i++)
			keyword |= !strcmp(tok, lists[i]);
		if (keyword)
			continue;
		if (!strncmp(tok, "-l", 2)) {
			file = find_lib(r, tok + 2);
		} else if (tok[0] == '/') {
			file = xstrdup(tok);
		} else {
			/* Beside the script, as ld looks first. */
			slash = strrchr(path, '/');
			file = slash ? xasprintf("%.*s/%s", (int)(slash - path), path, tok) : xstrdup(tok);
		}
		if (!file) {
			r->unknown = true;
			break;
		}
		err = scan_file(r, file, depth + 1);
		free(file);
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

static int scan_file(struct refs *r, const char *path, int depth)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *ar, *m;
	Elf_Cmd cmd = ELF_C_READ_MMAP;
	int err = 0;

	if (fd < 0) {
		r->unknown = true;	/* the linker will say what is wrong */
		return 0;
	}
	ar = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!ar) {
		r->unknown = true;
	} else if (elf_kind(ar) == ELF_K_ELF) {
		GElf_Ehdr eh;

		/* A shared library's own needs are met at run time, not by the program. */
		if (!gelf_getehdr(ar, &eh) || eh.e_type != ET_DYN)
			err = scan_object(r, ar, path, NULL);
	} else if (elf_kind(ar) == ELF_K_AR) {
		while (!err && (m = elf_begin(fd, cmd, ar))) {
			Elf_Arhdr *h = elf_getarhdr(m);

			/* The archive's symbol index and long-name table are not members. */
			if (h && h->ar_name[0] != '/') {
				if (elf_kind(m) == ELF_K_ELF)
					err = scan_object(r, m, path, h->ar_name);
				else
					r->unknown = true;
			}
			cmd = elf_next(m);
			elf_end(m);
		}
	} else if (elf_kind(ar) == ELF_K_NONE) {
		err = scan_script(r, path, depth);
	} else {
		r->unknown = true;	/* LTO bitcode... */
	}
	if (ar)
		elf_end(ar);
	close(fd);
	return err;
}

static char *lib_in_dir(const char *dir, const char *name, bool dynamic)
{
	for (int so = dynamic ? 1 : 0; so >= 0; so--) {
		char *p = name[0] == ':' ? xasprintf("%s/%s", dir, name + 1) :
			  xasprintf("%s/lib%s.%s", dir, name, so ? "so" : "a");
		struct stat st;

		if (p && !stat(p, &st))
			return p;
		free(p);
		if (name[0] == ':')
			break;
	}
	return NULL;
}

/* -l NAME as ld finds it: -L directories in order, then the system's, then
 * gcc's (libstdc++ is there). */
static char *find_lib(const struct refs *r, const char *name)
{
	const struct relink_opts *o = r->opts;
	const struct strvec *gcc, *sys = libs_system_dirs(r->arch);
	bool dynamic = r->dynamic;
	char *p = NULL;
	size_t i;

	for (i = 0; o && i < o->inputs.n && !p; i++)
		if (o->inputs.v[i].kind == IN_LIBDIR)
			p = lib_in_dir(o->inputs.v[i].arg, name, dynamic);
	for (i = 0; sys && i < sys->n && !p; i++)
		p = lib_in_dir(sys->v[i], name, dynamic);
	gcc = p ? NULL : libs_gcc_dirs(r->arch);
	for (i = 0; gcc && i < gcc->n && !p; i++)
		p = lib_in_dir(gcc->v[i], name, dynamic);
	return p;
}

int inputs_referenced(const struct relink_opts *o, const struct image *img, struct input_refs *out)
{
	struct refs r = { .opts = o, .arch = img->arch, .prog = img->path, .dynamic = img->dynamic, .set = strmap_new(256), .defined = strmap_new(256) };
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!r.set || !r.defined) {
		strmap_free(r.set);
		strmap_free(r.defined);
		return -1;
	}
	for (i = 0; i < o->undefs.n && !err; i++)
		err = add_name(&r, o->undefs.v[i], false);
	for (i = 0; i < o->inputs.n && !err && !r.unknown; i++) {
		const struct input *in = &o->inputs.v[i];
		char *p;

		r.named = in->kind == IN_FILE;
		if (in->kind == IN_FILE) {
			err = scan_file(&r, in->arg, 0);
		} else if (in->kind == IN_LIB) {
			p = find_lib(&r, in->arg);
			if (p)
				err = scan_file(&r, p, 0);
			else
				r.unknown = true;
			free(p);
		}
	}
	if (err || r.unknown) {
		for (i = 0; i < r.names.n; i++)
			free(r.names.v[i]);
		VEC_FREE(&r.names);
		strmap_free(r.set);
		strmap_free(r.defined);
		return err;
	}
	out->set = r.set;
	out->defined = r.defined;
	out->names = r.names.v;
	out->nnames = r.names.n;
	out->debug = r.debug;
	return 0;
}

int input_refs_add_file(struct input_refs *in, const char *path)
{
	struct refs r = { .set = in->set, .defined = in->defined, .debug = in->debug };
	int err;

	r.names.v = in->names;
	r.names.n = r.names.cap = in->nnames;
	err = scan_file(&r, path, 0);
	in->names = r.names.v;
	in->nnames = r.names.n;
	return err ? err : r.unknown;
}

void input_refs_free(struct input_refs *in)
{
	for (size_t i = 0; i < in->nnames; i++)
		free(in->names[i]);
	free(in->names);
	strmap_free(in->set);
	strmap_free(in->defined);
	memset(in, 0, sizeof(*in));
}

/* Every name the inputs use is defined by them or found in the program. */
bool input_refs_all_known(const struct image *img, const struct input_refs *r)
{
	if (!r->set)
		return false;
	for (size_t i = 0; i < r->nnames; i++)
		if (!strmap_get(r->defined, r->names[i]) && !image_symbol(img, r->names[i]))
			return false;
	return true;
}

/* Reading a large program's debug info takes a tenth of add-lib's time, so
 * it is read only when the new code may need it: to link the inputs' own
 * debug info with the program's, or to find a name that no symbol table
 * gives (a static function of a stripped program, FILE:NAME, a --replace
 * target), and when --debug-file names it (a bad one is then reported). A
 * name only a shared library defines reads it too, needlessly but
 * harmlessly. */
bool input_refs_need_dwarf(const struct image *img, const struct relink_opts *o, const struct input_refs *r)
{
	if (!r->set || r->debug || img->opts.debug_file || !input_refs_all_known(img, r))
		return true;
	for (size_t i = 0; i < o->patch_reqs.n; i++)	/* patching */
		if (!image_symbol(img, o->patch_reqs.v[i].old))
			return true;
	return false;
}

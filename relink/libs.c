/* The link gcc would do. gcc's driver adds libraries to every link that
 * nobody names: libgcc.a (__popcountdi2...), libc_nonshared.a through
 * libc.so's script (atexit), libgcc_s or libgcc_eh for unwinding, and
 * libstdc++ and libm when g++ links. add-lib adds them the same way, found
 * where gcc finds them: its library directories, from `gcc
 * -print-search-dirs`. surgeon asks gcc for its paths rather than letting
 * gcc drive the link, because the link is not gcc's: the linker is the
 * one --ld names, the output kind follows the program, the program's own
 * libc must win over the system's, and crt files must stay out.
 *
 * A static program carries only the parts of its C library it called. New
 * code that calls another libc function borrows it from the libc.a the
 * program was built with: glibc's or musl's, recognised by comparing the
 * sizes of the functions and variables the program has with those the
 * archive defines. The frozen object offers the linker every definition
 * the program has, so the archive fills only what is missing: one malloc,
 * one stdio, one errno. */
#include "relink/relink.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* gcc's driver for the arch: gcc, or aarch64-linux-gnu-gcc from x86-64. */
static const char *cc_driver(const struct arch *a)
{
	static char buf[96];

	return arch_tool(a, "gcc", buf, sizeof(buf));
}

/* Debian's package of that driver: gcc-x86-64-linux-gnu, since a package
 * name has no '_' (the triplet x86_64-linux-gnu has). */
static const char *cc_package(const struct arch *a)
{
	static char buf[96];

	snprintf(buf, sizeof(buf), "gcc-%s", a->triplet);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_owned(struct strvec *v, char *s)
{
	if (!s || VEC_PUSH(v, s)) {
		free(s);
		return -1;
	}
	return 0;
}

static bool is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* gcc's library directories, in its order, as it prints them:
 * "libraries: =/usr/lib/gcc/x86_64-linux-gnu/12/:/usr/lib/...". Asked
 * once per run (a run serves one program, so one arch). */
static struct strvec gcc_dir_cache;
static bool gcc_dirs_probed;
static const struct arch *gcc_dirs_arch;

static void free_gcc_dirs(void)
{
	for (size_t i = 0; i < gcc_dir_cache.n; i++)
		free(gcc_dir_cache.v[i]);
	VEC_FREE(&gcc_dir_cache);
}

const struct strvec *libs_gcc_dirs(const struct arch *a)
{
	const char *argv[] = { cc_driver(a), "-print-search-dirs", NULL };
	char *out = NULL, *line, *save = NULL;
	int rc;

	if (!a)
		a = arch_native();
	if (gcc_dirs_probed && gcc_dirs_arch == a)
		return gcc_dir_cache.n ? &gcc_dir_cache : NULL;
	if (!gcc_dirs_probed)
		atexit(free_gcc_dirs);
	free_gcc_dirs();
	gcc_dirs_probed = true;
	gcc_dirs_arch = a;
	rc = run_output(argv, &out);
	if (rc != 0) {
		free(out);
		if (a != arch_native())
			pr_err(argv[0], "cannot ask for its library directories (%s): the %s cross compiler is "
			       "needed for %s programs (Debian: %s)", rc < 0 ? strerror(errno) : "it failed",
			       a->name, a->name, cc_package(a));
		else
			pr_err(argv[0], "cannot ask for its library directories (%s)",
			       rc < 0 ? strerror(errno) : "it failed");
		return NULL;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *list, *dir, *dsave = NULL;

		if (strncmp(line, "libraries: ", 11))
			continue;
		list = line + 11;
		if (*list == '=')
			list++;
		for (dir = strtok_r(list, ":", &dsave); dir; dir = strtok_r(NULL, ":", &dsave)) {
			char *real = realpath(dir, NULL);
			bool seen = false;

			if (!real || !is_dir(real)) {
				free(real);
				continue;
			}
			for (size_t i = 0; i < gcc_dir_cache.n && !seen; i++)
				seen = !strcmp(gcc_dir_cache.v[i], real);
			if (seen)
				free(real);
			else if (push_owned(&gcc_dir_cache, real))
				break;
		}
	}
	free(out);
	if (!gcc_dir_cache.n)
		pr_err(argv[0], "printed no library directories");
	return gcc_dir_cache.n ? &gcc_dir_cache : NULL;
}

/* Where ld looks without a script of ours (its default script's
 * SEARCH_DIRs on Debian), for -l NAME and the program's own libraries. */
const struct strvec *libs_system_dirs(const struct arch *a)
{
	static struct strvec dirs;
	static const struct arch *made_for;
	static const char *const prefix[] = { "/usr/local/lib/", "/lib/", "/usr/lib/" };

	if (!a)
		a = arch_native();
	if (made_for == a)
		return &dirs;
	for (size_t i = 0; i < dirs.n; i++)
		free(dirs.v[i]);
	dirs.n = 0;
	made_for = NULL;
	for (size_t i = 0; i < sizeof(prefix) / sizeof(*prefix); i++)
		if (push_owned(&dirs, xasprintf("%s%s", prefix[i], a->multiarch)))
			return NULL;
	for (size_t i = 0; a->ld_dirs[i]; i++)
		if (push_owned(&dirs, xstrdup(a->ld_dirs[i])))
			return NULL;
	made_for = a;
	return &dirs;
}

const char *libs_linker(const struct arch *a, const char *ld)
{
	static char path[PATH_MAX];
	const char *name = !ld || !strcmp(ld, "bfd") ? (ld ? "ld.bfd" : "ld") : !strcmp(ld, "gold") ? "ld.gold" :
			   !strcmp(ld, "lld") ? "ld.lld" : NULL;
	char arg[64];
	const char *argv[] = { cc_driver(a), arg, NULL };
	char *out = NULL;
	size_t n;
	int rc;

	/* A path or program of the user's; lld links every machine. */
	if (!name)
		return ld;
	if (!a || a == arch_native() || !strcmp(name, "ld.lld"))
		return name;
	snprintf(arg, sizeof(arg), "-print-prog-name=%s", name);
	rc = run_output(argv, &out);
	n = out ? strcspn(out, "\n") : 0;
	if (rc != 0 || !n || n >= sizeof(path)) {
		free(out);
		pr_err(argv[0], "cannot name the %s linker (%s): the %s cross compiler is needed for %s programs "
		       "(Debian: %s)", a->name, rc < 0 ? strerror(errno) : "it failed", a->name, a->name,
		       cc_package(a));
		return NULL;
	}
	memcpy(path, out, n);
	path[n] = 0;
	free(out);
	/* A bare name means gcc did not find it: the triplet's own, in PATH. */
	if (!strchr(path, '/'))
		snprintf(path, sizeof(path), "%s-%s", a->triplet, name);
	return path;
}

static int gcc_dirs(struct libs *lb, const struct arch *a)
{
	const struct strvec *d = libs_gcc_dirs(a);

	if (!d)
		return -1;
	for (size_t i = 0; i < d->n; i++)
		if (push_owned(&lb->dirs, xstrdup(d->v[i])))
			return -1;
	return 0;
}

char *libs_find(const struct libs *lb, const char *file)
{
	for (size_t i = 0; i < lb->dirs.n; i++) {
		char *p = xasprintf("%s/%s", lb->dirs.v[i], file);

		if (p && is_file(p))
			return p;
		free(p);
	}
	return NULL;
}

/* ---- archives ---- */

/* Calls fn on every symbol table entry of every member of the archive (or
 * of the object) at path. */
typedef int (*sym_fn)(const char *name, const GElf_Sym *s, void *arg);

static int each_member_symbol(const char *path, sym_fn fn, void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	Elf *ar, *m;
	Elf_Cmd cmd = ELF_C_READ_MMAP;

	if (fd < 0)
		return pr_err(path, "%s", strerror(errno));
	ar = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!ar || elf_kind(ar) != ELF_K_AR) {
		err = pr_err(path, "not an archive");
		goto out;
	}
	while (!err && (m = elf_begin(fd, cmd, ar))) {
		Elf_Scn *scn = NULL;

		while (!err && elf_kind(m) == ELF_K_ELF && (scn = elf_nextscn(m, scn))) {
			GElf_Shdr sh;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
			    !(d = elf_getdata(scn, NULL)))
				continue;
			for (size_t i = 1; !err && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym s;
				const char *name;

				if (gelf_getsym(d, i, &s) && (name = elf_strptr(m, sh.sh_link, s.st_name)) && *name)
					err = fn(name, &s, arg);
			}
		}
		cmd = elf_next(m);
		elf_end(m);
	}
out:
	if (ar)
		elf_end(ar);
	close(fd);
	return err;
}

/* The archive's symbol index: every name a member defines globally. */
static int add_index(const char *path, struct strmap *names, struct strvec *owned)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	Elf *ar;
	Elf_Arsym *sym;
	size_t n;

	if (fd < 0)
		return pr_err(path, "%s", strerror(errno));
	ar = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	sym = ar && elf_kind(ar) == ELF_K_AR ? elf_getarsym(ar, &n) : NULL;
	for (size_t i = 0; sym && i < n && !err; i++) {
		char *copy;

		if (!sym[i].as_name || strmap_get(names, sym[i].as_name))
			continue;
		copy = xstrdup(sym[i].as_name);
		err = push_owned(owned, copy) || strmap_put(names, copy, (void *)1);
	}
	if (ar)
		elf_end(ar);
	close(fd);
	return err ? -1 : 0;
}

/* ---- which C library a static program was built with ---- */

struct fp_sym {
	const char *name;
	uint64_t size;
	bool ambiguous;		/* the program has two of this name, of other sizes */
	bool seen, matched;	/* the archive defines it; with this size somewhere */
};

struct fingerprint {
	struct strmap *prog;	/* name -> index in syms + 1 */
	VEC(struct fp_sym) syms;
	size_t same, differ;
	const char *example;	/* a name whose size differs */
};

static bool sized(unsigned type)
{
	return type == STT_FUNC || type == STT_OBJECT || type == STT_GNU_IFUNC;
}

/* A name may be defined twice in an archive (musl's weak dummies beside
 * the real function): any definition of the program's size matches. */
static int compare_sym(const char *name, const GElf_Sym *s, void *arg)
{
	struct fingerprint *fp = arg;
	struct fp_sym *f;
	uintptr_t i;

	if (s->st_shndx == SHN_UNDEF || GELF_ST_BIND(s->st_info) == STB_LOCAL || !s->st_size ||
	    !sized(GELF_ST_TYPE(s->st_info)) || !(i = (uintptr_t)strmap_get(fp->prog, name)))
		return 0;
	f = &fp->syms.v[i - 1];
	f->seen = true;
	f->matched |= f->size == s->st_size;
	return 0;
}

/* How many of the program's sized symbols the archive defines with the
 * same size, and how many only with others. */
static int fingerprint(const struct image *img, const char *archive, struct fingerprint *fp)
{
	fp->prog = strmap_new(img->syms.n);
	if (!fp->prog || VEC_RESERVE(&fp->syms, img->syms.n + 1))
		return -1;
	for (size_t i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];
		void **ref;

		if (s->src != SYM_SYMTAB || s->shndx == SHN_UNDEF || !s->size || !sized(s->type))
			continue;
		ref = strmap_ref(fp->prog, s->name);
		if (!ref)
			return -1;
		if (*ref) {
			struct fp_sym *f = &fp->syms.v[(uintptr_t)*ref - 1];

			f->ambiguous |= f->size != s->size;
			continue;
		}
		if (VEC_PUSH(&fp->syms, ((struct fp_sym){ .name = s->name, .size = s->size })))
			return -1;
		*ref = (void *)(uintptr_t)fp->syms.n;
	}
	if (each_member_symbol(archive, compare_sym, fp))
		return -1;
	for (size_t i = 0; i < fp->syms.n; i++) {
		const struct fp_sym *f = &fp->syms.v[i];

		if (!f->seen || f->ambiguous)
			continue;
		if (f->matched) {
			fp->same++;
		} else {
			fp->differ++;
			if (!fp->example)
				fp->example = f->name;
		}
	}
	return 0;
}

static void fingerprint_free(struct fingerprint *fp)
{
	strmap_free(fp->prog);
	VEC_FREE(&fp->syms);
}

/* The program's own symbols say which C library it has. */
static enum libc_kind program_libc(const struct image *img)
{
	if (image_symbol(img, "__libc_setup_tls") || image_symbol(img, "_dl_aux_init") ||
	    image_symbol(img, "_IO_2_1_stdout_"))
		return LIBC_GLIBC;
	if (image_symbol(img, "__init_libc") || image_symbol(img, "__libc_start_init"))
		return LIBC_MUSL;
	for (size_t i = 0; i < img->syms.n; i++) {
		const char *n = img->syms.v[i].name;

		if (!strcmp(n, "__libc_setup_tls") || !strcmp(n, "_dl_aux_init"))
			return LIBC_GLIBC;
		if (!strcmp(n, "__init_libc") || !strcmp(n, "__libc_start_init"))
			return LIBC_MUSL;
	}
	return LIBC_NONE;
}

/* "2.36" from the banner glibc's libc.a and some programs carry ("GNU C
 * Library (Debian GLIBC 2.36-9) stable release version 2.36."), or from
 * confstr's "glibc 2.36"; NULL when there is none. */
static char *glibc_version_in(const unsigned char *data, size_t size)
{
	static const char *const marks[] = { "stable release version ", "release version ", "glibc 2." };

	for (size_t k = 0; k < sizeof(marks) / sizeof(*marks); k++) {
		const unsigned char *p = memmem(data, size, marks[k], strlen(marks[k]));
		size_t at, len = 0;

		if (!p)
			continue;
		at = p - data + strlen(marks[k]) - (k == 2 ? 2 : 0);
		while (at + len < size && len < 16 && (data[at + len] == '.' || (data[at + len] >= '0' && data[at + len] <= '9')))
			len++;
		while (len && data[at + len - 1] == '.')
			len--;
		if (len >= 3)
			return strndup((const char *)data + at, len);
	}
	return NULL;
}

static char *file_glibc_version(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	size_t size;
	const unsigned char *raw = e ? (const unsigned char *)elf_rawfile(e, &size) : NULL;
	char *v = raw ? glibc_version_in(raw, size) : NULL;

	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return v;
}

/* The names the new code uses that neither it nor the program defines
 * (nor, when given, the archives indexed in `also`). */
static int missing_names(const struct image *img, const struct input_refs *refs, const struct strmap *also,
			 char *buf, size_t len, size_t *count)
{
	size_t at = 0, n = 0;

	buf[0] = 0;
	for (size_t i = 0; refs && refs->set && i < refs->nnames; i++) {
		const char *name = refs->names[i];

		if (strmap_get(refs->defined, name) || image_symbol(img, name) || (also && strmap_get(also, name)))
			continue;
		if (n < 4 && at < len)
			at += snprintf(buf + at, len - at, "%s'%s'", n ? ", " : "", name);
		n++;
	}
	if (n > 4 && at < len)
		snprintf(buf + at, len - at, " and %zu more", n - 4);
	*count = n;
	return 0;
}

/* Whether a name the new code uses and nothing else defines is in the
 * archive's index. */
static int archive_needed(const struct image *img, const struct input_refs *refs, const char *archive, bool *yes)
{
	struct strmap *idx = strmap_new(4096);
	struct strvec owned = { 0 };
	int err = idx ? add_index(archive, idx, &owned) : -1;

	*yes = false;
	for (size_t i = 0; !err && refs && refs->set && i < refs->nnames && !*yes; i++) {
		const char *name = refs->names[i];

		*yes = !strmap_get(refs->defined, name) && !image_symbol(img, name) && strmap_get(idx, name);
	}
	for (size_t i = 0; i < owned.n; i++)
		free(owned.v[i]);
	VEC_FREE(&owned);
	strmap_free(idx);
	return err;
}

/* A musl program's libc.a is not where musl-gcc keeps it (musl-dev is not
 * installed for the program's machine: aarch64 from x86-64, where Debian
 * has no musl cross package). Nothing is lost while gcc's own archives
 * give all the new code lacks; otherwise only --libc can say where it is. */
static int musl_absent(struct libs *lb, const struct image *img, const struct input_refs *refs,
		       const char *archive)
{
	static const char *const gcc_archives[] = { "libgcc.a", "libgcc_eh.a" };
	struct strmap *idx = strmap_new(1024);
	struct strvec owned = { 0 };
	char missing[256];
	size_t nmissing = 0;
	int err = idx ? 0 : -1;

	for (size_t i = 0; !err && i < sizeof(gcc_archives) / sizeof(*gcc_archives); i++) {
		char *p = libs_find(lb, gcc_archives[i]);

		err = p ? add_index(p, idx, &owned) : 0;
		free(p);
	}
	if (!err)
		missing_names(img, refs, idx, missing, sizeof(missing), &nmissing);
	if (!err && (nmissing || lb->cxx))
		err = pr_err(img->path, "the added code needs %s, which the program does not contain; the program's "
			     "C library is musl, and %s is not there (Debian's musl-dev for %s installs it): name "
			     "musl's libc.a with --libc FILE",
			     nmissing ? missing : "functions", archive, img->arch->name);
	for (size_t i = 0; i < owned.n; i++)
		free(owned.v[i]);
	VEC_FREE(&owned);
	strmap_free(idx);
	return err;
}

/* The static program's libc.a: --libc, or the system's for its kind, when
 * the sizes of what the program has agree with it. Left out when they do
 * not and nothing the new code names is in it (the linker then names what
 * is missing); an error when something is. */
static int match_libc(struct libs *lb, const struct image *img, const struct relink_opts *o,
		      const struct input_refs *refs)
{
	struct fingerprint fp = { 0 };
	char *archive, missing[256], *have = NULL, *want = NULL;
	size_t nmissing;
	bool needed;
	int err = -1;

	lb->libc = program_libc(img);
	archive = o->libc_file ? xstrdup(o->libc_file) :
		  lb->libc == LIBC_MUSL ? xasprintf("%s/libc.a", img->arch->musl_libdir) : libs_find(lb, "libc.a");
	if (!archive)
		return 0;
	if (!is_file(archive)) {
		if (o->libc_file)
			pr_err(archive, "%s", errno ? strerror(errno) : "not a file");
		else
			err = musl_absent(lb, img, refs, archive);
		goto out;
	}
	/* Needed when the new code names something in it, or when an archive
	 * gcc adds (libstdc++.a, libgcc.a) may; only the first must be met. */
	if (archive_needed(img, refs, archive, &needed))
		goto out;
	needed |= lb->cxx;
	missing_names(img, refs, NULL, missing, sizeof(missing), &nmissing);
	if (lb->libc == LIBC_NONE && !o->libc_file) {
		if (!needed) {
			err = 0;
			goto out;
		}
		if (img->symtab_idx < 0)
			pr_err(img->path, "the added code needs %s, which the program does not contain, and the program "
			       "has no symbol table: surgeon cannot tell which parts of its C library it already has, so "
			       "it will not add a second copy; add libraries that define them",
			       nmissing ? missing : "functions");
		else
			pr_err(img->path, "the added code needs %s, which the program does not contain, and the "
			       "program was not built with glibc or musl (no C library to borrow them from); add "
			       "libraries that define them, or name one with --libc FILE",
			       nmissing ? missing : "functions");
		goto out;
	}
	if (fingerprint(img, archive, &fp))
		goto out;
	/* The same build defines every function the program took from it with
	 * the same size; the program's own functions may share a few names. */
	if (fp.same < 8 || fp.differ * 20 > fp.same + fp.differ) {
		if (!needed && !o->libc_file) {
			err = 0;
			goto out;
		}
		if (lb->libc == LIBC_GLIBC) {
			have = glibc_version_in(img->data, img->size);
			want = file_glibc_version(archive);
		}
		pr_err(img->path, "the added code needs %s, which the program does not contain, and %s is not the "
		       "C library the program was built with (%zu of its functions and variables have other sizes "
		       "there, e.g. '%s'%s%s%s%s); name the matching libc.a with --libc FILE",
		       nmissing ? missing : "functions", archive, fp.differ, fp.example ? fp.example : "?",
		       have ? "; the program's glibc is " : "", have ? have : "",
		       want ? ", the archive's " : "", want ? want : "");
		goto out;
	}
	pr_info("%s: its C library is %s (%zu functions and variables agree)", img->path, archive, fp.same);
	lb->libc_archive = archive;
	archive = NULL;
	err = 0;
out:
	fingerprint_free(&fp);
	free(archive);
	free(have);
	free(want);
	return err;
}

/* ---- the plan ---- */

/* C++ code names the std namespace, operator new or delete, or the
 * personality routine (__cxa_atexit is not a sign: C programs use it). */
static bool uses_cxx(const struct input_refs *refs)
{
	for (size_t i = 0; refs && refs->set && i < refs->nnames; i++) {
		const char *n = refs->names[i];

		if (strmap_get(refs->defined, n))
			continue;
		if (!strncmp(n, "_ZSt", 4) || !strncmp(n, "_ZNSt", 5) || !strncmp(n, "_ZNKSt", 6) ||
		    !strncmp(n, "_Znw", 4) || !strncmp(n, "_Zdl", 4) || !strncmp(n, "_Zna", 4) ||
		    !strncmp(n, "_Zda", 4) || !strcmp(n, "__gxx_personality_v0"))
			return true;
	}
	return false;
}

static int add_arg(struct libs *lb, const char *a)
{
	return push_owned(&lb->args, xstrdup(a));
}

/* An archive found in gcc's directories, by full path, remembered for the
 * duplicate check; absent ones are skipped (libgcc_eh.a is optional). */
static int add_archive(struct libs *lb, const char *dir, const char *file, bool required)
{
	char *p = dir ? xasprintf("%s/%s", dir, file) : libs_find(lb, file);

	if (p && !is_file(p)) {
		free(p);
		p = NULL;
	}
	if (!p) {
		if (!required)
			return 0;
		return pr_err(cc_driver(lb->arch), "cannot find %s in its library directories", file);
	}
	if (push_owned(&lb->archives, xstrdup(p)) || add_arg(lb, p)) {
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

/* dir (owned) searched before gcc's directories. */
static int first_dir(struct libs *lb, char *dir)
{
	if (!dir || VEC_PUSH(&lb->dirs, NULL)) {
		free(dir);
		return -1;
	}
	memmove(lb->dirs.v + 1, lb->dirs.v, (lb->dirs.n - 1) * sizeof(*lb->dirs.v));
	lb->dirs.v[0] = dir;
	return 0;
}

int libs_plan(struct libs *lb, const struct image *img, const struct relink_opts *o, const struct input_refs *refs)
{
	bool is_static = !img->interp;
	bool musl_dyn = img->interp && strstr(img->interp, "ld-musl");

	memset(lb, 0, sizeof(*lb));
	lb->active = true;
	lb->cxx = uses_cxx(refs);
	lb->arch = img->arch;
	if (gcc_dirs(lb, img->arch))
		return -1;
	if (!is_static && o->live) {
		/* inject into a dynamic program: the shared libraries are the
		 * process's own, offered as an archive of stubs (live/link.c),
		 * in one group with gcc's static helpers: libgcc.a, and glibc's
		 * libc_nonshared.a (atexit, which needs libc's __cxa_atexit). */
		char *p = musl_dyn ? NULL : libs_find(lb, "libc_nonshared.a");

		if (add_arg(lb, "--start-group") || add_archive(lb, NULL, "libgcc.a", true) ||
		    (p && (push_owned(&lb->archives, xstrdup(p)) || add_arg(lb, p))) ||
		    (o->live_stubs && add_arg(lb, o->live_stubs)) || add_arg(lb, "--end-group")) {
			free(p);
			return -1;
		}
		free(p);
		return 0;
	}
	if (!is_static) {
		/* As gcc links a dynamic executable: libgcc for its helpers,
		 * libgcc_s only when unwinding is needed, libc.so's script for
		 * libc_nonshared.a. A musl program's libc is musl's. */
		if (musl_dyn && first_dir(lb, xstrdup(img->arch->musl_libdir)))
			return -1;
		if (lb->cxx && (add_arg(lb, "--as-needed") || add_arg(lb, "-lstdc++") || add_arg(lb, "-lm") ||
				add_arg(lb, "--no-as-needed")))
			return -1;
		if (add_archive(lb, NULL, "libgcc.a", true) ||
		    add_arg(lb, "--as-needed") || add_arg(lb, "-lgcc_s") || add_arg(lb, "-lc") ||
		    add_arg(lb, "--no-as-needed") || add_arg(lb, lb->archives.v[0]))
			return -1;
		/* -lc brings it, through libc.so's script: scanned, not added. */
		if (!musl_dyn) {
			char *p = libs_find(lb, "libc_nonshared.a");

			if (p && push_owned(&lb->archives, p))
				return -1;
		}
		return 0;
	}
	/* A static program: its own C library's archive, with gcc's. musl's
	 * libm.a, libpthread.a... are empty (libc.a has it all): -lm must find
	 * them beside its libc.a, not glibc's in gcc's directories, as
	 * musl-gcc's -L does. */
	if (match_libc(lb, img, o, refs))
		return -1;
	if (lb->libc == LIBC_MUSL) {
		char *d = xstrdup(lb->libc_archive ? lb->libc_archive : img->arch->musl_libdir), *slash;

		if (d && lb->libc_archive && (slash = strrchr(d, '/')))
			*slash = 0;
		else if (d && lb->libc_archive)
			strcpy(d, ".");
		if (d && !is_dir(d)) {
			free(d);
		} else if (first_dir(lb, d))
			return -1;
	}
	lb->borrowed = strmap_new(4096);
	if (!lb->borrowed)
		return -1;
	if (add_arg(lb, "--start-group"))
		return -1;
	if (lb->cxx && lb->libc == LIBC_MUSL)
		return pr_err(img->path, "the added code is C++, and the program's C library is musl: Debian's "
			      "libstdc++.a is built for glibc");
	if (lb->cxx && (add_archive(lb, NULL, "libstdc++.a", true) || add_archive(lb, NULL, "libm.a", false)))
		return -1;
	if (add_archive(lb, NULL, "libgcc.a", true) || add_archive(lb, NULL, "libgcc_eh.a", false) ||
	    (lb->libc_archive && (push_owned(&lb->archives, xstrdup(lb->libc_archive)) ||
				  add_arg(lb, lb->libc_archive))) ||
	    add_arg(lb, "--end-group"))
		return -1;
	for (size_t i = 0; i < lb->archives.n; i++)
		if (add_index(lb->archives.v[i], lb->borrowed, &lb->owned))
			return -1;
	return 0;
}

/* For a dynamic program whose symbols were loaded for the inputs' names
 * only: the names the archives gcc adds use or define, so the frozen
 * object also offers those (libc_nonshared's atexit refers to the
 * program's __dso_handle). 1 when some member could not be read that way:
 * then every name must be offered. */
int libs_archive_names(struct input_refs *refs, const struct arch *a)
{
	static const char *const archives[] = { "libgcc.a", "libc_nonshared.a" };
	struct libs lb = { .arch = a };
	int unknown = 0, err = 0;

	if (!refs->set || gcc_dirs(&lb, a))
		err = refs->set ? -1 : 0;
	for (size_t i = 0; !err && i < sizeof(archives) / sizeof(*archives); i++) {
		char *p = libs_find(&lb, archives[i]);
		int r = p ? input_refs_add_file(refs, p) : 0;

		free(p);
		if (r < 0)
			err = -1;
		unknown |= r > 0;
	}
	libs_free(&lb);
	return err ? err : unknown;
}

/* A static program's library given a second time: a member of a borrowed
 * archive that defines a name the program already has, which the linker
 * could not see (a local whose name is not unique in the program). Its
 * copy and the program's would hold two states of one thing. */
int libs_check_duplicates(const struct libs *lb, const struct image *img, const struct linked *l,
			  const struct input_refs *refs)
{
	struct strmap *prog;
	int err = 0;

	if (!lb || !lb->active || !lb->borrowed)
		return 0;
	prog = strmap_new(img->syms.n);
	if (!prog)
		return -1;
	for (size_t i = 0; i < img->syms.n; i++) {
		const struct symbol *s = &img->syms.v[i];
		const struct symbol *had = strmap_get(prog, s->name);

		/* A strong definition says more than a weak one of the name. */
		if (s->shndx != SHN_UNDEF && (!had || had->bind == STB_WEAK) &&
		    strmap_put(prog, s->name, (void *)s)) {
			strmap_free(prog);
			return -1;
		}
	}
	for (size_t i = 1; i < l->nsyms && !err; i++) {
		const Elf64_Sym *s = &l->syms[i];
		const char *name = linked_str(l, l->sym_strndx, s->st_name);
		const struct symbol *ps;

		if (!name || !*name || s->st_shndx == SHN_UNDEF || s->st_shndx >= l->ld_shnum ||
		    !l->ld_to_new[s->st_shndx] || ELF64_ST_TYPE(s->st_info) == STT_SECTION ||
		    ELF64_ST_TYPE(s->st_info) == STT_FILE)
			continue;
		if (!strmap_get(lb->borrowed, name) || !(ps = strmap_get(prog, name)) ||
		    (refs && refs->defined && strmap_get(refs->defined, name)))
			continue;
		/* musl's exit flushes stdin, stdout and stderr through weak
		 * pointers that are null unless the program linked them; stderr
		 * is unbuffered, so a program that never did misses nothing. */
		if (ps->bind == STB_WEAK && lb->libc == LIBC_MUSL && !strcmp(name, "__stderr_used"))
			continue;
		if (ps->bind == STB_WEAK)
			err = pr_err(img->path, "the added code needs the C library's '%s' from %s, where the program has "
				     "only a weak stand-in that its own code calls (a part of its C library it did not "
				     "link): the program would not use the real one", name,
				     lb->libc_archive ? lb->libc_archive : "a C library archive");
		else
			err = pr_err(img->path, "the added code would get a second copy of '%s' from %s: the program "
				     "has its own, but its name is not unique in the program, so the linker could not "
				     "be given it", name, lb->libc_archive ? lb->libc_archive : "a C library archive");
	}
	strmap_free(prog);
	return err;
}

/* ---- who defines a name ---- */

static bool defines(const char *path, const char *sym, int depth);

/* A linker script standing for a library (libm.so, libm.a): its files. */
static bool script_defines(const char *path, const char *sym, int depth)
{
	char buf[4096], *tok, *save = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	bool yes = false;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || depth > 3)
		return false;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \t\n()", &save); tok && !yes; tok = strtok_r(NULL, " \t\n()", &save))
		yes = tok[0] == '/' && strcmp(tok, path) && defines(tok, sym, depth + 1);
	return yes;
}

static bool so_defines(const char *path, const char *sym)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
	Elf_Scn *scn = NULL;
	bool yes = false;

	while (e && elf_kind(e) == ELF_K_ELF && !yes && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 1; i < sh.sh_size / sh.sh_entsize && !yes; i++) {
			GElf_Sym s;
			const char *n;

			yes = gelf_getsym(d, i, &s) && s.st_shndx != SHN_UNDEF && (n = elf_strptr(e, sh.sh_link, s.st_name)) &&
			      !strcmp(n, sym);
		}
	}
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return yes;
}

static bool ar_defines(const char *path, const char *sym);

/* A shared library's dynamic symbols, an archive's index, or the files a
 * linker script names. */
static bool defines(const char *path, const char *sym, int depth)
{
	char magic[8] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, magic, sizeof(magic)) == sizeof(magic);

	if (fd >= 0)
		close(fd);
	if (!ok)
		return false;
	if (!memcmp(magic, "!<arch>\n", 8))
		return ar_defines(path, sym);
	if (!memcmp(magic, ELFMAG, SELFMAG))
		return so_defines(path, sym);
	return script_defines(path, sym, depth);
}

static bool ar_defines(const char *path, const char *sym)
{
	struct strmap *idx = strmap_new(256);
	struct strvec owned = { 0 };
	bool yes = idx && !add_index(path, idx, &owned) && strmap_get(idx, sym);

	for (size_t i = 0; i < owned.n; i++)
		free(owned.v[i]);
	VEC_FREE(&owned);
	strmap_free(idx);
	return yes;
}

/* A library in the usual places that defines sym, as -l would name it
 * ("m" for libm): the ones people forget first, then every other one. */
char *libs_who_defines(const struct arch *a, const char *sym, bool shared)
{
	static const char *const usual[] = { "m", "stdc++", "pthread", "dl", "rt", "atomic", "z", "crypto", "ssl",
					     "gmp", "quadmath", "gomp", "crypt", "resolv", "util" };
	const struct strvec *gcc = libs_gcc_dirs(a), *sys = libs_system_dirs(a);
	const char *ext = shared ? ".so" : ".a";
	VEC(const char *) dirs = { 0 };
	char *found = NULL;

	for (size_t i = 0; gcc && i < gcc->n; i++)
		if (VEC_PUSH(&dirs, gcc->v[i]))
			goto out;
	for (size_t i = 0; sys && i < sys->n; i++)
		if (VEC_PUSH(&dirs, sys->v[i]))
			goto out;
	for (size_t u = 0; u < sizeof(usual) / sizeof(*usual) && !found; u++)
		for (size_t i = 0; i < dirs.n && !found; i++) {
			char *p = xasprintf("%s/lib%s%s", dirs.v[i], usual[u], ext);

			if (p && is_file(p) && defines(p, sym, 0))
				found = xstrdup(usual[u]);
			free(p);
		}
	for (size_t i = 0; i < dirs.n && !found; i++) {
		DIR *dir = opendir(dirs.v[i]);
		struct dirent *de;
		VEC(char *) names = { 0 };

		while (dir && (de = readdir(dir))) {
			size_t len = strlen(de->d_name);

			if (len > 3 + strlen(ext) && !strncmp(de->d_name, "lib", 3) &&
			    !strcmp(de->d_name + len - strlen(ext), ext)) {
				char *n = xstrdup(de->d_name);

				if (!n || VEC_PUSH(&names, n))
					free(n);
			}
		}
		if (dir)
			closedir(dir);
		/* In name order, so the answer does not depend on the directory's. */
		if (names.n)
			qsort(names.v, names.n, sizeof(*names.v), cmp_str);
		for (size_t k = 0; k < names.n && !found; k++) {
			char *p = xasprintf("%s/%s", dirs.v[i], names.v[k]);

			if (p && defines(p, sym, 0))
				found = strndup(names.v[k] + 3, strlen(names.v[k]) - 3 - strlen(ext));
			free(p);
		}
		for (size_t k = 0; k < names.n; k++)
			free(names.v[k]);
		VEC_FREE(&names);
	}
out:
	VEC_FREE(&dirs);
	return found;
}

void libs_free(struct libs *lb)
{
	for (size_t i = 0; i < lb->dirs.n; i++)
		free(lb->dirs.v[i]);
	for (size_t i = 0; i < lb->args.n; i++)
		free(lb->args.v[i]);
	for (size_t i = 0; i < lb->archives.n; i++)
		free(lb->archives.v[i]);
	for (size_t i = 0; i < lb->owned.n; i++)
		free(lb->owned.v[i]);
	VEC_FREE(&lb->dirs);
	VEC_FREE(&lb->args);
	VEC_FREE(&lb->archives);
	VEC_FREE(&lb->owned);
	free(lb->libc_archive);
	strmap_free(lb->borrowed);
	memset(lb, 0, sizeof(*lb));
}

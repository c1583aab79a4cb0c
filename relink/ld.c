/* Driving the system linker. Its messages are read back and turned into one
 * line that names the symbol and the input member at fault. */
#include "relink/relink.h"
#include "relink/ldcheck.h"
#include "unexec/anchors.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* $ORIGIN in a RUNPATH entry is the program's directory, as ld.so sees it:
 * with symbolic links resolved (/usr/bin/java is a link into the JDK, whose
 * launcher finds libjli.so through $ORIGIN/../lib). */
static char *expand_origin(const char *dir, const char *prog)
{
	const char *o = strstr(dir, "$ORIGIN"), *slash;
	char *real, *r;
	int len;

	if (!o)
		o = strstr(dir, "${ORIGIN}");
	if (!o)
		return xstrdup(dir);
	real = realpath(prog, NULL);
	if (real)
		prog = real;
	slash = strrchr(prog, '/');
	len = slash ? (int)(slash - prog) : 1;
	r = xasprintf("%.*s%.*s%s", (int)(o - dir), dir, len, slash ? prog : ".", o + (o[1] == '{' ? 9 : 7));
	free(real);
	return r;
}

static bool is_archive(const char *path)
{
	char magic[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = false;

	if (fd >= 0) {
		yes = read(fd, magic, 8) == 8 && !memcmp(magic, "!<arch>\n", 8);
		close(fd);
	}
	return yes;
}

/* Text between two markers on a line, copied; NULL when absent. */
static char *between(const char *line, const char *open, const char *close)
{
	const char *a = strstr(line, open), *b;

	if (!a)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	return b ? strndup(a, b - a) : NULL;
}

/* Who a message is about: "ld: lib.a(m.o): in function `f':" names the
 * member; for data the same line carries it: "ld: lib.a(m.o):(.data+0x0): ...". */
static char *culprit(const char *line)
{
	const char *p = strstr(line, ": in function");
	const char *start;

	if (!p && !strncmp(line, "ld: ", 4) && strstr(line, ":(") && strstr(line, "multiple definition"))
		p = strstr(line, ":(");
	if (!p)
		return NULL;
	start = strncmp(line, "ld: ", 4) ? line : line + 4;
	if (strstr(start, ": ") && strstr(start, ": ") < p)
		start = strstr(start, ": ") + 2;
	return strndup(start, p - start);
}

/* `obj` is the frozen object: a definition in it is the program's. ld names
 * it "obj:(.old.text+0x16)", or "obj:app.c:6" when the old debug info
 * gives a source line. */
static bool old_tls(const struct image *img, const char *name)
{
	for (size_t i = 0; img && i < img->syms.n; i++)
		if (img->syms.v[i].type == STT_TLS && !strcmp(img->syms.v[i].name, name))
			return true;
	return false;
}

static int explain(const char *ldname, char *msgs, const char *hint, const char *obj, const struct image *img,
		   bool live)
{
	char *who = NULL, *line, *save = NULL, *sym, *lib;
	char *first = NULL, *any = NULL;
	char *first_textrel = NULL;
	int err = -1;

	for (line = strtok_r(msgs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c;

		/* glibc's warnings about dlopen and getpwnam in static links. */
		if (strstr(line, "warning: "))
			continue;
		c = culprit(line);

		if (c) {
			free(who);
			who = c;
			if (!strstr(line, "multiple definition"))
				continue;
		}
		if ((sym = between(line, "undefined reference to `", "'"))) {
			if (old_tls(img, sym)) {
				pr_err(who ? who : ldname, "uses '%s', a thread-local variable the program has more than "
				       "once under that name: name the one meant as \"FILE:%s\"", sym, sym);
				free(sym);
				goto out;
			}
			lib = img ? libs_who_defines(img->arch, sym, img->interp) : NULL;
			if (lib)
				pr_err(who ? who : ldname, "undefined symbol '%s': neither the program nor the added "
				       "inputs define it; it is in lib%s: add -l%s", sym, lib, lib);
			else
				pr_err(who ? who : ldname, "undefined symbol '%s': neither the program nor the added "
				       "inputs define it%s%s", sym, hint ? "; " : "", hint ? hint : "");
			free(lib);
			free(sym);
			goto out;
		}
		if ((sym = between(line, "multiple definition of `", "'"))) {
			char *first_def = between(line, "; ", ": first defined here");

			if (first_def && (strstr(first_def, ".old") || (!strncmp(first_def, obj, strlen(obj)) &&
						  first_def[strlen(obj)] == ':')))
				pr_err(who ? who : ldname, "defines '%s', which the program already defines "
				       "(rename it, or use --replace when that exists)", sym);
			else
				pr_err(who ? who : ldname, "defines '%s' again (first defined in %s)", sym,
				       first_def ? first_def : "another input");
			free(first_def);
			free(sym);
			goto out;
		}
		/* inject: a library variable is out of 32-bit reach of code
		 * that reaches it directly (gcc's default -fPIE assumes the
		 * executable has a copy of it). */
		if ((sym = between(line, "relocation truncated to fit: ", "'"))) {
			char *name = strchr(sym, '`') ? xstrdup(strchr(sym, '`') + 1) : NULL;

			if (live)
				pr_err(who ? who : ldname, "cannot reach '%s' with a 32-bit relocation: it is a shared "
				       "library's, far from the program: build the added code with -fPIC",
				       name ? name : sym);
			else
				pr_err(who ? who : ldname, "%s", line);
			free(name);
			free(sym);
			goto out;
		}
		if (strstr(line, "read-only segment has dynamic relocations") ||
		    strstr(line, "relocation in read-only section")) {
			if (!first_textrel)
				first_textrel = xstrdup(who ? who : ldname);
		}
		if (!first && (strstr(line, "error") || strstr(line, "cannot") || strstr(line, "No such") ||
			       strstr(line, "recompile with") || strstr(line, "incompatible")))
			first = line;
		if (!any)
			any = line;
	}
	if (first_textrel) {
		pr_err(first_textrel, "the added code needs text relocations, which a position-independent "
		       "program cannot carry: rebuild it with -fPIC");
		goto out;
	}
	if (!first)
		first = any ? any : "failed with no message";
	if (!strncmp(first, "ld: ", 4))
		first += 4;
	pr_err(ldname, "%s", first);
out:
	free(who);
	free(first_textrel);
	return err;
}

/* gold's aarch64 back end turns the last code section of each stub group
 * (every .old.* code section: each is its own output section) into a stub
 * table's owner and copies its bytes from the object file, NOBITS or not
 * (gold/aarch64.cc, AArch64_input_section::init). The frozen object holds
 * none of the program's bytes: when such a section reaches past the
 * object's end, gold stops with "attempt to map ... exceeds size of file";
 * when it does not, gold reads unrelated bytes, which are never used (the
 * old bytes come from the program). Refused before the link, with why. */
static int gold_reads_code(const struct image *img, const char *obj)
{
	GElf_Shdr sh;
	Elf_Scn *scn = NULL;
	struct stat st;
	Elf *e;
	int fd, err = 0;

	if (!img->arch->gold_reads_nobits_code)
		return 0;
	fd = open(obj, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = pr_err(obj, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!(e = elf_begin(fd, ELF_C_READ, NULL))) {
		close(fd);
		return pr_elf(obj, "cannot read the frozen object");
	}
	while (!err && (scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_NOBITS && (sh.sh_flags & SHF_EXECINSTR) &&
		    sh.sh_size && sh.sh_offset + sh.sh_size > (uint64_t)st.st_size)
			err = pr_err(img->path, "gold cannot link this aarch64 program: it reads the program's code "
				     "at 0x%llx (%llu bytes) from the frozen object, which holds none of it, and fails "
				     "(a gold bug); use --ld bfd or --ld lld", (unsigned long long)sh.sh_addr,
				     (unsigned long long)sh.sh_size);
	elf_end(e);
	close(fd);
	return err;
}

int ld_run(const struct relink_opts *o, const struct image *img, const char *obj, const char *hook,
	   const char *script, const char *out)
{
	/* "lld", "gold", "bfd" name the usual linkers (the cross ones for
	 * another machine's program); anything else is a path or program. */
	const char *ld = libs_linker(img->arch, o->ld);
	bool gold = ld && strstr(ld, "gold") != NULL;
	VEC(const char *) argv = { 0 };
	VEC(char *) owned = { 0 };
	const struct strvec *sys;
	posix_spawn_file_actions_t fa;
	char *msgs = NULL, *errpath;
	int status = 0, fd = -1, err = -1;
	size_t i;
	pid_t pid;
	FILE *f;

	if (!ld || (gold && gold_reads_code(img, obj)))
		return -1;
	errpath = xasprintf("%s/ld.stderr", tmp_dir());
	if (!errpath)
		return -1;
#define ARG(x) do { if (VEC_PUSH(&argv, (const char *)(x))) goto out; } while (0)
	ARG(ld);
	ARG("-o"); ARG(out);
	ARG("-T"); ARG(script);
	/* The output kind follows the program's: the new code is linked the
	 * way the program was, position-independent in a PIE. */
	/* inject: nothing may be left to a dynamic loader (live/link.c). */
	if (!img->dyn.present || o->live) {
		ARG("-static");
	} else if (img->pie && !img->interp) {
		ARG("-static");
		ARG("-pie");
		if (!gold)
			ARG("--no-dynamic-linker");
		ARG("-z"); ARG("text");
	} else {
		/* Text relocations would need DT_TEXTREL: refuse them instead. */
		if (img->pie) {
			ARG("-pie");
			ARG("-z"); ARG("text");
		}
		/* gold has no --no-dynamic-linker; the .interp it makes is dropped. */
		if (!gold)
			ARG("--no-dynamic-linker");
		ARG("--allow-shlib-undefined");
	}
	ARG("-nostdlib");
	ARG("-z"); ARG("noexecstack");
	/* relink writes its own segments: the linker's RELRO layout rules
	 * (lld insists its .dynamic sit with the other RELRO sections) do not apply. */
	ARG("-z"); ARG("norelro");
	ARG("--build-id=none");
	/* The script aligns new groups to MAXPAGESIZE: the program's own page
	 * where the arch has several (aarch64: 4 or 64 KiB). */
	if (img->arch->max_page_size != img->arch->page_size) {
		char *a = xasprintf("max-page-size=0x%llx", (unsigned long long)img->page_size);

		if (!a || VEC_PUSH(&owned, a)) {
			free(a);
			goto out;
		}
		ARG("-z"); ARG(a);
	}
	ARG("-e"); ARG(ANCHOR_ENTRY);
	for (i = 0; i < o->ld_extra.n; i++)
		ARG(o->ld_extra.v[i]);
	for (i = 0; i < o->undefs.n; i++) {
		ARG("-u");
		ARG(o->undefs.v[i]);
	}
	ARG(obj);
	if (hook)
		ARG(hook);
	for (i = 0; i < o->inputs.n; i++) {
		const struct input *in = &o->inputs.v[i];
		char *a;

		switch (in->kind) {
		case IN_LIBDIR:
			ARG("-L");
			ARG(in->arg);
			break;
		case IN_LIB:
			a = xasprintf("-l%s", in->arg);
			if (!a || VEC_PUSH(&owned, a)) {
				free(a);
				goto out;
			}
			ARG(a);
			break;
		case IN_FILE:
			/* The user named this library: add every member of it. */
			if (!o->only && is_archive(in->arg)) {
				ARG("--whole-archive");
				ARG(in->arg);
				ARG("--no-whole-archive");
			} else {
				ARG(in->arg);
			}
			break;
		}
	}
	/* The program's own libraries: new code may use what they define
	 * (unless every name it uses is known elsewhere: then reading
	 * libstdc++'s symbol table is most of ld's time, for nothing). */
	if (img->dyn.present && img->interp && !o->names_all_known && !o->live) {
		const struct dyninfo *d = &img->dyn;

		ARG("--as-needed");
		for (i = 0; i + 1 < d->ndyn; i++) {
			char *a;

			if (d->dyn[i].d_tag != DT_NEEDED || d->dyn[i].d_un.d_val >= d->strsz)
				continue;
			a = xasprintf("-l:%s", d->str + d->dyn[i].d_un.d_val);
			if (!a || VEC_PUSH(&owned, a)) {
				free(a);
				goto out;
			}
			ARG(a);
		}
		ARG("--no-as-needed");
		/* ld.so finds them through the program's RUNPATH/RPATH: so does ld. */
		for (i = 0; i + 1 < d->ndyn; i++) {
			const char *p, *dir;
			char *list, *save = NULL;

			if ((d->dyn[i].d_tag != DT_RUNPATH && d->dyn[i].d_tag != DT_RPATH) ||
			    d->dyn[i].d_un.d_val >= d->strsz)
				continue;
			p = d->str + d->dyn[i].d_un.d_val;
			list = xstrdup(p);
			if (!list || VEC_PUSH(&owned, list)) {
				free(list);
				goto out;
			}
			for (dir = strtok_r(list, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
				char *e = expand_origin(dir, img->frozen_from ? img->frozen_from : img->path);

				if (!e || VEC_PUSH(&owned, e)) {
					free(e);
					goto out;
				}
				ARG("-L");
				ARG(e);
			}
		}
	}
	/* What gcc's driver would add, searched first where gcc searches:
	 * libgcc, libc_nonshared, a static program's own libc.a. */
	if (o->libs && o->libs->active) {
		for (i = 0; i < o->libs->dirs.n; i++) {
			ARG("-L");
			ARG(o->libs->dirs.v[i]);
		}
		for (i = 0; i < o->libs->args.n; i++)
			ARG(o->libs->args.v[i]);
	}
	/* musl-gcc searches musl's directory and gcc's, not the system's. */
	sys = libs_system_dirs(img->arch);
	for (i = 0; (!o->libs || o->libs->libc != LIBC_MUSL) && sys && i < sys->n; i++) {
		ARG("-L");
		ARG(sys->v[i]);
	}
	ARG(NULL);
#undef ARG
	if (verbose) {
		fputs("surgeon: running", stderr);
		for (i = 0; argv.v[i]; i++)
			fprintf(stderr, " %s", argv.v[i]);
		fputc('\n', stderr);
	}
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pr_err(errpath, "%s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	err = posix_spawnp(&pid, ld, &fa, NULL, (char *const *)argv.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (err) {
		err = pr_err(ld, "cannot run the linker: %s", strerror(err));
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	f = fopen(errpath, "r");
	if (f) {
		size_t cap = 0;
		ssize_t n = getdelim(&msgs, &cap, '\0', f);

		if (n < 0) {
			free(msgs);
			msgs = NULL;
		}
		fclose(f);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (verbose && msgs && *msgs)
			fprintf(stderr, "%s", msgs);
		err = access(out, F_OK) ? ld_check_failure(ld, "", true) : 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && (!msgs || !*msgs)) {
		err = pr_err(ld, "cannot run the linker");
	} else {
		/* Not a linker, mold, or too old: said so; otherwise its message, explained. */
		err = ld_check_failure(ld, msgs ? msgs : "", false) ?:
		      explain(ld, msgs ? msgs : (char[]){ "" }, o->undef_hint, obj, img, o->live);
	}
out:
	free(msgs);
	free(errpath);
	for (i = 0; i < owned.n; i++)
		free(owned.v[i]);
	VEC_FREE(&owned);
	VEC_FREE(&argv);
	return err;
}

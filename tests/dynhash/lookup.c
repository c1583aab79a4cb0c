/* LD_PRELOAD'ed into a program by t-dynamic-hash: its constructor asks the
 * glibc loader to look up names in the running program, then exits before
 * the program's own constructors and main run.
 *
 * $DYNHASH_IN: one query a line, "KIND<TAB>NAME<TAB>VERSION" (VERSION "-"
 * when none; KIND is passed through). $DYNHASH_OUT receives
 *   #base ADDR              the main program's load bias (l_addr)
 *   #tls ADDR               its TLS block in this thread (0: none)
 *   KIND NAME VERSION D S V one line a query: D = dlsym(RTLD_DEFAULT, NAME),
 *                           S = dlsym(dlopen(NULL), NAME), V = dlvsym(
 *                           RTLD_DEFAULT, NAME, VERSION) or "-"; 0 = NULL.
 *                           For KIND "=", VERSION names a function of the
 *                           program returning NAME's address as its own code
 *                           sees it, and V is what it returns.
 *   #done N                 the number of queries answered
 * The comparison with the symbol table is the test script's, not this. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "dynhash lookup: %s\n", what);
	_exit(97);
}

__attribute__((constructor)) static void dynhash_lookup(void)
{
	const char *in = getenv("DYNHASH_IN"), *outp = getenv("DYNHASH_OUT");
	struct link_map *lm = NULL;
	void *self, *tls = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long n = 0;
	FILE *f, *out;

	if (!in || !outp)
		return;	/* not asked: the program runs as it would */
	unsetenv("LD_PRELOAD");
	if (!(f = fopen(in, "r")) || !(out = fopen(outp, "w")))
		die("cannot open $DYNHASH_IN or $DYNHASH_OUT");
	self = dlopen(NULL, RTLD_NOW);
	if (!self || dlinfo(self, RTLD_DI_LINKMAP, &lm) || !lm)
		die("no handle for the main program");
	/* Fails (and leaves tls NULL) when the program has no PT_TLS. */
	if (dlinfo(self, RTLD_DI_TLS_DATA, &tls))
		tls = NULL;
	fprintf(out, "#base %#lx\n#tls %#lx\n", (unsigned long)lm->l_addr, (unsigned long)tls);
	while ((len = getline(&line, &cap, f)) > 0) {
		char *kind = line, *name, *ver, *e;
		void *d, *s, *v = NULL;

		if (line[len - 1] == '\n')
			line[len - 1] = 0;
		if (!(name = strchr(kind, '\t')) || !(ver = strchr(name + 1, '\t')))
			die("malformed query line");
		*name++ = 0;
		*ver++ = 0;
		if ((e = strchr(ver, '\t')))
			*e = 0;
		d = dlsym(RTLD_DEFAULT, name);
		s = dlsym(self, name);
		if (!strcmp(kind, "=")) {
			void *(*fn)(void) = (void *(*)(void))dlsym(RTLD_DEFAULT, ver);

			v = fn ? fn() : NULL;
		} else if (strcmp(ver, "-")) {
			v = dlvsym(RTLD_DEFAULT, name, ver);
		}
		fprintf(out, "%s\t%s\t%s\t%#lx\t%#lx\t", kind, name, ver, (unsigned long)d, (unsigned long)s);
		if (strcmp(ver, "-"))
			fprintf(out, "%#lx\n", (unsigned long)v);
		else
			fputs("-\n", out);
		n++;
	}
	fprintf(out, "#done %lu\n", n);
	if (fclose(out))
		die("cannot write $DYNHASH_OUT");
	_exit(0);
}

/* Naming the linker when it cannot do what surgeon needs. Asked only after
 * a link failed, so a working link costs no extra process (`ld.lld
 * --version` alone takes tens of milliseconds). */
#include "relink/ldcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

extern char **environ;

/* The linkers surgeon's tests run (Debian 12's). */
#define LD_TESTED "GNU ld 2.40, gold 1.16 and LLD 14"

/* Copies the whitespace-separated word at p into out. */
static void word(const char *p, char *out, size_t len)
{
	size_t n = 0;

	while (*p == ' ')
		p++;
	while (p[n] && p[n] != ' ' && p[n] != '\n' && p[n] != ')' && n + 1 < len)
		n++;
	memcpy(out, p, n);
	out[n] = 0;
}

static void last_word(const char *line, char *out, size_t len)
{
	const char *sp = strrchr(line, ' ');

	word(sp ? sp + 1 : line, out, len);
}

void ld_identify(const char *prog, struct ld_id *id)
{
	char *const argv[] = { (char *)prog, (char *)"--version", NULL };
	posix_spawn_file_actions_t fa;
	char buf[sizeof(id->line)], drop[256];
	size_t n = 0;
	ssize_t r;
	int pfd[2], status;
	const char *p = NULL;
	pid_t pid;

	memset(id, 0, sizeof(*id));
	if (pipe2(pfd, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, prog, &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	/* The first line; the rest is read and dropped so the program can exit. */
	for (;;) {
		char *dst = n + 1 < sizeof(buf) ? buf + n : drop;
		size_t cap = n + 1 < sizeof(buf) ? sizeof(buf) - 1 - n : sizeof(drop);

		r = read(pfd[0], dst, cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != drop)
			n += r;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	for (size_t i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < ' ')
			buf[i] = ' ';
	snprintf(id->line, sizeof(id->line), "%s", buf);
	/* mold says it is "compatible with GNU ld": it is asked first. */
	if (!strncmp(buf, "mold ", 5) || strstr(buf, " mold ")) {
		id->kind = LD_MOLD;
		p = strncmp(buf, "mold ", 5) ? strstr(buf, " mold ") + 1 : buf;
		word(p + 5, id->version, sizeof(id->version));
	} else if ((p = strstr(buf, "LLD "))) {
		id->kind = LD_LLD;
		word(p + 4, id->version, sizeof(id->version));
	} else if (strstr(buf, "GNU gold")) {
		id->kind = LD_GOLD;
		last_word(buf, id->version, sizeof(id->version));
	} else if (strstr(buf, "GNU ld")) {
		id->kind = LD_BFD;
		last_word(buf, id->version, sizeof(id->version));
	}
}

static const char *const kind_names[] = { "", "GNU ld", "gold", "LLD", "mold" };

/* A line of the linker's messages saying it did not understand an option
 * or the script: the mark of a linker older than what surgeon asks of it. */
static char *not_understood(const char *msgs)
{
	static const char *const marks[] = {
		"unrecognized option", "unrecognised option", "unknown option", "unknown argument",
		"unknown command line option", "invalid option", "syntax error", "unknown directive",
		"unknown linker script token", "parse error",
	};

	for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++) {
		const char *m = strstr(msgs, marks[i]), *start, *end;

		if (!m)
			continue;
		for (start = m; start > msgs && start[-1] != '\n'; start--)
			;
		/* Past "ld: " and a caret line's indent. */
		start += strspn(start, " ^");
		if (!strncmp(start, "ld: ", 4))
			start += 4;
		end = m + strcspn(m, "\n");
		return strndup(start, end - start);
	}
	return NULL;
}

int ld_check_failure(const char *prog, const char *msgs, bool wrote_nothing)
{
	struct ld_id id;
	char *why;
	int err;

	ld_identify(prog, &id);
	if (id.kind == LD_UNKNOWN)
		return pr_err(prog, "not a linker surgeon knows%s (%s%s%s); --ld takes bfd, gold, lld or the path of one of them",
			      wrote_nothing ? ": it exited with status 0 and wrote no output" : "",
			      id.line[0] ? "its --version says '" : "it prints no version", id.line, id.line[0] ? "'" : "");
	if (wrote_nothing)
		return pr_err(prog, "%s %s exited with status 0 but wrote no output", kind_names[id.kind], id.version);
	if (id.kind == LD_MOLD && strstr(msgs, "linker script"))
		return pr_err(prog, "mold %s cannot link for surgeon: it has no linker-script SECTIONS command, which "
			      "keeps the program's sections at their addresses; use --ld bfd, gold or lld", id.version);
	why = not_understood(msgs);
	if (!why)
		return 0;
	err = pr_err(prog, "%s %s does not understand what surgeon asks of it ('%s'): it is too old or not "
		     "compatible; surgeon is tested with " LD_TESTED, kind_names[id.kind], id.version, why);
	free(why);
	return err;
}

/* libsurgeon: surgeon_dump_self(), Emacs' unexec() for any program.
 * The caller forks; the child is the snapshot (it waits on a pipe while
 * its memory is read through /proc/CHILD/mem, so the parent may allocate
 * freely), and the parent writes the dumped executable directly: a dump
 * adds no code, so it needs no linker. */
#include "surgeon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unexec/undump.h"

#define API __attribute__((visibility("default")))

API int surgeon_dump_self(const char *path)
{
	bytevec out = { 0 };
	char *exe = NULL;
	int fds[2], err = -1, e = EIO, st;
	pid_t pid;

	if (!path || !*path) {
		errno = EINVAL;
		return -1;
	}
	/* Buffered output would be written again by the dumped program. */
	fflush(NULL);
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(fds[0]);
		close(fds[1]);
		errno = e;
		return -1;
	}
	if (!pid) {
		char c;

		close(fds[1]);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	if (!undump_pid(pid, UNDUMP_ANON, false, &exe, &out)) {
		err = write_file(path, out.v, out.n, 0755);
		if (err)
			e = errno ? errno : EIO;
	} else {
		e = ENOEXEC;
	}
	close(fds[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	VEC_FREE(&out);
	free(exe);
	if (err)
		errno = e;
	return err;
}

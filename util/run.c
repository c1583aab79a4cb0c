/* Running another program and reading what it prints: the compiler driver
 * asked where its libraries are. */
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int run_output(const char *const argv[], char **out)
{
	posix_spawn_file_actions_t fa;
	bytevec buf = { 0 };
	int pipefd[2], status = 0, err;
	pid_t pid;

	*out = NULL;
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		errno = err;
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (buf.n + 4096 + 1 > buf.cap && vec_grow((void **)&buf.v, &buf.cap, 1)) {
			err = ENOMEM;
			break;
		}
		n = read(pipefd[0], buf.v + buf.n, buf.cap - buf.n - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf.n += n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (err || !buf.v) {
		VEC_FREE(&buf);
		errno = err ? err : EIO;
		return -1;
	}
	buf.v[buf.n] = 0;
	*out = (char *)buf.v;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

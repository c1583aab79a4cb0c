#include "relink/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

/* 0, an errno value, or -1 when libcrypto fails. Prints nothing: it also
 * runs on the background thread. */
static int digest(const char *path, unsigned char out[SHA256_LEN], uint64_t *size)
{
	enum { BUF = 1 << 18 };
	unsigned char *buf = malloc(BUF);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int fd = -1, err = -1;
	ssize_t n;

	*size = 0;
	if (!buf || !ctx) {
		err = ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = read(fd, buf, BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, buf, n))
			goto out;
		*size += n;
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) && len == SHA256_LEN)
		err = 0;
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return err;
}

static int report(const char *path, int err)
{
	if (err > 0)
		return pr_err(path, "%s", strerror(err));
	if (err < 0)
		return pr_err(path, "libcrypto cannot compute SHA-256");
	return 0;
}

int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size)
{
	return report(path, digest(path, out, size));
}

struct sha256_bg {
	pthread_t thread;
	bool running;
	char *path;
	unsigned char md[SHA256_LEN];
	uint64_t size;
	int err;
};

static void *bg_main(void *arg)
{
	struct sha256_bg *bg = arg;

	bg->err = digest(bg->path, bg->md, &bg->size);
	return NULL;
}

struct sha256_bg *sha256_start(const char *path)
{
	struct sha256_bg *bg = zalloc(sizeof(*bg));
	sigset_t all, old;

	if (!bg)
		return NULL;
	bg->path = xstrdup(path);
	if (!bg->path) {
		free(bg);
		return NULL;
	}
	/* Signals (the DWARF watchdog's alarm, a user's ^C) stay with the
	 * main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	bg->running = !pthread_create(&bg->thread, NULL, bg_main, bg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!bg->running)
		bg->err = digest(path, bg->md, &bg->size);
	return bg;
}

static void join(struct sha256_bg *bg)
{
	if (bg->running)
		pthread_join(bg->thread, NULL);
	bg->running = false;
}

int sha256_finish(struct sha256_bg *bg, unsigned char out[SHA256_LEN], uint64_t *size)
{
	join(bg);
	if (report(bg->path, bg->err))
		return -1;
	memcpy(out, bg->md, SHA256_LEN);
	*size = bg->size;
	return 0;
}

void sha256_free(struct sha256_bg *bg)
{
	if (!bg)
		return;
	join(bg);
	free(bg->path);
	free(bg);
}

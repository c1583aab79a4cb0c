#include "relink/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
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
	struct bgjob job;
	char *path;
	unsigned char md[SHA256_LEN];
	uint64_t size;
};

static int bg_digest(void *arg)
{
	struct sha256_bg *bg = arg;

	return digest(bg->path, bg->md, &bg->size);
}

struct sha256_bg *sha256_start(const char *path)
{
	struct sha256_bg *bg = zalloc(sizeof(*bg));

	if (!bg)
		return NULL;
	bg->path = xstrdup(path);
	if (!bg->path) {
		free(bg);
		return NULL;
	}
	bg_start(&bg->job, bg_digest, bg);
	return bg;
}

int sha256_finish(struct sha256_bg *bg, unsigned char out[SHA256_LEN], uint64_t *size)
{
	if (report(bg->path, bg_wait(&bg->job)))
		return -1;
	memcpy(out, bg->md, SHA256_LEN);
	*size = bg->size;
	return 0;
}

void sha256_free(struct sha256_bg *bg)
{
	if (!bg)
		return;
	bg_wait(&bg->job);
	free(bg->path);
	free(bg);
}

#include "relink/sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size)
{
	static unsigned char buf[1 << 18];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int fd, err = -1;
	ssize_t n;

	*size = 0;
	if (!ctx)
		return pr_err(path, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err(path, "%s", strerror(errno));
		goto out;
	}
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		pr_err(path, "libcrypto cannot compute SHA-256");
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err(path, "%s", strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, n);
		*size += n;
	}
	if (EVP_DigestFinal_ex(ctx, out, &len) && len == SHA256_LEN)
		err = 0;
	else
		pr_err(path, "libcrypto cannot compute SHA-256");
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return err;
}

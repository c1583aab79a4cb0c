/* SHA-256 (FIPS 180-4), for the digests of a surgery's inputs. */
#ifndef SURGEON_SHA256_H
#define SURGEON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed so far */
	unsigned char buf[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);
/* Digest and size of a whole file; -1 after printing an error. */
int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size);

#endif

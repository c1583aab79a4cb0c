/* SHA-256 of a surgery's inputs, through libcrypto (which uses the CPU's
 * SHA extensions: a 100 MB program hashes in about 0.1 s). */
#ifndef SURGEON_SHA256_H
#define SURGEON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* Digest and size of a whole file; -1 after printing an error. */
int sha256_file(const char *path, unsigned char out[SHA256_LEN], uint64_t *size);

/* The same on a thread of its own, so that hashing a 100 MB program costs
 * no time beside reading it and linking: started early, finished when the
 * note is written. sha256_start() returns NULL only when out of memory. */
struct sha256_bg;
struct sha256_bg *sha256_start(const char *path);
int sha256_finish(struct sha256_bg *bg, unsigned char out[SHA256_LEN], uint64_t *size);
void sha256_free(struct sha256_bg *bg);	/* waits for the thread */

#endif

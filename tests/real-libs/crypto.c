#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/bn.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *text = "surgeon";
	BIGNUM *b = BN_new();
	char *dec;

	EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
	printf("crypto: sha256(surgeon) = ");
	for (unsigned i = 0; i < n; i++)
		printf("%02x", md[i]);
	printf("\n");
	BN_set_word(b, 3);
	BN_exp(b, b, b, BN_CTX_new());	/* 27 */
	dec = BN_bn2dec(b);
	printf("crypto: 3^3 = %s; %s\n", dec, OpenSSL_version(OPENSSL_VERSION_STRING));
	OPENSSL_free(dec);
	BN_free(b);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

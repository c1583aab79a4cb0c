#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdio.h>
#include <string.h>
#include <pcre2.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR) "(\\w+)@(\\w+)\\.org", PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	pcre2_match_data *m = pcre2_match_data_create_from_pattern(re, NULL);
	const char *s = "mail surgeon@debian.org now";
	int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, m, NULL);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m);

	for (int i = 0; i < rc; i++)
		printf("pcre2: group %d: %.*s\n", i, (int)(ov[2 * i + 1] - ov[2 * i]), s + ov[2 * i]);
	pcre2_match_data_free(m);
	pcre2_code_free(re);
}
__attribute__((constructor)) static void init(void) { plugin_hook = run; }

#include "cli/json.h"

/* Copies one UTF-8 sequence, or prints U+FFFD for a byte that starts none;
 * returns how many bytes it consumed. */
static int utf8(FILE *f, const unsigned char *s)
{
	int n = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3 :
		s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			n = 0;
	if (!n) {
		fputs("\\ufffd", f);
		return 1;
	}
	fwrite(s, 1, n, f);
	return n;
}

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc(c, f);
		else
			s += utf8(f, (const unsigned char *)s) - 1;
	}
	fputc('"', f);
}

/* pr_elf, apart from util.c because libsurgeon links util.c without libelf. */
#include "util/util.h"

#include <libelf.h>
#include <stdarg.h>

int pr_elf(const char *file, const char *fmt, ...)
{
	const char *why = elf_errmsg(-1);
	va_list ap;

	err_count++;
	va_start(ap, fmt);
	pr_vmsg(file, NULL, why ? why : "unknown libelf error", fmt, ap);
	va_end(ap);
	return -1;
}

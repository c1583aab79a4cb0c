/* Which arch a machine number names, which one surgeon runs on, and the
 * names of an arch's cross tools. */
#include "arch/arch.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

extern const struct arch arch_x86_64, arch_aarch64;

const struct arch *arch_for(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64: return &arch_x86_64;
	case EM_AARCH64: return &arch_aarch64;
	default: return NULL;
	}
}

const struct arch *arch_native(void)
{
#if defined(__aarch64__)
	return &arch_aarch64;
#else
	return &arch_x86_64;
#endif
}

const char *arch_tool(const struct arch *a, const char *name, char *buf, size_t len)
{
	if (!a || a == arch_native())
		return name;
	snprintf(buf, len, "%s-%s", a->triplet, name);
	return buf;
}

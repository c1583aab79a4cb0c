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

static uint16_t elf_machine(const unsigned char *d)
{
	return d[EI_DATA] == ELFDATA2MSB ? (uint16_t)(d[18] << 8 | d[19]) : (uint16_t)(d[19] << 8 | d[18]);
}

const char *arch_elf_kind(const unsigned char *d, char *buf, size_t len)
{
	uint16_t m = elf_machine(d);
	const struct arch *a = arch_for(m);
	bool be = d[EI_DATA] == ELFDATA2MSB, c64 = d[EI_CLASS] == ELFCLASS64;

	if (a && c64)
		snprintf(buf, len, "%s %s", be ? "a big-endian" : a->name[0] == 'a' ? "an" : "a", a->name);
	else if (m == EM_AARCH64)
		snprintf(buf, len, "%s aarch64 ILP32", be ? "a big-endian" : "an");
	else if (m == EM_386)
		snprintf(buf, len, "a 32-bit x86");
	else
		snprintf(buf, len, "a %s%s ELF (machine %u)", c64 ? "64-bit" : "32-bit", be ? " big-endian" : "", m);
	return buf;
}

bool arch_elf_known(const unsigned char *d)
{
	return d[EI_CLASS] == ELFCLASS64 && d[EI_DATA] == ELFDATA2LSB && arch_for(elf_machine(d));
}

const char *arch_tool(const struct arch *a, const char *name, char *buf, size_t len)
{
	if (!a || a == arch_native())
		return name;
	snprintf(buf, len, "%s-%s", a->triplet, name);
	return buf;
}

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
		snprintf(buf, len, "%s %s", be ? "a big-endian" : a->article, a->name);
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

bool arch_gnu_property(const unsigned char *p, size_t n, uint32_t type, uint32_t *bits, size_t *off)
{
	size_t at = 0;

	while (at + 12 <= n) {
		uint32_t namesz, descsz, ntype;
		size_t desc, end;

		memcpy(&namesz, p + at, 4);
		memcpy(&descsz, p + at + 4, 4);
		memcpy(&ntype, p + at + 8, 4);
		desc = at + ((12 + (size_t)namesz + 7) & ~(size_t)7);	/* the name padded to 8 */
		end = desc + ((descsz + 7) & ~7u);
		if (namesz > n || descsz > n || desc > n || end > n)
			return false;
		if (ntype == NT_GNU_PROPERTY_TYPE_0 && namesz == 4 && !memcmp(p + at + 12, "GNU", 4)) {
			for (size_t q = desc; q + 8 <= desc + descsz;) {
				uint32_t pt, sz;

				memcpy(&pt, p + q, 4);
				memcpy(&sz, p + q + 4, 4);
				if (sz > descsz || q + 8 + sz > desc + descsz)
					break;
				if (pt == type && sz == 4) {
					memcpy(bits, p + q + 8, 4);
					*off = q + 8;
					return true;
				}
				q += 8 + ((sz + 7) & ~7u);
			}
		}
		at = end;
	}
	return false;
}

const char *arch_tool(const struct arch *a, const char *name, char *buf, size_t len)
{
	if (!a || a == arch_native())
		return name;
	snprintf(buf, len, "%s-%s", a->triplet, name);
	return buf;
}

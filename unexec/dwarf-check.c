/* What libdwarf must not be given: the sections Debian's libdwarf mishandles
 * are checked before it sees a file, and where no check helps, the
 * caller's watchdog bounds the time it may take. */
#include "unexec/dwarf-int.h"

#include <dwarf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*watchdog)(unsigned seconds, const char *file, bool required);

void dwarf_set_watchdog(void (*arm)(unsigned seconds, const char *file, bool required))
{
	watchdog = arm;
}

/* The section, or its split DWARF twin (".debug_abbrev.dwo"). */
static bool is_section(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (!name[n] || !strcmp(name + n, ".dwo"));
}

/* Debian's libdwarf (20210528) frees twice when a .debug_rnglists or
 * .debug_loclists unit header is inconsistent (found by fuzzing), so those
 * headers are checked here, against their section, before libdwarf sees
 * the file. A DWARF 5 list unit: length (4, or 12 for 64-bit), version 5,
 * address size 8, segment selector size 0, then offset_entry_count 4- or
 * 8-byte offsets. */
static bool list_headers_sound(Elf *elf, char **why)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return true;	/* libdwarf will say what is wrong */
	while ((scn = elf_nextscn(elf, scn))) {
		const unsigned char *d;
		Elf_Data *data;
		GElf_Shdr sh;
		const char *name;
		uint64_t off = 0;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)))
			continue;
		if (!is_section(name, ".debug_rnglists") && !is_section(name, ".debug_loclists"))
			continue;
		if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			continue;	/* nothing to read, or libdwarf decompresses and checks */
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf || data->d_size != sh.sh_size)
			continue;
		d = data->d_buf;
		while (off < data->d_size) {
			uint64_t len, hdr, left = data->d_size - off, osize = 4;
			uint32_t l32, count;

			if (left < 4)
				goto bad;
			memcpy(&l32, d + off, 4);
			len = l32, hdr = 4;
			if (l32 == 0xffffffff) {
				if (left < 12)
					goto bad;
				memcpy(&len, d + off + 4, 8);
				hdr = 12, osize = 8;
			}
			if (len > left - hdr || len < 8)
				goto bad;
			if (d[off + hdr] != 5 || d[off + hdr + 1] != 0 || d[off + hdr + 2] != 8 || d[off + hdr + 3] != 0)
				goto bad;
			memcpy(&count, d + off + hdr + 4, 4);
			if ((uint64_t)count * osize > len - 8)
				goto bad;
			off += hdr + len;
		}
		continue;
bad:
		*why = xasprintf("section %s: unit at 0x%llx is inconsistent", name, (unsigned long long)off);
		return false;
	}
	return true;
}

bool dw_uleb(const unsigned char *d, uint64_t size, uint64_t *off, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*off < size && shift < 64) {
		unsigned char b = d[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
		shift += 7;
	}
	return false;
}

/* libdwarf 20210528 can also loop for ever on a damaged .debug_abbrev (found
 * by fuzzing): every abbreviation must end inside the section, with known
 * forms and no DW_FORM_indirect. */
static bool abbrev_sound(Elf *elf, char **why)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	VEC(char *) keys = { 0 };

	if (elf_getshdrstrndx(elf, &shstrndx))
		return true;
	while ((scn = elf_nextscn(elf, scn))) {
		const unsigned char *d;
		Elf_Data *data;
		GElf_Shdr sh;
		const char *name;
		uint64_t off = 0, code, tag, at, form, v;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    !is_section(name, ".debug_abbrev") || sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		d = data->d_buf;
		struct strmap *seen = strmap_new(64);
		char key[24];

		if (!seen)
			return true;
		while (off < data->d_size) {
			if (!dw_uleb(d, data->d_size, &off, &code)) {
				strmap_free(seen);
				goto bad;
			}
			if (!code) {
				/* The end of one unit's list: codes may repeat in the next. */
				strmap_free(seen);
				if (!(seen = strmap_new(64)))
					return true;
				continue;
			}
			snprintf(key, sizeof(key), "%llx", (unsigned long long)code);
			if (strmap_get(seen, key)) {
				strmap_free(seen);
				goto bad;	/* a code twice in one list */
			}
			{
				char *k = xstrdup(key);

				if (!k || VEC_PUSH(&keys, k) || strmap_put(seen, k, (void *)1)) {
					free(k);
					strmap_free(seen);
					return true;
				}
			}
			if (!dw_uleb(d, data->d_size, &off, &tag) || off >= data->d_size) {
				strmap_free(seen);
				goto bad;
			}
			off++;		/* DW_CHILDREN_yes/no */
			for (;;) {
				if (!dw_uleb(d, data->d_size, &off, &at) || !dw_uleb(d, data->d_size, &off, &form) ||
				    ((at || form) && (form == DW_FORM_indirect || !form ||
						      (form > 0x2c && form != DW_FORM_GNU_addr_index &&
						       form != DW_FORM_GNU_str_index))) ||
				    (form == DW_FORM_implicit_const && !dw_uleb(d, data->d_size, &off, &v))) {
					strmap_free(seen);
					goto bad;
				}
				if (!at && !form)
					break;
			}
		}
		strmap_free(seen);
		continue;
bad:
		*why = xasprintf("section .debug_abbrev: entry near 0x%llx is damaged", (unsigned long long)off);
		for (size_t i = 0; i < keys.n; i++)
			free(keys.v[i]);
		VEC_FREE(&keys);
		return false;
	}
	for (size_t i = 0; i < keys.n; i++)
		free(keys.v[i]);
	VEC_FREE(&keys);
	return true;
}

bool dw_sections_sound(Elf *elf, char **why)
{
	return list_headers_sound(elf, why) && abbrev_sound(elf, why);
}

void dw_watchdog(unsigned seconds, const char *file, bool required)
{
	if (watchdog)
		watchdog(seconds, file, required);
}

/* The GNU ld script: every old piece at its address, then the new code in
 * page-aligned groups that relink turns into one segment each. */
#include "unexec/unexec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The new part, modelled on ld's default script for x86-64 (ld --verbose),
 * with the symbols relink's init thunk walks. */
static const char new_part[] =
	"  /* New code: read-execute. */\n"
	"  .text : {\n"
	"    *(.text.unlikely .text.*_unlikely .text.unlikely.*)\n"
	"    *(.text.exit .text.exit.*)\n"
	"    *(.text.startup .text.startup.*)\n"
	"    *(.text.hot .text.hot.*)\n"
	"    *(.text .stub .text.* .gnu.linkonce.t.*)\n"
	"  }\n"
	"  .iplt : { *(.iplt) }\n"
	"  .surgeon.text : { KEEP(*(.surgeon.text)) }\n"
	"  . = ALIGN(CONSTANT(MAXPAGESIZE));\n"
	"  /* New read-only data. */\n"
	"  .rodata : { *(.rodata .rodata.* .gnu.linkonce.r.*) }\n"
	"  .rela.iplt : {\n"
	"    __surgeon_rela_iplt_start = .;\n"
	"    *(.rela.iplt)\n"
	"    __surgeon_rela_iplt_end = .;\n"
	"  }\n"
	"  .eh_frame : { KEEP(*(.eh_frame)) *(.eh_frame.*) }\n"
	"  .gcc_except_table : { *(.gcc_except_table .gcc_except_table.*) }\n"
	"  . = ALIGN(CONSTANT(MAXPAGESIZE));\n"
	"  /* New writable data. */\n"
	"  .init_array : {\n"
	"    __surgeon_init_array_start = .;\n"
	"    KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*) SORT_BY_INIT_PRIORITY(.ctors.*)))\n"
	"    KEEP(*(.init_array .ctors))\n"
	"    KEEP(*(.preinit_array))\n"
	"    __surgeon_init_array_end = .;\n"
	"  }\n"
	"  .fini_array : {\n"
	"    __surgeon_fini_array_start = .;\n"
	"    KEEP(*(SORT_BY_INIT_PRIORITY(.fini_array.*) SORT_BY_INIT_PRIORITY(.dtors.*)))\n"
	"    KEEP(*(.fini_array .dtors))\n"
	"    __surgeon_fini_array_end = .;\n"
	"  }\n"
	"  .data.rel.ro : { *(.data.rel.ro.local* .gnu.linkonce.d.rel.ro.local.*) *(.data.rel.ro .data.rel.ro.* .gnu.linkonce.d.rel.ro.*) }\n"
	"  .got : { *(.got) *(.igot) }\n"
	"  .got.plt : { *(.got.plt) *(.igot.plt) }\n"
	"  .data : { *(.data .data.* .gnu.linkonce.d.*) }\n"
	"  .bss : { *(.dynbss) *(.bss .bss.* .gnu.linkonce.b.*) *(COMMON) }\n"
	"  __surgeon_new_end = .;\n"
	"  /DISCARD/ : { *(.note.GNU-stack) *(.note.gnu.property) *(.gnu_debuglink) *(.gnu.lto_*)\n"
	"                *(" FROZEN_SECTION ") *(" REST_SECTION ") }\n";

int unexec_write_script(const struct image *img, const char *path)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return pr_err(path, "%s", strerror(errno));
	fprintf(f, "/* Linker script for %s, written by surgeon unexec.\n"
		   " * The old program's loaded bytes stay at their addresses (.old*);\n"
		   " * new code and data are placed after the highest old address. */\n",
		img->frozen_from ? img->frozen_from : img->path);
	fprintf(f, "OUTPUT_FORMAT(\"elf64-x86-64\")\nOUTPUT_ARCH(i386:x86-64)\nENTRY(__surgeon_entry)\n");
	fprintf(f, "SECTIONS\n{\n");
	for (i = 0; i < img->pieces.n; i++) {
		const struct piece *pc = &img->pieces.v[i];

		fprintf(f, "  %s 0x%llx%s : { KEEP(*(%s)) }\n", pc->name, (unsigned long long)pc->addr,
			pc->nobits ? " (NOLOAD)" : "", pc->name);
	}
	fprintf(f, "  . = 0x%llx;\n  __surgeon_new_start = .;\n%s}\n",
		(unsigned long long)unexec_new_base(img), new_part);
	if (fclose(f)) {
		free(buf);
		return pr_err(path, "%s", strerror(errno));
	}
	err = write_file(path, buf, len, 0644);
	free(buf);
	return err;
}

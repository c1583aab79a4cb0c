/* The GNU ld script: every old piece at its address, then the new code in
 * page-aligned groups that relink turns into one segment each. */
#include "unexec/unexec.h"
#include "unexec/anchors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The new part, modelled on ld's default script for x86-64 (ld --verbose),
 * with the symbols relink's init thunk walks. */
#define NEW_PART \
	"  /* New code: read-execute. */\n" \
	"  .text : {\n" \
	"    *(.text.unlikely .text.*_unlikely .text.unlikely.*)\n" \
	"    *(.text.exit .text.exit.*)\n" \
	"    *(.text.startup .text.startup.*)\n" \
	"    *(.text.hot .text.hot.*)\n" \
	"    *(.text .stub .text.* .gnu.linkonce.t.*)\n" \
	"  }\n" \
	"  __libc_freeres_fn : { *(__libc_freeres_fn) }\n" \
	"  .plt : { *(.plt) *(.iplt) }\n" \
	"  .plt.got : { *(.plt.got) }\n" \
	"  .plt.sec : { *(.plt.sec) }\n" \
	"  .surgeon.text : {\n" \
	"    KEEP(*(.surgeon.text))\n" \
	"%s" \
	"  }\n" \
	"  . = ALIGN(CONSTANT(MAXPAGESIZE));\n" \
	"  /* New read-only data. */\n" \
	"  .rodata : { *(.rodata .rodata.* .gnu.linkonce.r.*) }\n" \
	"%s" \
	"%s" \
	"  .eh_frame : { KEEP(*(.eh_frame)) *(.eh_frame.*) }\n" \
	"  .gcc_except_table : { *(.gcc_except_table .gcc_except_table.*) }\n" \
	"  . = ALIGN(CONSTANT(MAXPAGESIZE));\n" \
	"  /* New writable data. */\n" \
	"%s" \
	"  .init_array : {\n" \
	"    " ANCHOR_RELRO_START " = .;\n" \
	"    " ANCHOR_INIT_ARRAY_START " = .;\n" \
	"    KEEP(*(SORT_BY_INIT_PRIORITY(.init_array.*) SORT_BY_INIT_PRIORITY(.ctors.*)))\n" \
	"    " ANCHOR_INIT_PRIO_END " = .;\n" \
	"    KEEP(*(.init_array .ctors))\n" \
	"    KEEP(*(.preinit_array))\n" \
	"    " ANCHOR_INIT_ARRAY_END " = .;\n" \
	"  }\n" \
	"  .fini_array : {\n" \
	"    " ANCHOR_FINI_ARRAY_START " = .;\n" \
	"    KEEP(*(SORT_BY_INIT_PRIORITY(.fini_array.*) SORT_BY_INIT_PRIORITY(.dtors.*)))\n" \
	"    " ANCHOR_FINI_PRIO_END " = .;\n" \
	"    KEEP(*(.fini_array .dtors))\n" \
	"    " ANCHOR_FINI_ARRAY_END " = .;\n" \
	"  }\n" \
	"  .data.rel.ro : { *(.data.rel.ro.local* .gnu.linkonce.d.rel.ro.local.*) *(.data.rel.ro .data.rel.ro.* .gnu.linkonce.d.rel.ro.*) }\n" \
	"  .got : { *(.got) *(.igot) }\n" \
	"  .got.plt : {\n" \
	"    *(.got.plt) *(.igot.plt)\n" \
	"    KEEP(*(.surgeon.relro))\n" \
	"%s" \
	"  }\n" \
	"  .data : { *(.data .data.* .gnu.linkonce.d.*) }\n" \
	"  /* glibc's own sets, which it walks between __start_ and __stop_. */\n" \
	"  __libc_subfreeres : { *(__libc_subfreeres) }\n" \
	"  __libc_IO_vtables : { *(__libc_IO_vtables) }\n" \
	"  __libc_atexit : { *(__libc_atexit) }\n" \
	"  .bss : { *(.dynbss) *(.bss .bss.* .gnu.linkonce.b.*) *(COMMON) }\n" \
	"  __libc_freeres_ptrs : { *(__libc_freeres_ptrs) }\n" \
	"  " ANCHOR_NEW_END " = .;\n" \
	"  /* The linker's own dynamic tables: relink merges them with the old\n" \
	"     program's into new ones, so these are not copied to the output. */\n" \
	"  . = ALIGN(CONSTANT(MAXPAGESIZE));\n" \
	"  .dynsym : { *(.dynsym) }\n" \
	"  .dynstr : { *(.dynstr) }\n" \
	"  .hash : { *(.hash) }\n" \
	"  .gnu.hash : { *(.gnu.hash) }\n" \
	"  .gnu.version : { *(.gnu.version) }\n" \
	"  .gnu.version_d : { *(.gnu.version_d) }\n" \
	"  .gnu.version_r : { *(.gnu.version_r) }\n" \
	"  .rela.dyn : { *(.rela.init) *(.rela.text .rela.text.*) *(.rela.rodata .rela.rodata.*)\n" \
	"               *(.rela.data.rel.ro .rela.data.rel.ro.*) *(.rela.data .rela.data.*) *(.rela.got)\n" \
	"               *(.rela.bss .rela.bss.*) *(.rela.ifunc) *(.rela.init_array) *(.rela.fini_array) }\n" \
	"  .rela.plt : { *(.rela.plt) }\n" \
	"%s" \
	"  .dynamic : { *(.dynamic) }\n" \
	"  /* DWARF, as in ld's default script. The frozen object comes first, so\n" \
	"     the old program's units start each section and keep their offsets. */\n" \
	"  .debug_aranges 0 : { *(.debug_aranges) }\n" \
	"  .debug_pubnames 0 : { *(.debug_pubnames) }\n" \
	"  .debug_info 0 : { *(.debug_info .gnu.linkonce.wi.*) }\n" \
	"  .debug_abbrev 0 : { *(.debug_abbrev) }\n" \
	"  .debug_line 0 : { *(.debug_line .debug_line.* .debug_line_end) }\n" \
	"  .debug_frame 0 : { *(.debug_frame) }\n" \
	"  .debug_str 0 : { *(.debug_str) }\n" \
	"  .debug_loc 0 : { *(.debug_loc) }\n" \
	"  .debug_macinfo 0 : { *(.debug_macinfo) }\n" \
	"  .debug_pubtypes 0 : { *(.debug_pubtypes) }\n" \
	"  .debug_ranges 0 : { *(.debug_ranges) }\n" \
	"  .debug_addr 0 : { *(.debug_addr) }\n" \
	"  .debug_line_str 0 : { *(.debug_line_str) }\n" \
	"  .debug_loclists 0 : { *(.debug_loclists) }\n" \
	"  .debug_macro 0 : { *(.debug_macro) }\n" \
	"  .debug_rnglists 0 : { *(.debug_rnglists) }\n" \
	"  .debug_str_offsets 0 : { *(.debug_str_offsets) }\n" \
	"  .debug_sup 0 : { *(.debug_sup) }\n" \
	"  /* A name index would cover only the new units. */\n" \
	"  /DISCARD/ : { *(.note.GNU-stack) *(.note.gnu.property) *(.gnu_debuglink) *(.gnu.lto_*)\n" \
	"                *(.debug_names) *(" FROZEN_SECTION ") *(" REST_SECTION ") }\n"

/* New thread-local variables go in front of the program's own: the new
 * .tdata and .tbss, then the old block (the frozen object's TLS_SECTION) at
 * an offset P from their start with P + roundup(M, A) a multiple of 64, so
 * that the thread pointer lands P bytes further from the block's start and
 * every offset old code uses (o - roundup(M, A)) stays right. GNU ld puts
 * the old block where the address expression says; lld and gold place TLS
 * sections one after another whatever the script asks, and get the
 * difference as padding at the end of .tbss in a second link (`pad`,
 * relink/tls.c). relink fills [start, old + filesz) with the new template.
 * Without new TLS the old block sits at the start, taking no room (the
 * output keeps its old PT_TLS): only its offsets matter to the linker. */
static char *tls_part(const struct image *img, uint64_t pad)
{
	const GElf_Phdr *t = unexec_tls_segment(img);
	char padtxt[64] = "";
	uint64_t r;

	/* TLS variant I (aarch64): the block starts a fixed distance after the
	 * thread pointer and grows at its end, so the old block (bytes in the
	 * frozen object) comes first, where the linker starts its PT_TLS, and
	 * the new sections follow: the old offsets hold as they are. */
	if (img->arch->tls_variant1)
		return xasprintf("  . = ALIGN(64);\n"
				 "  " ANCHOR_TLS_START " = .;\n"
				 "%s%s%s"
				 "  .tdata : { *(.tdata .tdata.* .gnu.linkonce.td.*) }\n"
				 "  .tbss : { *(.tbss .tbss.* .gnu.linkonce.tb.*) *(.tcommon) }\n"
				 "  " ANCHOR_TLS_NEW " = SIZEOF(.tdata) + SIZEOF(.tbss);\n",
				 t ? "  " : "", t ? TLS_SECTION : "", t ? " : { KEEP(*(" TLS_SECTION ")) }\n" : "");
	if (!t)
		return xasprintf("  . = ALIGN(64);\n"
				 "  " ANCHOR_TLS_START " = .;\n"
				 "  .tdata : { *(.tdata .tdata.* .gnu.linkonce.td.*) }\n"
				 "  .tbss : { *(.tbss .tbss.* .gnu.linkonce.tb.*) *(.tcommon) }\n"
				 "  " ANCHOR_TLS_NEW " = SIZEOF(.tdata) + SIZEOF(.tbss);\n"
				 "  . = " ANCHOR_TLS_NEW " > 0 ? ABSOLUTE(" ANCHOR_TLS_START ") + " ANCHOR_TLS_NEW " + 64 : ABSOLUTE(.);\n");
	r = align_up(t->p_memsz, t->p_align ? t->p_align : 1);
	if (pad)
		snprintf(padtxt, sizeof(padtxt), "\n    . += 0x%llx;\n  ", (unsigned long long)pad);
	return xasprintf("  . = ALIGN(64);\n"
			 "  " ANCHOR_TLS_START " = .;\n"
			 "  .tdata : { *(.tdata .tdata.* .gnu.linkonce.td.*) }\n"
			 "  .tbss : { *(.tbss .tbss.* .gnu.linkonce.tb.*) *(.tcommon) %s}\n"
			 "  " ANCHOR_TLS_NEW " = SIZEOF(.tdata) + SIZEOF(.tbss);\n"
			 "  %s (" ANCHOR_TLS_NEW " > 0 ? ABSOLUTE(" ANCHOR_TLS_START ") + ALIGN(" ANCHOR_TLS_NEW " + 64 + 0x%llx, 64) - 0x%llx :\n"
			 "    ABSOLUTE(" ANCHOR_TLS_START ")) : { KEEP(*(%s)) }\n"
			 "  . = " ANCHOR_TLS_NEW " > 0 ? ADDR(%s) + 0x%llx : ABSOLUTE(" ANCHOR_TLS_START ");\n",
			 padtxt, TLS_SECTION, (unsigned long long)r, (unsigned long long)r, TLS_SECTION,
			 TLS_SECTION, (unsigned long long)t->p_filesz);
}

int unexec_write_script(const struct image *img, const char *path)
{
	return unexec_write_script_tls(img, path, 0);
}

int unexec_write_script_tls(const struct image *img, const char *path, uint64_t tls_pad)
{
	char *buf = NULL, *tls;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return pr_err(path, "%s", strerror(errno));
	fprintf(f, "/* Linker script for %s, written by surgeon unexec.\n"
		   " * The old program's loaded bytes stay at their addresses (.old*);\n"
		   " * new code and data are placed after the highest old address. */\n",
		img->frozen_from ? img->frozen_from : img->path);
	fprintf(f, "OUTPUT_FORMAT(\"%s\")\nOUTPUT_ARCH(%s)\nENTRY(" ANCHOR_ENTRY ")\n", img->arch->ld_format,
		img->arch->ld_arch);
	fprintf(f, "SECTIONS\n{\n");
	for (i = 0; i < img->pieces.n; i++) {
		const struct piece *pc = &img->pieces.v[i];

		fprintf(f, "  %s 0x%llx%s : { KEEP(*(%s)) }\n", pc->name, (unsigned long long)pc->addr,
			pc->nobits ? " (NOLOAD)" : "", pc->name);
	}
	bool relro = false;

	for (i = 0; i < img->phnum; i++)
		if (img->phdrs[i].p_type == PT_GNU_RELRO)
			relro = true;
	/* A static program's IFUNC relocations are applied by relink's init
	 * thunk; a dynamic one's go to ld.so with the other relocations. */
	fprintf(f, "  . = 0x%llx;\n  " ANCHOR_NEW_START " = .;\n", (unsigned long long)unexec_new_base(img));
	tls = tls_part(img, tls_pad);
	if (!tls) {
		fclose(f);
		free(buf);
		return -1;
	}
	fprintf(f, NEW_PART,
		img->dyn.present ? "    " ANCHOR_RELA_IPLT_START " = .;\n    " ANCHOR_RELA_IPLT_END " = .;\n" : "",
		/* lld calls a static link's IRELATIVE relocations .rela.dyn,
		 * gold .rela.plt. */
		img->dyn.present ? "" : "  .rela.iplt : {\n    " ANCHOR_RELA_IPLT_START " = .;\n    *(.rela.iplt) *(.rela.dyn) *(.rela.plt)\n"
					"    " ANCHOR_RELA_IPLT_END " = .;\n  }\n",
		/* The inputs' BTI/PAC properties, ANDed by the linker with the
		 * program's (the frozen object carries them): read back by relink,
		 * not copied. */
		img->arch->feature_and ? "  .note.gnu.property : { *(.note.gnu.property) }\n" : "",
		tls,
		/* Where the program used RELRO, the new relocated data ends on a page
		 * of its own, which the init thunk makes read-only. (relink's hook
		 * object puts a writable .surgeon.relro here, so that no linker
		 * makes a .got.plt without input read-only.) */
		relro ? "    . = ALIGN(CONSTANT(MAXPAGESIZE));\n    " ANCHOR_RELRO_END " = .;\n"
		      : "    " ANCHOR_RELRO_END " = " ANCHOR_RELRO_START ";\n",
		img->dyn.present ? "  .rela.iplt : { *(.rela.iplt) }\n" : "");
	fprintf(f, "}\n");
	free(tls);
	if (fclose(f)) {
		free(buf);
		return pr_err(path, "%s", strerror(errno));
	}
	err = write_file(path, buf, len, 0644);
	free(buf);
	return err;
}

/* The names the frozen object, the linker script, relink's generated code
 * and relink itself agree on. They all begin with ANCHOR_PREFIX: the
 * program's own symbols of such names are never offered to the linker
 * (unexec_reserved_name), and the output's .symtab keeps them local. */
#ifndef SURGEON_ANCHORS_H
#define SURGEON_ANCHORS_H

#define ANCHOR_PREFIX "__surgeon_"

/* The program's entry point: a symbol of the frozen object, which other
 * addresses are taken relative to so that they move with a PIE. */
#define ANCHOR_ENTRY "__surgeon_entry"
/* The functions the hooked .init_array/.fini_array slots held. */
#define ANCHOR_INIT_TARGET "__surgeon_init_target"
#define ANCHOR_FINI_TARGET "__surgeon_fini_target"
#define ANCHOR_INIT_FIRST_TARGET "__surgeon_init_first_target"
#define ANCHOR_FINI_FIRST_TARGET "__surgeon_fini_first_target"
/* The thunks the hooked slots point at (relink/hook.c). */
#define ANCHOR_INIT_THUNK "__surgeon_init_thunk"
#define ANCHOR_FINI_THUNK "__surgeon_fini_thunk"
#define ANCHOR_INIT_FIRST_THUNK "__surgeon_init_first_thunk"
#define ANCHOR_FINI_FIRST_THUNK "__surgeon_fini_first_thunk"
#define ANCHOR_ENTRY_THUNK "__surgeon_entry_thunk"
/* The script's marks: the new constructors and destructors (prioritized
 * ones first), the IFUNC relocations of a static program, the new RELRO
 * range, the new region, the TLS layout (unexec/script.c). */
#define ANCHOR_INIT_ARRAY_START "__surgeon_init_array_start"
#define ANCHOR_INIT_PRIO_END "__surgeon_init_prio_end"
#define ANCHOR_INIT_ARRAY_END "__surgeon_init_array_end"
#define ANCHOR_FINI_ARRAY_START "__surgeon_fini_array_start"
#define ANCHOR_FINI_PRIO_END "__surgeon_fini_prio_end"
#define ANCHOR_FINI_ARRAY_END "__surgeon_fini_array_end"
#define ANCHOR_RELA_IPLT_START "__surgeon_rela_iplt_start"
#define ANCHOR_RELA_IPLT_END "__surgeon_rela_iplt_end"
#define ANCHOR_RELRO_START "__surgeon_relro_start"
#define ANCHOR_RELRO_END "__surgeon_relro_end"
#define ANCHOR_NEW_START "__surgeon_new_start"
#define ANCHOR_NEW_END "__surgeon_new_end"
#define ANCHOR_TLS_PREFIX "__surgeon_tls_"
#define ANCHOR_TLS_START "__surgeon_tls_start"
#define ANCHOR_TLS_NEW "__surgeon_tls_new"

#endif

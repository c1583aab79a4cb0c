/* _start of a static program with no libc, because Debian's crt files
 * carry no BTI note (a program linked with them is no BTI program): runs
 * the constructors (a gcc-linked reference has them; the program alone
 * has none, so surgeon's entry thunk runs the added ones), then main, then
 * exit. The note claims BTI and PAC for this file's code. */
	.text
	.globl _start
	.type _start, %function
_start:
	bti c
	mov x29, #0
	ldr x19, [sp]
	add x20, sp, #8
	adrp x21, __init_array_start
	add x21, x21, :lo12:__init_array_start
	adrp x22, __init_array_end
	add x22, x22, :lo12:__init_array_end
1:	cmp x21, x22
	b.hs 2f
	ldr x3, [x21], #8
	blr x3
	b 1b
2:	mov x0, x19
	mov x1, x20
	bl main
	mov x8, #93
	svc #0
	.size _start, . - _start
	.weak __init_array_start, __init_array_end
	.hidden __init_array_start, __init_array_end

	.section .note.gnu.property, "a"
	.p2align 3
	.word 4, 16, 5
	.asciz "GNU"
	.word 0xc0000000, 4, 3, 0	/* FEATURE_1_AND: BTI | PAC */
	.section .note.GNU-stack, "", %progbits

/* _start of a dynamic program without Debian's crt files (no BTI note):
 * glibc 2.34's convention, init and fini NULL (ld.so and libc run the
 * constructors). ENTRY_PAD is bti c, or a nop to show that ld.so enforces
 * BTI on the program: it enters _start by an indirect branch. */
#ifndef ENTRY_PAD
#define ENTRY_PAD bti c
#endif
	.text
	.globl _start
	.type _start, %function
_start:
	ENTRY_PAD
	mov x29, #0
	mov x30, #0
	mov x5, x0
	ldr x1, [sp]
	add x2, sp, #8
	mov x6, sp
	adrp x0, :got:main
	ldr x0, [x0, :got_lo12:main]
	mov x3, #0
	mov x4, #0
	bl __libc_start_main
	brk #0
	.size _start, . - _start

	.section .note.gnu.property, "a"
	.p2align 3
	.word 4, 16, 5
	.asciz "GNU"
	.word 0xc0000000, 4, 3, 0	/* FEATURE_1_AND: BTI | PAC */
	.section .note.GNU-stack, "", %progbits

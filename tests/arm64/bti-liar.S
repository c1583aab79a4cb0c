/* Added code whose note claims BTI although liar_fn has no landing pad:
 * its constructor points hook at it, and the program's indirect call must
 * fault, in surgeon's output as in the gcc-linked program. */
	.text
	.type liar_fn, %function
liar_fn:
	mov w0, #42
	ret
	.type liar_init, %function
liar_init:
	bti c
	adrp x0, hook
	add x0, x0, :lo12:hook
	adrp x1, liar_fn
	add x1, x1, :lo12:liar_fn
	str x1, [x0]
	ret
	.section .init_array, "aw"
	.p2align 3
	.xword liar_init

	.section .note.gnu.property, "a"
	.p2align 3
	.word 4, 16, 5
	.asciz "GNU"
	.word 0xc0000000, 4, 3, 0
	.section .note.GNU-stack, "", %progbits

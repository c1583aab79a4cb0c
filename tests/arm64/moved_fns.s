// Functions whose first instructions --wrap must move into __real_SYM on
// aarch64 (tests/t-arm64-patch.sh). With a near patch (b, 4 bytes) the first
// instruction moves; with the far veneer (adrp+add+br, 12 bytes: the
// program's bss puts the new code out of b's reach) the first three do.
	.data
	.p2align 3
	.globl base_val
base_val:
	.word 37

	.text
	.p2align 4
	.globl helper
	.type helper, %function
helper:
	lsl w0, w0, #1
	add w0, w0, #1
	ret
	.size helper, .-helper

// adrp, then the load through its page
	.p2align 4
	.globl adrp_load
	.type adrp_load, %function
adrp_load:
	adrp x1, base_val
	ldr w1, [x1, :lo12:base_val]
	add w0, w0, w1
	ret
	.size adrp_load, .-adrp_load

// adr of a literal in the function
	.p2align 4
	.globl adr_load
	.type adr_load, %function
adr_load:
	adr x1, 1f
	ldr w1, [x1]
	add w0, w0, w1
	ret
1:	.word 100
	.size adr_load, .-adr_load

// ldr (literal), 32 and 64 bits
	.p2align 4
	.globl lit_load
	.type lit_load, %function
lit_load:
	ldr w1, 1f
	add w0, w0, w1
	ret
1:	.word 200
	.size lit_load, .-lit_load

	.p2align 4
	.globl lit_load64
	.type lit_load64, %function
lit_load64:
	ldr x1, 1f
	add x0, x0, x1
	ret
	.p2align 3
1:	.quad 300
	.size lit_load64, .-lit_load64

// cbz and tbz out of the displaced bytes
	.p2align 4
	.globl cbz_fn
	.type cbz_fn, %function
cbz_fn:
	cbz w0, 1f
	nop
	add w0, w0, #5
	ret
1:	mov w0, #7
	ret
	.size cbz_fn, .-cbz_fn

	.p2align 4
	.globl tbz_fn
	.type tbz_fn, %function
tbz_fn:
	tbz w0, #0, 1f
	nop
	add w0, w0, #9
	ret
1:	sub w0, w0, #9
	ret
	.size tbz_fn, .-tbz_fn

// b.cond after the compare that sets its flags (moved only with the far veneer)
	.p2align 4
	.globl bcond_fn
	.type bcond_fn, %function
bcond_fn:
	cmp w0, #0
	b.le 1f
	lsl w0, w0, #1
	ret
1:	mov w0, #0
	ret
	.size bcond_fn, .-bcond_fn

// a tail branch, and a call
	.p2align 4
	.globl tail_b
	.type tail_b, %function
tail_b:
	b helper
	.size tail_b, .-tail_b

	.p2align 4
	.globl calls_bl
	.type calls_bl, %function
calls_bl:
	stp x29, x30, [sp, #-16]!
	bl helper
	ldp x29, x30, [sp], #16
	add w0, w0, #1
	ret
	.size calls_bl, .-calls_bl

// ldr of a SIMD register from a literal: --wrap must refuse it
	.p2align 4
	.globl simd_lit
	.type simd_lit, %function
simd_lit:
	ldr d0, 1f
	fcvtzs w0, d0
	ret
	.p2align 3
1:	.double 2.5
	.size simd_lit, .-simd_lit

/* Functions surgeon must refuse to patch: too_short is one byte followed
 * directly by another function; looped has a branch back into its first
 * bytes (the loop head at looped+2), where the entry jump would go. */
#include <stdio.h>
__asm__(".text\n"
	".globl too_short\n.type too_short,@function\n"
	"too_short: ret\n"
	".size too_short, .-too_short\n"
	".globl looped\n.type looped,@function\n"
	"looped: xor %eax,%eax\n"
	"1: add %edi,%eax\n"
	"dec %edi\n"
	"jnz 1b\n"
	"ret\n"
	".size looped, .-looped\n"
	".p2align 4\n");
void too_short(void);
int looped(int);

int main(void)
{
	too_short();
	printf("%d\n", looped(4));
	return 0;
}

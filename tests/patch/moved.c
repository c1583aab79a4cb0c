/* Functions whose first instructions --wrap must move into __real_SYM:
 * a RIP-relative load, a RIP-relative compare with an immediate after its
 * displacement, a short conditional branch out of the displaced bytes, a
 * tail jump, and a call. jcc_in branches inside its own first bytes:
 * --wrap must refuse it. */
#include <stdio.h>

int base_val = 37, flag = 1;
__attribute__((noinline)) int helper(int x) { return x * 3; }

__asm__(".text\n"
	".globl rip_load\n.type rip_load,@function\n.p2align 4\n"
	"rip_load: mov base_val(%rip),%eax\n add %edi,%eax\n ret\n.size rip_load,.-rip_load\n"
	".globl rip_cmp\n.type rip_cmp,@function\n.p2align 4\n"
	"rip_cmp: cmpl $0,flag(%rip)\n je 1f\n lea 1(%rdi),%eax\n ret\n1: mov %edi,%eax\n ret\n"
	".size rip_cmp,.-rip_cmp\n"
	".globl short_jcc\n.type short_jcc,@function\n.p2align 4\n"
	"short_jcc: test %edi,%edi\n jle 1f\n lea (%rdi,%rdi),%eax\n ret\n1: xor %eax,%eax\n ret\n"
	".size short_jcc,.-short_jcc\n"
	".globl tail_jmp\n.type tail_jmp,@function\n.p2align 4\n"
	"tail_jmp: jmp helper\n.size tail_jmp,.-tail_jmp\n"
	".globl calls\n.type calls,@function\n.p2align 4\n"
	"calls: push %rbx\n call helper\n pop %rbx\n add $1,%eax\n ret\n.size calls,.-calls\n"
	".globl jcc_in\n.type jcc_in,@function\n.p2align 4\n"
	"jcc_in: test %edi,%edi\n je 1f\n1: lea 1(%rdi),%eax\n ret\n.size jcc_in,.-jcc_in\n");
int rip_load(int), rip_cmp(int), short_jcc(int), tail_jmp(int), calls(int), jcc_in(int);

int main(void)
{
	printf("%d %d %d %d %d %d %d\n", rip_load(5), rip_cmp(5), short_jcc(5), short_jcc(-5), tail_jmp(5), calls(5),
	       jcc_in(5));
	return 0;
}

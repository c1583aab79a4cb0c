/* Non-PIC: an absolute 32-bit reference to an old global (R_X86_64_32). */
extern int counter;
extern void (*hook)(int);
int get_counter_addr(void);
__asm__(".globl get_counter_addr\nget_counter_addr: movl $counter, %eax\n ret\n");
static void h(int x) { (void)x; counter = get_counter_addr() != 0; }
__attribute__((constructor)) static void init(void) { hook = h; }

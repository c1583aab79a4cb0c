/* A plugin for a stripped static program: nothing of the program has a name,
 * so it uses its own code and data and the write system call only. */
static long sys_write(int fd, const void *buf, unsigned long n)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(1L), "D"((long)fd), "S"(buf), "d"(n)
			 : "rcx", "r11", "memory");
	return r;
}

static unsigned long len(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

int splug_value = 7;
int *splug_ptr = &splug_value;
const char *splug_msgs[] = { "splug: constructor\n", "splug: destructor\n" };

void splug_say(const char *s)
{
	sys_write(1, s, len(s));
}

__attribute__((constructor)) static void splug_init(void)
{
	*splug_ptr += 1;
	if (splug_value == 8)
		splug_say(splug_msgs[0]);
}

__attribute__((destructor)) static void splug_fini(void)
{
	if (splug_value == 8)
		splug_say(splug_msgs[1]);
}

/* --wrap work, in C built with -fexceptions: the wrapper's frame and the
 * trampoline's lie between risky's throw and main's catch. */
int __real_work(int n);
int __wrap_work(int n)
{
	return __real_work(n) * 2;
}

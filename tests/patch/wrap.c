/* --wrap twice: counts the calls and adds an offset to the original result. */
int twice_calls;
int __real_twice(int);

int __wrap_twice(int x)
{
	twice_calls++;
	return __real_twice(x) + 1000 * twice_calls;
}

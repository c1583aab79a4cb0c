/* __real_twice, surgeon's trampoline, called through a pointer. */
int __real_twice(int);
static int (*volatile real)(int) = __real_twice;
int __wrap_twice(int x) { return real(x) + 100; }

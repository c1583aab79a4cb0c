// A C++ program whose work() calls risky(), which throws for n > 2; main
// catches. The plugins replace or wrap work() and put C frames between old
// code that throws and old code that catches.
#include <cstdio>
#include <stdexcept>

extern "C" {
__attribute__((noinline)) int risky(int n)
{
	if (n > 2)
		throw std::runtime_error("too big");
	return n * 10;
}

__attribute__((noinline)) int work(int n)
{
	int r = risky(n);

	asm volatile("" : "+r"(r));
	return r + 1;
}

int (*via)(int (*cb)(int), int);	// an added C function that calls back
void (*hook)(void);
}

int main()
{
	for (int i = 1; i <= 3; i++) {
		try {
			std::printf("work(%d) = %d\n", i, work(i));
		} catch (const std::exception &e) {
			std::printf("work(%d): caught %s\n", i, e.what());
		}
	}
	if (via) {
		try {
			std::printf("via = %d\n", via(risky, 1));
			std::printf("via = %d\n", via(risky, 5));
		} catch (const std::exception &e) {
			std::printf("via: caught %s through the added C frame\n", e.what());
		}
	}
	if (hook)
		hook();
	std::fflush(stdout);
	return 0;
}

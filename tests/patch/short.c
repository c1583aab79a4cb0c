void short_fixed(void) {}
int looped_fixed(int n) { return n * (n + 1) / 2; }

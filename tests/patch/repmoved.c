int jcc_in_fixed(int x) { return x; }

/* The wrappers of tests/arm64/moved_fns.s: each adds a mark to what the
 * original returns, through __real_SYM. */
int __real_adrp_load(int), __real_adr_load(int), __real_lit_load(int), __real_cbz_fn(int), __real_tbz_fn(int),
    __real_bcond_fn(int), __real_tail_b(int), __real_calls_bl(int);
long __real_lit_load64(long);
int __wrap_adrp_load(int x) { return __real_adrp_load(x) + 1000; }
int __wrap_adr_load(int x) { return __real_adr_load(x) + 2000; }
int __wrap_lit_load(int x) { return __real_lit_load(x) + 3000; }
long __wrap_lit_load64(long x) { return __real_lit_load64(x) + 4000; }
int __wrap_cbz_fn(int x) { return __real_cbz_fn(x) + 5000; }
int __wrap_tbz_fn(int x) { return __real_tbz_fn(x) + 6000; }
int __wrap_bcond_fn(int x) { return __real_bcond_fn(x) + 7000; }
int __wrap_tail_b(int x) { return __real_tail_b(x) + 8000; }
int __wrap_calls_bl(int x) { return __real_calls_bl(x) + 9000; }

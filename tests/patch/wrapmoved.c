int __real_rip_load(int), __real_rip_cmp(int), __real_short_jcc(int), __real_tail_jmp(int), __real_calls(int);
int __wrap_rip_load(int x) { return __real_rip_load(x) + 1000; }
int __wrap_rip_cmp(int x) { return __real_rip_cmp(x) + 1000; }
int __wrap_short_jcc(int x) { return __real_short_jcc(x) + 1000; }
int __wrap_tail_jmp(int x) { return __real_tail_jmp(x) + 1000; }
int __wrap_calls(int x) { return __real_calls(x) + 1000; }

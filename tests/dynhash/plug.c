/* The plugin of t-dynamic-hash: new exports of every kind the added code
 * may have (functions, initialised, read-only and zeroed data, TLS, weak,
 * protected), names that share a hash with the program's, and names that
 * must not be exported (hidden, static). tests/t-dynamic-hash.sh lists the
 * exported names (PLUG_NAMES) and the others (ABSENT). */
int app_add(int);

int plug_data = 42;
const int plug_rodata[4] = { 1, 2, 3, 4 };
int plug_bss;
long plug_big[512];
__thread int plug_tls = 7;
__thread int plug_tls_zero;
int plug_fn(int x) { return x + plug_data + app_add(x); }
__attribute__((weak)) int plug_weak(int x) { return x * 2; }
__attribute__((weak)) int plug_weak_data = 3;
__attribute__((visibility("protected"))) int plug_protected(int x) { return x - 1; }
/* Same GNU hash as the program's coll_gnu_Ez; same SysV hash as coll_sysv_Aa. */
int coll_gnu_FY(void) { return 3; }
int coll_sysv_BQ(void) { return 4; }
/* Not exported. */
__attribute__((visibility("hidden"))) int plug_hidden(int x) { return x ^ 5; }
__attribute__((noinline)) static int plug_static(int x) { return x ^ 6; }
int *plug_tls_addr(void) { return &plug_tls; }
int plug_use(int x) { return plug_hidden(x) + plug_static(x) + plug_tls_zero + plug_rodata[x & 3] + (int)plug_big[x & 511] + plug_bss; }

/* The added code: a constructor, a function the program calls through a
 * pointer, a call through a pointer back into the program, and the
 * replacement of twice. */
extern int app_add1(int);
extern int (*volatile hook)(int);
static int (*volatile back)(int) = app_add1;

static int plug_hook(int x) { return back(x) * 10; }
__attribute__((constructor)) static void plug_init(void) { hook = plug_hook; }
int new_twice(int x) { return 3 * x; }

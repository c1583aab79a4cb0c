# The oracle in its smallest form: a dynamic non-PIE program and a plugin
# linked from source behave exactly like surgeon add-lib of the two, built apart.
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
void (*hook)(int);
int add(int a) { return a + counter; }
int main(void) { printf("add=%d\n", add(1)); if (hook) hook(42); printf("counter=%d\n", counter); return counter; }
C
cat >plug.c <<'C'
#include <stdio.h>
extern int counter; extern void (*hook)(int); int add(int);
static void my_hook(int x) { printf("hook %d add=%d\n", x, add(x)); counter += 10; }
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
gcc -no-pie -O1 -o app app.c && gcc -no-pie -O1 -o ref app.c plug.c && gcc -O1 -c plug.c && ar rcs libplug.a plug.o
check add-lib "$SURGEON" add-lib app libplug.a -o app2
same_run oracle ./ref ./app2

# Local symbols with the same name in several old files: a.c and b.c each have
# `static int count` and `static int helper(void)`. The plugin reaches each as
# "a.c:count" etc.; the reference build (program and plugin from source)
# reaches them through accessor functions a.c and b.c also have. A local whose
# name is unique in the program is reachable by its plain name.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

for f in a b; do
	n=1; [ $f = b ] && n=2
	cat >$f.c <<C
static int count = ${n}0;
static int ${f}_only = 3;
__attribute__((noinline, used)) static int helper(void) { return count * 10 + ${f}_only; }
/* The accessors only the reference plugin uses. */
int *${f}_count_ptr(void) { return &count; }
int ${f}_helper(void) { return helper(); }
int *${f}_only_ptr(void) { return &${f}_only; }
int ${f}_show(void) { return helper(); }
C
done
cat >main.c <<'C'
#include <stdio.h>
int a_show(void), b_show(void);
void (*hook)(void);
int main(void)
{
	printf("before: a=%d b=%d\n", a_show(), b_show());
	if (hook)
		hook();
	printf("after: a=%d b=%d\n", a_show(), b_show());
	return a_show() % 100;
}
C
cat >plug.c <<'C'
#include <stdio.h>
extern void (*hook)(void);
#ifdef REF
int *a_count_ptr(void), *b_count_ptr(void), *a_only_ptr(void), a_helper(void), b_helper(void);
#define A_COUNT (*a_count_ptr())
#define B_COUNT (*b_count_ptr())
#define A_ONLY (*a_only_ptr())
#define A_HELPER a_helper
#define B_HELPER b_helper
#else
/* gas reads `a.c:count` unquoted as junk after "a.c": the names are quoted. */
extern int a_count __asm__("\"a.c:count\"");
extern int b_count __asm__("\"b.c:count\"");
int a_helper_local(void) __asm__("\"a.c:helper\"");
int b_helper_local(void) __asm__("\"b.c:helper\"");
extern int a_only;	/* unique in the program: its plain name works */
#define A_COUNT a_count
#define B_COUNT b_count
#define A_ONLY a_only
#define A_HELPER a_helper_local
#define B_HELPER b_helper_local
#endif
static void plug(void)
{
	printf("plug: a.count=%d b.count=%d a.helper=%d b.helper=%d\n", A_COUNT, B_COUNT, A_HELPER(), B_HELPER());
	A_COUNT += 1;
	B_COUNT += 2;
	A_ONLY = 7;
	printf("plug: a.helper=%d b.helper=%d\n", A_HELPER(), B_HELPER());
}
__attribute__((constructor)) static void init(void) { hook = plug; }
C
for k in dyn static musl; do
	cc=$(core_cc $k); ld=$(core_ldflags $k)
	mkdir -p $k
	if ! { $cc -O1 $ld -o $k/app main.c a.c b.c && $cc -O1 -c -o $k/plug.o plug.c && ar rcs $k/libplug.a $k/plug.o &&
	       $cc -O1 $ld -DREF -o $k/ref main.c a.c b.c plug.c; } 2>"$T/$k.err"; then
		fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue
	fi
	# The two counts really are two locals of the same name in different files.
	check_eq "$k-two-locals" 2 "$(readelf -sW $k/app | awk '$4 == "OBJECT" && $5 == "LOCAL" && $8 == "count"' | wc -l)"
	check "$k-add-lib" "$SURGEON" add-lib $k/app $k/libplug.a -o $k/out
	[ -x $k/out ] && same_run "$k-oracle" $k/ref $k/out
	run_capture "$T/$k.run" $k/out
	check_eq "$k-values" "before: a=103 b=203
plug: a.count=10 b.count=20 a.helper=103 b.helper=203
plug: a.helper=117 b.helper=223
after: a=117 b=223" "$(cat "$T/$k.run.out")"
done

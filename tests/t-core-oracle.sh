# The oracle for every program kind: the program and a plugin linked from
# source by gcc behave exactly like surgeon add-lib of the two, built apart
# (same stdout, same exit status, with and without arguments).
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.build.err"; then
		fail "$k-build" "$(head -3 "$T/$k.build.err" | tr '\n' ' ')"
		continue
	fi
	check "$k-add-lib" "$SURGEON" add-lib "$k/app" "$k/libplug.a" -o "$k/out"
	[ -x "$k/out" ] || continue
	same_run "$k-oracle" "$k/ref" "$k/out"
	same_run "$k-oracle-args" "$k/ref" "$k/out" a b c
	# The plugin really ran: its constructor's line is in the reference's output.
	run_capture "$T/$k.out" "$k/out"
	check "$k-plugin-ran" grep -q '^s\?plug: ' "$T/$k.out.out"
done

# Several constructors and destructors in the program and in the plugin, with
# and without priorities, in an order a normal link keeps: the program's are
# prioritized and unprioritized, the plugin's unprioritized (two per file, and
# two files).
cat >ctors.c <<'C'
#include <stdio.h>
int order;
#define CTOR(name, prio) __attribute__((constructor prio)) static void name(void) \
	{ printf("%-12s order=%d\n", #name, order++); }
#define DTOR(name, prio) __attribute__((destructor prio)) static void name(void) \
	{ printf("%-12s order=%d\n", #name, order++); }
CTOR(app_c200, (200)) CTOR(app_c300, (300)) CTOR(app_c, ) CTOR(app_c2, )
DTOR(app_d200, (200)) DTOR(app_d300, (300)) DTOR(app_d, ) DTOR(app_d2, )
int main(void) { printf("main order=%d\n", order++); return order; }
C
cat >pctors1.c <<'C'
#include <stdio.h>
extern int order;
__attribute__((constructor)) static void p1_c1(void) { printf("p1_c1 order=%d\n", order++); }
__attribute__((constructor)) static void p1_c2(void) { printf("p1_c2 order=%d\n", order++); }
__attribute__((destructor)) static void p1_d1(void) { printf("p1_d1 order=%d\n", order++); }
__attribute__((destructor)) static void p1_d2(void) { printf("p1_d2 order=%d\n", order++); }
C
sed 's/p1_/p2_/g' pctors1.c >pctors2.c
# The plugin's constructor and destructor have priorities too: a normal link
# runs p_c150 before the program's app_c200 and app_c, and p_d150 after all
# the program's destructors. (The program's own priority numbers are not in
# the file: surgeon runs new prioritized constructors before all of the
# program's, which is what a normal link does when the plugin's priorities are
# the lowest, as here; the limit is checked below with a program constructor(101).)
cat >pctorsprio.c <<'C'
#include <stdio.h>
extern int order;
__attribute__((constructor(150))) static void p_c150(void) { printf("p_c150 order=%d\n", order++); }
__attribute__((destructor(150))) static void p_d150(void) { printf("p_d150 order=%d\n", order++); }
__attribute__((constructor)) static void p_c(void) { printf("p_c order=%d\n", order++); }
C
for k in dyn static musl; do
	d=ctors-$k
	if ! core_build "$k" "$d" "$T/ctors.c" "$T/pctors1.c" "$T/pctors2.c" 2>"$T/$d.err"; then
		fail "$d-build" "$(head -3 "$T/$d.err" | tr '\n' ' ')"
		continue
	fi
	check "$d-add-lib" "$SURGEON" add-lib "$d/app" "$d/libplug.a" -o "$d/out"
	[ -x "$d/out" ] && same_run "$d-order" "$d/ref" "$d/out"
	# A plugin constructor with a priority lower than the program's runs among
	# the program's in a normal link.
	d=ctorsprio-$k
	if ! core_build "$k" "$d" "$T/ctors.c" "$T/pctorsprio.c" 2>"$T/$d.err"; then
		fail "$d-build" "$(head -3 "$T/$d.err" | tr '\n' ' ')"
		continue
	fi
	check "$d-add-lib" "$SURGEON" add-lib "$d/app" "$d/libplug.a" -o "$d/out"
	[ -x "$d/out" ] && same_run "$d-order" "$d/ref" "$d/out"
	# The documented limit: against an old constructor(101) the new
	# constructor(150) still runs first, its destructor last, and everything
	# else keeps its order.
	d=ctors101-$k
	sed 's/(200)/(101)/' "$T/ctors.c" >"$T/ctors101.c"
	if core_build "$k" "$d" "$T/ctors101.c" "$T/pctorsprio.c" 2>"$T/$d.err" &&
	   "$SURGEON" add-lib "$d/app" "$d/libplug.a" -o "$d/out" 2>>"$T/$d.err"; then
		check_eq "$d-new-prio-first" "p_c150 order=0" "$("$d/out" | head -1)"
		check_eq "$d-new-prio-dtor-last" "p_d150" "$("$d/out" | tail -1 | cut -d' ' -f1)"
		check_eq "$d-rest-in-order" "$("$d/ref" | grep -v '^p_[cd]150' | sed 's/order=[0-9]*//')" \
			"$("$d/out" | grep -v '^p_[cd]150' | sed 's/order=[0-9]*//')"
	else
		fail "$d-build" "$(head -3 "$T/$d.err" | tr '\n' ' ')"
	fi
done

# A C++ plugin: a global object whose constructor installs the hook (no
# exceptions, no RTTI, no library beyond what the program has).
cat >cplug.cc <<'C'
#include <cstdio>
extern "C" { extern int counter; extern void (*hook)(int); int add(int); }
static void cc_hook(int x) { std::printf("c++ plugin: hook(%d) add=%d\n", x, add(x)); counter *= 2; }
struct Installer {
	int seen;
	Installer() : seen(counter) { hook = cc_hook; }
};
static Installer installer;
C
if g++ -O1 -fno-exceptions -fno-rtti -fno-asynchronous-unwind-tables -c -o cplug.o cplug.cc &&
   gcc -O1 -c -o cxx-app.o "$CORE/app.c" && gcc -no-pie -o cxx-app cxx-app.o &&
   ar rcs libcplug.a cplug.o && gcc -no-pie -o cxx-ref cxx-app.o cplug.o; then
	check cxx-add-lib "$SURGEON" add-lib cxx-app libcplug.a -o cxx-out
	[ -x cxx-out ] && same_run cxx-oracle ./cxx-ref ./cxx-out
else
	fail cxx-build "cannot build the C++ plugin"
fi

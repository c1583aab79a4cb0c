# surgeon headers on optimized programs: gcc -O2/-O3 describes a function
# that was inlined somewhere and also emitted out of line as an abstract
# instance (DW_AT_inline) plus concrete ones (DW_AT_abstract_origin), a
# cloned function (.constprop) as two concrete instances, LTO's units name
# the early ones, and split DWARF keeps it all in .dwo files or a .dwp
# package. Every external function and variable must be declared exactly
# once, and a plugin compiled with -Wall -Werror against the header calls
# them; add-lib of that plugin behaves as the same plugin linked from source.
# Oracles: the list of externals the sources define, readelf (the DWARF
# really has the shapes above), a gcc-linked reference with a hand-written
# header.
. "$TOP/tests/lib.sh"

cat >app.c <<'C'
#include <stdio.h>
extern int counter;
int counter;
struct item { int id; char name[12]; double w; };
struct item items[3] = { { 1, "one", 1.5 }, { 2, "two", 2.5 }, { 3, "three", 3.5 } };
void (*hook)(int);
int weigh(struct item *p) { return (int)(p->w * 10) + p->id; }
int twice(int x) { counter++; return 2 * x; }
__attribute__((noinline)) int scale(int x, int k) { return x * k + (k > 3 ? 7 : 1); }
static int helper(int x) { return twice(x) + scale(x, 5); }
int thrice(int x);
int main(int argc, char **argv)
{
	int s = 0;
	for (int i = 0; i < argc * 10; i++)
		s += scale(i, 5);
	printf("weigh=%d helper=%d thrice=%d s=%d\n", weigh(&items[argc % 3]), helper(argc), thrice(argc), s);
	if (hook)
		hook(7);
	printf("counter=%d\n", counter);
	return 0;
}
C
cat >lib.c <<'C'
int twice(int x);
int thrice(int x) { return twice(x) + x; }
int table[4] = { 1, 2, 3, 4 };
C
cat >plug.c <<'C'
#include <stdio.h>
#include HDR
static void my_hook(int x)
{
	printf("hook %d: twice %d weigh %d scale %d thrice %d table %d counter %d\n", x, twice(x),
	       weigh(&items[2]), scale(x, 9), thrice(x), table[3], counter);
}
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
cat >ref.h <<'C'
struct item { int id; char name[12]; double w; };
extern struct item items[3];
extern int counter, table[4];
extern void (*hook)(int);
int weigh(struct item *);
int twice(int);
int scale(int, int);
int thrice(int);
C
externs="counter hook items main scale table thrice twice weigh"

# variant NAME CFLAGS...: build, headers, plugin, add-lib, oracle.
variant() {
	local n=$1; shift
	if ! gcc -no-pie -g "$@" -o $n app.c lib.c 2>$n.build; then
		echo "skip $n: gcc $* cannot build: $(head -1 $n.build)"; return 1
	fi
	gcc -no-pie -O1 -DHDR='"ref.h"' -o ref-$n app.c lib.c plug.c
	return 0
}
check_headers() {
	local n=$1 h=$1.h
	check "$n-headers" "$SURGEON" headers $n -o $h
	local name want got
	for name in $externs; do
		got=$(grep -cE "^extern .*[^a-z_]$name(\(|\[|;|\))" $h)
		check_eq "$n-declares-$name-once" 1 "$got"
	done
	check "$n-plugin-compiles" gcc -Wall -Wextra -Werror -O1 -DHDR="\"$h\"" -c plug.c -o plug-$n.o
	ar rcs libplug-$n.a plug-$n.o
	check "$n-add-lib" "$SURGEON" add-lib $n libplug-$n.a -o $n.2
	same_run "$n-oracle" ./ref-$n ./$n.2
}
# The DWARF has the shapes this test is about (readelf, not surgeon).
has_shapes() {
	local n=$1 info
	info=$(readelf --debug-dump=info "${@:2}" 2>/dev/null)
	if echo "$info" | grep -q DW_AT_inline && echo "$info" | grep -q DW_AT_abstract_origin; then ok "$n-has-inlined-and-concrete"
	else fail "$n-has-inlined-and-concrete" "no DW_AT_inline/DW_AT_abstract_origin pair"; fi
}

for o in O2 O3; do
	variant $o -$o || continue
	has_shapes $o $o
	# At -O3 scale has a clone beside its own copy, at another address.
	[ $o = O3 ] && check "$o-scale-cloned" sh -c "nm $o | grep -q ' scale\.constprop\.'"
	check_headers $o
done

if variant lto -O2 -flto -rdynamic; then
	# LTO's unit names each early unit's function through DW_AT_abstract_origin.
	check lto-artificial-unit sh -c "readelf --debug-dump=info lto | grep -q 'DW_AT_name *:.*<artificial>'"
	check lto-concrete sh -c "readelf --debug-dump=info lto | grep -q DW_AT_abstract_origin"
	check_headers lto
fi

# Split DWARF: the program holds skeleton units only.
for d in 5 4; do
	n=split$d
	rm -f $n-*.dwo
	variant $n -O2 -gdwarf-$d -gsplit-dwarf || continue
	check_eq "$n-program-has-skeletons-only" 0 "$(readelf -wiN $n | grep -c 'DW_TAG_subprogram')"
	has_shapes $n $n-*.dwo
	check_headers $n
done
# A package of them (binutils' dwp, or LLVM's), where gdb looks for it,
# with the .dwo files gone.
for d in 5 4; do
	n=dwp$d
	variant $n -O2 -gdwarf-$d -gsplit-dwarf || continue
	if (dwp -e $n -o $n.dwp) 2>/dev/null || llvm-dwp -e $n -o $n.dwp 2>/dev/null; then
		rm -f $n-*.dwo
		has_shapes $n $n.dwp
		check_headers $n
	else
		echo "skip $n: neither dwp nor llvm-dwp can package it"
	fi
done
# A missing split object is a warning that names it, not a failure.
rm -f split5-lib.dwo
check_eq lib-dwo-gone 0 "$(ls split5-*.dwo | grep -c lib)"
run_capture miss "$SURGEON" headers split5 -o miss.h
check_eq missing-dwo-succeeds 0 "$(cat miss.rc)"
check missing-dwo-named grep -q "split5-lib.dwo: warning: cannot open split debug info" miss.err
check_eq missing-dwo-keeps-the-rest 1 "$(grep -c '^extern int weigh' miss.h)"
check_eq missing-dwo-loses-its-own 0 "$(grep -c thrice miss.h)"
# The debug info names the split objects: a FIFO there is not waited on.
rm -f split5-app.dwo; mkfifo split5-app.dwo
run_capture fifo timeout 20 "$SURGEON" headers split5 -o fifo.h
check_eq fifo-dwo-succeeds 0 "$(cat fifo.rc)"
check fifo-dwo-named grep -q "split5-app.dwo: warning: split debug info is not a regular file" fifo.err

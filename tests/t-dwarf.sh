# DWARF: `surgeon headers` writes declarations a plugin compiles against with
# -Wall -Werror, and add-lib of that plugin behaves like the same plugin
# linked from source. Then the same program stripped, its debug info in a
# separate file: a plugin calls a *static* function and reads a static
# variable that only DWARF names. Oracles: gcc-linked references (the static
# reached through a wrapper that only the reference build has), gdb, nm.
# Variants: DWARF 4, DWARF 5, compressed by gcc, compressed by objcopy.
. "$TOP/tests/lib.sh"

cat >app.c <<'C'
#include <stdio.h>
struct item { int id; char name[12]; double w; };
struct item items[3] = { { 1, "one", 1.5 }, { 2, "two", 2.5 }, { 3, "three", 3.5 } };
static int secret = 40;
void (*hook)(int);
__attribute__((noinline)) static int helper(const struct item *p) { return p->id * 100 + secret; }
__attribute__((noinline)) int weigh(struct item *p) { return (int)(p->w * 10) + helper(p); }
#ifdef REF
int ref_helper(const struct item *p) { return helper(p); }
int *ref_secret = &secret;
#endif
int main(int argc, char **argv)
{
	secret += argc;
	printf("weigh=%d\n", weigh(&items[1]));
	if (hook)
		hook(7);
	printf("items[0].w=%.1f\n", items[0].w);
	return 0;
}
C
# The plugin, one source for both builds: HDR is surgeon's header or the
# reference's hand-written one.
cat >plug.c <<'C'
#include <stdio.h>
#include HDR
static void my_hook(int x)
{
	struct item copy = items[2];	/* by value */
	copy.w += x;
	printf("hook %d: %s weighs %d\n", x, copy.name, weigh(&copy));
	items[0].w = sizeof(struct item);
#ifdef STATICS
	printf("helper=%d secret=%d\n", helper(&items[0]), secret);
#endif
}
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
cat >ref.h <<'C'
struct item { int id; char name[12]; double w; };
extern struct item items[3];
extern void (*hook)(int);
int weigh(struct item *);
int ref_helper(const struct item *);
extern int *ref_secret;
#define helper ref_helper
#define secret (*ref_secret)
C

variant() {
	local v=$1 cflags=$2 compress=$3
	gcc -no-pie -O1 $cflags -o app-$v app.c || { fail "$v-build" "gcc $cflags"; return; }
	gcc -no-pie -O1 -DREF -DHDR='"ref.h"' -o ref-$v app.c plug.c
	gcc -no-pie -O1 -DREF -DSTATICS -DHDR='"ref.h"' -o ref2-$v app.c plug.c

	# 1. Unstripped: header, plugin, add-lib.
	check "$v-headers" "$SURGEON" headers app-$v -o app-$v.h
	check "$v-plugin-compiles" gcc -Wall -Wextra -Werror -O1 -DHDR="\"app-$v.h\"" -c plug.c -o plug-$v.o
	ar rcs libplug-$v.a plug-$v.o
	check "$v-add-lib" "$SURGEON" add-lib app-$v libplug-$v.a -o app2-$v
	same_run "$v-oracle" ./ref-$v ./app2-$v

	# 2. Stripped, debug info beside it through .gnu_debuglink.
	cp app-$v s-$v
	objcopy --only-keep-debug s-$v s-$v.debug
	[ "$compress" = objcopy ] && objcopy --compress-debug-sections s-$v.debug
	strip -g -s s-$v && objcopy --add-gnu-debuglink=s-$v.debug s-$v
	if nm s-$v 2>/dev/null | grep -q helper; then fail "$v-stripped" "helper still in .symtab"; else ok "$v-stripped"; fi
	check "$v-headers-static" "$SURGEON" headers s-$v --static helper --static secret -o s-$v.h
	check "$v-static-declared" grep -q 'helper(const struct item \*) __asm__("\\"app.c:helper\\"")' s-$v.h
	check "$v-plugin2-compiles" gcc -Wall -Wextra -Werror -O1 -DSTATICS -DHDR="\"s-$v.h\"" -c plug.c -o plug2-$v.o
	ar rcs libplug2-$v.a plug2-$v.o
	run_capture add2 "$SURGEON" -v add-lib s-$v libplug2-$v.a -o s2-$v
	check_eq "$v-add-lib-static" 0 "$(cat add2.rc)"
	same_run "$v-oracle-static" ./ref2-$v ./s2-$v
	# gdb, reading the unstripped program, puts helper where surgeon found it.
	want=$(gdb -batch -ex 'info address helper' app-$v 2>/dev/null | sed -n 's/.* at address \(0x[0-9a-f]*\).*/\1/p')
	got=$(sed -n "s/.*static function 'helper' at \(0x[0-9a-f]*\) from debug info/\1/p" add2.err)
	check_eq "$v-gdb-address" "$want" "$got"
}

variant dwarf4 "-gdwarf-4" none
variant dwarf5 "-gdwarf-5" none
variant gz "-gdwarf-5 -gz" none
variant objcopy-z "-gdwarf-4" objcopy
check gz-compressed sh -c "readelf -S app-gz | grep -A1 debug_info | grep -q ' C '"
check objcopy-z-compressed sh -c "readelf -S s-objcopy-z.debug | grep -A1 debug_info | grep -q ' C '"

# Deterministic output.
"$SURGEON" headers app-dwarf5 >one.h; "$SURGEON" headers app-dwarf5 >two.h
check deterministic cmp one.h two.h

# Debuggable output: after add-lib, gdb breaks in and unwinds through old and
# new functions, prints old and new globals with their types, and lists and
# finds lines of both; addr2line resolves both; the DWARF has both units.
# Oracles: gdb on the gcc-linked reference (addresses normalised), addr2line
# on the original program and on the plugin object, readelf, eu-elflint,
# objdump -dl for `disasm --lines`. Variants: -no-pie -O0, PIE -O2, DWARF 4
# compressed with -gz, the program stripped with its debug info in a
# separate file, a program without debug info, the lld and gold linkers, and
# a second surgery on the output.
. "$TOP/tests/lib.sh"

cat >app.c <<'C'
#include <stdio.h>
#include <string.h>
struct point { int x; double y; const char *name; };
struct point origin = { 3, 4.5, "origin" };
void (*hook)(int);
__attribute__((noinline)) int old_fn(int a)
{
	__asm__ volatile("" ::: "memory");
	return a * 2 + origin.x;
}
/* A frame without a frame pointer: unwinding it needs the old CFI. */
__attribute__((noinline)) int old_outer(int a)
{
	char buf[200];
	memset(buf, a, sizeof buf);
	__asm__ volatile("" ::: "memory");
	if (hook)
		hook(buf[3] + buf[100]);
	__asm__ volatile("" ::: "memory");
	return buf[7] + 1;
}
int main(void)
{
	printf("old=%d\n", old_fn(5));
	printf("outer=%d\n", old_outer(2));
	return 0;
}
C
cat >plug.c <<'C'
#include <stdio.h>
struct point { int x; double y; const char *name; };
struct box { struct point *p; long n; };
extern struct point origin;
extern void (*hook)(int);
int old_fn(int);
struct box new_global = { &origin, 42 };
__attribute__((noinline)) void new_fn(int v)
{
	char b[100];
	snprintf(b, sizeof b, "%d", old_fn(v) + (int)new_global.n);
	printf("new=%s %s\n", b, new_global.p->name);
}
__attribute__((constructor)) static void init(void) { hook = new_fn; }
C
cat >plug2.c <<'C'
#include <stdio.h>
struct later { short k; char tag[4]; };
struct later later_global = { 9, "abc" };
int old_fn(int);
__attribute__((noinline)) int later_fn(int v) { return old_fn(v) + later_global.k; }
__attribute__((constructor)) static void init2(void) { printf("later=%d\n", later_fn(1)); }
C
cat >gdb.cmd <<'G'
break old_fn
break new_fn
run
bt
print origin
ptype origin
continue
bt
print new_global
ptype new_global
print *new_global.p
finish
finish
info line new_fn
info line old_fn
list new_fn
G
norm() { sed -E 's/0x[0-9a-f]+/ADDR/g; s/process [0-9]+/process N/' "$@"; }
# gdb_same NAME REF OUT: the same gdb session prints the same on both.
gdb_same() {
	gdb -batch -nx -x gdb.cmd "./$2" 2>&1 | norm >"$2.gdb"
	gdb -batch -nx -x gdb.cmd "./$3" 2>&1 | norm >"$3.gdb"
	if ! grep -q 'Breakpoint 2, new_fn' "$3.gdb"; then fail "$1" "no stop in new_fn: $(head -c 300 "$3.gdb" | tr '\n' ' ')"
	elif ! cmp -s "$2.gdb" "$3.gdb"; then fail "$1" "$(diff "$2.gdb" "$3.gdb" | head -6 | tr '\n' ' ')"
	else ok "$1"; fi
}
# a2l BIN SYM: file:line addr2line gives for SYM's address in BIN.
a2l() { addr2line -e "$1" "0x$(nm "$1" | awk -v s="$2" '$3 == s { print $1; exit }')"; }
# Old debug sections keep their bytes at offset 0 of the output's.
prefix_same() {
	local sec
	for sec in .debug_info .debug_abbrev .debug_line .debug_str; do
		objcopy --dump-section $sec=old.sec "$1" /dev/null 2>/dev/null
		objcopy --dump-section $sec=new.sec "$2" /dev/null 2>/dev/null
		[ -s old.sec ] && cmp -s -n "$(stat -c %s old.sec)" old.sec new.sec || { echo "$sec differs"; return 1; }
	done
}

variant() {
	local v=$1 cflags=$2 ld=${3:-}
	gcc $cflags -o app-$v app.c || { fail "$v-build" "gcc $cflags"; return; }
	gcc $cflags -o ref-$v app.c plug.c
	gcc ${cflags/-no-pie/} -c plug.c -o plug-$v.o && ar rcs libplug-$v.a plug-$v.o
	check "$v-add-lib" "$SURGEON" add-lib ${ld:+--ld $ld} app-$v libplug-$v.a -o out-$v
	same_run "$v-runs" ./ref-$v ./out-$v
	gdb_same "$v-gdb" ref-$v out-$v
	check_eq "$v-addr2line-old" "$(a2l app-$v old_fn)" "$(a2l out-$v old_fn)"
	check_eq "$v-addr2line-new" "$(a2l plug-$v.o new_fn)" "$(a2l out-$v new_fn)"
	readelf --debug-dump=info out-$v >info-$v.txt 2>info-$v.err
	check "$v-both-units" sh -c "grep -q 'DW_AT_name.*: app.c' info-$v.txt && grep -q 'DW_AT_name.*: plug.c' info-$v.txt"
	check "$v-readelf-no-dwarf-warning" sh -c "! grep -iv 'in info field' info-$v.err | grep -qi ."
	eu-elflint --gnu-ld app-$v 2>&1 | grep -v '^No errors' | sort >lint-app-$v
	eu-elflint --gnu-ld out-$v 2>&1 | grep -v "note.surgeon\|^No errors" | sort >lint-out-$v
	check "$v-elflint" cmp lint-app-$v lint-out-$v
}

variant nopie "-g -O0 -no-pie"
prefix_same app-nopie out-nopie >prefix.out 2>&1 && ok nopie-old-dwarf-prefix || fail nopie-old-dwarf-prefix "$(cat prefix.out)"
variant pie "-g -O2 -fPIE -pie"
variant dwarf4-gz "-gdwarf-4 -gz -O1 -no-pie"
variant lld "-g -O1 -no-pie" lld
variant gold "-g -O1 -no-pie" gold

# The old CFI is what gdb unwinds old frames with; the new code's is given
# as .debug_frame (the new .eh_frame is renamed so the old one is found).
check pie-one-eh-frame sh -c "[ \$(readelf -SW out-pie | grep -c ' \.eh_frame ') = 1 ]"
check pie-debug-frame sh -c "readelf --debug-dump=frames out-pie 2>/dev/null | grep -q 'Contents of the .debug_frame'"
cat >gdb2.cmd <<'G'
break old_fn
run
continue
bt
finish
finish
finish
G
gdb -batch -nx -x gdb2.cmd ./ref-pie 2>&1 | norm >unw-ref
gdb -batch -nx -x gdb2.cmd ./out-pie 2>&1 | norm >unw-out
check pie-unwind-old-new-old cmp unw-ref unw-out
check pie-unwind-reaches-main grep -q 'in main () at app.c' unw-out

# Stripped program, debug info in a file .gnu_debuglink names.
cp app-nopie s && objcopy --only-keep-debug s s.debug && strip -g s && objcopy --add-gnu-debuglink=s.debug s
check separate-add-lib "$SURGEON" add-lib s libplug-nopie.a -o out-s
gdb_same separate-gdb ref-nopie out-s
check_eq separate-addr2line-old "$(a2l app-nopie old_fn)" "$(a2l out-s old_fn)"

# No old debug info: the new code's is still there.
gcc -O0 -no-pie -o nodbg app.c
check nodbg-add-lib "$SURGEON" add-lib nodbg libplug-nopie.a -o out-n
gdb -batch -nx -ex 'break new_fn' -ex run -ex 'print new_global' -ex 'ptype struct box' ./out-n 2>&1 | norm >nodbg.gdb
check nodbg-gdb-new sh -c "grep -q 'new_fn (v=4) at plug.c:11' nodbg.gdb && grep -q '{p = ADDR <origin>, n = 42}' nodbg.gdb && grep -q 'long n;' nodbg.gdb"
check_eq nodbg-addr2line-new "$(a2l plug-nopie.o new_fn)" "$(a2l out-n new_fn)"

# unexec + relink (the full object) gives the same debug info as add-lib.
check unexec "$SURGEON" unexec app-nopie -o app.o -T app.ld
check relink "$SURGEON" relink app.o -T app.ld libplug-nopie.a -o out-r
gdb_same relink-gdb ref-nopie out-r
check relink-roundtrip sh -c "'$SURGEON' relink app.o -T app.ld -o rt && cmp rt app-nopie"

# A second surgery on the output: three units, all resolvable.
gcc -g -O0 -c plug2.c && ar rcs libplug2.a plug2.o
check second-add-lib "$SURGEON" add-lib out-nopie libplug2.a -o out-2
check second-no-dwarf-warning sh -c "! '$SURGEON' -v add-lib out-nopie libplug2.a -o out-2b 2>&1 | grep -q 'debug info.*carrying on\|not usable'"
check_eq second-addr2line-old "$(a2l app-nopie old_fn)" "$(a2l out-2 old_fn)"
check_eq second-addr2line-first "$(a2l plug-nopie.o new_fn)" "$(a2l out-2 new_fn)"
check_eq second-addr2line-second "$(a2l plug2.o later_fn)" "$(a2l out-2 later_fn)"
gdb -batch -nx -ex 'break later_fn' -ex 'break new_fn' -ex run -ex bt -ex 'print later_global' \
	-ex continue -ex 'print new_global' -ex 'print origin' ./out-2 2>&1 | norm >second.gdb
check second-gdb sh -c "grep -q 'later_fn (v=1) at plug2.c:5' second.gdb && grep -q '{k = 9, tag = \"abc\"}' second.gdb &&
	grep -q 'new_fn (v=4) at plug.c:11' second.gdb && grep -q '{x = 3, y = 4.5, name = ADDR \"origin\"}' second.gdb"

# A definition the program already has is still named as the program's,
# now that ld can name it by source line.
printf 'int old_fn(int a) { return a; }\n' >dup.c
gcc -g -c dup.c && ar rcs libdup.a dup.o
run_capture dup "$SURGEON" add-lib app-nopie libdup.a -o out-dup
check dup-already-defined grep -q "defines 'old_fn', which the program already defines" dup.err

# disasm --lines against objdump -dl, for an old and a new function.
lines_of() { grep -E '^(/|[[:space:]]*[0-9a-f]+:)' | sed -E 's/ \(discriminator [0-9]+\)//; s/^[[:space:]]*([0-9a-f]+):.*/\1/'; }
for f in old_outer new_fn; do
	"$SURGEON" disasm --lines out-pie $f 2>dis.err | lines_of >dis-$f
	objdump -dl --no-show-raw-insn out-pie | sed -n "/<$f>:/,/^\$/p" | lines_of >obj-$f
	check "disasm-lines-$f" cmp obj-$f dis-$f
	check "disasm-lines-$f-annotated" grep -q "app.c:\|plug.c:" dis-$f
done
check disasm-lines-no-warning sh -c "! grep -q . dis.err"
"$SURGEON" disasm --lines nodbg old_fn >dis-nodbg 2>&1
check disasm-lines-no-debug-info sh -c "grep -q 'old_fn' dis-nodbg && ! grep -q '\.c:' dis-nodbg"

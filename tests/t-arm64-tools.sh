# aarch64 programs through info, disasm, headers and verify, the page sizes
# of new segments, and the aarch64 inputs surgeon refuses:
#  - info names the machine, and its JSON segments are readelf's;
#  - disasm's branch targets (b, bl, b.cond, cbz, tbz) are objdump's, and
#    bti/paciasp, which capstone 4 calls hints, are named;
#  - headers writes declarations that aarch64-linux-gnu-gcc compiles, and a
#    plugin built with them behaves as when linked from source;
#  - a program linked for 64 KiB pages gets new segments aligned to 64 KiB,
#    one linked for 4 KiB pages 4 KiB ones (offset and address agree modulo
#    p_align), and both run;
#  - a program loaded between 2^47 and 2^48 is taken on aarch64, refused
#    for x86-64 (user_end in struct arch);
#  - an input of the other machine is refused by name before the link;
#  - aarch64_be and ILP32 programs, and an aarch64 file given as a core, are
#    refused in one line.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
P=$TOP/tests/pie

$A64CC -O1 -g -o app "$P/app.c" || fail build "$A64CC failed"
check_eq info-machine "machine: aarch64" "$("$SURGEON" info app | grep '^machine:')"
"$SURGEON" info --json app >app.json
check_eq info-json-aligns "$(readelf -lW app | awk '$1 ~ /^[A-Z_]+$/ && NF >= 8 { print $NF }' | tr '\n' ' ')" \
	"$(python3 -c 'import json,sys; print(" ".join(hex(s["align"]) for s in json.load(open("app.json"))["segments"]) + " ")')"
check_eq info-json-machine aarch64 "$(python3 -c 'import json; print(json.load(open("app.json"))["machine"])')"

# disasm: every direct branch's target, named as objdump names it.
branches_objdump() {
	aarch64-linux-gnu-objdump -d "$1" |
	awk -F'\t' '/^ *[0-9a-f]+:/ && $3 ~ /^(b|bl|b\.[a-z]+|cbn?z|tbn?z)$/ {
		a = $1; sub(/:.*/, "", a); gsub(/ /, "", a); t = $4; sub(/.*</, "", t); sub(/>.*/, "", t); print a, t }'
}
branches_surgeon() {
	"$SURGEON" disasm "$1" | awk -F'\t' '/^ *[0-9a-f]+:/ { split($2, w, " "); m = w[1]
		if (m !~ /^(b|bl|b\.[a-z]+|cbn?z|tbn?z)$/) next
		a = $1; sub(/:.*/, "", a); gsub(/ /, "", a); t = $2
		if (t ~ /</) { sub(/.*</, "", t); sub(/>.*/, "", t) } else { n = split(t, x, " "); t = x[n] }
		print a, t }'
}
branches_objdump app >b.objdump; branches_surgeon app >b.surgeon
check disasm-has-branches test "$(wc -l <b.objdump)" -gt 10
check disasm-branches-as-objdump cmp b.objdump b.surgeon
$A64CC -O1 -mbranch-protection=standard -c -o bti.o "$P/plug_a.c" &&
check disasm-names-bti sh -c "'$SURGEON' disasm bti.o 2>/dev/null | grep -q 'bti c\|paciasp' || { aarch64-linux-gnu-gcc -O1 -mbranch-protection=standard -o bti-app '$P/app.c' && '$SURGEON' disasm bti-app main | grep -qE '^ *[0-9a-f]+:.(bti c|paciasp)'; }"

# headers: declarations from the debug info, compiled and used.
if "$SURGEON" headers app >app.h 2>headers.err; then
	check headers-compile $A64CC -fsyntax-only -include app.h -x c /dev/null
	cat >useh.c <<'C'
#include "app.h"
#include <stdio.h>
__attribute__((constructor)) static void useh(void) { printf("from the header: %d %d %s\n", add(2), table[3], greeting); }
C
	$A64CC -O1 -c -o useh.o useh.c && $A64AR rcs libuseh.a useh.o &&
	sed '/#include "app.h"/d' useh.c >useh-ref.c && $A64CC -O1 -o useh-ref "$P/app.c" -include app.h useh-ref.c &&
	check headers-add-lib "$SURGEON" add-lib app libuseh.a -o useh-out &&
	a64_same headers-oracle ./useh-ref ./useh-out
else
	fail headers "$(head -2 headers.err | tr '\n' ' ')"
fi

# Page sizes: new PT_LOADs follow the program's p_align.
for pg in 0x10000 0x1000; do
	$A64CC -O1 -Wl,-z,max-page-size=$pg -o pg$pg "$P/app.c" && $A64CC -O1 -c -o pa.o "$TOP/tests/pie/plug_a.c" &&
	$A64AR rcs libpa.a pa.o && $A64CC -O1 -Wl,-z,max-page-size=$pg -o pgref$pg "$P/app.c" "$P/plug_a.c" || {
		fail "page-$pg-build" "$A64CC failed"; continue; }
	check "page-$pg-add-lib" "$SURGEON" add-lib pg$pg libpa.a -o pgout$pg
	[ -x pgout$pg ] || continue
	check_eq "page-$pg-new-aligns" "$pg" "$(readelf -lW pgout$pg | awk '$1 == "LOAD" { a = $NF } END { print a }')"
	check_eq "page-$pg-congruent" "" "$(readelf -lW pgout$pg | awk -v p=$pg '$1 == "LOAD" && (strtonum($2) - strtonum($3)) % strtonum(p) { print }')"
	a64_same "page-$pg-oracle" ./pgref$pg ./pgout$pg
done

# Refused in one line: aarch64_be, ILP32 (made with the cross tools when
# they can, else by hand), an aarch64 program as a core.
printf 'void _start(void) { for (;;); }\n' >tiny.c
if $A64CC -mbig-endian -O1 -c -o be.o tiny.c 2>/dev/null && aarch64-linux-gnu-ld -EB -static -nostdlib -e _start -o be be.o 2>/dev/null; then :
else cp app be && printf '\002' | dd of=be bs=1 seek=5 conv=notrunc status=none && printf '\000\267' | dd of=be bs=1 seek=18 conv=notrunc status=none; fi
if $A64CC -mabi=ilp32 -O1 -c -o ilp.o tiny.c 2>/dev/null && aarch64-linux-gnu-ld -m aarch64linux32 -static -nostdlib -e _start -o ilp ilp.o 2>/dev/null; then :
else cp app ilp && printf '\001' | dd of=ilp bs=1 seek=4 conv=notrunc status=none; fi
refuse() {	# refuse NAME PATTERN CMD...
	local n=$1 pat=$2; shift 2
	run_capture "$n" "$@"
	check_eq "$n-rc" 1 "$(cat $n.rc)"
	check_eq "$n-one-line" 1 "$(wc -l <$n.err)"
	check "$n-why" grep -q "$pat" $n.err
}
refuse be-info "^surgeon: be: is a big-endian aarch64 program (aarch64_be); surgeon handles little-endian aarch64 only" "$SURGEON" info be
refuse be-add-lib "^surgeon: be: is a big-endian aarch64" "$SURGEON" add-lib be libpa.a -o be.new
refuse ilp-add-lib "^surgeon: ilp: is an aarch64 ILP32 program (32-bit ELF); surgeon handles 64-bit (LP64) aarch64 only" "$SURGEON" add-lib ilp libpa.a -o ilp.new
refuse core-is-program "^surgeon: app: is a PIE or shared library, not a core file" "$SURGEON" unexec --core app --exe app -o core.o

# User space ends at 2^48 on aarch64 (48-bit VA), at 2^47 on x86-64: a
# program loaded between the two is an aarch64 program's right, and an
# x86-64 program's impossibility (the kernel would not map it).
if $A64CC -O1 -c -o tiny64.o tiny.c && aarch64-linux-gnu-ld -static -nostdlib -e _start -Ttext-segment=0x900000000000 -o high tiny64.o; then
	check high-aarch64-info sh -c "'$SURGEON' info high | grep -q 0x9000000"
	check high-aarch64-unexec "$SURGEON" unexec high -o high.o
	check high-aarch64-relink "$SURGEON" relink high.o -o high.again
	check high-aarch64-same cmp high high.again
else
	fail high-aarch64-build "aarch64-linux-gnu-ld failed"
fi
if gcc -O1 -c -o tinyx.o tiny.c && ld -static -nostdlib -e _start -Ttext-segment=0x900000000000 -o highx tinyx.o; then
	refuse high-x86-64 "^surgeon: highx: program header 0: addresses 0x900000000000+0x[0-9a-f]* do not fit in user space" "$SURGEON" info highx
else
	fail high-x86-64-build "ld failed"
fi

# An input of the other machine, named on the command line, is refused by
# surgeon before the link (ld would say only "file in wrong format"); one
# found by -l is skipped, as ld skips it.
gcc -O1 -c -o px86.o "$P/plug_a.c" && ar rcs libpx86.a px86.o && gcc -O1 -o appx86 "$P/app.c" || fail wrong-machine-build "gcc failed"
refuse wrong-machine-member "^surgeon: app: input libpx86.a (member px86.o) is an x86-64 object, and the program is an aarch64 one: build it with aarch64-linux-gnu-gcc$" "$SURGEON" add-lib app libpx86.a -o wm1
refuse wrong-machine-object "^surgeon: appx86: input pa.o is an aarch64 object, and the program is an x86-64 one: build it with gcc$" "$SURGEON" add-lib appx86 pa.o -o wm2
check_eq wrong-machine-no-output "" "$(ls wm1 wm2 2>/dev/null)"
run_capture wm3 "$SURGEON" add-lib appx86 -L. -lpa -o wm3
check wrong-machine-l-skipped grep -q "skipping incompatible ./libpa.a when searching for -lpa" wm3.err

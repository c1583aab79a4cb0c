# surgeon built for aarch64 and run as on an aarch64 machine: cross-built
# (make CROSS=aarch64-linux-gnu- SYSROOT=...) against Debian's arm64 -dev
# packages (a64_fetch: a private apt state, dpkg -x), and run under
# qemu-aarch64 with a PATH of aarch64 tools only (gcc, cc, ld, ar: what an
# arm64 machine has), so aarch64 programs are its native ones:
#  - add-lib of PIE, ET_EXEC, static and static-pie programs behaves as the
#    program linked from source, verify accepts each, and the bytes are
#    those the x86-64 surgeon writes for the same inputs;
#  - unexec + relink gives the program back byte for byte;
#  - info names the machine as readelf does, disasm's branch targets are
#    objdump's, headers' declarations compile;
#  - an x86-64 program is a cross program to it: refused in one line naming
#    the machine and Debian's package when no x86-64 compiler is on PATH,
#    relinked (and run here) when there is one;
#  - inject is refused in one line: live/remote.c is x86-64 code.
# The build and the unpacked packages stay in $TESTOUT between runs.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
if [ "$A64NATIVE" = 1 ]; then
	echo "skip arm64-native: on aarch64 the whole suite runs a native surgeon"
	exit 0
fi
P=$TOP/tests/pie
QEMU=$(command -v qemu-aarch64)

why=$(a64_build_surgeon)
case $? in
1) echo "skip arm64-native: cannot have the arm64 -dev packages: $why"; exit 0 ;;
2) fail build "$(grep -m3 -E 'error|cannot' build.log | tr '\n' ' ')"; exit 0 ;;
esac
ROOT=$A64_DEVROOT
B=$A64_BUILD
LIBDIR=$ROOT/usr/lib/aarch64-linux-gnu:$ROOT/lib/aarch64-linux-gnu
check_eq build-is-aarch64 AArch64 "$(readelf -hW "$B/surgeon" | sed -n 's/^ *Machine: *//p')"

# An arm64 machine's tools, by their plain names.
mkdir bin
for t in gcc cc:gcc ld ar as; do ln -s "$(command -v "aarch64-linux-gnu-${t#*:}")" "bin/${t%%:*}"; done
printf '#!/bin/sh\nexec env PATH="%s" "%s" -L "%s" -E LD_LIBRARY_PATH="%s" "%s" "$@"\n' \
	"$T/bin" "$QEMU" "$A64ROOT" "$LIBDIR" "$B/surgeon" >s64 && chmod +x s64
S64=$T/s64

check_eq version "surgeon $(sed -n 's/.*SURGEON_VERSION "\(.*\)"/\1/p' "$TOP/include/surgeon.h")" "$("$S64" --version)"

$A64CC -O1 -c -o plug_a.o "$P/plug_a.c" && $A64AR rcs liba.a plug_a.o &&
$A64CC -O1 -c -o plug_b.o "$P/plug_b.c" && $A64AR rcs libb.a plug_b.o || fail plugins-build "cannot compile the plugins"

# pair NAME BUILD-FLAGS PLUGIN LIBS...: as in t-arm64-oracle.sh.
pair() {
	local n=$1 flags=$2 plug=$3; shift 3
	local exp= cf=-O1
	[ "$plug" = b ] && [ "$flags" != -static ] && exp=-Wl,--export-dynamic-symbol=plug_entry
	case $flags in -static*) cf="-O1 -DNO_DLSYM" ;; esac
	if ! $A64CC $cf $flags -o "$n-app" "$P/app.c" || ! $A64CC $cf $flags -o "$n-ref" "$P/app.c" "$P/plug_$plug.c" "$@" $exp; then
		fail "$n-build" "$A64CC failed"
		return
	fi
	check "$n-add-lib" "$S64" add-lib "$n-app" "lib$plug.a" "$@" -o "$n-out"
	[ -x "$n-out" ] || return
	a64_same "$n-oracle" "./$n-ref" "./$n-out" x y
	check "$n-verify" "$S64" verify "$n-app" "$n-out"
	check "$n-as-x86-surgeon" sh -c "'$SURGEON' add-lib '$n-app' 'lib$plug.a' $* -o '$n-x86' && cmp '$n-out' '$n-x86'"
}
pair a-pie "" a
pair b-pie "" b -lm
check b-dlsym-found grep -qx 'dlsym plug_entry: found' "$T/.b.out"
pair c-exec -no-pie b -lm
pair d-static -static a
pair e-static-pie -static-pie a

for p in a-pie c-exec d-static e-static-pie; do
	[ -f "$p-app" ] || continue
	check "$p-roundtrip" sh -c "'$S64' unexec '$p-app' -o '$p.o' && '$S64' relink '$p.o' -o '$p.rt' && cmp '$p-app' '$p.rt'"
done

# info, disasm, headers on a program with debug info.
$A64CC -O1 -g -o app "$P/app.c" || fail app-build "$A64CC failed"
check_eq info-machine "machine: aarch64" "$("$S64" info app | grep '^machine:')"
check_eq info-entry "$(readelf -hW app | awk '/Entry point/ { print $4 }')" "$("$S64" info app | awk '/^entry:/ { print $2 }')"
aarch64-linux-gnu-objdump -d app | awk -F'\t' '/^ *[0-9a-f]+:/ && $3 ~ /^(b|bl|b\.[a-z]+|cbn?z|tbn?z)$/ {
	a = $1; sub(/:.*/, "", a); gsub(/ /, "", a); t = $4; sub(/.*</, "", t); sub(/>.*/, "", t); print a, t }' >b.objdump
"$S64" disasm app | awk -F'\t' '/^ *[0-9a-f]+:/ { split($2, w, " "); m = w[1]
	if (m !~ /^(b|bl|b\.[a-z]+|cbn?z|tbn?z)$/) next
	a = $1; sub(/:.*/, "", a); gsub(/ /, "", a); t = $2
	if (t ~ /</) { sub(/.*</, "", t); sub(/>.*/, "", t) } else { n = split(t, x, " "); t = x[n] }
	print a, t }' >b.surgeon
check disasm-has-branches test "$(wc -l <b.objdump)" -gt 10
check disasm-branches-as-objdump cmp b.objdump b.surgeon
if "$S64" headers app >app.h 2>headers.err; then
	check headers-compile $A64CC -fsyntax-only -include app.h -x c /dev/null
	check headers-declares-add grep -q 'add(' app.h
else
	fail headers "$(head -2 headers.err | tr '\n' ' ')"
fi

# x86-64 programs: cross programs for this surgeon.
if gcc -O1 -o x86-app "$P/app.c" && gcc -O1 -c -o x86-plug.o "$P/plug_a.c" && ar rcs libx86.a x86-plug.o &&
   gcc -O1 -o x86-ref "$P/app.c" "$P/plug_a.c"; then
	run_capture nox86 "$S64" add-lib x86-app libx86.a -o x86-none
	check_eq x86-refused-rc 1 "$(cat nox86.rc)"
	check_eq x86-refused-one-line 1 "$(wc -l <nox86.err)"
	check x86-refused-names-machine grep -q "^surgeon: x86_64-linux-gnu-gcc: .*the x86-64 cross compiler is needed for x86-64 programs (Debian: gcc-x86-64-linux-gnu)$" nox86.err
	check x86-not-written test ! -e x86-none
	check x86-cross-add-lib env PATH="$T/bin:$PATH" "$QEMU" -L "$A64ROOT" -E LD_LIBRARY_PATH="$LIBDIR" "$B/surgeon" \
		add-lib x86-app libx86.a -o x86-out
	[ -x x86-out ] && same_run x86-cross-oracle ./x86-ref ./x86-out x y
else
	fail x86-build "gcc failed"
fi

# Live injection: refused before the process is touched.
sleep 30 & victim=$!
run_capture inject "$S64" inject $victim liba.a
kill $victim 2>/dev/null; wait $victim 2>/dev/null
check_eq inject-refused-rc 1 "$(cat inject.rc)"
check inject-refused grep -qx "surgeon: $victim: inject and eject run code in the process with x86-64 instructions and registers; this surgeon was built for another machine" inject.err

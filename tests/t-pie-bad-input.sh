# Inputs surgeon must refuse (or handle) on dynamic and PIE programs, each
# with a message that names what is wrong:
#  - an import no shared library provides (zlibVersion without -lz): an error
#    naming the symbol and the member that needs it; with -lz it links, gets
#    DT_NEEDED libz.so.1, and runs;
#  - non-PIC code added to a PIE: an absolute 32-bit reference (movl $counter,
#    %eax; R_X86_64_32) cannot be carried: the error says to rebuild
#    position-independent and names the member and the symbol;
#  - non-PIC large-model code (-mcmodel=large -fno-pic: R_X86_64_64 in .text)
#    needs text relocations in a PIE: a normal gcc link makes DT_TEXTREL and
#    the program works; surgeon must either produce a working program (the
#    oracle) or refuse with a message that says to rebuild with -fPIC. It
#    must not write a program that crashes at load;
#  - the same objects in a static-pie;
# (a clash with an old export is in t-dynamic-exports.sh).
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie
CF="-O1"

gcc $CF -o app "$P/app.c" && gcc $CF -static-pie -DNO_DLSYM -o sapp "$P/app.c" || fail build "gcc failed"

# A missing import.
gcc $CF -c -o plug_undef.o "$P/plug_undef.c" && ar rcs libundef.a plug_undef.o
run_capture undef "$SURGEON" add-lib app libundef.a -o out-undef
check_eq undef-fails 1 "$(cat undef.rc)"
check undef-names-symbol grep -q "'zlibVersion'" undef.err
check undef-names-member grep -q 'libundef.a(plug_undef.o)' undef.err
check undef-no-output test ! -e out-undef
if [ -e /usr/lib/x86_64-linux-gnu/libz.so ] || [ -e /lib/x86_64-linux-gnu/libz.so ]; then
	check undef-with-lz "$SURGEON" add-lib app libundef.a -lz -o out-z
	if [ -x out-z ]; then
		check undef-with-lz-needed grep -q 'NEEDED.*\[libz\.so\.1\]' <(readelf -dW out-z)
		gcc $CF -o ref-z "$P/app.c" "$P/plug_undef.c" -lz && same_run undef-with-lz-oracle ./ref-z ./out-z
	fi
else
	echo "skip undef-with-lz: no libz.so"
fi

# Absolute 32-bit reference in a PIE.
gcc -fno-pic -no-pie $CF -c -o plug_abs32.o "$P/plug_abs32.c" && ar rcs libabs32.a plug_abs32.o
check abs32-has-r32 grep -q 'R_X86_64_32 .*counter' <(readelf -rW plug_abs32.o)
run_capture abs32 "$SURGEON" add-lib app libabs32.a -o out-abs32
check_eq abs32-fails 1 "$(cat abs32.rc)"
check abs32-says-rebuild grep -qiE -- '-fPI[CE]' abs32.err
check abs32-names-member grep -q 'libabs32.a(plug_abs32.o)' abs32.err
check abs32-names-symbol grep -q 'counter' abs32.err
check abs32-no-output test ! -e out-abs32
run_capture sabs32 "$SURGEON" add-lib sapp libabs32.a -o out-sabs32
check_eq static-pie-abs32-fails 1 "$(cat sabs32.rc)"
check static-pie-abs32-says-rebuild grep -qiE -- '-fPI[CE]' sabs32.err
# In an ET_EXEC the same object is fine: absolute addresses are what it uses.
gcc $CF -no-pie -o eapp "$P/app.c"
check exec-abs32-add-lib "$SURGEON" add-lib eapp libabs32.a -o out-eabs32
[ -x out-eabs32 ] && check_eq exec-abs32-runs 1 "$(./out-eabs32 >/dev/null; echo $?)"

# Large-model non-PIC code: text relocations.
gcc -fno-pic -mcmodel=large $CF -c -o plug_large.o "$P/plug_a.c" && ar rcs liblarge.a plug_large.o
check large-has-text-r64 grep -q "R_X86_64_64" <(readelf -rW plug_large.o | sed -n "/'.rela.text'/,/^$/p")
run_capture large "$SURGEON" add-lib app liblarge.a -o out-large
if [ "$(cat large.rc)" = 0 ]; then
	gcc $CF -o ref-large "$P/app.c" plug_large.o 2>/dev/null
	same_run large-works-or-refused ./ref-large ./out-large
else
	if grep -qiE -- '-fPI[CE]' large.err; then ok large-works-or-refused; else fail large-works-or-refused "refused without saying to rebuild with -fPIC: $(head -2 large.err | tr '\n' ' ')"; fi
	check large-no-output test ! -e out-large
fi
run_capture slarge "$SURGEON" add-lib sapp liblarge.a -o out-slarge
if [ "$(cat slarge.rc)" = 0 ]; then
	gcc $CF -static-pie -DNO_DLSYM -o ref-slarge "$P/app.c" plug_large.o 2>/dev/null
	same_run static-pie-large-works-or-refused ./ref-slarge ./out-slarge
else
	if grep -qiE -- '-fPI[CE]' slarge.err; then ok static-pie-large-works-or-refused; else fail static-pie-large-works-or-refused "refused without saying to rebuild with -fPIC: $(head -2 slarge.err | tr '\n' ' ')"; fi
fi

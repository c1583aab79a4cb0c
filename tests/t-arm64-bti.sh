# aarch64 BTI and PAC (GNU_PROPERTY_AARCH64_FEATURE_1_AND): the output keeps
# the program's claims only when they stay true. The linker ANDs the
# program's bits (the frozen object carries them), surgeon's own code's
# (thunks and trampolines start with bti c and sign their return address)
# and every input's:
#  - a plugin built with -mbranch-protection=standard: BTI kept, no edit;
#  - one built without: BTI dropped from the program's property, with a
#    warning and a recorded edit that verify lists;
#  - --wrap of a function whose landing pad is its paciasp: the entry gets
#    bti c before the jump (the paciasp runs in __real_SYM), so it stays a
#    landing pad, as objdump reads it.
# Debian's crt files have no BTI notes, so the program is marked with
# -z force-bti; such a program does not run (its start-up code has no
# landing pads), and what is checked is the files, not a run.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
P=$TOP/tests/pie

feature() { readelf -nW "$1" | sed -n 's/.*AArch64 feature: *//p'; }
if ! $A64CC -O1 -mbranch-protection=standard -Wl,-z,force-bti -o app "$P/app.c" 2>/dev/null ||
   ! $A64CC -O1 -mbranch-protection=standard -c -o bti.o "$P/plug_a.c" || ! $A64AR rcs libbti.a bti.o ||
   ! $A64CC -O1 -c -o plain.o "$P/plug_a.c" || ! $A64AR rcs libplain.a plain.o; then
	fail build "$A64CC failed"
	exit 0
fi
check_eq program-has-bti BTI "$(feature app)"

run_capture kept "$SURGEON" add-lib app libbti.a -o kept.new
check_eq kept-rc 0 "$(cat kept.rc)"
check_eq kept-bti BTI "$(feature kept.new)"
check_eq kept-no-warning "" "$(cat kept.err)"
"$SURGEON" verify -v app kept.new >kept.v
check_eq kept-no-edit "" "$(grep 'GNU property' kept.v)"

run_capture dropped "$SURGEON" add-lib app libplain.a -o dropped.new
check_eq dropped-rc 0 "$(cat dropped.rc)"
check_eq dropped-bti "" "$(feature dropped.new)"
check dropped-warning grep -q "^surgeon: app: warning: BTI dropped (the added code is not built with gcc -mbranch-protection=standard)" dropped.err
"$SURGEON" verify -v app dropped.new >dropped.v
check_eq dropped-verify 0 $?
check dropped-edit-listed grep -q "GNU property: BTI dropped" dropped.v

# main begins with paciasp, its landing pad: --wrap main keeps one there.
printf 'int __real_main(int, char **);\nint __wrap_main(int c, char **v) { return __real_main(c, v) + 1; }\n' >wm.c
$A64CC -O1 -mbranch-protection=standard -c -o wm.o wm.c && $A64AR rcs libwm.a wm.o
a=$(nm app | awk '$3 == "main" { print $1 }')
# insns FILE ADDR: the two instructions at ADDR, "mnemonic operands|...", as objdump reads them.
insns() { aarch64-linux-gnu-objdump -d --start-address=0x$2 --stop-address=$(printf '0x%x' $((0x$2 + 8))) "$1" |
	  awk -F'\t' '/^ *[0-9a-f]+:/ { m = $3; if (NF > 3 && m != "b" && m != "bl") m = m " " $4; printf "%s|", m }'; }
check_eq main-starts-with-paciasp "paciasp|" "$(insns app $a | cut -d'|' -f1)|"
check wrap-main "$SURGEON" add-lib app libwm.a --wrap main -o wrap.new
check_eq wrap-entry-bti-then-b "bti c|b|" "$(insns wrap.new $a)"
check_eq wrap-bti-kept BTI "$(feature wrap.new)"
r=$(nm wrap.new | awk '$3 == "__real_main" { print $1 }')
check_eq real-main-runs-paciasp "bti c|paciasp|" "$(insns wrap.new $r)"

# Conventions of binutils-style tools that the man pages promise: GNU-style
# one-line diagnostics, the documented exit statuses, no colour, and the
# same output for the same inputs (no timestamps: nothing for
# SOURCE_DATE_EPOCH to fix in what surgeon writes).
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
int main(void) { printf("%d\n", counter); return 0; }
C
printf 'extern int counter;\nint bump(void) { return ++counter; }\n' >plug.c
gcc -no-pie -O1 -o app app.c && gcc -O1 -c plug.c && ar rcs libplug.a plug.o || { fail build "cannot build"; exit 0; }

# Errors: "surgeon: FILE: message", one line, status 1.
echo 'not elf' >junk
for v in "info junk" "info --map junk" "verify junk junk" "disasm junk" "unexec junk -o j.o" "add-lib junk libplug.a -o j"; do
	n=err-$(echo "$v" | tr ' ' '-' | tr -d -- '-' | cut -c1-20)
	run_capture "$n" "$SURGEON" $v
	check_eq "$n" "1 1 yes" "$(cat "$n.rc") $(wc -l <"$n.err") $(grep -q '^surgeon: junk: ' "$n.err" && echo yes || echo no)"
done
# Usage errors: status 2, the message and a hint to try --help.
for v in "info" "info --map a b c" "add-lib" "frobnicate" "info --frobnicate x"; do
	n=usage-$(echo "$v" | tr ' ' '-' | tr -d -- '-' | cut -c1-20)
	run_capture "$n" "$SURGEON" $v
	check_eq "$n" "2 2 yes" "$(cat "$n.rc") $(wc -l <"$n.err") $(sed -n 2p "$n.err" | grep -qx "Try 'surgeon --help'." && echo yes || echo no)"
done
# verify: 0 proved, 1 not proved.
check verify-proved "$SURGEON" add-lib app libplug.a -o app2
run_capture proved "$SURGEON" verify app app2
cp app2 app3 && printf '\x90' | dd of=app3 bs=1 seek=$((0x1000 + 16)) conv=notrunc status=none
run_capture unproved "$SURGEON" verify app app3
check_eq verify-status "0 1" "$(cat proved.rc) $(cat unproved.rc)"

# No colour: no escape sequence in anything surgeon prints, even on request.
NO_COLOR= TERM=xterm-256color "$SURGEON" info --map app app2 >map.out 2>&1
"$SURGEON" -v add-lib app libplug.a -o app4 >v.out 2>&1
check_eq no-escapes "" "$(cat map.out v.out proved.out unproved.out | grep -c $'\e' | grep -v '^0$')"

# The same inputs give the same bytes: add-lib, unexec, at other times and
# with other file times on the inputs.
"$SURGEON" add-lib app libplug.a -o r1 && "$SURGEON" unexec app -o u1.o
sleep 1
touch -d @86400 app libplug.a
"$SURGEON" add-lib app libplug.a -o r2 && "$SURGEON" unexec app -o u2.o
check same-add-lib-output cmp r1 r2
check same-unexec-output cmp u1.o u2.o
check same-script cmp u1.ld u2.ld

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
# The link verbs share an option table; each refuses, by name, what it does
# not take (unexec links nothing; relink's object is frozen; only unexec
# undumps), instead of ignoring it.
"$SURGEON" unexec app -o app.o >/dev/null 2>&1
for v in "unexec app -l m -o x.o|unexec does not take -l" "unexec app --replace a=b -o x.o|unexec does not take --replace" \
	"unexec app --ld lld -o x.o|unexec does not take --ld" "relink app.o --allow-interpose -o x|relink does not take --allow-interpose" \
	"add-lib app libplug.a --pid 1 -o x|add-lib does not take --pid" "relink app.o --anon -o x|relink does not take --anon"; do
	n=refuse-$(echo "${v%%|*}" | tr ' ' '-' | tr -d -- '-=' | cut -c1-24)
	run_capture "$n" "$SURGEON" ${v%%|*}
	check_eq "$n" "2 surgeon: ${v#*|} no" "$(cat "$n.rc") $(head -1 "$n.err") $([ -e x ] || [ -e x.o ] && echo yes || echo no)"
done
# What relink's --help offers, it does: --replace through a relink.
printf '#include <stdio.h>\n__attribute__((noinline)) int value(void) { return 5; }\nint main(void) { printf("%%d\\n", value()); return 0; }\n' >fapp.c
printf 'int value_fixed(void) { return 99; }\n' >fix.c
gcc -no-pie -O1 -o fapp fapp.c && gcc -O1 -c fix.c && "$SURGEON" unexec fapp -o fapp.o >/dev/null 2>&1
check relink-replace "$SURGEON" relink fapp.o fix.o --replace value=value_fixed --export=none -o fapp2
check_eq relink-replace-runs "5 99" "$(./fapp) $(./fapp2)"

# The output is renamed into place: a device is refused and stays a device
# (as root, -o /dev/null used to replace /dev/null), a symbolic link keeps
# pointing where it did and what it leads to is the output.
if mknod nulldev c 1 3 2>/dev/null; then
	run_capture outdev "$SURGEON" add-lib app libplug.a -o nulldev
	check_eq output-device "1 surgeon: nulldev: is not a regular file (surgeon writes a new file and renames it into place) yes" \
		"$(cat outdev.rc) $(cat outdev.err) $([ -c nulldev ] && echo yes || echo no)"
else
	echo "skip output-device: cannot make a device node here (not root)"
fi
: >target && ln -s target lnk
check output-symlink "$SURGEON" add-lib app libplug.a -o lnk
check_eq output-symlink-kept "yes yes" "$([ -L lnk ] && echo yes) $([ -x target ] && ./target | grep -qx 5 && echo yes)"
ln -s nowhere/x dangling
before=$(ls -A | sort | tr '\n' ' ')
err=$("$SURGEON" add-lib app libplug.a -o dangling 2>&1 >/dev/null); rc=$?
check_eq output-dangling "1 1 $before" "$rc $(printf '%s\n' "$err" | wc -l) $(ls -A | sort | tr '\n' ' ')"

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

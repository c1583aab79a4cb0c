# surgeon disasm against objdump: the same instruction boundaries on dynamic,
# static and PIE programs (objdump -d -z, so zero padding is decoded too),
# the same call targets, and operand references found by --xrefs.
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
int table[10];
void (*hook)(int);
int add(int a) { return a + counter; }
__attribute__((noinline)) int sw(int x)
{
	switch (x) {
	case 0: return counter + 11; case 1: return table[1] * 22; case 2: return 37 ^ counter;
	case 3: return 41 + table[3]; case 4: return counter * 53; case 5: return 67 - table[5];
	case 6: return 71 | counter; case 7: return table[7] - 9; default: return -1;
	}
}
int main(int argc, char **argv) { table[2] = 3; printf("add=%d %d\n", add(1), sw(argc)); if (hook) hook(42); printf("counter=%d\n", counter); return counter; }
C
# Data in code: a function followed by bytes that are no instruction, and a
# truncated VEX prefix, before the next symbol.
cat >junk.s <<'S'
	.text
	.globl junk, after_junk
	.type junk, @function
junk:	ret
	.byte 0x0f, 0x0b, 0xff, 0xff, 0xc4, 0xe2
	.type after_junk, @function
after_junk:
	xor %eax, %eax
	ret
	.section .note.GNU-stack, "", @progbits
S
gcc -fno-pie -no-pie -O2 -o app app.c junk.s && gcc -static -O1 -o app_static app.c && gcc -pie -fPIE -O1 -o app_pie app.c ||
	{ fail build "cannot build the test programs"; exit 0; }

addrs() { grep -oP '^\s+\K[0-9a-f]+(?=:\t)'; }
for p in app app_static app_pie; do
	objdump -d -z --no-show-raw-insn "$p" | addrs >"$p.objdump"
	"$SURGEON" disasm "$p" >"$p.dis" 2>"$p.err"
	addrs <"$p.dis" >"$p.surgeon"
	if [ ! -s "$p.objdump" ]; then fail "boundaries-$p" "objdump printed nothing"
	elif cmp -s "$p.objdump" "$p.surgeon"; then ok "boundaries-$p"
	else fail "boundaries-$p" "$(diff "$p.objdump" "$p.surgeon" | grep -c '^[<>]') addresses differ, first: $(diff "$p.objdump" "$p.surgeon" | grep '^[<>]' | head -3 | tr '\n' ' ')"
	fi
done

# Every call objdump shows to NAME@plt or NAME is 'call NAME@plt' / 'call NAME' at the same address.
calls_ok() {
	local p=$1 pat=$2 n=0 bad=0 a name
	while read -r a name; do
		n=$((n + 1))
		grep -qP "^\s+$a:\tcall $name\$" "$p.dis" || { bad=$((bad + 1)); echo "$a $name" >>"$p.badcalls"; }
	done < <(objdump -d --no-show-raw-insn "$p" | grep -P "\tcall\s+[0-9a-f]+ <$pat>" |
		 sed -E 's/^ *([0-9a-f]+):.*<([^>+]+)>$/\1 \2/')
	[ "$n" -gt 0 ] && [ "$bad" = 0 ] || { echo "$n calls, $bad not symbolized: $(head -3 "$p.badcalls" 2>/dev/null)"; return 1; }
}
for p in app app_pie; do
	if why=$(calls_ok "$p" '[a-z_]+@plt'); then ok "plt-calls-$p"; else fail "plt-calls-$p" "$why"; fi
done
if why=$(calls_ok app '(add|sw)'); then ok direct-calls; else fail direct-calls "$why"; fi

# --xrefs counter: exactly the instructions objdump annotates with <counter> (it is 4 bytes).
objdump -d --no-show-raw-insn app | grep -P '[ #] [0-9a-f]+ <counter>$' | sed -E 's/^ *([0-9a-f]+):.*/\1/' | sort >xref.objdump
"$SURGEON" disasm app --xrefs counter | sed -E 's/^([0-9a-f]+) .*/\1/' | sort >xref.surgeon
if [ -s xref.objdump ] && cmp -s xref.objdump xref.surgeon; then ok xrefs-counter
else fail xrefs-counter "objdump: $(tr '\n' ' ' <xref.objdump) surgeon: $(tr '\n' ' ' <xref.surgeon)"; fi
# The jump table's reference from sw (an absolute table address, non-PIC):
# the comment names a symbol+offset whose value, by nm, is objdump's table address.
read -r jt tab < <(objdump -d --no-show-raw-insn app | awk '/<sw>:/,/^$/' |
	grep -P 'jmp\s+\*0x[0-9a-f]+\(,%[a-z0-9]+,8\)' | sed -E 's/^ *([0-9a-f]+):.*\*0x([0-9a-f]+)\(.*/\1 \2/')
name=$(grep -P "^\s+${jt:-none}:\tjmp qword ptr \[" app.dis | sed -nE 's/.*  # ([^,]+)$/\1/p')
sym=${name%%+*}; off=0; [ "$sym" != "$name" ] && off=$((${name#*+}))
val=$(nm app | awk -v s="$sym" '$3 == s { print $1; exit }')
if [ -n "$jt" ] && [ -n "$val" ] && [ $((16#$val + off)) = $((16#$tab)) ]; then ok jump-table
else fail jump-table "objdump: jmp *0x${tab:-?} at ${jt:-none}; surgeon names it '${name}'"; fi

# Data in code: decoding restarts at after_junk, and the junk shows as .byte.
aj=$(nm app | awk '$3 == "after_junk" { sub(/^0+/, "", $1); print $1 }')
if grep -qP "^[0-9a-f]+ <after_junk>:" app.dis && grep -qP "^\s+$aj:\txor eax, eax" app.dis; then ok restart-at-symbol
else fail restart-at-symbol "after_junk ($aj) not decoded at its start"; fi
if awk '/<junk>:/,/<after_junk>:/' app.dis | grep -q '\.byte 0x'; then ok undecodable-byte
else fail undecodable-byte "no .byte line in junk"; fi

# One symbol: from its address to its end (readelf's value and size).
read -r v s < <(readelf -sW app | awk '$8 == "main" { print $2, $3 }')
"$SURGEON" disasm app main | addrs >main.addrs
first=$(head -1 main.addrs); last=$(tail -1 main.addrs)
if [ "$((16#$first))" = "$((16#$v))" ] && [ "$((16#$last))" -lt "$((16#$v + s))" ]; then ok symbol-range
else fail symbol-range "main is $v+$s, listing $first..$last"; fi
"$SURGEON" disasm app "0x$v-0x$(printf %x $((16#$v + s)))" | addrs >range.addrs
if cmp -s main.addrs range.addrs; then ok addr-range; else fail addr-range "ADDR-END listing differs from the symbol's"; fi

# Syntax and bytes.
if "$SURGEON" disasm --att app add | grep -q '%' && ! "$SURGEON" disasm app add | grep -q '%'; then ok att-syntax
else fail att-syntax "--att shows no AT&T operands, or Intel shows some"; fi
fb=$(objdump -d app | awk '/<add>:/ { getline; print }' | cut -f2 | sed 's/ *$//')
sb=$("$SURGEON" disasm --bytes app add | grep -P '^\s+[0-9a-f]+:\t' | head -1 | cut -f2 | sed 's/ *$//')
check_eq bytes "$fb" "$sb"

# Bad input: one error line, exit 1 (2 for usage), never a crash.
run_capture bad1 "$SURGEON" disasm /etc/passwd
check_eq not-elf-status 1 "$(cat bad1.rc)"
check_eq not-elf-one-line 1 "$(grep -c '^surgeon: /etc/passwd: ' bad1.err)"
run_capture bad2 "$SURGEON" disasm app no_such_symbol
check_eq unknown-symbol "1 1" "$(cat bad2.rc) $(grep -c "no symbol 'no_such_symbol'" bad2.err)"
run_capture bad3 "$SURGEON" disasm app 0x401000-0x400000
check_eq bad-range 2 "$(cat bad3.rc)"
size=$(stat -c %s app); crashes=0
for n in 64 200 1000 3000 $((size / 2)) $((size - 100)); do
	head -c "$n" app >trunc
	"$SURGEON" disasm trunc >/dev/null 2>&1; rc=$?
	[ "$rc" -ge 2 ] && crashes=$((crashes + 1))
done
check_eq truncated-no-crash 0 "$crashes"

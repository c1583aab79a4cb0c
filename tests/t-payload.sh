# Appended payloads without Lisp: a C program that finds data appended to
# itself the way SBCL's runtime does (a trailer at the end of /proc/self/exe
# names the absolute offset of a block starting with "LCBS"), and payloads
# surgeon does not recognise. Oracles: the program itself (it sums the block
# it finds), python3 reading the trailer, cmp of the moved bytes.
. "$TOP/tests/lib.sh"

cat >app.c <<'C'
#include <stdio.h>
#include <string.h>
#include <stdint.h>
int counter = 1;
int main(void)
{
	FILE *f = fopen("/proc/self/exe", "rb");
	unsigned char t[16], m[8];
	uint64_t off, end, sum = 0;
	int c;

	if (!f || fseek(f, -16, SEEK_END) || fread(t, 1, 16, f) != 16 || memcmp(t + 8, "LCBS\0\0\0\0", 8)) {
		printf("no trailer counter=%d\n", counter);
		return 3;
	}
	end = ftell(f) - 16;
	memcpy(&off, t, 8);
	if (fseek(f, off, SEEK_SET) || fread(m, 1, 8, f) != 8 || memcmp(m, "LCBS\0\0\0\0", 8)) {
		printf("no core at the trailer's offset\n");
		return 4;
	}
	fseek(f, off, SEEK_SET);
	for (uint64_t i = off; i < end && (c = getc(f)) != EOF; i++)
		sum = sum * 31 + c;
	printf("core %llu bytes sum %llx counter=%d\n", (unsigned long long)(end - off), (unsigned long long)sum,
	       counter);
	return 0;
}
C
cat >plug.c <<'C'
extern int counter;
__attribute__((constructor)) static void init(void) { counter += 10; }
int plug_twice(int x) { return 2 * x; }
C
gcc -O1 -o app app.c && gcc -O1 -o ref app.c plug.c && gcc -O1 -fPIC -c plug.c && ar rcs libplug.a plug.o
gcc -O1 -fPIC -c -o myadd.o -x c - <<'C'
long my_add(long a, long b) { return a + b; }
C
ar rcs libmyadd.a myadd.o

# mkcore OUT: "LCBS\0\0\0\0" then 70000 random bytes.
mkcore() { { printf 'LCBS\0\0\0\0'; head -c 70000 /dev/urandom; } >"$1"; }
# with_core PROG PREFIX CORE OUT: PROG, PREFIX, zeros to a 32 KiB boundary,
# CORE, and the trailer naming where CORE starts (the layout SBCL writes).
with_core() {
	python3 - "$@" <<'PY'
import struct, sys
prog, prefix, core, out = sys.argv[1:]
d = open(prog, 'rb').read() + open(prefix, 'rb').read()
d += b'\0' * (-len(d) % 32768)
off = len(d)
d += open(core, 'rb').read() + struct.pack('<Q', off) + b'LCBS\0\0\0\0'
open(out, 'wb').write(d)
PY
	chmod 755 "$4"
}
trailer() {
	python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
print(struct.unpack("<Q", d[-16:-8])[0] if d[-8:] == b"LCBS\0\0\0\0" else -1, len(d) - 16)' "$1"
}

mkcore core
: >empty
with_core app empty core app-sb
check_eq input-finds-core "core 70008 bytes sum $(python3 -c '
import sys
s = 0
for b in open("core", "rb").read(): s = (s * 31 + b) % 2**64
print("%x" % s)') counter=1" "$(./app-sb)"

# Recognised: the core moves after the new segments, to a 32 KiB boundary,
# whole, and the trailer names its new offset. No warning.
run_capture sb "$SURGEON" -v add-lib app-sb libplug.a -o out-sb
check_eq sbcl-add-lib 0 "$(cat sb.rc)"
check_eq sbcl-runs "$(./app-sb | sed 's/counter=1/counter=11/')" "$(./out-sb)"
t=$(trailer out-sb); off=${t% *}; end=${t#* }
check_eq sbcl-aligned 0 $((off % 32768))
check sbcl-moved test "$off" -gt "$(trailer app-sb | cut -d' ' -f1)"
check sbcl-core-bytes cmp core <(tail -c +$((off + 1)) out-sb | head -c $((end - off)))
check_eq sbcl-no-warning 0 "$(grep -c warning sb.err)"
check_eq sbcl-verbose 1 "$(grep -c "payload: SBCL core (70024 bytes) moved from .* now names 0x$(printf %x "$off")" sb.err)"
check sbcl-verify "$SURGEON" verify app-sb out-sb
check_eq sbcl-info "payload: SBCL core, trailer at 0x$(printf %x "$end"), core at 0x$(printf %x "$off") (70024 bytes from 0x$(printf %x "$off"))" \
	"$("$SURGEON" info out-sb | grep '^payload:')"
# The surgery note records the rewritten trailer: where the core was, how big.
"$SURGEON" info --json out-sb | python3 -c '
import json, sys
r = json.load(sys.stdin)["surgeries"][-1]["payload"]
assert r["offset"] == int(sys.argv[1]) and r["size"] == 70024 and r["what"].startswith("SBCL core"), r' \
	"$(trailer app-sb | cut -d' ' -f1)" && ok sbcl-note || fail sbcl-note "no payload line in the surgery record"
# The padding is SBCL's, not part of the payload: it is not carried along
# (the output is at most one 32 KiB boundary longer than the new ELF).
elf_end=$("$SURGEON" info --json out-sb | python3 -c 'import json,sys; print(json.load(sys.stdin)["overlay"]["offset"])')
check sbcl-no-old-padding test $((off - elf_end)) -lt 32768

# Surgery on surgery: the core stays whole and aligned, the program runs.
check sbcl-twice "$SURGEON" add-lib out-sb libmyadd.a -o out-sb2
check_eq sbcl-twice-runs "$(./out-sb)" "$(./out-sb2)"
t2=$(trailer out-sb2); off2=${t2% *}
check_eq sbcl-twice-aligned 0 $((off2 % 32768))
check sbcl-twice-core-bytes cmp core <(tail -c +$((off2 + 1)) out-sb2 | head -c $((${t2#* } - off2)))

# Bytes that are not zeros between the ELF data and the core move with the
# core, at the same distance before it.
head -c 100 /dev/urandom >head100
with_core app head100 core app-sbh
check sbcl-head-add-lib "$SURGEON" add-lib app-sbh libplug.a -o out-sbh
check_eq sbcl-head-runs "$(./app-sbh | sed 's/counter=1/counter=11/')" "$(./out-sbh)"
t=$(trailer out-sbh); offh=${t% *}; t0=$(trailer app-sbh)
old_elf_end=$(stat -c %s app)
check_eq sbcl-head-aligned 0 $((offh % 32768))
check sbcl-head-bytes cmp <(tail -c +$((old_elf_end + 1)) app-sbh | head -c $((${t0#* } - old_elf_end))) \
	<(tail -c +$((offh - (${t0% *} - old_elf_end) + 1)) out-sbh | head -c $((${t0#* } - old_elf_end)))

# Not recognised: kept byte-identical at the very end, one warning line.
head -c 5000 /dev/urandom >junk
cat app junk >app-junk && chmod 755 app-junk
run_capture junk "$SURGEON" add-lib app-junk libplug.a -o out-junk
check_eq junk-add-lib 0 "$(cat junk.rc)"
check junk-at-end cmp junk <(tail -c 5000 out-junk)
check_eq junk-warning "surgeon: app-junk: warning: 5000 bytes appended after the ELF data (at 0x$(printf %x "$(stat -c %s app)")) are kept unchanged at 0x$(printf %x $(( $(stat -c %s out-junk) - 5000 ))); offsets inside them were not checked" \
	"$(grep warning junk.err)"
check_eq junk-note-none null "$("$SURGEON" info --json out-junk | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["surgeries"][-1]["payload"]))')"
check_eq junk-info "payload: unrecognised format (5000 bytes at 0x$(printf %x "$(stat -c %s app)"))" \
	"$("$SURGEON" info app-junk | grep '^payload:')"

# A trailer whose offset names no core, or a place inside the ELF data (a
# plain .core file, whose trailer says 0, appended): not recognised, kept
# as it is, and the warning says why.
python3 - <<'PY'
import struct
app = open('app', 'rb').read()
core = open('core', 'rb').read()
bad = core[:8] + b'\0' * 100 + core[8:]
open('app-badoff', 'wb').write(app + bad + struct.pack('<Q', len(app) + 8) + b'LCBS\0\0\0\0')
open('app-plain', 'wb').write(app + core + struct.pack('<Q', 0) + b'LCBS\0\0\0\0')
PY
chmod 755 app-badoff app-plain
for k in badoff plain; do
	run_capture $k "$SURGEON" add-lib app-$k libplug.a -o out-$k
	check_eq $k-add-lib 0 "$(cat $k.rc)"
	n=$(( $(stat -c %s app-$k) - $(stat -c %s app) ))
	check $k-at-end cmp <(tail -c $n app-$k) <(tail -c $n out-$k)
	check_eq $k-one-warning 1 "$(grep -c warning $k.err)"
done
check_eq badoff-why 1 "$(grep -c "names the core offset 0x$(printf %x $(( $(stat -c %s app) + 8 ))), which does not start with the core magic" badoff.err)"
check_eq plain-why 1 "$(grep -c 'names the core offset 0x0, outside the appended data' plain.err)"

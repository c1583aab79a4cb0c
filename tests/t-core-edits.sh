# Old bytes are unchanged: an independent checker (tests/tools/loadcmp.c)
# lists every address whose loaded byte differs between the program and
# surgeon's output. Those ranges must be exactly covered by the edits
# `surgeon -v add-lib` lists, and the edits may only be the ELF header and the
# last .init_array / .fini_array slot, whose addresses come from readelf.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

# judge.py EDITS DIFFS HDR INIT FINI WANT: EDITS holds `surgeon: edit 0xA-0xB ...`
# lines, DIFFS loadcmp's lines, HDR the ELF header's address, INIT/FINI "ADDR SIZE"
# from readelf (or "-"), WANT which slots must be edited ("init fini", or "").
# Prints one line per failed rule and nothing when all hold.
cat >judge.py <<'PY'
import re, sys
edits_f, diffs_f, hdr, init, fini, want = sys.argv[1:7]
edits = [(int(a, 16), int(b, 16)) for a, b in
         re.findall(r'^surgeon: edit 0x([0-9a-f]+)-0x([0-9a-f]+) ', open(edits_f).read(), re.M)]
diffs = []
for line in open(diffs_f):
    m = re.match(r'0x([0-9a-f]+)-0x([0-9a-f]+)( unmapped)?$', line.strip())
    if not m:
        print('loadcmp said: ' + line.strip()); continue
    if m.group(3):
        print('old bytes no longer loaded: ' + line.strip())
    diffs.append((int(m.group(1), 16), int(m.group(2), 16)))
hdr = int(hdr, 16)
slots = {}
for name, arg in (('init', init), ('fini', fini)):
    if arg != '-':
        a, s = (int(x, 16) for x in arg.split())
        slots[name] = (a + s - 8, a + s)
allowed = [('ELF header', hdr, hdr + 64)] + [('last .%s_array slot' % n, a, b) for n, (a, b) in slots.items()]
if not edits:
    print('no edit listed')
for a, b in edits:
    if not any(lo <= a and b <= hi for _, lo, hi in allowed):
        print('edit 0x%x-0x%x is neither the ELF header nor a last init/fini slot' % (a, b))
for n in want.split():
    if n not in slots:
        print('the program has no .%s_array' % n)
    elif slots[n] not in edits:
        print('no edit of the last .%s_array slot 0x%x-0x%x' % ((n,) + slots[n]))
for n in slots:
    if n not in want.split() and slots[n] in edits:
        print('.%s_array slot edited though the plugin has none' % n)
def covered(a, b, rs):
    # every byte of [a, b) in the union of rs
    for lo, hi in sorted(rs):
        if lo <= a < hi:
            a = hi
    return a >= b
for a, b in diffs:
    if not covered(a, b, edits):
        print('bytes 0x%x-0x%x changed, not covered by an edit' % (a, b))
# Exactly: every listed edit changed something (no edit is a blanket allowance).
for a, b in edits:
    if not any(lo < b and a < hi for lo, hi in diffs):
        print('edit 0x%x-0x%x changed no byte' % (a, b))
PY

# judge NAME APP OUT VERBOSE-LOG WANT
judge() {
	local n=$1 app=$2 out=$3 log=$4 want=$5 hdr init fini
	loadcmp "$app" "$out" >"$T/$n.diffs"
	if [ $? -gt 1 ]; then fail "$n" "loadcmp failed"; return; fi
	hdr=$(readelf -lW "$app" | awk '$1 == "LOAD" && $2 ~ /^0x0+$/ { print $3; exit }')
	init=$(readelf_sec "$app" .init_array); fini=$(readelf_sec "$app" .fini_array)
	python3 "$T/judge.py" "$log" "$T/$n.diffs" "${hdr:-0}" "${init:--}" "${fini:--}" "$want" >"$T/$n.judge" 2>&1
	if [ -s "$T/$n.judge" ]; then fail "$n" "$(head -3 "$T/$n.judge" | tr '\n' ';')"; else ok "$n"; fi
}

# A plugin without constructors or destructors: only the ELF header changes.
cat >plain.c <<'C'
int add(int);
int plain_twice_add(int x) { return 2 * add(x); }
C
cat >splain.c <<'C'
int plain_value = 3;
int plain_get(void) { return plain_value; }
C
for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	run_capture "$T/$k.v" "$SURGEON" -v add-lib "$k/app" "$k/libplug.a" -o "$k/out"
	check_eq "$k-add-lib" 0 "$(cat "$T/$k.v.rc")"
	[ -f "$k/out" ] || continue
	judge "$k-edits" "$k/app" "$k/out" "$T/$k.v.err" "init fini"

	case $k in static-stripped | musl-stripped) p=splain.c ;; *) p=plain.c ;; esac
	$(core_cc "$k") -O1 -c -o "$k/plain.o" "$p" && ar rcs "$k/libplain.a" "$k/plain.o"
	run_capture "$T/$k.pv" "$SURGEON" -v add-lib "$k/app" "$k/libplain.a" -o "$k/plain-out"
	check_eq "$k-plain-add-lib" 0 "$(cat "$T/$k.pv.rc")"
	[ -f "$k/plain-out" ] && judge "$k-plain-edits" "$k/app" "$k/plain-out" "$T/$k.pv.err" ""
done

# The checker itself: it sees a byte flipped in .data and in .text.
cp dyn/app flipped
off=$(readelf -SW dyn/app | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".data" { print $4; exit }')
printf '\xff' | dd of=flipped bs=1 seek=$((0x$off + 1)) conv=notrunc status=none
addr=$(readelf_sec dyn/app .data | awk '{ print $1 }')
check_eq loadcmp-sees-flip "$(printf '0x%x-0x%x' $((0x$addr + 1)) $((0x$addr + 2)))" "$(loadcmp dyn/app flipped)"
check_eq loadcmp-same-file "" "$(loadcmp dyn/app dyn/app)"

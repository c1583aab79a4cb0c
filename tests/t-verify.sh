# surgeon verify: identical copies pass, a flipped byte is caught and named,
# an add-lib output passes exactly when its note records the edits, and only
# the surgeries after ORIG's may explain changes.
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
void (*hook)(int);
int add(int a) { return a + counter; }
int main(void) { printf("add=%d\n", add(1)); if (hook) hook(42); printf("counter=%d\n", counter); return counter; }
C
cat >plug.c <<'C'
#include <stdio.h>
extern int counter; extern void (*hook)(int); int add(int);
static void my_hook(int x) { printf("hook %d add=%d\n", x, add(x)); counter += 10; }
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
gcc -no-pie -O1 -o app app.c && gcc -O1 -c plug.c && ar rcs libplug.a plug.o &&
gcc -O1 -g $([ "${ASAN:-0}" = 1 ] && echo -fsanitize=address,undefined) -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP" $(pkg-config --cflags libelf) -o note-tool \
	"$TOP/tests/tools/note-tool.c" "$TOP/relink/note.c" "$TOP/relink/sha256.c" "$TOP/util/util.c" "$TOP/util/elfview.c" "$TOP/arch/arch.c" "$TOP/arch/x86_64.c" "$TOP/arch/aarch64.c" $(pkg-config --libs libelf libcrypto) ||
	{ fail build "cannot build the test programs"; exit 0; }

# file offset of a virtual address, through readelf's PT_LOADs
off_of() {
	readelf -lW "$1" | python3 -c 'import sys
a = int(sys.argv[1], 0)
for l in sys.stdin:
    f = l.split()
    if f and f[0] == "LOAD":
        o, v, fs = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if v <= a < v + fs:
            print(a - v + o); break' "$2"
}
flip() {	# flip FILE ADDR: invert the byte at ADDR
	local o b
	o=$(off_of "$1" $(($2)))
	b=$(od -An -tu1 -j "$o" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$o" conv=notrunc status=none
}
sym() { nm "$1" | awk -v s="$2" '$3 == s { print "0x" $1; exit }'; }
loadsum() { readelf -lW "$1" | python3 -c 'import sys; print(sum(int(l.split()[5], 16) for l in sys.stdin if l.split()[:1] == ["LOAD"]))'; }

cp app same
run_capture v1 "$SURGEON" verify app same
check_eq identical-passes 0 "$(cat v1.rc)"
grep -q '^proved: ' v1.out && ok identical-summary || fail identical-summary "$(cat v1.out v1.err)"

# One flipped byte in main, 0x10 in: exit 1, and the range is named main+0x10.
cp app flipped; main=$(sym app main); flip flipped $((main + 0x10))
run_capture v2 "$SURGEON" verify app flipped
check_eq flip-fails 1 "$(cat v2.rc)"
want=$(printf 'changed 0x%x-0x%x main+0x10: 1 byte, no recorded edit' $((main + 0x10)) $((main + 0x11)))
check_eq flip-named "$want" "$(grep '^changed ' v2.out)"
# In data: counter's first byte.
cp app flipped_data; flip flipped_data "$(sym app counter)"
run_capture v3 "$SURGEON" verify app flipped_data
check_eq flip-data-named "1 counter" "$(cat v3.rc) $(grep '^changed ' v3.out | awk '{ print $3 }' | tr -d :)"

# --json: valid, and the numbers agree with readelf and with the flip.
"$SURGEON" verify app flipped --json >v4.json
cat >v4.py <<'PY'
import json, sys
main, memsz = int(sys.argv[1], 16), int(sys.argv[2])
j = json.load(sys.stdin)
assert j["proved"] is False, j
assert j["compared"] == memsz, (j["compared"], memsz)
assert j["differing"] == 1 and j["unexplained_bytes"] == 1, j
u = j["unexplained"]
assert len(u) == 1 and u[0]["addr"] == main + 0x10 and u[0]["size"] == 1 and u[0]["symbol"] == "main+0x10", u
PY
python3 v4.py "$main" "$(loadsum app)" <v4.json >v4.check 2>&1 && ok json-flip || fail json-flip "$(tail -2 v4.check)"
"$SURGEON" verify app same --json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["proved"] and j["differing"] == 0' &&
	ok json-identical || fail json-identical "not a proved, zero-difference JSON result"

# A real add-lib output: its edits (ELF header, .init_array slot) are not
# allowed without a note that records them.
"$SURGEON" -v add-lib app libplug.a -o app2 2>addlib.err || { fail add-lib "$(cat addlib.err)"; exit 0; }
run_capture v5 "$SURGEON" verify app app2
if grep -q 'surgeon.note\|\.note\.surgeon' <(readelf -SW app2); then
	check_eq addlib-with-its-note 0 "$(cat v5.rc)"
else
	check_eq addlib-without-note-fails 1 "$(cat v5.rc)"
	grep -q '^changed 0x400020-.* ELF header+0x20' v5.out && ok addlib-names-elf-header ||
		fail addlib-names-elf-header "$(head -3 v5.out)"
fi

# Attach a note with add-lib's edits (as 'surgeon -v' lists them): proved.
edits=()
while read -r a b r; do edits+=(--edit "$a" "$((b - a))" "$r"); done < <(
	sed -nE 's/^surgeon: edit (0x[0-9a-f]+)-(0x[0-9a-f]+) \([^)]*\): (.*)$/\1 \2 \3/p' addlib.err)
[ ${#edits[@]} -gt 0 ] || fail addlib-edits "surgeon -v add-lib listed no edits"
./note-tool append - note1 add-lib --input app --input libplug.a "${edits[@]}" &&
	./note-tool attach app2 note1 app2n || fail attach "cannot attach the note"
run_capture v6 "$SURGEON" verify app app2n
check_eq addlib-noted-passes 0 "$(cat v6.rc)"
grep -q "^proved: .* all by the $((${#edits[@]} / 4)) recorded edits of 1 surgery" v6.out && ok addlib-noted-summary ||
	fail addlib-noted-summary "$(cat v6.out v6.err)"
./app2n >run.out 2>&1; grep -q '^hook 42' run.out && ok noted-runs || fail noted-runs "$(cat run.out)"

# The noted output with a flipped byte in old code: still caught, still named.
cp app2n app2n_flip; flip app2n_flip $((main + 0x10))
run_capture v7 "$SURGEON" verify app app2n_flip
check_eq noted-flip-fails "1 main+0x10:" "$(cat v7.rc) $(grep '^changed ' v7.out | awk '{ print $3 }')"

# A note that forgets the .init_array edit: the slot is named.
./note-tool append - note_short add-lib --input app "${edits[@]:0:4}" && ./note-tool attach app2 note_short app2s
run_capture v8 "$SURGEON" verify app app2s
slot=$(grep '\.init_array' addlib.err | sed -nE 's/^surgeon: edit (0x[0-9a-f]+)-.*/\1/p')
check_eq missing-edit-fails 1 "$(cat v8.rc)"
grep -q "^changed $slot-" v8.out && ok missing-edit-named || fail missing-edit-named "$(cat v8.out)"

# Two surgeries: app2n3 = app2n with a second record (no edits) and a flipped
# byte inside record 1's .init_array slot edit. From app, record 1 explains it;
# from app2n (which has record 1 already) nothing does.
./note-tool append note1 note2 relink --input app2n && ./note-tool attach app2n note2 app2n3 &&
	flip app2n3 $((slot + 1))
run_capture v9 "$SURGEON" verify app app2n3
check_eq history-from-orig 0 "$(cat v9.rc)"
run_capture v10 "$SURGEON" verify app2n app2n3
check_eq history-only-later-edits "1 $(printf '0x%x' $((slot + 1)))" "$(cat v10.rc) $(grep '^changed ' v10.out | awk '{ print $2 }' | cut -d- -f1)"
run_capture v11 "$SURGEON" verify app2n3 app2n
check_eq history-not-derived 1 "$(cat v11.rc)"
grep -q 'was not made from it' v11.err && ok history-not-derived-message || fail history-not-derived-message "$(cat v11.err)"

# Bad input: one error line, exit 1, never a crash.
head -c 100 app2 >trunc
run_capture v12 "$SURGEON" verify app trunc
check_eq truncated-new "1 1" "$(cat v12.rc) $(wc -l <v12.err)"
run_capture v13 "$SURGEON" verify app /nonexistent
check_eq missing-new "1 1" "$(cat v13.rc) $(wc -l <v13.err)"
run_capture v14 "$SURGEON" verify app
check_eq usage 2 "$(cat v14.rc)"

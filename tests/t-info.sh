# surgeon info --json checked field by field against readelf and objdump, and
# the surgery note: SHA-256 against sha256sum, records appended in order,
# and damaged notes rejected with one error line, never a crash.
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
int main(void) { printf("counter=%d\n", counter); puts("x"); return 0; }
C
gcc -no-pie -O1 -o app app.c && gcc -static -O1 -o app_static app.c && gcc -pie -fPIE -O1 -o app_pie app.c &&
gcc -O1 -g $([ "${ASAN:-0}" = 1 ] && echo -fsanitize=address,undefined) -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP" $(pkg-config --cflags libelf) -o note-tool \
	"$TOP/tests/tools/note-tool.c" "$TOP/relink/note.c" "$TOP/relink/sha256.c" "$TOP/util/util.c" "$TOP/util/elfview.c" "$TOP/arch/arch.c" "$TOP/arch/x86_64.c" "$TOP/arch/aarch64.c" $(pkg-config --libs libelf libcrypto) ||
	{ fail build "cannot build the test programs"; exit 0; }

cat >check.py <<'PY'
import json, subprocess, sys
path, js = sys.argv[1], sys.argv[2]
j = json.load(open(js))
def sh(*a): return subprocess.run(a, capture_output=True, text=True, check=True).stdout
hdr = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip() for l in sh("readelf", "-hW", path).splitlines() if ":" in l}
t = hdr["Type"].split()[0]
assert j["type"] == "ET_" + t, (j["type"], t)
assert j["entry"] == int(hdr["Entry point address"], 16), j["entry"]
assert j["sections"] == int(hdr["Number of section headers"]), j["sections"]
lines = sh("readelf", "-lW", path).splitlines()
interp = [l.split(":", 1)[1].strip(" ]") for l in lines if "Requesting program interpreter" in l]
assert j["interpreter"] == (interp[0] if interp else None), j["interpreter"]
segs = []
names = {"GNU_EH_FRAME", "GNU_STACK", "GNU_RELRO", "GNU_PROPERTY", "LOAD", "PHDR", "INTERP", "DYNAMIC", "NOTE", "TLS", "NULL"}
for l in lines:
    f = l.split()
    if f and f[0] in names and len(f) >= 7 and f[1].startswith("0x"):
        flg = "".join(f[6:-1])
        segs.append((f[0], int(f[1], 16), int(f[2], 16), int(f[4], 16), int(f[5], 16),
                     ("R" if "R" in flg else "-") + ("W" if "W" in flg else "-") + ("X" if "E" in flg else "-"),
                     int(f[-1], 16)))
got = [(s["type"], s["offset"], s["vaddr"], s["filesz"], s["memsz"], s["flags"], s["align"]) for s in j["segments"]]
assert got == segs, (got, segs)
dyn = any(s[0] == "DYNAMIC" for s in segs)
assert j["linking"] == ("dynamic" if dyn else "static"), j["linking"]
assert j["pie"] == (t == "DYN"), j["pie"]
counts = {}
for l in sh("readelf", "-sW", path).splitlines():
    if l.startswith("Symbol table '"):
        counts[l.split("'")[1]] = int(l.split(" contains ")[1].split()[0])
assert j["symbols"]["symtab"] == counts.get(".symtab", 0), (j["symbols"], counts)
assert j["symbols"]["dynsym"] == counts.get(".dynsym", 0), (j["symbols"], counts)
plt = sum(1 for l in sh("objdump", "-d", path).splitlines() if l.endswith("@plt>:"))
assert j["symbols"]["plt"] == plt, (j["symbols"]["plt"], plt)
size = len(open(path, "rb").read())
assert j["size"] == size and j["overlay"]["offset"] + j["overlay"]["size"] == size, j["overlay"]
print(json.dumps(j["overlay"]))
PY
for p in app app_static app_pie; do
	if "$SURGEON" info --json "$p" >"$p.json" 2>"$p.err" && python3 check.py "$p" "$p.json" >"$p.check" 2>&1
	then ok "json-$p"; else fail "json-$p" "$(tail -2 "$p.check" "$p.err" | tr '\n' ' ')"; fi
done
"$SURGEON" info app >text.out && grep -q '^interpreter: /' text.out && grep -q '^surgeries: none' text.out &&
	ok text || fail text "$(head -5 text.out)"

# The overlay: 100 bytes appended after everything the headers describe.
cp app app_ov && head -c 100 /dev/urandom >>app_ov
"$SURGEON" info --json app_ov | python3 -c 'import json,sys,os; j=json.load(sys.stdin); o=j["overlay"]
assert o["size"] == 100 and o["offset"] == os.path.getsize("app"), o' && ok overlay || fail overlay "wrong overlay"

# Notes: three surgeries, oldest first, SHA-256 as sha256sum computes it.
./note-tool append - n1 add-lib --input app --edit 0x400020 0x1f "ELF header" &&
./note-tool append n1 n2 add-lib --input app_static --export newfn 0x500000 &&
./note-tool append n2 n3 'relink "quoted"\path' --input app_pie --edit 0x403e00 8 $'two\nlines' ||
	fail note-append "note-tool append failed"
./note-tool parse n3 >n3.txt
check_eq note-records "records 3" "$(head -1 n3.txt)"
check_eq note-order 'add-lib add-lib relink "quoted"\path' "$(sed -nE 's/^record [0-9]+ tool [^ ]+ verb (.*)$/\1/p' n3.txt | tr '\n' ' ' | sed 's/ $//')"
for f in app app_static app_pie; do
	want=$(sha256sum "$f" | cut -d' ' -f1)
	grep -q "^input [0-9] $want $(stat -c %s "$f") $f\$" n3.txt && ok "sha256-$f" || fail "sha256-$f" "want $want"
done
grep -q '^export 2 newfn 0x500000$' n3.txt && ok note-export || fail note-export "$(grep export n3.txt)"
check_eq note-escapes "$(printf 'two\nlines')" "$(sed -n '/^edit 3 0x403e00 0x8 /,$p' n3.txt | sed 's/^edit 3 0x403e00 0x8 //')"

# info shows the history of a file with the note.
./note-tool attach app n3 app_noted
"$SURGEON" info --json app_noted >noted.json &&
python3 -c 'import json,sys; j=json.load(open("noted.json")); s=j["surgeries"]
assert [r["verb"] for r in s] == ["add-lib", "add-lib", "relink \"quoted\"\\path"], s
assert s[0]["edits"] == [{"addr": 0x400020, "size": 0x1f, "reason": "ELF header"}], s[0]
assert s[1]["exports"] == [{"name": "newfn", "addr": 0x500000}], s[1]
assert s[2]["edits"][0]["reason"] == "two\nlines", s[2]
assert s[0]["inputs"][0]["sha256"] == sys.argv[1], s[0]' "$(sha256sum app | cut -d' ' -f1)" 2>noted.err &&
	ok info-history || fail info-history "$(tail -1 noted.err)"

# Damaged notes: every truncation and every single-byte corruption of n3 is
# either parsed or rejected with exactly one error line; never a signal.
size=$(stat -c %s n3); crashes=0 multi=0
for ((n = 0; n < size; n += 7)); do
	head -c "$n" n3 >cut
	./note-tool parse cut >/dev/null 2>cut.err; rc=$?
	[ "$rc" -gt 1 ] && crashes=$((crashes + 1))
	[ "$rc" = 1 ] && [ "$(wc -l <cut.err)" != 1 ] && multi=$((multi + 1))
done
for ((n = 0; n < size; n += 3)); do
	cp n3 bad; printf '\377' | dd of=bad bs=1 seek="$n" conv=notrunc status=none
	./note-tool parse bad >/dev/null 2>bad.err; rc=$?
	[ "$rc" -gt 1 ] && crashes=$((crashes + 1))
	[ "$rc" = 1 ] && [ "$(wc -l <bad.err)" != 1 ] && multi=$((multi + 1))
done
check_eq damaged-notes-no-crash 0 "$crashes"
check_eq damaged-notes-one-line 0 "$multi"
head -c 40 n3 >cut && run_capture cutinfo ./note-tool parse cut
grep -q '^surgeon: cut: .note.surgeon: ' cutinfo.err && ok damaged-note-message || fail damaged-note-message "$(cat cutinfo.err)"
# A note whose owner is not surgeon, and append refusing to build on a bad note.
printf '\010\0\0\0\0\0\0\0\122\123\0\0other\0\0\0' >foreign
run_capture foreign ./note-tool parse foreign
check_eq foreign-owner 1 "$(cat foreign.rc)"
run_capture badappend ./note-tool append cut n4 add-lib
check_eq append-on-bad-note "1 no" "$(cat badappend.rc) $([ -e n4 ] && echo yes || echo no)"

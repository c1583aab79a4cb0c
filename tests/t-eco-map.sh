# surgeon info --map, on real add-lib outputs (dynamic, PIE, static, a second
# surgery, an overlay, a far segment): every fact of the drawing and of its
# JSON is checked against readelf -lW/-hW of the files, not against surgeon.
. "$TOP/tests/lib.sh"
cat >app.c <<'C'
#include <stdio.h>
int counter = 5;
void (*hook)(int);
int add(int a) { return a + counter; }
int main(void) { printf("add=%d\n", add(1)); if (hook) hook(42); return 0; }
C
cat >plug.c <<'C'
#include <stdio.h>
extern int counter; extern void (*hook)(int); int add(int);
static void my_hook(int x) { printf("hook %d add=%d\n", x, add(x)); counter += 10; }
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
cat >plug2.c <<'C'
int second_table[3000] = { 1 };
int second(void) { return second_table[0]; }
C
cat >far.c <<'C'
int far[1000] __attribute__((section(".far"))) = { 1 };
int main(void) { return far[0] - 1; }
C
{ gcc -no-pie -O1 -o dyn app.c && gcc -pie -fPIE -O1 -o pie app.c && gcc -static -O1 -o static app.c &&
  gcc -fPIC -O1 -c plug.c && ar rcs libplug.a plug.o && gcc -fPIC -O1 -c plug2.c && ar rcs libplug2.a plug2.o &&
  gcc -no-pie -O1 -o far far.c -Wl,--section-start=.far=0x10000000; } >build.log 2>&1 ||
	{ fail build "$(tail -3 build.log | tr '\n' ' ')"; exit 0; }
cp dyn ov && head -c 100 /dev/urandom >ov.tail && cat ov.tail >>ov
for p in dyn pie static ov; do
	check "add-lib-$p" "$SURGEON" add-lib "$p" libplug.a -o "$p.out"
done
check add-lib-second "$SURGEON" add-lib dyn.out libplug2.a -o dyn.out2

# The facts, from readelf only: the LOAD segments, the other program headers,
# and where the program header table is in the file.
cat >facts.py <<'PY'
import json, subprocess, sys
def sh(*a): return subprocess.run(a, capture_output=True, text=True, check=True).stdout
def facts(path):
    segs, others = [], []
    n = 0
    for l in sh("readelf", "-lW", path).splitlines():
        f = l.split()
        if not f or not (len(f) >= 7 and f[1].startswith("0x") and f[2].startswith("0x")):
            continue
        flg = "".join(f[6:-1])
        d = dict(index=n, type=f[0], offset=int(f[1], 16), vaddr=int(f[2], 16), filesz=int(f[4], 16),
                 memsz=int(f[5], 16), flags=("R" if "R" in flg else "-") + ("W" if "W" in flg else "-") + ("X" if "E" in flg else "-"))
        (segs if f[0] == "LOAD" else others).append(d)
        n += 1
    h = {l.split(":", 1)[0].strip(): l.split(":", 1)[1].strip() for l in sh("readelf", "-hW", path).splitlines() if ":" in l}
    phoff = int(h["Start of program headers"].split()[0]); phnum = int(h["Number of program headers"])
    for s in segs:
        s["end"] = s["vaddr"] + s["memsz"]
        s["ehdr"] = s["offset"] == 0 and s["filesz"] >= 64
        s["phdrs"] = s["offset"] <= phoff and phoff + 56 * phnum <= s["offset"] + s["filesz"]
        s["contains"] = [o["type"] for o in others if o["type"] not in ("GNU_STACK", "NULL") and o["memsz"]
                         and s["vaddr"] <= o["vaddr"] and o["vaddr"] + o["memsz"] <= s["end"]]
    segs.sort(key=lambda s: (s["vaddr"], s["index"]))
    return segs
def top(path): return max(s["end"] for s in facts(path))
PY

# JSON of one file: segments, gaps, ELF header, program headers, and old or
# new by the addresses of the files each surgery started from.
cat >check_one.py <<'PY'
import json, sys
sys.path.insert(0, ".")
from facts import facts, top
path, js = sys.argv[1], json.load(open(sys.argv[2]))
history = sys.argv[3:]          # the inputs of surgery 1, 2, ...: each one's segments are older
f = js["files"]; assert len(f) == 1, f
got = f[0]["segments"]
want = facts(path)
assert len(got) == len(want), (len(got), len(want))
for g, w in zip(got, want):
    for k in ("index", "vaddr", "end", "offset", "filesz", "flags", "ehdr", "phdrs", "contains"):
        assert g[k] == w[k], (k, g, w)
    surgery = None
    for i, h in enumerate(history):
        if w["vaddr"] >= top(h):
            surgery = i + 1
    assert g["origin"] == ("new" if surgery else "old") and g["surgery"] == surgery, (g, surgery)
assert sum(s["phdrs"] for s in got) == 1, "one segment holds the program headers"
gaps, reach = [], None
for w in want:
    if reach is not None and reach < w["vaddr"]:
        gaps.append({"start": reach, "end": w["vaddr"]})
    reach = max(reach or 0, w["end"])
assert f[0]["gaps"] == gaps, (f[0]["gaps"], gaps)
assert f[0]["surgeries"] == len(history), f[0]["surgeries"]
PY

# The text of one file: every box between the borders at its segment's start
# and end, its label (permissions, index, old/new), its height to the scale
# the header states, and the gaps between.
cat >check_text.py <<'PY'
import re, sys
sys.path.insert(0, ".")
from facts import facts, top
path, text = sys.argv[1], open(sys.argv[2]).read().splitlines()
history = sys.argv[3:]
m = re.search(r"one line = ([0-9.]+) (B|KiB|MiB|GiB)", text[1]); assert m, text[1]
unit = float(m.group(1)) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m.group(2)]
body = text[4:]
boxes, gapsseen, i = [], [], 0
addr = None
while i < len(body):
    l = body[i]
    a = re.match(r"0x([0-9a-f]+) (.*)", l)
    if a:
        addr = int(a.group(1), 16)
        if a.group(2).startswith("+") and i + 1 < len(body) and body[i + 1].strip().startswith("|"):
            lab = re.match(r"\s*\| (\S+) LOAD (\d+)( \S+(?: \d+)?)?\s*\|(.*)", body[i + 1]); assert lab, body[i + 1]
            n = 1
            while not re.match(r"0x", body[i + 1 + n]):
                n += 1
            end = int(re.match(r"0x([0-9a-f]+)", body[i + 1 + n]).group(1), 16)
            boxes.append(dict(start=addr, end=end, flags=lab.group(1), index=int(lab.group(2)),
                              tag=(lab.group(3) or "").strip(), lines=n, note=lab.group(4)))
            i += n
    elif "gap" in l:
        g = re.search(r"(~~ )?gap ([0-9.]+ \S+)", l)
        n = 1
        while i + n < len(body) and not body[i + n].startswith("0x"):
            n += 1
        gapsseen.append((addr, bool(g.group(1)), n))
        i += n - 1
    i += 1
want = facts(path)
assert len(boxes) == len(want), (len(boxes), len(want))
for b, w in zip(boxes, want):
    assert (b["start"], b["end"], b["flags"], b["index"]) == (w["vaddr"], w["end"], w["flags"], w["index"]), (b, w)
    scaled = max(1, int(w["memsz"] / unit + 0.5))
    assert b["lines"] == scaled, ("not to scale", b, scaled, unit)
    surgery = None
    for k, h in enumerate(history):
        if w["vaddr"] >= top(h):
            surgery = k + 1
    tag = "" if not history else "old" if not surgery else "new" if len(history) == 1 else "new %d" % surgery
    assert b["tag"] == tag, (b, tag)
    assert ("program headers" in b["note"]) == w["phdrs"], (b, w)
    assert ("ELF header" in b["note"]) == w["ehdr"], (b, w)
# A gap after each segment that does not touch the next; '~~' when the gap
# is longer than 3 lines of the scale.
# Its lines: to scale (one at least), or one when cut.
def gap(w, n):
    lines = int((n["vaddr"] - w["end"]) / unit + 0.5)
    return (w["end"], lines > 3, 1 if lines > 3 else max(1, lines))
want_gaps = [gap(w, n) for w, n in zip(want, want[1:]) if w["end"] < n["vaddr"]]
assert gapsseen == want_gaps, (gapsseen, want_gaps)
print(len(boxes), "boxes, unit", unit)
PY

for c in "dyn.out dyn" "pie.out pie" "static.out static" "dyn.out2 dyn dyn.out" "dyn dyn" "far far" "ov.out ov"; do
	set -- $c; f=$1; shift
	hist=("$@"); [ "$f" = dyn ] || [ "$f" = far ] && hist=()
	n=$(echo "$f" | tr . -)
	if "$SURGEON" info --map --json "$f" >"$n.json" 2>"$n.err" && python3 check_one.py "$f" "$n.json" "${hist[@]}" >"$n.chk" 2>&1
	then ok "json-$n"; else fail "json-$n" "$(tail -2 "$n.chk" "$n.err" | tr '\n' ' ')"; fi
	if "$SURGEON" info --map "$f" >"$n.txt" 2>"$n.err" && python3 check_text.py "$f" "$n.txt" "${hist[@]}" >"$n.chk" 2>&1
	then ok "text-$n"; else fail "text-$n" "$(tail -2 "$n.chk" "$n.err" | tr '\n' ' ')"; fi
done
# The far segment's 252 MiB gap is cut short, and says how long it is.
check far-gap-cut grep -q '~~ gap 252 MiB ~~' far.txt

# Two files: NEW's segments are kept (the same LOAD in ORIG) or new; every
# segment of ORIG is kept; both sides on one address axis.
cat >check_two.py <<'PY'
import json, sys
sys.path.insert(0, ".")
from facts import facts
orig, new, js = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
o, n = facts(orig), facts(new)
key = lambda s: (s["vaddr"], s["memsz"], s["filesz"], s["flags"])
ok_ = {key(s) for s in o}; nk = {key(s) for s in n}
fo, fn = js["files"]
assert [s["status"] for s in fo["segments"]] == ["kept" if key(s) in nk else "moved" for s in o], fo["segments"]
def st(s):
    if key(s) in ok_: return "kept"
    return "changed" if any(x["vaddr"] < s["end"] and s["vaddr"] < x["end"] for x in o) else "new"
assert [s["status"] for s in fn["segments"]] == [st(s) for s in n], fn["segments"]
assert js["old_kept"] == all(key(s) in nk for s in o), js["old_kept"]
print(js["old_kept"])
PY
for c in "dyn dyn.out" "pie pie.out" "static static.out" "dyn.out dyn.out2" "dyn dyn.out2" "ov ov.out" "static dyn.out"; do
	set -- $c; n=two-$(echo "$1-$2" | tr . -)
	if "$SURGEON" info --map --json "$1" "$2" >"$n.json" 2>"$n.err" && python3 check_two.py "$1" "$2" "$n.json" >"$n.chk" 2>&1
	then ok "json-$n"; else fail "json-$n" "$(tail -2 "$n.chk" "$n.err" | tr '\n' ' ')"; fi
done
check_eq old-kept-after-add-lib True "$(cat two-dyn-dyn-out2.chk)"
check_eq old-moved-when-unrelated False "$(cat two-static-dyn-out.chk)"

# The side-by-side text: each of ORIG's segments sits on the same lines as
# NEW's copy of it, labelled kept, and the summary says nothing moved.
"$SURGEON" info --map dyn dyn.out >two.txt 2>two.err
check two-summary grep -Eq '^dyn -> dyn\.out: all 4 LOAD segments of dyn are in dyn\.out at their addresses, with their sizes and permissions; [0-9]+ new$' two.txt
python3 - dyn dyn.out two.txt >two-text.chk 2>&1 <<'PY' && ok two-text-side-by-side || fail two-text-side-by-side "$(tail -2 two-text.chk)"
import re, sys
sys.path.insert(0, ".")
from facts import facts
o, n = facts(sys.argv[1]), facts(sys.argv[2])
lines = open(sys.argv[3]).read().splitlines()
pairs = []
for l in lines:
    m = re.findall(r"\| (\S+) LOAD (\d+)( \w+)?\s*\|", l)
    if m:
        pairs.append(m)
# A line holding ORIG's label holds NEW's kept copy beside it.
left = [p for p in pairs if len(p) == 2]
assert len(left) == len(o), (left, o)
for (lf, li, lt), (rf, ri, rt) in left:
    assert (lf, li, lt) == (rf, ri, "") and rt.strip() == "kept", (lf, li, lt, rf, ri, rt)
right_only = [p[0] for p in pairs if len(p) == 1]
assert all(t.strip() == "new" for _, _, t in right_only) and len(right_only) == len(n) - len(o), right_only
PY

# The overlay: where the appended bytes are in the output, by the bytes.
size=$(stat -c %s ov.out)
python3 -c 'import json,sys; o=json.load(open("ov-out.json"))["files"][0]["overlay"]; print(o["offset"], o["size"])' >ov.o 2>&1
check_eq overlay-where "$((size - 100)) 100" "$(cat ov.o)"
check overlay-bytes cmp <(tail -c 100 ov.out) ov.tail
check overlay-text grep -Eq "^overlay: 100 B at file offset 0x$(printf %x $((size - 100))), not loaded \(unrecognised\)$" ov-out.txt

# An SBCL executable: its core is the overlay; where the core and its
# trailer are, read from the trailer's own bytes (the core's offset, then
# the magic "LCBS"), in the program and in add-lib's output.
if command -v sbcl >/dev/null; then
	sbcl --non-interactive --no-userinit --no-sysinit --eval '(sb-ext:save-lisp-and-die "lisp" :executable t)' >sbcl.log 2>&1 &&
		printf 'int probe_fn(void) { return 42; }\n' >probe.c && gcc -fPIC -c probe.c && ar rcs libprobe.a probe.o &&
		"$SURGEON" add-lib lisp libprobe.a -o lisp.out >>sbcl.log 2>&1 || fail sbcl-build "$(tail -2 sbcl.log | tr '\n' ' ')"
	for f in lisp lisp.out; do
		"$SURGEON" info --map --json "$f" >"$f.json" 2>&1
		python3 - "$f" "$f.json" >"$f.chk" 2>&1 <<'PY' && ok "sbcl-core-$f" || fail "sbcl-core-$f" "$(tail -2 "$f.chk" | tr '\n' ' ')"
import json, os, struct, sys
path, o = sys.argv[1], json.load(open(sys.argv[2]))["files"][0]["overlay"]
size = os.path.getsize(path)
with open(path, "rb") as fh:
    fh.seek(size - 16)
    core, magic = struct.unpack("<QQ", fh.read(16))
assert magic == 0x5342434c, hex(magic)
assert o["format"] == "SBCL core" and o["core"] == core and o["trailer"] == size - 16, (o, core, size)
assert o["offset"] + o["size"] == size and o["offset"] <= core, o
PY
		check "sbcl-text-$f" grep -q "^overlay: .*, not loaded (SBCL core at 0x$(python3 -c 'import json,sys; print("%x" % json.load(open(sys.argv[1]))["files"][0]["overlay"]["core"])' "$f.json"), its trailer at 0x" <("$SURGEON" info --map "$f")
	done
else
	fail sbcl "sbcl is not installed (make deps installs it)"
fi

# The note records where each surgery's new segments begin: the end of the
# loaded addresses of the file it was given.
for c in "dyn.out dyn 1" "dyn.out2 dyn.out 2"; do
	set -- $c
	want=$(python3 -c 'import sys; sys.path.insert(0, "."); from facts import top; print("%x" % top(sys.argv[1]))' "$2")
	got=$(readelf -p .note.surgeon "$1" | grep -o 'new-above [0-9a-f]*' | sed -n "$3p")
	check_eq "note-new-above-$1" "new-above $want" "$got"
done

# A note written before surgeons recorded new-above (made here by the test
# driver of relink/note.c): old and new cannot be told apart, and the map
# says so ('?', origin null) instead of guessing.
gcc -O1 -g -std=gnu11 -D_GNU_SOURCE -I"$TOP/include" -I"$TOP" $(pkg-config --cflags libelf) -o note-tool \
	"$TOP/tests/tools/note-tool.c" "$TOP/relink/note.c" "$TOP/relink/sha256.c" "$TOP/util/util.c" "$TOP/util/elfview.c" "$TOP/arch/arch.c" "$TOP/arch/x86_64.c" "$TOP/arch/aarch64.c" \
	$(pkg-config --libs libelf libcrypto) 2>note-tool.err || fail note-tool "$(head -2 note-tool.err | tr '\n' ' ')"
./note-tool append - oldnote add-lib --input dyn && ./note-tool attach dyn.out oldnote dyn.oldnote ||
	fail oldnote "note-tool failed"
"$SURGEON" info --map dyn.oldnote >oldnote.txt 2>&1
"$SURGEON" info --map --json dyn.oldnote >oldnote.json 2>&1
check_eq oldnote-labels "$(python3 -c 'import sys; sys.path.insert(0, "."); from facts import facts; print(len(facts("dyn.oldnote")))')" \
	"$(grep -cE '^ +\| \S+ LOAD [0-9]+ \? +\|' oldnote.txt)"
check oldnote-says grep -q "by a surgeon that did not note where it put new segments" oldnote.txt
check_eq oldnote-json "None" "$(python3 -c 'import json; print({s["origin"] for s in json.load(open("oldnote.json"))["files"][0]["segments"]}.pop())')"

# Usage: --map takes one or two files; a file that is no ELF is one error line.
run_capture u0 "$SURGEON" info --map
run_capture u3 "$SURGEON" info --map dyn dyn dyn
check_eq usage-status "2 2" "$(cat u0.rc) $(cat u3.rc)"
echo 'not elf' >text.txt
run_capture notelf "$SURGEON" info --map dyn text.txt
check_eq notelf "1 1" "$(cat notelf.rc) $(wc -l <notelf.err)"
check notelf-message grep -q '^surgeon: text.txt: ' notelf.err

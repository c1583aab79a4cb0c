# The manual pages: one per command and surgeon(1), real sections, no groff
# warnings; each page's options are exactly its command's --help options,
# with the same text; every option the parsers in cli/ accept is in some
# --help; make install puts the pages where man finds them and make
# uninstall takes away every file it put down; SOURCE_DATE_EPOCH dates them.
. "$TOP/tests/lib.sh"
MAN=$TOP/$BUILD/man

cat >opts.py <<'PY'
# Options of a --help text and of a manual page, read independently.
import re, sys
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z][-A-Za-z]*)")

def help_items(text):
    """(head, description) of each list item: lines at indent 2..7."""
    items = []
    for l in text.splitlines():
        ind = len(l) - len(l.lstrip(" "))
        if not l.strip():
            continue
        if 2 <= ind < 8:
            head, _, rest = l.strip().partition("  ")
            items.append([head, rest.strip()])
        elif ind >= 8 and items:
            items[-1][1] = (items[-1][1] + " " + l.strip()).strip()
    return items

def deroff(s):
    s = re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    return s

def man_sections(src):
    secs, cur = {}, None
    for l in src.splitlines():
        if l.startswith(".SH "):
            cur = l[4:].strip().strip('"')
            secs[cur] = []
        elif cur:
            secs[cur].append(l)
    return secs

def man_items(lines):
    """(head, description) after each .TP, up to the next request."""
    items, i = [], 0
    while i < len(lines):
        if lines[i] == ".TP":
            head, desc, i = deroff(lines[i + 1]), [], i + 2
            while i < len(lines) and not lines[i].startswith("."):
                desc.append(deroff(lines[i]))
                i += 1
            items.append([head, " ".join(desc).strip()])
        else:
            i += 1
    return items

def opts(items):
    return sorted({o for h, _ in items for o in OPT.findall(h)})
PY

# The commands, from surgeon --help; every one has a page, and surgeon(1).
mapfile -t cmds < <("$SURGEON" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' | sort -u)
check_eq commands "add-lib disasm eject headers info inject relink unexec verify" "${cmds[*]}"
pages=(surgeon)
for c in "${cmds[@]}"; do pages+=("surgeon-$c"); done
check_eq pages-built "$(printf '%s.1\n' "${pages[@]}" | sort | tr '\n' ' ')" "$(ls "$MAN" | sort | tr '\n' ' ')"

for p in "${pages[@]}"; do
	f=$MAN/$p.1
	c=${p#surgeon}; c=${c#-}
	# The sections a manual page has, in order.
	check_eq "$p-sections" "NAME SYNOPSIS DESCRIPTION OPTIONS EXIT STATUS EXAMPLES SEE ALSO" \
		"$(sed -n 's/^\.SH "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f" | grep -Fvx -e COMMANDS -e ENVIRONMENT | tr '\n' ' ' | sed 's/ $//')"
	# groff and man-db read it without a warning; lexgrog (what mandb and
	# apropos use) finds the name.
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" >"$p.txt" 2>"$p.warn"
	check_eq "$p-no-warnings" "" "$(cat "$p.warn")"
	check "$p-whatis" grep -q "^$f: \"$p - " <(lexgrog "$f")
	# Options: exactly the command's --help options, with the same words.
	if [ -n "$c" ]; then "$SURGEON" "$c" --help >"$p.help"; else "$SURGEON" --help >"$p.help"; fi
	python3 - "$p.help" "$f" >"$p.cmp" 2>&1 <<'PY' && ok "$p-options-match-help" || fail "$p-options-match-help" "$(tail -3 "$p.cmp" | tr '\n' ' ')"
import sys
sys.path.insert(0, ".")
from opts import *
h = [i for i in help_items(open(sys.argv[1]).read()) if OPT.match(i[0])]
m = [i for i in man_items(man_sections(open(sys.argv[2]).read())["OPTIONS"]) if OPT.match(i[0])]
assert opts(h), "no options in --help"
assert opts(h) == opts(m), ("--help has", opts(h), "the page has", opts(m))
norm = lambda s: " ".join(s.split())
for (hh, hd), (mh, md) in zip(h, m):
    assert norm(hh) == norm(mh) and norm(hd) == norm(md), ((hh, hd), (mh, md))
print(len(h), "options")
PY
done

# Every option in an example is one the command has.
python3 - "$MAN" "${cmds[@]}" >examples.cmp 2>&1 <<'PY' && ok examples-use-real-options || fail examples-use-real-options "$(tail -3 examples.cmp | tr '\n' ' ')"
import subprocess, sys, re
sys.path.insert(0, ".")
from opts import *
man, cmds = sys.argv[1], sys.argv[2:]
import os
S = os.environ["SURGEON"]
common = set(opts(help_items(subprocess.run([S, "--help"], capture_output=True, text=True).stdout)))
n = 0
for p in ["surgeon"] + ["surgeon-" + c for c in cmds]:
    ex = man_sections(open(f"{man}/{p}.1").read())["EXAMPLES"]
    for l in ex:
        l = deroff(l)
        if not l.startswith("surgeon "):
            continue
        words = l.split()
        c = next(w for w in words[1:] if not w.startswith("-"))
        known = common | set(opts(help_items(subprocess.run([S, c, "--help"], capture_output=True, text=True).stdout)))
        for w in words:
            if w.startswith("-") and w != "-":
                o = w.split("=")[0] if w.startswith("--") else w[:2]   # -lm is -l m
                assert o in known, (p, l, o)
        n += 1
assert n >= 10, n
print(n, "example lines")
PY

# The parsers: every long option in a struct option table of cli/, and
# every short option of its getopt string, is in the --help of a command
# that file parses for. A new option without help fails here.
python3 - "$TOP" >tables.cmp 2>&1 <<'PY' && ok option-tables-in-help || fail option-tables-in-help "$(tail -3 tables.cmp | tr '\n' ' ')"
import glob, os, re, subprocess, sys
sys.path.insert(0, ".")
from opts import *
top, S = sys.argv[1], os.environ["SURGEON"]
verbs = {"link.c": ["add-lib", "unexec", "relink", "inject"], "cmd_info.c": ["info"], "cmd_verify.c": ["verify"],
         "cmd_live.c": ["eject"],
         "cmd_disasm.c": ["disasm"], "cmd_headers.c": ["headers"], "main.c": [None]}
common = re.findall(r'\{ "([a-z-]+)", \w+_argument', open(f"{top}/cli/cli.h").read())
assert common, "CLI_COMMON_LONG_OPTS not found"
def helpopts(v):
    out = subprocess.run([S] + ([v] if v else []) + ["--help"], capture_output=True, text=True).stdout
    return set(opts(help_items(out)))
checked = 0
for f in sorted(glob.glob(f"{top}/cli/*.c")):
    src, name = open(f).read(), os.path.basename(f)
    longs = re.findall(r'\{ "([a-z-]+)", \w+_argument', src)
    shorts = "".join(re.findall(r'getopt_long\(argc, argv, "([^"]*)"', src)).replace("-", "").replace(":", "")
    if name == "main.c":
        longs = [o[2:] for o in re.findall(r'!strcmp\(argv\[i\], "(--[a-z-]+)"\)', src)]
        shorts = "".join(o[1:] for o in re.findall(r'!strcmp\(argv\[i\], "(-[a-z])"\)', src))
    if not longs and not shorts:
        continue
    assert name in verbs, f"{name} parses options for a command this test does not know"
    have = set().union(*(helpopts(v) for v in verbs[name]))
    # The options every command shares (cli.h, and -v -h) may be documented
    # once, in surgeon --help, as accepted before or after the command.
    shared = {"--" + o for o in common} | {"-v", "-h"}
    have |= shared & helpopts(None)
    if "struct option" in src:
        longs += common
    for o in longs:
        assert "--" + o in have, f"{name}: --{o} is in no --help of {verbs[name]}"
        checked += 1
    for c in shorts:
        assert "-" + c in have, f"{name}: -{c} is in no --help of {verbs[name]}"
        checked += 1
print(checked, "options")
PY

# Every option a --help lists is accepted by its command (not "unknown").
for c in "${cmds[@]}"; do
	unknown=
	for o in $(python3 -c 'import sys; sys.path.insert(0, "."); from opts import *; print(" ".join(opts(help_items(open(sys.argv[1]).read()))))' "surgeon-$c.help"); do
		[ "$o" = --help ] || [ "$o" = -h ] || [ "$o" = --version ] && continue
		"$SURGEON" "$c" "$o" x </dev/null >/dev/null 2>"acc.err"
		grep -q "unknown option" acc.err && unknown="$unknown $o"
	done
	check_eq "$c-help-options-accepted" "" "$unknown"
done

# The comparison catches drift: a surgeon whose help gains an option the
# page does not have fails it.
cat >drift <<SH
#!/bin/sh
"$SURGEON" "\$@" && [ "\$2" = --help ] && echo "      --frobnicate   a new option nobody documented"
SH
chmod +x drift
./drift info --help >drift.help
python3 - drift.help "$MAN/surgeon-info.1" >drift.cmp 2>&1 <<'PY'
import sys
sys.path.insert(0, ".")
from opts import *
h = [i for i in help_items(open(sys.argv[1]).read()) if OPT.match(i[0])]
m = [i for i in man_items(man_sections(open(sys.argv[2]).read())["OPTIONS"]) if OPT.match(i[0])]
assert opts(h) == opts(m), ("--help has", opts(h), "the page has", opts(m))
PY
check drift-detected grep -q "frobnicate" drift.cmp

# SOURCE_DATE_EPOCH dates the page, and the same sources give the same page.
SOURCE_DATE_EPOCH=86400 "$TOP/scripts/mkman" "$SURGEON" "$TOP/man/surgeon-info.1.in" >epoch1.1
SOURCE_DATE_EPOCH=86400 "$TOP/scripts/mkman" "$SURGEON" "$TOP/man/surgeon-info.1.in" >epoch2.1
check_eq source-date-epoch '.TH SURGEON\-INFO 1 "1970-01-02" "surgeon '"$("$SURGEON" --version | cut -d' ' -f2)"'" "User Commands"' "$(head -1 epoch1.1)"
check reproducible cmp epoch1.1 epoch2.1

# make install puts down the program, the pages, the completion and the
# library; man finds the pages there; make uninstall takes every file away.
root=$T/root
make -s -C "$TOP" install DESTDIR="$root" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu BUILD="$BUILD" ASAN="$ASAN" DEPS=0 >install.log 2>&1 ||
	fail install "$(tail -3 install.log | tr '\n' ' ')"
want=$( { echo usr/bin/surgeon; printf 'usr/share/man/man1/%s.1\n' "${pages[@]}"; echo usr/share/bash-completion/completions/surgeon
	printf 'usr/lib/x86_64-linux-gnu/%s\n' libsurgeon.a libsurgeon.so pkgconfig/surgeon.pc; echo usr/include/surgeon.h; } | sort)
check_eq install-files "$(echo $want)" "$(cd "$root" && find . -type f -o -type l | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq man-finds-page "$root/usr/share/man/man1/surgeon-add-lib.1" "$(man -M "$root/usr/share/man" -w surgeon-add-lib 2>&1)"
check_eq man-finds-overview "$root/usr/share/man/man1/surgeon.1" "$(man -M "$root/usr/share/man" -w surgeon 2>&1)"
check_eq pkg-config-libdir "-L$root/usr/lib/x86_64-linux-gnu -lsurgeon" \
	"$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/x86_64-linux-gnu/pkgconfig pkg-config --libs surgeon 2>&1 | sed 's/ *$//')"
check installed-version "$root/usr/bin/surgeon" --version
make -s -C "$TOP" uninstall DESTDIR="$root" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu BUILD="$BUILD" ASAN="$ASAN" DEPS=0 >uninstall.log 2>&1 ||
	fail uninstall "$(tail -3 uninstall.log | tr '\n' ' ')"
check_eq uninstall-leaves-no-file "" "$(cd "$root" && find . -type f -o -type l)"

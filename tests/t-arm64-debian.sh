# Real arm64 Debian programs under qemu-user: coreutils:arm64 and the
# libraries it needs beyond libc (libselinux1, libacl1, libattr1, libgmp10,
# libpcre2-8-0), fetched with apt-get download (into a private apt state, so
# the machine's own apt configuration gains no architecture) and unpacked
# with dpkg -x into a root whose library directories the programs get as
# LD_LIBRARY_PATH and add-lib as -L. A probe library whose constructor
# speaks only when SURGEON_PROBE is set is added to each program; the output
# must behave exactly like the original on a real task (the original is the
# oracle), and the probe must run. A program that does not run under qemu is
# skipped by name.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
if ! why=$(a64_fetch root coreutils libselinux1 libacl1 libattr1 libgmp10 libpcre2-8-0); then
	echo "skip t-arm64-debian: cannot download coreutils:arm64: $why"
	exit 0
fi
A64_LIBPATH=$T/root/lib/aarch64-linux-gnu:$T/root/usr/lib/aarch64-linux-gnu
libdirs=(-L "$T/root/lib/aarch64-linux-gnu" -L "$T/root/usr/lib/aarch64-linux-gnu")

cat >probe.c <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void probe(void)
{
	if (getenv("SURGEON_PROBE"))
		fputs("surgeon-probe: constructor ran\n", stderr);
}
C
$A64CC -O1 -c -o probe.o probe.c && $A64AR rcs libprobe.a probe.o || { fail probe-build "$A64CC failed"; exit 0; }
printf 'pear\napple\nfig\napple\n' >words
seq 1 200 >nums

# task NAME: a real use of the program, printing to stdout.
task() {
	case $1 in
	sort) echo words ;;
	uniq) echo -c words ;;
	wc | sha256sum | md5sum | b2sum | cksum | tac | head | tail | od | base64 | nl | cat) echo nums ;;
	factor) echo 1234567 600851475143 ;;
	seq) echo 3 7 40 ;;
	expr) echo 6 '*' 7 ;;
	ls) echo -1 root/usr/share/doc ;;
	stat) echo -c '%n %s %F' words ;;
	cp) echo -v nums nums.copy ;;
	printf) echo '%05d|%s\n' 42 x ;;
	basename) echo /a/b/c.txt .txt ;;
	dirname) echo /a/b/c.txt ;;
	numfmt) echo --to=iec 123456789 ;;
	tr) echo a-z A-Z ;;
	echo) echo hello ;;
	*) echo --version ;;
	esac
}
progs="cat sort uniq wc sha256sum md5sum b2sum cksum tac head tail od base64 nl factor seq expr printf basename
       dirname numfmt tr echo ls cp mv date stat env id uname"
for name in $progs; do
	p=root/bin/$name; [ -x "$p" ] || p=root/usr/bin/$name
	[ -x "$p" ] || { echo "skip $name: not in the package"; continue; }
	if ! a64_run "$p" --version >/dev/null 2>&1; then
		echo "skip $name: does not run under qemu with the cross libraries and the root's"
		continue
	fi
	mkdir -p new
	check "$name-add-lib" "$SURGEON" add-lib "$p" libprobe.a "${libdirs[@]}" -o "new/$name"
	[ -x "new/$name" ] || continue
	read -ra args <<<"$(task "$name")"
	if [ "$name" = tr ]; then
		run_capture "$T/.a" a64_run "$p" "${args[@]}" <words; run_capture "$T/.b" a64_run "new/$name" "${args[@]}" <words
		if cmp -s "$T/.a.out" "$T/.b.out" && [ "$(cat "$T/.a.rc")" = "$(cat "$T/.b.rc")" ]; then ok "$name-oracle"; else fail "$name-oracle" "output differs"; fi
	else
		a64_same "$name-oracle" "$p" "new/$name" "${args[@]}"
	fi
	SURGEON_PROBE=1 a64_run "new/$name" --version >/dev/null 2>probe.err
	check "$name-probe" grep -qx 'surgeon-probe: constructor ran' probe.err
done

# python3.11-minimal:arm64: the interpreter (ET_EXEC, libpython linked in,
# exporting its C API), its standard library from libpython3.11-minimal as
# PYTHONHOME, and libexpat1 and zlib1g beyond libc. The script reaches both
# libraries (zlib, pyexpat) and the interpreter's own big-number, float and
# regex code; the original interpreter is the oracle.
if ! why=$(a64_fetch root python3.11-minimal libpython3.11-minimal libexpat1 zlib1g); then
	echo "skip python3.11: cannot download python3.11-minimal:arm64: $why"
	exit 0
fi
cat >task.py <<'PY'
import math, re, zlib, pyexpat
print(math.factorial(40), "%.12f" % math.sqrt(2), hex(2**100 // 7))
print(re.sub(r"(\w+)@(\w+)", r"\2 at \1", "alice@example bob@host"))
data = ("surgeon " * 500).encode()
z = zlib.compress(data, 9)
print(len(z), zlib.crc32(data), zlib.decompress(z) == data)
tags = []
p = pyexpat.ParserCreate()
p.StartElementHandler = lambda name, attrs: tags.append((name, sorted(attrs.items())))
p.Parse("<a x='1'><b y='2'/><c/></a>", True)
print(tags, sorted({"b": 2, "a": [1, 2.5, None]}.items()))
PY
py=root/usr/bin/python3.11
check python3.11-add-lib "$SURGEON" add-lib "$py" libprobe.a "${libdirs[@]}" -o new/python3.11
(
	export PYTHONHOME=$T/root/usr
	a64_same python3.11-oracle "$py" new/python3.11 -S task.py
	SURGEON_PROBE=1 a64_run new/python3.11 -S -c pass 2>probe.err
	check python3.11-probe grep -qx 'surgeon-probe: constructor ran' probe.err
)
check python3.11-verify "$SURGEON" verify "$py" new/python3.11

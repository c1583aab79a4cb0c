# Real shipped programs from Debian packages, as a new user would do it:
# add a small library (tests/pie/probe.c: a constructor that writes a line to
# stderr when SURGEON_PROBE is set, and an export probe_fn) to coreutils ls,
# cat and sort, python3, perl, tclsh (PIE) and gcc's gcov-12 and
# gcov-dump-12 (ET_EXEC, not PIE). The reference is a copy of the program in
# the same directory (some find their files relative to their own path): the
# output's --version (stdout, stderr, status) and real work are unchanged,
# the constructor runs when asked, and the export is callable from inside
# python3 (ctypes.CDLL(None).probe_fn(41) is 42) and found by perl's
# DynaLoader::dl_find_symbol; the interpreters' own extension modules, which
# need the executable's old exports, still load.
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie

gcc -O1 -c -o probe.o "$P/probe.c" && ar rcs libprobe.a probe.o || fail probe-build "gcc failed"
printf 'pear\napple\nfig\n10\n9\n' >words

# real NAME PATH: copies PATH to orig-NAME, add-lib to out-NAME; checks the
# package, --version, the constructor. Returns 1 when there is no output.
real() {
	local n=$1 path
	path=$(readlink -f "$2") || { echo "skip $n: $2 is not here"; return 1; }
	[ -x "$path" ] || { echo "skip $n: $2 is not here"; return 1; }
	# From a Debian package (usrmerge: /bin/ls is what dpkg knows).
	check "$n-from-package" sh -c "dpkg -S '$path' >/dev/null 2>&1 || dpkg -S '/bin/${path##*/}' >/dev/null 2>&1"
	cp "$path" "orig-$n"
	check "$n-add-lib" "$SURGEON" add-lib "orig-$n" libprobe.a -o "out-$n"
	[ -x "out-$n" ] || return 1
	return 0
}
# version NAME ARGS...: same stdout, stderr and status with ARGS; the
# constructor's line with SURGEON_PROBE=1 and only then.
version() {
	local n=$1; shift
	run_capture "$T/$n.o" "./orig-$n" "$@"; run_capture "$T/$n.s" "./out-$n" "$@"
	check_eq "$n-version" "$(cat "$n.o.out" "$n.o.err" "$n.o.rc")" "$(cat "$n.s.out" "$n.s.err" "$n.s.rc")"
	check "$n-version-not-empty" test -s "$n.o.out"
	SURGEON_PROBE=1 run_capture "$T/$n.p" "./out-$n" "$@"
	check_eq "$n-ctor-ran" "surgeon probe: constructor ran" "$(cat "$n.p.err")"
	check_eq "$n-ctor-stdout-unchanged" "$(cat "$n.o.out")" "$(cat "$n.p.out")"
}

for n in ls cat sort; do
	real $n /usr/bin/$n || continue
	check_eq $n-is-pie DYN "$(readelf -hW orig-$n | awk '/Type:/ { print $2 }')"
	version $n --version
done
[ -x out-ls ] && same_run ls-work ./orig-ls ./out-ls -la --time-style=+X "$P"
[ -x out-cat ] && same_run cat-work ./orig-cat ./out-cat -n words "$P/app.c"
[ -x out-sort ] && same_run sort-work ./orig-sort ./out-sort -n words
[ -x out-sort ] && same_run sort-missing-file ./orig-sort ./out-sort no-such-file

if real python3 /usr/bin/python3; then
	version python3 --version
	check_eq python3-probe-fn 42 "$(./out-python3 -c 'import ctypes; print(ctypes.CDLL(None).probe_fn(41))' 2>&1)"
	# Extension modules bind to the executable's old exports (PyLong_FromLong...).
	same_run python3-work ./orig-python3 ./out-python3 -c 'import hashlib, json, ctypes, math; print(hashlib.sha256(b"surgeon").hexdigest(), json.dumps({"a": [1, 2]}), math.gcd(84, 36)); raise SystemExit(4)'
fi
if real perl /usr/bin/perl; then
	version perl --version
	find='use DynaLoader; my $l = DynaLoader::dl_load_file("", 0) or die DynaLoader::dl_error(); print DynaLoader::dl_find_symbol($l, "probe_fn") ? "found\n" : "missing\n"'
	check_eq perl-probe-fn-found found "$(./out-perl -e "$find" 2>&1)"
	check_eq perl-probe-fn-not-in-original missing "$(./orig-perl -e "$find" 2>&1)"
	same_run perl-work ./orig-perl ./out-perl -MPOSIX -MList::Util=sum -e 'print POSIX::floor(7.5), " ", sum(1..10), "\n"; exit 5'
fi
if real tclsh /usr/bin/tclsh; then
	# tclsh has no --version; a script on stdin with an exit status instead.
	echo 'puts "[info patchlevel] [expr {6*7}]"; exit 3' >t.tcl
	version tclsh t.tcl
fi
for n in gcov-12 gcov-dump-12; do
	real $n /usr/bin/x86_64-linux-gnu-$n || continue
	check_eq $n-is-exec EXEC "$(readelf -hW orig-$n | awk '/Type:/ { print $2 }')"
	version $n --version
done
[ -x out-gcov-12 ] && same_run gcov-12-work ./orig-gcov-12 ./out-gcov-12 no-such-file.c

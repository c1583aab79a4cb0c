# Helpers for test scripts. Source it first: . "$TOP/tests/lib.sh"
# Every assertion prints exactly one line: "ok NAME" or "FAIL NAME: why".
set -u
: "${TOP:?run tests through tests/run}"
T=$TESTOUT/$(basename "$0" .sh)
rm -rf "$T"; mkdir -p "$T"
cd "$T" || exit 1

ok() { echo "ok $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME CMD...: passes when CMD succeeds.
check() { local n=$1; shift; if "$@" >"$T/.check.out" 2>&1; then ok "$n"; else fail "$n" "$(tail -3 "$T/.check.out" | tr '\n' ' ')"; fi; }
# check_eq NAME EXPECTED ACTUAL
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
# run_capture OUT CMD...: stdout to OUT.out, stderr to OUT.err, status to OUT.rc
run_capture() { local o=$1; shift; "$@" >"$o.out" 2>"$o.err"; echo $? >"$o.rc"; }
# same_run NAME A B [ARGS...]: both programs print the same stdout and exit alike.
same_run() {
	local n=$1 a=$2 b=$3; shift 3
	run_capture "$T/.a" "$a" "$@"; run_capture "$T/.b" "$b" "$@"
	if ! cmp -s "$T/.a.out" "$T/.b.out"; then fail "$n" "stdout differs: $(diff "$T/.a.out" "$T/.b.out" | head -5 | tr '\n' ' ')"
	elif [ "$(cat "$T/.a.rc")" != "$(cat "$T/.b.rc")" ]; then fail "$n" "exit status $(cat "$T/.a.rc") vs $(cat "$T/.b.rc")"
	else ok "$n"; fi
}

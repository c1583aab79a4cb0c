# Helpers for the t-undump*.sh tests. Source after tests/lib.sh.
# The test program (tests/undump-app.c) builds a table and a malloc'd list
# once, guarded by `initialized`; a dump must print the same results as a
# full run, say "init ran: no", and then malloc and free.
APP_SRC=$TOP/tests/undump-app.c
# build NAME VARIANT [CFLAGS...]: sg = static glibc, sm = static musl, dg = dynamic glibc
build() {
	local n=$1 v=$2; shift 2
	case $v in
	sg) gcc -static -no-pie -O1 -DFREE_OLD -o "$n" "$APP_SRC" "$@" ;;
	sm) musl-gcc -static -O1 -DFREE_OLD -o "$n" "$APP_SRC" "$@" ;;
	dg) gcc -no-pie -O1 -o "$n" "$APP_SRC" "$@" ;;
	esac
}
# wait_state PID LETTERS: until /proc/PID/stat shows one of the states (bounded).
wait_state() {
	local i s
	for i in $(seq 1 500); do
		s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
		case "$2" in *"$s"*) return 0 ;; esac
		sleep 0.02
	done
	return 1
}
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# Programs with anonymous memory at its old addresses run without address
# randomization, so the kernel cannot put the new stack where that memory is.
norand() { setarch "$(uname -m)" -R "$@"; }
# check_dump NAME ORIG DUMPED [RUNNER]: same stdout as a full run of ORIG,
# init skipped, malloc/free fine, exit 0.
check_dump() {
	local n=$1 orig=$2 d=$3 run=${4:-}
	"$orig" full >"$T/.ref.out" 2>/dev/null
	$run "$d" >"$T/.d.out" 2>"$T/.d.err"; local rc=$?
	if [ $rc != 0 ]; then fail "$n-runs" "exit status $rc: $(tail -2 "$T/.d.err" | tr '\n' ' ')"; return; fi
	ok "$n-runs"
	check_eq "$n-no-reinit" "init ran: no" "$(cat "$T/.d.err")"
	if cmp -s "$T/.ref.out" "$T/.d.out"; then ok "$n-same-output"
	else fail "$n-same-output" "$(diff "$T/.ref.out" "$T/.d.out" | head -4 | tr '\n' ' ')"; fi
	if grep -qx 'malloc ok' "$T/.d.out"; then ok "$n-malloc-after"; else fail "$n-malloc-after" "no 'malloc ok'"; fi
}

# Helpers for the t-undump*.sh tests. Source after tests/lib.sh.
# The test program (tests/undump-app.c) builds a table and a malloc'd list
# once, guarded by `initialized`; a dump must print the same results as a
# full run, say "init ran: no", and then malloc and free.
APP_SRC=$TOP/tests/undump-app.c
# build NAME VARIANT [CFLAGS... ARCHIVES...]: sg = static glibc, sm = static
# musl, dg = dynamic glibc, dp = dynamic glibc PIE, ms = musl static-pie
# (linked by gcc: Debian's musl-gcc makes a dynamic PIE of -static-pie)
build() {
	local n=$1 v=$2; shift 2
	case $v in
	sg) gcc -static -no-pie -O1 -DFREE_OLD -o "$n" "$APP_SRC" "$@" ;;
	sm) musl-gcc -static -O1 -DFREE_OLD -o "$n" "$APP_SRC" "$@" ;;
	dg) gcc -no-pie -O1 -o "$n" "$APP_SRC" "$@" ;;
	dp) gcc -pie -fPIE -O1 -o "$n" "$APP_SRC" "$@" ;;
	ms)
		local m=/usr/lib/x86_64-linux-musl a cflags=() libs=()
		for a in "$@"; do case $a in -D*|-I*) cflags+=("$a") ;; *) libs+=("$a") ;; esac; done
		musl-gcc -fPIE -O1 -DFREE_OLD "${cflags[@]}" -c -o "$n.o" "$APP_SRC" &&
		gcc -nostdlib -static-pie -o "$n" $m/rcrt1.o $m/crti.o "$n.o" "${libs[@]}" $m/libc.a \
			"$(gcc -print-libgcc-file-name)" $m/crtn.o ;;
	esac
}
# elf_type FILE: EXEC or DYN, as readelf says.
elf_type() { readelf -h "$1" | awk '$1 == "Type:" {print $2}'; }
# load_base PID EXE: where the process mapped the first page of EXE (/proc/PID/maps).
load_base() { awk -v f="$(readlink -f "$2")" '$6 == f && $3 == "00000000" {split($1, a, "-"); print a[1]; exit}' "/proc/$1/maps"; }
# heap_range PID: the process's [heap], "START END" in hex.
heap_range() { awk '$6 == "[heap]" {split($1, a, "-"); print a[1], a[2]; exit}' "/proc/$1/maps"; }
# check_pie_place NAME ORIG DUMP BASE HEAP [RUNNER]: a dumped PIE is a
# fixed-address program at BASE (the original process's load address, from
# its maps): its table is at BASE + the symbol's offset (nm of ORIG) at every
# start, the list it points at is in the original's heap, and the shared
# libraries still move when the kernel randomises.
check_pie_place() {
	local n=$1 orig=$2 d=$3 base=$4 heap=$5 run=${6:-} off a b
	check_eq "$n-fixed-address" EXEC "$(elf_type "$d")"
	off=$(nm "$orig" | awk '$3 == "table" && $2 ~ /^[bB]$/ {print $1}')
	a=$($run "$d" addr 2>/dev/null) b=$($run "$d" addr 2>/dev/null)
	check_eq "$n-data-at-old-address" "$(printf '0x%x' $((0x$base + 0x$off)))" "${a%% *}"
	check_eq "$n-same-each-start" "${a% *}" "${b% *}"
	local lst=$(echo "$a" | awk '{print $2}') h0=${heap% *} h1=${heap#* }
	if [ -z "$heap" ]; then :	# musl's malloc: the list is in mmap'd memory
	elif [ $((lst)) -ge $((0x$h0)) ] && [ $((lst)) -lt $((0x$h1)) ]; then ok "$n-heap-pointer-valid"
	else fail "$n-heap-pointer-valid" "list at $lst, heap was $heap"; fi
	if [ -z "$run" ] && [ "$(cat /proc/sys/kernel/randomize_va_space)" != 0 ]; then
		if [ "${a##* }" != "${b##* }" ]; then ok "$n-libraries-still-random"
		else fail "$n-libraries-still-random" "printf at ${a##* } twice"; fi
	fi
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
# refuse NAME PATTERN CMD...: CMD is refused in one line matching
# "surgeon: .*PATTERN", with exit status 1 and no refused.o written.
refuse() {
	local n=$1 want=$2; shift 2
	rm -f refused.o
	"$@" >"$T/.r.out" 2>"$T/.r.err"; local rc=$?
	if [ $rc != 1 ]; then fail "$n" "exit status $rc: $(cat "$T/.r.err")"
	elif [ "$(wc -l <"$T/.r.err")" != 1 ]; then fail "$n" "not one line: $(tr '\n' '|' <"$T/.r.err")"
	elif ! grep -q "^surgeon: .*$want" "$T/.r.err"; then fail "$n" "message: $(cat "$T/.r.err")"
	elif [ -e refused.o ]; then fail "$n" "an output was left"
	else ok "$n"; fi
}

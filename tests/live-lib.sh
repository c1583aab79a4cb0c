# Helpers for the live surgery tests (t-live-*.sh): a server (tests/live-server.c)
# on a pair of FIFOs, asked one request at a time; the process's memory and
# mappings read back for the checks. Source after lib.sh.
SERVER_SRC=$TOP/tests/live-server.c

# lbuild NAME KIND: the server as an ET_EXEC, a PIE, a static glibc or a static musl program.
lbuild() {
	case $2 in
	exec) gcc -O2 -no-pie -pthread -o "$1" "$SERVER_SRC" ;;
	pie) gcc -O2 -fPIE -pie -pthread -o "$1" "$SERVER_SRC" ;;
	static) gcc -O2 -static -pthread -o "$1" "$SERVER_SRC" ;;
	musl) musl-gcc -O2 -static -o "$1" "$SERVER_SRC" ;;
	esac
}

# The replacement handler: 3x + 1000 instead of 3x + 7.
libfix() {
	cat >fix.c <<'EOF'
long handler_fixed(long x) { return x * 3 + 1000; }
long parked_fixed(long x) { return x + 500; }
EOF
	gcc -O2 -c -o fix.o fix.c && ar rcs libfix.a fix.o
}

# start NAME BIN ARGS...: runs the server; $pid; requests on fd 7, replies on fd 8.
start() {
	local n=$1; shift
	rm -f "$n.in" "$n.out"; mkfifo "$n.in" "$n.out"
	"$@" <"$n.in" >"$n.out" 2>"$n.err" &
	pid=$!
	exec 7>"$n.in" 8<"$n.out"
	for _ in $(seq 1 500); do grep -q ready "$n.err" 2>/dev/null && break; sleep 0.01; done
}
stop() { exec 7>&- 8<&-; kill $pid 2>/dev/null; wait $pid 2>/dev/null; return 0; }

# ask N: one request; the reply in $reply ("N handler(N)...", empty when none came).
ask() { reply=; echo "$1" >&7 && read -r -t 10 reply <&8; }

# alive NAME: the server still answers, with the program's own handler.
alive() { ask 2; check_eq "$1" "2 13" "${reply%% calls=*}"; }

# mem_equals_file PID FILE: every executable mapping of FILE in the process
# holds the file's bytes (the patched functions, and the tails of pages
# where surgeon ran its code).
mem_equals_file() {
	local pid=$1 file n=0 range perms off rest lo hi
	file=$(readlink -f "$2")
	while read -r range perms off _ _ rest; do
		[ "$rest" = "$file" ] && [ "${perms:2:1}" = x ] || continue
		lo=$((16#${range%-*})) hi=$((16#${range#*-})) off=$((16#$off))
		dd if=/proc/$pid/mem bs=4096 iflag=skip_bytes,count_bytes skip=$lo count=$((hi - lo)) 2>/dev/null >mem.bytes
		dd if="$file" bs=4096 iflag=skip_bytes,count_bytes skip=$off count=$((hi - lo)) 2>/dev/null >file.bytes
		cmp -n "$(stat -c %s file.bytes)" mem.bytes file.bytes || return 1
		n=$((n + 1))
	done </proc/$pid/maps
	[ $n -gt 0 ] || { echo "no executable mapping of $file"; return 1; }
}

# injections PID: one line per injection: "ID START END RECORD STATE" (in hex), from info --pid.
injections() {
	"$SURGEON" info --pid "$1" | awk '
		/^injection / { id = $2; sub(":", "", id); st = $3; sub(",", "", st) }
		/^  record at / { r = $3; sub(",", "", r); split($8, a, "-"); print id, a[1], a[2], r, st }'
}

# unmapped PID START END: no mapping of the process overlaps [START, END).
unmapped() {
	local range
	while read -r range _; do
		if [ $((16#${range%-*})) -lt $(($3)) ] && [ $((16#${range#*-})) -gt $(($2)) ]; then
			echo "still mapped: $range"
			return 1
		fi
	done </proc/$1/maps
}

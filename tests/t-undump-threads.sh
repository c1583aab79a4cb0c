# unexec --pid and --core of threaded processes, static and dynamic, with
# three workers blocked on a condition variable or busy spinning while the
# dump is taken. What is kept: memory as the main thread sees it, read with
# every thread stopped. What is lost: the other threads, their stacks and
# their TLS. The dumped program (tests/undump-threads.c) skips its
# initialization and starts new threads, allocates, forks, and must print
# what a full run prints. Oracles: the full run, /proc/PID/task, ulimit -s.
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"
SRC=$TOP/tests/undump-threads.c

tbuild() {	# tbuild NAME VARIANT
	case $2 in
	sg) gcc -static -no-pie -O1 -pthread -o "$1" "$SRC" ;;
	sm) musl-gcc -static -O1 -o "$1" "$SRC" ;;
	dg) gcc -no-pie -O1 -pthread -o "$1" "$SRC" ;;
	dp) gcc -O1 -pthread -o "$1" "$SRC" ;;
	ms) local m=/usr/lib/x86_64-linux-musl
	    musl-gcc -fPIE -O1 -c -o "$1.o" "$SRC" &&
	    gcc -nostdlib -static-pie -o "$1" $m/rcrt1.o $m/crti.o "$1.o" $m/libc.a "$(gcc -print-libgcc-file-name)" $m/crtn.o ;;
	esac
}
# start NAME KIND: runs ./NAME pipe KIND until release; $pid.
start() {
	rm -f "$1.fifo"; mkfifo "$1.fifo"
	"./$1" pipe "$2" <"$1.fifo" >"$1.orig.out" 2>/dev/null &
	pid=$!
	exec 3>"$1.fifo"
	for i in $(seq 1 500); do grep -q ready "$1.orig.out" && break; sleep 0.02; done
}
release() { echo x >&3; exec 3>&-; wait $pid; }
ntasks() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
running_tasks() { cat /proc/$1/task/*/stat 2>/dev/null | awk '$3 == "R"' | wc -l; }
# check_tdump NAME ORIG DUMP KIND [RUNNER]: same output as a full run, one thread
check_tdump() {
	local n=$1 orig=$2 d=$3 kind=$4 run=${5:-}
	"$orig" full "$kind" >"$n.ref" 2>/dev/null
	$run "$d" >"$n.d.out" 2>"$n.d.err"; local rc=$?
	check_eq "$n-runs" 0 $rc
	check_eq "$n-no-reinit" "init ran: no" "$(cat "$n.d.err")"
	if cmp -s "$n.ref" "$n.d.out"; then ok "$n-same-output"
	else fail "$n-same-output" "$(diff "$n.ref" "$n.d.out" | head -3 | tr '\n' ' ')"; fi
	check_eq "$n-one-thread" "1 threads" "$($run "$d" count 2>/dev/null)"
}
stack_kb=$(ulimit -s)

for v in sg dg dp sm ms; do
	tbuild $v $v || { fail "$v-build" "cannot build"; continue; }
	for kind in blocked busy; do
		for anon in "" --anon; do
			case $v in sm|ms) [ -z "$anon" ] && continue ;; esac	# musl's malloc keeps blocks in mmap'd memory
			n=$v-$kind${anon:+-anon}
			start $v $kind
			check_eq "$n-has-4-threads" 4 "$(ntasks $pid)"
			if [ $kind = busy ]; then
				r=$(running_tasks $pid)
				if [ "$r" -ge 1 ]; then ok "$n-workers-running"; else fail "$n-workers-running" "none in state R"; fi
			fi
			check "$n-unexec" "$SURGEON" unexec --pid $pid $anon -o $n.o
			check_eq "$n-left-with-4-threads" 4 "$(ntasks $pid)"
			[ $kind = busy ] && check_eq "$n-workers-resumed" 1 "$([ "$(running_tasks $pid)" -ge 1 ] && echo 1)"
			release
			check_eq "$n-original-finishes" 0 $?
			check "$n-relink" "$SURGEON" relink $n.o -o $n.dump
			check_tdump $n ./$v ./$n.dump $kind ${anon:+norand}
			# The workers' stacks (ulimit -s each with glibc) are not in the dump.
			if [ -n "$anon" ] && [ $v != sm ] && [ $v != ms ]; then
				sz=$(stat -c %s $n.dump)
				if [ "$sz" -lt $((stack_kb * 1024)) ]; then ok "$n-stacks-left-out"
				else fail "$n-stacks-left-out" "$sz bytes, a thread stack is $stack_kb KiB"; fi
			fi
		done
	done
done

# Cores: gdb's gcore of busy workers, and a kernel core.
pattern=$(cat /proc/sys/kernel/core_pattern)
for v in sg dp; do
	n=$v-gcore
	start $v busy
	gcore -o $n.core $pid >/dev/null 2>&1
	release
	mv $n.core.$pid $n.core 2>/dev/null || { fail "$n" "gcore wrote no core"; continue; }
	check "$n-unexec" "$SURGEON" unexec --core $n.core --exe $v --anon -o $n.o
	check "$n-relink" "$SURGEON" relink $n.o -o $n.dump
	check_tdump $n ./$v ./$n.dump busy norand
	case $pattern in
	/*|\|*) echo "skip $v-kernel-core: core_pattern is '$pattern'"; continue ;;
	esac
	n=$v-kcore
	rm -f core*
	(ulimit -c unlimited; start $v busy; kill -ABRT $pid; exec 3>&-; wait $pid 2>/dev/null; true)
	core=$(ls -t core* 2>/dev/null | head -1)
	if [ -z "$core" ]; then echo "skip $n: no core was written"; continue; fi
	mv "$core" $n.core
	check "$n-unexec" "$SURGEON" unexec --core $n.core --exe $v --anon -o $n.o
	check "$n-relink" "$SURGEON" relink $n.o -o $n.dump
	check_tdump $n ./$v ./$n.dump busy norand
done

# surgeon unexec --pid: a stopped or running process becomes a program that
# starts with its data, bss and heap (and with --anon its anonymous memory).
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"

# A process that stopped itself (raise(SIGSTOP)) after its initialization.
for v in sg sm dg dp ms; do
	for anon in "" --anon; do
		case $v in sm|ms) [ -z "$anon" ] && continue ;; esac	# musl's malloc keeps blocks in mmap'd memory
		n=$v${anon:+-anon}
		if [ -n "$anon" ]; then build "$n" $v; else build "$n" $v -DNOBIG; fi
		./"$n" stop >"$n.orig.out" 2>/dev/null &
		pid=$!
		wait_state $pid T || { fail "$n-stopped" "the program did not stop"; kill -9 $pid; continue; }
		check "$n-unexec" "$SURGEON" unexec --pid $pid $anon -o "$n.o"
		# Detached, it passes through R on its way back into the stop.
		if wait_state $pid T && [ ! -s "$n.orig.out" ]; then ok "$n-left-stopped"
		else fail "$n-left-stopped" "state $(state $pid), output '$(head -c 60 "$n.orig.out")'"; fi
		check "$n-relink" "$SURGEON" relink "$n.o" -o "$n.dump"
		check_dump "$n" "./$n" "./$n.dump" ${anon:+norand}
		if [ $v = dp ] || [ $v = ms ]; then
			check_eq "$n-input-is-pie" DYN "$(elf_type "$n")"
			check_pie_place "$n" "./$n" "./$n.dump" "$(load_base $pid "$n")" \
				"$([ $v = dp ] && heap_range $pid)" ${anon:+norand}
		fi
		kill -CONT $pid; wait $pid; rc=$?
		"./$n" full >"$n.ref" 2>/dev/null
		if [ $rc = 0 ] && cmp -s "$n.ref" "$n.orig.out"; then ok "$n-original-finishes"
		else fail "$n-original-finishes" "status $rc or different output"; fi
	done
done

# A running process (blocked on a pipe) is stopped while it is read, then runs on.
for v in sg dp; do
	n=run-$v
	build $n $v -DNOBIG
	rm -f in.fifo; mkfifo in.fifo
	./$n pipe <in.fifo >$n.out 2>/dev/null &
	pid=$!
	exec 3>in.fifo
	wait_state $pid S || fail $n-waits "the program is not waiting"
	for i in $(seq 1 500); do grep -q ready $n.out && break; sleep 0.02; done
	check $n-unexec "$SURGEON" unexec --pid $pid -o $n.o
	if wait_state $pid S && [ "$(cat $n.out)" = ready ]; then ok $n-left-running
	else fail $n-left-running "state $(state $pid)"; fi
	check $n-relink "$SURGEON" relink $n.o -o $n.dump
	check_dump $n ./$n ./$n.dump
	[ $v = dp ] && check_pie_place $n ./$n ./$n.dump "$(load_base $pid $n)" "$(heap_range $pid)"
	echo x >&3; exec 3>&-
	wait $pid; check_eq $n-original-finishes 0 $?
done

# add-lib inputs in the same relink: the dumped program with a constructor.
cat >plug.c <<'C'
#include <stdio.h>
__attribute__((constructor)) static void hello(void) { fprintf(stderr, "plugin\n"); }
C
gcc -O1 -c plug.c && ar rcs libplug.a plug.o
for v in sg dp; do
	check $v-dump-plus-lib "$SURGEON" relink $v.o libplug.a -o $v.plug
	if ./$v.plug 2>&1 >/dev/null | grep -qx plugin; then ok $v-dump-plus-lib-runs
	else fail $v-dump-plus-lib-runs "no constructor output"; fi
	same_run $v-dump-plus-lib-output ./$v.dump ./$v.plug
done

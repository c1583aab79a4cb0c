# Signals that arrive while inject and eject have the process stopped are
# delivered afterwards, none lost and none doubled: a sender keeps queueing
# realtime signals (SIGRTMIN, which are queued one by one, not merged) while
# inject and eject run three times; the server counts what its handler
# received. The thread surgeon runs its system calls in blocks every signal
# meanwhile, so they wait in the kernel's queue.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
libfix && lbuild srv exec || { fail build "cannot build"; exit 0; }

for kind in pipe threads; do
	if [ $kind = pipe ]; then start s ./srv pipe; else start s ./srv threads 2; fi
	rm -f stop.flag sent
	( n=0; while [ ! -e stop.flag ]; do kill -s RTMIN $pid 2>/dev/null && n=$((n + 1)); done; echo $n >sent ) &
	sender=$!
	for r in 1 2 3; do
		"$SURGEON" -v inject $pid libfix.a --replace handler=handler_fixed 2>$kind.inj.err >/dev/null ||
			fail "$kind-inject-$r" "$(grep -v '^surgeon: running' $kind.inj.err | tail -1)"
		"$SURGEON" -v eject $pid 2>$kind.ej.err || fail "$kind-eject-$r" "$(tail -1 $kind.ej.err)"
	done
	touch stop.flag
	wait $sender
	# Every queued signal is handled: the count settles at what was sent.
	for _ in $(seq 1 200); do ask s; [ "$reply" = "signals=$(cat sent)" ] && break; sleep 0.01; done
	check_eq "$kind-every-signal-delivered-once" "signals=$(cat sent)" "$reply"
	echo "# $kind: $(cat sent) signals sent"
	alive "$kind-alive"
	stop
done

# surgeon inject and eject on a server that a client keeps asking, one
# request at a time over a pipe, before, during and after each: an ET_EXEC,
# a PIE, a static glibc program, a static musl one, and a PIE with 4 threads
# busy calling the patched function. Every request is answered once, in order; the answers
# change from the program's handler (3x + 7) to the injected one (3x + 1000)
# exactly once, during inject, and back exactly once, during eject. After
# eject the program's code in memory is its file's, byte for byte, and the
# injection's mappings are gone.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
libfix || { fail build "cannot build libfix.a"; exit 0; }

# through TAG CMD...: asks while CMD runs in the background, then 20 more
# times; every reply goes to $n.replies; CMD's output to TAG.cmd.*, its status in $rc.
i=0
through() {
	local tag=$1 c; shift
	"$@" >"$tag.cmd.out" 2>"$tag.cmd.err" &
	c=$!
	while kill -0 $c 2>/dev/null; do ask $i; echo "$reply" >>"$n.replies"; i=$((i + 1)); done
	wait $c; rc=$?
	for _ in $(seq 1 20); do ask $i; echo "$reply" >>"$n.replies"; i=$((i + 1)); done
}

# Each reply as o (the program's handler), n (the injected one) or x.
pattern() {
	awk 'BEGIN { k = 0 } { if ($1 != k) { print "x(request " k " answered as " $1 ")"; exit } k++;
		if ($2 == 3 * $1 + 7) printf "o"; else if ($2 == 3 * $1 + 1000) printf "n"; else printf "x" } END { print "" }' "$1"
}

for kind in exec pie static musl threads; do
	n=$kind
	case $kind in threads) lbuild $n pie ;; *) lbuild $n $kind ;; esac || { fail "$n-build" "cannot build"; continue; }
	rm -f $n.replies
	case $kind in threads) start $n ./$n threads 4 ;; *) start $n ./$n pipe ;; esac
	grep -q "" /proc/$pid/maps && cp /proc/$pid/maps $n.maps.before
	i=0
	for _ in $(seq 1 20); do ask $i; echo "$reply" >>$n.replies; i=$((i + 1)); done
	before=$i
	# (The threaded one under LD_DEBUG=bindings: libdw and libdwarf define
	# functions of the same names, and neither may reach the other's.)
	if [ $kind = threads ]; then
		through $n.inject env LD_DEBUG=bindings LD_DEBUG_OUTPUT="$T/bindings" "$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
	else
		through $n.inject "$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
	fi
	check_eq "$n-inject" "0 " "$rc $(cat $n.inject.cmd.err)"
	if [ $kind = threads ]; then
		check_eq "$n-libdw-and-libdwarf-apart" "" \
			"$(cat "$T"/bindings.* | grep -E 'binding file [^ ]*libdw\.so[^ ]* .* to [^ ]*libdwarf\.so|binding file [^ ]*libdwarf\.so[^ ]* .* to [^ ]*libdw\.so' | head -3)"
		grep -q "to [^ ]*libdw\.so.*dwfl_getthread_frames" "$T"/bindings.* && ok "$n-libdwfl-used" || fail "$n-libdwfl-used" "no binding of dwfl_getthread_frames"
	fi
	injected=$i
	injections $pid >$n.inj
	read -r id start end record state <$n.inj
	check_eq "$n-info-state" "1 active" "$id $state"
	through $n.eject "$SURGEON" eject $pid
	check_eq "$n-eject" "0 " "$rc $(cat $n.eject.cmd.err)"
	p=$(pattern $n.replies)
	# Before inject: the old answers; between inject and eject: the new;
	# after eject: the old again; one change each way.
	if echo "$p" | grep -Eq "^o{$before}o*n+o+$" && [ "$(echo "$p" | cut -c$((injected - 19))-$injected)" = "nnnnnnnnnnnnnnnnnnnn" ] &&
	   [ "$(echo "$p" | tail -c 21)" = "oooooooooooooooooooo" ]; then
		ok "$n-answers-switch-once-each-way"
	else
		fail "$n-answers-switch-once-each-way" "$p"
	fi
	check_eq "$n-every-request-answered-once" "$i" "$(wc -l <$n.replies)"
	if [ $kind = threads ]; then
		# The workers' calls: some reached the new handler, none after eject.
		new_mid=$(sed -n "${injected}p" $n.replies | sed 's/.*new=//')
		new_late=$(sed -n "$((i - 10))p" $n.replies | sed 's/.*new=//')
		new_last=$(tail -1 $n.replies | sed 's/.*new=//')
		old_late=$(sed -n "$((i - 10))p" $n.replies | sed 's/.*old=\([0-9]*\).*/\1/')
		old_last=$(tail -1 $n.replies | sed 's/.*old=\([0-9]*\).*/\1/')
		[ "${new_mid:-0}" -gt 0 ] && ok "$n-workers-called-new" || fail "$n-workers-called-new" "new=$new_mid"
		check_eq "$n-workers-no-new-after-eject" "$new_late" "$new_last"
		[ "$old_last" -gt "$old_late" ] && ok "$n-workers-call-old-again" || fail "$n-workers-call-old-again" "$old_late -> $old_last"
		check_eq "$n-4-workers-and-main" 5 "$(ls /proc/$pid/task | wc -l)"
	fi
	check "$n-code-is-the-file-s" mem_equals_file $pid $n
	check "$n-code-unmapped" unmapped $pid "$start" "$end"
	check "$n-record-unmapped" unmapped $pid "$record" $((record + 4096))
	check_eq "$n-no-injection-left" "" "$(injections $pid)"
	diff <(grep -v '\[heap\]\|\[stack\]' $n.maps.before) <(grep -v '\[heap\]\|\[stack\]' /proc/$pid/maps) >$n.maps.diff
	check_eq "$n-mappings-as-before" "" "$(cat $n.maps.diff)"
	stop
done

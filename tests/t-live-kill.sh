# surgeon killed (SIGKILL) at random points of an injection, 50 times: a
# third at a random moment of the whole run, a third when it is about to
# stop the process, a third while it loads into it (moments it reports
# with -v, plus a random delay). Afterwards the process still runs
# and answers, with the old handler or, if the injection was finished, the
# new one; whatever record it holds, eject removes, and the patched bytes
# are the file's again. Half the attempts are on a server with two threads
# busy calling the patched function. The one thing a kill may leave
# outside a record: the code surgeon runs its first system call from, in
# the unused end of an executable page, which the next inject or eject
# puts back as the file has it. A killed surgeon cannot remove its
# temporary directory: those go to the test's own TMPDIR.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
libfix && lbuild srv exec || { fail build "cannot build"; exit 0; }
# The patched function's bytes in the file (an ET_EXEC: offset = address - 0x400000).
h=$((16#$(nm srv | awk '$3 == "handler" { print $1 }')))
dd if=srv bs=1 skip=$((h - 0x400000)) count=16 2>/dev/null >handler.file

bad=0 finished=0 partial=0 k=0
mkdir -p killed-tmp
for mode in pipe threads; do
	if [ $mode = pipe ]; then start s ./srv pipe; else start s ./srv threads 2; fi
	for a in $(seq 1 25); do
		k=$((k + 1))
		rm -f kill.fifo; mkfifo kill.fifo
		TMPDIR=$T/killed-tmp "$SURGEON" -v inject $pid libfix.a --replace handler=handler_fixed 2>kill.fifo >/dev/null &
		spid=$!
		exec 9<kill.fifo
		case $((a % 3)) in
		0) for ((j = RANDOM % 20000; j > 0; j--)); do :; done ;;
		*) # 1: just before it stops the process; 2: once it runs code
		   # from its own page in the stopped process (it loads, runs
		   # constructors, patches).
		   while read -r -u 9 line; do
			case $((a % 3)):$line in
			1:*"injection "[0-9]*": 0x"*) break ;;
			2:*"runs surgeon's calls from code"*unused*) ;;
			2:*"runs surgeon's calls from code"*) break ;;
			esac
		   done
		   # A random delay of up to a few milliseconds, without starting a process.
		   for ((j = RANDOM % 2000; j > 0; j--)); do :; done ;;
		esac
		kill -9 $spid 2>/dev/null
		cat <&9 >/dev/null; exec 9<&-
		wait $spid 2>/dev/null
		# The process runs on and answers, with either handler.
		ask $((1000 + k))
		case "${reply%% calls=*}" in
		"$((1000 + k)) $((3 * (1000 + k) + 7))" | "$((1000 + k)) $((3 * (1000 + k) + 1000))") ;;
		*) bad=$((bad + 1)); echo "attempt $k ($mode): no good answer: '$reply'" ;;
		esac
		# Whatever it holds, eject removes.
		inj=$(injections $pid)
		case "$inj" in
		"") ;;
		*active) finished=$((finished + 1)) ;;
		*) partial=$((partial + 1)); echo "# attempt $k ($mode): left $inj" ;;
		esac
		[ -z "$inj" ] || "$SURGEON" eject $pid 2>eject.err ||
			{ bad=$((bad + 1)); echo "attempt $k ($mode): eject failed: $(cat eject.err)"; }
		ask $((2000 + k))
		[ "${reply%% calls=*}" = "$((2000 + k)) $((3 * (2000 + k) + 7))" ] ||
			{ bad=$((bad + 1)); echo "attempt $k ($mode): after eject: '$reply'"; }
		dd if=/proc/$pid/mem bs=1 skip=$h count=16 2>/dev/null >handler.mem
		cmp -s handler.mem handler.file || { bad=$((bad + 1)); echo "attempt $k ($mode): handler's bytes are not the file's"; }
	done
	kill -0 $pid && ok "$mode-still-running-after-25-kills" || fail "$mode-still-running-after-25-kills" "it died"
	check_eq "$mode-no-injection-left" "" "$(injections $pid)"
	# Elsewhere, only the unused end of an executable page may have kept
	# the code surgeon ran its first system call from, when it was killed
	# in that moment: the next inject and eject put it back.
	check "$mode-inject-after-kills" "$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
	check "$mode-eject-after-kills" "$SURGEON" eject $pid
	check "$mode-code-is-the-file-s" mem_equals_file $pid srv
	stop
done
check_eq kills-harmless 0 $bad
echo "# $k attempts: $finished finished before the kill, $partial left a partial record (ejected)"
[ $partial -gt 0 ] && ok some-kills-hit-the-stopped-part || echo "skip some-kills-hit-the-stopped-part: no kill left a partial record this time"

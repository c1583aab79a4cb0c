# Unwinding through added code: the output's PT_GNU_EH_FRAME lists the
# program's FDEs and the new code's (and --wrap's trampolines'), so that
# C++ exceptions, backtrace() and pthread_cancel pass through added frames,
# and gdb and eu-stack see them. A g++ program whose work() calls risky(),
# which throws for n > 2 and main catches:
#  - --replace work=work_fixed (C++): work(n) is risky(n) + 100;
#  - --wrap work (C, -fexceptions): work(n) is (risky(n) + 1) * 2, through
#    __real_work's trampoline;
#  - an added C frame (-fexceptions) between old code that throws and old
#    code that catches; backtrace() in added code lists main; a thread
#    blocked in added code is cancelled and its cleanup handler runs.
# In ET_EXEC, PIE and static programs.
. "$TOP/tests/lib.sh"
U=$TOP/tests/unwind

g++ -O1 -g -c -o fixed.o "$U/fixed.cc" && gcc -O1 -g -fexceptions -c -o wrap.o "$U/wrap.c" &&
	gcc -O1 -g -fexceptions -c -o cframe.o "$U/cframe.c" || { fail build "cannot compile the plugins"; exit 0; }
for k in "exec|-no-pie" "pie|" "static|-static"; do
	IFS='|' read -r kind flags <<<"$k"
	# shellcheck disable=SC2086
	if ! g++ -O1 -g $flags -pthread -o "app-$kind" "$U/app.cc" || ! g++ -O1 -g $flags -pthread -o "ref-$kind" "$U/app.cc" cframe.o; then
		fail "$kind-build" "g++ failed"
		continue
	fi
	check "$kind-replace" "$SURGEON" add-lib "app-$kind" fixed.o --replace work=work_fixed -o "replace-$kind"
	[ -x "replace-$kind" ] && check_eq "$kind-replace-throws-through" "work(1) = 110
work(2) = 120
work(3): caught too big" "$("./replace-$kind")"
	check "$kind-wrap" "$SURGEON" add-lib "app-$kind" wrap.o --wrap work -o "wrap-$kind"
	[ -x "wrap-$kind" ] && check_eq "$kind-wrap-throws-through" "work(1) = 22
work(2) = 42
work(3): caught too big" "$("./wrap-$kind")"
	check "$kind-cframe" "$SURGEON" add-lib "app-$kind" cframe.o -pthread -o "cframe-$kind"
	[ -x "cframe-$kind" ] || continue
	same_run "$kind-cframe-oracle" "./ref-$kind" "./cframe-$kind"
	check "$kind-throw-through-c" grep -qx 'via: caught too big through the added C frame' "$T/.b.out"
	check "$kind-cancel" grep -qx "cancel: the added code's cleanup handler ran" "$T/.b.out"
	# backtrace() from added code reaches main: one of its return
	# addresses lies in main (by the program's symbol table; a PIE's
	# addresses are taken relative to where it was mapped).
	UNWIND_PCS=$T/pcs-$kind "./cframe-$kind" >/dev/null 2>&1
	read -r mstart msize < <(nm -S "app-$kind" | awk '$4 == "main" { print $1, $2 }')
	bias=$(( $(head -1 "$T/pcs-$kind") - 0x$(nm "cframe-$kind" | awk '$3 == "added_backtrace" { print $1 }') ))
	tail -n +2 "$T/pcs-$kind" | while read -r pc; do
		a=$(( pc - bias ))
		[ $a -ge $((0x$mstart)) ] && [ $a -lt $((0x$mstart + 0x$msize)) ] && echo in-main
	done >"$T/inmain-$kind"
	check "$kind-backtrace-reaches-main" grep -q in-main "$T/inmain-$kind"
done

# gdb's bt from an added function, and eu-stack on the live process waiting in added code.
if command -v gdb >/dev/null && [ -x cframe-pie ]; then
	gdb -batch -ex 'break added_backtrace' -ex run -ex bt ./cframe-pie >gdb.out 2>&1
	check_eq gdb-bt "added_backtrace run main" "$(sed -n 's/^#[0-9]\+ \+\(0x[0-9a-f]* in \)\{0,1\}\([a-z_]*\) .*/\2/p' gdb.out | tr '\n' ' ' | sed 's/ $//')"
fi
if command -v eu-stack >/dev/null && [ -x cframe-pie ]; then
	UNWIND_WAIT=1 ./cframe-pie >wait.out 2>&1 &
	pid=$!
	for _ in $(seq 100); do grep -q waiting wait.out 2>/dev/null && break; sleep 0.05; done
	eu-stack -p $pid >eu.out 2>&1
	kill $pid 2>/dev/null; wait $pid 2>/dev/null
	check eu-stack-added-frame grep -qE ' (run|added_wait)$' eu.out
	check eu-stack-main grep -qE ' main$' eu.out
fi

# A damaged unwind table (its version byte) or FDE count: one line that
# names the program, no output.
if [ -x app-pie ]; then
	eh=$(( $(readelf -lW app-pie | awk '$1 == "GNU_EH_FRAME" { print $2 }') ))
	for d in "version|0|\002" "count|8|\377\377\377\177"; do
		IFS='|' read -r what at bytes <<<"$d"
		cp app-pie "bad-eh-$what"
		printf "$bytes" | dd of="bad-eh-$what" bs=1 seek=$((eh + at)) conv=notrunc status=none
		run_capture "badeh-$what" "$SURGEON" add-lib "bad-eh-$what" cframe.o -pthread -o "bad-eh-$what.new"
		check_eq "bad-eh-$what-status" 1 "$(cat "badeh-$what.rc")"
		check_eq "bad-eh-$what-one-line" 1 "$(wc -l <"badeh-$what.err")"
		check "bad-eh-$what-names-it" grep -q "^surgeon: bad-eh-$what: " "badeh-$what.err"
		check "bad-eh-$what-no-output" test ! -e "bad-eh-$what.new"
	done
fi

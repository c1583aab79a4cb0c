# aarch64 unwinding through added code, under qemu-user (tests/unwind, as
# t-unwind.sh does it on x86-64): the output's PT_GNU_EH_FRAME lists the
# program's FDEs and the new code's and --wrap's trampolines', so that C++
# exceptions, backtrace() and pthread_cancel pass through added frames. A
# g++ program whose work() calls risky(), which throws for n > 2:
#  - --replace work=work_fixed (C++), --wrap work (C, -fexceptions, through
#    __real_work's trampoline, which carries work's CFI);
#  - an added C frame between old code that throws and old code that
#    catches, against the same objects linked by aarch64-linux-gnu-g++;
#    backtrace() in added code lists main; a thread blocked in added code is
#    cancelled and its cleanup handler runs.
# In ET_EXEC, PIE and static programs.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
A64CXX=aarch64-linux-gnu-g++
command -v $A64CXX >/dev/null || { echo "skip t-arm64-unwind: $A64CXX is not installed (g++-aarch64-linux-gnu; make deps)"; exit 0; }
U=$TOP/tests/unwind

$A64CXX -O1 -g -c -o fixed.o "$U/fixed.cc" && $A64CC -O1 -g -fexceptions -c -o wrap.o "$U/wrap.c" &&
	$A64CC -O1 -g -fexceptions -c -o cframe.o "$U/cframe.c" || { fail build "cannot compile the plugins"; exit 0; }
for k in "exec|-no-pie" "pie|" "static|-static"; do
	IFS='|' read -r kind flags <<<"$k"
	# shellcheck disable=SC2086
	if ! $A64CXX -O1 -g $flags -pthread -o "app-$kind" "$U/app.cc" ||
	   ! $A64CXX -O1 -g $flags -pthread -o "ref-$kind" "$U/app.cc" cframe.o; then
		fail "$kind-build" "$A64CXX failed"
		continue
	fi
	check "$kind-replace" "$SURGEON" add-lib "app-$kind" fixed.o --replace work=work_fixed -o "replace-$kind"
	[ -x "replace-$kind" ] && check_eq "$kind-replace-throws-through" "work(1) = 110
work(2) = 120
work(3): caught too big" "$(a64_run "./replace-$kind")"
	check "$kind-wrap" "$SURGEON" add-lib "app-$kind" wrap.o --wrap work -o "wrap-$kind"
	[ -x "wrap-$kind" ] && check_eq "$kind-wrap-throws-through" "work(1) = 22
work(2) = 42
work(3): caught too big" "$(a64_run "./wrap-$kind")"
	check "$kind-cframe" "$SURGEON" add-lib "app-$kind" cframe.o -pthread -o "cframe-$kind"
	[ -x "cframe-$kind" ] || continue
	a64_same "$kind-cframe-oracle" "./ref-$kind" "./cframe-$kind"
	check "$kind-throw-through-c" grep -qx 'via: caught too big through the added C frame' "$T/.b.out"
	check "$kind-cancel" grep -qx "cancel: the added code's cleanup handler ran" "$T/.b.out"
	# backtrace() from added code reaches main (addresses relative to the
	# load bias the first line gives).
	UNWIND_PCS=$T/pcs-$kind a64_run "./cframe-$kind" >/dev/null 2>&1
	read -r mstart msize < <(nm -S "app-$kind" | awk '$4 == "main" { print $1, $2 }')
	bias=$(( $(head -1 "$T/pcs-$kind") - 0x$(nm "cframe-$kind" | awk '$3 == "added_backtrace" { print $1 }') ))
	tail -n +2 "$T/pcs-$kind" | while read -r pc; do
		a=$(( pc - bias ))
		[ $a -ge $((0x$mstart)) ] && [ $a -lt $((0x$mstart + 0x$msize)) ] && echo in-main
	done >"$T/inmain-$kind"
	check "$kind-backtrace-reaches-main" grep -q in-main "$T/inmain-$kind"
done

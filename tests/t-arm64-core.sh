# surgeon unexec --core of aarch64 cores, by the surgeon of this machine
# (x86-64: a core is a file, parsed whatever machine wrote it). The cores
# are qemu-user's (qemu_PROG_DATE_PID.core, written when the guest dies of
# a signal with RLIMIT_CORE set) or, on an aarch64 machine, the kernel's.
# qemu's cores have NT_PRSTATUS, NT_PRPSINFO and NT_AUXV but no NT_FILE:
# a static program's core is enough; a dynamic program's is refused.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
. "$TOP/tests/undump-lib.sh"
a64_need

# a64_core NAME: runs ./NAME pipe until it is ready, kills it with SIGABRT
# and leaves its core in NAME.core (returns 1 when none was written).
a64_core() {
	local n=$1 c
	rm -f "$n.fifo" qemu_"$n"_*.core core core.*; mkfifo "$n.fifo"
	(ulimit -c unlimited
	 # Not a64_run, a function: $! would be the subshell running it.
	 if [ "$A64NATIVE" = 0 ]; then qemu-aarch64 -L "$A64ROOT" "./$n" pipe <"$n.fifo" >"$n.orig.out" 2>/dev/null &
	 else "./$n" pipe <"$n.fifo" >"$n.orig.out" 2>/dev/null & fi
	 p=$!
	 exec 3>"$n.fifo"
	 for i in $(seq 1 500); do grep -q ready "$n.orig.out" && break; sleep 0.02; done
	 kill -ABRT $p; exec 3>&-; wait $p 2>/dev/null; true)
	# qemu, killed by the signal it gave the guest, may leave its own
	# (x86-64) core as well: only the guest's is wanted.
	if [ "$A64NATIVE" = 0 ]; then c=$(ls qemu_"$n"_*.core 2>/dev/null | head -1); rm -f core core.*
	else c=$(ls -t core core.* 2>/dev/null | head -1); fi
	[ -n "$c" ] && mv "$c" "$n.core"
}
# check_a64_dump NAME ORIG DUMP: the dump under qemu prints what a full run
# of the original prints, and says its initialization did not run again.
# Run once (its stderr stays in $T/.d.err): qemu takes ~10 s, in itself (not
# in system calls: strace -c), to start a program whose segments span from
# 0x400000 to qemu's mmap area at 0x5500000000, as a dump of a qemu core does.
check_a64_dump() {
	local n=$1 o=$2 d=$3
	run_capture "$T/.ref" a64_run "$o" full
	run_capture "$T/.d" a64_run "$d"
	check_eq "$n-runs" 0 "$(cat "$T/.d.rc")"
	check_eq "$n-no-reinit" "init ran: no" "$(grep -v '^plugin$' "$T/.d.err")"
	if [ -s "$T/.ref.out" ] && cmp -s "$T/.ref.out" "$T/.d.out"; then ok "$n-same-output"
	else fail "$n-same-output" "$(diff "$T/.ref.out" "$T/.d.out" | head -4 | tr '\n' ' ')"; fi
	if grep -qx 'malloc ok' "$T/.d.out"; then ok "$n-malloc-after"; else fail "$n-malloc-after" "no 'malloc ok'"; fi
}

# A static glibc program (ET_EXEC): its table, list and big block live in
# the core; the dump continues from there.
"$A64CC" -static -no-pie -O1 -DFREE_OLD -o sg "$APP_SRC" || fail sg-build "$A64CC failed"
if ! a64_core sg; then
	fail sg-core "no core was written (qemu-user writes qemu_sg_*.core in the current directory)"
else
	check_eq sg-core-machine AArch64 "$(readelf -h sg.core | awk '$1 == "Machine:" {print $2}')"
	check_eq sg-core-type CORE "$(readelf -h sg.core | awk '$1 == "Type:" {print $2}')"
	check sg-unexec "$SURGEON" unexec --core sg.core --exe sg --anon -o sg.o
	check sg-relink "$SURGEON" relink sg.o -o sg.dump
	check_a64_dump sg ./sg ./sg.dump
	# With an aarch64 archive added in the same relink: its constructor runs
	# first, then the program goes on from the dumped state.
	cat >plug.c <<'C'
#include <stdio.h>
__attribute__((constructor)) static void hello(void) { fprintf(stderr, "plugin\n"); }
C
	"$A64CC" -O1 -c plug.c && "$A64AR" rcs libplug.a plug.o
	check sg-relink-lib "$SURGEON" relink sg.o libplug.a -o sg.plug
	check_a64_dump sg-plus-lib ./sg ./sg.plug
	if grep -qx plugin "$T/.d.err"; then ok sg-plus-lib-constructor
	else fail sg-plus-lib-constructor "no 'plugin' on stderr"; fi
	# Byte for byte what the core held: the dump's copy of the table (its
	# .data/.bss bytes) equals the core's memory at the same address.
	"$SURGEON" unexec --core sg.core --exe sg --anon -o sg2.o 2>/dev/null
	if cmp -s sg.o sg2.o; then ok sg-unexec-deterministic; else fail sg-unexec-deterministic "two runs differ"; fi
fi

# Without --anon: the heap is found though qemu's brk runs on from the bss
# (one mapping in the core), and the program has no other anonymous memory.
"$A64CC" -static -no-pie -O1 -DNOBIG -DFREE_OLD -o sn "$APP_SRC"
if a64_core sn; then
	check sn-unexec "$SURGEON" unexec --core sn.core --exe sn -o sn.o
	check sn-relink "$SURGEON" relink sn.o -o sn.dump
	check_a64_dump sn ./sn ./sn.dump
else fail sn-core "no core was written"; fi

if [ -e sg.core ]; then
	head -c $(( $(stat -c %s sg.core) / 2 )) sg.core >half.core
	refuse truncated-core "truncated core" "$SURGEON" unexec --core half.core --exe sg -o refused.o
	head -c 40 sg.core >tiny.core
	refuse tiny-core "truncated core" "$SURGEON" unexec --core tiny.core --exe sg -o refused.o
	# Same source, other layout: its entry point is elsewhere.
	"$A64CC" -static -no-pie -O1 -DNOBIG -Wl,-Ttext-segment=0x800000 -o sg-other "$APP_SRC"
	refuse core-of-other-program "not a core of" "$SURGEON" unexec --core sg.core --exe sg-other -o refused.o
	# The machines differ: an aarch64 core and an x86-64 program.
	if [ "$(uname -m)" = x86_64 ]; then
		gcc -static -no-pie -O1 -o sg-x86 "$APP_SRC"
		refuse core-of-other-machine "not a core of sg-x86: it is an aarch64 core, and sg-x86 is an x86-64 program" \
			"$SURGEON" unexec --core sg.core --exe sg-x86 -o refused.o
	fi
fi
# A dynamic program's qemu core: without NT_FILE the libraries' memory
# would be taken for the program's; refused, naming why.
"$A64CC" -no-pie -O1 -o dg "$APP_SRC"
if [ "$A64NATIVE" = 0 ]; then
	if a64_core dg; then
		refuse dynamic-qemu-core "has no NT_FILE note" "$SURGEON" unexec --core dg.core --exe dg -o refused.o
	else fail dg-core "no core was written"; fi
fi
# An x86-64 core given with an aarch64 program.
if [ "$(uname -m)" = x86_64 ] && command -v gcore >/dev/null; then
	mkfifo x.fifo; ./sg-x86 pipe <x.fifo >x.out 2>/dev/null & xp=$!; exec 3>x.fifo
	for i in $(seq 1 500); do grep -q ready x.out && break; sleep 0.02; done
	gcore -o x86.core $xp >/dev/null 2>&1; echo x >&3; exec 3>&-; wait $xp
	if mv x86.core.$xp x86.core 2>/dev/null; then
		refuse x86-core-aarch64-program "not a core of sg: it is an x86-64 core, and sg is an aarch64 program" \
			"$SURGEON" unexec --core x86.core --exe sg -o refused.o
	else fail x86-core "gcore wrote no core"; fi
fi

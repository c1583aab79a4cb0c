# surgeon unexec --pid on a real aarch64 kernel: qemu-user runs its guests
# without ptrace, so the native path (PTRACE_SEIZE/INTERRUPT, the stack
# pointer by PTRACE_GETREGSET NT_PRSTATUS, /proc/PID/mem) runs here in
# qemu-system-aarch64 (TCG) on Debian's arm64 cloud kernel, with an
# initramfs of a static /init (tests/arm64-init.c), the aarch64 surgeon of
# t-arm64-native (same build directory: built once) and its libraries:
#  - surgeon info in the machine;
#  - a PIE that stopped itself and a static program blocked on a pipe are
#    dumped, left as they were (stopped; waiting), and finish as a full run;
#  - a kernel core of the PIE (SIGABRT): unexec --core in the machine, and
#    by the x86-64 surgeon outside; both dumps run in the second boot;
#  - outside (no ld in the machine) the objects are relinked by the x86-64
#    surgeon and run under qemu-user: the output of a full run, without the
#    initialization, and the PIE's data at the address it had in the machine.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
. "$TOP/tests/undump-lib.sh"	# APP_SRC, elf_type
a64_need
if [ "$A64NATIVE" = 1 ]; then
	echo "skip arm64-system: on aarch64 t-undump-pid runs the native ptrace path"
	exit 0
fi
if [ "$ASAN" = 1 ]; then
	echo "skip arm64-system: the aarch64 surgeon is built without sanitizers; the normal suite runs this test"
	exit 0
fi
QSYS=$(command -v qemu-system-aarch64) || { echo "skip arm64-system: no qemu-system-aarch64 (qemu-system-arm): make deps installs it"; exit 0; }
command -v cpio >/dev/null || { echo "skip arm64-system: no cpio: make deps installs it"; exit 0; }

KROOT=$TESTOUT/.arm64-kernel
why=$(a64_build_surgeon)
case $? in
1) echo "skip arm64-system: cannot have the arm64 -dev packages: $why"; exit 0 ;;
2) fail build "$(grep -m3 -E 'error|cannot' build.log | tr '\n' ' ')"; exit 0 ;;
esac
ROOT=$A64_DEVROOT
B=$A64_BUILD
# The cloud flavour: a quarter of the generic one's size, and it has the
# virt machine's PL011 console built in. The metapackage names the kernel.
if ! why=$(a64_fetch "$KROOT" linux-image-cloud-arm64); then
	echo "skip arm64-system: cannot have the arm64 kernel: $why"
	exit 0
fi
meta=$(ls "$TESTOUT"/.arm64-debs/linux-image-cloud-arm64_*_arm64.deb | tail -1)
kpkg=$(dpkg-deb -f "$meta" Depends | sed 's/[ ,].*//')
if ! why=$(a64_fetch "$KROOT" "$kpkg"); then
	echo "skip arm64-system: cannot have the arm64 kernel $kpkg: $why"
	exit 0
fi
vmlinuz=$(ls "$KROOT/boot/vmlinuz-${kpkg#linux-image-}" 2>/dev/null) ||
	{ fail kernel "no /boot/vmlinuz-${kpkg#linux-image-} in $kpkg"; exit 0; }

# The programs: t-undump-pid's app, a PIE to stop and a static one to read
# while it runs; t-undump-threads' with three busy workers.
$A64CC -pie -fPIE -O1 -DNOBIG -o dp "$APP_SRC" && $A64CC -static -no-pie -O1 -DNOBIG -DFREE_OLD -o sg "$APP_SRC" &&
	$A64CC -static -no-pie -O1 -pthread -o thr "$TOP/tests/undump-threads.c" ||
	{ fail app-build "$A64CC failed"; exit 0; }
aarch64-linux-gnu-gcc -static -O1 -Wall -Wextra -Werror -o init "$TOP/tests/arm64-init.c" ||
	{ fail init-build "$A64CC failed on tests/arm64-init.c"; exit 0; }

# The initramfs, uncompressed: inflating it under TCG would cost more than
# reading it. /app is the PIE, /sapp the static program, /thr the threads.
mkdir -p rootfs/lib rootfs/proc rootfs/dev
cp init rootfs/init && cp "$B/surgeon" rootfs/surgeon && cp dp rootfs/app && cp sg rootfs/sapp && cp thr rootfs/thr
cp -L "$A64ROOT/lib/ld-linux-aarch64.so.1" rootfs/lib/
# needs FILE: the shared libraries FILE needs, and theirs, into rootfs/lib.
needs() {
	local l d
	for l in $(aarch64-linux-gnu-readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -e "rootfs/lib/$l" ] && continue
		for d in "$ROOT/usr/lib/aarch64-linux-gnu" "$ROOT/lib/aarch64-linux-gnu" "$A64ROOT/lib"; do
			[ -e "$d/$l" ] && { cp -L "$d/$l" rootfs/lib/ && needs "rootfs/lib/$l"; break; }
		done
		[ -e "rootfs/lib/$l" ] || fail "lib-$l" "no $l in the arm64 root or $A64ROOT/lib"
	done
}
needs rootfs/surgeon
needs rootfs/app
# boot NAME: runs the machine on the initramfs NAME/ until init powers it
# off; its console, without the tty's carriage returns, in NAME.txt.
boot() {
	(cd "$1" && find . | cpio -o -H newc --quiet) >"$1.cpio" || { fail "$1-initramfs" "cpio failed"; return 1; }
	# -cpu max with the cheap pointer authentication: QARMA under TCG is slow.
	timeout 300 "$QSYS" -M virt -cpu max,pauth-impdef=on -smp 2 -m 1024 -nographic -nic none -no-reboot \
		-kernel "$vmlinuz" -initrd "$1.cpio" -append "console=ttyAMA0 panic=-1 quiet loglevel=1 rdinit=/init" \
		</dev/null >"$1.log" 2>"$1.err"
	local rc=$?
	tr -d '\r' <"$1.log" >"$1.txt"
	check_eq "$1-machine-ran" "0 1" "$rc $(sed -n 's/^R done //p' "$1.txt")"
}
# r BOOT NAME: init's result NAME.
r() { sed -n "s/^R $2 //p" "$1.txt"; }
# block BOOT NAME: the file init sent between BEGIN NAME and END NAME.
block() { awk -v n="$2" '$0 == "END " n { p = 0 } p; $0 == "BEGIN " n { p = 1 }' "$1.txt" | base64 -d >"$2"; }
boot rootfs
check_eq kernel-is-aarch64 aarch64 "$(r rootfs machine)"
check_eq info-runs 0 "$(r rootfs info)"
block rootfs info.out
check_eq info-machine "machine: aarch64" "$(grep '^machine:' info.out)"

a64_run ./dp full >dp.ref 2>/dev/null
a64_run ./sg full >sg.ref 2>/dev/null
check_eq stop-stopped 1 "$(r rootfs stop-stopped)"
check_eq pipe-waits S "$(r rootfs pipe-waits)"
for n in stop pipe; do
	app=$([ $n = stop ] && echo dp || echo sg)
	block rootfs $n.err
	check_eq $n-unexec "0" "$(r rootfs $n-unexec)$(head -c 200 $n.err)"
	check_eq $n-left-as-it-was "$([ $n = stop ] && echo T || echo S)" "$(r rootfs $n-state)"
	check_eq $n-original-finishes 0 "$(r rootfs $n-finishes)"
	block rootfs $n.out
	if [ $n = pipe ]; then sed -i 1d $n.out; fi	# its "ready"
	check $n-original-output cmp $app.ref $n.out
	block rootfs $n.o; block rootfs $n.ld; block rootfs $n.maps
	check $n-relink "$SURGEON" relink $n.o -o $n.dump
done
# The static program is at its ET_EXEC address: qemu-user runs it here.
if [ -x pipe.dump ]; then
	run_capture pipe.d a64_run ./pipe.dump
	check_eq pipe-dump-runs 0 "$(cat pipe.d.rc)"
	check_eq pipe-no-reinit "init ran: no" "$(cat pipe.d.err)"
	check pipe-same-output cmp sg.ref pipe.d.out
	check pipe-malloc-after grep -qx 'malloc ok' pipe.d.out
fi
# Threads: every one stopped while the memory is read (PTRACE_INTERRUPT),
# the workers' stack pointers by PTRACE_GETREGSET, all running again after.
a64_run ./thr full busy >thr.ref 2>/dev/null
check_eq thr-waits S "$(r rootfs thr-waits)"
check_eq thr-has-4-threads 4 "$(r rootfs thr-before-tasks)"
check_eq thr-workers-running 1 "$([ "$(r rootfs thr-before-running)" -ge 1 ] && echo 1)"
block rootfs thr.err
check_eq thr-unexec 0 "$(r rootfs thr-unexec)$(head -c 200 thr.err)"
check_eq thr-left-waiting S "$(r rootfs thr-state)"
check_eq thr-left-with-4-threads 4 "$(r rootfs thr-after-tasks)"
check_eq thr-workers-resumed 1 "$([ "$(r rootfs thr-after-running)" -ge 1 ] && echo 1)"
check_eq thr-original-finishes 0 "$(r rootfs thr-finishes)"
block rootfs thr.out; sed -i 1d thr.out
check thr-original-output cmp thr.ref thr.out
block rootfs thr.o; block rootfs thr.ld
check thr-relink "$SURGEON" relink thr.o -o thr.dump
# The workers' stacks (8 MiB each: init's stack limit) are not in the dump.
check_eq thr-stacks-left-out 1 "$([ "$(stat -c %s thr.dump)" -lt $((8 << 20)) ] && echo 1)"
# A kernel core of the PIE (core_pattern /core, killed by SIGABRT as it
# waited): unexec --core by the aarch64 surgeon in the machine and by this
# one; both relinked here, run in the second boot.
check_eq kcore-waits S "$(r rootfs kcore-waits)"
check_eq kcore-dumped 1 "$(r rootfs kcore-dumped)"
block rootfs core; block rootfs kcore.o; block rootfs kcore.err; block rootfs kcore.maps
check kcore-has-nt-file grep -q NT_FILE <(readelf -n core 2>&1)
check_eq kcore-unexec-a64 0 "$(r rootfs kcore-unexec)$(head -c 200 kcore.err)"
check kcore-unexec-x86 "$SURGEON" unexec --core core --exe dp -o kcore-x86.o
check kcore-relink-x86 "$SURGEON" relink kcore-x86.o -o kcore-x86.dump
check kcore-relink-a64 "$SURGEON" relink kcore.o -o kcore-a64.dump
# The objects differ only in the program's path they record (/app, dp).
check kcore-same-dump cmp kcore-x86.dump kcore-a64.dump

[ -x stop.dump ] && [ -x thr.dump ] || exit 0
# The PIE became a fixed-address program where the kernel had put it,
# 0xaaaa..., and the threads' dump keeps anonymous memory at 0xffff...:
# beyond the 47 bits qemu-user on x86-64 can map, they run in a second boot.
mkdir rootfs2 && cp -al rootfs/lib rootfs/init rootfs/proc rootfs/dev rootfs2/ && cp stop.dump thr.dump rootfs2/
for f in kcore-x86.dump kcore-a64.dump; do [ -x $f ] && cp $f rootfs2/; done
boot rootfs2
check_eq stop-dump-runs 0 "$(r rootfs2 dump)"
for f in dump.out dump.err addr1.out addr2.out tdump.out tdump.err tcount.out kx.out kx.err ka.out ka.err; do
	block rootfs2 $f
done
for k in kx ka; do
	n=kcore-$([ $k = kx ] && echo x86 || echo a64)-dump
	check_eq $n-runs 0 "$(r rootfs2 $k)"
	check_eq $n-no-reinit "init ran: no" "$(cat $k.err)"
	check $n-same-output cmp dp.ref $k.out
	check $n-malloc-after grep -qx 'malloc ok' $k.out
done
check_eq thr-dump-runs 0 "$(r rootfs2 tdump)"
check_eq thr-no-reinit "init ran: no" "$(cat tdump.err)"
check thr-same-output cmp thr.ref tdump.out
check_eq thr-one-thread "1 threads" "$(cat tcount.out)"
check_eq stop-no-reinit "init ran: no" "$(cat dump.err)"
check stop-same-output cmp dp.ref dump.out
check stop-malloc-after grep -qx 'malloc ok' dump.out
check_eq stop-fixed-address EXEC "$(elf_type stop.dump)"
base=$(awk '$6 == "/app" && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' stop.maps)
off=$(aarch64-linux-gnu-nm dp | awk '$3 == "table" && $2 ~ /^[bB]$/ { print $1 }')
a=$(cat addr1.out) b=$(cat addr2.out)
check_eq stop-data-at-old-address "$(printf '0x%x' $((0x$base + 0x$off)))" "${a%% *}"
check_eq stop-same-each-start "${a% *}" "${b% *}"
lst=$(echo "$a" | awk '{ print $2 }')
read -r h0 h1 < <(awk '$6 == "[heap]" { split($1, a, "-"); print a[1], a[2]; exit }' stop.maps)
if [ $((lst)) -ge $((0x$h0)) ] && [ $((lst)) -lt $((0x$h1)) ]; then ok stop-heap-pointer-valid
else fail stop-heap-pointer-valid "list at $lst, heap was $h0-$h1"; fi
check_eq stop-libraries-still-random 1 "$([ "${a##* }" != "${b##* }" ] && echo 1)"

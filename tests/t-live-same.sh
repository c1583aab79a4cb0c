# inject and add-lib of the same inputs give the same code and the same
# patches: inject puts the new code where add-lib puts it (right after the
# program) when that is free, links it the same way, and writes the same
# jumps. The bytes of each new segment of add-lib's output that inject
# loaded (code, read-only data, data) are compared with the process's
# memory at the same addresses, and the patched function's bytes with the
# output's. For a PIE, add-lib's addresses are the file's and the process
# has them at its load address. The inputs reach the program's variables
# and --wrap's trampoline (__real_handler), so the code holds addresses.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
cat >wrap.c <<'C'
extern volatile int go;		/* the program's */
long __real_handler(long);
long __wrap_handler(long x) { return __real_handler(x) + 993 + go; }
C
gcc -O2 -c wrap.c && ar rcs libwrap.a wrap.o || { fail build "cannot build libwrap.a"; exit 0; }

for kind in exec pie; do
	n=$kind
	lbuild $n $kind || { fail "$n-build" "cannot build"; continue; }
	start $n ./$n pipe
	check "$n-add-lib" "$SURGEON" add-lib $n libwrap.a --wrap handler -o $n.addlib
	check "$n-inject" "$SURGEON" inject $pid libwrap.a --wrap handler
	ask 5
	check_eq "$n-answers-new" "5 1015" "$reply"
	base=0
	[ $kind = pie ] && base=$((16#$(awk -v exe="$(readlink -f $n)" '$6 == exe { split($1, a, "-"); print a[1]; exit }' /proc/$pid/maps)))
	read -r id start end record state < <(injections $pid)
	# add-lib's new segments: every one inside the injected range is in memory as in the file.
	compared=0 differ=
	while read -r off vaddr filesz; do
		off=$((off)) vaddr=$((vaddr)) filesz=$((filesz))
		a=$((vaddr + base))
		[ $a -ge $((start)) ] && [ $((a + filesz)) -le $((end)) ] && [ $filesz -gt 0 ] || continue
		dd if=$n.addlib bs=4096 iflag=skip_bytes,count_bytes skip=$off count=$filesz 2>/dev/null >seg.file
		dd if=/proc/$pid/mem bs=4096 iflag=skip_bytes,count_bytes skip=$a count=$filesz 2>/dev/null >seg.mem
		cmp -s seg.file seg.mem || differ="$differ 0x$(printf %x $a) ($(cmp seg.file seg.mem | head -1))"
		compared=$((compared + 1))
	done < <(readelf -lW $n.addlib | awk '$1 == "LOAD" { print $2, $3, $5 }')
	[ $compared -ge 2 ] && ok "$n-segments-compared" || fail "$n-segments-compared" "only $compared new segments inside 0x$(printf %x $((start)))-0x$(printf %x $((end)))"
	check_eq "$n-same-code-and-data" "" "$differ"
	# The patch: handler's first bytes, in the output and in memory.
	h=$((16#$(nm $n | awk '$3 == "handler" { print $1 }')))
	hoff=
	while read -r off vaddr filesz; do
		[ $h -ge $((vaddr)) ] && [ $h -lt $((vaddr + filesz)) ] && hoff=$((h - vaddr + off))
	done < <(readelf -lW $n | awk '$1 == "LOAD" { print $2, $3, $5 }')
	dd if=$n.addlib bs=1 skip=$hoff count=16 2>/dev/null >patch.file
	dd if=/proc/$pid/mem bs=1 skip=$((h + base)) count=16 2>/dev/null >patch.mem
	dd if=$n bs=1 skip=$hoff count=16 2>/dev/null >patch.orig
	cmp -s patch.file patch.orig && fail "$n-patched" "add-lib left handler as it was" || ok "$n-patched"
	check "$n-same-patch" cmp patch.file patch.mem
	check "$n-eject" "$SURGEON" eject $pid
	check "$n-code-is-the-file-s" mem_equals_file $pid $n
	stop
done

# surgeon unexec --core CORE --exe APP: the same from gdb's gcore and from a
# kernel core; a core of another program or a truncated core is refused.
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"

# start NAME: runs ./NAME pipe until `release NAME`, leaves its pid in $pid.
start() {
	rm -f "$1.fifo"; mkfifo "$1.fifo"
	"./$1" pipe <"$1.fifo" >"$1.orig.out" 2>/dev/null &
	pid=$!
	exec 3>"$1.fifo"
	for i in $(seq 1 500); do grep -q ready "$1.orig.out" && break; sleep 0.02; done
}
release() { echo x >&3; exec 3>&-; wait $pid; }

for v in sg sm dg dp ms; do
	build $v $v
	start $v
	base=$(load_base $pid $v) heap=$(heap_range $pid)
	gcore -o $v.core $pid >/dev/null 2>&1
	check_eq "$v-gcore-left-running" S "$(state $pid)"
	release
	mv $v.core.$pid $v.core 2>/dev/null || { fail "$v-gcore" "gcore wrote no core"; continue; }
	check "$v-unexec" "$SURGEON" unexec --core $v.core --exe $v --anon -o $v.o
	check "$v-relink" "$SURGEON" relink $v.o -o $v.dump
	check_dump "$v" ./$v ./$v.dump norand
	[ $v = dp ] && check_pie_place $v ./$v ./$v.dump "$base" "$heap" norand
	[ $v = ms ] && check_pie_place $v ./$v ./$v.dump "$base" "" norand
done

# A kernel core, when the kernel writes cores to a file in the current directory.
pattern=$(cat /proc/sys/kernel/core_pattern)
case $pattern in
	/*|\|*) echo "skip kernel-core: core_pattern is '$pattern'" ;;
	*)
	for v in sg dp; do
		build kc-$v $v
		rm -f core*
		(ulimit -c unlimited; start kc-$v; echo "$(load_base $pid kc-$v) $(heap_range $pid)" >kc-$v.where
		 kill -ABRT $pid; exec 3>&-; wait $pid 2>/dev/null; true)
		core=$(ls -t core* 2>/dev/null | head -1)
		if [ -z "$core" ]; then echo "skip kernel-core-$v: no core was written"; continue; fi
		mv "$core" kc-$v.core
		check kernel-core-$v-unexec "$SURGEON" unexec --core kc-$v.core --exe kc-$v --anon -o kc-$v.o
		check kernel-core-$v-relink "$SURGEON" relink kc-$v.o -o kc-$v.dump
		check_dump kernel-core-$v ./kc-$v ./kc-$v.dump norand
		read -r base h0 h1 <kc-$v.where
		[ $v = dp ] && check_pie_place kernel-core-$v ./kc-$v ./kc-$v.dump "$base" "$h0 $h1" norand
	done ;;
esac

refuse core-of-other-program "not a core of" "$SURGEON" unexec --core sg.core --exe dg -o refused.o
refuse core-of-other-pie "not a core of" "$SURGEON" unexec --core dp.core --exe dg -o refused.o
build dp2 dp -DNOBIG	# a PIE of other code: its entry point is elsewhere
refuse core-of-other-pie-build "not a core of" "$SURGEON" unexec --core dp.core --exe dp2 -o refused.o
gcc -static -no-pie -O1 -DFREE_OLD -DNOBIG -o sg2 "$APP_SRC"	# same source, other layout
refuse core-of-other-build "not a core of" "$SURGEON" unexec --core sm.core --exe sg2 -o refused.o
# The PIE of the core with a damaged dynamic section: each claim is checked.
dyn_patch() {	# dyn_patch IN OUT TAG VALUE: the first TAG entry of IN's PT_DYNAMIC set to VALUE
	python3 - "$@" <<'PY'
import struct, sys
src, dst, tag, val = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0)
d = bytearray(open(src, 'rb').read())
phoff, = struct.unpack_from('<Q', d, 32); phnum, = struct.unpack_from('<H', d, 56)
for i in range(phnum):
    t, _, off, _, _, fsz = struct.unpack_from('<IIQQQQ', d, phoff + 56 * i)
    if t == 2:
        for k in range(off, off + fsz, 16):
            if struct.unpack_from('<q', d, k)[0] == tag:
                struct.pack_into('<Q', d, k + 8, val); break
open(dst, 'wb').write(d)
PY
}
dyn_patch dp dp-bigrela 8 0xfffffffffff0	# DT_RELASZ
refuse pie-bad-relasz "relocation table at 0x[0-9a-f]* lies outside the file" \
	"$SURGEON" unexec --core dp.core --exe dp-bigrela -o refused.o
dyn_patch dp dp-badplt 23 0x7ffffffffff0	# DT_JMPREL
refuse pie-bad-jmprel "PLT relocation table at 0x7ffffffffff0 lies outside the file" \
	"$SURGEON" unexec --core dp.core --exe dp-badplt -o refused.o
head -c $(( $(stat -c %s sg.core) / 2 )) sg.core >half.core
refuse truncated-core "truncated core" "$SURGEON" unexec --core half.core --exe sg -o refused.o
head -c 40 sg.core >tiny.core
refuse tiny-core "truncated core" "$SURGEON" unexec --core tiny.core --exe sg -o refused.o
refuse not-a-core "not a core file" "$SURGEON" unexec --core sg --exe sg -o refused.o

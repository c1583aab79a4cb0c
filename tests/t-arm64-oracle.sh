# aarch64, cross from x86-64 and run under qemu-user: the oracle pairs of the
# PIE suite (tests/pie) on 64-bit Arm programs. The program and the plugin
# linked from source by aarch64-linux-gnu-gcc must behave exactly like
# surgeon add-lib of the program built alone and the plugin's archive:
#  (a) PIE, plugin (a): old functions and globals, RELATIVE data, a hook set
#      from a constructor, a destructor;
#  (b) PIE, plugin (b): libm (a new DT_NEEDED), libc functions the program
#      never imported, dlsym(RTLD_DEFAULT) of the plugin's export;
#  (c) ET_EXEC (-no-pie) with plugin (b);
#  (d) static glibc with (a), and with (b): libc functions borrowed from the
#      cross libc.a, IFUNCs (memcpy, strlen) resolved by the init thunk;
#  (e) static-pie with (a); (a), (b) and (d) linked by lld, (a) and (b) by
#      gold too, and gold refused for (d) (its bug, reproduced below);
#  and unexec + relink with nothing added gives the program back byte for
#  byte; verify accepts every output. The references of (b) and (c) export
#  plug_entry as surgeon does by default (see t-pie-oracle.sh).
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
P=$TOP/tests/pie
CF="-O1"

$A64CC $CF -c -o plug_a.o "$P/plug_a.c" && $A64AR rcs liba.a plug_a.o &&
$A64CC $CF -c -o plug_b.o "$P/plug_b.c" && $A64AR rcs libb.a plug_b.o || fail plugins-build "cannot compile the plugins"

# pair NAME BUILD-FLAGS PLUGIN LIBS...: build app and reference, add-lib, compare.
pair() {
	local n=$1 flags=$2 plug=$3; shift 3
	local exp=
	[ "$plug" = b ] && [ "$flags" != -static ] && exp=-Wl,--export-dynamic-symbol=plug_entry
	if ! $A64CC $CF $flags -o "$n-app" "$P/app.c" || ! $A64CC $CF $flags -o "$n-ref" "$P/app.c" "$P/plug_$plug.c" "$@" $exp; then
		fail "$n-build" "$A64CC failed"
		return
	fi
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" "lib$plug.a" "$@" -o "$n-out"
	[ -x "$n-out" ] || return
	a64_same "$n-oracle" "./$n-ref" "./$n-out"
	a64_same "$n-oracle-args" "./$n-ref" "./$n-out" x y
	check "$n-verify" "$SURGEON" verify "$n-app" "$n-out"
}

pair a-pie "" a
check a-dtor-ran grep -q '^plug dtor counter=15' "$T/.b.out"
check_eq a-machine "AArch64" "$(readelf -hW a-pie-out | sed -n 's/^ *Machine: *//p')"
pair b-pie "" b -lm
check b-dlsym-found grep -qx 'dlsym plug_entry: found' "$T/.b.out"
check b-needs-libm sh -c "readelf -dW b-pie-out | grep -q 'NEEDED.*\[libm.so.6\]'"
# Without -lm: the cross libraries say where cos is.
run_capture nolibm "$SURGEON" add-lib b-pie-app libb.a -o nolibm.out
check nolibm-hint grep -qx "surgeon: libb.a(plug_b.o): undefined symbol 'cos': neither the program nor the added inputs define it; it is in libm: add -lm" nolibm.err
pair c-exec -no-pie b -lm
check_eq c-is-exec "EXEC" "$(readelf -hW c-exec-out | awk '/Type:/ { print $2 }')"
CF="-O1 -DNO_DLSYM"
pair d-static -static a
pair d-static-libc -static b -lm
pair e-static-pie -static-pie a
check_eq e-is-dyn "DYN" "$(readelf -hW e-static-pie-out | awk '/Type:/ { print $2 }')"

# Nothing added: the program back, byte for byte.
for p in a-pie c-exec d-static e-static-pie; do
	[ -f "$p-app" ] || continue
	check "$p-unexec" "$SURGEON" unexec "$p-app" -o "$p.o"
	check "$p-relink-identical" sh -c "'$SURGEON' relink '$p.o' -o '$p.rt' && cmp '$p-app' '$p.rt'"
done

# Data appended to the program (an overlay) is copied byte for byte after
# the new code, and the program still runs as the reference does.
if [ -x a-pie-app ]; then
	cp a-pie-app ov-app && head -c 5000 /dev/urandom >ov.bin && cat ov.bin >>ov-app
	check ov-add-lib "$SURGEON" add-lib ov-app liba.a -o ov-out
	if [ -x ov-out ]; then
		check_eq ov-kept "$(sha256sum <ov.bin)" "$(tail -c 5000 ov-out | sha256sum)"
		a64_same ov-oracle ./a-pie-ref ./ov-out
	fi
fi

# The other linkers: lld (which links every machine) and the cross gold
# (refused where its bug, below, would stop it).
for ld in lld gold; do
	for p in a-pie b-pie d-static; do
		[ -x $p-app ] || continue
		[ $ld = gold ] && [ $p = d-static ] && continue
		lib=liba.a; extra=(); case $p in b-*) lib=libb.a extra=(-lm) ;; esac
		check "$p-$ld-add-lib" "$SURGEON" add-lib --ld $ld $p-app $lib "${extra[@]}" -o $p-$ld
		[ -x $p-$ld ] && a64_same "$p-$ld-oracle" ./$p-ref ./$p-$ld
	done
done

# gold 1.16's aarch64 back end copies the bytes of a code section that owns
# a stub table from the object file even when it is NOBITS: a section
# larger than what follows its offset in the file stops the link. Shown
# without surgeon, beside GNU ld linking the same object; then surgeon
# refuses gold up front where its frozen object has such a section (a
# static program's code is larger than its symbols).
printf '\t.section .old.text,"ax",%%nobits\n\t.globl _start\n_start:\n\t.zero 0x1000\n' >nb.s
printf 'SECTIONS { .old.text 0x400000 : { KEEP(*(.old.text)) } }\n' >nb.ld
GOLD=$($A64CC -print-prog-name=ld.gold)
if aarch64-linux-gnu-as -o nb.o nb.s; then
	check gold-bug-bfd-links $($A64CC -print-prog-name=ld) -static -nostdlib -T nb.ld -o nb.bfd nb.o
	run_capture nb "$GOLD" -static -nostdlib -T nb.ld -o nb.gold nb.o
	check gold-bug-reproduced grep -q 'attempt to map 4096 bytes at offset [0-9]* exceeds size of file' nb.err
else
	fail gold-bug-asm "aarch64-linux-gnu-as failed"
fi
if [ -x d-static-app ]; then
	run_capture gold-static "$SURGEON" add-lib --ld gold d-static-app liba.a -o d-static-gold
	check_eq gold-static-refused-rc 1 "$(cat gold-static.rc)"
	a=$(readelf -SW d-static-app | sed -n 's/.* \.text  *PROGBITS  *0*\([0-9a-f]*\) .*/\1/p')
	check gold-static-refused grep -qx "surgeon: d-static-app: gold cannot link this aarch64 program: it reads the program's code at 0x$a ([0-9]* bytes) from the frozen object, which holds none of it, and fails (a gold bug); use --ld bfd or --ld lld" gold-static.err
	check_eq gold-static-no-output "" "$(ls d-static-gold 2>/dev/null)"
fi

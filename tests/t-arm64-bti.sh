# aarch64 BTI and PAC (GNU_PROPERTY_AARCH64_FEATURE_1_AND): the output keeps
# the program's claims only when they stay true. The linker ANDs the
# program's bits (the frozen object carries them), surgeon's own code's
# (thunks and trampolines start with bti c and sign their return address)
# and every input's:
#  - a plugin built with -mbranch-protection=standard: BTI kept, no edit;
#  - one built without: BTI dropped from the program's property, with a
#    warning and a recorded edit that verify lists;
#  - --wrap of a function whose landing pad is its paciasp: the entry gets
#    bti c before the jump (the paciasp runs in __real_SYM), so it stays a
#    landing pad, as objdump reads it.
# Debian's crt files have no BTI notes, so that program is marked with
# -z force-bti; it does not run (its start-up code has no landing pads),
# and what is checked there is the files.
# Then at run time, with programs built without Debian's crt files
# (tests/arm64/bti-*): qemu-user (cpu max) enforces BTI on a static
# program's PT_GNU_PROPERTY, and Debian's ld.so on a dynamic one's (mprotect
# PROT_BTI); an indirect call to code without a landing pad dies with
# SIGILL, shown first (negative controls). Every output must behave as the
# program linked from source by gcc with the same code (--replace as
# --defsym, --wrap as ld's --wrap).
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
P=$TOP/tests/pie

feature() { readelf -nW "$1" | sed -n 's/.*AArch64 feature: *//p'; }
if ! $A64CC -O1 -mbranch-protection=standard -Wl,-z,force-bti -o app "$P/app.c" 2>/dev/null ||
   ! $A64CC -O1 -mbranch-protection=standard -c -o bti.o "$P/plug_a.c" || ! $A64AR rcs libbti.a bti.o ||
   ! $A64CC -O1 -c -o plain.o "$P/plug_a.c" || ! $A64AR rcs libplain.a plain.o; then
	fail build "$A64CC failed"
	exit 0
fi
check_eq program-has-bti BTI "$(feature app)"

run_capture kept "$SURGEON" add-lib app libbti.a -o kept.new
check_eq kept-rc 0 "$(cat kept.rc)"
check_eq kept-bti BTI "$(feature kept.new)"
check_eq kept-no-warning "" "$(cat kept.err)"
"$SURGEON" verify -v app kept.new >kept.v
check_eq kept-no-edit "" "$(grep 'GNU property' kept.v)"

run_capture dropped "$SURGEON" add-lib app libplain.a -o dropped.new
check_eq dropped-rc 0 "$(cat dropped.rc)"
check_eq dropped-bti "" "$(feature dropped.new)"
check dropped-warning grep -q "^surgeon: app: warning: BTI dropped (the added code is not built with gcc -mbranch-protection=standard)" dropped.err
"$SURGEON" verify -v app dropped.new >dropped.v
check_eq dropped-verify 0 $?
check dropped-edit-listed grep -q "GNU property: BTI dropped" dropped.v

# main begins with paciasp, its landing pad: --wrap main keeps one there.
printf 'int __real_main(int, char **);\nint __wrap_main(int c, char **v) { return __real_main(c, v) + 1; }\n' >wm.c
$A64CC -O1 -mbranch-protection=standard -c -o wm.o wm.c && $A64AR rcs libwm.a wm.o
a=$(nm app | awk '$3 == "main" { print $1 }')
# insns FILE ADDR: the two instructions at ADDR, "mnemonic operands|...", as objdump reads them.
insns() { aarch64-linux-gnu-objdump -d --start-address=0x$2 --stop-address=$(printf '0x%x' $((0x$2 + 8))) "$1" |
	  awk -F'\t' '/^ *[0-9a-f]+:/ { m = $3; if (NF > 3 && m != "b" && m != "bl") m = m " " $4; printf "%s|", m }'; }
check_eq main-starts-with-paciasp "paciasp|" "$(insns app $a | cut -d'|' -f1)|"
check wrap-main "$SURGEON" add-lib app libwm.a --wrap main -o wrap.new
check_eq wrap-entry-bti-then-b "bti c|b|" "$(insns wrap.new $a)"
check_eq wrap-bti-kept BTI "$(feature wrap.new)"
r=$(nm wrap.new | awk '$3 == "__real_main" { print $1 }')
check_eq real-main-runs-paciasp "bti c|paciasp|" "$(insns wrap.new $r)"

# Run time. Static programs with no libc (raw system calls), dynamic ones
# with glibc; every object built with -mbranch-protection=standard unless
# it is the one without a landing pad.
R=$TOP/tests/arm64
BF="-O1 -mbranch-protection=standard -fno-stack-protector"
SF="-static -nostdlib -no-pie"
DF="-nostartfiles"
if ! $A64CC $BF -c -o start.o "$R/bti-start.S" || ! $A64CC $BF -c -o dstart.o "$R/bti-dstart.S" ||
   ! $A64CC $BF -DENTRY_PAD=nop -c -o dstart-nop.o "$R/bti-dstart.S" ||
   ! $A64CC $BF -ffreestanding -c -o sapp.o "$R/bti-app.c" || ! $A64CC $BF -DLIBC -c -o dapp.o "$R/bti-app.c" ||
   ! $A64CC $BF -c -o twice.o "$R/bti-twice.c" || ! $A64CC -O1 -mbranch-protection=none -c -o twice-nopad.o "$R/bti-twice.c" ||
   ! $A64CC $BF -ffreestanding -c -o bplug.o "$R/bti-plug.c" || ! $A64AR rcs libbplug.a bplug.o ||
   ! $A64CC -O1 -ffreestanding -c -o nplug.o "$R/bti-plug.c" || ! $A64AR rcs libnplug.a nplug.o ||
   ! $A64CC $BF -ffreestanding -c -o bwrap.o "$R/bti-wrap.c" || ! $A64AR rcs libbwrap.a bwrap.o ||
   ! $A64CC $BF -c -o liar.o "$R/bti-liar.S" || ! $A64AR rcs libliar.a liar.o; then
	fail run-build "$A64CC failed"
	exit 0
fi
rc_of() { run_capture "$T/.r" a64_run "$@"; cat "$T/.r.rc"; }

# Negative controls: the test is real only if BTI is enforced.
$A64CC $BF $SF -Wl,-z,force-bti -o s-nopad start.o sapp.o twice-nopad.o 2>/dev/null
check_eq s-nopad-has-bti BTI "$(feature s-nopad)"
check_eq s-nopad-sigill 132 "$(rc_of ./s-nopad)"
$A64CC $BF $DF -o d-nopad dstart-nop.o dapp.o twice.o
check_eq d-nopad-has-bti "BTI, PAC" "$(feature d-nopad)"
check_eq d-nopad-sigill 132 "$(rc_of ./d-nopad)"

# pair NAME KIND REF-OBJS -- ADD-LIB-ARGS: the program (KIND s or d)
# alone through add-lib, against gcc's link of the same code; BTI kept.
pair() {
	local n=$1 k=$2 objs=() args=()
	shift 2
	while [ "$1" != -- ]; do objs+=("$1"); shift; done
	shift; args=("$@")
	local flags=$SF start=start.o app=${APP:-sapp}.o prog=${APP:-s}
	[ $k = d ] && flags=$DF start=dstart.o app=${APP:-dapp}.o prog=${APP:-d}
	if ! $A64CC $BF $flags -o $n-ref $start $app "${objs[@]}"; then fail $n-ref "$A64CC failed"; return; fi
	run_capture $n "$SURGEON" add-lib $prog-app "${args[@]}" -o $n-out
	check_eq $n-add-lib 0 "$(cat $n.rc)"
	[ -x $n-out ] || return
	check_eq $n-bti-kept "$(feature $n-ref)" "$(feature $n-out)"
	check_eq $n-no-warning "" "$(cat $n.err)"
	a64_same $n-oracle ./$n-ref ./$n-out
}
$A64CC $BF $SF -o s-app start.o sapp.o twice.o && $A64CC $BF $DF -o d-app dstart.o dapp.o twice.o
for k in s d; do
	check_eq $k-app-has-bti "BTI, PAC" "$(feature $k-app)"
	check_eq $k-app-runs "twice(5)=10" "$(a64_run ./$k-app)"
	# A constructor (run by surgeon's entry thunk: the program has no
	# .init_array), a call into added code and back, all through pointers.
	pair $k-plug $k twice.o bplug.o -- libbplug.a
	check_eq $k-plug-hook-ran "hook(7)=80" "$(sed -n 2p "$T/.b.out")"
	# twice, called through a pointer, replaced: its entry keeps bti c.
	pair $k-replace $k bplug.o -Wl,--defsym=twice=new_twice -- libbplug.a --replace twice=new_twice
	check_eq $k-replace-ran "twice(5)=15" "$(sed -n 1p "$T/.b.out")"
	# --wrap: __real_twice, surgeon's trampoline, called through a pointer.
	pair $k-wrap $k twice.o bplug.o bwrap.o -Wl,--wrap=twice -- libbplug.a libbwrap.a --wrap twice
	check_eq $k-wrap-real-ran "twice(5)=110" "$(sed -n 1p "$T/.b.out")"
done

# Programs with their own constructor (and destructor): surgeon's init and
# fini thunks, called through .init_array and .fini_array.
if $A64CC $BF -ffreestanding -DCTOR -c -o sctor.o "$R/bti-app.c" && $A64CC $BF -DLIBC -DCTOR -c -o dctor.o "$R/bti-app.c" &&
   $A64CC $BF $SF -o sctor-app start.o sctor.o twice.o && $A64CC $BF $DF -o dctor-app dstart.o dctor.o twice.o; then
	APP=sctor pair s-ctor s twice.o bplug.o -- libbplug.a
	APP=dctor pair d-ctor d twice.o bplug.o -- libbplug.a
	check_eq d-ctor-dtor-ran "app_fini 40" "$(sed -n 3p "$T/.b.out")"
else
	fail ctor-build "$A64CC failed"
fi

# Added code that claims BTI without a landing pad: the output keeps BTI
# and faults at the indirect call, as gcc's link does; so the new segments
# are enforced too.
$A64CC $BF $SF -o s-liar-ref start.o sapp.o twice.o liar.o
run_capture s-liar "$SURGEON" add-lib s-app libliar.a -o s-liar-out
check_eq s-liar-bti-kept "BTI, PAC" "$(feature s-liar-out)"
check_eq s-liar-ref-sigill 132 "$(rc_of ./s-liar-ref)"
a64_same s-liar-oracle ./s-liar-ref ./s-liar-out

# A plugin without BTI: the bit is dropped with the warning, and the output
# runs as gcc's link (which drops it too).
for k in s d; do
	flags=$SF start=start.o app=sapp.o
	[ $k = d ] && flags=$DF start=dstart.o app=dapp.o
	$A64CC $BF $flags -o $k-nbti-ref $start $app twice.o nplug.o
	run_capture $k-nbti "$SURGEON" add-lib $k-app libnplug.a -o $k-nbti-out
	check $k-nbti-warning grep -q "^surgeon: $k-app: warning: BTI and PAC dropped" $k-nbti.err
	check_eq $k-nbti-dropped "" "$(feature $k-nbti-out)"
	a64_same $k-nbti-oracle ./$k-nbti-ref ./$k-nbti-out
done

# Old bytes are unchanged: an independent checker (tests/tools/loadcmp.c)
# lists every address whose loaded byte differs between the program and
# surgeon's output. Those ranges must be exactly covered by the edits
# `surgeon -v add-lib` lists, and the edits may only be the ELF header and the
# last .init_array / .fini_array slot, whose addresses come from readelf.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

# A plugin without constructors or destructors: only the ELF header changes.
cat >plain.c <<'C'
int add(int);
int plain_twice_add(int x) { return 2 * add(x); }
C
cat >splain.c <<'C'
int plain_value = 3;
int plain_get(void) { return plain_value; }
C
for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	run_capture "$T/$k.v" "$SURGEON" -v add-lib "$k/app" "$k/libplug.a" -o "$k/out"
	check_eq "$k-add-lib" 0 "$(cat "$T/$k.v.rc")"
	[ -f "$k/out" ] || continue
	judge "$k-edits" "$k/app" "$k/out" "$T/$k.v.err" "init fini"

	case $k in static-stripped | musl-stripped) p=splain.c ;; *) p=plain.c ;; esac
	$(core_cc "$k") -O1 -c -o "$k/plain.o" "$p" && ar rcs "$k/libplain.a" "$k/plain.o"
	run_capture "$T/$k.pv" "$SURGEON" -v add-lib "$k/app" "$k/libplain.a" -o "$k/plain-out"
	check_eq "$k-plain-add-lib" 0 "$(cat "$T/$k.pv.rc")"
	[ -f "$k/plain-out" ] && judge "$k-plain-edits" "$k/app" "$k/plain-out" "$T/$k.pv.err" ""
done

# The checker itself: it sees a byte flipped in .data and in .text.
cp dyn/app flipped
off=$(readelf -SW dyn/app | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".data" { print $4; exit }')
printf '\xff' | dd of=flipped bs=1 seek=$((0x$off + 1)) conv=notrunc status=none
addr=$(readelf_sec dyn/app .data | awk '{ print $1 }')
check_eq loadcmp-sees-flip "$(printf '0x%x-0x%x' $((0x$addr + 1)) $((0x$addr + 2)))" "$(loadcmp dyn/app flipped)"
check_eq loadcmp-same-file "" "$(loadcmp dyn/app dyn/app)"

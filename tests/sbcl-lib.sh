# Helpers for the SBCL tests (t-sbcl.sh, t-arm64-sbcl.sh), after tests/lib.sh.
#   trailer FILE        the core's offset and the trailer's, "OFF END", read
#                       as the runtime reads them: the trailer (LE 64-bit
#                       offset, then "LCBS" and 4 zeros) in the last 16 bytes
#   core_bytes FILE OUT the core, from its offset to the trailer, into OUT
trailer() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[-8:] == b'LCBS\0\0\0\0', 'no trailer'
off = struct.unpack('<Q', d[-16:-8])[0]
assert d[off:off + 8] == b'LCBS\0\0\0\0', 'no core magic at 0x%x' % off
print(off, len(d) - 16)
PY
}
core_bytes() {
	local t off end
	t=$(trailer "$1") || return 1
	off=${t% *} end=${t#* }
	tail -c +$((off + 1)) "$1" | head -c $((end - off)) >"$2"
}
#   sbcl_moved ORIG OUT ALIGN LOG: after `surgeon -v add-lib ORIG ... -o OUT`
#                       (its stderr in LOG): the core's bytes are ORIG's, at
#                       an ALIGN multiple after everything OUT's headers
#                       describe; the -v line names the trailer's new and
#                       old offsets; no warning; verify; info names ORIG's
#                       core. Sets t1 off1 (ORIG's trailer and core) and
#                       t2 off2 (OUT's) for the checks that follow.
sbcl_moved() {
	local orig=$1 out=$2 align=$3 log=$4 elf_end
	core_bytes "$orig" "$orig.core" && core_bytes "$out" "$out.core"
	check "$out-core-identical" cmp "$orig.core" "$out.core"
	t1=$(trailer "$orig"); off1=${t1% *}; t2=$(trailer "$out"); off2=${t2% *}
	check_eq "$out-core-aligned" 0 $((off2 % align))
	# The core follows the new segments: everything the headers describe is before it.
	elf_end=$("$SURGEON" info --json "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["overlay"]["offset"])')
	check "$out-core-after-elf" test "$elf_end" -le "$off2"
	check_eq "$out-verbose-trailer" 1 "$(grep -c "trailer at 0x$(printf %x "${t2#* }") now names 0x$(printf %x "$off2") (was 0x$(printf %x "$off1"))" "$log")"
	check_eq "$out-no-warning" 0 "$(grep -c warning "$log")"
	check "$out-verify" "$SURGEON" verify "$orig" "$out"
	check_eq "info-$orig" "payload: SBCL core, trailer at 0x$(printf %x "${t1#* }"), core at 0x$(printf %x "$off1")" \
		"$("$SURGEON" info "$orig" | grep '^payload:' | sed 's/ (.*//')"
}

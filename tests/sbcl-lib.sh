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

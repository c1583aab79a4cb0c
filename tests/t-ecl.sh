# ECL: Debian's ecl (a PIE) with zlib's libz.a added. Functions declared
# with ffi:def-function ... :module :default (ECL's dynamic FFI) find zlib in
# the patched program's dynamic symbol table; the original finds nothing.
# ECL links libgmp.so itself, so the library is zlib, which it does not load.
# Oracles: python3's zlib (its runtime version and crc32), LD_DEBUG for the
# libraries loaded, the unpatched program for the failure.
. "$TOP/tests/lib.sh"

if ! command -v ecl >/dev/null; then fail ecl-installed "no ecl (make deps installs it)"; exit 0; fi
ZLIB=/usr/lib/x86_64-linux-gnu/libz.a
want=$(python3 -c 'import zlib; print("zlib", zlib.ZLIB_RUNTIME_VERSION, "crc", zlib.crc32(b"hello"))')

cp "$(command -v ecl)" ecl
check_eq ecl-loads-no-libz 0 "$(ldd ./ecl | grep -c libz)"
run_capture addlib "$SURGEON" add-lib ecl "$ZLIB" -o ecl-z
check_eq add-lib-zlib 0 "$(cat addlib.rc)"
check verify "$SURGEON" verify ecl ecl-z
ecl_run() { local r=$1; shift; "./$r" --norc "$@" --eval '(ext:quit 0)'; }

ecl_run ecl --load "$TOP/tests/lisp/ecl-zlib.lisp" >stock.out 2>&1
check stock-finds-no-zlib grep -q 'Could not load foreign symbol "zlibVersion"' stock.out
check_eq stock-no-result 0 "$(grep -c '^zlib ' stock.out)"

LD_DEBUG=libs LD_DEBUG_OUTPUT="$T/patched.ld" ecl_run ecl-z --load "$TOP/tests/lisp/ecl-zlib.lisp" >patched.out 2>&1
check_eq patched-zlib "$want" "$(grep '^zlib ' patched.out)"
check_eq patched-no-libz-so 0 "$(cat "$T"/patched.ld.* | grep -c 'libz\.so')"
check patched-ld-debug-ran grep -q 'calling init' $(ls "$T"/patched.ld.*)
# The same through --eval, defined and called at run time.
check_eq eval-zlib "${want% crc*}" "$(ecl_run ecl-z --eval '(ffi:def-function ("zlibVersion" zv) () :returning :cstring :module :default)' \
	--eval '(format t "zlib ~a~%" (zv))' 2>&1 | grep '^zlib ')"

# SBCL on arm64 (Debian's sbcl:arm64 and its libzstd1, fetched with
# a64_fetch) under qemu-user: an executable saved with save-lisp-and-die
# :executable t (runtime, padding, core, trailer) and Debian's runtime with
# its separate core get a C library (a static archive built by
# aarch64-linux-gnu-gcc) with add-lib; the Lisp code calls my_add by name
# through an alien routine, with no shared library for it anywhere.
# Oracles: the unpatched programs (the call fails there; the usage path
# prints the same), shell arithmetic for the sums, python3 reading the
# trailer, cmp of the core bytes and of the relinked files, SBCL's own
# choice of the core's alignment in the executable it wrote (64 KiB on
# arm64: qemu-user maps 4 KiB-aligned offsets too, so running cannot tell).
. "$TOP/tests/lib.sh"
. "$TOP/tests/sbcl-lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
if ! why=$(a64_fetch root sbcl libzstd1); then
	echo "skip t-arm64-sbcl: cannot download sbcl:arm64: $why"
	exit 0
fi
A64_LIBPATH=$T/root/lib/aarch64-linux-gnu:$T/root/usr/lib/aarch64-linux-gnu
STOCK_CORE=root/usr/lib/sbcl/sbcl.core
# A broken executable with SBCL_HOME set silently starts the stock SBCL.
unset SBCL_HOME
lisp() {	# lisp RUNTIME ARGS...: the stock core, no init files
	local r=$1; shift
	a64_run "$r" --core "$STOCK_CORE" --noinform --no-sysinit --no-userinit --non-interactive "$@"
}
if ! out=$(lisp root/usr/bin/sbcl --eval '(princ (+ 1 2))' 2>&1) || [ "$out" != 3 ]; then
	echo "skip t-arm64-sbcl: sbcl:arm64 does not run under qemu-aarch64: $(echo "$out" | tail -2 | tr '\n' ' ')"
	exit 0
fi


cat >myadd.c <<'C'
long my_add(long a, long b) { return a + b; }
C
$A64CC -c -o myadd.o myadd.c && $A64AR rcs libmyadd.a myadd.o || { fail lib-build "$A64CC failed"; exit 0; }

# --- An application saved with save-lisp-and-die :executable t -------------
check build-prog lisp root/usr/bin/sbcl --load "$TOP/tests/sbcl/prog.lisp"
[ -x prog ] || exit 0
check_eq prog-needs-add 'error: The alien function "my_add" is undefined.' "$(a64_run ./prog add 2 40 2>&1)"
t1=$(trailer prog); off1=${t1% *}
check_eq sbcl-aligns-64k 0 $((off1 % 65536))

run_capture addlib "$SURGEON" -v add-lib prog libmyadd.a -o prog2
check_eq add-lib 0 "$(cat addlib.rc)"
check_eq prog2-add 42 "$(a64_run ./prog2 add 2 40 2>&1)"
check_eq prog2-add-big $((4000000000000 + -17)) "$(a64_run ./prog2 add 4000000000000 -17 2>&1)"
a64_same prog2-toplevel-usage prog prog2 usage
sbcl_moved prog prog2 65536 addlib.err
"$SURGEON" info --json prog2 | python3 -c '
import json, sys
j = json.load(sys.stdin); p = j["payload"]
off, trailer = int(sys.argv[1]), int(sys.argv[2])
assert j["machine"] == "aarch64", j["machine"]
assert p["format"] == "SBCL core" and p["core"] == off and p["trailer"] == trailer, p
assert p["offset"] + p["size"] == trailer + 16, p' "$off2" "${t2#* }" && ok info-json-prog2 || fail info-json-prog2 "payload wrong"
# The application saves itself again from the patched runtime (the bytes
# before the core): the new executable still has my_add.
check prog2-resave a64_run ./prog2 resave prog2b
check_eq prog2b-add 42 "$(a64_run ./prog2b add 2 40 2>&1)"

# unexec and relink: with nothing new the executable comes back byte for
# byte (core and trailer included); with the library it is add-lib's result.
check unexec-prog "$SURGEON" unexec prog -o prog.o
check relink-prog-same "$SURGEON" relink prog.o -o prog-rt
check relink-prog-identical cmp prog prog-rt
check relink-prog-libdir "$SURGEON" relink prog.o -L root/usr/lib/aarch64-linux-gnu -o prog-rt2
check relink-prog-libdir-identical cmp prog prog-rt2
check relink-prog-lib "$SURGEON" relink prog.o libmyadd.a -o prog-rl
check_eq prog-rl-add 42 "$(a64_run ./prog-rl add 2 40 2>&1)"
core_bytes prog-rl prog-rl.core
check prog-rl-core-identical cmp prog.core prog-rl.core
check prog-rl-verify "$SURGEON" verify prog prog-rl

# --- Debian's runtime, its unmodified core ----------------------------------
cp root/usr/bin/sbcl sbcl
check add-lib-runtime "$SURGEON" add-lib sbcl libmyadd.a -o sbcl-add
call='(princ (sb-alien:alien-funcall (sb-alien:extern-alien "my_add" (function sb-alien:long sb-alien:long sb-alien:long)) 2 40))'
check_eq stock-needs-add 1 "$(lisp sbcl --eval "$call" 2>&1 | grep -c 'The alien function "my_add" is undefined')"
lisp sbcl-add --eval "$call" >runtime.out 2>&1
check_eq runtime-call 42 "$(cat runtime.out)"
check_eq runtime-find-symbol T "$(lisp sbcl-add --eval \
	'(princ (if (sb-sys:find-foreign-symbol-address "my_add") "T" "NIL"))' 2>&1)"
check runtime-verify "$SURGEON" verify sbcl sbcl-add
check unexec-runtime "$SURGEON" unexec sbcl -o sbcl.o
check relink-runtime-same "$SURGEON" relink sbcl.o -o sbcl-rt
check relink-runtime-identical cmp sbcl sbcl-rt
# An application saved from the patched runtime carries my_add with it.
check build-from-patched lisp sbcl-add --eval '(defvar *output* "prog-saved")' --load "$TOP/tests/sbcl/prog.lisp"
check_eq saved-add 42 "$(a64_run ./prog-saved add 2 40 2>&1)"

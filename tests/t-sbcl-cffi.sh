# CFFI users: a define-foreign-library with a :canary symbol finds the symbol
# the patched runtime exports and opens no shared library; the unpatched
# runtime opens libgmp.so (the oracle that the test would see a load).
# Needs Debian's cl-cffi (ASDF system :cffi).
. "$TOP/tests/lib.sh"

fact30=$(python3 -c 'import math; print(math.factorial(30))')
cp /usr/bin/sbcl sbcl
check add-lib-runtime "$SURGEON" add-lib sbcl /usr/lib/x86_64-linux-gnu/libgmp.a -o sbcl-gmp
run() {	# run RUNTIME OUT: the stock core loads cffi-gmp.lisp; LD_DEBUG=libs into OUT.ld
	SBCL_HOME=/usr/lib/sbcl LD_DEBUG=libs LD_DEBUG_OUTPUT="$T/$2.ld" "./$1" --core /usr/lib/sbcl/sbcl.core \
		--noinform --non-interactive --no-sysinit --no-userinit --load "$TOP/tests/sbcl/cffi-gmp.lisp" \
		>"$2.out" 2>&1
}
run sbcl stock
check_eq stock-fact30 "fact $fact30" "$(grep '^fact' stock.out)"
check_eq stock-pathname "libgmp from libgmp.so.10" "$(grep "^libgmp from" stock.out)"
check_eq stock-opens-libgmp 1 "$(cat "$T"/stock.ld.* | grep -c 'calling init: .*libgmp')"
run sbcl-gmp patched
check_eq patched-fact30 "fact $fact30" "$(grep '^fact' patched.out)"
check_eq patched-canary "libgmp from NIL" "$(grep '^libgmp from' patched.out)"
check_eq patched-no-libgmp-so 0 "$(cat "$T"/patched.ld.* | grep -c libgmp)"
check patched-ld-debug-ran grep -q 'calling init' $(ls "$T"/patched.ld.*)

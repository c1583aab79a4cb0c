# Legacy Lisp images: SBCL executables (runtime + core appended + trailer)
# and Debian's stock runtime with its separate core stay compatible after
# add-lib. The Lisp code calls GMP (and a tiny my_add) through alien
# routines without ever loading a shared library; the symbols come from the
# runtime's own dynamic symbol table after surgery.
# Oracles: python3 for the digits of n! and for reading trailers, LD_DEBUG for
# the libraries loaded, cmp for the core bytes, the unpatched programs for the
# failure the surgery removes.
. "$TOP/tests/lib.sh"
. "$TOP/tests/sbcl-lib.sh"

GMP=/usr/lib/x86_64-linux-gnu/libgmp.a
STOCK_CORE=/usr/lib/sbcl/sbcl.core
# A broken executable with SBCL_HOME set silently starts the stock SBCL:
# run the saved executables without it.
unset SBCL_HOME

fact30=$(python3 -c 'import math; print(math.factorial(30))')
fact100=$(python3 -c 'import math; print(math.factorial(100))')

# no_libgmp NAME CMD...: the process never loads a libgmp shared object.
no_libgmp() {
	local n=$1; shift
	LD_DEBUG=libs "$@" >"$T/.ld.out" 2>&1
	if grep -qi 'libgmp' "$T/.ld.out"; then fail "$n" "$(grep -i -m1 libgmp "$T/.ld.out")"
	elif ! grep -q 'calling init' "$T/.ld.out"; then fail "$n" "LD_DEBUG printed nothing"
	else ok "$n"; fi
}

gcc -O2 -fPIC -c -o myadd.o -x c - <<'C'
long my_add(long a, long b) { return a + b; }
C
ar rcs libmyadd.a myadd.o

# --- An application saved with save-lisp-and-die :executable t -------------
check build-prog sbcl --non-interactive --no-sysinit --no-userinit --load "$TOP/tests/sbcl/prog.lisp"
check_eq prog-needs-gmp 'error: The alien function "__gmpz_init" is undefined.' "$(./prog fact 30 2>&1)"

run_capture addlib "$SURGEON" -v add-lib prog "$GMP" -o prog2
check_eq add-lib-gmp 0 "$(cat addlib.rc)"
check_eq prog2-fact30 "$fact30" "$(./prog2 fact 30 2>&1)"
check_eq prog2-fact100 "$fact100" "$(./prog2 fact 100 2>&1)"
no_libgmp prog2-no-libgmp-so ./prog2 fact 5
sbcl_moved prog prog2 32768 addlib.err
"$SURGEON" info --json prog2 | python3 -c '
import json, sys
p = json.load(sys.stdin)["payload"]
off, trailer = int(sys.argv[1]), int(sys.argv[2])
assert p["format"] == "SBCL core" and p["core"] == off and p["trailer"] == trailer, p
assert p["offset"] + p["size"] == trailer + 16, p' "$off2" "${t2#* }" && ok info-json-prog2 || fail info-json-prog2 "payload wrong"

# The application saves itself again (its runtime is the patched one: the
# bytes before the core) and the new executable still has GMP.
check prog2-resave ./prog2 resave prog2b
check_eq prog2b-fact30 "$fact30" "$(./prog2b fact 30 2>&1)"

# A second surgery on the executable: the first library keeps working, the
# second is added, the core is untouched and still aligned.
check add-lib-twice-prog "$SURGEON" add-lib prog2 libmyadd.a -o prog3
check_eq prog3-fact30 "$fact30" "$(./prog3 fact 30 2>&1)"
check_eq prog3-add 42 "$(./prog3 add 2 40 2>&1)"
check_eq prog2-has-no-add 'error: The alien function "my_add" is undefined.' "$(./prog2 add 2 40 2>&1)"
core_bytes prog3 prog3.core
check prog3-core-identical cmp prog.core prog3.core
t3=$(trailer prog3)
check_eq prog3-core-aligned 0 $(( ${t3% *} % 32768 ))
check prog3-verify "$SURGEON" verify prog prog3
# Each surgery's record says where the core was in its input.
check_eq prog3-note-payloads "$off1 $off2" "$("$SURGEON" info --json prog3 |
	python3 -c 'import json,sys; print(*[r["payload"]["offset"] for r in json.load(sys.stdin)["surgeries"]])')"

# --- Debian's runtime, its unmodified core ----------------------------------
cp /usr/bin/sbcl sbcl
check add-lib-runtime "$SURGEON" add-lib sbcl "$GMP" -o sbcl-gmp
lisp() {	# lisp RUNTIME ARGS...: the stock core, no init files
	local r=$1; shift
	SBCL_HOME=/usr/lib/sbcl "./$r" --core "$STOCK_CORE" --noinform --no-sysinit --no-userinit "$@"
}
defs=$(grep -v '^;' "$TOP/tests/sbcl/gmp.lisp")
fact='(format t "fact ~a~%" (fact-string 30))'
lisp sbcl --non-interactive --eval "(progn $defs)" --eval "$fact" >stock.out 2>&1
check_eq stock-needs-gmp 1 "$(grep -c 'The alien function "__gmpz_init" is undefined' stock.out)"
# The build-id check passes (the core refuses a runtime whose build-id
# string changed) and the routines defined with --eval call GMP.
lisp sbcl-gmp --non-interactive \
	--eval '(sb-alien:define-alien-routine ("__gmpz_init" mpz-init) sb-alien:void (z sb-sys:system-area-pointer))' \
	--eval '(sb-alien:define-alien-routine ("__gmpz_fac_ui" mpz-fac-ui) sb-alien:void (z sb-sys:system-area-pointer) (n sb-alien:unsigned-long))' \
	--eval '(sb-alien:define-alien-routine ("__gmpz_get_str" mpz-get-str) sb-alien:c-string (b sb-sys:system-area-pointer) (base sb-alien:int) (z sb-sys:system-area-pointer))' \
	--eval '(let ((z (sb-alien:make-alien (sb-alien:unsigned 8) 64))) (mpz-init (sb-alien:alien-sap z)) (mpz-fac-ui (sb-alien:alien-sap z) 30) (format t "fact ~a~%" (mpz-get-str (sb-sys:int-sap 0) 10 (sb-alien:alien-sap z))))' \
	>stock-gmp.out 2>&1
check_eq stock-eval-fact30 "fact $fact30" "$(grep '^fact' stock-gmp.out)"
check_eq stock-build-id 0 "$(grep -c 'core was built for runtime' stock-gmp.out)"
no_libgmp stock-no-libgmp-so lisp sbcl-gmp --non-interactive --eval "(progn $defs)" --eval "$fact"
# Typed at the REPL.
printf '%s\n%s\n(exit)\n' "(progn $defs)" "$fact" | lisp sbcl-gmp >repl.out 2>&1
check_eq stock-repl-fact30 "fact $fact30" "$(grep -o 'fact [0-9]*' repl.out)"
# The symbol is found the way foreign-library loaders look for it.
check_eq stock-find-symbol T "$(lisp sbcl-gmp --non-interactive --eval \
	'(princ (if (sb-sys:find-foreign-symbol-address "__gmpz_fac_ui") "T" "NIL"))' 2>&1)"

# A second surgery on the patched runtime.
check add-lib-twice-runtime "$SURGEON" add-lib sbcl-gmp libmyadd.a -o sbcl-both
lisp sbcl-both --non-interactive --eval "(progn $defs)" --eval "$fact" \
	--eval '(format t "add ~a~%" (my-add 2 40))' >both.out 2>&1
check_eq both-fact30 "fact $fact30" "$(grep '^fact' both.out)"
check_eq both-add "add 42" "$(grep '^add' both.out)"
check_eq both-surgeries 2 "$("$SURGEON" info --json sbcl-both | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["surgeries"]))')"
check both-verify "$SURGEON" verify sbcl sbcl-both

# An application saved from the patched runtime carries GMP with it.
check build-from-patched lisp sbcl-both --non-interactive --eval '(defvar *output* "prog-saved")' \
	--load "$TOP/tests/sbcl/prog.lisp"
check_eq saved-fact30 "$fact30" "$(./prog-saved fact 30 2>&1)"
check_eq saved-add 42 "$(./prog-saved add 2 40 2>&1)"
no_libgmp saved-no-libgmp-so ./prog-saved fact 5

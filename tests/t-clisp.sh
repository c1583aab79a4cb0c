# CLISP: Debian's runtime (lisp.run, a PIE) with libgmp.a added, run with
# its stock memory image (lispinit.mem). Foreign functions declared with
# (:library :default) find GMP in the patched runtime's dynamic symbol
# table; the original runtime finds nothing. Oracles: python3 for n!,
# LD_DEBUG for the libraries loaded, the unpatched runtime for the failure.
. "$TOP/tests/lib.sh"

dir=$(ls -d /usr/lib/clisp-*/base 2>/dev/null | head -1)
if [ -z "$dir" ] || [ ! -x "$dir/lisp.run" ]; then
	fail clisp-installed "no /usr/lib/clisp-*/base/lisp.run (make deps installs clisp)"; exit 0
fi
home=${dir%/base}
GMP=/usr/lib/x86_64-linux-gnu/libgmp.a
fact30=$(python3 -c 'import math; print(math.factorial(30))')
fact100=$(python3 -c 'import math; print(math.factorial(100))')

cp "$dir/lisp.run" lisp.run
check_eq runtime-is-pie DYN "$(readelf -h lisp.run | awk '$1 == "Type:" {print $2}')"
run_capture addlib "$SURGEON" add-lib lisp.run "$GMP" -o lisp-gmp.run
check_eq add-lib-gmp 0 "$(cat addlib.rc)"
check verify "$SURGEON" verify lisp.run lisp-gmp.run
# clisp RUNTIME ARGS...: the stock memory image, no init file
clisp() { local r=$1; shift; "./$r" -B "$home" -M "$dir/lispinit.mem" -q -norc "$@"; }

clisp lisp.run "$TOP/tests/lisp/clisp-gmp.lisp" >stock.out 2>&1
check stock-finds-no-gmp grep -q 'no dynamic object named "__gmpz_init"' stock.out
check_eq stock-no-fact 0 "$(grep -c '^fact' stock.out)"

LD_DEBUG=libs LD_DEBUG_OUTPUT="$T/patched.ld" clisp lisp-gmp.run "$TOP/tests/lisp/clisp-gmp.lisp" >patched.out 2>&1
check_eq patched-fact30 "fact $fact30" "$(grep '^fact' patched.out)"
check_eq patched-no-warning 0 "$(grep -c WARNING patched.out)"
check_eq patched-no-libgmp-so 0 "$(cat "$T"/patched.ld.* | grep -c libgmp)"
check patched-ld-debug-ran grep -q 'calling init' $(ls "$T"/patched.ld.*)
check_eq patched-fact100 "fact $fact100" "$(clisp lisp-gmp.run "$TOP/tests/lisp/clisp-gmp.lisp" 100 2>&1 | grep '^fact')"
# Typed at the REPL: the same definitions, then a call.
{ grep -v '^;' "$TOP/tests/lisp/clisp-gmp.lisp" | sed '/with-foreign-object/,$d'
  echo '(ffi:with-foreign-object (z (quote (ffi:c-array ffi:uint8 64))) (let ((p (ffi:foreign-address z))) (mpz-init p) (mpz-fac-ui p 30) (format t "fact ~a~%" (mpz-get-str nil 10 p))))'
  echo '(ext:quit)'; } | clisp lisp-gmp.run >repl.out 2>&1
check_eq repl-fact30 "fact $fact30" "$(grep -o 'fact [0-9]*' repl.out)"

# An executable saved with saveinitmem :executable t (runtime, memory image,
# the image's offset in the last 8 bytes) before a C archive is added: the
# image moves after the new code and the trailer names it (before surgeon
# knew the format, the runtime found no image there and failed).
printf 'long my_add(long a, long b) { return a + b; }\n' >myadd.c
gcc -c -o myadd.o myadd.c && ar rcs libmyadd.a myadd.o
printf '(load "%s")\n(ext:saveinitmem "app" :init-function (function main) :executable t :quiet t)\n' \
	"$TOP/tests/lisp/clisp-app.lisp" >save.lisp
clisp lisp.run save.lisp >app.save 2>&1 </dev/null
check app-saved test -x app
./app add 2 40 </dev/null >app-stock.out 2>&1
check app-stock-fails grep -q 'no dynamic object named "my_add"' app-stock.out
check app-add-lib "$SURGEON" add-lib app libmyadd.a -o app2
check_eq app2-add 42 "$(./app2 add 2 40 2>&1)"
check app2-verify "$SURGEON" verify app app2
check app2-resave ./app2 resave app3
check_eq app3-add 42 "$(./app3 add 2 40 2>&1)"

# CLISP and ECL on arm64 (Debian's clisp:arm64 and ecl:arm64 with their
# arm64 libraries, fetched with a64_fetch) under qemu-user: a C archive built
# by aarch64-linux-gnu-gcc is added with add-lib, and Lisp code calls it by
# name through the Lisp's FFI, which looks the names up in the running
# program; no shared library for it exists anywhere.
#   CLISP: the runtime lisp.run with its stock lispinit.mem; a memory image
#   saved by the patched runtime; executables saved with saveinitmem
#   :executable t (runtime, memory image, its offset in the last 8 bytes),
#   before and after the library was added.
#   ECL: /usr/bin/ecl with ffi:def-function :module :default (the dynamic
#   FFI, libffi), and, as ECL saves no images, a program built by its
#   compiler (c:build-program, through the cross gcc and the arm64 -dev
#   packages).
# Oracles: the unpatched programs (the call fails there), shell arithmetic,
# the C source's string, cmp of the memory image bytes and of relinked files.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
if ! why=$(a64_fetch root clisp libffcall1b libreadline8 libsigsegv2 libtinfo6 libunistring2 \
	ecl libecl21.2 libffi8 libgc1 libgmp10); then
	echo "skip t-arm64-lisp: cannot download clisp:arm64 or ecl:arm64: $why"
	exit 0
fi
A64_LIBPATH=$T/root/lib/aarch64-linux-gnu:$T/root/usr/lib/aarch64-linux-gnu

cat >myadd.c <<'C'
long my_add(long a, long b) { return a + b; }
const char *my_greet(void) { return "hello from C"; }
C
$A64CC -c -o myadd.o myadd.c && $A64AR rcs libmyadd.a myadd.o || { fail lib-build "$A64CC failed"; exit 0; }
greet=$(sed -n 's/.*return "\(.*\)";.*/\1/p' myadd.c | tail -1)

# --- CLISP ------------------------------------------------------------------
home=$(ls -d root/usr/lib/clisp-* 2>/dev/null | head -1)
STOCK_MEM=$home/base/lispinit.mem
# clisp_eval RUNTIME MEM FORM...: the forms as a script (-x would print
# their values too), no init file. Under qemu, CLISP finds qemu's own
# mappings in the range it reserves and warns on stderr; the tests read stdout.
clisp_eval() {
	local r=$1 m=$2; shift 2
	printf '%s\n' "$@" >eval.lisp
	a64_run "./$r" -B "$home" -M "$m" -q -norc eval.lisp </dev/null
}
clisp_ok=1
if [ ! -x "$home/base/lisp.run" ]; then
	echo "skip t-arm64-lisp-clisp: clisp:arm64 has no base/lisp.run"; clisp_ok=0
else
	cp "$home/base/lisp.run" lisp.run
	if ! out=$(clisp_eval lisp.run "$STOCK_MEM" '(princ (+ 1 2))' 2>clisp.err) || [ "$out" != 3 ]; then
		echo "skip t-arm64-lisp-clisp: clisp:arm64 does not run under qemu-aarch64: $(grep -v '^  0x' clisp.err | tail -2 | tr '\n' ' ')"
		clisp_ok=0
	fi
fi
if [ "$clisp_ok" = 1 ]; then
	decl='(ffi:def-call-out my-add (:name "my_add") (:library :default) (:language :stdc) (:arguments (a ffi:long) (b ffi:long)) (:return-type ffi:long))'
	decl2='(ffi:def-call-out my-greet (:name "my_greet") (:library :default) (:language :stdc) (:arguments) (:return-type ffi:c-string))'
	check_eq clisp-runtime-is-pie DYN "$(readelf -h lisp.run | awk '$1 == "Type:" {print $2}')"
	check clisp-add-lib "$SURGEON" add-lib lisp.run libmyadd.a -o lisp-add.run
	check clisp-verify "$SURGEON" verify lisp.run lisp-add.run
	clisp_eval lisp.run "$STOCK_MEM" "$decl" '(princ (my-add 2 40))' >stock.out 2>&1
	check clisp-stock-finds-none grep -q 'no dynamic object named "my_add"' stock.out
	check_eq clisp-stock-no-sum 0 "$(grep -c '^42' stock.out)"
	check_eq clisp-patched-add 42 "$(clisp_eval lisp-add.run "$STOCK_MEM" "$decl" '(princ (my-add 2 40))' 2>/dev/null)"
	check_eq clisp-patched-add-big $((4000000000000 + -17)) \
		"$(clisp_eval lisp-add.run "$STOCK_MEM" "$decl" '(princ (my-add 4000000000000 -17))' 2>/dev/null)"
	check_eq clisp-patched-greet "\"$greet\"" "$(clisp_eval lisp-add.run "$STOCK_MEM" "$decl2" '(prin1 (my-greet))' 2>/dev/null)"

	# A memory image saved by the patched runtime: it runs there, and the
	# stock runtime cannot call my_add from it.
	clisp_eval lisp-add.run "$STOCK_MEM" "$decl" '(ext:saveinitmem "app.mem" :quiet t)' >save.out 2>&1
	check clisp-saved-mem test -s app.mem
	check_eq clisp-saved-mem-add 42 "$(clisp_eval lisp-add.run app.mem '(princ (my-add 2 40))' 2>/dev/null)"
	clisp_eval lisp.run app.mem '(princ (my-add 2 40))' >stock-mem.out 2>&1
	check clisp-saved-mem-stock-fails grep -q 'no dynamic object named "my_add"' stock-mem.out

	# An executable saved by the stock runtime, then patched: its memory
	# image moves after the new segments, and the last 8 bytes, where CLISP
	# looks for it, name its new offset.
	clisp_eval lisp.run "$STOCK_MEM" "(load \"$TOP/tests/lisp/clisp-app.lisp\")" '(ext:saveinitmem "app" :init-function (function main) :executable t :quiet t)' >app.save 2>&1
	check clisp-app-saved test -x app
	memoff() { python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); o = int.from_bytes(d[-8:], "little"); assert d[o:o+4] == bytes.fromhex("d28b7670"); print(o)' "$1"; }
	off1=$(memoff app)
	check_eq clisp-app-usage "usage: add A B | resave FILE" "$(a64_run ./app 2>/dev/null)"
	a64_run ./app add 2 40 </dev/null >app-stock.out 2>&1
	check clisp-app-stock-fails grep -q 'no dynamic object named "my_add"' app-stock.out
	run_capture appadd "$SURGEON" -v add-lib app libmyadd.a -o app2
	check_eq clisp-app-add-lib 0 "$(cat appadd.rc)"
	check_eq clisp-app-no-warning 0 "$(grep -c warning appadd.err)"
	off2=$(memoff app2)
	check_eq clisp-app-verbose 1 "$(grep -c "payload: CLISP memory image .* now names 0x$(printf %x "$off2") (was 0x$(printf %x "$off1"))" appadd.err)"
	check_eq clisp-app-moved-64k 0 $(((off2 - off1) % 65536))
	check clisp-app-image-identical cmp <(tail -c +$((off1 + 1)) app | head -c -8) <(tail -c +$((off2 + 1)) app2 | head -c -8)
	check_eq clisp-app2-add 42 "$(a64_run ./app2 add 2 40 2>/dev/null)"
	check_eq clisp-app2-add-big $((4000000000000 + 17)) "$(a64_run ./app2 add 4000000000000 17 2>/dev/null)"
	check clisp-app2-verify "$SURGEON" verify app app2
	check_eq clisp-app2-info "payload: CLISP memory image, trailer at 0x$(printf %x $(($(stat -c %s app2) - 8))), image at 0x$(printf %x "$off2")" \
		"$("$SURGEON" info app2 | grep '^payload:' | sed 's/ (.*//')"
	# The patched application saves itself again (the runtime it copies is
	# the file up to the image's offset): the copy still has my_add.
	check clisp-app2-resave a64_run ./app2 resave app3
	check_eq clisp-app3-add 42 "$(a64_run ./app3 add 2 40 2>/dev/null)"
	# unexec and relink: with nothing new, the executable comes back byte
	# for byte; with the library, it runs as add-lib's does.
	check clisp-unexec "$SURGEON" unexec app -o app.o
	check clisp-relink-same "$SURGEON" relink app.o -o app-rt
	check clisp-relink-identical cmp app app-rt
	check clisp-relink-lib "$SURGEON" relink app.o libmyadd.a -o app-rl
	check_eq clisp-relink-lib-add 42 "$(a64_run ./app-rl add 2 40 2>/dev/null)"
fi

# --- ECL --------------------------------------------------------------------
ecl_run() { local r=$1; shift; a64_run "./$r" --norc "$@" --eval '(ext:quit 0)'; }
cp root/usr/bin/ecl ecl 2>/dev/null
if [ ! -x ecl ]; then
	echo "skip t-arm64-lisp-ecl: ecl:arm64 has no usr/bin/ecl"
elif ! out=$(ecl_run ecl --eval '(princ (+ 1 2))' 2>ecl.err) || [ "$out" != 3 ]; then
	echo "skip t-arm64-lisp-ecl: ecl:arm64 does not run under qemu-aarch64: $(tail -2 ecl.err | tr '\n' ' ')"
else
	check_eq ecl-loads-no-myadd 0 "$(readelf -d ecl | grep -c myadd)"
	check ecl-add-lib "$SURGEON" add-lib ecl libmyadd.a -o ecl-add
	check ecl-verify "$SURGEON" verify ecl ecl-add
	ecl_run ecl --load "$TOP/tests/lisp/ecl-myadd.lisp" >ecl-stock.out 2>&1
	check ecl-stock-finds-none grep -q 'Could not load foreign symbol "my_add"' ecl-stock.out
	check_eq ecl-stock-no-sum 0 "$(grep -c '^sum' ecl-stock.out)"
	ecl_run ecl-add --load "$TOP/tests/lisp/ecl-myadd.lisp" >ecl-patched.out 2>&1
	check_eq ecl-patched-sum "sum 42" "$(grep '^sum' ecl-patched.out)"
	check_eq ecl-patched-greet "greet $greet" "$(grep '^greet' ecl-patched.out)"
	check_eq ecl-eval-add $((4000000000000 + -17)) "$(ecl_run ecl-add \
		--eval '(ffi:def-function ("my_add" ma) ((a :long) (b :long)) :returning :long :module :default)' \
		--eval '(princ (ma 4000000000000 -17))' 2>/dev/null)"
	check ecl-unexec "$SURGEON" unexec ecl -o ecl.o
	check ecl-relink-same "$SURGEON" relink ecl.o -o ecl-rt
	check ecl-relink-identical cmp ecl ecl-rt

	# A program built by ECL's compiler, which runs gcc: here the cross gcc
	# (qemu-user runs the x86-64 program it executes natively) with the
	# arm64 headers and libraries of the -dev packages.
	if ! why=$(a64_fetch root libecl-dev libgmp-dev libgc-dev libffi-dev libatomic-ops-dev); then
		echo "skip t-arm64-lisp-ecl-program: cannot download libecl-dev:arm64: $why"
	else
		cp "$TOP/tests/lisp/ecl-app.lisp" eapp.lisp
		R=$T/root
		cat >build.lisp <<L
(require 'cmp)
(setf c::*cc* "$A64CC" c::*ld* "$A64CC"
      c::*ecl-include-directory* "$R/usr/include/"
      c::*ecl-library-directory* "$R/usr/lib/aarch64-linux-gnu/")
(setf c::*cc-flags* (concatenate 'string c::*cc-flags* " -I$R/usr/include/aarch64-linux-gnu"))
(setf c::*ld-flags* (concatenate 'string "-L$R/usr/lib/aarch64-linux-gnu " c::*ld-flags*))
(compile-file "eapp.lisp" :system-p t)
(c:build-program "eapp" :lisp-files '("eapp.o"))
L
		# ECLDIR: where ECL finds cmp.fas (its compiled-in path is under /usr;
		# qemu-user passes the environment on).
		ECLDIR=$(ls -d "$R"/usr/lib/aarch64-linux-gnu/ecl-*/ | head -1) a64_run ./ecl --norc --load build.lisp --eval '(ext:quit 0)' \
			>build.out 2>&1 </dev/null || true
		check ecl-program-built test -x eapp
		a64_run ./eapp 2 40 </dev/null >eapp-stock.out 2>&1
		check ecl-program-stock-fails grep -q 'Could not load foreign symbol "my_add"' eapp-stock.out
		check ecl-program-add-lib "$SURGEON" add-lib eapp libmyadd.a -o eapp2
		check_eq ecl-program-add $((4000000000000 + 2)) "$(a64_run ./eapp2 4000000000000 2 </dev/null 2>/dev/null)"
		check ecl-program-verify "$SURGEON" verify eapp eapp2
	fi
fi

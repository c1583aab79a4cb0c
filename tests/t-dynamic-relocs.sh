# The old program's own relocations keep working after add-lib, checked
# against the program and plugin linked from source by gcc:
#  - COPY relocations (a non-PIE program using libc's stdout, stderr and
#    environ), with a plugin that uses them too;
#  - TLS: the program's own __thread variable (local-exec) and a shared
#    library's read through initial-exec TPOFF64 relocations, in threads,
#    PIE and not; and a plugin that uses the program's __thread variable;
#  - RELRO: the old PT_GNU_RELRO is kept as it was; lazy binding through the
#    old PLT still happens (LD_DEBUG=bindings shows a function bound only
#    once it is called), LD_BIND_NOW=1 binds everything; -z now programs
#    keep BIND_NOW.
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie
CF="-O1"

# plug_case NAME APP.c PLUG.c LDFLAGS... : app, ref, add-lib, oracle (+ bind-now).
plug_case() {
	local n=$1 app=$2 plug=$3; shift 3
	if ! gcc $CF "$@" -o "$n-app" "$app" $LIBS || ! gcc $CF -c -o "$n-plug.o" "$plug" ||
	   ! ar rcs "lib$n.a" "$n-plug.o" || ! gcc $CF "$@" -o "$n-ref" "$app" "$plug" $LIBS; then
		fail "$n-build" "gcc failed"; return 1
	fi
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" "lib$n.a" $SLIBS -o "$n-out"
	[ -x "$n-out" ] || return 1
	same_run "$n-oracle" "./$n-ref" "./$n-out"
	LD_BIND_NOW=1 same_run "$n-oracle-bind-now" "./$n-ref" "./$n-out"
}

# COPY relocations.
LIBS= SLIBS=
export SURGEON_T_A=1 SURGEON_T_B=2
if plug_case copy "$P/copyrel.c" "$P/plug_copy.c" -no-pie; then
	check copy-input-has-copy-relocs test "$(readelf -rW copy-app | grep -c R_X86_64_COPY)" -ge 2
	check_eq copy-relocs-kept "$(readelf -rW copy-app | grep R_X86_64_COPY | awk '{ print $1, $3, $5 }')" \
		"$(readelf -rW copy-out | grep R_X86_64_COPY | awk '{ print $1, $3, $5 }')"
	check copy-plugin-sees-environ grep -qx 'plugin sees SURGEON_T_A=1' "$T/.b.out"
	# stderr goes through the copied stderr as well.
	run_capture copyerr ./copy-out
	check_eq copy-stderr "to stderr" "$(cat copyerr.err)"
fi

# TLS.
gcc -shared -fPIC -o libtls.so "$P/libtls.c" || fail tls-lib-build "gcc failed"
LIBS="-L$T -ltls -Wl,-rpath,$T" SLIBS="-L$T"
for pie in pie no-pie; do
	if plug_case tls-$pie "$P/tls.c" "$P/plug_tls.c" -$pie; then
		check tls-$pie-has-tpoff grep -q R_X86_64_TPOFF64 <(readelf -rW tls-$pie-out)
		# Independently: thread k (1..3) sees tv=7+k and lib_tv=100+10k.
		check_eq tls-$pie-values "thread 0: 118 thread 1: 129 thread 2: 140" \
			"$(./tls-$pie-out | grep '^thread' | tr '\n' ' ' | sed 's/ $//')"
	fi
	# The plugin itself reads and writes the program's __thread tv, as the
	# program and the plugin linked from source do.
	plug_case tls2-$pie "$P/tls.c" "$P/plug_tls2.c" -$pie &&
		check tls2-$pie-sees-tv grep -qx 'hook sees tv=1007 param=7' "$T/.b.out"
done
# The program's own library is found through its RUNPATH, as ld.so finds
# it, without -L (the program's DT_NEEDED are linked as -l:NAME).
SLIBS= plug_case tls-runpath "$P/tls.c" "$P/plug_tls.c" -pie

# RELRO and lazy binding.
LIBS= SLIBS=
# bound NAME FILE SYM ENV... -- ARGS: does LD_DEBUG=bindings show FILE binding SYM?
bindings() { local f=$1; shift; env LD_DEBUG=bindings "$@" "./$f" 2>&1 >/dev/null | grep "binding file ./$f " | sed -n "s/.*normal symbol \`\([^']*\)'.*/\1/p" | sort -u | tr '\n' ' '; }
if plug_case lazy "$P/lazy.c" "$P/plug_lazy.c" -Wl,-z,relro,-z,lazy; then
	check lazy-input-has-relro grep -q GNU_RELRO <(readelf -lW lazy-app)
	check_eq lazy-relro-kept "$(readelf -lW lazy-app | grep GNU_RELRO)" "$(readelf -lW lazy-out | grep GNU_RELRO)"
	check lazy-no-bind-now sh -c "! readelf -dW lazy-out | grep -qE 'BIND_NOW|Flags:.*NOW'"
	same_run lazy-oracle-args ./lazy-ref ./lazy-out a b c
	# getpid is called only with 3 arguments: unbound without them (lazy), bound with them.
	b0=$(bindings lazy-out); b3=$(bindings lazy-out -- a b c 2>/dev/null)
	case "$b0" in *getpid*) fail lazy-getpid-unbound "bound without a call: $b0" ;; *printf*) ok lazy-getpid-unbound ;; *) fail lazy-getpid-unbound "no bindings seen: $b0" ;; esac
	b3=$(env LD_DEBUG=bindings ./lazy-out a b c 2>&1 >/dev/null | grep -c "binding file ./lazy-out .*\`getpid'")
	check_eq lazy-getpid-bound-on-call 1 "$b3"
	bn=$(env LD_BIND_NOW=1 LD_DEBUG=bindings ./lazy-out 2>&1 >/dev/null | grep -c "binding file ./lazy-out .*\`getppid'")
	check_eq bind-now-binds-getppid 1 "$bn"
	# The reference behaves the same way (the check is not vacuous).
	check_eq lazy-ref-same "$(bindings lazy-ref)" "$(bindings lazy-out)"
fi
if plug_case now "$P/lazy.c" "$P/plug_lazy.c" -Wl,-z,relro,-z,now; then
	check_eq now-relro-kept "$(readelf -lW now-app | grep GNU_RELRO)" "$(readelf -lW now-out | grep GNU_RELRO)"
	check now-keeps-bind-now grep -qE 'BIND_NOW|Flags:.*NOW' <(readelf -dW now-out)
	same_run now-oracle-args ./now-ref ./now-out a b c
fi

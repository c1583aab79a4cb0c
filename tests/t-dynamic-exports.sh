# Old and new exports of dynamic programs are found at run time: dlsym of an
# old export, dlsym through a dlopen(NULL) handle, dlsym of the plugin's
# exports, and a library dlopen'ed later that needs a plugin export and an
# old one (tests/pie/exports.c, late.c, plug_x.c). For programs with only
# DT_GNU_HASH (the default), only DT_HASH (--hash-style=sysv) and both;
# PIE and ET_EXEC; with a version script (old exports versioned APP_1.0);
# and with hundreds of old exports. The reference is the program and plugin
# linked from source with -rdynamic, so it exports the plugin's globals as
# surgeon's default --export=all does.
# Then --export=none and --export=PATTERN (checked in readelf --dyn-syms and
# by dlsym), and a clash with an old export: an error naming the symbol, and
# with --allow-interpose the new definition is the one dlsym finds.
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie
CF="-O1"
LATE=$T/liblate.so

# dynsyms FILE: the defined names in .dynsym, without versions, sorted.
dynsyms() { readelf --dyn-syms -W "$1" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && NF >= 8 { sub(/@.*/, "", $8); print $8 }' | sort; }

gcc -shared -fPIC -o liblate.so "$P/late.c" && gcc $CF -c -o plug_x.o "$P/plug_x.c" && ar rcs libx.a plug_x.o ||
	fail build-plugin "gcc failed"

# exp_case NAME GCCFLAGS...: builds app and ref with the flags, add-lib, oracle.
exp_case() {
	local n=$1; shift
	if ! gcc $CF "$@" -o "$n-app" "$P/exports.c" || ! gcc $CF -rdynamic "$@" -o "$n-ref" "$P/exports.c" "$P/plug_x.c"; then
		fail "$n-build" "gcc failed"; return
	fi
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" libx.a -o "$n-out"
	[ -x "$n-out" ] || return
	same_run "$n-oracle" "./$n-ref" "./$n-out" "$LATE"
	LD_BIND_NOW=1 same_run "$n-oracle-bind-now" "./$n-ref" "./$n-out" "$LATE"
	# Not vacuous: the reference itself finds everything.
	check "$n-late-ran" grep -q '^late_fn: 1505$' "$T/.b.out"
	check "$n-old-found" grep -q '^self counter: 5$' "$T/.b.out"
}
for h in gnu sysv both; do
	exp_case "pie-$h" -rdynamic -Wl,--hash-style=$h
	exp_case "exec-$h" -no-pie -rdynamic -Wl,--hash-style=$h
done
# The inputs really have the hash tables they claim.
check pie-gnu-has-only-gnu-hash sh -c "readelf -dW pie-gnu-app | grep -q GNU_HASH && ! readelf -dW pie-gnu-app | grep -q '(HASH)'"
check pie-sysv-has-only-hash sh -c "! readelf -dW pie-sysv-app | grep -q GNU_HASH && readelf -dW pie-sysv-app | grep -q '(HASH)'"
check pie-both-has-both sh -c "readelf -dW pie-both-app | grep -q GNU_HASH && readelf -dW pie-both-app | grep -q '(HASH)'"
# The outputs have the styles their programs had, and no other.
for k in pie exec; do
	check $k-gnu-out-only-gnu-hash sh -c "readelf -dW $k-gnu-out | grep -q GNU_HASH && ! readelf -dW $k-gnu-out | grep -q '(HASH)'"
	check $k-sysv-out-only-hash sh -c "! readelf -dW $k-sysv-out | grep -q GNU_HASH && readelf -dW $k-sysv-out | grep -q '(HASH)'"
	check $k-both-out-both sh -c "readelf -dW $k-both-out | grep -q GNU_HASH && readelf -dW $k-both-out | grep -q '(HASH)'"
done
# Only the named exports (no -rdynamic): old symbols not exported stay so.
exp_case pie-some -Wl,--export-dynamic-symbol=counter -Wl,--export-dynamic-symbol=add -Wl,--export-dynamic-symbol=mul
# Old exports with a version (DT_VERDEF): dlsym finds them, the new ones
# unversioned. The script names the plugin's exports too, so that the
# reference exports them ('local: *' would hide them); the program has no
# such symbols and ld ignores those names for it.
printf 'APP_1.0 { global: add; mul; counter; plug_entry; plug_other; local: *; };\n' >vs.map
exp_case pie-verdef -Wl,--version-script=vs.map -Wl,--export-dynamic
[ -x pie-verdef-out ] && check_eq pie-verdef-old-versioned "add@@APP_1.0" \
	"$(readelf --dyn-syms -W pie-verdef-out | awk '$8 ~ /^add@/ { print $8 }')"

# Hundreds of old exports: every one found through the new hash table.
{
	echo '#include <dlfcn.h>'; echo '#include <stdio.h>'
	for i in $(seq 0 599); do echo "int fn_$i(void) { return $i; }"; done
	echo 'static const char *names[] = {'
	for i in $(seq 0 599); do echo "\"fn_$i\","; done
	echo '"plug_entry" };'
	cat <<'C'
int counter = 5;
int add(int a) { return a + counter; }
int main(void) {
	long sum = 0; int missing = 0;
	for (unsigned i = 0; i < 600; i++) { int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, names[i]); if (f) sum += f(); else missing++; }
	int (*pe)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, names[600]);
	printf("sum=%ld missing=%d plug_entry=%d\n", sum, missing, pe ? pe(1) : -1);
	return missing;
}
C
} >many.c
for h in gnu sysv; do
	if gcc $CF -rdynamic -Wl,--hash-style=$h -o many-$h-app many.c && gcc $CF -rdynamic -Wl,--hash-style=$h -o many-$h-ref many.c "$P/plug_x.c"; then
		check many-$h-add-lib "$SURGEON" add-lib many-$h-app libx.a -o many-$h-out
		[ -x many-$h-out ] && same_run many-$h-oracle ./many-$h-ref ./many-$h-out
		# Computed independently: 0+1+...+599 = 179700; plug_entry(1) = add(1)*100 = 600.
		[ -x many-$h-out ] && check_eq many-$h-all-found "sum=179700 missing=0 plug_entry=600" "$(./many-$h-out)"
	else
		fail many-$h-build "gcc failed"
	fi
done

# --export=none: no new name in .dynsym, dlsym fails, the late library cannot load.
gcc $CF -rdynamic -o ex-app "$P/exports.c" || fail ex-build "gcc failed"
check export-none-add-lib "$SURGEON" add-lib ex-app libx.a --export=none -o ex-none
if [ -x ex-none ]; then
	check_eq export-none-dynsym "$(dynsyms ex-app)" "$(dynsyms ex-none)"
	# The plugin needs nothing at run time (it reaches counter and add
	# PC-relative): the program's own dynamic section and tables stay,
	# byte for byte where they were, and none is renamed .old (the unwind
	# table is: the new one lists the new code's functions too).
	check_eq export-none-same-dynamic "$(readelf -dW ex-app)" "$(readelf -dW ex-none)"
	check_eq export-none-same-tables "$(readelf -SW ex-app | grep -E ' \.(dynsym|dynstr|gnu\.hash|rela\.dyn|dynamic) ' | sed 's/^ *\[ *[0-9]*\]//')" \
		"$(readelf -SW ex-none | grep -E ' \.(dynsym|dynstr|gnu\.hash|rela\.dyn|dynamic) ' | sed 's/^ *\[ *[0-9]*\]//')"
	check export-none-nothing-renamed sh -c "! readelf -SW ex-none | grep ' \.old\.' | grep -qv ' \.old\.eh_frame_hdr '"
	run_capture none ./ex-none
	check export-none-dlsym-fails grep -qx 'default plug_entry: -1' none.out
	check export-none-old-still-found grep -qx 'default add: 6' none.out
	run_capture none-late ./ex-none "$LATE"
	check_eq export-none-late-lib-fails "dlopen late: failed 3" "$(tail -1 none-late.out) $(cat none-late.rc)"
fi
# The plugin uses only names the program defines: the linker is not given
# the program's shared libraries (they have nothing for it); a plugin that
# calls into libc for a function the program does not import is
# (t-pie-oracle checks what it then gets); puts, which it imports, binds to
# the program's own stub without them.
run_capture nolibs "$SURGEON" -v add-lib ex-app libx.a --export=none -o ex-nolibs
check nolibs-ld-without-libs sh -c "grep -q 'running ld' nolibs.err && ! grep 'running ld' nolibs.err | grep -q -- '-l:libc.so.6'"
printf '#include <unistd.h>\nint plug_pg(void) { return getpagesize(); }\n' >pp.c
gcc $CF -c -o pp.o pp.c && ar rcs libpp.a pp.o
run_capture withlibs "$SURGEON" -v add-lib ex-app libpp.a --export=none -o ex-withlibs
check withlibs-ld-with-libs sh -c "grep 'running ld' withlibs.err | grep -q -- '-l:libc.so.6'"

# --export=PATTERN: only the matching names.
check export-pattern-add-lib "$SURGEON" add-lib ex-app libx.a '--export=plug_e*' -o ex-pat
if [ -x ex-pat ]; then
	check_eq export-pattern-dynsym "$( (dynsyms ex-app; echo plug_entry) | sort)" "$(dynsyms ex-pat)"
	run_capture pat ./ex-pat "$LATE"
	check export-pattern-entry-found grep -qx 'self plug_entry: 800' pat.out
	check export-pattern-other-missing grep -qx 'self plug_other: -1' pat.out
	check export-pattern-late-lib grep -qx 'late_fn: 1505' pat.out
fi
# --export=A,B: a list of patterns.
check export-list-add-lib "$SURGEON" add-lib ex-app libx.a '--export=nomatch,plug_other' -o ex-list
[ -x ex-list ] && check_eq export-list-dynsym "$( (dynsyms ex-app; echo plug_other) | sort)" "$(dynsyms ex-list)"

# A clash with an old export: the plugin defines add, which the program
# exports; the program's add is strong (ex-app) or weak (w-app).
cat >clash.c <<'C'
int add(int a) { return a - 1000; }
C
gcc $CF -c -o clash.o clash.c && ar rcs libclash.a clash.o
run_capture clash "$SURGEON" add-lib ex-app libclash.a -o ex-clash
check_eq clash-fails 1 "$(cat clash.rc)"
check clash-names-symbol grep -q "'add'" clash.err
check clash-no-output test ! -e ex-clash
check interpose-add-lib "$SURGEON" add-lib ex-app libclash.a --allow-interpose -o ex-interp
if [ -x ex-interp ]; then
	run_capture interp ./ex-interp
	# dlsym finds the new add: add(1) = 1 - 1000.
	check_eq interpose-dlsym-new "default add: -999" "$(grep '^default add' interp.out)"
	# The old code still calls its own add (a direct call): mul is untouched.
	check_eq interpose-old-mul "self mul: 15" "$(grep '^self mul' interp.out)"
fi
sed 's/^int add(int a)/__attribute__((weak)) int add(int a)/' "$P/exports.c" >weak.c
gcc $CF -rdynamic -o w-app weak.c || fail weak-build "gcc failed"
run_capture wclash "$SURGEON" add-lib w-app libclash.a -o w-clash
check_eq weak-clash-fails 1 "$(cat wclash.rc)"
check weak-clash-names-symbol grep -q "'add'" wclash.err
check weak-interpose-add-lib "$SURGEON" add-lib w-app libclash.a --allow-interpose -o w-interp
[ -x w-interp ] && check_eq weak-interpose-dlsym-new "default add: -999" "$(./w-interp | grep '^default add')"

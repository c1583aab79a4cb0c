# The merged hash tables against the glibc loader's lookup of every symbol.
# Programs (tests/dynhash/app.c plus 500 generated exports), ET_EXEC and
# PIE, with --hash-style=gnu, both and sysv, with versioned old exports
# (a version script, and app_add@APP_0.9 beside app_add@@APP_1.0), with a
# few exports only, and --export=PATTERN; each given a plugin archive
# (tests/dynhash/plug.c: functions, data, read-only, zeroed, TLS, weak,
# protected, names sharing a GNU or SysV hash with the program's, plus 200
# generated exports). Then node (/usr/bin/node) with a small plugin.
# For each output, tests/dynhash/check.py takes every defined .dynsym entry
# from readelf (never from surgeon), runs the output with
# tests/dynhash/lookup.so preloaded, which asks the loader (dlsym through
# RTLD_DEFAULT and dlopen(NULL), dlvsym for versioned ones) for each name
# and exits before main, and requires each at its st_value (+ load bias, or
# + the TLS block); names the output must not export (hidden, static,
# excluded by --export) must not be found, nor .symtab-only names in the
# program. glibc uses DT_GNU_HASH when there is one, so for both styles
# the lookups are repeated on a copy whose DT_GNU_HASH tag is renamed to
# one glibc ignores (then glibc walks DT_HASH), and check.py also walks
# DT_HASH and DT_GNU_HASH itself (bloom filter, buckets, chains) for every
# name. The outputs export exactly the program's names and the plugin's,
# and each check counts what it compared (none or too few is a failure);
# copies of an output with a hash table damaged on purpose must fail.
# TLS variables: dlsym's address is also the one the program's own code
# uses (app_tls_addr(), plug_tls_addr()). eu-elflint --gnu as in
# t-dynamic-elflint, with one known finding about TLS symbols (see elflint).
. "$TOP/tests/lib.sh"
D=$TOP/tests/dynhash
CF="-O1"
CHECK=(python3 "$D/check.py")

# defined FILE: the defined names of FILE's .dynsym, unversioned (a lower
# bound of the number to check; nm, since readelf takes seconds on node).
defined() { nm -D --defined-only "$1" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u; }

gcc -shared -fPIC -O1 -o lookup.so "$D/lookup.c" || fail lookup-build "gcc failed"

# Hundreds of exports on each side, so that buckets hold old and new names.
{
	for i in $(seq 0 399); do echo "int app_gen_fn_$i(void) { return $i; }"; done
	for i in $(seq 0 99); do echo "int app_gen_var_$i = $i;"; done
	echo 'int app_gen_sum(void) { return 0'
	for i in $(seq 0 99); do echo " + app_gen_var_$i"; done
	echo '; }'
} >app_gen.c
{
	for i in $(seq 0 149); do echo "int plug_gen_fn_$i(void) { return $i; }"; done
	for i in $(seq 0 49); do echo "int plug_gen_var_$i = $i;"; done
} >plug_gen.c
gcc $CF -c -o app_gen.o app_gen.c || fail app-gen-build "gcc failed"
gcc $CF -c -o plug.o "$D/plug.c" && gcc $CF -c -o plug_gen.o plug_gen.c && ar rcs libplug.a plug.o plug_gen.o ||
	fail plugin-build "gcc failed"
{
	printf '%s\n' plug_data plug_rodata plug_bss plug_big plug_tls plug_tls_zero plug_fn plug_weak \
		plug_weak_data plug_protected coll_gnu_FY coll_sysv_BQ plug_tls_addr plug_use
	for i in $(seq 0 149); do echo "plug_gen_fn_$i"; done
	for i in $(seq 0 49); do echo "plug_gen_var_$i"; done
} | sort >plug.names
# Defined by the program or the plugin, exported by neither.
printf '%s\n' plug_hidden plug_static app_local app_hidden dynhash_no_such_symbol >absent.names
# The collisions are real (the names were chosen for them).
check_eq collisions "gnu sysv" "$(python3 -B -c '
import sys; sys.path.insert(0, sys.argv[1]); import check as c
print("gnu" if c.gnu_hash(b"coll_gnu_Ez") == c.gnu_hash(b"coll_gnu_FY") else "-",
      "sysv" if c.sysv_hash(b"coll_sysv_Aa") == c.sysv_hash(b"coll_sysv_BQ") else "-")' "$D")"

# elflint NAME APP REF OUT: eu-elflint --gnu reports nothing about OUT that
# it reports neither about APP nor about REF, the program and plugin linked
# from source (as t-dynamic-elflint; section numbers taken out, surgeon's
# own note allowed). elflint calls a protected symbol in .dynsym wrong in
# any link, hence REF. Outputs where new TLS variables went in front of
# the program's are included: the old variables must name the new
# template's sections.
elflint() {
	local n=$1
	norm() { sed -e 's/section \[ *[0-9]*\]/section [N]/g; s/\[ *[0-9]*\]:/[N]:/g; s/symbol [0-9]* /symbol N /; s/relocation [0-9]*:/relocation N:/; s/at offset [0-9]*/at offset N/' | sort -u; }
	{ eu-elflint --gnu "$2"; eu-elflint --gnu "$3"; } 2>&1 | grep -v '^No errors$' | norm >"$n.lint-in"
	eu-elflint --gnu "$4" 2>&1 | grep -v '^No errors$' | norm |
		grep -v "^section \[N\] '.note.surgeon': unknown object file note type 21330 with owner name 'surgeon' at offset N$" >"$n.lint-out"
	comm -13 "$n.lint-in" "$n.lint-out" >"$n.lint-new"
	check_eq "$n-elflint" "" "$(head -3 "$n.lint-new" | tr '\n' ';')"
}

# kase NAME "GCCFLAGS" ADDED-NAMES-FILE ABSENT-NAMES-FILE [SURGEON ARGS...]
kase() {
	local n=$1 fl=$2 added=$3 absent=$4 min; shift 4
	# The reference exports the plugin's globals, as --export=all does.
	# shellcheck disable=SC2086
	if ! gcc $CF $fl -o "$n-app" "$D/app.c" app_gen.o ||
		! gcc $CF $fl -Wl,--export-dynamic-symbol='plug_*' -o "$n-ref" "$D/app.c" app_gen.o plug.o plug_gen.o; then
		fail "$n-build" "gcc failed"; return
	fi
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" libplug.a "$@" -o "$n-out"
	[ -x "$n-out" ] || return
	same_run "$n-runs" "./$n-app" "./$n-out"
	min=$(sort -u <(defined "$n-app") "$added" | wc -l)
	"${CHECK[@]}" "$n" "$n-out" --lookup lookup.so --input "$n-app" --added "$added" --absent "$absent" \
		--min "$min" --sysv-copy --tls-probe app_tls=app_tls_addr --tls-probe plug_tls=plug_tls_addr
	elflint "$n" "$n-app" "$n-ref" "$n-out"
	echo "# $n done at ${SECONDS}s"
}
for k in pie exec; do
	pf=; [ $k = exec ] && pf=-no-pie
	for h in gnu both sysv; do
		kase "$k-$h" "$pf -rdynamic -Wl,--hash-style=$h" plug.names absent.names
	done
done
# The inputs have the tables they claim, and so do the outputs.
for k in pie exec; do
	for h in gnu both sysv; do
		[ -x "$k-$h-out" ] || continue
		want=; case $h in gnu) want="GNU_HASH" ;; sysv) want="HASH" ;; both) want="GNU_HASH HASH" ;; esac
		for f in app out; do
			check_eq "$k-$h-$f-tables" "$want" \
				"$(readelf -dW "$k-$h-$f" | sed -n 's/.*(\(GNU_HASH\|HASH\)).*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"
		done
	done
done

# Versioned old exports: APP_1.0 for every app_* and app_gen_* name,
# app_add@APP_0.9 an older, hidden definition (dlvsym finds each).
# The script names the plugin's globals too, for the reference (see kase).
printf 'APP_0.9 { global: app_v09_only; };\nAPP_1.0 { global: app_*; coll_*; plug_*; local: *; } APP_0.9;\n' >vs.map
kase pie-verdef "-DVERSIONED -Wl,--version-script=vs.map -Wl,--export-dynamic -Wl,--hash-style=both" plug.names absent.names
kase exec-verdef "-DVERSIONED -no-pie -Wl,--version-script=vs.map -Wl,--export-dynamic -Wl,--hash-style=gnu" plug.names absent.names
[ -x pie-verdef-out ] && check_eq pie-verdef-two-app-add "app_add@@APP_1.0 app_add@APP_0.9" \
	"$(readelf --dyn-syms -W pie-verdef-out | awk '$8 ~ /^app_add@/ { print $8 }' | sort | tr '\n' ' ' | sed 's/ $//')"

# A program exporting only app_add (no -rdynamic): its other globals are in
# .symtab only, and must not be found in it.
kase pie-few "-Wl,--export-dynamic-symbol=app_add -Wl,--hash-style=both" plug.names absent.names

# --export=PATTERN: the plugin's other globals are absent.
grep -E '^(plug_fn|plug_gen_fn_1.*|coll_.*)$' plug.names >pat.names
{ cat absent.names; comm -23 plug.names pat.names; } >pat-absent.names
kase pie-pattern "-rdynamic -Wl,--hash-style=both" pat.names pat-absent.names '--export=plug_fn,plug_gen_fn_1*,coll_*'

# The checks are not vacuous: copies of pie-both-out with the GNU bloom
# filter zeroed, with the GNU chain hash of plug_fn alone changed, and with
# the SysV buckets zeroed, are caught by glibc's lookups (through the table
# glibc uses) and by the walks, and the chain change for plug_fn only.
# mutate IN OUT bloom|chain|sysv-buckets
mutate() {
	python3 -B - "$D" "$@" <<'PY'
import shutil, struct, sys
sys.path.insert(0, sys.argv[1])
import check
src, dst, what = sys.argv[2:5]
e = check.Elf(src)
shutil.copyfile(src, dst); shutil.copymode(src, dst)
with open(dst, "r+b") as f:
    if what == "bloom":
        nbloom = struct.unpack_from("<I", e.b, e.gnu + 8)[0]
        f.seek(e.gnu + 16); f.write(bytes(8 * nbloom))
    elif what == "chain":
        nb, symoff, nbloom = struct.unpack_from("<III", e.b, e.gnu)
        i = [s[0] for s in e.syms].index(b"plug_fn")
        at = e.gnu + 16 + 8 * nbloom + 4 * nb + 4 * (i - symoff)
        f.seek(at); f.write(struct.pack("<I", struct.unpack_from("<I", e.b, at)[0] ^ 2))
    else:
        nb = struct.unpack_from("<I", e.b, e.hash)[0]
        f.seek(e.hash + 8); f.write(bytes(4 * nb))
PY
}
if [ -x pie-both-out ]; then
	for m in bloom chain sysv-buckets; do
		mutate pie-both-out "mut-$m" $m || fail "mutate-$m" "could not write the copy"
		"${CHECK[@]}" "mut-$m" "mut-$m" --lookup lookup.so --sysv-copy >"mut-$m.check" 2>&1
	done
	check mutated-bloom-glibc-misses grep -q '^FAIL mut-bloom-glibc-finds-every-export: 7[0-9][0-9] of 7[0-9][0-9] ' mut-bloom.check
	check mutated-bloom-gnu-walk-misses grep -q '^FAIL mut-bloom-gnu-walk-finds-every-export' mut-bloom.check
	check mutated-bloom-hash-still-right grep -q '^ok mut-bloom-glibc-via-hash-finds-every-export' mut-bloom.check
	check mutated-chain-glibc-misses-it grep -q '^FAIL mut-chain-glibc-finds-every-export: 1 of 7[0-9][0-9] defined symbols wrong: plug_fn: ' mut-chain.check
	check mutated-chain-gnu-walk-misses-it grep -q '^FAIL mut-chain-gnu-walk-finds-every-export: 1 of 7[0-9][0-9] defined symbols wrong: plug_fn ' mut-chain.check
	check mutated-sysv-glibc-via-hash-misses grep -q '^FAIL mut-sysv-buckets-glibc-via-hash-finds-every-export' mut-sysv-buckets.check
	check mutated-sysv-walk-misses grep -q '^FAIL mut-sysv-buckets-sysv-walk-finds-every-export' mut-sysv-buckets.check
	check mutated-sysv-gnu-still-right grep -q '^ok mut-sysv-buckets-glibc-finds-every-export' mut-sysv-buckets.check
fi

# node: a large real program (ET_EXEC, DT_GNU_HASH only, ~74K exports).
NODE=/usr/bin/node
if [ -x "$NODE" ]; then
	cat >nodeplug.c <<'C'
int nodeplug_data = 17;
__thread int nodeplug_tls = 4;
const char nodeplug_name[] = "nodeplug";
int nodeplug_fn(int x) { return x + nodeplug_data; }
__attribute__((weak)) int nodeplug_weak(int x) { return x + 1; }
__attribute__((visibility("hidden"))) int nodeplug_hidden(int x) { return x * 2; }
int nodeplug_use(int x) { return nodeplug_hidden(x) + nodeplug_tls + nodeplug_name[0]; }
C
	printf '%s\n' nodeplug_data nodeplug_tls nodeplug_name nodeplug_fn nodeplug_weak nodeplug_use | sort >node.names
	printf '%s\n' nodeplug_hidden dynhash_no_such_symbol >node-absent.names
	gcc $CF -c -o nodeplug.o nodeplug.c && ar rcs libnodeplug.a nodeplug.o || fail node-plugin-build "gcc failed"
	check node-add-lib "$SURGEON" add-lib "$NODE" libnodeplug.a -o node-out
	if [ -x node-out ]; then
		check_eq node-runs "$("$NODE" -e 'console.log(6*7)')" "$(./node-out -e 'console.log(6*7)' 2>&1)"
		min=$(sort -u <(defined "$NODE") node.names | wc -l)
		"${CHECK[@]}" node node-out --lookup lookup.so --input "$NODE" --added node.names --absent node-absent.names --min "$min"
		echo "# node done at ${SECONDS}s"
	fi
else
	echo "skip node: $NODE is not installed"
fi

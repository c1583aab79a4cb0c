# Hostile input: malformed executables and frozen objects, generated from
# valid seeds built here (tests/hostile/gen.c), and the regression inputs in
# tests/hostile/regress/, fed to every verb that reads a file. Each run must
# end with exactly one line on stderr naming the file and a status 1..127
# (or, for a file that may still be valid, success; a linker diagnostic
# "surgeon: ld: ..." or "surgeon: /path/to/cross-ld: ..." counts as naming
# the file then), within 20 s, with no output file, no temporary files left
# behind and the input unchanged.
# One assertion per (mutation class, verb); every case is checked.
. "$TOP/tests/lib.sh"

# Verbs that take a file: NAME|ARGS, with @IN@ the input and @OUT@ an output
# path in an empty directory. A verb is used when 'surgeon --help' lists it.
VERBS=(
	"add-lib|add-lib @IN@ $T/libprobe.a -o @OUT@"
	"unexec|unexec @IN@ -o @OUT@.o"
	"relink|relink @IN@ -o @OUT@"
	"disasm|disasm @IN@"
	"info|info @IN@"
	"info|info --map @IN@ @IN@"
	"headers|headers @IN@"
	"verify|verify @IN@ @IN@"
)

cat >prog.c <<'C'
#include <stdio.h>
#include <stdlib.h>
static int counter = 3;
int shared = 7;
__attribute__((constructor)) static void init(void) { counter++; }
__attribute__((destructor)) static void fini(void) { fflush(stdout); }
int main(int argc, char **argv) { printf("%d %d %s\n", counter, shared, argc > 1 ? argv[1] : "-"); return atoi("0"); }
C
cat >probe.c <<'C'
int surgeon_hostile_probe(void) { return 42; }
C
gcc -O1 -c probe.c && ar rcs libprobe.a probe.o
gcc -O1 -Wall -Wextra -Werror -o gen "$TOP/tests/hostile/gen.c" || { fail gen "cannot build tests/hostile/gen.c"; exit 1; }
seeds=()
gcc -no-pie -O1 -o dyn prog.c && seeds+=(dyn)
gcc -static -O1 -o static prog.c && seeds+=(static)
if command -v musl-gcc >/dev/null; then musl-gcc -static -O1 -o musl prog.c && seeds+=(musl)
else echo "skip musl: musl-gcc is not installed"; fi

help=$("$SURGEON" --help 2>&1)
verbs=()
for v in "${VERBS[@]}"; do
	name=${v%%|*}
	if grep -qE "^ +$name( |$)" <<<"$help"; then verbs+=("$v"); else echo "skip $name: not a verb of this surgeon yet"; fi
done

# The seeds themselves are accepted: the mutations start from working files.
mkdir -p cases
: >manifest
for s in "${seeds[@]}"; do
	check "valid-$s-add-lib" "$SURGEON" add-lib "$s" libprobe.a -o "$s.new"
	check "valid-$s-unexec" "$SURGEON" unexec "$s" -o "$s.o"
	check "valid-$s-relink" "$SURGEON" relink "$s.o" -o "$s.relinked"
	./gen exe "$s" cases "$s" >>manifest || fail "gen-$s" "generator failed"
	if [ -f "$s.o" ]; then ./gen frozen "$s.o" cases "$s-o" >>manifest || fail "gen-frozen-$s" "generator failed"; fi
done
for f in "$TOP"/tests/hostile/regress/*; do
	[ -f "$f" ] && echo "$f regress any" >>manifest
done

# run_case FILE CLASS EXPECT VERB SUM: appends "KEY" or "KEY WHY" to $res.
# Each worker has its own output, temporary and capture files. 7,000 runs:
# the checks use bash itself, not a command each.
shopt -s nullglob dotglob
run_case() {
	local f=$1 cls=$2 expect=$3 v=$4 sum=$5 name=${4%%|*} why= rc n out err
	local key=$cls/$name
	local -a args left temps lines
	left=("$outd"/*) temps=("$tmpd"/*)
	[ ${#left[@]} = 0 ] && [ ${#temps[@]} = 0 ] || { rm -rf "$outd" "$tmpd"; mkdir -p "$outd" "$tmpd"; }
	out=${v#*|}; out=${out//@IN@/$f}; out=${out//@OUT@/$outd/out}
	read -ra args <<<"$out"
	TMPDIR=$tmpd timeout 20 "$SURGEON" "${args[@]}" >"$cap.stdout" 2>"$cap.stderr" </dev/null
	rc=$?
	mapfile -t lines <"$cap.stderr"
	n=${#lines[@]} err=${lines[0]:-}
	left=("$outd"/*) temps=("$tmpd"/*)
	if [ $rc = 124 ]; then why="hangs (timeout 20 s)"
	elif [ $rc = 223 ]; then why="sanitizer: $(grep -m1 -E "ERROR|runtime error" "$cap.stderr")"
	elif [ $rc -ge 128 ]; then why="killed by signal $((rc - 128)): $(grep -m1 -E 'ERROR|runtime error' "$cap.stderr")"
	elif [ $rc = 0 ] && [ "$expect" = fail ]; then why="accepted a malformed file"
	elif [ $rc != 0 ] && [ "$n" != 1 ]; then why="status $rc with $n lines on stderr: ${lines[*]:0:2}"
	elif [[ ${lines[*]} == *"syntax error"* ]]; then why="surgeon wrote a linker script ld cannot parse: $err"
	elif [ $rc != 0 ] && [[ $err != *"surgeon: $f: "* ]] &&
		! { [ "$expect" = any ] && [[ $err =~ ^surgeon:\ ([^:]*/)?[^/:]*ld(\.[a-z]+)?:\  ]]; }; then
		why="message does not name the file: $err"
	elif [ $rc != 0 ] && [ ${#left[@]} != 0 ]; then why="failed but left ${left[*]##*/}"
	elif [ $rc = 0 ] && [ "$name" = add-lib -o "$name" = relink ] && [ ! -s "$outd/out" ]; then why="succeeded without an output"
	elif [ $rc = 0 ] && [ -n "$(printf '%s\n' "${left[@]##*/}" | grep -vxE 'out|out\.o|out\.ld')" ]; then why="left ${left[*]##*/}"
	elif [ ${#temps[@]} != 0 ]; then why="left temporary files: ${temps[*]##*/}"
	elif [ "$sum" != "$(cksum <"$f")" ]; then why="changed its input"
	fi
	if [ -n "$why" ]; then echo "$key ${f##*/}: $why"; else echo "$key"; fi >>"$res"
}

# The sanitizer build is several times slower: there every fourth generated
# case runs (the same ones each time), and every regression input. The
# cases are dealt to one worker per processor: the runs are independent.
stride=${HOSTILE_STRIDE:-$([ "${ASAN:-0}" = 1 ] && echo 4 || echo 1)}
workers=$(nproc)
worker() {
	local w=$1 i=0 j=0 f cls expect v sum
	outd=$T/o$w tmpd=$T/tmp$w cap=$T/.w$w res=$T/results$w
	: >"$res"
	mkdir -p "$outd" "$tmpd"
	while read -r f cls expect; do
		i=$((i + 1))
		[ "$cls" = regress ] || [ $((i % stride)) = 0 ] || continue
		j=$((j + 1))
		[ $((j % workers)) = "$w" ] || continue
		sum=$(cksum <"$f")
		for v in "${verbs[@]}"; do run_case "$f" "$cls" "$expect" "$v" "$sum"; done
	done <manifest
	rm -rf "$outd" "$tmpd" "$cap.stdout" "$cap.stderr"
}
for ((w = 0; w < workers; w++)); do worker $w & done
wait

declare -A total bad first
while read -r key why; do
	total[$key]=$(( ${total[$key]:-0} + 1 ))
	[ -n "$why" ] || continue
	bad[$key]=$(( ${bad[$key]:-0} + 1 ))
	[ -n "${first[$key]:-}" ] || first[$key]=$why
	echo "# ${key#*/} $why" >>"$T/failures"
done < <(cat "$T"/results*)

for key in $(printf '%s\n' "${!total[@]}" | sort); do
	if [ -z "${bad[$key]:-}" ]; then ok "hostile-${key/\//-} (${total[$key]} cases)"
	else fail "hostile-${key/\//-}" "${bad[$key]} of ${total[$key]} cases; first: ${first[$key]}"; fi
done
[ -f "$T/failures" ] && cat "$T/failures"
rm -rf cases

# Helpers for the core-surgery tests (t-core-*.sh). Source after tests/lib.sh.
#
# Program kinds: dyn (gcc -no-pie, dynamic glibc ET_EXEC), static (gcc -static),
# musl (musl-gcc -static), and each stripped of .symtab: dyn-stripped (built
# with -rdynamic so its globals stay in .dynsym), static-stripped, musl-stripped.
CORE=$TOP/tests/core
CORE_KINDS="dyn static musl dyn-stripped static-stripped musl-stripped"
CFLAGS_CORE=${CFLAGS_CORE:--O1}

# core_cc KIND: the compiler for a kind; core_ldflags KIND: its link flags.
core_cc() { case $1 in musl*) echo musl-gcc ;; *) echo gcc ;; esac; }
core_ldflags() {
	case $1 in
	dyn) echo -no-pie ;;
	dyn-stripped) echo -no-pie -rdynamic ;;
	static* | musl*) echo -static ;;
	esac
}
core_stripped() { case $1 in *-stripped) return 0 ;; *) return 1 ;; esac; }

# core_build KIND [DIR [APP.c [PLUG.c...]]]: in directory DIR/ (default KIND/), builds
#   app        the program alone (stripped for *-stripped kinds)
#   plug.o, libplug.a   the plugin, compiled apart
#   ref        the oracle: the program and the plugin linked from source
# The plugin defaults to plug.c, or splug.c for stripped static kinds.
# Returns non-zero (and says why on stderr) when a build fails.
core_build() {
	local kind=$1 dir=${2:-$1} app=${3:-$CORE/app.c} cc ld objs=() p
	shift; [ $# -gt 0 ] && shift; [ $# -gt 0 ] && shift
	local plugs=("$@")
	if [ ${#plugs[@]} = 0 ]; then
		case $kind in static-stripped | musl-stripped) plugs=("$CORE/splug.c") ;; *) plugs=("$CORE/plug.c") ;; esac
	fi
	cc=$(core_cc "$kind"); ld=$(core_ldflags "$kind")
	mkdir -p "$T/$dir" && (
		cd "$T/$dir" || exit 1
		rm -f libplug.a
		$cc $CFLAGS_CORE $ld -o app "$app" || exit 1
		for p in "${plugs[@]}"; do
			$cc $CFLAGS_CORE -c -o "$(basename "${p%.c}").o" "$p" || exit 1
			objs+=("$(basename "${p%.c}").o")
		done
		ar rcs libplug.a "${objs[@]}" || exit 1
		$cc $CFLAGS_CORE $ld -o ref "$app" "${plugs[@]}" || exit 1
		if core_stripped "$kind"; then strip app ref || exit 1; fi
	)
}

# loadcmp: built once per script from tests/tools/loadcmp.c.
loadcmp() {
	[ -x "$T/loadcmp" ] || gcc -O2 -o "$T/loadcmp" "$TOP/tests/tools/loadcmp.c" || return 2
	"$T/loadcmp" "$@"
}

# readelf_sec FILE NAME: prints "ADDR SIZE" (hex, no 0x) of section NAME.
readelf_sec() {
	readelf -SW "$1" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v n="$2" '$1 == n { print $3, $5; exit }'
}

# secs FILE: one line "NAME ADDR SIZE FLAGS" per section header, ADDR and
# SIZE in decimal (for awk), from readelf -SW.
secs() {
	readelf -SW "$1" | python3 -c '
import re, sys
for l in sys.stdin:
    m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d", l)
    if m:
        print(m.group(1), int(m.group(2), 16), int(m.group(3), 16), m.group(4) or "-")'
}

# judge NAME APP OUT VERBOSE-LOG WANT
judge() {
	local n=$1 app=$2 out=$3 log=$4 want=$5 hdr init fini
	loadcmp "$app" "$out" >"$T/$n.diffs"
	if [ $? -gt 1 ]; then fail "$n" "loadcmp failed"; return; fi
	hdr=$(readelf -lW "$app" | awk '$1 == "LOAD" && $2 ~ /^0x0+$/ { print $3; exit }')
	init=$(readelf_sec "$app" .init_array); fini=$(readelf_sec "$app" .fini_array)
	python3 "$CORE/judge.py" "$log" "$T/$n.diffs" "${hdr:-0}" "${init:--}" "${fini:--}" "$want" >"$T/$n.judge" 2>&1
	if [ -s "$T/$n.judge" ]; then fail "$n" "$(head -3 "$T/$n.judge" | tr '\n' ';')"; else ok "$n"; fi
}

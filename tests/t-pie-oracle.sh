# The oracle for PIE, ET_EXEC and static-pie programs with plugins that use
# the dynamic tables: the program and plugin linked from source by gcc behave
# exactly like surgeon add-lib of the two built apart (same stdout, same exit
# status), each run also under LD_BIND_NOW=1.
#  (a) PIE; the plugin calls old functions, touches old globals, keeps
#      pointers to old data and functions in initialized data (RELATIVE
#      relocations), installs a hook from a constructor, has a destructor;
#  (b) PIE; the plugin needs libm (cos, add-lib -lm) and libc functions the
#      program never imported (puts, strlen, qsort, memcpy, snprintf), and the
#      program finds the plugin's plug_entry with dlsym(RTLD_DEFAULT);
#  (c) the same as (b) for an ET_EXEC built without -rdynamic;
#  (d) static-pie with plugin (a).
# The references of (b) and (c) export plug_entry with
# -Wl,--export-dynamic-symbol=plug_entry: surgeon exports the added code's
# globals by default (--export=all), and a plain link exports nothing, so
# without it dlsym would fail in the reference and the comparison would be
# unfair. Versions: a new import of a versioned glibc symbol (memcpy has
# GLIBC_2.2.5 and GLIBC_2.14) gets the version a normal link chooses.
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie
CF="-O1"

# oracle NAME REF OUT: same stdout and status, lazily and with LD_BIND_NOW=1.
oracle() {
	same_run "$1" "$2" "$3"
	same_run "$1-args" "$2" "$3" x y
	LD_BIND_NOW=1 same_run "$1-bind-now" "$2" "$3"
}
# dynsym_ver FILE SYM: "SYM@VERSION" of the undefined SYM in .dynsym.
dynsym_ver() { readelf --dyn-syms -W "$1" | awk -v s="$2" '$7 == "UND" && ($8 == s || index($8, s "@") == 1) { print $8; exit }'; }
# imports FILE: the names of the undefined dynamic symbols, one a line.
imports() { readelf --dyn-syms -W "$1" | awk '$7 == "UND" && NF >= 8 { sub(/@.*/, "", $8); print $8 }' | sort -u; }

gcc $CF -c -o plug_a.o "$P/plug_a.c" && ar rcs liba.a plug_a.o &&
gcc $CF -c -o plug_b.o "$P/plug_b.c" && ar rcs libb.a plug_b.o || fail plugins-build "cannot compile the plugins"

# (a) PIE, plugin with RELATIVE data, hook, ctor/dtor.
if gcc $CF -o a-app "$P/app.c" && gcc $CF -o a-ref "$P/app.c" "$P/plug_a.c"; then
	check_eq a-input-is-pie "DYN" "$(readelf -hW a-app | awk '/Type:/ { print $2 }')"
	check a-add-lib "$SURGEON" add-lib a-app liba.a -o a-out
	if [ -x a-out ]; then
		oracle a-oracle ./a-ref ./a-out
		# The plugin's pointers to old data/functions are load-time RELATIVE relocations.
		check a-relative-relocs test "$(readelf -rW a-out | grep -c R_X86_64_RELATIVE)" \
			-ge $(( $(readelf -rW a-app | grep -c R_X86_64_RELATIVE) + 7 ))
		check a-dtor-ran grep -q '^plug dtor counter=15' "$T/.b.out"
		check_eq a-output-is-pie "DYN" "$(readelf -hW a-out | awk '/Type:/ { print $2 }')"
	fi
else
	fail a-build "gcc failed"
fi

# (b) PIE + libm + new libc imports + dlsym(RTLD_DEFAULT, "plug_entry").
if gcc $CF -o b-app "$P/app.c" &&
   gcc $CF -o b-ref "$P/app.c" "$P/plug_b.c" -lm -Wl,--export-dynamic-symbol=plug_entry; then
	# Preconditions: the program does not import what the plugin needs.
	check_eq b-app-lacks-imports "" "$(imports b-app | grep -xE 'puts|strlen|qsort|memcpy|snprintf|cos')"
	check b-add-lib "$SURGEON" add-lib b-app libb.a -lm -o b-out
	if [ -x b-out ]; then
		oracle b-oracle ./b-ref ./b-out
		check b-dlsym-found grep -qx 'dlsym plug_entry: found' "$T/.b.out"
		check b-needs-libm sh -c "readelf -dW b-out | grep -q 'NEEDED.*\[libm.so.6\]'"
		for s in puts strlen qsort memcpy snprintf cos; do
			v=$(dynsym_ver b-ref $s)
			check_eq "b-import-version-$s" "${v:-no $s import in the reference}" "$(dynsym_ver b-out $s)"
		done
		# memcpy has two versions; a normal link picks GLIBC_2.14, not the old 2.2.5.
		check_eq b-memcpy-default-version "memcpy@GLIBC_2.14" "$(dynsym_ver b-out memcpy)"
		# Every old .dynsym entry is still there, with its value, type and
		# version (the merged table is renumbered into GNU hash order, and
		# the relocations that name entries by index follow).
		dsyms() { readelf --dyn-syms -W "$1" | awk '$1 ~ /^[0-9]+:$/ { print $2, $4, $5, $7, $8 }' | sort; }
		check_eq b-old-dynsym-kept "" "$(comm -23 <(dsyms b-app) <(dsyms b-out))"
	fi
else
	fail b-build "gcc failed"
fi

# (c) ET_EXEC without -rdynamic: its .dynsym has no exports; plug_entry is new.
if gcc $CF -no-pie -o c-app "$P/app.c" &&
   gcc $CF -no-pie -o c-ref "$P/app.c" "$P/plug_b.c" -lm -Wl,--export-dynamic-symbol=plug_entry; then
	check_eq c-input-is-exec "EXEC" "$(readelf -hW c-app | awk '/Type:/ { print $2 }')"
	check c-add-lib "$SURGEON" add-lib c-app libb.a -lm -o c-out
	if [ -x c-out ]; then
		oracle c-oracle ./c-ref ./c-out
		check c-dlsym-found grep -qx 'dlsym plug_entry: found' "$T/.b.out"
		check_eq c-import-version-memcpy "$(dynsym_ver c-ref memcpy)" "$(dynsym_ver c-out memcpy)"
	fi
else
	fail c-build "gcc failed"
fi

# (d) static-pie with plugin (a): no dynamic linker; the program relocates
# itself with the merged relocations.
if gcc $CF -static-pie -DNO_DLSYM -o d-app "$P/app.c" &&
   gcc $CF -static-pie -DNO_DLSYM -o d-ref "$P/app.c" "$P/plug_a.c"; then
	check d-input-is-static-pie sh -c "readelf -hW d-app | grep -q 'DYN' && ! readelf -lW d-app | grep -q INTERP"
	check d-add-lib "$SURGEON" add-lib d-app liba.a -o d-out
	if [ -x d-out ]; then
		oracle d-oracle ./d-ref ./d-out
		check d-still-static-pie sh -c "readelf -hW d-out | grep -q 'DYN' && ! readelf -lW d-out | grep -q INTERP"
	fi
else
	fail d-build "gcc failed"
fi

# The other linkers: lld for all kinds, gold for dynamic PIE (gold cannot
# link a static-pie at all: "-pie and -static are incompatible").
for ld in lld gold; do
	command -v "ld.$ld" >/dev/null || { echo "skip $ld: ld.$ld not installed"; continue; }
	[ -x a-ref ] && check "a-$ld-add-lib" "$SURGEON" add-lib a-app liba.a --ld $ld -o "a-$ld" && oracle "a-$ld-oracle" ./a-ref "./a-$ld"
	[ -x b-ref ] && check "b-$ld-add-lib" "$SURGEON" add-lib b-app libb.a -lm --ld $ld -o "b-$ld" && oracle "b-$ld-oracle" ./b-ref "./b-$ld"
	[ -x c-ref ] && check "c-$ld-add-lib" "$SURGEON" add-lib c-app libb.a -lm --ld $ld -o "c-$ld" && oracle "c-$ld-oracle" ./c-ref "./c-$ld"
done
[ -x d-ref ] && check d-lld-add-lib "$SURGEON" add-lib d-app liba.a --ld lld -o d-lld && oracle d-lld-oracle ./d-ref ./d-lld

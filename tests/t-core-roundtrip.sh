# Round trip: unexec then relink with no inputs gives the program back byte for
# byte; unexec then relink with the plugin behaves like the reference; add-lib
# is deterministic; the frozen object's .old* sections sit at the addresses
# readelf -S reports for the program.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	check "$k-unexec" "$SURGEON" unexec "$k/app" -o "$k/app.o"
	check "$k-unexec-script" test -s "$k/app.ld"
	if [ -f "$k/app.o" ]; then
		check "$k-relink-nothing" "$SURGEON" relink "$k/app.o" -o "$k/app2"
		check "$k-identical" cmp "$k/app" "$k/app2"
		check "$k-relink-nothing-T" "$SURGEON" relink "$k/app.o" -T "$k/app.ld" -o "$k/app3"
		check "$k-identical-T" cmp "$k/app" "$k/app3"
		check "$k-relink-plugin" "$SURGEON" relink "$k/app.o" "$k/libplug.a" -o "$k/rout"
		[ -x "$k/rout" ] && same_run "$k-relink-oracle" "$k/ref" "$k/rout"
		# .text and .data (or, stripped of nothing but .symtab, still there)
		# are at their old addresses as .old.text and .old.data.
		for s in .text .data .rodata; do
			want=$(readelf_sec "$k/app" "$s" | awk '{ print $1 }')
			got=$(readelf_sec "$k/app.o" ".old$s" | awk '{ print $1 }')
			check_eq "$k-old$s-address" "${want:-none in app}" "${got:-none in app.o}"
		done
		check_eq "$k-object-type" REL "$(readelf -hW "$k/app.o" | awk '$1 == "Type:" { print $2 }')"
	fi
	check "$k-add-lib-1" "$SURGEON" add-lib "$k/app" "$k/libplug.a" -o "$k/out1"
	check "$k-add-lib-2" "$SURGEON" add-lib "$k/app" "$k/libplug.a" -o "$k/out2"
	check "$k-deterministic" cmp "$k/out1" "$k/out2"
done

# The other system linkers: --ld lld, gold (when installed), bfd and a path
# give programs that behave like the reference, with the same old-byte edits.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

linkers="bfd lld"
[ -x /usr/bin/ld.gold ] && linkers="$linkers gold"
linkers="$linkers /usr/bin/ld.bfd"
for k in dyn static; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	for l in $linkers; do
		n=$k-$(basename "$l")
		[ "${l#/}" != "$l" ] && n=$n-path
		run_capture "$T/$n" "$SURGEON" -v add-lib --ld "$l" "$k/app" "$k/libplug.a" -o "$k/out-$(basename "$l")"
		check_eq "$n-add-lib" 0 "$(cat "$T/$n.rc")"
		[ -x "$k/out-$(basename "$l")" ] || continue
		same_run "$n-oracle" "$k/ref" "$k/out-$(basename "$l")"
		# The linker named is the one that ran.
		case $l in
		lld) check "$n-ran" grep -Eq '^surgeon: running .*(ld\.lld|lld)' "$T/$n.err" ;;
		gold) check "$n-ran" grep -Eq '^surgeon: running .*gold' "$T/$n.err" ;;
		esac
		# Only the ELF header and the two slots differ, as with bfd.
		judge "$n-edits" "$k/app" "$k/out-$(basename "$l")" "$T/$n.err" "init fini"
	done
	# The unexec + relink path with lld too.
	check "$k-unexec" "$SURGEON" unexec "$k/app" -o "$k/app.o"
	check "$k-relink-lld" "$SURGEON" relink --ld lld "$k/app.o" "$k/libplug.a" -o "$k/rout-lld"
	[ -x "$k/rout-lld" ] && same_run "$k-relink-lld-oracle" "$k/ref" "$k/rout-lld"
done

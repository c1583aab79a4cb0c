# Overlay: bytes appended after everything the headers describe come out at the
# very end of the output, unchanged, and the program still runs like the
# reference. Mode: the output keeps the program's permission bits.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

head -c 1000 /dev/urandom >junk
for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	cat "$k/app" junk >"$k/app-ov"
	chmod 755 "$k/app-ov"
	same_run "$k-overlay-runs" "$k/app" "$k/app-ov"
	check "$k-overlay-add-lib" "$SURGEON" add-lib "$k/app-ov" "$k/libplug.a" -o "$k/out-ov"
	if [ -f "$k/out-ov" ]; then
		check "$k-overlay-at-end" cmp junk <(tail -c 1000 "$k/out-ov")
		# The overlay is not also somewhere else: without it, the output is
		# 1000 bytes shorter. (Both programs are called "app" so that the
		# surgery notes, which record the input's name, are the same size.)
		mkdir -p "$k/plain" "$k/ov" && cp "$k/app" "$k/plain/app" && cp "$k/app-ov" "$k/ov/app"
		(cd "$k/plain" && "$SURGEON" add-lib app ../libplug.a -o out 2>/dev/null)
		(cd "$k/ov" && "$SURGEON" add-lib app ../libplug.a -o out 2>/dev/null)
		check_eq "$k-overlay-size" $(( $(stat -c %s "$k/plain/out") + 1000 )) "$(stat -c %s "$k/ov/out")"
		same_run "$k-overlay-oracle" "$k/ref" "$k/out-ov"
		check "$k-overlay-roundtrip-unexec" "$SURGEON" unexec "$k/app-ov" -o "$k/app-ov.o"
		check "$k-overlay-roundtrip-relink" "$SURGEON" relink "$k/app-ov.o" -o "$k/app-ov2"
		check "$k-overlay-roundtrip-identical" cmp "$k/app-ov" "$k/app-ov2"
	fi
done

# Modes: the output has the program's mode, whatever umask says.
for m in 750 700 755 711; do
	cp dyn/app app-$m && chmod $m app-$m
	(umask 077; "$SURGEON" add-lib app-$m dyn/libplug.a -o out-$m)
	check_eq "mode-$m" $m "$(stat -c %a out-$m 2>&1)"
done
(umask 022; "$SURGEON" add-lib app-750 dyn/libplug.a -o out-750b)
check_eq mode-750-umask022 750 "$(stat -c %a out-750b 2>&1)"
# The default output name is APP.new, in the current directory, with the mode too.
(cd dyn && "$SURGEON" add-lib ../app-750 libplug.a)
check_eq default-output-mode 750 "$(stat -c %a dyn/app-750.new 2>&1)"

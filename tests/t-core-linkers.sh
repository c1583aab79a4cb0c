# The other system linkers: --ld lld, gold (when installed), bfd and a path
# give programs that behave like the reference, with the same old-byte edits;
# mold, programs that are no linker and a linker too old are refused in one line.
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

# mold (Debian's, from `make deps`) has no SECTIONS command in linker scripts,
# which surgeon's pinned layout needs: refused in one line that names mold's
# version, by add-lib and by relink, leaving no output.
if ! command -v mold >/dev/null; then
	fail mold-installed "mold is not installed (make deps installs it)"
elif [ -x dyn/app ]; then
	mv=$(mold --version | awk '{ print $2; exit }')
	# mold itself rejects such a script: the message is not a guess.
	printf 'SECTIONS { .text 0x500000 : { *(.text) } }\n' >sections.ld
	mold -o mold-probe -T sections.ld dyn/plug.o >mold-probe.log 2>&1
	check_eq mold-has-no-sections "1 yes" "$([ -e mold-probe ] && echo 0 || echo 1) $(grep -q 'linker script' mold-probe.log && echo yes || echo no)"
	for how in add-lib relink; do
		if [ $how = add-lib ]; then
			run_capture "$T/mold-$how" "$SURGEON" add-lib --ld mold dyn/app dyn/libplug.a -o dyn/out-mold
		else
			run_capture "$T/mold-$how" "$SURGEON" relink --ld /usr/bin/mold dyn/app.o dyn/libplug.a -o dyn/out-mold
		fi
		check_eq "mold-$how-status" "1 1 no" "$(cat "$T/mold-$how.rc") $(wc -l <"$T/mold-$how.err") $([ -e dyn/out-mold ] && echo yes || echo no)"
		check "mold-$how-message" grep -Eq "^surgeon: (/usr/bin/)?mold: mold $mv cannot link for surgeon: it has no linker-script SECTIONS command.*use --ld bfd, gold or lld\$" "$T/mold-$how.err"
	done
fi

# Programs that are no linker, and a linker too old for the options surgeon
# passes (a stand-in that says it is GNU ld 2.25 and rejects --no-dynamic-linker
# as that version did): one line each, saying so.
if [ -x dyn/app ]; then
	cat >oldld <<'SH'
#!/bin/sh
[ "$1" = --version ] && { echo "GNU ld (GNU Binutils) 2.25"; exit 0; }
echo "ld: unrecognized option '--no-dynamic-linker'" >&2
echo "ld: use the --help option for usage information" >&2
exit 1
SH
	chmod +x oldld
	for l in /bin/false /bin/true "$T/oldld" no-such-linker; do
		n=ld-$(basename "$l")
		run_capture "$T/$n" "$SURGEON" add-lib --ld "$l" dyn/app dyn/libplug.a -o dyn/out-bad
		check_eq "$n-status" "1 1 no" "$(cat "$T/$n.rc") $(wc -l <"$T/$n.err") $([ -e dyn/out-bad ] && echo yes || echo no)"
	done
	v=$(/bin/false --version | head -1)
	check ld-false-message grep -Fxq "surgeon: /bin/false: not a linker surgeon knows (its --version says '$v'); --ld takes bfd, gold, lld or the path of one of them" "$T/ld-false.err"
	check ld-true-message grep -Fq "surgeon: /bin/true: not a linker surgeon knows: it exited with status 0 and wrote no output" "$T/ld-true.err"
	check ld-old-message grep -Fq "surgeon: $T/oldld: GNU ld 2.25 does not understand what surgeon asks of it ('unrecognized option '--no-dynamic-linker''): it is too old" "$T/ld-oldld.err"
	check ld-missing-message grep -Fxq "surgeon: no-such-linker: cannot run the linker: No such file or directory" "$T/ld-no-such-linker.err"
fi

# The libFuzzer targets (fuzz/): the regression inputs of tests/hostile/regress
# run clean, then each target fuzzes for a short smoke period from the seed
# corpus. Longer runs: make fuzz FUZZ_SECONDS=N.
. "$TOP/tests/lib.sh"
secs=${FUZZ_SMOKE_SECONDS:-20}
[ "${ASAN:-0}" = 1 ] && secs=${FUZZ_SMOKE_SECONDS:-5}	# the targets are the same in both suites
if ! make -C "$TOP" --no-print-directory fuzz-build >build.log 2>&1; then
	fail fuzz-build "$(tail -3 build.log | tr '\n' ' ')"
	exit 0
fi
ok fuzz-build
regress=("$TOP"/tests/hostile/regress/*)
for t in "$TOP"/build-fuzz/fuzz_*; do
	case $t in *.*) continue;; esac
	n=$(basename "$t")
	if [ -f "${regress[0]}" ]; then
		if "$t" "${regress[@]}" >"$n-regress.log" 2>&1; then ok "$n-regress (${#regress[@]} inputs)"
		else fail "$n-regress" "$(grep -m1 -E 'ERROR|runtime error|Running' "$n-regress.log")"; fi
	fi
	mkdir -p "corpus-$n"
	if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$T/crash-$n-" "corpus-$n" "$TOP/build-fuzz/seeds" >"$n.log" 2>&1; then
		ok "$n-smoke ($(grep -oE 'Done [0-9]+ runs' "$n.log") in $secs s)"
	else
		fail "$n-smoke" "$(grep -m1 -E 'ERROR|runtime error' "$n.log"); input: $(ls "$T"/crash-"$n"-* 2>/dev/null | head -1) (copy it into tests/hostile/regress/)"
	fi
	rm -rf "corpus-$n"
done

# aarch64 --replace and --wrap, under qemu-user: patched programs behave like
# the programs aarch64-linux-gnu-gcc links from source with the fix (the
# oracle), for -no-pie, PIE and static builds of tests/patch/app.c (a direct
# b at the entry, the PLT stub of an import). Then the displaced instructions
# of tests/arm64/moved_fns.s moved into __real_SYM: adrp, adr, ldr (literal),
# cbz, tbz, b.cond, b and bl re-aimed, against ld's own --wrap of the same
# objects; with a 4-byte b at the entry, and with the adrp+add+br x16 veneer
# when a 256 MiB bss puts the new code out of b's reach. A SIMD literal load
# is refused with the reason.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
P=$TOP/tests/patch
A=$TOP/tests/arm64
export PATCH_TEST_VAR=original

for k in nopie pie static; do
	case $k in nopie) f=-no-pie ;; pie) f="-fPIE -pie" ;; static) f=-static ;; esac
	mkdir -p $k
	if ! (cd $k && $A64CC -O1 $f -o app "$P/app.c" &&
	      $A64CC -O1 $f -DFIXED -DWRAPPED -DENVFIX -o ref-all "$P/app.c" "$P/wrap.c" "$P/env.c" &&
	      for l in fix wrap env; do $A64CC -O1 -c -o $l.o "$P/$l.c" && $A64AR rcs lib$l.a $l.o || exit 1; done) 2>$k.build.err; then
		fail "$k-build" "$(head -3 $k.build.err | tr '\n' ' ')"
		continue
	fi
	check "$k-all" "$SURGEON" add-lib $k/app $k/libfix.a $k/libwrap.a $k/libenv.a --replace sum_to=sum_fixed \
		--wrap twice --replace getenv=my_getenv -o $k/out-all
	[ -x $k/out-all ] || continue
	a64_same "$k-all-oracle" $k/ref-all $k/out-all
	a64_same "$k-all-oracle-args" $k/ref-all $k/out-all 7
	check_eq "$k-buggy-before" 3 "$(a64_run $k/app >/dev/null; echo $?)"
	run_capture $k/v "$SURGEON" verify -v $k/app $k/out-all
	check_eq "$k-verify" 0 "$(cat $k/v.rc)"
	check "$k-verify-lists-wrap" grep -q -- "^edit .* twice: --wrap twice" $k/v.out
done

# Displaced instructions, near (b) and far (the veneer).
W="adrp_load adr_load lit_load lit_load64 cbz_fn tbz_fn bcond_fn tail_b calls_bl"
wraps=() lwraps=()
for w in $W; do wraps+=(--wrap $w); lwraps+=(-Wl,--wrap=$w); done
$A64CC -O1 -c -o wrapmoved.o "$A/wrapmoved.c" && $A64AR rcs libwm.a wrapmoved.o || fail moved-build "cannot build the wrappers"
for v in near far; do
	D=; [ $v = far ] && D=-DBIG
	if ! $A64CC -O1 $D -o m-$v "$A/moved_main.c" "$A/moved_fns.s" ||
	   ! $A64CC -O1 $D -o ref-$v "$A/moved_main.c" "$A/moved_fns.s" "$A/wrapmoved.c" "${lwraps[@]}"; then
		fail "moved-$v-build" "$A64CC failed"
		continue
	fi
	check "moved-$v-wrap" "$SURGEON" add-lib m-$v libwm.a "${wraps[@]}" -o out-$v
	[ -x out-$v ] || continue
	a64_same "moved-$v-oracle" ./ref-$v ./out-$v
	a64_same "moved-$v-oracle-args" ./ref-$v ./out-$v 3
	check "moved-$v-verify" "$SURGEON" verify m-$v out-$v
	# The entry jump itself, as objdump reads it.
	a=$(nm m-$v | awk '$3 == "adrp_load" { print $1 }')
	ins=$(aarch64-linux-gnu-objdump -d --start-address=0x$a --stop-address=$(printf '0x%x' $((0x$a + 12))) out-$v |
	      awk -F'\t' '/^ *[0-9a-f]+:/ { split($3, m, " "); printf "%s ", m[1] }')
	if [ $v = near ]; then
		check_eq moved-near-entry-is-b "b ldr add " "$ins"
	else
		check_eq moved-far-entry-is-veneer "adrp add br " "$ins"
		check moved-far-br-x16 sh -c "aarch64-linux-gnu-objdump -d --start-address=0x$a --stop-address=$(printf '0x%x' $((0x$a + 12))) out-$v | grep -q 'br.*x16'"
	fi
done

# Refused: a SIMD register loaded from a literal needs a scratch register.
if [ -x m-near ]; then
	$A64CC -O1 -c -o simd.o -x c - <<<'int __real_simd_lit(void); int __wrap_simd_lit(void) { return __real_simd_lit() + 1; }' &&
	$A64AR rcs libsimd.a simd.o
	run_capture simd "$SURGEON" add-lib m-near libsimd.a --wrap simd_lit -o simd.new
	check_eq refuse-simd-rc 1 "$(cat simd.rc)"
	check refuse-simd-why grep -q "^surgeon: m-near: --wrap simd_lit: cannot move the first instructions of 'simd_lit' into __real_simd_lit: 'ldr' of a SIMD register" simd.err
	check_eq refuse-simd-one-line 1 "$(wc -l <simd.err)"
	check_eq refuse-simd-no-output no "$([ -e simd.new ] && echo yes || echo no)"
fi

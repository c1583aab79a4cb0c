# --replace OLD=NEW and --wrap SYM: patched programs behave like the program
# built from source with the fix (the oracle), for non-PIE, PIE, PIE with
# -fno-plt (imports through the GOT only), static glibc and static musl builds; verify accepts
# exactly the recorded entry jumps and still catches any other change.
. "$TOP/tests/lib.sh"
P=$TOP/tests/patch
export PATCH_TEST_VAR=original

flags() {
	case $1 in
	nopie) echo -no-pie ;;
	pie) echo -fPIE -pie ;;
	pie-noplt) echo -fPIE -pie -fno-plt ;;
	static | musl) echo -static ;;
	esac
}
compiler() { case $1 in musl) echo musl-gcc ;; *) echo gcc ;; esac; }
flip() {	# flip FILE ADDR: invert the byte at virtual address ADDR
	local o b
	o=$(readelf -lW "$1" | python3 -c 'import sys
a = int(sys.argv[1], 0)
for l in sys.stdin:
    f = l.split()
    if f and f[0] == "LOAD":
        o, v, fs = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if v <= a < v + fs:
            print(a - v + o); break' "$2")
	b=$(od -An -tu1 -j "$o" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$o" conv=notrunc status=none
}

for k in nopie pie pie-noplt static musl; do
	mkdir -p $k; f=$(flags $k); cc=$(compiler $k)
	if ! (cd $k && $cc -O1 $f -o app "$P/app.c" &&
	      $cc -O1 $f -DFIXED -o ref-replace "$P/app.c" &&
	      $cc -O1 $f -DWRAPPED -o ref-wrap "$P/app.c" "$P/wrap.c" &&
	      $cc -O1 $f -DENVFIX -o ref-import "$P/app.c" "$P/env.c" &&
	      $cc -O1 $f -DFIXED -DWRAPPED -DENVFIX -o ref-all "$P/app.c" "$P/wrap.c" "$P/env.c" &&
	      for l in fix wrap env; do $cc -O1 -c -o $l.o "$P/$l.c" && ar rcs lib$l.a $l.o || exit 1; done) 2>$k.build.err; then
		fail "$k-build" "$(head -3 $k.build.err | tr '\n' ' ')"
		continue
	fi
	check "$k-replace" "$SURGEON" add-lib $k/app $k/libfix.a --replace sum_to=sum_fixed -o $k/out-replace
	check "$k-wrap" "$SURGEON" add-lib $k/app $k/libwrap.a --wrap twice -o $k/out-wrap
	check "$k-import" "$SURGEON" add-lib $k/app $k/libenv.a --replace getenv=my_getenv -o $k/out-import
	check "$k-all" "$SURGEON" add-lib $k/app $k/libfix.a $k/libwrap.a $k/libenv.a --replace sum_to=sum_fixed \
		--wrap twice --replace getenv=my_getenv -o $k/out-all
	for t in replace wrap import all; do
		[ -x $k/out-$t ] || continue
		same_run "$k-$t-oracle" $k/ref-$t $k/out-$t
		same_run "$k-$t-oracle-args" $k/ref-$t $k/out-$t 7
	done
	# The bug was there, and is gone.
	check_eq "$k-buggy-before" 3 "$($k/app >/dev/null; echo $?)"
	[ -x $k/out-all ] || continue
	check_eq "$k-fixed-after" 6 "$($k/out-all >/dev/null; echo $?)"

	# verify: passes, and lists each patched range with its reason.
	run_capture $k/v "$SURGEON" verify -v $k/app $k/out-all
	check_eq "$k-verify" 0 "$(cat $k/v.rc)"
	for r in "--replace sum_to=sum_fixed" "--wrap twice" "--replace getenv=my_getenv"; do
		case "$k $r" in "pie-noplt --replace getenv"*) continue ;; esac	# no stub: relocations only
		if grep -q -- "^edit 0x[0-9a-f]*-0x[0-9a-f]* .*: $r ([1-5] bytes changed)\$" $k/v.out; then
			ok "$k-verify-lists ${r// /_}"
		else
			fail "$k-verify-lists ${r// /_}" "$(grep '^edit' $k/v.out | tr '\n' ' ')"
		fi
	done
	# Exactly 5 bytes at sum_to's entry (after endbr64 if any).
	s=$(nm $k/app | awk '$3 == "sum_to" { print "0x" $1 }')
	e=$(grep -- "--replace sum_to" $k/v.out | sed 's/^edit \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\) .*/\1 \2/')
	set -- $e
	if [ $(($1)) -ge $((s)) ] && [ $(($1)) -le $((s + 4)) ] && [ $(($2 - $1)) = 5 ]; then
		ok "$k-verify-range"
	else
		fail "$k-verify-range" "sum_to at $s, edit '$e'"
	fi
	cp $k/out-all $k/flipped
	m=$(nm $k/app | awk '$3 == "main" { print "0x" $1 }')
	flip $k/flipped $((m + 0x10))
	run_capture $k/vf "$SURGEON" verify $k/app $k/flipped
	check_eq "$k-verify-flip-fails" 1 "$(cat $k/vf.rc)"
done

# Refusals: a function too short for the jump, and one whose first bytes are
# a branch target. Nothing is written, and the message says what to do.
if gcc -O1 -no-pie -o refuse "$P/refuse.c" 2>refuse.err && gcc -O1 -c -o short.o "$P/short.c" &&
   ar rcs libshort.a short.o; then
	run_capture r1 "$SURGEON" add-lib refuse libshort.a --replace too_short=short_fixed -o r1.new
	check_eq refuse-short-rc 1 "$(cat r1.rc)"
	check refuse-short-why grep -q "^surgeon: refuse: --replace too_short=short_fixed: 'too_short' is too short to patch: .*replace its callers" r1.err
	check_eq refuse-short-no-output no "$([ -e r1.new ] && echo yes || echo no)"
	run_capture r2 "$SURGEON" add-lib refuse libshort.a --replace looped=looped_fixed -o r2.new
	check_eq refuse-branch-into-rc 1 "$(cat r2.rc)"
	check refuse-branch-into-why grep -q "^surgeon: refuse: --replace looped=looped_fixed: the code at 0x[0-9a-f]* (looped+0x[0-9a-f]*) branches into the [0-9]* bytes" r2.err
	check_eq refuse-branch-into-no-output no "$([ -e r2.new ] && echo yes || echo no)"
	run_capture r3 "$SURGEON" add-lib refuse libshort.a --wrap looped -o r3.new
	check_eq refuse-wrap-branch-rc 1 "$(cat r3.rc)"
	run_capture r4 "$SURGEON" add-lib refuse libshort.a --replace nosuch=looped_fixed -o r4.new
	check refuse-unknown grep -q "^surgeon: refuse: --replace nosuch=looped_fixed: no function 'nosuch'" r4.err
	run_capture r5 "$SURGEON" add-lib refuse libshort.a --replace looped=not_defined -o r5.new
	check_eq refuse-undefined-new-rc 1 "$(cat r5.rc)"
	run_capture r6 "$SURGEON" add-lib refuse libshort.a --replace looped -o r6.new
	check_eq usage-replace-rc 2 "$(cat r6.rc)"
else
	fail refuse-build "$(head -3 refuse.err | tr '\n' ' ')"
fi

# --wrap moves RIP-relative operands and relative branches into __real_SYM.
for k in nopie pie; do
	f=$(flags $k)
	if ! gcc -O1 $f -o moved-$k "$P/moved.c" 2>moved.err || ! gcc -O1 -c -o wrapmoved.o "$P/wrapmoved.c" ||
	   ! ar rcs libwrapmoved.a wrapmoved.o; then
		fail "$k-moved-build" "$(head -3 moved.err | tr '\n' ' ')"
		continue
	fi
	check_eq "$k-moved-before" "42 6 10 0 15 16 6" "$(./moved-$k)"
	check "$k-moved-wrap" "$SURGEON" add-lib moved-$k libwrapmoved.a --wrap rip_load --wrap rip_cmp \
		--wrap short_jcc --wrap tail_jmp --wrap calls -o moved-$k.out
	check_eq "$k-moved-after" "1042 1006 1010 1000 1015 1016 6" "$(./moved-$k.out)"
	run_capture moved-$k.r "$SURGEON" add-lib moved-$k libwrapmoved.a --wrap jcc_in -o moved-$k.new
	check "$k-moved-refuse-jcc-inside" grep -q "^surgeon: moved-$k: --wrap jcc_in: cannot move .*inside the displaced bytes" moved-$k.r.err
	# --replace needs no moving: the branch inside the overwritten bytes is gone with them.
	gcc -O1 -c -o repmoved.o "$P/repmoved.c" && ar rcs librepmoved.a repmoved.o
	check "$k-moved-replace-jcc-inside" "$SURGEON" add-lib moved-$k librepmoved.a --replace jcc_in=jcc_in_fixed -o moved-$k.rep
	[ -x moved-$k.rep ] && check_eq "$k-moved-replace-result" "42 6 10 0 15 16 5" "$(./moved-$k.rep)"
done

# aarch64 thread-local storage (variant I: the block starts 16 bytes, the
# TCB, rounded up to its alignment, past the thread pointer, and grows at its
# end): tests/tls's plugin, with variables of its own beside the program's,
# used from the main thread and from threads, added to ET_EXEC, PIE, static
# and static-pie programs, against the same objects linked by
# aarch64-linux-gnu-gcc; every TLS model (TLS descriptors with -fPIC,
# initial exec, local exec); errno of a static program. New variables go
# after the old ones, so the program's offsets stay; one that would raise
# the block's alignment past 16 (and move the block) is refused.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
R=$TOP/tests/tls

for k in "exec|-no-pie" "pie|" "static|-static" "spie|-static-pie"; do
	IFS='|' read -r kind flags <<<"$k"
	# shellcheck disable=SC2086
	if ! $A64CC -O1 -g $flags -pthread -o "app-$kind" "$R/app.c" ||
	   ! $A64CC -O1 -g -DTLS_ALIGN=16 -c -o "plug-$kind.o" "$R/plug.c" ||
	   ! $A64CC -O1 $flags -pthread -o "ref-$kind" "$R/app.c" "plug-$kind.o"; then
		fail "$kind-build" "$A64CC failed"
		continue
	fi
	check "$kind-add-lib" "$SURGEON" add-lib "app-$kind" "plug-$kind.o" -pthread -o "$kind.new"
	[ -x "$kind.new" ] || continue
	a64_same "$kind-oracle" "./ref-$kind" "./$kind.new"
	check "$kind-verify" "$SURGEON" verify "app-$kind" "$kind.new"
	# Independently of the oracle: old offsets land on the old variables
	# (counter 5 + 1000 in a new thread), new ones start from the template.
	check_eq "$kind-values" "thread 5: newv 82 newd 2.5 newz 0 hidden -3 counter 1005 zcount 0 label t5" \
		"$(grep '^thread 5' "$T/.b.out")"
	# The new PT_TLS starts with the old block's bytes and grew at its end.
	old=$(readelf -lW "app-$kind" | awk '$1 == "TLS" { print $6 }')
	new=$(readelf -lW "$kind.new" | awk '$1 == "TLS" { print $6 }')
	check "$kind-tls-grew" test $((new)) -gt $((old))
	# The block's start past the thread pointer, roundup(16, p_align), is the same.
	tcbgap() { local a; a=$(readelf -lW "$1" | awk '$1 == "TLS" { print $NF }'); echo $(( (16 + a - 1) / a * a )); }
	check_eq "$kind-tls-start" "$(tcbgap "app-$kind")" "$(tcbgap "$kind.new")"
done

for k in pie static; do
	[ -x "app-$k" ] || continue
	flags=$([ $k = static ] && echo -static)
	for m in "desc|-fPIC" "ie|-ftls-model=initial-exec" "le|-ftls-model=local-exec"; do
		IFS='|' read -r model cf <<<"$m"
		n=$k-model-$model
		# shellcheck disable=SC2086
		if ! $A64CC -O1 -DTLS_ALIGN=16 $cf -c -o "$n.o" "$R/plug.c" || ! $A64CC -O1 $flags -pthread -o "$n.ref" "$R/app.c" "$n.o"; then
			fail "$n-build" "$A64CC failed"
			continue
		fi
		check "$n-add-lib" "$SURGEON" add-lib "app-$k" "$n.o" -pthread -o "$n.new"
		[ -x "$n.new" ] && a64_same "$n-oracle" "./$n.ref" "./$n.new"
	done
done

if [ -x app-static ]; then
	$A64CC -O1 -c -o errno.o "$R/errno.c" && $A64CC -O1 -static -pthread -o errno.ref "$R/app.c" errno.o
	check errno-add-lib "$SURGEON" add-lib app-static errno.o -o errno.new
	[ -x errno.new ] && a64_same errno-oracle ./errno.ref ./errno.new
	check errno-values grep -qx 'errno: set directly, read through __errno_location: 33' "$T/.b.out"
fi

# A 32-byte aligned new variable would put the block 32 bytes past the
# thread pointer instead of 16: refused in one line, no output.
if [ -x app-pie ] && $A64CC -O1 -c -o plug32.o "$R/plug.c"; then
	run_capture a32 "$SURGEON" add-lib app-pie plug32.o -pthread -o a32.new
	check_eq align32-rc 1 "$(cat a32.rc)"
	check_eq align32-one-line 1 "$(wc -l <a32.err)"
	check align32-why grep -q "^surgeon: app-pie: the new thread-local variables need an alignment of 32: the program's block would start 32 bytes past the thread pointer instead of 16" a32.err
	check align32-no-output test ! -e a32.new
fi

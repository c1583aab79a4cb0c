# Thread-local storage: a plugin with thread-local variables of its own
# (initialised, zero, 32-byte aligned, static) that also uses the program's,
# from the main thread and from threads it creates, added to every kind of
# program and compared with the program and plugin linked from source. The
# program's own code keeps reaching its variables (the block grows in front
# of them). gdb reads an old and a new variable in a second thread.
. "$TOP/tests/lib.sh"
R=$TOP/tests/tls

KINDS=(
	"exec|gcc|-no-pie"
	"pie|gcc|"
	"static|gcc|-static"
	"spie|gcc|-static-pie"
	"musl|musl-gcc|-static"
)
for k in "${KINDS[@]}"; do
	IFS='|' read -r kind cc flags <<<"$k"
	command -v "$cc" >/dev/null || { echo "skip $kind: $cc is not installed"; continue; }
	# shellcheck disable=SC2086
	if ! $cc -O1 -g $flags -pthread -o "app-$kind" "$R/app.c" || ! $cc -O1 -g -c -o "plug-$kind.o" "$R/plug.c" ||
	   ! $cc -O1 $flags -pthread -o "ref-$kind" "$R/app.c" "plug-$kind.o"; then
		fail "$kind-build" "$cc failed"
		continue
	fi
	for ld in bfd lld; do
		n=$kind-$ld
		run_capture "$n" "$SURGEON" add-lib --ld $ld "app-$kind" "plug-$kind.o" -pthread -o "$n.new"
		check_eq "$n-add-lib" 0 "$(cat "$n.rc")"
		[ -x "$n.new" ] || continue
		same_run "$n-oracle" "./ref-$kind" "./$n.new"
		check "$n-verify" "$SURGEON" verify "app-$kind" "$n.new"
		# Independently of the oracle: the program's offsets still land on
		# its variables (a new thread's counter is 5 + 1000; main's 5 + 1
		# + 10), and each new thread starts from the templates (newv 77 + 5:
		# the constructor's increment was the main thread's).
		check_eq "$n-values" "thread 5: newv 82 newd 2.5 newz 0 hidden -3 counter 1005 zcount 0 label t5
app: counter 16 zcount 1 label plugged" "$("./$n.new" | grep -E '^(thread 5|app: counter)')"
	done
	# The new PT_TLS: the new variables first, the old block after them.
	if [ -x "$kind-bfd.new" ]; then
		old=$(readelf -lW "app-$kind" | awk '$1 == "TLS" { print $6 }')
		new=$(readelf -lW "$kind-bfd.new" | awk '$1 == "TLS" { print $6 }')
		check "$kind-tls-grew" test $((new)) -gt $((old))
	fi
done

# Every TLS model ld may see for the program's variables and the new ones:
# general dynamic (-fPIC; relaxed in an executable), initial exec, local
# exec; against the same plugin linked by gcc.
for k in pie static; do
	[ -x "app-$k" ] || continue
	flags=$([ $k = static ] && echo -static)
	for m in "gd|-fPIC" "ie|-ftls-model=initial-exec" "le|-ftls-model=local-exec"; do
		IFS='|' read -r model cf <<<"$m"
		n=$k-model-$model
		# shellcheck disable=SC2086
		if ! gcc -O1 $cf -c -o "$n.o" "$R/plug.c" || ! gcc -O1 $flags -pthread -o "$n.ref" "$R/app.c" "$n.o"; then
			fail "$n-build" "gcc failed"
			continue
		fi
		check "$n-add-lib" "$SURGEON" add-lib "app-$k" "$n.o" -pthread -o "$n.new"
		[ -x "$n.new" ] && same_run "$n-oracle" "./$n.ref" "./$n.new"
	done
done

# errno of a static glibc program, from new code, directly and through
# __errno_location: the same as when gcc links the plugin in.
if [ -x app-static ]; then
	gcc -O1 -c -o errno.o "$R/errno.c" && gcc -O1 -static -pthread -o errno.ref "$R/app.c" errno.o
	check errno-add-lib "$SURGEON" add-lib app-static errno.o -o errno.new
	[ -x errno.new ] && same_run errno-oracle ./errno.ref ./errno.new
	check errno-values grep -qx 'errno: set directly, read through __errno_location: 33' "$T/.b.out"
fi

# A damaged TLS header: one line that names the program, no output.
if [ -x app-static ]; then
	cp app-static bad-tls
	# p_align of PT_TLS (the 8 bytes at +48 of its entry) set to 3.
	off=$(readelf -lW bad-tls | awk '/^  [A-Z]/ && $1 != "Type" { n++ } $1 == "TLS" { print n - 1 }')
	phoff=$(od -An -j32 -N8 -tu8 bad-tls | tr -d ' ')
	printf '\003\000\000\000\000\000\000\000' | dd of=bad-tls bs=1 seek=$((phoff + off * 56 + 48)) conv=notrunc status=none
	run_capture badtls "$SURGEON" add-lib bad-tls plug-static.o -pthread -o bad-tls.new
	check_eq bad-tls-status 1 "$(cat badtls.rc)"
	check_eq bad-tls-one-line 1 "$(wc -l <badtls.err)"
	check bad-tls-names-it grep -q '^surgeon: bad-tls: ' badtls.err
	check bad-tls-no-output test ! -e bad-tls.new
fi

# gdb, through the debug info (the old variables' offsets in it moved with
# them): in the plugin's second thread, after it ran, the new variable and
# the program's two (its template "main", then "t5" written over it).
if command -v gdb >/dev/null && [ -x pie-bfd.new ]; then
	gdb -batch -ex 'break plugin_in_thread' -ex run -ex finish -ex 'print newv' -ex 'print counter' \
		-ex 'print label' ./pie-bfd.new >gdb.out 2>&1
	check_eq gdb-tls "\$1 = 82|\$2 = 1005|\$3 = \"t5\\000n\", '\\000' <repeats 11 times>" \
		"$(grep -E '^\$[0-9]+ = ' gdb.out | head -3 | tr '\n' '|' | sed 's/|$//')"
else
	echo "skip gdb-tls: gdb is not installed"
fi

# A linker that puts a static program's new IFUNC relocations where the
# constructor thunk cannot apply them (gold) is refused with the reason.
if [ -x /usr/bin/ld.gold ] && [ -x app-static ]; then
	run_capture gold "$SURGEON" add-lib --ld gold app-static plug-static.o -pthread -o gold.new
	if [ "$(cat gold.rc)" = 0 ]; then
		same_run gold-static-oracle ./ref-static ./gold.new
	else
		check gold-static-says-why grep -q "link with GNU ld or lld" gold.err
		check gold-static-no-output test ! -e gold.new
	fi
fi

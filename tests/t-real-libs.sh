# Real libraries: Debian's static libraries, with plugins built with gcc's
# default flags, added to the five kinds of program. The oracle for each
# case is the same plugin linked from source by gcc (musl-gcc for musl)
# into the same program, with the same library options: the two must print
# the same and exit alike. Every old byte of the program is verified, and
# every output passes eu-elflint as the program does. A case gcc itself
# cannot link is not a case: it is reported as a skip with gcc's reason.
. "$TOP/tests/lib.sh"

R=$TOP/tests/real-libs
MA=/usr/lib/x86_64-linux-gnu

# The program kinds: name, compiler, flags.
KINDS=(
	"exec|gcc|-no-pie"
	"pie|gcc|"
	"static|gcc|-static"
	"spie|gcc|-static-pie"
	"musl|musl-gcc|-static"
)

# The libraries: plugin, the archives under test (linked by name, -l:FILE,
# from a directory of links, so that the system's other libraries stay
# where each compiler looks for them), what else gcc needs to link them,
# and where their headers are.
LIBS=(
	"libc|||"
	"zlib|libz.a||"
	"sqlite3|libsqlite3.a|-lm|"
	"gmp|libgmp.a||"
	"expat|libexpat.a|-lm|"
	"yaml|libyaml.a||"
	"lzma|liblzma.a|-pthread|"
	"bz2|libbz2.a||"
	"png|libpng16.a libz.a|-lm|"
	"crypto|libcrypto.a|-pthread|"
	"pcre2|libpcre2-8.a||"
	"ffi|libffi.a||"
	"xml2|libxml2.a libicui18n.a libicuuc.a libicudata.a libz.a liblzma.a|-lstdc++ -lm|/usr/include/libxml2"
	"python|libpython3.11.a libexpat.a libz.a|-lm|/usr/include/python3.11"
)

mkdir -p libs
for k in "${KINDS[@]}"; do
	IFS='|' read -r kind cc flags <<<"$k"
	if ! command -v "$cc" >/dev/null; then
		echo "skip $kind: $cc is not installed"
		continue
	fi
	# shellcheck disable=SC2086
	$cc -O2 $flags -o "app-$kind" "$R/app.c" || fail "app-$kind" "$cc cannot build the program"
done

n_cases=0
for l in "${LIBS[@]}"; do
	IFS='|' read -r lib archives extra incdir <<<"$l"
	missing=
	links=()
	for a in $archives; do
		[ -f "$MA/$a" ] || missing="$missing $a"
		ln -sf "$MA/$a" "libs/$a"
		links+=("-l:$a")
	done
	if [ -n "$missing" ]; then
		fail "$lib" "not installed:$missing (make deps installs it)"
		continue
	fi
	for k in "${KINDS[@]}"; do
		IFS='|' read -r kind cc flags <<<"$k"
		name=$lib-$kind
		[ -x "app-$kind" ] || continue
		# The plugin as a user builds it: gcc's default flags. musl-gcc
		# sees the library's headers after its own C library's.
		inc=()
		if [ "$cc" = musl-gcc ]; then
			inc=(-idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu)
			[ -z "$incdir" ] || inc+=(-idirafter "$incdir")
		elif [ -n "$incdir" ]; then
			inc=(-I "$incdir")
		fi
		if ! $cc "${inc[@]}" -c -o "$name.o" "$R/$lib.c" 2>"$name.cc.err"; then
			echo "skip $name: $cc cannot compile the plugin: $(head -1 "$name.cc.err")"
			continue
		fi
		# shellcheck disable=SC2086
		if ! $cc -O2 $flags -o "$name.oracle" "$R/app.c" "$name.o" -L libs "${links[@]}" $extra 2>"$name.gcc.err"; then
			echo "skip $name: $cc cannot link it either: $(grep -m1 -E 'undefined|error' "$name.gcc.err")"
			continue
		fi
		n_cases=$((n_cases + 1))
		# shellcheck disable=SC2086
		if ! "$SURGEON" add-lib "app-$kind" "$name.o" -L libs "${links[@]}" $extra -o "$name.out" 2>"$name.err"; then
			fail "$name" "add-lib: $(tail -1 "$name.err")"
			continue
		fi
		same_run "$name" "./$name.oracle" "./$name.out" -x
		check "$name-verify" "$SURGEON" verify "app-$kind" "$name.out"
	done
done
echo "# $n_cases cases that gcc links"
[ "$n_cases" -ge 50 ] && ok "matrix-size" || fail "matrix-size" "only $n_cases cases: want 10 libraries x 5 kinds"

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
# C++: a C++ library (libstdc++ as g++ would pick it: the shared one in a
# dynamic program, a new DT_NEEDED when the program lacks it, libstdc++.a
# in a static one), into C programs and into C++ programs built by g++.
g++ -c -o cxx.o "$R/cxx.cc" || fail cxx-build "g++ cannot compile the plugin"
for k in "${KINDS[@]}"; do
	IFS='|' read -r kind cc flags <<<"$k"
	[ "$cc" = gcc ] && [ -f cxx.o ] || continue
	for lang in c cxx; do
		name=cxx-into-$lang-$kind
		if [ $lang = c ]; then app=app-$kind; else
			# shellcheck disable=SC2086
			g++ -O2 $flags -o "app-cxx-$kind" -x c++ "$R/app.c" || { fail "$name" "g++ cannot build the program"; continue; }
			app=app-cxx-$kind
		fi
		# shellcheck disable=SC2086
		if ! { if [ $lang = c ]; then gcc -O2 -c -o "$name-app.o" "$R/app.c"; else g++ -O2 -c -o "$name-app.o" -x c++ "$R/app.c"; fi &&
		       g++ -O2 $flags -o "$name.oracle" "$name-app.o" cxx.o; } 2>"$name.gcc.err"; then
			echo "skip $name: g++ cannot link it either: $(grep -m1 -E 'error' "$name.gcc.err")"
			continue
		fi
		n_cases=$((n_cases + 1))
		if ! "$SURGEON" add-lib "$app" cxx.o -o "$name.out" 2>"$name.err"; then
			fail "$name" "add-lib: $(tail -1 "$name.err")"
			continue
		fi
		same_run "$name" "./$name.oracle" "./$name.out" -x
		check "$name-verify" "$SURGEON" verify "$app" "$name.out"
		if [ "$kind" = pie ] && [ $lang = c ]; then
			check_eq cxx-new-needed "libstdc++.so.6" \
				"$(readelf -dW "$name.out" | sed -n 's/.*(NEEDED).*\[\(libstdc++[^]]*\)\]/\1/p')"
		fi
	done
done

# What gcc would have needed, said: a plugin calling log() without -lm.
cat >uselog.c <<'C'
#include <math.h>
#include <stdio.h>
extern void (*plugin_hook)(int argc, char **argv);
static void run(int argc, char **argv) { volatile double x = 2.0 + argc; printf("log %.6f\n", log(x)); }
__attribute__((constructor)) static void init(void) { plugin_hook = run; }
C
gcc -c uselog.c
for kind in exec pie static; do
	run_capture uselog-$kind "$SURGEON" add-lib "app-$kind" uselog.o -o "uselog-$kind.new"
	check_eq "missing-lm-$kind-status" 1 "$(cat uselog-$kind.rc)"
	check_eq "missing-lm-$kind-says" "surgeon: uselog.o: undefined symbol 'log': neither the program nor the added inputs define it; it is in libm: add -lm" \
		"$(cat uselog-$kind.err)"
	check "missing-lm-$kind-no-output" test ! -e "uselog-$kind.new"
	gcc -O2 $([ $kind = exec ] && echo -no-pie) $([ $kind = static ] && echo -static) -o "uselog-$kind.oracle" "$R/app.c" uselog.o -lm
	check "with-lm-$kind" "$SURGEON" add-lib "app-$kind" uselog.o -lm -o "uselog-$kind.out"
	same_run "with-lm-$kind-oracle" "./uselog-$kind.oracle" "./uselog-$kind.out"
done

# A musl program's -lm is musl's empty libm.a (its libc.a has log), found
# beside its libc.a as musl-gcc finds it, not glibc's.
if [ -x app-musl ] && musl-gcc -c -o uselog-musl.o uselog.c &&
   musl-gcc -O2 -static -o uselog-musl.oracle "$R/app.c" uselog-musl.o -lm; then
	check with-lm-musl "$SURGEON" add-lib app-musl uselog-musl.o -lm -o uselog-musl.out
	same_run with-lm-musl-oracle ./uselog-musl.oracle ./uselog-musl.out
fi

# A static program's C library: named with --libc; the wrong one (musl's
# for a glibc program) refused with the reason; a stripped program, whose
# C library surgeon cannot see, refused rather than given a second copy.
check libc-named "$SURGEON" add-lib app-static libc-static.o --libc "$MA/libc.a" -o libc-named.out
same_run libc-named-oracle ./libc-static.oracle ./libc-named.out -x
if [ -f /usr/lib/x86_64-linux-musl/libc.a ]; then
	run_capture wronglibc "$SURGEON" add-lib app-static libc-static.o --libc /usr/lib/x86_64-linux-musl/libc.a -o wrong.new
	check_eq wrong-libc-status 1 "$(cat wronglibc.rc)"
	check wrong-libc-says grep -q "is not the C library the program was built with" wronglibc.err
	check wrong-libc-no-output test ! -e wrong.new
fi
cp app-static app-static-stripped && strip app-static-stripped
run_capture stripped "$SURGEON" add-lib app-static-stripped libc-static.o -o stripped.new
check_eq stripped-static-status 1 "$(cat stripped.rc)"
check stripped-static-says grep -q "has no symbol table: surgeon cannot tell which parts of its C library" stripped.err
check stripped-static-no-output test ! -e stripped.new

echo "# $n_cases cases that gcc links"
[ "$n_cases" -ge 50 ] && ok "matrix-size" || fail "matrix-size" "only $n_cases cases: want 10 libraries x 5 kinds"

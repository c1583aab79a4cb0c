# aarch64 static musl programs, cross from x86-64 under qemu-user. Debian has
# no aarch64 musl cross toolchain, but musl-dev:arm64 has musl's crt files,
# libc.a, headers and musl-gcc's specs: fetched into a private root
# (a64_fetch), the specs' paths moved into it, aarch64-linux-gnu-gcc -specs
# builds as musl-gcc would. The oracle, as in t-arm64-oracle: the program and
# the plugin linked from source together behave exactly like surgeon add-lib
# of the program built alone and the plugin:
#  (a) plugin (a): old functions and data, a constructor, a destructor;
#  (b) plugin (b) and a libc plugin (malloc, realloc, strtod, strtol, errno,
#      strerror, snprintf): what the program lacks borrowed from musl's
#      libc.a, which is not where surgeon looks for it (/usr/lib/aarch64-
#      linux-musl: musl-dev:arm64 is not installed): refused in one line
#      naming --libc, then given with --libc; -lm finds musl's empty libm.a
#      beside it; glibc's libc.a given instead is refused;
#  (c) a plugin needing only libgcc (__int128 division): no libc.a needed;
#  (d) musl's thread-local storage: tests/tls's plugin, with threads;
#  (e) --replace and --wrap of the program's functions and of musl's getenv;
#  (f) a static-pie (rcrt1.o, as musl's own toolchains link it) with (a);
#  verify accepts every output; unexec + relink with nothing added gives the
#  program back byte for byte.
. "$TOP/tests/lib.sh"
. "$TOP/tests/arm64-lib.sh"
a64_need
if ! why=$(a64_fetch root musl-dev); then
	echo "skip t-arm64-musl: cannot download musl-dev:arm64: $why"
	exit 0
fi
M=$T/root/usr/lib/aarch64-linux-musl
LIBC=$M/libc.a
P=$TOP/tests/pie
# musl-gcc's specs, pointed at the root; static-pie as musl's own
# toolchains do it (Debian's specs make a dynamic PIE of -static-pie).
sed -e "s|/usr/|$T/root/usr/|g" \
    -e 's|%{!shared: \([^ ]*\)/Scrt1.o}|%{static-pie: \1/rcrt1.o; !shared: \1/Scrt1.o}|' \
    -e 's|%{static:-static}|%{static:-static} %{static-pie:-static -pie --no-dynamic-linker -z text}|' \
    "$M/musl-gcc.specs" >musl.specs
MCC=("$A64CC" -specs "$T/musl.specs")
check specs-static-pie grep -q 'rcrt1.o' musl.specs

cat >libcplug.c <<'C'
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
extern int counter;
extern void (*hook)(int);

static void my_hook(int x)
{
	char *s = malloc(64), *end, *t;
	double d = strtod("12.75e1xyz", &end);
	long l;

	errno = 0;
	l = strtol("99999999999999999999", NULL, 10);
	snprintf(s, 64, "%.3f|%s|%d", d * x, end, errno == ERANGE);
	t = realloc(s, 4096);
	strcat(t, "|grown");
	printf("libc: %s %ld %s\n", t, l, strerror(ENOENT));
	free(t);
	counter += (int)d;
}
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
cat >i128.c <<'C'
#include <stdio.h>
extern int counter;
extern void (*hook)(int);
__attribute__((noinline)) static __int128 big(int x) { return ((__int128)x << 80) + counter; }
static void my_hook(int x)
{
	volatile __int128 d = 1000003;
	__int128 q = big(x) / d, r = big(x) % d;

	printf("i128: %llu %llu\n", (unsigned long long)(q >> 64), (unsigned long long)r);
}
__attribute__((constructor)) static void init(void) { hook = my_hook; }
C
for p in "$P/plug_a.c" "$P/plug_b.c" libcplug.c i128.c; do
	n=$(basename "$p" .c)
	"${MCC[@]}" -O1 -c -o "$n.o" "$p" && $A64AR rcs "lib$n.a" "$n.o" || fail "$n-build" "cannot compile $p"
done

# pair NAME FLAGS APP-SOURCE PLUGIN-SOURCES ARCHIVES [-- ADD-LIB-OPTIONS]
pair() {
	local n=$1 flags=$2 src=$3 plugs=$4 libs=$5
	shift 5
	[ "${1:-}" = -- ] && shift
	# shellcheck disable=SC2086
	if ! "${MCC[@]}" -O1 -DNO_DLSYM $flags -o "$n-app" "$src" 2>"$n.cc.err" ||
	   ! "${MCC[@]}" -O1 -DNO_DLSYM $flags -o "$n-ref" "$src" $plugs 2>>"$n.cc.err"; then
		fail "$n-build" "$(head -2 "$n.cc.err" | tr '\n' ' ')"
		return
	fi
	# shellcheck disable=SC2086
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" $libs "$@" -o "$n-out"
	[ -x "$n-out" ] || return
	a64_same "$n-oracle" "./$n-ref" "./$n-out"
	a64_same "$n-oracle-args" "./$n-ref" "./$n-out" x y
	check "$n-verify" "$SURGEON" verify "$n-app" "$n-out"
}

pair a-static -static "$P/app.c" "$P/plug_a.c" libplug_a.a
check a-dtor-ran grep -q '^plug dtor counter=15' "$T/.b.out"
# The programs are musl's, independently of surgeon: musl's start code, no glibc.
if [ -x a-static-app ]; then
	check a-is-musl sh -c "aarch64-linux-gnu-nm a-static-app | grep -qw __init_libc"
	check a-not-glibc sh -c "! grep -q 'GNU C Library' a-static-app"
fi

# musl's libc.a is in the test's root only: the new code that needs it is
# refused with the way out, and nothing is written.
if [ -x a-static-app ]; then
	run_capture nolibc "$SURGEON" add-lib a-static-app libplug_b.a -lm -o nolibc.new
	check_eq nolibc-rc 1 "$(cat nolibc.rc)"
	check_eq nolibc-one-line 1 "$(wc -l <nolibc.err)"
	check nolibc-says grep -q "^surgeon: a-static-app: the added code needs .*'qsort'.*; the program's C library is musl, and /usr/lib/aarch64-linux-musl/libc.a is not there .*: name musl's libc.a with --libc FILE$" nolibc.err
	check nolibc-no-output test ! -e nolibc.new
	# glibc's libc.a is not the program's.
	run_capture glibc "$SURGEON" add-lib a-static-app libplug_b.a -lm --libc "$A64ROOT/lib/libc.a" -o glibc.new
	check_eq wrong-libc-rc 1 "$(cat glibc.rc)"
	check wrong-libc-says grep -q "is not the C library the program was built with" glibc.err
	check wrong-libc-no-output test ! -e glibc.new
fi
pair b-static -static "$P/app.c" "$P/plug_b.c -lm" libplug_b.a -- -lm --libc "$LIBC"
check b-sorted grep -q '^sorted 1 3 5 9 42$' "$T/.b.out"
pair libc-static -static "$P/app.c" libcplug.c liblibcplug.a -- --libc "$LIBC"
check_eq libc-values "libc: 5355.000|xyz|1|grown 9223372036854775807 No such file or directory" \
	"$(grep '^libc:' "$T/.b.out")"
# Without --libc: libgcc.a gives __divti3, musl's libc.a is not needed.
pair i128-static -static "$P/app.c" i128.c libi128.a

# musl's TLS (variant I, as glibc's on aarch64): old offsets kept, new
# variables from their templates in every thread.
R=$TOP/tests/tls
if "${MCC[@]}" -O1 -DTLS_ALIGN=16 -c -o tls.o "$R/plug.c"; then
	pair tls-static "-static -pthread" "$R/app.c" tls.o tls.o -- -pthread --libc "$LIBC"
	check_eq tls-values "thread 5: newv 82 newd 2.5 newz 0 hidden -3 counter 1005 zcount 0 label t5" \
		"$(grep '^thread 5' "$T/.b.out")"
	if [ -x tls-static-out ]; then
		old=$(readelf -lW tls-static-app | awk '$1 == "TLS" { print $6 }')
		new=$(readelf -lW tls-static-out | awk '$1 == "TLS" { print $6 }')
		check tls-grew test $((new)) -gt $((old))
	fi
else
	fail tls-build "cannot compile $R/plug.c"
fi

# --replace and --wrap: a program function, a wrapped one, and musl's getenv.
export PATCH_TEST_VAR=original
Q=$TOP/tests/patch
for l in fix wrap env; do "${MCC[@]}" -O1 -c -o "$l.o" "$Q/$l.c" && $A64AR rcs "lib$l.a" "$l.o" || fail "$l-build" "cannot compile $l.c"; done
if "${MCC[@]}" -O1 -static -o patch-app "$Q/app.c" &&
   "${MCC[@]}" -O1 -static -DFIXED -DWRAPPED -DENVFIX -o patch-ref "$Q/app.c" "$Q/wrap.c" "$Q/env.c"; then
	check patch-add-lib "$SURGEON" add-lib patch-app libfix.a libwrap.a libenv.a --replace sum_to=sum_fixed \
		--wrap twice --replace getenv=my_getenv --libc "$LIBC" -o patch-out
	if [ -x patch-out ]; then
		check_eq patch-buggy-before 3 "$(a64_run ./patch-app >/dev/null; echo $?)"
		a64_same patch-oracle ./patch-ref ./patch-out
		a64_same patch-oracle-args ./patch-ref ./patch-out 7
		run_capture pv "$SURGEON" verify -v patch-app patch-out
		check_eq patch-verify 0 "$(cat pv.rc)"
		check patch-verify-lists-wrap grep -q -- "^edit .* twice: --wrap twice" pv.out
	fi
else
	fail patch-build "cannot build tests/patch/app.c"
fi

pair spie-static -static-pie "$P/app.c" "$P/plug_a.c" libplug_a.a
[ -x spie-static-out ] && check_eq spie-is-dyn "DYN" "$(readelf -hW spie-static-out | awk '/Type:/ { print $2 }')"

# Nothing added: the program back, byte for byte.
for p in a-static spie-static; do
	[ -f "$p-app" ] || continue
	check "$p-unexec" "$SURGEON" unexec "$p-app" -o "$p.o"
	check "$p-relink-identical" sh -c "'$SURGEON' relink '$p.o' -o '$p.rt' && cmp '$p-app' '$p.rt'"
done

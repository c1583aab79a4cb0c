# What the injected code can use and what inject runs: library functions
# the program does not import (the process's libc, IFUNCs such as strlen
# resolved in the process), -lc (loaded: taken from the process), -lm
# (not loaded: its static archive is linked in), the program's variables,
# a constructor (run before the patch takes effect), a destructor (run by
# eject), --wrap of an import (its PLT stub), and a static program's own
# libc.a for what it lacks. info --pid records the inputs with their
# SHA-256 and the names the injection defines.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
cat >lib.c <<C
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
static long ready = 1000000;
__attribute__((constructor)) static void init(void) { ready = 0; }
__attribute__((destructor)) static void fini(void)
{
	int fd = open("$T/fini.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	write(fd, "fini ran\n", 9);
	close(fd);
}
long handler_libs(long x)
{
	static volatile char src[] = "1234567";
	char buf[32];

	for (int i = 0; i < 8; i++)
		buf[i] = src[i];

	/* strlen and memchr are IFUNCs in glibc; getppid is plain; cos from -lm. */
	return x * 3 + 993 + (long)strlen(buf) - (memchr(buf, '9', 7) != 0) + ready + (getppid() < 0) +
	       (long)cos(0.0) - 1;
}
long __real_strtol(const char *, char **, int);
long __wrap_strtol(const char *s, char **e, int b) { return __real_strtol(s, e, b) + 100; }
C
gcc -O2 -fPIC -c lib.c && ar rcs liblibs.a lib.o || { fail build "cannot build"; exit 0; }

for kind in pie static; do
	n=$kind
	lbuild $n $kind || { fail "$n-build" "cannot build"; continue; }
	start $n ./$n pipe
	rm -f fini.out
	run_capture $n.inj "$SURGEON" -v inject $pid liblibs.a -lc -lm --replace handler=handler_libs --wrap strtol
	check_eq "$n-inject" 0 "$(cat $n.inj.rc)"
	ask 5
	# strtol is wrapped (+100), handler replaced: 3x + 1000 with the constructor run.
	check_eq "$n-answers" "105 1315" "$reply"
	if [ $kind = pie ]; then
		grep -q "'memchr' is .*libc.so.6's, at 0x[0-9a-f]* (an IFUNC: resolved in the process)" $n.inj.err &&
			ok "$n-memchr-from-the-process" || fail "$n-memchr-from-the-process" "$(grep memchr $n.inj.err)"
		grep -q "'memchr' resolves to 0x" $n.inj.err && ok "$n-ifunc-resolved" || fail "$n-ifunc-resolved" "no resolution"
		grep -q "'getppid' is .*libc.so.6's" $n.inj.err && ok "$n-getppid-from-the-process" || fail "$n-getppid-from-the-process" "$(grep getppid $n.inj.err)"
		grep -q -- "-lc: the process has it loaded" $n.inj.err && ok "$n-lc-loaded" || fail "$n-lc-loaded" "not said"
	fi
	"$SURGEON" info --pid $pid >$n.info
	grep -q "^  input liblibs.a: $(stat -c %s liblibs.a) bytes, sha256 $(sha256sum liblibs.a | cut -d' ' -f1)$" $n.info &&
		ok "$n-info-input-digest" || fail "$n-info-input-digest" "$(grep input $n.info | head -1)"
	grep -q "^  input -lm$" $n.info && ok "$n-info-lib" || fail "$n-info-lib" "$(grep input $n.info)"
	grep -q "^  defines handler_libs at 0x" $n.info && ok "$n-info-defines" || fail "$n-info-defines" "$(grep defines $n.info)"
	grep -q "^  edit 0x[0-9a-f]*-0x[0-9a-f]*: --wrap strtol$" $n.info && ok "$n-info-edit" || fail "$n-info-edit" "$(grep edit $n.info)"
	check "$n-eject" "$SURGEON" eject $pid
	check_eq "$n-destructor-ran" "fini ran" "$(cat fini.out 2>/dev/null)"
	alive "$n-alive"
	check "$n-code-is-the-file-s" mem_equals_file $pid $n
	stop
done

# Two injections at once: the second goes elsewhere (add-lib's place is the
# first's); one that patches what another already did is refused; they are
# ejected by number, in any order.
libfix && lbuild multi exec || { fail multi-build "cannot build"; exit 0; }
printf 'long __real_strtol(const char *, char **, int);\nlong __wrap_strtol(const char *s, char **e, int b) { return __real_strtol(s, e, b) + 100; }\n' >w.c
gcc -O2 -c w.c
start m ./multi pipe
check multi-inject-1 "$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
check multi-inject-2 "$SURGEON" inject $pid w.o --wrap strtol
run_capture m.third "$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
check_eq multi-overlap-refused "1 surgeon: pid $pid: --replace handler=handler_fixed: injection 1 already changed the bytes at 0x$(nm multi | awk '$3 == "handler" { print $1 }' | sed 's/^0*//') (--replace handler=handler_fixed): eject it first" \
	"$(cat m.third.rc) $(cat m.third.err)"
check_eq multi-two "1 active 2 active" "$(injections $pid | awk '{ print $1, $5 }' | tr '\n' ' ' | sed 's/ $//')"
ask 5
check_eq multi-both-work "105 1315" "$reply"
check multi-eject-1 "$SURGEON" eject $pid 1
ask 5
check_eq multi-second-still-works "105 322" "$reply"
check multi-eject-2 "$SURGEON" eject $pid
alive multi-alive
check multi-code-is-the-file-s mem_equals_file $pid multi
stop

# Valgrind (memcheck) finds no error in a representative add-lib, unexec and
# relink of the normal build (the ASAN build cannot run under valgrind, so
# this test always uses build/surgeon).
. "$TOP/tests/lib.sh"
command -v valgrind >/dev/null || { fail valgrind "valgrind is not installed (make deps)"; exit 0; }
make -C "$TOP" --no-print-directory -s build/surgeon >build.log 2>&1 || { fail build "$(tail -3 build.log)"; exit 0; }
S=$TOP/build/surgeon
cat >app.c <<'C'
#include <stdio.h>
static int calls;
int total = 1;
int step(int x) { calls++; return total += x; }
int main(void) { for (int i = 0; i < 3; i++) step(i); printf("total=%d calls=%d\n", total, calls); return 0; }
C
cat >plug.c <<'C'
#include <stdio.h>
extern int total;
int step(int);
static int seen;
__attribute__((constructor)) static void init(void) { total = 100 + step(seen); }
__attribute__((destructor)) static void fini(void) { printf("plugin saw total=%d\n", total); }
C
gcc -no-pie -O1 -o app app.c && gcc -static -O1 -o app-static app.c &&
	gcc -O1 -c plug.c && ar rcs libplug.a plug.o && gcc -no-pie -O1 -o ref app.c plug.c ||
	{ fail setup "cannot build the test programs"; exit 0; }
vg() { valgrind -q --error-exitcode=99 --track-fds=no --log-file="$1.vg" "${@:2}"; }
# vg_check NAME CMD...: the command succeeds and valgrind reports nothing.
vg_check() {
	local n=$1; shift
	vg "$n" "$@" >"$n.out" 2>&1; local rc=$?
	if [ $rc = 99 ] || [ -s "$n.vg" ]; then fail "$n" "valgrind: $(grep -m3 -E '==[0-9]+== [A-Z]' "$n.vg" | tr '\n' ' ')"
	elif [ $rc != 0 ]; then fail "$n" "status $rc: $(tail -2 "$n.out" | tr '\n' ' ')"
	else ok "$n"; fi
}
vg_check valgrind-add-lib "$S" add-lib app libplug.a -o app2
same_run valgrind-add-lib-runs ./ref ./app2
vg_check valgrind-add-lib-static "$S" add-lib app-static libplug.a -o app-static2
vg_check valgrind-unexec "$S" unexec app -o app.o
vg_check valgrind-relink "$S" relink app.o libplug.a -o app3
same_run valgrind-relink-runs ./ref ./app3

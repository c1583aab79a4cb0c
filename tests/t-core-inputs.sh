# How inputs are named: an archive named as a file is added whole; -l/-L search
# it as ld does; -u SYM and --only pull only the members those symbols need.
# Each result behaves like gcc linking the program with exactly those members.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

core_build dyn 2>"$T/build.err" || { fail build "$(head -3 "$T/build.err" | tr '\n' ' ')"; exit 0; }
# Two members: plug.o (constructor installs the hook) and other.o, whose
# constructor prints a line of its own; other_fn is its entry point.
cat >other.c <<'C'
#include <stdio.h>
extern int counter;
int other_fn(int x) { return x + counter; }
__attribute__((constructor)) static void other_init(void) { printf("other: init %d\n", other_fn(1)); }
C
gcc -O1 -c -o other.o other.c && cp dyn/plug.o plug.o && ar rcs libboth.a plug.o other.o && mkdir -p L && cp libboth.a L/
gcc -O1 -no-pie -o ref-both "$CORE/app.c" plug.o other.o
gcc -O1 -no-pie -o ref-other "$CORE/app.c" other.o
gcc -O1 -no-pie -o ref-plug "$CORE/app.c" plug.o

check whole-add-lib "$SURGEON" add-lib dyn/app libboth.a -o out-whole
[ -x out-whole ] && same_run whole-oracle ./ref-both ./out-whole
check l-add-lib "$SURGEON" add-lib dyn/app -L L -l both -u other_fn -u plug_hook -o out-l
[ -x out-l ] && same_run l-oracle ./ref-both ./out-l
check u-add-lib "$SURGEON" add-lib dyn/app libboth.a -u other_fn -o out-u
[ -x out-u ] && same_run u-oracle ./ref-other ./out-u
check only-add-lib "$SURGEON" add-lib dyn/app libboth.a --only plug_hook -o out-only
[ -x out-only ] && same_run only-oracle ./ref-plug ./out-only
check only-two-add-lib "$SURGEON" add-lib dyn/app libboth.a --only plug_hook,other_fn -o out-only2
[ -x out-only2 ] && same_run only-two-oracle ./ref-both ./out-only2
# A plain object file is an input too.
check object-add-lib "$SURGEON" add-lib dyn/app plug.o -o out-obj
[ -x out-obj ] && same_run object-oracle ./ref-plug ./out-obj
# Only the member pulled in is in the output.
check u-no-plug-member sh -c "! nm out-u | grep -qw plug_hook"
check u-has-other sh -c "nm out-u | grep -qw other_fn"
# -l alone, as ld: nothing refers to the archive's members, so none is pulled
# and the output behaves like the program.
"$SURGEON" add-lib dyn/app -L L -l both -o out-l0 2>"$T/l0.err"
if [ -x out-l0 ]; then same_run l-alone-pulls-nothing dyn/app ./out-l0
else check_eq l-alone-refused 1 "$(grep -c '^surgeon: ' "$T/l0.err")"; fi

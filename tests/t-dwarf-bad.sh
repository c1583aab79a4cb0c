# DWARF that cannot be used: where the debug file is looked for (build-id
# tree, --debug-file), and what happens when it is corrupt, truncated, not
# ELF, or from another build: a warning, and surgery that needs no DWARF-only
# name still succeeds, checked against a gcc-linked reference.
. "$TOP/tests/lib.sh"

cat >app.c <<'C'
#include <stdio.h>
int total = 5;
static int secret = 40;
__attribute__((noinline)) static int helper(int x) { return x + secret; }
int bump(int x) { total += x; return helper(total); }
void (*hook)(void);
int main(int argc, char **argv) { secret += argc; printf("bump=%d\n", bump(2)); if (hook) hook(); return 0; }
C
cat >glob.c <<'C'
#include <stdio.h>
extern int total; extern void (*hook)(void); int bump(int);
static void h(void) { printf("hook bump=%d total=%d\n", bump(3), total); }
__attribute__((constructor)) static void init(void) { hook = h; }
C
cat >stat.c <<'C'
#include <stdio.h>
extern void (*hook)(void);
extern int helper(int) __asm__("\"app.c:helper\"");
static void h(void) { printf("helper=%d\n", helper(1)); }
__attribute__((constructor)) static void init(void) { hook = h; }
C
gcc -no-pie -O1 -g -o app app.c
gcc -no-pie -O1 -g -DOTHER -Dtotal=total2 -o other app.c	# another build-id
gcc -no-pie -O1 -o ref app.c glob.c
gcc -O1 -c glob.c && ar rcs libglob.a glob.o
gcc -O1 -c stat.c && ar rcs libstat.a stat.o
objcopy --only-keep-debug app app.debug
objcopy --only-keep-debug other other.debug
cp app nosym && strip -g -s nosym	# no .symtab, no debuglink
cp app symtab && strip -g symtab	# .symtab kept (but no STT_FILE), no debug info
# The reference for the static: app.c with its statics made global, and
# the same plugin calling helper by its plain name.
sed 's/__asm__.*;/;/' stat.c >statref.c
gcc -no-pie -O1 -Dstatic= -c app.c -o appref.o && gcc -no-pie -O1 -o refstat appref.o statref.c
id=$(readelf -n app 2>/dev/null | sed -n 's/.*Build ID: \([0-9a-f]*\).*/\1/p')

# Build-id tree: DEBUGDIR/.build-id/xx/rest.debug.
mkdir -p dbg/.build-id/${id:0:2}
cp app.debug dbg/.build-id/${id:0:2}/${id:2}.debug
run_capture bid env SURGEON_DEBUG_DIR=$T/dbg "$SURGEON" add-lib nosym libstat.a -o bid
check_eq build-id-lookup 0 "$(cat bid.rc)"
same_run build-id-oracle ./refstat ./bid
run_capture nobid env SURGEON_DEBUG_DIR=$T/none "$SURGEON" add-lib nosym libstat.a -o nobid
check no-debug-info-undefined grep -q "undefined symbol 'app.c:helper'" nobid.err

# --debug-file.
run_capture df "$SURGEON" add-lib nosym libstat.a --debug-file app.debug -o df
check_eq debug-file 0 "$(cat df.rc)"
same_run debug-file-oracle ./refstat ./df
check headers-debug-file sh -c "'$SURGEON' headers nosym --debug-file app.debug --static helper | grep -q 'app.c:helper'"

# Debug info that nothing needs is not read: the plugin has none and names
# only globals, so the program's DWARF sections stay byte for byte (ld would
# have rewritten them: no SHF_MERGE) and -v never mentions reading them.
run_capture nd "$SURGEON" -v add-lib app libglob.a -o nd
check_eq no-dwarf-succeeds 0 "$(cat nd.rc)"
check no-dwarf-not-read sh -c "! grep -q 'debug info from' nd.err"
for s in .debug_info .debug_str .debug_line; do
	objcopy -O binary --only-section=$s app app$s.bin && objcopy -O binary --only-section=$s nd nd$s.bin
	check no-dwarf-same$s cmp app$s.bin nd$s.bin
done
check_eq no-dwarf-same-str-flags "$(readelf -SW app | grep ' .debug_str ' | awk '{print $8}')" \
	"$(readelf -SW nd | grep ' .debug_str ' | awk '{print $8}')"
same_run no-dwarf-oracle ./ref ./nd

# A debug file from another build: warning, ignored.
run_capture mm "$SURGEON" add-lib symtab libglob.a --debug-file other.debug -o mm
check_eq mismatch-succeeds 0 "$(cat mm.rc)"
check mismatch-warns grep -q "build-id .* does not match" mm.err
same_run mismatch-oracle ./ref ./mm
run_capture mms "$SURGEON" add-lib nosym libstat.a --debug-file other.debug -o mms
check_eq mismatch-static-fails 1 "$(cat mms.rc)"
check mismatch-static-undefined grep -q "undefined symbol 'app.c:helper'" mms.err
run_capture mmh "$SURGEON" headers nosym --debug-file other.debug
check_eq mismatch-headers-fails 1 "$(cat mmh.rc)"

# Corrupt debug files: a warning, never a crash.
corrupt() {	# corrupt SRC DST SECTION: every byte of SECTION becomes 0xff
	local line off size
	line=$(readelf -SW "$1" 2>/dev/null | grep " $3 ")
	off=$(echo "${line#*]}" | awk '{print $4}'); size=$(echo "${line#*]}" | awk '{print $5}')
	cp "$1" "$2"
	head -c $((0x$size)) /dev/zero | tr '\0' '\377' | dd of="$2" bs=1 seek=$((0x$off)) conv=notrunc status=none
}
corrupt app.debug bad-info.debug .debug_info
corrupt app.debug bad-abbrev.debug .debug_abbrev
corrupt app.debug bad-line.debug .debug_line
head -c 3000 app.debug >trunc.debug
echo "not an ELF file" >junk.debug
for d in bad-info bad-abbrev bad-line trunc junk; do
	run_capture c-$d "$SURGEON" add-lib symtab libglob.a --debug-file $d.debug -o c-$d
	check_eq corrupt-$d-succeeds 0 "$(cat c-$d.rc)"
	check corrupt-$d-warns grep -q "warning" c-$d.err
	same_run corrupt-$d-oracle ./ref ./c-$d
done
run_capture cs "$SURGEON" add-lib nosym libstat.a --debug-file bad-info.debug -o cs
check_eq corrupt-static-fails 1 "$(cat cs.rc)"
check corrupt-static-undefined grep -q "undefined symbol 'app.c:helper'" cs.err

# .gnu_debuglink with a wrong CRC: warning, ignored.
cp nosym crc && cp other.debug app.debug.x && objcopy --add-gnu-debuglink=app.debug crc
cp app.debug.x app.debug	# same name, other contents after the link was made
run_capture crc "$SURGEON" add-lib crc libstat.a -o crc2
check crc-warns grep -q "CRC" crc.err
check_eq crc-static-fails 1 "$(cat crc.rc)"

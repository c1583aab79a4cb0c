# Bad input: one line on stderr starting with "surgeon: " and naming the file,
# exit status 1 (2 for usage errors), no output file, no leftover temporary
# ".OUT.*" in the output directory, and the input unchanged.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

core_build dyn 2>"$T/build.err" || { fail build "$(head -3 "$T/build.err" | tr '\n' ' ')"; exit 0; }
APP=dyn/app LIB=dyn/libplug.a

# bad NAME STATUS WORDS FILE -- SURGEON-ARGS...: runs surgeon with the output
# going to a fresh directory od-NAME/out; WORDS (|-separated) must each appear in
# the one line of stderr; FILE must be unchanged. Usage errors (status 2) may
# add the hint line "Try 'surgeon --help'." (cli/cli.h: usage_error).
bad() {
	local n=$1 want=$2 words=$3 file=$4 before after w line
	shift 5
	mkdir -p "od-$n"
	before=$(sha256sum "$file" 2>/dev/null | cut -d' ' -f1)
	"$SURGEON" "$@" >"$T/$n.out" 2>"$T/$n.err"
	echo $? >"$T/$n.rc"
	after=$(sha256sum "$file" 2>/dev/null | cut -d' ' -f1)
	check_eq "$n-status" "$want" "$(cat "$T/$n.rc")"
	line=$(head -1 "$T/$n.err")
	[ "$want" = 2 ] && sed -i "2{/^Try 'surgeon --help'\.\$/d}" "$T/$n.err"
	if [ "$(wc -l <"$T/$n.err")" != 1 ]; then
		fail "$n-message" "want one line on stderr, got $(wc -l <"$T/$n.err"): $(head -4 "$T/$n.err" | tr '\n' '|')"
	elif [ "${line#surgeon: }" = "$line" ]; then
		fail "$n-message" "does not start with 'surgeon: ': $line"
	else
		local missing=
		IFS='|' read -ra ws <<<"$words"
		for w in "${ws[@]}"; do
			case $line in *"$w"*) ;; *) missing="$missing '$w'" ;; esac
		done
		if [ -n "$missing" ]; then fail "$n-message" "does not name$missing: $line"; else ok "$n-message"; fi
	fi
	check_eq "$n-stdout-empty" "" "$(cat "$T/$n.out")"
	check_eq "$n-no-output" "" "$(ls -A "od-$n")"
	check_eq "$n-input-unchanged" "$before" "$after"
}

# Crafted programs. patch FILE OFFSET BYTES...: writes bytes (hex) at OFFSET.
patch() {
	local f=$1 off=$2; shift 2
	printf "$(printf '\\x%s' "$@")" | dd of="$f" bs=1 seek=$((off)) conv=notrunc status=none
}
echo 'this is not an ELF file' >text.txt
: >empty
head -c 100 $APP >truncated
cp $APP class32 && patch class32 4 01
cp $APP machine40 && patch machine40 18 28 00
cp $APP core && patch core 16 04 00
cp dyn/plug.o reloc.o
mkdir adir
# A PT_LOAD whose bytes run past the end of the file, and two PT_LOADs that
# overlap (the second moved onto the first page of the first, keeping
# offset = address modulo the alignment).
cat >craft.py <<'PY'
import struct, sys
path, what = sys.argv[1:3]
b = bytearray(open(path, 'rb').read())
phoff, = struct.unpack_from('<Q', b, 32)
phentsize, phnum = struct.unpack_from('<HH', b, 54)
loads = []
for i in range(phnum):
    o = phoff + i * phentsize
    typ, flags, off, va, pa, fsz, msz, align = struct.unpack_from('<IIQQQQQQ', b, o)
    if typ == 1:
        loads.append((o, off, va, fsz, msz, align))
if what == 'past-end':
    o, off, va, fsz, msz, align = loads[-1]
    struct.pack_into('<QQ', b, o + 32, len(b) * 2, len(b) * 2 + msz)
elif what == 'overlap':
    o0, off0, va0, fsz0, msz0, al0 = loads[0]
    o1, off1, va1, fsz1, msz1, al1 = loads[1]
    nva = (va0 & ~(al1 - 1)) + (off1 & (al1 - 1))
    assert va0 <= nva < va0 + msz0
    struct.pack_into('<QQ', b, o1 + 16, nva, nva)
open(path, 'wb').write(b)
PY
cp $APP past-end && python3 craft.py past-end past-end
cp $APP overlap && python3 craft.py overlap overlap
check craft-past-end-readelf sh -c "readelf -lW past-end | grep -q LOAD"
check craft-overlap-differs sh -c "! cmp -s $APP overlap"

bad not-elf 1 "text.txt" text.txt -- add-lib text.txt $LIB -o od-not-elf/out
bad empty 1 "empty" empty -- add-lib empty $LIB -o od-empty/out
bad truncated 1 "truncated" truncated -- add-lib truncated $LIB -o od-truncated/out
bad class32 1 "class32" class32 -- add-lib class32 $LIB -o od-class32/out
bad machine 1 "machine40" machine40 -- add-lib machine40 $LIB -o od-machine/out
bad relocatable 1 "reloc.o" reloc.o -- add-lib reloc.o $LIB -o od-relocatable/out
bad core 1 "core" core -- add-lib core $LIB -o od-core/out
bad shared 1 "libc.so.6" /lib/x86_64-linux-gnu/libc.so.6 -- add-lib /lib/x86_64-linux-gnu/libc.so.6 $LIB -o od-shared/out
bad past-end 1 "past-end" past-end -- add-lib past-end $LIB -o od-past-end/out
bad overlap 1 "overlap" overlap -- add-lib overlap $LIB -o od-overlap/out
bad missing 1 "no-such-file" /dev/null -- add-lib no-such-file $LIB -o od-missing/out
bad directory 1 "adir" adir/. -- add-lib adir $LIB -o od-directory/out
# The same checks through unexec, which writes APP.o and APP.ld.
bad unexec-not-elf 1 "text.txt" text.txt -- unexec text.txt -o od-unexec-not-elf/out
bad unexec-overlap 1 "overlap" overlap -- unexec overlap -o od-unexec-overlap/out
bad unexec-shared 1 "libc.so.6" /lib/x86_64-linux-gnu/libc.so.6 -- unexec /lib/x86_64-linux-gnu/libc.so.6 -o od-unexec-shared/out
# PIE input is supported (t-pie.sh); it is no longer refused here.
# relink of something that is not a frozen object.
bad relink-not-frozen 1 "reloc.o" reloc.o -- relink reloc.o -o od-relink-not-frozen/out
bad relink-program 1 "app" $APP -- relink $APP -o od-relink-program/out

# Usage errors: status 2.
bad usage-no-args 2 "add-lib" $APP -- add-lib
bad usage-no-lib 2 "add-lib" $APP -- add-lib $APP -o od-usage-no-lib/out
bad usage-o-needs-arg 2 "-o|argument" $APP -- add-lib $APP $LIB -o
bad usage-unknown-option 2 "--bogus" $APP -- add-lib --bogus $APP $LIB -o od-usage-unknown-option/out
bad usage-relink-no-output 2 "-o" $APP -- relink app.o
bad usage-unknown-verb 2 "frobnicate" $APP -- frobnicate $APP

# A plugin calling a function nobody defines: the error names the symbol and
# the archive member.
mkdir -p u && cat >u/plug.c <<'C'
int nowhere_defined(int);
int add(int);
int calls_nowhere(int x) { return nowhere_defined(add(x)); }
C
(cd u && gcc -O1 -c plug.c && ar rcs libplug.a plug.o)
bad undefined 1 "nowhere_defined|libplug.a(plug.o)" u/libplug.a -- add-lib $APP u/libplug.a -o od-undefined/out
bad undefined-app-unchanged 1 "nowhere_defined" $APP -- add-lib $APP u/libplug.a -o od-undefined-app-unchanged/out
# A plugin defining what the program already defines: a function and a variable.
mkdir -p d && cat >d/plug.c <<'C'
int add(int a) { return a; }
C
cat >d/plug2.c <<'C'
int counter = 3;
C
(cd d && gcc -O1 -c plug.c plug2.c && ar rcs libplug.a plug.o && ar rcs libplug2.a plug2.o)
bad duplicate-function 1 "'add'|d/libplug.a(plug.o)" d/libplug.a -- add-lib $APP d/libplug.a -o od-duplicate-function/out
bad duplicate-variable 1 "'counter'|d/libplug2.a(plug2.o)" d/libplug2.a -- add-lib $APP d/libplug2.a -o od-duplicate-variable/out
# A library that is missing.
bad missing-lib 1 "nolib.a" $APP -- add-lib $APP nolib.a -o od-missing-lib/out
# An output directory that does not exist: nothing is created, the message names it.
bad output-dir-missing 1 "no-such-dir" $APP -- add-lib $APP $LIB -o no-such-dir/out
check output-dir-not-created test ! -e no-such-dir

# surgeon_dump_self(): the program writes a dump of itself (libsurgeon),
# statically linked (glibc, musl) and as a shared library found by pkg-config.
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"
B=$TOP/$BUILD
if [ ! -e "$B/libsurgeon.a" ] || [ ! -e "$B/libsurgeon.so" ] || [ ! -e "$B/surgeon.pc" ]; then
	fail libsurgeon-built "run make first"; exit 0
fi
ok libsurgeon-built
pc=$(PKG_CONFIG_PATH=$B pkg-config --cflags --libs surgeon 2>&1)
check_eq pkg-config "-I$TOP/include -L$B -lsurgeon -Wl,-rpath,$B" "$(echo $pc)"
only=$(nm -g --defined-only "$B/libsurgeon.a" | awk 'NF == 3 {print $3}' | sort | tr '\n' ' ')
check_eq archive-exports-only-the-api "surgeon_dump_self " "$only"

check build-sg build sg sg -DSELF -I"$TOP/include" "$B/libsurgeon.a"
check build-sm build sm sm -DSELF -I"$TOP/include" "$B/libsurgeon.a"
check build-dg build dg dg -DSELF $pc
check build-ms build ms ms -DSELF -I"$TOP/include" "$B/libsurgeon.a"
# A program built the plainest way: gcc's default on Debian is a PIE.
check build-dp gcc -O2 -DSELF -o dp "$APP_SRC" $pc
check_eq dp-is-pie DYN "$(elf_type dp)"
for v in sg sm dg dp ms; do
	./$v self $v.dump >$v.out 2>$v.err; rc=$?
	check_eq "$v-dump-self" 0 $rc
	"./$v" full >$v.ref 2>/dev/null
	if cmp -s $v.ref $v.out; then ok "$v-caller-goes-on"; else fail "$v-caller-goes-on" "output differs"; fi
	check_dump "$v" ./$v ./$v.dump norand
done
# The dumped PIE is a fixed-address program where the caller ran: its table
# and the list it points at are where the caller saw them.
check_eq dp-dump-fixed EXEC "$(elf_type dp.dump)"
check_eq dp-dump-addresses "$(sed -n 's/^at //p' dp.err)" "$(norand ./dp.dump addr 2>/dev/null | cut -d' ' -f1,2)"

# Failure: -1, errno set, nothing left behind.
./sg self nodir/x.dump >/dev/null 2>fail.err; rc=$?
check_eq self-fails 3 $rc
if grep -q '^surgeon_dump_self: No such file or directory' fail.err; then ok self-errno; else fail self-errno "$(tail -1 fail.err)"; fi
mkdir ro && ./sg self ro/ >/dev/null 2>&1; check_eq self-bad-path 3 $?
check_eq self-nothing-left "" "$(ls -A ro)"

# make install puts the library, header and pkg-config file under PREFIX.
if make -s -C "$TOP" install-lib PREFIX="$T/prefix" BUILD="$BUILD" >install.log 2>&1; then
	ok install
	ipc=$(PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig pkg-config --cflags --libs --static surgeon)
	check_eq installed-pkg-config "-I$T/prefix/include -L$T/prefix/lib -lsurgeon" "$(echo $ipc)"
	check installed-static-build gcc -static -no-pie -O1 -DSELF -DNOBIG -o inst "$APP_SRC" $ipc
else
	fail install "$(tail -2 install.log | tr '\n' ' ')"
fi

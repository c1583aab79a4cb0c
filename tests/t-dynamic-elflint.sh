# eu-elflint --gnu and readelf -a find nothing new wrong in the outputs of
# add-lib on dynamic programs: PIE, ET_EXEC, static-pie, each hash style,
# versioned exports, COPY relocations, -z now. Each output's report is
# compared with its input's own report (messages with the section numbers
# taken out, since sections are inserted); the output may only repeat what
# the input already had (gcc's static-pie has an __ehdr_start that elflint
# calls out of bounds, for example).
# One message is expected and allowed: elflint reports the surgery note
#   section [N] '.note.surgeon': unknown object file note type 21330 with owner name 'surgeon'
# because .note.surgeon (SHT_NOTE, not loaded) is surgeon's own record of the
# surgery (inputs with their SHA-256, exports, edits of old bytes), a note
# type elflint cannot know; it is not part of the loaded image.
. "$TOP/tests/lib.sh"
P=$TOP/tests/pie
CF="-O1"

gcc $CF -c -o plug_a.o "$P/plug_a.c" && ar rcs liba.a plug_a.o &&
gcc $CF -c -o plug_b.o "$P/plug_b.c" && ar rcs libb.a plug_b.o &&
gcc $CF -c -o plug_x.o "$P/plug_x.c" && ar rcs libx.a plug_x.o &&
gcc $CF -c -o plug_copy.o "$P/plug_copy.c" && ar rcs libcopy.a plug_copy.o || fail plugins-build "gcc failed"
printf 'APP_1.0 { global: add; mul; counter; local: *; };\n' >vs.map

# kase NAME SRC LIB "GCCFLAGS" [SURGEON ARGS...]
kase() {
	local n=$1 src=$2 lib=$3 fl=$4; shift 4
	if ! gcc $CF $fl -o "$n-app" "$src"; then fail "$n-build" "gcc failed"; return; fi
	check "$n-add-lib" "$SURGEON" add-lib "$n-app" "$lib" "$@" -o "$n-out"
	[ -x "$n-out" ] || return
	norm() { sed -e 's/section \[ *[0-9]*\]/section [N]/g; s/\[ *[0-9]*\]:/[N]:/g; s/symbol [0-9]* /symbol N /; s/relocation [0-9]*:/relocation N:/; s/at offset [0-9]*/at offset N/' | sort -u; }
	eu-elflint --gnu "$n-app" 2>&1 | grep -v '^No errors$' | norm >"$n.lint-in"
	eu-elflint --gnu "$n-out" 2>&1 | grep -v '^No errors$' | norm |
		grep -v "^section \[N\] '.note.surgeon': unknown object file note type 21330 with owner name 'surgeon' at offset N$" >"$n.lint-out"
	check_eq "$n-elflint" "" "$(comm -13 "$n.lint-in" "$n.lint-out" | head -3 | tr '\n' ';')"
	readelf -a -W "$n-app" 2>&1 >/dev/null | norm >"$n.warn-in"
	readelf -a -W "$n-out" 2>&1 >/dev/null | norm >"$n.warn-out"
	check_eq "$n-readelf-warnings" "" "$(comm -13 "$n.warn-in" "$n.warn-out" | head -3 | tr '\n' ';')"
	# The note is really there (the allowance above is not for nothing else).
	check "$n-has-surgery-note" grep -q '\.note\.surgeon' <(readelf -SW "$n-out" 2>/dev/null)
}
kase pie-a "$P/app.c" liba.a ""
kase pie-b "$P/app.c" libb.a "" -lm
kase exec-b "$P/app.c" libb.a "-no-pie" -lm
kase static-pie "$P/app.c" liba.a "-static-pie -DNO_DLSYM"
for h in gnu sysv both; do
	kase exports-$h "$P/exports.c" libx.a "-rdynamic -Wl,--hash-style=$h"
done
kase verdef "$P/exports.c" libx.a "-Wl,--version-script=vs.map -Wl,--export-dynamic"
kase copy "$P/copyrel.c" libcopy.a "-no-pie"
kase now "$P/app.c" liba.a "-Wl,-z,relro,-z,now"

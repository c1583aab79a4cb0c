# Tools still see the output: readelf lists the old and the new sections,
# objdump disassembles old and new functions, eu-elflint finds no error the
# program itself doesn't have, gdb stops in old and new functions and unwinds
# through both.
. "$TOP/tests/lib.sh"
. "$TOP/tests/core/core.sh"

# sec_of FILE ADDR: the name of the allocated section holding ADDR (hex, no 0x).
sec_of() { secs "$1" | awk -v a=$((0x$2)) '$4 ~ /A/ && a >= $2 && a < $2 + $3 { print $1; exit }'; }
# sym FILE NAME: the address (hex) of NAME in .symtab or .dynsym.
sym() { { nm "$1"; nm -D "$1"; } 2>/dev/null | awk -v n="$2" '$3 == n { print $1; exit }'; }
# lint FILE: eu-elflint's complaints with section numbers taken out. One is
# explained and expected: elflint knows note owners GNU, Go, FDO..., so it
# calls the surgery record in .note.surgeon (owner "surgeon") an unknown type.
lint() { eu-elflint --gnu "$1" 2>&1 | sed -E 's/section \[ *[0-9]+\]/section [N]/g; s/symbol [0-9]+/symbol N/g' |
	grep -v '^No errors$' | grep -v "^section \[N\] '.note.surgeon': unknown object file note type 21330 with owner name 'surgeon'" | sort -u; }

for k in $CORE_KINDS; do
	if ! core_build "$k" 2>"$T/$k.err"; then fail "$k-build" "$(head -3 "$T/$k.err" | tr '\n' ' ')"; continue; fi
	check "$k-add-lib" "$SURGEON" add-lib "$k/app" "$k/libplug.a" -o "$k/out"
	[ -f "$k/out" ] || continue
	secs "$k/out" >"$T/$k.secs"
	old_end=$(secs "$k/app" | awk '$4 ~ /A/ && $2 + $3 > m { m = $2 + $3 } END { printf "%d", m }')
	check "$k-readelf-old-text" grep -q "^\\.text $((0x$(readelf_sec "$k/app" .text | awk '{ print $1 }'))) " "$T/$k.secs"
	check "$k-readelf-old-data" grep -q '^\.data ' "$T/$k.secs"
	# Every old section is still listed, at its address.
	secs "$k/app" | awk '$4 ~ /A/ { print $1, $2, $3 }' >"$T/$k.oldsecs"
	# The dynamic tables a dynamic program's new ones replace stay at their
	# addresses under their old names with ".old" in front (docs/design.md).
	awk '{ n = $1; if (n ~ /^\.old\./) n = substr(n, 5); print n, $2, $3 }' "$T/$k.secs" >"$T/$k.outsecs"
	check "$k-readelf-old-sections-kept" sh -c "grep -vxFf '$T/$k.outsecs' '$T/$k.oldsecs' | { ! grep .; }"
	# New allocated sections after the old image: code and data.
	check "$k-readelf-new-code" sh -c "awk -v e=$old_end '\$4 ~ /AX/ && \$2 >= e' '$T/$k.secs' | grep -q ."
	check "$k-readelf-new-data" sh -c "awk -v e=$old_end '\$4 ~ /WA/ && \$2 >= e' '$T/$k.secs' | grep -q ."

	case $k in static-stripped | musl-stripped) newf=splug_say newd=splug_value ;; *) newf=plug_hook newd=p_counter ;; esac
	a=$(sym "$k/out" "$newf")
	if [ -n "$a" ]; then
		s=$(sec_of "$k/out" "$a")
		check "$k-new-function-in-new-section" test -n "$s" -a $((0x$a)) -ge "$old_end"
		a=$(sym "$k/out" "$newd")
		check "$k-new-data-in-new-section" test -n "$a" -a "$(sec_of "$k/out" "${a:-0}")" = .data -a $((0x${a:-0})) -ge "$old_end"
	else
		fail "$k-new-symbols" "nm finds no $newf in the output"
	fi

	objdump -d "$k/out" >"$T/$k.dis" 2>"$T/$k.dis.err"
	check_eq "$k-objdump-ok" "" "$(cat "$T/$k.dis.err")"
	if ! core_stripped "$k" || [ "$k" = dyn-stripped ]; then
		# dyn-stripped keeps main and add in .dynsym (-rdynamic); objdump
		# shows them as main@@Base.
		check "$k-objdump-old-main" grep -Eq '^[0-9a-f]* <main(@@Base)?>:' "$T/$k.dis"
		# The disassembly of main is the program's.
		# Names from .dynsym carry objdump's "@@Base"; the output's .symtab
		# names them plainly.
		objdump -d "$k/app" | awk '/^[0-9a-f]* <main(@@Base)?>:/ { p = 1 } p && /^$/ { exit } p' | sed -E 's/@@Base([+>])/\1/g' >"$T/$k.main.app"
		awk '/^[0-9a-f]* <main(@@Base)?>:/ { p = 1 } p && /^$/ { exit } p' "$T/$k.dis" | sed -E 's/@@Base([+>])/\1/g' >"$T/$k.main.out"
		check "$k-objdump-main-same" cmp "$T/$k.main.app" "$T/$k.main.out"
	fi
	check "$k-objdump-new-function" grep -q "^[0-9a-f]* <$newf>:" "$T/$k.dis"
	# plug_hook calls the old add; splug_say makes a write system call.
	awk "/^[0-9a-f]* <$newf>:/ { p = 1 } p && /^\$/ { exit } p" "$T/$k.dis" >"$T/$k.newf"
	case $newf in
	plug_hook) check "$k-objdump-new-calls-old" grep -Eq "call +$(printf %x $((0x$(sym "$k/app" add)))) <add(@@Base)?>" "$T/$k.newf" ;;
	*) check "$k-objdump-new-syscall" grep -q 'syscall' "$T/$k.newf" ;;
	esac

	lint "$k/app" >"$T/$k.lint.app"; lint "$k/out" >"$T/$k.lint.out"
	check "$k-elflint-no-new-errors" sh -c "comm -13 '$T/$k.lint.app' '$T/$k.lint.out' | { ! grep .; }"
done

# gdb stops in an old function and in a new one, and unwinds through both.
gdbrun() { timeout 60 gdb -batch -nx -iex 'set debuginfod enabled off' "$@" 2>&1; }
for k in dyn static musl dyn-stripped; do
	[ -x "$k/out" ] || continue
	# Control: gdb finds add in the program itself.
	gdbrun -ex 'break add' -ex run -ex bt "$k/app" >"$T/$k.gdb0"
	check "$k-gdb-app-control" grep -q '^Breakpoint 1, .* in add ()' "$T/$k.gdb0"
	gdbrun -ex 'break add' -ex run -ex bt -ex continue -ex bt "$k/out" >"$T/$k.gdb"
	check "$k-gdb-old-stop" grep -q '^Breakpoint 1, .* in add ()' "$T/$k.gdb"
	check "$k-gdb-old-bt" grep -q '^#1 .* in main ()' "$T/$k.gdb"
	# The second call of add comes from the plugin's hook.
	check "$k-gdb-bt-through-new" sh -c "grep -A3 '^#0 .* in add ()' '$T/$k.gdb' | tail -n +4 | tr '\n' ' ' | grep -q 'in plug_hook ().*in main ()'"
	gdbrun -ex 'break plug_hook' -ex run -ex bt -ex 'info symbol $pc' "$k/out" >"$T/$k.gdb2"
	check "$k-gdb-new-stop" grep -q '^Breakpoint 1, .* in plug_hook ()' "$T/$k.gdb2"
	check "$k-gdb-new-bt" grep -q '^#1 .* in main ()' "$T/$k.gdb2"
done

# Bash completion (completion/surgeon) run through Debian's bash-completion:
# commands, each command's options (compared with its --help, read here by
# other means), --ld's values, files filtered by kind (ELF executables for
# APP, archives/objects/shared libraries for inputs, .o for relink, .ld for
# -T), and bash-completion's loader finding it where it looks.
. "$TOP/tests/lib.sh"
BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || { fail bash-completion "$BC is missing (make deps installs bash-completion)"; exit 0; }

# A directory of every kind of file.
mkdir -p files/sub && cd files || exit 1
printf 'int main(void) { return 0; }\n' >m.c && printf 'int f(void) { return 1; }\n' >f.c
gcc -o prog m.c && gcc -c -o x.o f.c && ar rcs libx.a x.o && gcc -shared -fPIC -o libx.so f.c &&
	cp libx.so libx.so.1 && cp prog noexec && chmod -x noexec || { fail build "cannot build the files"; exit 0; }
printf '#!/bin/sh\n' >script.sh && chmod +x script.sh
echo text >notes.txt && echo 'SECTIONS { }' >app.ld

# comp WORD...: what completing the last word offers, sorted, one line.
cat >"$T/comp.sh" <<'SH'
. /usr/share/bash-completion/bash_completion
. "$TOP/completion/surgeon"
comp() {
	COMP_WORDS=("$SURGEON" "$@"); COMP_CWORD=$#; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_surgeon surgeon "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}
comp "$@"
SH
comp() { bash "$T/comp.sh" "$@" 2>"$T/comp.err"; }

# Commands: those surgeon --help lists.
want=$("$SURGEON" --help | python3 -c '
import sys
lines = sys.stdin.read().split("Commands:\n")[1].split("\n\n")[0].splitlines()
print(" ".join(sorted({l.split()[0] for l in lines if l.startswith("  ") and not l.startswith("   ")})))')
check_eq commands "$want" "$(comp '')"
check_eq commands-prefix "relink" "$(comp rel)"

# Options: a command's --help options and the shared ones, as --help lists
# them (a regular expression here, not the completion's awk).
helpopts() { "$SURGEON" "$@" --help | grep -E '^ {2,7}-' | sed -E 's/^ +//; s/  .*//' | grep -oE '(^|[ ,])--?[A-Za-z][-A-Za-z]*=?' | tr -d ' ,' ; }
for c in add-lib unexec relink headers verify info disasm inject eject; do
	want=$( { helpopts "$c"; helpopts; } | sort -u | tr '\n' ' ' | sed 's/ $//')
	got=$( { comp "$c" -; echo; comp "$c" --; } | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//')
	check_eq "options-$c" "$want" "$got"
done
check_eq options-before-command "$(helpopts | sort -u | tr '\n' ' ' | sed 's/ $//')" "$(comp -)"

# --ld: the linkers add-lib's help names, and paths.
check_eq ld-values "bfd gold ld lld" "$(comp add-lib prog --ld '')"
for l in bfd gold lld; do
	check "ld-value-$l-in-help" grep -Eq -- "--ld LINKER .*\\b$l\\b" <("$SURGEON" add-lib --help)
done
check_eq ld-path "/usr/bin/ld.bfd /usr/bin/ld.gold" "$(comp relink app.o --ld /usr/bin/ld. | tr ' ' '\n' | grep -E 'ld\.(bfd|gold)$' | tr '\n' ' ' | sed 's/ $//')"
check_eq export-values "all none" "$(comp add-lib --export=)"

# Files by kind: the only executable here, as file(1) sees them, is prog.
check_eq elf-is-prog "prog" "$(for f in *; do [ -f "$f" ] && [ -x "$f" ] && file -b "$f" | grep -q '^ELF.* executable' && echo "$f"; done | tr '\n' ' ' | sed 's/ $//')"
check_eq add-lib-app "prog sub" "$(comp add-lib '')"
check_eq add-lib-app-after-options "prog sub" "$(comp add-lib -o out --ld lld '')"
check_eq add-lib-inputs "libx.a libx.so libx.so.1 sub x.o" "$(comp add-lib prog '')"
check_eq add-lib-more-inputs "libx.a libx.so libx.so.1 sub x.o" "$(comp add-lib prog libx.a -l m '')"
check_eq relink-object "sub x.o" "$(comp relink '')"
check_eq relink-script "app.ld sub" "$(comp relink x.o -T '')"
check_eq relink-inputs "libx.a libx.so libx.so.1 sub x.o" "$(comp relink x.o -T app.ld '')"
check_eq unexec-app "prog sub" "$(comp unexec '')"
check_eq verify-orig "prog sub" "$(comp verify '')"
check_eq verify-new "prog sub" "$(comp verify prog '')"
check_eq info-map-new "prog sub" "$(comp info --map prog '')"
check_eq disasm-file "prog sub" "$(comp disasm --bytes '')"
check_eq output-any-file "app.ld f.c libx.a libx.so libx.so.1 m.c noexec notes.txt prog script.sh sub x.o" "$(comp add-lib prog libx.a -o '')"
check_eq debug-file-any "app.ld f.c libx.a libx.so libx.so.1 m.c noexec notes.txt prog script.sh sub x.o" "$(comp headers prog --debug-file '')"
check pid "grep" -qw "$$" <(echo "$(comp unexec --pid '')")
check inject-pid "grep" -qw "$$" <(echo "$(comp inject '')")
check eject-pid "grep" -qw "$$" <(echo "$(comp eject '')")
check info-pid "grep" -qw "$$" <(echo "$(comp info --pid '')")
check_eq inject-inputs "libx.a libx.so libx.so.1 sub x.o" "$(comp inject $$ '')"
check_eq no-errors "" "$(cat "$T/comp.err")"

# bash-completion loads it on demand from <dir>/bash-completion/completions,
# for each dir of XDG_DATA_DIRS: Debian's is /usr/share.
check_eq completionsdir /usr/share/bash-completion/completions "$(pkg-config --variable=completionsdir bash-completion)"
mkdir -p "$T/share/bash-completion/completions" && cp "$TOP/completion/surgeon" "$T/share/bash-completion/completions/surgeon"
check_eq loader "complete -F _surgeon surgeon" \
	"$(XDG_DATA_DIRS=$T/share bash -c ". $BC; __load_completion surgeon; complete -p surgeon" 2>&1)"

# Real programs through scripts/corpus: add-lib of a probe library, then the
# original and the output run with --version alike and the probe's
# constructor runs. A fixed list of programs of a Debian machine, in C,
# C++, Python's interpreter, Haskell, Ada, Pascal, Java's launcher, Go
# (docker, where installed), plus programs built
# here in every language whose compiler is installed. Programs missing on
# this machine are skipped; known limitations (KNOWN below) are skips that
# name the limitation, until surgeon handles them.
. "$TOP/tests/lib.sh"
SYSTEM=(
	/usr/bin/node /usr/bin/python3.11 /usr/bin/shellcheck
	/usr/bin/x86_64-linux-gnu-gcc-12 /usr/bin/x86_64-linux-gnu-g++-12 /usr/bin/x86_64-linux-gnu-cpp-12
	/usr/bin/x86_64-linux-gnu-gfortran-12
	/usr/bin/x86_64-linux-gnu-gnatmake-12 /usr/bin/x86_64-linux-gnu-gnatls-12
	/usr/bin/x86_64-linux-gnu-gnatbind-12 /usr/bin/x86_64-linux-gnu-gnatclean-12
	/usr/lib/llvm-14/bin/llvm-readobj /usr/lib/llvm-14/bin/yaml2obj /usr/lib/llvm-14/bin/llvm-tblgen
	/usr/bin/ppudump-3.2.2 /usr/bin/rstconv-3.2.2
	/usr/bin/ls /usr/bin/grep
	/usr/bin/java		# a symbolic link into the JDK; RPATH $ORIGIN/../lib finds libjli.so
	/usr/bin/fpcmake-3.2.2	# prints its own path
	/usr/bin/ssh		# answers --version with status 255
	/usr/bin/rbash		# bash, restricted when it is called rbash
	/usr/local/bin/docker	# Go, static, no .init_array: the entry thunk
)
# Program -> the limitation its failure shows (a substring of the reason).
declare -A KNOWN=(
	[ppudump-3.2.2]="no .init_array slot"	# Free Pascal programs have no .init_array
	[rstconv-3.2.2]="no .init_array slot"
	[lang-pascal]="no .init_array slot"
)
progs=()
for p in "${SYSTEM[@]}"; do
	if [ -x "$p" ]; then progs+=("$p"); else echo "skip corpus-$(basename "$p"): not installed"; fi
done
# build LANG COMPILER SOURCE-FILE CONTENT COMMAND...: one program per language.
build() {
	local lang=$1 cc=$2 src=$3 text=$4; shift 4
	if ! command -v "$cc" >/dev/null; then echo "skip corpus-lang-$lang: $cc is not installed"; return; fi
	mkdir -p "$lang" && printf '%s\n' "$text" >"$lang/$src"
	if (cd "$lang" && "$@") >"$lang.log" 2>&1 && [ -x "$lang/lang-$lang" ]; then progs+=("$T/$lang/lang-$lang")
	else fail "corpus-lang-$lang" "cannot build: $(tail -2 "$lang.log" | tr '\n' ' ')"; fi
}
C='#include <stdio.h>
int main(int c, char **v) { printf("hello %s\n", c > 1 ? v[1] : ""); return 0; }'
build c gcc m.c "$C" gcc -no-pie -O1 -o lang-c m.c
build c-static gcc m.c "$C" gcc -static -O1 -o lang-c-static m.c
build c-musl musl-gcc m.c "$C" musl-gcc -static -O1 -o lang-c-musl m.c
build cxx g++ m.cc '#include <iostream>
#include <stdexcept>
int main() { try { throw std::runtime_error("hello c++"); } catch (const std::exception &e) { std::cout << e.what() << "\n"; } }' \
	g++ -no-pie -O1 -o lang-cxx m.cc
build fortran gfortran m.f90 "program m
  print *, 'hello fortran'
end program m" gfortran -no-pie -O1 -o lang-fortran m.f90
build ada gnatmake lang_ada.adb 'with Ada.Text_IO; procedure Lang_Ada is begin Ada.Text_IO.Put_Line ("hello ada"); end Lang_Ada;' \
	sh -c 'gnatmake -q lang_ada.adb -largs -no-pie && mv lang_ada lang-ada'
build pascal fpc m.pas "program m; begin writeln('hello pascal'); end." sh -c 'fpc -v0 m.pas && mv m lang-pascal'
build rust rustc m.rs 'fn main() { println!("hello rust"); }' rustc -O -C relocation-model=static -o lang-rust m.rs

[ ${#progs[@]} -ge 20 ] || fail corpus-size "only ${#progs[@]} programs available, want at least 20"
SURGEON=$SURGEON "$TOP/scripts/corpus" "${progs[@]}" >corpus.out 2>&1
grep -E '^# ' corpus.out
while read -r kind name rest; do
	case $kind in
	ok|skip) echo "$kind $name $rest" ;;
	FAIL)
		p=${name#corpus-}; p=${p%:}
		if [ -n "${KNOWN[$p]:-}" ] && grep -qF "${KNOWN[$p]}" <<<"$rest"; then
			echo "skip ${name%:}: known limitation: $rest"
		else
			echo "FAIL $name $rest"
		fi ;;
	esac
done < <(grep -E '^(ok|FAIL|skip) ' corpus.out)
tail -1 corpus.out | grep -qE '^[0-9]+ passed' || fail corpus-script "scripts/corpus did not finish: $(tail -2 corpus.out | tr '\n' ' ')"

# --real: Debian's static zlib through stdio instead of the probe, into a
# dynamic program that imports zlib from libz.so.1 itself (python), C++,
# and static glibc and musl programs.
real=()
for p in /usr/bin/ls /usr/bin/python3.11 "$T/c/lang-c" "$T/c-static/lang-c-static" "$T/c-musl/lang-c-musl" "$T/cxx/lang-cxx"; do
	[ -x "$p" ] && real+=("$p")
done
SURGEON=$SURGEON "$TOP/scripts/corpus" --real "${real[@]}" >real.out 2>&1
grep -E '^(ok|FAIL|skip) ' real.out | sed 's/ corpus-/ real-corpus-/'
tail -1 real.out | grep -qE '^[0-9]+ passed' || fail real-corpus-script "scripts/corpus --real did not finish: $(tail -2 real.out | tr '\n' ' ')"

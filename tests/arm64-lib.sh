# Helpers for the aarch64 tests (tests/t-arm64-*.sh), after tests/lib.sh:
# the cross compiler and qemu-user, found or reported as skips.
#   A64CC       aarch64-linux-gnu-gcc
#   a64_need    exits the script with a skip line when the tools are missing
#   a64_run     runs an aarch64 program: under qemu-aarch64 with Debian's
#               cross libraries as its root (binfmt is not needed), or
#               directly on an aarch64 machine
#   a64_same    NAME REF OUT [ARGS...]: same stdout and exit status under qemu
A64CC=aarch64-linux-gnu-gcc
A64AR=aarch64-linux-gnu-ar
A64ROOT=/usr/aarch64-linux-gnu
A64NATIVE=$([ "$(uname -m)" = aarch64 ] && echo 1 || echo 0)
a64_need() {
	local missing=
	command -v "$A64CC" >/dev/null || missing="$missing $A64CC (gcc-aarch64-linux-gnu)"
	if [ "$A64NATIVE" = 0 ]; then
		[ -e "$A64ROOT/lib/libc.so.6" ] || missing="$missing $A64ROOT/lib (libc6-dev-arm64-cross)"
		command -v qemu-aarch64 >/dev/null || missing="$missing qemu-aarch64 (qemu-user)"
	fi
	if [ -n "$missing" ]; then
		echo "skip $(basename "$0" .sh): the aarch64 suite needs$missing: make deps installs them"
		exit 0
	fi
}
#   A64_LIBPATH: a LD_LIBRARY_PATH for the aarch64 program only
a64_run() {
	if [ "$A64NATIVE" = 1 ]; then LD_LIBRARY_PATH=${A64_LIBPATH:-${LD_LIBRARY_PATH:-}} "$@"
	elif [ -n "${A64_LIBPATH:-}" ]; then qemu-aarch64 -L "$A64ROOT" -E LD_LIBRARY_PATH="$A64_LIBPATH" "$@"
	else qemu-aarch64 -L "$A64ROOT" "$@"; fi
}
a64_same() {
	local n=$1 a=$2 b=$3; shift 3
	run_capture "$T/.a" a64_run "$a" "$@"; run_capture "$T/.b" a64_run "$b" "$@"
	if ! cmp -s "$T/.a.out" "$T/.b.out"; then fail "$n" "stdout differs: $(diff "$T/.a.out" "$T/.b.out" | head -5 | tr '\n' ' ')"
	elif [ "$(cat "$T/.a.rc")" != "$(cat "$T/.b.rc")" ]; then fail "$n" "exit status $(cat "$T/.a.rc") vs $(cat "$T/.b.rc")"
	elif [ ! -s "$T/.a.out" ]; then fail "$n" "the reference printed nothing: $(head -2 "$T/.a.err" | tr '\n' ' ')"
	else ok "$n"; fi
}
#   a64_fetch ROOT PKG...: downloads arm64 Debian packages with apt-get
#               download into a private apt state shared by the tests of one
#               run ($TESTOUT/.arm64-debs: the machine's own apt
#               configuration gains no architecture) and unpacks each with
#               dpkg -x into ROOT. Prints why and returns 1 when a package
#               cannot be had (no network, not in the archive).
a64_fetch() {
	local root=$1 cache=$TESTOUT/.arm64-debs p d missing=()
	shift
	local apt=(-o Dir::State="$cache/state" -o Dir::Cache="$cache/cache" -o Dir::State::status="$cache/state/status"
		-o APT::Architecture=arm64 -o APT::Architectures::=arm64 -q)
	mkdir -p "$cache/state/lists/partial" "$cache/cache/archives/partial" "$root"
	touch "$cache/state/status"
	for p in "$@"; do
		ls "$cache/${p%%:*}"_*_arm64.deb >/dev/null 2>&1 || missing+=("${p%%:*}:arm64")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if ! ls "$cache"/state/lists/*_Packages* >/dev/null 2>&1 &&
		   ! (cd "$cache" && timeout 300 apt-get "${apt[@]}" update >update.log 2>&1); then
			echo "apt-get update failed: $(tail -1 "$cache/update.log")"; return 1
		fi
		if ! (cd "$cache" && timeout 300 apt-get "${apt[@]}" download "${missing[@]}" >download.log 2>&1); then
			echo "apt-get download ${missing[*]} failed: $(tail -1 "$cache/download.log")"; return 1
		fi
	fi
	for p in "$@"; do
		d=$(ls "$cache/${p%%:*}"_*_arm64.deb 2>/dev/null | head -1)
		[ -n "$d" ] || { echo "no ${p%%:*}_*_arm64.deb after the download"; return 1; }
		dpkg -x "$d" "$root" || { echo "dpkg -x $d failed"; return 1; }
	done
}
#   a64_build_surgeon: surgeon built for aarch64 (make CROSS=aarch64-linux-gnu-
#               SYSROOT=...) against Debian's arm64 -dev packages, fetched
#               into A64_DEVROOT; the objects stay in A64_BUILD between the
#               tests and runs that use it. Status 1 and why on stdout when
#               the packages cannot be had; 2 when the build fails
#               (build.log in the current directory).
A64_DEVROOT=$TESTOUT/.arm64-native-root
A64_BUILD=$TESTOUT/.arm64-native-build
a64_build_surgeon() {
	local l
	a64_fetch "$A64_DEVROOT" libelf-dev libelf1 libdw-dev libdw1 libdwarf-dev libdwarf1 libcapstone-dev \
		libcapstone4 libssl-dev libssl3 zlib1g-dev zlib1g liblzma-dev liblzma5 libbz2-1.0 libzstd1 || return 1
	# Debian's development links may be absolute (libz.so -> /lib/...):
	# inside the root they must point into it.
	find "$A64_DEVROOT" -type l -lname '/*' | while read -r l; do
		ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$A64_DEVROOT$(readlink "$l")")" "$l"
	done
	# -O1: the build is most of its time. ASAN=0: the ASAN suite exports
	# ASAN=1, and there is no arm64 libasan run under qemu.
	(cd "$TOP" && CFLAGS=-O1 make -s -j2 DEPS=0 ASAN=0 CROSS=aarch64-linux-gnu- SYSROOT="$A64_DEVROOT" \
		BUILD="$A64_BUILD" "$A64_BUILD/surgeon") >build.log 2>&1 || return 2
}

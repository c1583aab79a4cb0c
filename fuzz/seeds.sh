#!/bin/sh
# Builds the seed corpus for the fuzz targets in DIR: small executables of
# each kind surgeon reads (dynamic glibc, static musl, stripped, without
# section headers) and the frozen objects `surgeon unexec` writes of them.
#   fuzz/seeds.sh SURGEON DIR
set -eu
surgeon=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") dir=$2
top=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir"; mkdir -p "$dir"
cd "$dir"
cat >seed.c <<'C'
#include <stdio.h>
static int counter = 1;
int shared = 2;
__attribute__((constructor)) static void up(void) { counter++; }
int main(void) { printf("%d %d\n", counter, shared); return 0; }
C
gcc -no-pie -O1 -o dyn seed.c
gcc -no-pie -O1 -s -o dyn-stripped seed.c
gcc -pie -fPIE -O1 -o pie seed.c	# the undump of a PIE rebases it
if command -v musl-gcc >/dev/null; then
	musl-gcc -static -Os -o musl seed.c
	musl-gcc -static -Os -s -o musl-stripped seed.c
fi
# Without section headers: only the program headers say what is loaded.
cp dyn dyn-noshdr
printf '\0\0\0\0\0\0\0\0' | dd of=dyn-noshdr bs=1 seek=40 conv=notrunc status=none
printf '\0\0\0\0\0\0' | dd of=dyn-noshdr bs=1 seek=58 conv=notrunc status=none
for f in dyn musl; do
	[ -f $f ] && "$surgeon" unexec $f -o $f.o >/dev/null && rm -f $f.ld
done
rm -f seed.c
cp "$top"/tests/hostile/regress/* . 2>/dev/null || true

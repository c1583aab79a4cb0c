# unexec --pid of PIEs linked every way the tools allow: each becomes a
# fixed-address program at its load address whose dynamic loader binds the
# libraries again but leaves the relocated data as the process left it.
# The program checks what a wrong rebasing would break: a RELATIVE slot it
# overwrote at start-up (reset, it would say "initial"), RELATIVE slots it
# kept, its exported symbols through dlsym (.dynsym values), an IFUNC
# (IRELATIVE addend), TLS initial values (PT_TLS), lazy and immediate
# binding, DT_RELR. Oracles: a full run of the same program, readelf,
# and ld.so's own statistics (LD_DEBUG=statistics).
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"

cat >pv.c <<'C'
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__thread int tls_counter = 42;
int exported_value = 7;
int exported_fn(int x) { return x * 3; }
static int impl_a(void) { return 11; }
static int (*resolve_f(void))(void) { return impl_a; }
int ifn(void) __attribute__((ifunc("resolve_f")));
static int data[1000];
static int *ptrs[10];
static const char *msg = "initial";
static const char *const names[] = { "alpha", "beta" };
static int (*fp)(int) = exported_fn;
static int initialized;

int main(int argc, char **argv)
{
	int ran = 0;
	if (!initialized) {
		for (int i = 0; i < 1000; i++) data[i] = i * i;
		for (int i = 0; i < 10; i++) ptrs[i] = &data[i * 100];
		char *m = malloc(32); strcpy(m, "set at start-up"); msg = m;
		initialized = ran = 1;
		if (argc > 1 && !strcmp(argv[1], "stop")) { fflush(NULL); raise(SIGSTOP); }
	}
	int (*f)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "exported_fn");
	int *v = dlsym(RTLD_DEFAULT, "exported_value");
	long sum = 0;
	for (int i = 0; i < 10; i++) sum += *ptrs[i];
	fprintf(stderr, "init ran: %s\n", ran ? "yes" : "no");
	printf("sum %ld msg %s names %s %s fp %d dlsym %d %d ifunc %d tls %d\n", sum, msg, names[0], names[1],
	       fp(5), f ? f(2) : -1, v ? *v : -1, ifn(), tls_counter);
	return 0;
}
C

variant() {
	local n=$1; shift
	if ! gcc -O1 -pie -fPIE -rdynamic "$@" -o $n pv.c 2>$n.build; then
		echo "skip $n: gcc $* cannot link: $(head -1 $n.build)"; return
	fi
	check_eq "$n-is-pie" DYN "$(elf_type $n)"
	./$n stop >/dev/null 2>&1 &
	local pid=$!
	wait_state $pid T || { fail "$n-stopped" "the program did not stop"; kill -9 $pid; return; }
	check "$n-unexec" "$SURGEON" unexec --pid $pid -o $n.o
	kill -9 $pid; wait $pid 2>/dev/null
	check "$n-relink" "$SURGEON" relink $n.o -o $n.dump
	./$n >$n.ref 2>/dev/null
	run_capture $n.d ./$n.dump
	check_eq "$n-runs" 0 "$(cat $n.d.rc)"
	check_eq "$n-no-reinit" "init ran: no" "$(cat $n.d.err)"
	check "$n-same-output" cmp $n.ref $n.d.out
	check_eq "$n-fixed-address" EXEC "$(elf_type $n.dump)"
	check_eq "$n-not-flagged-pie" 0 "$(readelf -d $n.dump | grep -c 'FLAGS_1.*PIE')"
	check_eq "$n-no-relative-relocs" 0 "$(readelf -rW $n.dump | grep -c R_X86_64_RELATIVE)"
	check_eq "$n-no-relr" 0 "$(readelf -d $n.dump | grep -c '(RELR')"
	check_eq "$n-ld.so-applies-no-relative" "number of relative relocations: 0" \
		"$(LD_DEBUG=statistics ./$n.dump 2>&1 >/dev/null | grep -o 'number of relative relocations: [0-9]*' | head -1)"
	LD_BIND_NOW=1 ./$n.dump >$n.now 2>/dev/null
	check "$n-bound-at-start" cmp $n.ref $n.now
}

variant bfd
variant now -Wl,-z,now
variant relr -Wl,-z,pack-relative-relocs
check_eq relr-has-relr 1 "$(readelf -d relr | grep -c '(RELR)')"
variant lld -fuse-ld=lld
variant gold -fuse-ld=gold
# The original's statistics count its RELATIVE relocations: the oracle above would see them.
check_eq bfd-original-applies-relative "$(readelf -rW bfd | grep -c R_X86_64_RELATIVE)" \
	"$(LD_DEBUG=statistics ./bfd 2>&1 >/dev/null | sed -n 's/.*number of relative relocations: \([0-9]*\).*/\1/p' | head -1)"

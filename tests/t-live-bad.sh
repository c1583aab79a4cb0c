# inject and eject on what they cannot work on: a process that does not
# exist, another user's, a zombie, a kernel thread, a process whose program
# is not an ELF file, inputs that do not link or name what the program
# lacks, a constructor that crashes, and usage errors. Each gets one line and status 1 (2 for usage),
# and a target is left as it was.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
libfix && lbuild srv exec || { fail build "cannot build"; exit 0; }

# bad NAME STATUS PATTERN CMD...: CMD exits with STATUS, printing one line
# that matches PATTERN (grep -E) on stderr and nothing on stdout.
bad() {
	local n=$1 st=$2 pat=$3; shift 3
	run_capture "$n" "$@"
	check_eq "$n-status" "$st" "$(cat $n.rc)"
	if [ "$st" = 2 ]; then
		head -1 $n.err | grep -Eq "$pat" && ok "$n-message" || fail "$n-message" "$(cat $n.err | tr '\n' ' ')"
	elif [ "$(wc -l <$n.err)" = 1 ] && grep -Eq "$pat" $n.err && [ ! -s $n.out ]; then
		ok "$n-one-line"
	else
		fail "$n-one-line" "$(cat $n.err $n.out | tr '\n' ' ')"
	fi
}

start s ./srv pipe
cp /proc/$pid/maps s.maps.before

# No such process: one that has just exited.
sh -c 'exit 0' & gone=$!; wait $gone
bad no-such-process 1 "^surgeon: pid $gone: no such process$" "$SURGEON" inject $gone libfix.a --replace handler=handler_fixed
bad no-such-process-eject 1 "^surgeon: pid $gone: no such process$" "$SURGEON" eject $gone
bad no-such-process-info 1 "^surgeon: pid $gone: no such process$" "$SURGEON" info --pid $gone
bad not-a-pid 1 "^surgeon: 'x12' is not a process id$" "$SURGEON" inject x12 libfix.a

# Another user's: surgeon as nobody against this (root's) server, or,
# when the tests do not run as root, against init.
if [ "$(id -u)" = 0 ]; then
	bad other-user 1 "^surgeon: pid $pid: not permitted to trace it: it runs as uid 0 and surgeon as uid 65534 \(ptrace needs the same user, or CAP_SYS_PTRACE\)$" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$SURGEON" inject $pid "$T/libfix.a" --replace handler=handler_fixed
	bad other-user-eject 1 "^surgeon: pid $pid: not permitted to trace it" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$SURGEON" eject $pid
else
	bad other-user 1 "^surgeon: pid 1: not permitted to trace it" "$SURGEON" inject 1 libfix.a
fi

# A zombie: a child that its parent (a sleep) never collects.
bash -c 'sleep 0.01 & exec sleep 30' & parent=$!
zombie=
for _ in $(seq 1 300); do
	zombie=$(cat /proc/$parent/task/$parent/children 2>/dev/null | tr -d ' ')
	[ -n "$zombie" ] && grep -q '^State:.*Z' /proc/$zombie/status 2>/dev/null && break
	sleep 0.01
done
bad zombie 1 "^surgeon: pid $zombie: is a zombie: it has exited, and its parent has not collected it$" \
	"$SURGEON" inject "$zombie" libfix.a
kill $parent; wait $parent 2>/dev/null

# Traced by a debugger already.
if command -v gdb >/dev/null; then
	gdb -p $pid -batch -nx -ex "shell sleep 3" >/dev/null 2>&1 & gpid=$!
	for _ in $(seq 1 500); do [ "$(awk '/^TracerPid:/ { print $2 }' /proc/$pid/status)" != 0 ] && break; sleep 0.01; done
	tracer=$(awk '/^TracerPid:/ { print $2 }' /proc/$pid/status)
	bad traced 1 "^surgeon: pid $pid: is already traced by pid $tracer \(a debugger\?\); detach it first$" \
		"$SURGEON" inject $pid libfix.a --replace handler=handler_fixed
	wait $gpid
fi

# A kernel thread: no program.
bad kernel-thread 1 "^surgeon: pid 2: has no program \(a kernel thread\?\)$|^surgeon: pid 2: no such process$" "$SURGEON" inject 2 libfix.a

# A process whose program is not ELF: it moves its own code to anonymous
# memory and points /proc/self/exe at a text file (PR_SET_MM_MAP, allowed to
# the root of a user namespace of its own).
cat >notelf.c <<'C'
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char exe[4096], line[4608], path[4096], stat[4096];
	unsigned long a, b;
	char perms[8];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = fopen("/proc/self/maps", "r");
	static unsigned long lo[16], hi[16];
	static int prot[16];
	int k = 0, fd;
	struct prctl_mm_map m = { 0 };
	unsigned long v[52] = { 0 };
	char *p;

	if (n < 0 || !f)
		return 1;
	exe[n] = 0;
	while (fgets(line, sizeof(line), f) && k < 16)
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095s", &a, &b, perms, path) == 4 && !strcmp(path, exe)) {
			lo[k] = a, hi[k] = b;
			prot[k++] = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
				    (perms[2] == 'x' ? PROT_EXEC : 0);
		}
	fclose(f);
	for (int i = 0; i < k; i++) {
		void *t = mmap(NULL, hi[i] - lo[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memcpy(t, (void *)lo[i], hi[i] - lo[i]);
		mprotect(t, hi[i] - lo[i], prot[i]);
		if (mremap(t, hi[i] - lo[i], hi[i] - lo[i], MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo[i]) == MAP_FAILED)
			return 2;
	}
	f = fopen("/proc/self/stat", "r");
	if (!f || !fgets(stat, sizeof(stat), f))
		return 4;
	p = strrchr(stat, ')') + 2;	/* field 3 */
	for (int i = 3; i < 52 && p && *p; i++) {
		v[i] = strtoul(p, NULL, 10);
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	fd = open(argv[1], O_RDONLY);
	m.start_code = v[26], m.end_code = v[27], m.start_stack = v[28];
	m.start_data = v[45], m.end_data = v[46], m.start_brk = v[47];
	m.arg_start = v[48], m.arg_end = v[49], m.env_start = v[50], m.env_end = v[51];
	m.brk = (unsigned long)sbrk(0);
	m.exe_fd = fd;
	if (fd < 0 || prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof(m), 0)) {
		perror("prctl");
		return 3;
	}
	fprintf(stderr, "ready\n");
	pause();
	return 0;
}
C
printf '#!/bin/sh\necho not an ELF file\n' >notelf.txt; chmod +x notelf.txt
if gcc -O1 -static -o notelf notelf.c; then
	unshare -U -r ./notelf "$T/notelf.txt" 2>notelf.err & npid=$!
	for _ in $(seq 1 300); do grep -q ready notelf.err 2>/dev/null && break; kill -0 $npid 2>/dev/null || break; sleep 0.01; done
	if grep -q ready notelf.err; then
		bad not-elf 1 "^surgeon: pid $npid: its program $T/notelf.txt is not an ELF file$" "$SURGEON" inject $npid libfix.a
		kill -0 $npid && ok not-elf-runs-on || fail not-elf-runs-on "it died"
	else
		echo "skip not-elf: cannot point /proc/self/exe at a text file here (no user namespaces?): $(tail -1 notelf.err)"
	fi
	kill $npid 2>/dev/null; wait $npid 2>/dev/null
else
	fail not-elf-build "cannot build"
fi

# Inputs that do not link, or patch what the program lacks.
printf 'long nosuch_function_xyz(long);\nlong handler_fixed(long x) { return nosuch_function_xyz(x); }\n' >undef.c
gcc -O2 -c undef.c
bad undefined-symbol 1 "^surgeon: .*undefined symbol 'nosuch_function_xyz'" "$SURGEON" inject $pid undef.o --replace handler=handler_fixed
echo 'this is not an object' >junk.o
bad junk-input 1 "^surgeon: " "$SURGEON" inject $pid junk.o
bad missing-input 1 "^surgeon: nosuchfile.a: No such file or directory$" "$SURGEON" inject $pid nosuchfile.a
bad replace-unknown 1 "^surgeon: .*'nosuch'" "$SURGEON" inject $pid libfix.a --replace nosuch=handler_fixed
bad replace-undefined-new 1 "^surgeon: .*'nosuch_new'" "$SURGEON" inject $pid libfix.a --replace handler=nosuch_new
# A shared library's variable (environ: the program has no copy of it),
# reached directly by gcc's default -fPIE code: too far; with -fPIC, through
# the GOT the linker fills, it works.
printf 'extern char **environ;\nlong handler_fixed(long x) { return x * 3 + 1000 + (environ == 0); }\n' >env.c
gcc -O2 -c -o env-pie.o env.c && gcc -O2 -fPIC -c -o env-pic.o env.c
bad library-variable-pie 1 "^surgeon: env-pie.o: cannot reach 'environ' with a 32-bit relocation: .*build the added code with -fPIC$" \
	"$SURGEON" inject $pid env-pie.o --replace handler=handler_fixed
check library-variable-pic "$SURGEON" inject $pid env-pic.o --replace handler=handler_fixed
ask 3
check_eq library-variable-pic-answers "3 1009" "$reply"
check library-variable-pic-eject "$SURGEON" eject $pid

# A constructor that crashes in the process: the call is abandoned, and
# everything done before it undone.
printf 'long handler_fixed(long x) { return x; }\n__attribute__((constructor)) static void boom(void) { *(volatile int *)16 = 1; }\n' >boom.c
gcc -O2 -c boom.c
bad constructor-crashes 1 "^surgeon: pid $pid: the added constructor at 0x[0-9a-f]* crashed: Segmentation fault at 0x[0-9a-f]* \(address 0x10\)$" \
	"$SURGEON" inject $pid boom.o --replace handler=handler_fixed
bad nothing-to-eject 1 "^surgeon: pid $pid: has no injection to eject$" "$SURGEON" eject $pid
bad no-injection-7 1 "^surgeon: pid $pid: has no injection 7 " "$SURGEON" info --pid $pid >/dev/null; "$SURGEON" eject $pid 7 2>/dev/null; true

# Usage errors.
bad usage-inject 2 "^surgeon: inject needs a process" "$SURGEON" inject
bad usage-inject-no-input 2 "^surgeon: inject needs a process" "$SURGEON" inject $pid
bad usage-inject-output 2 "^surgeon: inject does not take -o" "$SURGEON" inject $pid libfix.a -o x
bad usage-inject-export 2 "^surgeon: inject does not take --export" "$SURGEON" inject $pid libfix.a --export=none
bad usage-inject-pid 2 "^surgeon: inject does not take --pid" "$SURGEON" inject $pid libfix.a --pid 1
bad usage-eject 2 "^surgeon: eject takes a process" "$SURGEON" eject
bad usage-eject-many 2 "^surgeon: eject takes a process" "$SURGEON" eject $pid 1 2
bad usage-info-pid-file 2 "^surgeon: info --pid takes no file" "$SURGEON" info --pid $pid srv

# The server went through all of it untouched.
alive still-alive
check code-is-the-file-s mem_equals_file $pid srv
check_eq no-injection "" "$(injections $pid)"
check_eq mappings-as-before "" "$(diff <(grep -v '\[heap\]\|\[stack\]' s.maps.before) <(grep -v '\[heap\]\|\[stack\]' /proc/$pid/maps))"
stop

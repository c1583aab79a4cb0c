# surgeon unexec --pid with a process it must not or cannot dump: one line,
# exit status 1, no output, and the process left as it was.
. "$TOP/tests/lib.sh"
. "$TOP/tests/undump-lib.sh"

# No process has a pid above pid_max.
nopid=$(( $(cat /proc/sys/kernel/pid_max) + 1 ))
refuse no-such-process "pid $nopid: no such process" "$SURGEON" unexec --pid $nopid -o refused.o
refuse not-a-pid "not a process id" "$SURGEON" unexec --pid 12x -o refused.o

# A process another tracer holds: its parent seized it.
cat >tracer.c <<'C'
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	int p[2]; char ch; pid_t c;
	if (pipe(p)) return 1;
	c = fork();
	if (!c) { close(p[1]); return read(p[0], &ch, 1) < 0; }
	if (ptrace(PTRACE_SEIZE, c, 0, 0)) { perror("seize"); return 1; }
	printf("%d\n", (int)c); fflush(stdout);
	if (read(0, &ch, 1) < 0) return 1;
	ptrace(PTRACE_DETACH, c, 0, 0);
	if (write(p[1], "x", 1) != 1) return 1;
	return waitpid(c, 0, 0) < 0;
}
C
gcc -O1 -o tracer tracer.c
mkfifo t.fifo
./tracer <t.fifo >tracer.out &
tpid=$!
exec 3>t.fifo
for i in $(seq 1 500); do [ -s tracer.out ] && break; sleep 0.02; done
child=$(cat tracer.out)
wait_state "$child" S
refuse already-traced "pid $child: is already traced by pid $tpid" "$SURGEON" unexec --pid "$child" -o refused.o
wait_state "$child" S; check_eq already-traced-left-running S "$(state "$child")"
echo x >&3; exec 3>&-
wait $tpid; check_eq already-traced-finishes 0 $?

# glibc's static-pie adds where it starts to its own program headers: no
# fixed-address form. (musl's is undumped: t-undump-pid.)
gcc -static-pie -O1 -DNOBIG -o spie "$APP_SRC"
./spie stop >/dev/null 2>&1 &
pid=$!
wait_state $pid T
refuse static-pie "is a glibc static-pie" "$SURGEON" unexec --pid $pid -o refused.o
wait_state $pid T; check_eq static-pie-left-stopped T "$(state $pid)"
kill -CONT $pid; wait $pid; check_eq static-pie-finishes 0 $?

# A PIE with text relocations: its code in memory is not the file's.
cat >textrel.c <<'C'
#include <signal.h>
#include <stdio.h>
int x = 5;
__asm__(".text\n.globl ptr_in_text\nptr_in_text: .quad x\n");
extern int *const ptr_in_text;
int main(void) { raise(SIGSTOP); printf("%d\n", *ptr_in_text); return 0; }
C
gcc -O1 -pie -fPIE -Wl,-z,notext -o textrel textrel.c
check_eq textrel-built 1 "$(readelf -d textrel | grep -c '(TEXTREL)')"
./textrel >/dev/null &
pid=$!
wait_state $pid T
refuse pie-textrel "text relocations" "$SURGEON" unexec --pid $pid -o refused.o
kill -CONT $pid; wait $pid; check_eq pie-textrel-finishes 0 $?

# A FIFO given as the core or the program is refused, not waited on.
mkfifo f.fifo
refuse fifo-core "f.fifo: not a regular file" timeout 20 "$SURGEON" unexec --core f.fifo --exe tracer -o refused.o
gcore -o t.core $$ >/dev/null 2>&1 && mv t.core.$$ t.core
if [ -f t.core ]; then refuse fifo-exe "f.fifo: not a regular file" timeout 20 "$SURGEON" unexec --core t.core --exe f.fifo -o refused.o
else echo "skip fifo-exe: gcore wrote no core"; fi

# Usage errors.
"$SURGEON" unexec --pid 1 --core x -o refused.o 2>/dev/null; check_eq pid-and-core-usage 2 $?
"$SURGEON" unexec --core x -o refused.o 2>/dev/null; check_eq core-needs-exe 2 $?
"$SURGEON" add-lib --pid 1 x y 2>/dev/null; check_eq pid-only-for-unexec 2 $?

# A process that patched its own code: a warning naming the address; the
# dump keeps the executable's bytes.
cat >patch.c <<'C'
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
__attribute__((noinline)) int answer(void) { return 42; }
int main(void)
{
	uintptr_t page = (uintptr_t)answer & ~(uintptr_t)4095;
	static int patched;
	if (!patched) {
		if (mprotect((void *)page, 8192, PROT_READ | PROT_WRITE | PROT_EXEC)) return 1;
		((volatile unsigned char *)answer)[0] = 0xcc;
		patched = 1;
		raise(SIGSTOP);
		return 0;
	}
	printf("%d\n", answer());
	return 0;
}
C
gcc -static -no-pie -O1 -o patch patch.c
./patch &
pid=$!
wait_state $pid T
"$SURGEON" unexec --pid $pid -o patch.o 2>patch.err; rc=$?
addr=$(nm patch | awk '$3 == "answer" {print $1}' | sed 's/^0*//')
check_eq patched-code-dumps 0 $rc
if grep -q "warning: .*changed its code: 1 bytes differ .* 0x$addr (answer+0x0)" patch.err; then ok patched-code-warning
else fail patched-code-warning "$(cat patch.err)"; fi
"$SURGEON" relink patch.o -o patch.dump 2>/dev/null
check_eq patched-code-keeps-file "42" "$(./patch.dump)"
kill -9 $pid; wait $pid 2>/dev/null || true

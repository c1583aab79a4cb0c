# A thread that sits in the bytes --replace changes: inject waits for it
# (letting the process run between tries) and succeeds once it has left; a
# thread that never leaves makes inject refuse after 2 s, naming the
# thread and the function, and the process runs on as it was. The thread
# blocks in a system call that is parked()'s first instruction
# (tests/live-server.c), so it is inside the patched bytes for sure.
. "$TOP/tests/lib.sh"
. "$TOP/tests/live-lib.sh"
libfix && lbuild park exec || { fail build "cannot build"; exit 0; }

# Waits, then succeeds.
start w ./park park
"$SURGEON" -v inject $pid libfix.a --replace parked=parked_fixed >w.inj.out 2>w.inj.err &
ipid=$!
for _ in $(seq 1 1000); do grep -q "waiting: thread" w.inj.err && break; sleep 0.01; done
if grep -q "waiting: thread [0-9]* (park) is running in 'parked'" w.inj.err; then ok wait-says-who-and-where
else fail wait-says-who-and-where "$(grep -v running w.inj.err | tail -2 | tr '\n' ' ')"; fi
kill -USR1 $pid	# parked() returns
wait $ipid
check_eq inject-after-the-thread-left 0 $?
check_eq injected-once "1 active" "$(injections $pid | awk '{print $1, $5}')"
alive w-alive-after-inject
check eject "$SURGEON" eject $pid
check w-code-is-the-file-s mem_equals_file $pid park
stop

# Never leaves: refused, nothing changed.
start r ./park parkforever
cp /proc/$pid/maps r.maps.before
run_capture r.inj "$SURGEON" inject $pid libfix.a --replace parked=parked_fixed
check_eq refused-status 1 "$(cat r.inj.rc)"
check_eq refused-one-line 1 "$(wc -l <r.inj.err)"
if grep -q "^surgeon: pid $pid: thread [0-9]* (park) is running in 'parked', whose first bytes --replace parked=parked_fixed changes (at 0x[0-9a-f]*) and did not leave it in 2 s: inject refused, nothing was changed$" r.inj.err
then ok refused-names-thread-and-function; else fail refused-names-thread-and-function "$(cat r.inj.err)"; fi
alive r-alive-after-refusal
check r-code-is-the-file-s mem_equals_file $pid park
check_eq r-no-injection "" "$(injections $pid)"
check_eq r-mappings-as-before "" "$(diff <(grep -v '\[heap\]\|\[stack\]' r.maps.before) <(grep -v '\[heap\]\|\[stack\]' /proc/$pid/maps))"
stop

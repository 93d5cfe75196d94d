#!/bin/bash
# ferry process restore from the command line: in the foreground it waits and exits with the root's
# status (its exit code, or 128+n when a signal kills it); --detach leaves the tree running;
# --pid-file; progress and a timing summary on a terminal only, the summary in a JSON log;
# --leave-running resumes the original after a good dump; --shell-job attaches a terminal job to
# the restoring terminal; --help exits 0.
. "$(dirname "$0")/../lib.sh"

W=$T_WORK/bin
mkdir -p "$W"
cc -O2 -o "$W/counter" "$TOP/tests/workloads/counter.c" || skip_all "cannot build the counter"
# waiter: prints READY (and its terminal) and sleeps; SIGUSR1 makes it exit with status 7.
cat >"$W/waiter.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
	_exit(7);
}

int main(void)
{
	signal(SIGUSR1, on_usr1);
	printf("READY %s\n", isatty(0) ? ttyname(0) : "-");
	fflush(stdout);
	for (;;)
		pause();
}
C
cc -O2 -o "$W/waiter" "$W/waiter.c" || skip_all "cannot build the waiter"


# dump NAME: checkpoints $PID (killing it) into $T_WORK/NAME.img.
dump() {
	"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/$1.img"
	ok $? "checkpoint of $1"
	wait "$PID" 2>/dev/null
	wait_for sh -c "! test -e /proc/$PID"
}

for c in checkpoint restore; do
	out=$("$FERRY" process $c --help 2>&1)
	is "$?" 0 "ferry process $c --help exits 0"
	like "$out" "image-path" "ferry process $c --help describes the options"
done

# ---- foreground: the root's exit status ----
start_ready exit7 "$W/waiter"
dump exit7
(sleep 0.5; kill -USR1 "$PID") &
"$FERRY" process restore --image-path "$T_WORK/exit7.img" 2>"$T_WORK/exit7.err"
is "$?" 7 "foreground restore exits with the root's status (7)"
is "$(cat "$T_WORK/exit7.err")" "" "quiet when stderr is not a terminal"

start_ready sig "$W/waiter"
dump sig
(sleep 0.5; kill -TERM "$PID") &
"$FERRY" process restore --image-path "$T_WORK/sig.img"
is "$?" 143 "a root killed by SIGTERM: 128+15"

# ---- --detach, --pid-file, a JSON log ----
start_ready det "$W/counter" "$T_WORK/count"
dump det
n1=$(cat "$T_WORK/count")
"$FERRY" --log "$T_WORK/log.json" --log-format json process restore \
	--image-path "$T_WORK/det.img" --detach --pid-file "$T_WORK/pidfile" 2>"$T_WORK/det.err"
ok $? "restore --detach returns"
at_exit "kill -9 $PID"
is "$(cat "$T_WORK/pidfile")" "$PID" "--pid-file holds the restored root's pid"
ok "$(pid_alive "$PID" && echo 0 || echo 1)" "the restored tree runs on"
# ferry runs on one CPU while it restores; the tree gets the CPUs its caller has
cpus() { awk '$1 == "Cpus_allowed_list:" {print $2}' "/proc/$1/status"; }
is "$(cpus "$PID")" "$(cpus $$)" "the restored process may run on every CPU its caller may"
sleep 0.2
n2=$(cat "$T_WORK/count")
ok $((10#$n2 > 10#$n1 ? 0 : 1)) "the counter continues from its checkpointed value ($n1 -> $n2)"
like "$(cat "$T_WORK/log.json")" '"msg": ?"restore: 1 process, 1 thread, [0-9]+ pages in [0-9.]+ ms' \
	"--log-format json puts the timing summary in the log"
is "$(cat "$T_WORK/det.err")" "" "nothing printed"
kill -USR1 "$PID"
wait_for sh -c "! test -e /proc/$PID"
like "$(tail -n 1 "$T_WORK/det.out")" "^PASS" "the restored counter verifies its state"

# ---- on a terminal: progress and a summary ----
start_ready tty "$W/counter" "$T_WORK/count2"
out=$(script -qec "$FERRY process checkpoint --pid $PID --image-path $T_WORK/tty.img" /dev/null)
like "$out" "checkpoint: 1 process, 1 thread, [0-9]+ pages .* in [0-9.]+ ms" \
	"checkpoint prints a timing summary on a terminal"
wait "$PID" 2>/dev/null
wait_for sh -c "! test -e /proc/$PID"
out=$(script -qec "$FERRY process restore --image-path $T_WORK/tty.img --pid-file $T_WORK/pid2 \
	& sleep 1; kill -USR1 \$(cat $T_WORK/pid2); wait" /dev/null)
like "$out" "restore: 1 process, 1 thread, [0-9]+ pages in [0-9.]+ ms: read" \
	"restore prints a timing summary on a terminal"

# ---- --leave-running ----
start_ready lr "$W/counter" "$T_WORK/count3"
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/lr.img" --leave-running
ok $? "checkpoint --leave-running"
st=$(awk '$1 == "State:" || $1 == "TracerPid:" {print $2}' "/proc/$PID/status" | tr '\n' ' ')
like "$st" "^[RS] 0 $" "the original runs on, untraced"
kill -USR1 "$PID"
wait "$PID"
is "$?" 0 "and verifies its state"

# ---- --shell-job: a job of one terminal session restored in another ----
# Session A (script) runs the waiter with stdin on its terminal; it is checkpointed and A ends.
# Session B restores it with --shell-job: its stdin is B's terminal, its session B's.
script -qec "t=\$(tty); $W/waiter <\$t >$T_WORK/sj.out 2>&1 & echo \$! >$T_WORK/sj.pid; echo \$t >$T_WORK/sj.ttyA; wait" /dev/null >/dev/null &
SA=$!
wait_for grep -q READY "$T_WORK/sj.out"
PID=$(cat "$T_WORK/sj.pid")
at_exit "kill -9 $PID"
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/sj.img" --shell-job
ok $? "checkpoint --shell-job of a job of a terminal session"
wait "$SA"
wait_for sh -c "! test -e /proc/$PID"
out=$(script -qec "$FERRY process restore --shell-job --image-path $T_WORK/sj.img --detach \
	--pid-file $T_WORK/sj.pid2 && p=\$(cat $T_WORK/sj.pid2) && echo fd0 \$(readlink /proc/\$p/fd/0) \
	&& echo tty \$(tty) && echo sid \$(ps -o sid= -p \$p) \$(ps -o sid= -p \$\$) && kill -USR1 \$p" /dev/null)
fd0=$(printf '%s\n' "$out" | sed -n 's/.*fd0 //p' | tr -d '\r')
tty=$(printf '%s\n' "$out" | sed -n 's/^tty //p' | tr -d '\r')
like "$fd0" "^/dev/pts/[0-9]+$" "the restored job's stdin is a terminal (session A had $(cat "$T_WORK/sj.ttyA"))"
is "$fd0" "$tty" "it is the restoring terminal"
like "$(printf '%s\n' "$out" | sed -n 's/^sid //p' | tr -d '\r')" "^ *([0-9]+) +\1 *$" \
	"it joined the restoring session"

done_testing

#!/bin/bash
# A large process's pages written into the image by its own threads (lib/os/linux/parasite.h,
# writers): used when its memory cgroup and file size limit are ferry's; a process in another
# memory cgroup or with a file size limit gets its pages spliced by ferry instead, so that the
# image is never charged to it and never raises SIGXFSZ. Either way the process runs on with its
# one thread, its maps, fds and signals as before, also when ferry is killed while the threads
# write, and its memory checks out; where one thread only can start, it writes them all; a process
# where no thread can start (a pids limit) or that has no descriptor to spare gets its pages
# copied.
. "$(dirname "$0")/../lib.sh"

[ "$(nproc)" -ge 2 ] || skip_all "one CPU: pages go into one file"
W=$T_WORK/bin
mkdir -p "$W"
cc -O2 -o "$W/memory" "$TOP/tests/workloads/memory.c" || skip_all "cannot build workload memory"

PID=
at_exit 'kill -9 $PID 2>/dev/null'

# start MIB [PREFIX...]: the memory workload holding MIB MiB (run through PREFIX), ready, in PID.
start() {
	local mib=$1
	shift
	rm -f "$T_WORK/out"
	"$@" "$W/memory" "$mib" >"$T_WORK/out" 2>&1 &
	PID=$!
	wait_for grep -q READY "$T_WORK/out" || diag "memory did not start: $(cat "$T_WORK/out")"
}

# snapshot PID: maps, fds, thread count and signal state.
snapshot() {
	cat "/proc/$1/maps"
	ls -l "/proc/$1/fd" | awk 'NR > 1 {print $9, $10, $11}'
	grep -E '^(Threads|SigBlk|SigIgn|SigCgt|SigPnd|ShdPnd|TracerPid)' "/proc/$1/status"
}

# settled PID BEFORE WHAT: within 5 s the process shows BEFORE again.
settled() {
	local now i
	for ((i = 0; i < 100; i++)); do
		now=$(snapshot "$1")
		[ "$now" = "$2" ] && break
		sleep 0.05
	done
	is "$now" "$2" "$3: one thread, maps, fds and signal state as before"
}

# verify WHAT: SIGUSR1 to the workload, which sums its memory again.
verify() {
	kill -USR1 "$PID"
	wait_for grep -qE 'PASS|FAIL' "$T_WORK/out"
	like "$(cat "$T_WORK/out")" "PASS" "$1: the memory checks out"
	wait "$PID" 2>/dev/null
	PID=
}

# dump NAME: checkpoint --leave-running into $T_WORK/NAME with a debug log in $T_WORK/NAME.log.
dump() {
	"$FERRY" --log "$T_WORK/$1.log" --debug process checkpoint --pid "$PID" \
		--image-path "$T_WORK/$1" --leave-running
}

# ---- in ferry's own cgroup: its threads write ----
start 96
before=$(snapshot "$PID")
dump own
is "$?" 0 "own cgroup: checkpoint --leave-running"
like "$(cat "$T_WORK/own.log")" "pages of process $PID: written by [2-9] of its threads" \
	"own cgroup: the process's threads write the pages"
ok "$([ -s "$T_WORK/own/pages-1.img" ] && [ -s "$T_WORK/own/pages-2.img" ] && echo 0 || echo 1)" \
	"own cgroup: two pages files filled"
"$FERRY" image check "$T_WORK/own" >/dev/null
is "$?" 0 "own cgroup: the image checks (every pages file's checksum)"
settled "$PID" "$before" "own cgroup"
verify "own cgroup"

# ---- ferry killed while the threads write ----
start 512
before=$(snapshot "$PID")
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/killed" --leave-running \
	>/dev/null 2>&1 &
CK=$!
for ((i = 0; i < 2000000; i++)); do [ -s "$T_WORK/killed/pages-2.img" ] && break; done
threads=$(awk '$1 == "Threads:" {print $2}' "/proc/$PID/status")
kill -9 "$CK"
wait "$CK"
is "$?" 137 "ferry killed while $threads threads of the process write"
settled "$PID" "$before" "ferry killed while they write"
ok "$([ ! -e "$T_WORK/killed/inventory.img" ] && echo 0 || echo 1)" \
	"ferry killed while they write: no sealed image"
verify "ferry killed while they write"

# ---- a file size limit: ferry splices (no SIGXFSZ for the process) ----
start 64 bash -c 'ulimit -f 10000000 && exec "$0" "$@"'
before=$(snapshot "$PID")
dump fsize
is "$?" 0 "file size limit: checkpoint --leave-running"
like "$(cat "$T_WORK/fsize.log")" "pages of process $PID: spliced from" \
	"file size limit: ferry splices the pages"
settled "$PID" "$before" "file size limit"
verify "file size limit"

# ---- another memory cgroup: ferry splices, the image is not charged to it ----
MEMCG=
if [ -d /sys/fs/cgroup/memory ]; then
	MEMCG=/sys/fs/cgroup/memory/ferry-writers-$$
	USAGE=memory.usage_in_bytes
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	MEMCG=/sys/fs/cgroup/ferry-writers-$$
	USAGE=memory.current
fi
if [ -n "$MEMCG" ] && mkdir "$MEMCG"; then
	at_exit "rmdir $MEMCG 2>/dev/null"
	start 64 bash -c 'echo $$ >"$0/cgroup.procs" && exec "$1" "${@:2}"' "$MEMCG"
	before=$(snapshot "$PID")
	used=$(cat "$MEMCG/$USAGE")
	dump memcg
	is "$?" 0 "another memory cgroup: checkpoint --leave-running"
	like "$(cat "$T_WORK/memcg.log")" "pages of process $PID: spliced from" \
		"another memory cgroup: ferry splices the pages"
	grown=$(($(cat "$MEMCG/$USAGE") - used))
	ok "$((grown < 16 << 20 ? 0 : 1))" \
		"another memory cgroup: the 64 MiB image is not charged to it (grew $grown bytes)"
	settled "$PID" "$before" "another memory cgroup"
	verify "another memory cgroup"
else
	ok 0 "# SKIP no memory cgroup to make"
fi

# copied NAME WHAT PATTERN: a dump of the workload in PID whose pages are copied (PATTERN: why, in the
# debug log), the image whole, the process as it was (BEFORE) and its memory right.
copied() {
	dump "$1"
	is "$?" 0 "$2: checkpoint --leave-running"
	like "$(cat "$T_WORK/$1.log")" "pages of process $PID copied: .*$3" "$2: the pages are copied"
	"$FERRY" image check "$T_WORK/$1" >/dev/null
	is "$?" 0 "$2: the image checks"
	settled "$PID" "$before" "$2"
	verify "$2"
}

# ---- no thread can start (a pids limit): the pages are copied (the injected thread never serves:
# the kernel rewrites its rseq area, maybe in a page being dumped, whenever it returns to user) ----
PIDCG=
if [ -d /sys/fs/cgroup/pids ]; then
	PIDCG=/sys/fs/cgroup/pids/ferry-writers-$$
elif grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	PIDCG=/sys/fs/cgroup/ferry-writers-pids-$$
fi
if [ -n "$PIDCG" ] && mkdir "$PIDCG"; then
	at_exit "rmdir $PIDCG 2>/dev/null"
	start 32 bash -c 'echo $$ >"$0/cgroup.procs" && exec "$1" "${@:2}"' "$PIDCG"
	echo 1 >"$PIDCG/pids.max"
	before=$(snapshot "$PID")
	copied pids "pids limit" "no thread of the process could start"
	# ---- one thread can start (pids.max 2): it writes every page, into one file ----
	start 32 bash -c 'echo $$ >"$0/cgroup.procs" && exec "$1" "${@:2}"' "$PIDCG"
	echo 2 >"$PIDCG/pids.max"
	before=$(snapshot "$PID")
	dump onewriter
	is "$?" 0 "one thread can start: checkpoint --leave-running"
	like "$(cat "$T_WORK/onewriter.log")" "pages of process $PID: written by 1 of its threads" \
		"one thread can start: it writes the pages"
	ok "$([ -s "$T_WORK/onewriter/pages-1.img" ] && [ ! -e "$T_WORK/onewriter/pages-2.img" ] &&
		echo 0 || echo 1)" "one thread can start: one pages file"
	"$FERRY" image check "$T_WORK/onewriter" >/dev/null
	is "$?" 0 "one thread can start: the image checks"
	settled "$PID" "$before" "one thread can start"
	verify "one thread can start"
else
	ok 0 "# SKIP no pids cgroup to make"
fi

# ---- no descriptor to spare: the code cannot make its pipes and sockets, leaves ----
start 32 prlimit --nofile=4:4
before=$(snapshot "$PID")
copied nofile "no descriptor to spare" "descriptors of the code"

done_testing

#!/bin/bash
# Every self-checking workload (tests/workloads/NAME.c, built into build/workloads/NAME) through
# checkpoint and restore, both ways: checkpoint --leave-running then SIGUSR1 -> PASS; and
# checkpoint (which kills it), restore --detach, SIGUSR1 -> PASS, the restored tree with the same
# pids and, for the simple workloads, /proc/PID/maps equal to the image's areas. A workload prints
# READY once set up and, on SIGUSR1, verifies its state and prints "PASS ..." or "FAIL ...".
# WORKLOADS="a b" runs only those. Runs under tests/tools/subreaper (restored roots are orphans).
if [ -z "${FERRY_WORKLOADS_REAPED:-}" ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	[ -x "$top/tests/tools/subreaper" ] &&
		FERRY_WORKLOADS_REAPED=1 exec "$top/tests/tools/subreaper" "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"

READY_LIMIT=10 # seconds for a workload to print READY
PASS_LIMIT=10  # seconds for PASS or FAIL after SIGUSR1
CR_LIMIT=60    # seconds for one checkpoint or restore
MAPS_SKIP=" python " # its allocator maps new arenas while it computes

# workload_bin NAME: the built workload (build/workloads/NAME, or built here with cc when missing
# or older than its source); prints its path.
workload_bin() {
	local src=$TOP/tests/workloads/$1.c bin=$TOP/build/workloads/$1
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		bin=$T_WORK/bin/$1
		mkdir -p "$T_WORK/bin"
		cc -std=gnu11 -O2 -g -D_GNU_SOURCE= -pthread -o "$bin" "$src" -lm || return 1
	fi
	echo "$bin"
}

# workload_args NAME DIR: the arguments of a workload given its scratch directory DIR.
workload_args() {
	case $1 in
	counter) echo "$2/count" ;;
	memory) echo 256 ;;
	*) echo "$2" ;;
	esac
}

# descendants PID: PID and every process below it, one a line (parents first).
descendants() {
	local p c kids
	echo "$1"
	for p in /proc/"$1"/task/*/children; do
		read -ra kids 2>/dev/null <"$p" || true
		for c in "${kids[@]}"; do
			descendants "$c"
		done
	done
}

# kill_tree PID: SIGKILL to PID and all its descendants.
kill_tree() {
	local pids
	mapfile -t pids < <(descendants "$1" 2>/dev/null)
	[ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
	return 0
}

# wait_line FILE REGEX SECONDS: true once a line of FILE matches REGEX, within SECONDS.
wait_line() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_gone PID SECONDS: true once PID is gone or a zombie, within SECONDS.
wait_gone() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		pid_alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

# ids_of PIDS...: "pid ppid pgid sid" of each, one a line; the first (the root) without its
# ppid (a restored root is an orphan, adopted by the subreaper).
ids_of() {
	local p ppid=-
	for p in "$@"; do
		awk -v p="$p" -v pp="$ppid" -v c="$(cat "/proc/$p/comm" 2>/dev/null)" \
			'{ sub(/^.*\) /, ""); print p, c, pp == "-" ? "-" : $2, $3, $4 }' \
			"/proc/$p/stat" 2>/dev/null || echo "$p gone"
		ppid=
	done
}

# outside_as_zero BEFORE: the ids on stdin, with a group or session that is not one of the tree's
# pids written as 0 where BEFORE has 0 on the same line: a group or session led from outside this
# pid namespace reads as 0, and the restored tree joins the restorer's own.
outside_as_zero() {
	awk -v before="$1" -v pids=" $(echo "$1" | awk '{ print $1 }' | tr '\n' ' ') " '
		BEGIN { n = split(before, b, "\n") }
		{ split(b[NR], f, " ")
		  if (f[4] == 0 && index(pids, " " $4 " ") == 0) $4 = 0
		  if (f[5] == 0 && index(pids, " " $5 " ") == 0) $5 = 0
		  print }'
}

# maps_vs_image PID IMAGE: empty when /proc/PID/maps has exactly the image's areas for PID
# (range, protections, shared or private, file); else the differences.
maps_vs_image() {
	"$FERRY" image show "$2" | python3 -c '
import json, sys
pid = int(sys.argv[1])
img = json.load(sys.stdin)
proc = [p for p in img["processes"] if p["pid"] == pid]
if not proc:
    print("no process %d in the image" % pid); sys.exit()
def num(v):
    return int(v, 16) if isinstance(v, str) else int(v)
want = {}
for v in proc[0]["vmas"]:
    prot, flags = v.get("prot", 0), int(v.get("flags", 0))
    perms = ("r" if prot & 1 else "-") + ("w" if prot & 2 else "-") + ("x" if prot & 4 else "-")
    # A shared object (MAP_SHARED anonymous, memfd, SysV) has no path in the image.
    path = None if v.get("shm_id") or flags & 2 else (v.get("path") or "")
    want[(num(v["start"]), num(v["end"]), perms + ("s" if flags & 1 else "p"))] = path
got = {}
try:
    maps = open("/proc/%d/maps" % pid).readlines()
except OSError as e:
    print("process %d: %s" % (pid, e.strerror)); sys.exit()
for line in maps:
    f = line.split(None, 5)
    s, e = (int(x, 16) for x in f[0].split("-"))
    path = f[5].strip() if len(f) > 5 and f[5].startswith("/") else ""
    got[(s, e, f[1])] = path
for a in sorted(set(want) - set(got)):
    print("missing %x-%x %s" % a)
for a in sorted(set(got) - set(want)):
    print("extra %x-%x %s %s" % (a + (got[a],)))
for a in sorted(set(got) & set(want)):
    if want[a] is not None and want[a] != got[a]:
        print("%x-%x %s: file %s, image %s" % (a + (got[a], want[a])))
' "$1"
}

# start_workload NAME: runs the workload in the background with its scratch directory, output in
# $RUN.out; sets PID; waits for READY. Every process of it is killed at exit.
start_workload() {
	local dir=$T_WORK/$RUN.d
	rm -rf "$dir" && mkdir -p "$dir"
	# shellcheck disable=SC2046
	"$BIN" $(workload_args "$1" "$dir") >"$T_WORK/$RUN.out" 2>&1 &
	PID=$!
	at_exit "kill_tree $PID"
	wait_line "$T_WORK/$RUN.out" '^READY' "$READY_LIMIT"
}

# verify RUN PID CHILD: SIGUSR1 to PID, waits for PASS or FAIL (and for a child of this shell, its
# exit status); RESULT gets "status N LAST-LINE".
verify() {
	local st=-
	kill -USR1 "$2" 2>/dev/null
	if ! wait_line "$T_WORK/$1.out" '^(PASS|FAIL)' "$PASS_LIMIT"; then
		RESULT="no PASS within ${PASS_LIMIT}s: $(tail -n 3 "$T_WORK/$1.out" | tr '\n' ' ')"
		return
	fi
	wait_gone "$2" "$PASS_LIMIT" || st=running
	if [ "$3" = child ] && [ "$st" = - ]; then
		wait "$2"
		st=$?
	fi
	RESULT="status $st $(grep -E '^(PASS|FAIL)' "$T_WORK/$1.out" | tail -n 1)"
}

# leave_running NAME: checkpoint --leave-running, then the workload verifies itself.
leave_running() {
	local name=$1 out pids_before
	RUN=$name-live
	if ! start_workload "$name"; then
		ok 1 "$name: READY within ${READY_LIMIT}s ($(head -c 300 "$T_WORK/$RUN.out"))"
		skip "$name did not start" 2
		return
	fi
	pids_before=$(descendants "$PID" | sort)
	at_exit "kill -9 ${pids_before//$'\n'/ }"
	out=$(timeout -k 5 "$CR_LIMIT" "$FERRY" process checkpoint --pid "$PID" \
		--image-path "$T_WORK/$RUN.img" --leave-running 2>&1)
	ok $? "$name: checkpoint --leave-running${out:+: $out}"
	is "$(descendants "$PID" | sort | tr '\n' ' ')" "$(echo "$pids_before" | tr '\n' ' ')" \
		"$name: every process still runs after the checkpoint"
	verify "$RUN" "$PID" child
	like "$RESULT" "^status 0 PASS" "$name: verifies its state after checkpoint --leave-running"
	kill_tree "$PID"
	{ wait "$PID"; } 2>/dev/null
}

# kill_restore NAME: checkpoint (the tree is killed), restore --detach with the same pids, the
# areas of the image, then the workload verifies itself.
kill_restore() {
	local name=$1 out st pids ids_before p diff root
	RUN=$name-restore
	if ! start_workload "$name"; then
		ok 1 "$name: READY within ${READY_LIMIT}s ($(head -c 300 "$T_WORK/$RUN.out"))"
		skip "$name did not start" 5
		return
	fi
	disown "$PID" # killed by the checkpoint: no job report
	pids=$(descendants "$PID")
	at_exit "kill -9 ${pids//$'\n'/ }"
	# shellcheck disable=SC2086
	ids_before=$(ids_of $pids)
	out=$(timeout -k 5 "$CR_LIMIT" "$FERRY" process checkpoint --pid "$PID" \
		--image-path "$T_WORK/$RUN.img" 2>&1)
	st=$?
	ok $st "$name: checkpoint${out:+: $out}"
	kill_tree "$PID"
	for p in $pids; do
		wait_gone "$p" 5
	done
	if [ "$st" -ne 0 ]; then
		skip "$name: no image" 4
		return
	fi
	out=$(timeout -k 5 "$CR_LIMIT" "$FERRY" process restore --image-path "$T_WORK/$RUN.img" \
		--detach --pid-file "$T_WORK/$RUN.pid" 2>&1)
	st=$?
	root=$(cat "$T_WORK/$RUN.pid" 2>/dev/null)
	at_exit "kill_tree $PID"
	ok $st "$name: restore --detach${out:+: $out}"
	if [ "$st" -ne 0 ]; then
		skip "$name: not restored" 3
		return
	fi
	# shellcheck disable=SC2086
	is "$root $(ids_of $pids | outside_as_zero "$ids_before" | tr '\n' ' ')" \
		"$PID $(echo "$ids_before" | tr '\n' ' ')" \
		"$name: same pids, names, parents, groups and sessions after restore"
	if [[ $MAPS_SKIP == *" $name "* ]]; then
		skip "$name: its areas change while it runs"
	else
		diff=
		for p in $pids; do
			diff+=$(maps_vs_image "$p" "$T_WORK/$RUN.img")
		done
		is "$diff" "" "$name: /proc/PID/maps of the restored tree has the image's areas"
	fi
	verify "$RUN" "$PID" orphan
	like "$RESULT" "^status (0|-) PASS" "$name: verifies its state after restore"
	kill_tree "$PID"
}

if [ -n "${WORKLOADS:-}" ]; then
	names=$WORKLOADS
else
	names=
	for src in "$TOP"/tests/workloads/*.c; do
		names+=" $(basename "$src" .c)"
	done
fi
for name in $names; do
	if ! BIN=$(workload_bin "$name"); then
		ok 1 "$name: builds"
		continue
	fi
	leave_running "$name"
	kill_restore "$name"
done

done_testing

#!/bin/bash
# `ferry process checkpoint --leave-running` killed at every remote syscall of a dump: at its
# syscall-entry stop, its exit stop, and right after the thread's registers are put back
# (FERRY_FAULT=remote-entry|remote-exit|remote-done:N makes ferry SIGKILL itself there). The dead
# ferry must leave the target running as before: alive, not traced, same signal masks and pending
# signals in every thread, same memory map (no scratch page left) and fds; at the end the workload
# verifies its own state (threads, TLS, alternate stacks, handlers, pending signals, memory
# checksum) and prints PASS. The numbered calls, and whether each ran guarded, come from a first,
# complete dump's debug log. The injected code (lib/os/linux/parasite.c) is tried with the memory
# workload only: its one remote syscall (its area's mmap, on an undo frame) and the points of its
# start (FERRY_FAULT=code-written: the code copied in; code-launched: the thread pointed at it;
# code-taken: ferry took its ends of the code's pipes and sockets; code-running: the code told to
# go on); its cure makes no remote syscall.
. "$(dirname "$0")/../lib.sh"

W=$T_WORK/bin
mkdir -p "$W"
for w in signals threads memory; do
	cc -std=gnu11 -O2 -D_GNU_SOURCE= -pthread -o "$W/$w" "$TOP/tests/workloads/$w.c" ||
		skip_all "cannot build workload $w"
done

# state PID: the signal state of every thread, and whether it is traced.
state() {
	local t
	grep -E '^(SigIgn|SigCgt|ShdPnd)' "/proc/$1/status"
	for t in /proc/"$1"/task/*; do
		echo "${t##*/}" $(grep -E '^(SigBlk|SigPnd|TracerPid)' "$t/status")
	done
}

# memory PID: the memory map and the fds.
memory() {
	cat "/proc/$1/maps"
	ls -l "/proc/$1/fd" | awk 'NR > 1 {print $9, $10, $11}'
}

# snapshot PID: what a dead ferry must not change.
snapshot() {
	state "$1"
	echo --
	memory "$1"
}

# settle PID BEFORE: waits up to about half a second for PID to look as BEFORE again (the threads
# a dead ferry lets go run their way out at once); sets NOW to what it finally looks like.
settle() {
	local i
	for ((i = 0; i < 15; i++)); do
		NOW=$(snapshot "$1" 2>/dev/null)
		[ "$NOW" = "$2" ] && return 0
		pid_alive "$1" || return 1
		sleep 0.03
	done
	return 1
}

# start NAME ARGS...: starts workload NAME; sets PID and BEFORE.
start() {
	start_ready "$@" || return 1
	BEFORE=$(snapshot "$PID")
}

# calls NAME INJECTED: a complete dump of $PID with the debug log; sets CALLS (one "name
# guarded|unguarded" a line, in call order) and INJECTED (the number of the injected code's first
# call, its mmap; past the last call when no code is injected: a small process's pages are copied,
# and only with INJECTED "all" must code be injected).
calls() {
	local st re how
	rm -rf "$T_WORK/$1.img" "$T_WORK/$1.log"
	timeout 60 "$FERRY" --debug --log "$T_WORK/$1.log" process checkpoint --pid "$PID" \
		--image-path "$T_WORK/$1.img" --leave-running </dev/null >/dev/null 2>&1
	st=$?
	is "$st" 0 "$1: a complete checkpoint --leave-running"
	re='.*remote syscall [0-9]+: ([a-z_0-9]+) \([0-9]+\) in [0-9]+, (guarded|unguarded).*'
	CALLS=$(sed -nE "s/$re/\\1 \\2/p" "$T_WORK/$1.log")
	INJECTED=$(awk '$1 == "mmap" {print NR; exit}' <<<"$CALLS")
	how="the injected code's from ${INJECTED:-none}"
	[ "$2" = all ] || how="$how; its pages copied: $(grep -c "pages of process $PID copied" \
		"$T_WORK/$1.log")"
	ok "$([ -n "$CALLS" ] && { [ -n "$INJECTED" ] || [ "$2" != all ]; } && echo 0 || echo 1)" \
		"$1: its remote syscalls are logged ($(wc -l <<<"$CALLS"); $how)"
	INJECTED=${INJECTED:-$(($(wc -l <<<"$CALLS") + 1))}
	is "$(head -n $((INJECTED - 1)) <<<"$CALLS" |
		awk '$2 != "guarded" || $1 ~ /^(mmap|munmap)$/')" "" \
		"$1: the dump's calls are all guarded and map no scratch page"
	is "$(tail -n +"$INJECTED" <<<"$CALLS" | awk '$2 != "guarded"')" "" \
		"$1: the injected code's calls are all guarded"
	settle "$PID" "$BEFORE"
	ok $? "$1: the complete dump left it unchanged"
}

# kill_at NAME FAULT WHAT ARGS...: checkpoint killed at FERRY_FAULT=FAULT (WHAT says where); checks
# the workload, starting a new one (ARGS) when it did not survive unchanged.
kill_at() {
	local name=$1 fault=$2 what="$1: killed at $2 ($3)" st why="" left=""
	shift 3
	rm -rf "$T_WORK/$name.img"
	{
		FERRY_FAULT=$fault timeout 60 "$FERRY" process checkpoint --pid "$PID" \
			--image-path "$T_WORK/$name.img" --leave-running </dev/null >/dev/null 2>&1
	} 2>/dev/null
	st=$?
	[ "$st" = 137 ] || why="ferry exited $st, not killed;"
	if ! settle "$PID" "$BEFORE" && ! pid_alive "$PID"; then
		{ wait "$PID"; } 2>/dev/null
		why="$why the workload died (status $?);"
	elif [ "$NOW" != "$BEFORE" ]; then
		[ "${NOW%%--*}" = "${BEFORE%%--*}" ] ||
			why="$why its signal state changed: $(diff <(echo "${BEFORE%%--*}") \
				<(echo "${NOW%%--*}") | grep '^[<>]' | head -n 4 | tr '\n' ' ')"
		[ "${NOW#*--}" = "${BEFORE#*--}" ] ||
			left="left behind: $(diff <(echo "${BEFORE#*--}") <(echo "${NOW#*--}") |
				grep '^[<>]' | head -n 4 | tr '\n' ' ')"
	fi
	if [ -z "$why" ] &&
		! [[ "$(awk '$1 == "State:" {print $2}' "/proc/$PID/status")" =~ ^[RS]$ ]]; then
		why="not running;"
	fi
	[ -z "$why$left" ]
	ok $? "$what): runs on unchanged"
	[ -z "$why$left" ] && return 0
	diag "$what: $why $left"
	FAILED_POINTS=$((FAILED_POINTS + 1))
	kill -9 "$PID" 2>/dev/null
	{ wait "$PID"; } 2>/dev/null
	start "$name" "$@"
}

# every_point NAME INJECTED ARGS...: runs workload NAME (with ARGS), kills a checkpoint at each
# point of each of its remote syscalls (the injected code's too when INJECTED is "all"), then
# has the last workload verify itself.
every_point() {
	local name=$1 which=$2 point n call guard
	shift 2
	start "$name" "$W/$name" "$@"
	calls "$name" "$which"
	FAILED_POINTS=0 POINTS=0
	for point in entry exit done; do
		n=0
		while read -r call guard; do
			n=$((n + 1))
			[ "$n" -lt "$INJECTED" ] || [ "$which" = all ] || continue
			POINTS=$((POINTS + 1))
			what="$call, $guard"
			[ "$n" -lt "$INJECTED" ] || what="$what, the injected code's"
			kill_at "$name" "remote-$point:$n" "$what" "$W/$name" "$@"
		done <<<"$CALLS"
	done
	for point in written launched taken running; do
		[ "$which" = all ] || continue
		POINTS=$((POINTS + 1))
		kill_at "$name" "code-$point" "the injected code's start" "$W/$name" "$@"
	done
	diag "$name: $POINTS kill points, $FAILED_POINTS not survived unchanged"
	finish_check "$name" "$PID"
	like "$RESULT" "^status 0 PASS" "$name: the workload verifies its state after every kill"
}

# Two threads with their own alternate stacks, blocked and pending signals (thread and process
# queues), handlers and an ignored signal.
every_point signals dump
# Five threads with thread-local state, each in its own nanosleep loop.
every_point threads dump
# 24 MiB of pages: the injected code with several streams, its start and cure too.
every_point memory all 24

done_testing

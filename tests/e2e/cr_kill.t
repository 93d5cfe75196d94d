#!/bin/bash
# `ferry process checkpoint --leave-running` killed at every remote syscall of a dump: at its
# syscall-entry stop, its exit stop, and right after the thread's registers are put back
# (FERRY_FAULT=remote-entry|remote-exit|remote-done:N makes ferry SIGKILL itself there). The dead
# ferry must leave the target running as before: alive, not traced, same signal masks and pending
# signals in every thread, same memory map (no scratch page left) and fds; at the end the workload
# verifies its own state (threads, TLS, alternate stacks, handlers, pending signals, memory
# checksum) and prints PASS. The numbered calls, and whether each ran guarded, come from a first,
# complete dump's debug log. The injected code's calls (its start, from its area's mmap on:
# lib/os/linux/parasite.c; its cure makes none, the code leaves by itself) are tried with the
# memory workload only; there a kill that leaves its area or descriptors behind, and one in a
# call run without the guard, are TODO tests.
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

# todo STATUS DESCRIPTION REASON: a TAP TODO test (a failure does not fail the file).
todo() {
	T_NUM=$((T_NUM + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_NUM - $2 # TODO $3"
	else
		echo "not ok $T_NUM - $2 # TODO $3"
	fi
}

# start NAME ARGS...: starts workload NAME; sets PID and BEFORE.
start() {
	start_ready "$@" || return 1
	BEFORE=$(snapshot "$PID")
}

# calls NAME: a complete dump of $PID with the debug log; sets CALLS (one "name guarded|unguarded"
# a line, in call order) and INJECTED (the number of the injected code's first call, its mmap).
calls() {
	local st re
	rm -rf "$T_WORK/$1.img" "$T_WORK/$1.log"
	timeout 60 "$FERRY" --debug --log "$T_WORK/$1.log" process checkpoint --pid "$PID" \
		--image-path "$T_WORK/$1.img" --leave-running </dev/null >/dev/null 2>&1
	st=$?
	is "$st" 0 "$1: a complete checkpoint --leave-running"
	re='.*remote syscall [0-9]+: ([a-z_0-9]+) \([0-9]+\) in [0-9]+, (guarded|unguarded).*'
	CALLS=$(sed -nE "s/$re/\\1 \\2/p" "$T_WORK/$1.log")
	INJECTED=$(awk '$1 == "mmap" {print NR; exit}' <<<"$CALLS")
	ok "$([ -n "$CALLS" ] && [ -n "$INJECTED" ] && echo 0 || echo 1)" \
		"$1: its remote syscalls are logged ($(wc -l <<<"$CALLS"), the injected code's" \
		"from $INJECTED)"
	INJECTED=${INJECTED:-$(($(wc -l <<<"$CALLS") + 1))}
	is "$(head -n $((INJECTED - 1)) <<<"$CALLS" |
		awk '$2 != "guarded" || $1 ~ /^(mmap|munmap)$/')" "" \
		"$1: the dump's calls are all guarded and map no scratch page"
	settle "$PID" "$BEFORE"
	ok $? "$1: the complete dump left it unchanged"
}

# kill_at NAME N POINT CALL GUARD ARGS...: checkpoint killed at POINT of call N; checks the
# workload, starting a new one (ARGS) when it did not survive unchanged.
kill_at() {
	local name=$1 n=$2 point=$3 call=$4 guard=$5 st why="" left="" what
	shift 5
	rm -rf "$T_WORK/$name.img"
	{
		FERRY_FAULT=remote-$point:$n timeout 60 "$FERRY" process checkpoint --pid "$PID" \
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
	what="$name: killed at remote-$point:$n ($call"
	if [ "$n" -lt "$INJECTED" ]; then
		[ -z "$why$left" ]
		ok $? "$what): runs on unchanged"
	else
		if [ "$guard" = guarded ]; then
			[ -z "$why" ]
			ok $? "$what, the injected code's): runs on, same signal state"
		else
			[ -z "$why" ]
			todo $? "$what, the injected code's, unguarded): runs on, same signal state" \
				"parasite.c runs its remote syscalls without the guard"
		fi
		[ -z "$why$left" ]
		todo $? "$what, the injected code's): nothing left behind" \
			"parasite.c's area and descriptors stay between its calls"
	fi
	[ -z "$why$left" ] && return 0
	diag "$name remote-$point:$n ($call): $why $left"
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
	calls "$name"
	FAILED_POINTS=0 POINTS=0
	for point in entry exit done; do
		n=0
		while read -r call guard; do
			n=$((n + 1))
			[ "$n" -lt "$INJECTED" ] || [ "$which" = all ] || continue
			POINTS=$((POINTS + 1))
			kill_at "$name" "$n" "$point" "$call" "$guard" "$W/$name" "$@"
		done <<<"$CALLS"
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

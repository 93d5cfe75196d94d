#!/bin/bash
# limits.t: resource limits enforced on the real kernel (memory and OOM kill, pids, CPU quota,
# devices), changed live by `update`, reported by `events` and `limits`; bad input refused.
# The update/events checks also hold for runc (FERRY=runc); `limits` is ferry's own command.
. "$(dirname "$0")/../lib.sh"

LOG=$T_WORK/container.log
SHARED=$T_WORK/shared
MIB=$((1024 * 1024))
mkdir -p "$SHARED"
if ! make_bundle_fast "$T_WORK/base" sleep 1000 >/dev/null ||
	! add_bind "$T_WORK/base" "$SHARED" /shared; then
	ok 1 "make bundle"
	done_testing
	exit 1
fi

# bundle NAME CODE ARGS...: a bundle at $T_WORK/NAME sharing the base rootfs, running ARGS, with
# its config `c` changed by the Python statements CODE (may be empty).
bundle() {
	local dir=$T_WORK/$1 code=$2
	shift 2
	clone_bundle "$T_WORK/base" "$dir" "$@" || return 1
	python3 - "$dir/config.json" "$code" <<'PY' && echo "$dir"
import json, sys
path, code = sys.argv[1:]
c = json.load(open(path))
r = c['linux'].setdefault('resources', {})
exec(code)
json.dump(c, open(path, 'w'), indent=2)
PY
}

# cg_file ID CONTROLLER FILE: the path of one cgroup v1 file of the container's init.
cg_file() {
	local pid d
	pid=$(state_field "$1" pid) || return 1
	for d in $(cgroup_dirs "$pid"); do
		case $d in /sys/fs/cgroup/"$2"/*) echo "$d/$3" && return 0 ;; esac
	done
	return 1
}

nproc_of() { rt ps --format json "$1" 2>/dev/null | json_get 'len(d)'; }
is_stopped() { [ "$(state_field "$1" status)" = stopped ]; }

# A process that fills 100 MiB of memory (busybox tail keeps its whole input when it has no newline).
HOG='head -c 100m /dev/zero | tail >/dev/null'
HOG200='head -c 200m /dev/zero | tail >/dev/null'
MEM64='r["memory"] = {"limit": 64 * 1024 * 1024, "swap": 64 * 1024 * 1024}'

# --- memory: a hog over the limit is OOM-killed and `events` reports it -----------------------
# The init survives its hog (a child), so the container keeps running until the test kills it.
id=$T_PREFIX-oom
B=$(bundle oom "$MEM64" sh -c "while [ ! -e /shared/go ]; do sleep 0.05; done; $HOG && echo survived >/shared/oom.out; touch /shared/hog.done; exec sleep 1000")
rt run -d --bundle "$B" "$id" >>"$LOG" 2>&1
ok $? "run a container under a 64 MiB memory limit"
limit_file=$(cg_file "$id" memory memory.limit_in_bytes)
is "$(cat "$limit_file" 2>/dev/null)" $((64 * MIB)) "memory.limit_in_bytes is 64 MiB"
is "$(cat "${limit_file%/*}/memory.memsw.limit_in_bytes" 2>/dev/null)" $((64 * MIB)) \
	"memory.memsw.limit_in_bytes is 64 MiB (no swap)"
timeout 30 "$FERRY" --root "$T_ROOT" events --interval 200ms "$id" >"$T_WORK/oom.events" 2>"$T_WORK/oom.err" &
ev=$!
at_exit "kill $ev"
sleep 0.5
touch "$SHARED/go"
wait_for test -e "$SHARED/hog.done"
ok $? "the hog ended"
[ -e "$SHARED/oom.out" ]
ok $((!$?)) "the hog did not get past the limit"
oom_line="{\"type\":\"oom\",\"id\":\"$id\"}"
wait_for grep -qF "$oom_line" "$T_WORK/oom.events"
ok $? "events printed $oom_line"
# runc reports each OOM notification of memory.oom_control (often several for one kill)
is_ferry && is "$(grep -cF "$oom_line" "$T_WORK/oom.events")" 1 "ferry: one oom line for one OOM kill"
rt kill "$id" KILL >>"$LOG" 2>&1
if is_ferry; then
	wait "$ev"
	is "$?" 0 "events exits 0 when the container stops"
else
	kill "$ev" 2>/dev/null
	wait "$ev"
fi
diag "events: $(grep -c stats "$T_WORK/oom.events") stats lines; stderr: $(head -c 200 "$T_WORK/oom.err")"
rt delete --force "$id" >>"$LOG" 2>&1

# --- events --stats: runc's shape, with the memory limit --------------------------------------
id=$T_PREFIX-stats
B=$(bundle stats "$MEM64; r['pids'] = {'limit': 16}" sleep 1000)
rt run -d --bundle "$B" "$id" >>"$LOG" 2>&1
ok $? "run a container for events --stats"
out=$(rt events --stats "$id" 2>&1)
is "$(grep -c '' <<<"$out")" 1 "events --stats prints one line"
is "$(json_get 'd["type"]' <<<"$out" 2>&1)" stats "its type is stats"
is "$(json_get 'd["id"]' <<<"$out" 2>&1)" "$id" "its id is the container's"
is "$(json_get 'd["data"]["memory"]["usage"]["limit"]' <<<"$out" 2>&1)" $((64 * MIB)) \
	"data.memory.usage.limit is the 64 MiB limit"
like "$(json_get 'd["data"]["memory"]["usage"]["usage"]' <<<"$out" 2>&1)" '^[1-9][0-9]*$' \
	"data.memory.usage.usage is a positive number"
is "$(json_get 'd["data"]["pids"]["current"]' <<<"$out" 2>&1)" 1 "data.pids.current is 1"
like "$(json_get 'd["data"]["cpu"]["usage"]["total"]' <<<"$out" 2>&1)" '^[0-9]+$' \
	"data.cpu.usage.total is a number"
"$FERRY" --root "$T_ROOT" events --interval 300ms "$id" >"$T_WORK/stats.events" 2>&1 &
ev=$!
(sleep 10 && kill -9 "$ev") 2>/dev/null &
watchdog=$!
at_exit "kill $ev $watchdog"
sleep 1.2
kill -TERM "$ev"
wait "$ev"
rc=$?
kill "$watchdog" 2>/dev/null
if is_ferry; then
	is "$rc" 0 "events stops cleanly on SIGTERM"
else
	ok $((rc == 137)) "events stops on SIGTERM"
fi
n=$(grep -c '"type":"stats"' "$T_WORK/stats.events")
ok $(((n >= 2 && n <= 5) ? 0 : 1)) "events --interval 300ms printed a stats line about every 300 ms ($n in 1.2 s)"

# --- update: raise the memory limit of a running container; the same hog then fits --------------
out=$(rt exec "$id" sh -c "$HOG200 && echo survived" 2>&1)
ok "$([ "$out" != survived ] && echo 0 || echo 1)" "a 200 MiB hog does not survive the 64 MiB limit"
rt update --memory 300M --memory-swap 300M "$id" >"$T_WORK/update.out" 2>&1
ok $? "update --memory 300M --memory-swap 300M"
limit_file=$(cg_file "$id" memory memory.limit_in_bytes)
is "$(cat "$limit_file" 2>/dev/null)" 314572800 "memory.limit_in_bytes is now 300 MiB"
is "$(cat "${limit_file%/*}/memory.memsw.limit_in_bytes" 2>/dev/null)" 314572800 \
	"memory.memsw.limit_in_bytes is now 300 MiB"
out=$(rt exec "$id" sh -c "$HOG200 && echo survived" 2>&1)
is "$out" survived "the 200 MiB hog survives after the update"
out=$(rt events --stats "$id" 2>&1)
is "$(json_get 'd["data"]["memory"]["usage"]["limit"]' <<<"$out" 2>&1)" 314572800 \
	"events --stats shows the new limit"
rt update --pids-limit 32 "$id" >>"$LOG" 2>&1
ok $? "update --pids-limit 32"
is "$(cat "$(cg_file "$id" pids pids.max)" 2>/dev/null)" 32 "pids.max is now 32"
if is_ferry; then
	out=$(rt limits "$id" 2>&1)
	is "$(json_get 'd["memory"]["limit"]' <<<"$out" 2>&1)" 314572800 \
		"limits ID shows the updated memory limit, not the config's"
	is "$(json_get 'd["pids"]["limit"]' <<<"$out" 2>&1)" 32 "limits ID shows the updated pids limit"
	out=$(echo '{"cpu": {"shares": 512}}' | rt update -r - "$id" 2>&1)
	ok $? "update -r - (linux.resources JSON on stdin)"
	is "$(cat "$(cg_file "$id" cpu cpu.shares)" 2>/dev/null)" 512 "cpu.shares is now 512"
else
	skip "ferry only: limits ID" 4
fi

# --- update: bad input is refused with one clear line, and changes nothing ----------------------
shares_before=$(cat "$(cg_file "$id" cpu cpu.shares)" 2>/dev/null)
bad_update() { # bad_update DESC REGEX ARGS...
	local desc=$1 re=$2 rc
	shift 2
	rt update "$@" "$id" </dev/null >"$T_WORK/bad.out" 2>"$T_WORK/bad.err"
	rc=$?
	ok $((rc == 0)) "$desc: fails"
	if is_ferry; then
		is "$(grep -c '' "$T_WORK/bad.err")" 1 "$desc: one line on stderr"
		like "$(cat "$T_WORK/bad.err")" "$re" "$desc: the message names the problem"
	fi
}
bad_update "update --memory -5" 'memory.*-5' --memory -5
bad_update "update --memory 12qb" 'memory.*12qb' --memory 12qb
bad_update "update --cpu-share 1" 'cpu-share' --cpu-share 1
if is_ferry; then
	is "$(cat "$(cg_file "$id" cpu cpu.shares)" 2>/dev/null)" "$shares_before" \
		"cpu.shares unchanged after the refused update"
fi
echo '{"memory": {"limit": ' >"$T_WORK/notjson"
bad_update "update -r with a file that is not JSON" 'JSON|json' -r "$T_WORK/notjson"
bad_update "update -r with a missing file" 'no-such-file' -r "$T_WORK/no-such-file"
is "$(cat "$limit_file" 2>/dev/null)" 314572800 "memory limit unchanged by the refused updates"
if is_ferry; then
	bad_update "update --l3-cache-schema (no Intel RDT)" 'RDT' --l3-cache-schema 'L3:0=f'
	bad_update "update --cpu-quota abc" 'cpu-quota.*abc' --cpu-quota abc
	rt events --interval 5 "$id" >/dev/null 2>"$T_WORK/bad.err"
	ok $(($? == 0)) "events --interval 5 (no unit) fails"
	like "$(cat "$T_WORK/bad.err")" 'interval' "the message names --interval"
fi
rt update --memory 10M no-such-container >/dev/null 2>&1
ok $(($? == 0)) "update of an unknown container fails"
rt delete --force "$id" >>"$LOG" 2>&1

# --- pids: a fork loop under pids.limit 16 cannot pass 16 ---------------------------------------
id=$T_PREFIX-pids
FORKS='(i=0; while [ $i -lt 40 ]; do sleep 1000 & i=$((i+1)); done) 2>/dev/null; exec sleep 1000'
B=$(bundle pids "r['pids'] = {'limit': 16}" sh -c "$FORKS")
rt run -d --bundle "$B" "$id" >>"$LOG" 2>&1
ok $? "run a fork loop under pids.limit 16"
is "$(cat "$(cg_file "$id" pids pids.max)" 2>/dev/null)" 16 "pids.max is 16"
refused() { [ "$(awk '$1 == "max" {print $2}' "$(cg_file "$id" pids pids.events)")" -gt 0 ]; }
wait_for refused
ok $? "the fork loop reached the limit (pids.events counts a refused fork)"
sleep 0.3
n=$(nproc_of "$id")
ok $(((n >= 12 && n <= 16) ? 0 : 1)) "the container holds at most 16 processes (ps: $n)"
cur=$(cat "$(cg_file "$id" pids pids.current)" 2>/dev/null)
ok $(((cur >= 12 && cur <= 16) ? 0 : 1)) "pids.current is at most 16 ($cur)"
rt delete --force "$id" >>"$LOG" 2>&1

# --- cpu: a busy loop under quota 20000/100000 gets about 20% of a CPU --------------------------
id=$T_PREFIX-cpu
B=$(bundle cpu "r['cpu'] = {'quota': 20000, 'period': 100000}" sh -c 'while :; do :; done')
rt run -d --bundle "$B" "$id" >>"$LOG" 2>&1
ok $? "run a busy loop under a 20% CPU quota"
is "$(cat "$(cg_file "$id" cpu cpu.cfs_quota_us)" 2>/dev/null)" 20000 "cpu.cfs_quota_us is 20000"
is "$(cat "$(cg_file "$id" cpu cpu.cfs_period_us)" 2>/dev/null)" 100000 "cpu.cfs_period_us is 100000"
usage=$(cg_file "$id" cpuacct cpuacct.usage)
sleep 0.3
u0=$(cat "$usage" 2>/dev/null || echo 0)
t0=$(date +%s%N)
sleep 1.2
u1=$(cat "$usage" 2>/dev/null || echo 0)
t1=$(date +%s%N)
pct=$(((u1 - u0) * 100 / (t1 - t0)))
ok $(((pct >= 10 && pct <= 35) ? 0 : 1)) "the busy loop used about 20% of a CPU ($pct%)"
rt update --cpu-quota 50000 "$id" >>"$LOG" 2>&1
ok $? "update --cpu-quota 50000"
is "$(cat "$(cg_file "$id" cpu cpu.cfs_quota_us)" 2>/dev/null)" 50000 "cpu.cfs_quota_us is now 50000"
u0=$(cat "$usage" 2>/dev/null || echo 0)
t0=$(date +%s%N)
sleep 1.2
u1=$(cat "$usage" 2>/dev/null || echo 0)
t1=$(date +%s%N)
pct=$(((u1 - u0) * 100 / (t1 - t0)))
ok $(((pct >= 38 && pct <= 65) ? 0 : 1)) "then about 50% of a CPU ($pct%)"
rt delete --force "$id" >>"$LOG" 2>&1

# --- devices: a device not in the allowed list cannot be opened ---------------------------------
# The nodes live in the shared host directory; /dev/kmsg's numbers (c 1:11) are not among the
# default devices, so only an explicit rule allows it (root may open it for writing otherwise).
mknod "$SHARED/kmsg" c 1 11 && mknod "$SHARED/null" c 1 3
ok $? "make device nodes in the shared directory"
OPEN='cat /shared/null && echo null-ok; (exec 3>/shared/kmsg) 2>/dev/null && echo kmsg-ok || echo kmsg-denied'
B=$(bundle devdeny "" sh -c "$OPEN")
out=$(rt_limited run --bundle "$B" "$T_PREFIX-devdeny" 2>&1)
like "$out" 'null-ok' "a default device (c 1:3) opens"
like "$out" 'kmsg-denied' "a device outside the allowed list (c 1:11) cannot be opened"
B=$(bundle devallow "r.setdefault('devices', []).append({'allow': True, 'type': 'c', 'major': 1, 'minor': 11, 'access': 'w'})" sh -c "$OPEN")
out=$(rt_limited run --bundle "$B" "$T_PREFIX-devallow" 2>&1)
like "$out" 'kmsg-ok' "the same device opens once resources.devices allows c 1:11"
# As runc, the default devices are allowed after the config's rules: denying /dev/zero there
# does not take it away.
B=$(bundle devzero "r.setdefault('devices', []).append({'allow': False, 'type': 'c', 'major': 1, 'minor': 5, 'access': 'rwm'})" \
	sh -c 'head -c 3 /dev/zero | wc -c')
out=$(rt_limited run --bundle "$B" "$T_PREFIX-devzero" 2>&1)
is "$out" 3 "a rule denying a default device (/dev/zero) is overridden by the defaults, as runc"
rt delete --force "$T_PREFIX-devzero" >/dev/null 2>&1
rt delete --force "$T_PREFIX-devdeny" >/dev/null 2>&1
rt delete --force "$T_PREFIX-devallow" >/dev/null 2>&1

# --- limits --bundle: the config's limits in each format ---------------------------------------
if is_ferry; then
	B=$(bundle rctlbox "r['cpu'] = {'quota': 50000, 'period': 100000}; r['memory'] = {'limit': 512 * 1024 * 1024}" sleep 1)
	out=$(rt limits --bundle "$B" --format rctl 2>&1)
	ok $? "limits --bundle --format rctl"
	like "$out" '(^|'$'\n'')jail:rctlbox:pcpu:deny=50($|'$'\n'')' "rctl: jail:rctlbox:pcpu:deny=50"
	like "$out" '(^|'$'\n'')jail:rctlbox:memoryuse:deny=536870912($|'$'\n'')' \
		"rctl: jail:rctlbox:memoryuse:deny=536870912"
	out=$(rt limits --bundle "$B" 2>&1)
	is "$(json_get 'd["memory"]["limit"]' <<<"$out" 2>&1)" 536870912 "json: memory.limit"
	is "$(json_get 'd["cpu"]["quota"]' <<<"$out" 2>&1)" 50000 "json: cpu.quota"
	out=$(rt limits --bundle "$B" --format cgroup1 2>&1)
	like "$out" 'memory\.limit_in_bytes 536870912' "cgroup1: memory.limit_in_bytes"
	out=$(rt limits --bundle "$B" --format cgroup2 2>&1)
	like "$out" 'cpu\.max 50000 100000' "cgroup2: cpu.max"
	rt limits --bundle "$B" --format yaml >/dev/null 2>&1
	ok $(($? == 0)) "limits --format yaml fails"
	rt limits --bundle "$T_WORK/no-such-bundle" >/dev/null 2>&1
	ok $(($? == 0)) "limits --bundle of a missing bundle fails"
else
	skip "ferry only: limits" 9
fi

# --- a cgroupsPath that climbs out is refused, and nothing is created ---------------------------
if is_ferry; then
	id=$T_PREFIX-escape
	B=$(bundle escape "c['linux']['cgroupsPath'] = '../../$id'" sleep 1000)
	snap=$(pid_snapshot)
	rt create --bundle "$B" "$id" >"$T_WORK/esc.out" 2>"$T_WORK/esc.err"
	ok $(($? == 0)) "create with cgroupsPath ../../ID fails"
	like "$(cat "$T_WORK/esc.err")" 'cgroupsPath|\.\.' "the message names cgroupsPath"
	is "$(leftovers "$id" "$B" "$snap")" "" "nothing left behind"
else
	skip "ferry only: runc cleans cgroupsPath instead of refusing it" 3
fi

done_testing

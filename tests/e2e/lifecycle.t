#!/bin/bash
# lifecycle.t: create/start/kill/delete, run (foreground and detached), pause/resume, list, ps,
# and the file descriptors a container starts with.
. "$(dirname "$0")/../lib.sh"

SHARED=$T_WORK/shared
mkdir -p "$SHARED"
LOG=$T_WORK/container.log

# bundle NAME ARGS...: a bundle at $T_WORK/NAME running ARGS, with $SHARED bound at /shared
# (all bundles share one rootfs).
if ! make_bundle_fast "$T_WORK/base" >/dev/null || ! add_bind "$T_WORK/base" "$SHARED" /shared; then
	ok 1 "make bundle"
	done_testing
	exit 1
fi
bundle() {
	local dir=$T_WORK/$1
	shift
	clone_bundle "$T_WORK/base" "$dir" "$@" && echo "$dir"
}

pid_gone() { ! pid_alive "$1"; }
is_status() { [ "$(state_field "$1" status)" = "$2" ]; }

# A process that writes /shared/up.<name> once started and exits 0 on SIGTERM.
WAITER='trap "exit 0" TERM; echo up > /shared/up.$0; while :; do sleep 0.1; done'

# --- create, start, kill (by name, SIG name, number), delete ---------------------------------
B=$(bundle waiter sh -c "$WAITER" "$T_PREFIX")
for sig in TERM SIGTERM 15; do
	id=$T_PREFIX-$sig
	rm -f "$SHARED/up.$T_PREFIX"
	rt create --bundle "$B" --pid-file "$T_WORK/$sig.pid" "$id" >>"$LOG" 2>&1
	ok $? "create $id (kill with $sig)"
	pid=$(cat "$T_WORK/$sig.pid" 2>/dev/null)
	like "$pid" '^[0-9]+$' "pid file holds a pid"
	ok "$(pid_alive "$pid" && echo 0 || echo 1)" "the pid from the pid file exists"
	ok "$([ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] && echo 0 || echo 1)" \
		"that pid lives in its own pid namespace"
	is "$(state_field "$id" status)" created "state says created"
	is "$(state_field "$id" pid)" "$pid" "state pid matches the pid file"
	ok "$([ ! -e "$SHARED/up.$T_PREFIX" ] && echo 0 || echo 1)" "the user process has not run before start"
	cgroups=$(cgroup_dirs "$pid")
	ok "$([ -n "$cgroups" ] && echo 0 || echo 1)" "the container has cgroups of its own"
	missing=$(for d in $cgroups; do [ -d "$d" ] || echo "$d"; done)
	is "$missing" "" "its cgroup directories exist"

	rt start "$id"
	ok $? "start $id"
	wait_for test -e "$SHARED/up.$T_PREFIX"
	ok $? "the process really runs (wrote to the bound host dir)"
	is "$(state_field "$id" status)" running "state says running"

	rt kill "$id" "$sig"
	ok $? "kill $id $sig"
	wait_for is_status "$id" stopped
	is "$(state_field "$id" status)" stopped "state says stopped after $sig"
	wait_for pid_gone "$pid"
	ok $? "the init process is gone"

	rt delete "$id"
	ok $? "delete $id"
	rt state "$id" >/dev/null 2>&1
	ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "state of a deleted container fails"
	ok "$(rt list -q | grep -qxF "$id" && echo 1 || echo 0)" "list no longer shows it"
	ok "$([ ! -e "$T_ROOT/$id" ] && echo 0 || echo 1)" "its state directory is gone"
	left=$(for d in $cgroups; do [ -e "$d" ] && echo "$d"; done)
	is "$left" "" "its cgroup directories are gone"
done

# --- run in the foreground ---------------------------------------------------------------------
B=$(bundle exit7 sh -c 'echo out-of-container; exit 7')
id=$T_PREFIX-run
out=$(rt run --bundle "$B" "$id" 2>>"$LOG" </dev/null)
is "$?" 7 "run: the container's exit status propagates"
is "$out" out-of-container "run: stdout passes through"
rt state "$id" >/dev/null 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "run: the container is deleted after it exits"

# Signal forwarding: SIGTERM to the runtime reaches the container's init.
B=$(bundle trap3 sh -c 'trap "exit 3" TERM; echo up > /shared/up.trap3; while :; do sleep 0.1; done')
id=$T_PREFIX-fwd
"$FERRY" --root "$T_ROOT" run --bundle "$B" "$id" </dev/null >>"$LOG" 2>&1 &
runner=$!
at_exit "kill -9 $runner"
wait_for test -e "$SHARED/up.trap3"
ok $? "run: the foreground container started"
kill -TERM "$runner"
wait "$runner"
is "$?" 3 "run: SIGTERM to the runtime reaches the init (exit 3 from its trap)"

# run --detach
B=$(bundle detach sh -c "$WAITER" detach)
id=$T_PREFIX-detach
rt run --detach --bundle "$B" "$id" </dev/null >>"$LOG" 2>&1
ok $? "run --detach returns"
wait_for test -e "$SHARED/up.detach"
ok $? "run --detach: the process runs"
is "$(state_field "$id" status)" running "run --detach: state says running"

# delete --force of a running container
pid=$(state_field "$id" pid)
cgroups=$(cgroup_dirs "$pid")
rt delete --force "$id"
ok $? "delete --force of a running container"
wait_for pid_gone "$pid"
ok $? "delete --force: its init is gone"
rt state "$id" >/dev/null 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "delete --force: state fails afterwards"
left=$(for d in $cgroups; do [ -e "$d" ] && echo "$d"; done)
is "$left" "" "delete --force: its cgroup directories are gone"

# delete of a created container
id=$T_PREFIX-created
rt create --bundle "$B" --pid-file "$T_WORK/created.pid" "$id" >>"$LOG" 2>&1
ok $? "create (to delete without starting)"
pid=$(cat "$T_WORK/created.pid" 2>/dev/null)
rt delete "$id"
ok $? "delete of a created container"
wait_for pid_gone "$pid"
ok $? "delete of a created container: its init is gone"
ok "$([ ! -e "$T_ROOT/$id" ] && echo 0 || echo 1)" "delete of a created container: state dir gone"

# --- pause / resume ----------------------------------------------------------------------------
B=$(bundle counter sh -c 'i=0; while :; do i=$((i+1)); echo $i > /shared/count.tmp; mv /shared/count.tmp /shared/count; sleep 0.05; done')
id=$T_PREFIX-pause
rt run --detach --bundle "$B" "$id" </dev/null >>"$LOG" 2>&1
ok $? "run the counter"
wait_for test -s "$SHARED/count"
rt pause "$id"
ok $? "pause"
is "$(state_field "$id" status)" paused "state says paused"
sleep 0.2
c1=$(cat "$SHARED/count")
sleep 0.6
c2=$(cat "$SHARED/count")
is "$c2" "$c1" "the counter does not advance while paused"
rt resume "$id"
ok $? "resume"
is "$(state_field "$id" status)" running "state says running after resume"
counter_past() { [ "$(cat "$SHARED/count" 2>/dev/null || echo 0)" -gt "$1" ]; }
wait_for counter_past "$((c2 + 3))"
ok $? "the counter advances after resume"
rt delete --force "$id" >>"$LOG" 2>&1

# --- list and ps ------------------------------------------------------------------------------
B=$(bundle family sh -c 'trap "exit 0" TERM; sleep 100 & sleep 100 & echo up > /shared/up.family; wait')
id=$T_PREFIX-family
rt run --detach --bundle "$B" "$id" </dev/null >>"$LOG" 2>&1
ok $? "run a container with children"
wait_for test -e "$SHARED/up.family"
init=$(state_field "$id" pid)

table=$(rt list)
like "$(head -n1 <<<"$table")" '^ID +PID +STATUS +BUNDLE +CREATED +OWNER *$' "list: table header"
like "$(grep -E "^$id " <<<"$table")" "^$id +$init +running +$B " "list: a row with id, pid, status, bundle"
is "$(rt list -q)" "$id" "list -q prints the id alone"
got=$(rt list --format json | json_get '[(c["id"], c["pid"], c["status"], c["bundle"]) for c in d]')
is "$got" "[[\"$id\", $init, \"running\", \"$B\"]]" "list --format json"

table=$(rt ps "$id")
col=$(head -n1 <<<"$table" | awk '{for (i = 1; i <= NF; i++) if ($i == "PID") print i}')
like "$col" '^[0-9]+$' "ps: the table has a PID column"
tpids=$(tail -n +2 <<<"$table" | awk -v c="${col:-2}" '{print $c}' | sort -n | tr '\n' ' ')
jpids=$(rt ps --format json "$id" | json_get '" ".join(str(p) for p in sorted(d))')
cgroups=$(cgroup_dirs "$init")
real=$(sort -n "${cgroups%%$'\n'*}/cgroup.procs" | tr '\n' ' ')
like " $jpids " " $init " "ps --format json includes the init pid"
is "$jpids " "$real" "ps --format json lists exactly the container's processes"
is "$tpids" "$real" "ps: the PID column lists the container's processes"
ok "$([ "$(wc -w <<<"$jpids")" -ge 3 ] && echo 0 || echo 1)" "ps sees the init and its two children"

# kill --all
rt kill --all "$id" KILL
ok $? "kill --all KILL"
all_gone() {
	local p
	for p in $jpids; do pid_alive "$p" && return 1; done
	return 0
}
wait_for all_gone
ok $? "kill --all: every process of the container is gone"
wait_for is_status "$id" stopped
is "$(state_field "$id" status)" stopped "kill --all: state says stopped"
rt delete "$id"
ok $? "delete after kill --all"

# --- file descriptors -----------------------------------------------------------------------------
exec 7</etc/hostname
B=$(bundle fds ls -l /proc/self/fd)
out=$(rt run --bundle "$B" "$T_PREFIX-fds" 2>>"$LOG" </dev/null)
ok $? "run ls -l /proc/self/fd"
exec 7<&-
fds=$(awk '/->/ {print $(NF-2)}' <<<"$out" | sort -n | tr '\n' ' ')
extra=$(awk '/->/ && $(NF-2) > 2 && $NF !~ /^\/proc\/[0-9]+\/fd$/ {print $(NF-2) " -> " $NF}' <<<"$out")
like "$fds" '^0 1 2 ([0-9]+ )?$' "only fds 0, 1, 2 (and ls's own) in the container: $fds"
is "$extra" "" "no fd leaked from the runtime or the test shell"

[ "$T_FAILED" -eq 0 ] || { diag "container output:"; sed 's/^/#   /' "$LOG"; }
done_testing

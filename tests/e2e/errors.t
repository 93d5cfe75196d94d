#!/bin/bash
# errors.t: every failure is one line on stderr, exit status 1, and leaves nothing behind
# (no state directory, no cgroup, no mount of the bundle, no process).
. "$(dirname "$0")/../lib.sh"

LOG=$T_WORK/container.log
BASE=$T_WORK/base
if ! make_bundle_fast "$BASE" sleep 100 >/dev/null; then
	ok 1 "make bundle"
	done_testing
	exit 1
fi

# work_listing: the files of this test's work dir (rootfs and command output aside).
work_listing() {
	find "$T_WORK" -maxdepth 3 -not -path "$BASE/rootfs*" -not -name 'cmd.*' | sort
}

# fails_cleanly DESC ID BUNDLE CMD...: CMD fails with status 1 and one line on stderr, and leaves
# nothing behind for container ID (empty: only the root and work dir listings are compared).
# Sets ERR to what CMD printed on stderr.
fails_cleanly() {
	local desc=$1 id=$2 bundle=$3 snap before rc left
	shift 3
	snap=$(pid_snapshot)
	before=$(work_listing)
	"$@" </dev/null >"$T_WORK/cmd.out" 2>"$T_WORK/cmd.err"
	rc=$?
	ERR=$(cat "$T_WORK/cmd.err")
	is "$rc" 1 "$desc: exit status 1"
	is "$(grep -c '' "$T_WORK/cmd.err")" 1 "$desc: one line on stderr"
	diag "  stderr: $(head -c 300 "$T_WORK/cmd.err" | head -n 3)"
	left=$(leftovers "$id" "$bundle" "$snap")
	[ "$(work_listing)" = "$before" ] || left+="new files: $(comm -13 <(echo "$before") <(work_listing) | tr '\n' ' ')"
	is "$left" "" "$desc: nothing left behind"
}

# bad_bundle NAME CODE: a bundle at $T_WORK/NAME sharing the base rootfs, with its config `c`
# changed by the Python statement CODE.
bad_bundle() {
	mkdir -p "$T_WORK/$1" && python3 - "$BASE" "$T_WORK/$1" "$2" <<'PY' && echo "$T_WORK/$1"
import json, os, sys
base, dst, code = sys.argv[1:]
c = json.load(open(os.path.join(base, 'config.json')))
c['root']['path'] = os.path.join(base, 'rootfs')
exec(code)
json.dump(c, open(os.path.join(dst, 'config.json'), 'w'), indent=2)
PY
}

# --- bad configurations ---------------------------------------------------------------------
B=$T_WORK/badjson
clone_bundle "$BASE" "$B"
printf '{ "ociVersion": "1.0.2", "process": { not json' >"$B/config.json"
fails_cleanly "broken JSON config" "$T_PREFIX-json" "$B" rt create --bundle "$B" "$T_PREFIX-json"
is_ferry && like "$ERR" 'config\.json|JSON|json' "ferry: the message says the config is not JSON"

B=$(bad_bundle wrongtype 'c["process"]["user"]["uid"] = "zero"')
fails_cleanly "a wrong-typed process.user.uid" "$T_PREFIX-type" "$B" rt create --bundle "$B" "$T_PREFIX-type"
is_ferry && like "$ERR" 'process\.user\.uid' "ferry: the message names process.user.uid"

B=$(bad_bundle wrongtype2 'c["process"]["args"] = "sh"')
fails_cleanly "a wrong-typed process.args" "$T_PREFIX-type2" "$B" rt create --bundle "$B" "$T_PREFIX-type2"
is_ferry && like "$ERR" 'process\.args' "ferry: the message names process.args"

B=$(bad_bundle norootfs "c['root']['path'] = '$T_WORK/no-such-rootfs'")
fails_cleanly "a missing rootfs" "$T_PREFIX-rootfs" "$B" rt create --bundle "$B" "$T_PREFIX-rootfs"
is_ferry && like "$ERR" 'no-such-rootfs' "ferry: the message names the rootfs path"

B=$(bad_bundle badns 'c["linux"]["namespaces"].append({"type": "nosuchns"})')
fails_cleanly "an unknown namespace type" "$T_PREFIX-ns" "$B" rt create --bundle "$B" "$T_PREFIX-ns"
is_ferry && like "$ERR" 'nosuchns' "ferry: the message names the namespace type"
is_ferry && like "$ERR" 'linux\.namespaces' "ferry: the message names linux.namespaces"

B=$(bad_bundle badmount 'c["mounts"].append({"destination": "/mnt", "type": "nosuchfs", "source": "none"})')
fails_cleanly "a mount that fails (type nosuchfs)" "$T_PREFIX-mount" "$B" \
	rt create --bundle "$B" "$T_PREFIX-mount"
is_ferry && like "$ERR" 'nosuchfs|/mnt' "ferry: the message names the failing mount"

# --- unknown container ------------------------------------------------------------------------
for cmd in state start kill delete; do
	fails_cleanly "$cmd of an unknown id" "$T_PREFIX-nosuch" "$BASE" rt "$cmd" "$T_PREFIX-nosuch"
	is_ferry && like "$ERR" "$T_PREFIX-nosuch|does not exist|not found" "ferry: $cmd: the message says so"
done

# --- malicious ids ------------------------------------------------------------------------------
long=$(printf 'a%.0s' {1..1024})
for bad in "../x" "a/b" "" "." ".." "$long" "../../../tmp/e2e-escape-$$"; do
	shown=${bad:0:20}
	fails_cleanly "create with id '$shown'" "" "$BASE" rt create --bundle "$BASE" "$bad"
	is "$(ls -A "$T_ROOT")" "" "create with id '$shown': the root holds nothing"
	[ -e "/tmp/e2e-escape-$$" ] && { ok 1 "an id escaped the root"; rm -rf "/tmp/e2e-escape-$$"; }
	is "$(cgroup_named x; cgroup_named b; cgroup_named "$long")" "" "create with id '$shown': no cgroup"
done
fails_cleanly "state with id '../x'" "" "$BASE" rt state "../x"

# --- a container that exists --------------------------------------------------------------------
id=$T_PREFIX-first
rt create --bundle "$BASE" --pid-file "$T_WORK/first.pid" "$id" </dev/null >>"$LOG" 2>&1
ok $? "create a first container"
pid=$(cat "$T_WORK/first.pid")
snap=$(pid_snapshot)
rt create --bundle "$BASE" "$id" </dev/null >"$T_WORK/cmd.out" 2>"$T_WORK/cmd.err"
is "$?" 1 "create with a duplicate id: exit status 1"
is "$(grep -c '' "$T_WORK/cmd.err")" 1 "create with a duplicate id: one line on stderr"
is "$(new_runtime_pids "$snap")" "" "create with a duplicate id: no process left"
is_ferry && like "$(cat "$T_WORK/cmd.err")" 'exists' "ferry: the message says the id exists"
is "$(state_field "$id" status)" created "the first container is still created"
is "$(state_field "$id" pid)" "$pid" "the first container keeps its pid"
ok "$([ -d "/proc/$pid" ] && echo 0 || echo 1)" "the first container's init is alive"
rt start "$id"
ok $? "the first container still starts"
is "$(state_field "$id" status)" running "the first container runs"

fails_cleanly "start of a running container" "" "$BASE" rt start "$id"
is "$(state_field "$id" status)" running "the container still runs after the failed start"

snap=$(pid_snapshot)
rt exec "$id" /no/such/program </dev/null >"$T_WORK/cmd.out" 2>"$T_WORK/cmd.err"
rc=$?
ok "$([ $rc -ne 0 ] && echo 0 || echo 1)" "exec of a path that does not exist fails ($rc)"
is_ferry && is "$rc" 1 "ferry: exec of a path that does not exist: exit status 1"
is "$(grep -c '' "$T_WORK/cmd.err")" 1 "exec of a missing path: one line on stderr"
like "$(cat "$T_WORK/cmd.err")" '/no/such/program' "exec of a missing path: the message names it"
is "$(new_runtime_pids "$snap")" "" "exec of a missing path: no process left"
is "$(rt ps --format json "$id" | json_get 'd')" "[$pid]" "exec of a missing path: only the init runs"
is "$(state_field "$id" status)" running "the container still runs after the failed exec"

rt delete --force "$id" >>"$LOG" 2>&1
ok $? "delete the first container"
[ "$T_FAILED" -eq 0 ] || { diag "container output:"; sed 's/^/#   /' "$LOG"; }
done_testing

#!/bin/bash
# debian.t: a real Debian bookworm minbase rootfs made by debootstrap (scripts/debian-rootfs, built
# once and cached under /var/cache/ferry-tests): run, bash, dynamic linking and NSS inside, then
# create, start, exec, ps, pause, resume, kill and delete. The rootfs is shared between runs, so
# it is mounted read-only (tmpfs on /tmp and /run) and the test checks that it is left unchanged.
# FERRY_DEBIAN_ROOTFS: another directory for the rootfs. FERRY_SKIP_NET_TESTS=1: skip when the
# rootfs is not built yet and the Debian mirror cannot be reached (otherwise that is a failure).
. "$(dirname "$0")/../lib.sh"

LOG=$T_WORK/container.log
ERR=$T_WORK/debian-rootfs.err
ROOTFS=$("$TOP/scripts/debian-rootfs" ${FERRY_DEBIAN_ROOTFS:+"$FERRY_DEBIAN_ROOTFS"} 2>"$ERR")
rc=$?
if [ $rc -ne 0 ]; then
	if [ $rc -eq 2 ] && [ "${FERRY_SKIP_NET_TESTS:-}" = 1 ]; then
		skip_all "no Debian rootfs and the Debian mirror is unreachable (FERRY_SKIP_NET_TESTS=1)"
	fi
	sed 's/^/# /' "$ERR"
	why="scripts/debian-rootfs failed (exit $rc)"
	[ $rc -eq 2 ] && why="the Debian mirror is unreachable, so there is no Debian rootfs to test"
	[ $rc -eq 2 ] && why+=" (set FERRY_SKIP_NET_TESTS=1 to skip this test)"
	ok 1 "make the Debian bookworm rootfs: $why"
	done_testing
	exit 1
fi
[ -s "$ERR" ] && sed 's/^/# /' "$ERR"
ok 0 "Debian rootfs at $ROOTFS"

# Files changed in the rootfs from here on (by mtime or ctime) show the test modified it.
MARK=$T_WORK/mark
touch "$MARK"

# A bundle from the runtime's own `spec`, whose root is the shared rootfs, read-only.
B=$T_WORK/bundle
mkdir -p "$B" && (cd "$B" && "$FERRY" spec) &&
	python3 - "$B/config.json" "$ROOTFS" "$T_WORK" <<'PY'
import json, sys
path, rootfs, work = sys.argv[1:]
with open(path) as f:
    c = json.load(f)
c['root'] = {'path': rootfs, 'readonly': True}
c['process']['terminal'] = False
c['process']['env'].append('E2E_WORK=' + work)
for d in ('/tmp', '/run'):
    c['mounts'].append({'destination': d, 'type': 'tmpfs', 'source': 'tmpfs',
                        'options': ['nosuid', 'nodev', 'mode=1777']})
with open(path, 'w') as f:
    json.dump(c, f, indent=2)
PY
ok $? "bundle from \`spec\` with the Debian rootfs read-only, tmpfs on /tmp and /run"

n=0
# drun ARGS...: `run` of ARGS in a new container (foreground), stdout to ours.
drun() {
	n=$((n + 1))
	clone_bundle "$B" "$T_WORK/b$n" "$@" || return 1
	rt run --bundle "$T_WORK/b$n" "$T_PREFIX-run$n" </dev/null 2>>"$LOG"
}

# --- run ---------------------------------------------------------------------------------------
out=$(drun cat /etc/debian_version)
is "$?" 0 "run cat /etc/debian_version exits 0"
like "$out" '^12\.[0-9]+$' "/etc/debian_version is bookworm (12.x): $out"
# shellcheck disable=SC2016 # expanded by the container's bash
out=$(drun /bin/bash -c 'echo "$BASH_VERSION"')
is "$?" 0 "run /bin/bash -c exits 0"
like "$out" '^5\.[0-9]+\.' "bash runs and reports its version: $out"
out=$(drun apt-get --version)
is "$?" 0 "run apt-get --version exits 0 (dynamically linked against the rootfs's libraries)"
out=$(head -n 1 <<<"$out")
like "$out" '^apt [0-9]+\.[0-9.]+ \(' "apt-get --version: $out"
out=$(drun sh -c 'echo data >/tmp/f && cat /tmp/f && ! touch /etc/ferry-e2e 2>/dev/null && echo ro')
is "$out" $'data\nro' "/tmp is writable (tmpfs), the root is read-only"
out=$(drun sh -c 'exit 3')
is "$?" 3 "run: the exit status of /bin/sh (dash) propagates"

# --- create, start, exec, ps, pause, resume, kill, delete --------------------------------------
id=$T_PREFIX-sleep
clone_bundle "$B" "$T_WORK/sleep" sleep 1000
rt create --bundle "$T_WORK/sleep" "$id" </dev/null >>"$LOG" 2>&1
ok $? "create sleep 1000"
is "$(status_of "$id")" created "state: created"
rt start "$id" >>"$LOG" 2>&1
ok $? "start"
is "$(status_of "$id")" running "state: running"
init=$(state_field "$id" pid)
like "$init" '^[0-9]+$' "state: the init's pid"
is "$(tr '\0' ' ' <"/proc/$init/cmdline" 2>/dev/null)" "sleep 1000 " "the init is Debian's sleep"

# xrt ARGS...: exec in the container with no stdin; stderr to the log.
xrt() { rt exec "$@" </dev/null 2>>"$LOG"; }
is "$(xrt "$id" cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 " \
	"exec: /proc/1/cmdline is the init"
is "$(xrt "$id" cat /etc/debian_version)" "$(cat "$ROOTFS/etc/debian_version")" \
	"exec sees the Debian rootfs"
is "$(xrt --user 65534:65534 "$id" id -u)" 65534 "exec --user 65534:65534: id -u"
is "$(xrt --user 65534:65534 "$id" id -un)" nobody "exec --user 65534:65534: id -un is nobody (NSS)"
is "$(xrt "$id" id -un)" root "exec: id -un is root"

rt exec --detach --pid-file "$T_WORK/exec.pid" "$id" sleep 999 </dev/null >>"$LOG" 2>&1
ok $? "exec --detach sleep 999"
xpid=$(cat "$T_WORK/exec.pid" 2>/dev/null)
like "$xpid" '^[0-9]+$' "exec --pid-file holds a pid"
pids=" $(rt ps --format json "$id" 2>>"$LOG" | json_get '" ".join(map(str, sorted(d)))') "
# has_pid PID: true when PID is a number in $pids.
has_pid() { [[ $1 =~ ^[0-9]+$ && $pids == *" $1 "* ]]; }
ok "$(has_pid "$init" && echo 0 || echo 1)" "ps --format json lists the init ($init): $pids"
ok "$(has_pid "$xpid" && echo 0 || echo 1)" "ps --format json lists the exec'd process"
table=$(rt ps "$id" 2>>"$LOG")
like "$table" 'sleep 1000' "ps (table) shows sleep 1000"
like "$table" 'sleep 999' "ps (table) shows sleep 999"

rt pause "$id" >>"$LOG" 2>&1
ok $? "pause"
is "$(status_of "$id")" paused "state: paused"
rt resume "$id" >>"$LOG" 2>&1
ok $? "resume"
is "$(status_of "$id")" running "state: running again"
is "$(xrt "$id" cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 " "exec works after resume"

rt kill "$id" KILL >>"$LOG" 2>&1
ok $? "kill KILL"
is_status() { [ "$(state_field "$1" status)" = "$2" ]; }
wait_for is_status "$id" stopped
is "$(status_of "$id")" stopped "state: stopped"
rt delete "$id" >>"$LOG" 2>&1
ok $? "delete"
rt state "$id" >/dev/null 2>&1
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "state of the deleted container fails"
ok "$([ -n "$xpid" ] && ! pid_alive "$xpid" && echo 0 || echo 1)" "the exec'd process is gone too"

# --- nothing left behind ----------------------------------------------------------------------
is "$(ls "$T_ROOT")" "" "no container state left in the root"
is "$(grep -F " $ROOTFS" /proc/self/mountinfo)" "" "nothing mounted on the rootfs on the host"
changed=$(find "$ROOTFS" -xdev \( -newer "$MARK" -o -cnewer "$MARK" \) -print 2>/dev/null |
	head -n 5)
is "$changed" "" "the shared rootfs is unchanged"
[ -s "$LOG" ] && [ "$T_FAILED" -ne 0 ] && sed 's/^/# log: /' "$LOG"
done_testing

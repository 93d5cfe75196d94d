# shellcheck shell=bash
# Shared helpers for the end-to-end tests (TAP). Source it from a tests/e2e/*.t script:
#   . "$(dirname "$0")/../lib.sh"
# FERRY: the runtime under test (default: the built ./ferry); tests also pass with FERRY=runc.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRY=${FERRY:-$TOP/ferry}
T_NUM=0
T_FAILED=0
T_NAME=$(basename "$0" .t)
# Every test gets its own root, bundle directory and container id prefix.
T_WORK=$(mktemp -d "/tmp/ferry-e2e-$T_NAME.XXXXXX")
T_ROOT=$T_WORK/root
T_PREFIX="e2e-$T_NAME-$$"
mkdir -p "$T_ROOT"
T_CLEANUPS=()

ok() { # ok COND_STATUS DESCRIPTION
	local status=$1
	shift
	T_NUM=$((T_NUM + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $T_NUM - $*"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $*"
	fi
}

is() { # is GOT WANT DESCRIPTION
	local got=$1 want=$2
	shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %s\n#   expected: %s\n' "$got" "$want"
	fi
}

like() { # like GOT REGEX DESCRIPTION
	local got=$1 re=$2
	shift 2
	if [[ "$got" =~ $re ]]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		printf '#   got:      %s\n#   expected to match: %s\n' "$got" "$re"
	fi
}

diag() { echo "# $*"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

# Registers a command to run at exit (in reverse order).
at_exit() { T_CLEANUPS+=("$*"); }

t_cleanup() {
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUPS[$i]}" >/dev/null 2>&1 || true
	done
	# Remove every container this test made, then the work directory.
	if [ -d "$T_ROOT" ]; then
		for d in "$T_ROOT"/*/; do
			[ -d "$d" ] || continue
			"$FERRY" --root "$T_ROOT" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
		done
	fi
	umount -R "$T_WORK" >/dev/null 2>&1 || true
	rm -rf "$T_WORK"
}

done_testing() {
	echo "1..$T_NUM"
	[ "$T_FAILED" -eq 0 ]
}

trap t_cleanup EXIT

# rt ARGS...: the runtime with this test's root.
rt() { "$FERRY" --root "$T_ROOT" "$@"; }

# make_bundle DIR [ARGS...]: a busybox bundle at DIR whose process runs ARGS (default: sh),
# from the runtime's own `spec`, with terminal off. Edit DIR/config.json with jq_edit.
make_bundle() {
	make_bundle_fast "$@"
}

# jq_edit DIR EXPR: edits DIR/config.json with a Python expression over `c` (the config dict),
# written as statements separated by ';' with '.a.b' paths, e.g. '.process.cwd = "/tmp"'.
jq_edit() {
	local dir=$1 expr=$2
	python3 - "$dir/config.json" "$expr" <<'PY'
import json, re, sys
path, expr = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
def conv(m):
    parts = m.group(0)[1:].split('.')
    return 'c' + ''.join('[%r]' % p for p in parts)
code = re.sub(r'(?<![\w\]\)])\.[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*', conv, expr)
exec(code, {'c': c, 'False': False, 'True': True, 'null': None, 'true': True, 'false': False})
with open(path, 'w') as f:
    json.dump(c, f, indent=2)
PY
}

# wait_for CMD...: retries CMD for up to 10 s.
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# status_of ID: the container's status from `state`.
status_of() {
	rt state "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}

[ "$(id -u)" -eq 0 ] || skip_all "needs root"

# ---- lifecycle and leftover helpers ----

# add_bind DIR HOSTDIR DEST: adds a read-write bind mount of HOSTDIR at DEST to DIR/config.json.
add_bind() {
	python3 - "$1/config.json" "$2" "$3" <<'PY'
import json, sys
path, src, dst = sys.argv[1:]
with open(path) as f:
    c = json.load(f)
c.setdefault('mounts', []).append(
    {'destination': dst, 'type': 'bind', 'source': src, 'options': ['rbind', 'rw']})
with open(path, 'w') as f:
    json.dump(c, f, indent=2)
PY
}

# cgroup_dirs PID: the host directories of PID's cgroups that this shell is not in, one a line.
cgroup_dirs() {
	python3 - "$1" "$$" <<'PY'
import sys
def groups(pid):
    out = {}
    with open('/proc/%s/cgroup' % pid) as f:
        for line in f:
            hid, ctrls, path = line.rstrip('\n').split(':', 2)
            out[(hid, ctrls)] = path
    return out
mounts = []
with open('/proc/self/mountinfo') as f:
    for line in f:
        a, b = line.split(' - ', 1)
        a, b = a.split(), b.split()
        if b[0] in ('cgroup', 'cgroup2'):
            mounts.append((b[0], a[3], a[4], set(b[2].split(','))))
mine, theirs = groups(sys.argv[2]), groups(sys.argv[1])
for key, path in theirs.items():
    if mine.get(key) == path:
        continue
    hid, ctrls = key
    for fstype, root, point, opts in mounts:
        if (hid == '0' and fstype == 'cgroup2') or \
           (fstype == 'cgroup' and ctrls and set(ctrls.split(',')) <= opts):
            rel = path[len(root):] if root != '/' and path.startswith(root) else path
            print(point.rstrip('/') + rel)
            break
PY
}

# cgroup_named ID: any cgroup directory named ID on the host, one a line.
cgroup_named() { find /sys/fs/cgroup -maxdepth 7 -type d -name "$1" 2>/dev/null; }

# pid_snapshot: the pids that exist now, one a line (compare with new_runtime_pids).
pid_snapshot() { ls /proc | grep -E '^[0-9]+$' | sort; }

# new_runtime_pids SNAPSHOT: live pids not in SNAPSHOT that belong to this test's containers or
# runtime: their root or working directory is inside this test's work dir, or their command line
# or environment names it (E2E_WORK from make_bundle_fast); other tests' processes do not count.
new_runtime_pids() {
	local snap=$1 p st args envs k v
	for p in $(pid_snapshot | comm -13 <(printf '%s\n' "$snap") -); do
		st=
		while read -r k v _; do
			[ "$k" = State: ] && st=$v && break
		done 2>/dev/null <"/proc/$p/status"
		[ -z "$st" ] || [ "$st" = Z ] && continue
		mapfile -d '' args 2>/dev/null <"/proc/$p/cmdline"
		mapfile -d '' envs 2>/dev/null <"/proc/$p/environ"
		if [[ " ${envs[*]} " == *"$T_WORK"* ]] ||
			[[ "$(readlink "/proc/$p/root" 2>/dev/null)" == "$T_WORK"* ]] ||
			[[ "$(readlink "/proc/$p/cwd" 2>/dev/null)" == "$T_WORK"* ]] ||
			[[ " ${args[*]} " == *"$T_WORK"* ]]; then
			echo "$p"
		fi
	done
}

# leftovers ID BUNDLE SNAPSHOT: describes whatever a failed command left behind for container ID
# (state dir, cgroup dir, mount of BUNDLE, new runtime or container process); empty when clean.
leftovers() {
	local id=$1 bundle=$2 snap=$3 out=""
	[ -n "$id" ] && [ -e "$T_ROOT/$id" ] && out+="state dir $T_ROOT/$id; "
	local cg
	[ -n "$id" ] && cg=$(cgroup_named "$id") && [ -n "$cg" ] && out+="cgroup ${cg//$'\n'/ }; "
	grep -qF "$bundle" /proc/self/mountinfo && out+="mount of $bundle; "
	local pids
	pids=$(new_runtime_pids "$snap" | tr '\n' ' ')
	[ -n "$pids" ] && out+="processes $pids; "
	printf '%s' "$out"
}

# is_ferry: true when the runtime under test is ferry (for checks of ferry-only behaviour).
is_ferry() { [ "$(basename "$FERRY")" = ferry ]; }

# json_get EXPR: evaluates EXPR over `d`, the JSON document on stdin, and prints the result.
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(json.dumps(r) if isinstance(r,(dict,list,bool)) or r is None else r)' "$1"; }

# skip REASON [COUNT]: records COUNT (default 1) skipped tests.
skip() {
	local i
	for ((i = 0; i < ${2:-1}; i++)); do
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM # SKIP $1"
	done
}

# clone_bundle SRC DST [ARGS...]: a bundle at DST with SRC's config.json and SRC's rootfs (by
# absolute path), running ARGS (default: SRC's args). Much cheaper than another make_bundle.
clone_bundle() {
	local src=$1 dst=$2
	shift 2
	mkdir -p "$dst" || return 1
	python3 - "$src" "$dst" "$@" <<'PY'
import json, os, sys
src, dst, args = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(os.path.join(src, 'config.json')) as f:
    c = json.load(f)
root = c['root']['path']
c['root']['path'] = root if os.path.isabs(root) else os.path.abspath(os.path.join(src, root))
if args:
    c['process']['args'] = args
with open(os.path.join(dst, 'config.json'), 'w') as f:
    json.dump(c, f, indent=2)
PY
}

# copy_bundle SRC DST [ARGS...]: a full copy of bundle SRC (its own rootfs, which the test may
# change) at DST, running ARGS (default: SRC's args). Much cheaper than another make_bundle.
copy_bundle() {
	local src=$1 dst=$2
	shift 2
	mkdir -p "$dst" && cp -a "$src/rootfs" "$src/config.json" "$dst/" || return 1
	[ $# -eq 0 ] && return 0
	jq_edit "$dst" ".process.args = $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")"
}

# state_field ID KEY: one field (string or number) of the container's state, without a JSON parser.
state_field() {
	local out re
	out=$(rt state "$1" 2>/dev/null) || return 1
	re="\"$2\": *(\"([^\"]*)\"|([0-9]+))"
	[[ $out =~ $re ]] || return 1
	echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}

# make_bundle_fast DIR [ARGS...]: make_bundle's bundle, with the applet links made by one busybox
# process (absolute links to /bin/busybox) instead of one `ln` each: much faster on a busy host.
# Its process env also has E2E_WORK=$T_WORK, by which new_runtime_pids knows this test's processes.
make_bundle_fast() {
	local dir=$1
	shift
	mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,etc,tmp,root} || return 1
	cp /bin/busybox "$dir/rootfs/bin/busybox" || return 1
	/bin/busybox --install -s "$dir/rootfs/bin" || return 1
	# The links point at busybox's own path on the host (/usr/bin/busybox with a merged /usr).
	local self
	self=$(readlink -f /bin/busybox)
	if [ "$self" != /bin/busybox ]; then
		mkdir -p "$dir/rootfs$(dirname "$self")" && ln -sf /bin/busybox "$dir/rootfs$self" || return 1
	fi
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/rootfs/etc/passwd"
	echo 'root:x:0:' >"$dir/rootfs/etc/group"
	(cd "$dir" && "$FERRY" spec) || return 1
	python3 - "$dir/config.json" "$T_WORK" "$@" <<'PY'
import json, sys
path, work, args = sys.argv[1], sys.argv[2], sys.argv[3:] or ['sh']
with open(path) as f:
    c = json.load(f)
c['process']['terminal'] = False
c['process']['args'] = args
c['process'].setdefault('env', []).append('E2E_WORK=' + work)
with open(path, 'w') as f:
    json.dump(c, f, indent=2)
PY
}

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
	local k v _
	[ -r "/proc/$1/status" ] || return 1
	while read -r k v _; do
		[ "$k" = State: ] && { [ "$v" != Z ]; return; }
	done 2>/dev/null <"/proc/$1/status"
	return 1
}

# rt_limited ARGS...: rt, killed when it takes more than RT_LIMIT seconds (default 30; exit 124),
# so that a hung runtime fails one test instead of hanging the suite.
rt_limited() { timeout -k 5 "${RT_LIMIT:-30}" "$FERRY" --root "$T_ROOT" "$@"; }

# start_ready NAME CMD...: runs CMD in the background (stdin from /dev/null, output in
# $T_WORK/NAME.out) and waits for it to print READY; sets PID.
start_ready() {
	local name=$1
	shift
	"$@" >"$T_WORK/$name.out" 2>&1 </dev/null &
	PID=$!
	at_exit "kill -9 $PID"
	wait_for grep -q READY "$T_WORK/$name.out"
}

# finish_check NAME PID: SIGUSR1, then waits; RESULT gets the exit status and the program's last
# line.
finish_check() {
	kill -USR1 "$2"
	wait "$2"
	RESULT="status $? $(tail -n 1 "$T_WORK/$1.out")"
}

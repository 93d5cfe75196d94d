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
	local dir=$1
	shift
	mkdir -p "$dir/rootfs"/{bin,proc,sys,dev,etc,tmp,root}
	cp /bin/busybox "$dir/rootfs/bin/busybox"
	local a
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/rootfs/etc/passwd"
	echo 'root:x:0:' >"$dir/rootfs/etc/group"
	(cd "$dir" && "$FERRY" spec) || return 1
	local args='["sh"]'
	if [ $# -gt 0 ]; then
		args=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@")
	fi
	jq_edit "$dir" ".process.terminal = False; .process.args = $args"
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

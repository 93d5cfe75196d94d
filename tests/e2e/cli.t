#!/bin/bash
# cli.t: the command line: --version, --help, spec, features, --log, the state document.
. "$(dirname "$0")/../lib.sh"

LOG=$T_WORK/container.log

# --version
out=$("$FERRY" --version 2>&1)
ok $? "--version exits 0"
like "$out" 'version' "--version prints a version"

# --help for the runtime and each command
out=$("$FERRY" --help 2>&1)
ok $? "--help exits 0"
like "$out" 'create' "--help lists the commands"
for cmd in create start run exec kill delete state list ps pause resume spec features update events; do
	out=$("$FERRY" "$cmd" --help 2>&1)
	ok $? "$cmd --help exits 0"
	like "$out" "$cmd" "$cmd --help describes $cmd"
done
# checkpoint/restore --help: left for when ferry has them.

# spec
mkdir -p "$T_WORK/spec1"
(cd "$T_WORK/spec1" && "$FERRY" spec)
ok $? "spec exits 0"
got=$(json_get '[bool(d.get("ociVersion")), d["root"]["path"], d["process"]["args"][0]]' \
	<"$T_WORK/spec1/config.json" 2>&1)
is "$got" '[true, "rootfs", "sh"]' "spec writes a config.json that parses, with ociVersion"
(cd "$T_WORK/spec1" && "$FERRY" spec) 2>/dev/null
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "spec refuses to overwrite an existing config.json"

mkdir -p "$T_WORK/spec2" "$T_WORK/elsewhere"
(cd "$T_WORK/elsewhere" && "$FERRY" spec --bundle "$T_WORK/spec2")
ok $? "spec --bundle DIR exits 0"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["ociVersion"]' \
	"$T_WORK/spec2/config.json" 2>/dev/null
ok $? "spec --bundle DIR writes DIR/config.json with ociVersion"
ok "$([ ! -e "$T_WORK/elsewhere/config.json" ] && echo 0 || echo 1)" \
	"spec --bundle DIR writes nothing in the current directory"

# features
feat=$("$FERRY" features 2>&1)
ok $? "features exits 0"
is "$(json_get '[k for k in ("ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux") if k not in d]' <<<"$feat" 2>&1)" \
	'[]' "features: ociVersionMin, ociVersionMax, hooks, mountOptions, linux"
like "$(json_get 'd["ociVersionMin"]' <<<"$feat" 2>&1)" '^1\.[0-9]+\.[0-9]+' "features: ociVersionMin is a 1.x version"
like "$(json_get 'd["ociVersionMax"]' <<<"$feat" 2>&1)" '^1\.[0-9]+\.[0-9]+' "features: ociVersionMax is a 1.x version"
is "$(json_get '[n for n in ("pid", "mount", "network", "uts", "ipc", "user", "cgroup") if n not in d["linux"]["namespaces"]]' <<<"$feat" 2>&1)" \
	'[]' "features: linux.namespaces has pid, mount, network, uts, ipc, user, cgroup"
is "$(json_get '[h for h in ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop") if h not in d["hooks"]]' <<<"$feat" 2>&1)" \
	'[]' "features: hooks lists the six OCI hooks"
is "$(json_get '[o for o in ("bind", "rbind", "ro", "nosuid", "nodev", "noexec") if o not in d["mountOptions"]]' <<<"$feat" 2>&1)" \
	'[]' "features: mountOptions has bind, rbind, ro, nosuid, nodev, noexec"

# --log FILE --log-format json with a failing command
"$FERRY" --root "$T_ROOT" --log "$T_WORK/log.json" --log-format json state "$T_PREFIX-nosuch" \
	>/dev/null 2>&1
is "$?" 1 "a failing command exits 1"
got=$(python3 - "$T_WORK/log.json" <<'PY' 2>&1
import json, sys
found = False
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    e = json.loads(line)
    if e.get("level") == "error" and isinstance(e.get("msg"), str) and e["msg"]:
        found = True
print("found" if found else "none")
PY
)
is "$got" found "--log-format json: the log file has a JSON line with level error and a msg"

# the state document
B=$T_WORK/bundle
if make_bundle_fast "$B" sleep 100 >/dev/null; then
	id=$T_PREFIX-state
	rt create --bundle "$B" --pid-file "$T_WORK/pid" "$id" </dev/null >>"$LOG" 2>&1
	ok $? "create a container for state"
	st=$(rt state "$id")
	ok $? "state exits 0"
	is "$(json_get '[k for k in ("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner") if k not in d]' <<<"$st" 2>&1)" \
		'[]' "state has ociVersion, id, pid, status, bundle, rootfs, created, owner"
	is "$(json_get '[d["id"], d["pid"], d["status"], d["bundle"], d["rootfs"]]' <<<"$st" 2>&1)" \
		"[\"$id\", $(cat "$T_WORK/pid"), \"created\", \"$B\", \"$B/rootfs\"]" \
		"state values: id, pid, status, bundle, rootfs"
	like "$(json_get 'd["created"]' <<<"$st" 2>&1)" \
		'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$' \
		"state: created is an RFC 3339 time"
	like "$(json_get 'd["ociVersion"]' <<<"$st" 2>&1)" '^1\.[0-9]+\.[0-9]+' "state: ociVersion"
	rt delete --force "$id" >>"$LOG" 2>&1
	ok $? "delete the container"
else
	ok 1 "make bundle"
fi

[ "$T_FAILED" -eq 0 ] || { diag "container output:"; sed 's/^/#   /' "$LOG"; }
done_testing

#!/bin/bash
# Hooks from config.json: every kind runs in order with the state on stdin, its args and env; a
# failing hook and a hook that times out make create fail and leave nothing behind.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH

# The hook appends its first argument to LOG/order and keeps its argc and args, env, mount
# namespace and stdin (the state) in LOG/KIND/; createContainer and startContainer hooks run in
# the container's mount namespace (the log directory is bind-mounted there at /e2e-log).
L=$T_WORK/log
mkdir -p "$L"
hook_body='echo "$1" >>LOG/order
mkdir -p "LOG/$1"
echo "$# $*" >"LOG/$1/args"
echo "$E2E_HOOK" >"LOG/$1/env"
readlink /proc/self/ns/mnt >"LOG/$1/mnt"
cat >"LOG/$1/state"'
printf '#!/bin/sh\n%s\n' "${hook_body//LOG/$L}" >"$L/hook"
chmod +x "$L/hook"

B=$T_WORK/hooks
make_bundle "$B" sleep 30 || exit 1
printf '#!/bin/sh\n%s\n' "${hook_body//LOG//e2e-log}" >"$B/rootfs/bin/hook"
chmod +x "$B/rootfs/bin/hook"
# hk KIND PATH: a hook entry for KIND.
hk() { echo '[{"path": "'"$2"'", "args": ["hook", "'"$1"'", "two words"], "env": ["E2E_HOOK=env-'"$1"'"]}]'; }
jq_edit "$B" '.mounts += [{"destination": "/e2e-log", "type": "bind", "source": "'"$L"'",
 "options": ["bind", "rw"]}]
.hooks = {"prestart": '"$(hk prestart "$L/hook")"', "createRuntime": '"$(hk createRuntime "$L/hook")"',
 "createContainer": '"$(hk createContainer "$L/hook")"',
 "startContainer": '"$(hk startContainer /bin/hook)"',
 "poststart": '"$(hk poststart "$L/hook")"', "poststop": '"$(hk poststop "$L/hook")"'}'
id=$T_PREFIX-hooks
rt_limited create --bundle "$B" "$id" </dev/null >/dev/null 2>&1
is "$?" 0 "create with every kind of hook exits 0"
pid=$(rt state "$id" | json_get 'd["pid"]')
cmnt=$(readlink "/proc/$pid/ns/mnt")
created=$(tr '\n' ' ' <"$L/order")
rt_limited start "$id"
is "$?" 0 "start exits 0"
wait_for grep -qx poststart "$L/order"
rt kill "$id" KILL
wait_for [ "$(status_of "$id")" = stopped ]
rt delete "$id"
is "$?" 0 "delete exits 0"

order=$(tr '\n' ' ' <"$L/order")
is "${created//poststart /}" "prestart createRuntime createContainer " \
	"create runs prestart, createRuntime, createContainer"
is "${order//poststart /}" "prestart createRuntime createContainer startContainer poststop " \
	"start runs startContainer, delete runs poststop, each once, in order"
is "$(grep -cx poststart "$L/order")" 1 "poststart ran once"
if [ "$(basename "$FERRY")" = runc ]; then
	skip "runc 1.1 runs poststart hooks at create" 2
else
	is "$created" "prestart createRuntime createContainer " "no poststart hook at create"
	is "$order" "prestart createRuntime createContainer startContainer poststart poststop " \
		"poststart runs after startContainer"
fi
hostmnt=$(readlink /proc/self/ns/mnt)
for kind in prestart createRuntime createContainer startContainer poststart poststop; do
	d=$L/$kind
	is "$(cat "$d/args" 2>&1)" "2 $kind two words" "$kind: args"
	is "$(cat "$d/env" 2>&1)" "env-$kind" "$kind: env"
	mnt=$(cat "$d/mnt" 2>&1)
	state=$(cat "$d/state" 2>&1)
	fields=$(json_get '"%s %s" % (d["id"], d["status"])' <<<"$state" 2>&1)
	case $kind in
	prestart | createRuntime | createContainer) want=creating ;;
	startContainer) want=created ;;
	poststart) want="(created|running)" ;;
	poststop) want=stopped ;;
	esac
	like "$fields" "^$id $want\$" "$kind: state on stdin has the id and status $want"
	case $kind in
	createContainer | startContainer)
		is "$mnt" "$cmnt" "$kind: runs in the container's mount namespace"
		like "$(json_get 'd.get("pid")' <<<"$state" 2>&1)" "^($pid|1)$" "$kind: state has the pid"
		;;
	poststop) is "$mnt" "$hostmnt" "$kind: runs in the runtime's mount namespace" ;;
	*)
		is "$mnt" "$hostmnt" "$kind: runs in the runtime's mount namespace"
		is "$(json_get 'd.get("pid")' <<<"$state" 2>&1)" "$pid" "$kind: state has the container's pid"
		;;
	esac
done

# A failing createRuntime hook makes create fail and leaves nothing behind; poststop is not a
# substitute for cleanup.
F=$T_WORK/fail
copy_bundle "$B" "$F"
jq_edit "$F" '.hooks = {"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]}'
snap=$(pid_snapshot)
rt_limited create --bundle "$F" "$T_PREFIX-fail" </dev/null >/dev/null 2>&1
ok $((!$?)) "a createRuntime hook that exits 1 makes create fail"
sleep 0.2
is "$(leftovers "$T_PREFIX-fail" "$F" "$snap")" "" "and leaves nothing behind"

# A hook that outlives its timeout makes create fail within about the timeout.
copy_bundle "$B" "$F.timeout"
jq_edit "$F.timeout" '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "5"],
 "timeout": 1}]}'
snap=$(pid_snapshot)
t0=$(date +%s%N)
rt_limited create --bundle "$F.timeout" "$T_PREFIX-timeout" </dev/null >/dev/null 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
ok $((!rc)) "a createRuntime hook past its timeout makes create fail"
ok "$([ "$ms" -lt 4000 ]; echo $?)" "within about the timeout (${ms} ms)"
sleep 0.2
is "$(leftovers "$T_PREFIX-timeout" "$F.timeout" "$snap")" "" "and leaves nothing behind"

done_testing

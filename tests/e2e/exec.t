#!/bin/bash
# exec.t: exec into a running container: args, exit status, env, cwd, user, process file, detach,
# namespaces, capabilities, no_new_privs, and a terminal through a console socket.
. "$(dirname "$0")/../lib.sh"

LOG=$T_WORK/container.log
B=$T_WORK/bundle
if ! make_bundle_fast "$B" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null; then
	ok 1 "make bundle"
	done_testing
	exit 1
fi
jq_edit "$B" '.hostname = "e2e-exec-host"; .process.noNewPrivileges = False'
id=$T_PREFIX-c
rt run --detach --bundle "$B" "$id" </dev/null >>"$LOG" 2>&1
ok $? "run --detach the container to exec into"
init=$(state_field "$id" pid)
like "$init" '^[0-9]+$' "the container's init pid"

# xrt ARGS...: exec in the container with no stdin; stderr to the log.
xrt() { rt exec "$id" "$@" </dev/null 2>>"$LOG"; }

is "$(xrt echo hello 'two words' three)" "hello two words three" "exec passes its args"
xrt sh -c 'exit 5'
is "$?" 5 "exec: the process's exit status propagates"
xrt false
is "$?" 1 "exec false exits 1"

is "$(rt exec --env FOO=bar --env BAZ='a b' "$id" sh -c 'echo "$FOO|$BAZ"' </dev/null)" "bar|a b" \
	"exec --env sets variables"
is "$(rt exec -e FOO=short "$id" sh -c 'echo $FOO' </dev/null)" short "exec -e sets a variable"
is "$(rt exec --cwd /tmp "$id" pwd </dev/null)" /tmp "exec --cwd sets the working directory"
is "$(xrt pwd)" / "exec without --cwd runs in the config's cwd"
is "$(rt exec --user 1000:1000 "$id" id -u </dev/null)" 1000 "exec --user 1000:1000: id -u"
is "$(rt exec --user 1000:1000 "$id" id -g </dev/null)" 1000 "exec --user 1000:1000: id -g"
is "$(rt exec -u 1234 "$id" id -u </dev/null)" 1234 "exec -u 1234: id -u"
is "$(xrt id -u)" 0 "exec without --user runs as the config's user (root)"

# --process FILE
cat >"$T_WORK/process.json" <<'EOF'
{
	"terminal": false,
	"user": {"uid": 1001, "gid": 1002},
	"args": ["sh", "-c", "echo \"from-file $PFX $(id -u):$(id -g) $(pwd)\"; exit 4"],
	"env": ["PATH=/bin:/usr/bin", "PFX=px"],
	"cwd": "/etc"
}
EOF
out=$(rt exec --process "$T_WORK/process.json" "$id" </dev/null 2>>"$LOG")
is "$?" 4 "exec --process: exit status of the process from the file"
is "$out" "from-file px 1001:1002 /etc" "exec --process: args, env, user and cwd from the file"

# --detach with --pid-file
rt exec --detach --pid-file "$T_WORK/exec.pid" "$id" sleep 123 </dev/null >>"$LOG" 2>&1
ok $? "exec --detach returns"
xpid=$(cat "$T_WORK/exec.pid" 2>/dev/null)
like "$xpid" '^[0-9]+$' "exec --pid-file holds a pid"
is "$(tr '\0' ' ' <"/proc/$xpid/cmdline" 2>/dev/null)" "sleep 123 " "that pid is the exec'd process"
is "$(readlink "/proc/$xpid/ns/pid")" "$(readlink "/proc/$init/ns/pid")" \
	"the detached process is in the container's pid namespace"
like " $(rt ps --format json "$id" | json_get '" ".join(map(str, d))') " " $xpid " \
	"ps lists the detached exec process"
kill -KILL "$xpid" 2>/dev/null

# namespaces
is "$(xrt hostname)" e2e-exec-host "exec sees the container's hostname"
is "$(xrt readlink /proc/self/ns/pid)" "$(readlink "/proc/$init/ns/pid")" \
	"exec joins the container's pid namespace"
is "$(xrt readlink /proc/self/ns/mnt)" "$(readlink "/proc/$init/ns/mnt")" \
	"exec joins the container's mount namespace"
ps_out=$(xrt ps -o pid,args)
like "$(awk '$1 == 1' <<<"$ps_out")" '^ *1 +sh -c trap' "ps inside shows the container's init as pid 1"
like "$(xrt cat /proc/1/cmdline | tr '\0' ' ')" '^sh -c trap' "pid 1 inside is the init"

# capabilities and no_new_privs
capeff() { xrt sh -c 'grep ^CapEff: /proc/self/status' | awk '{print $2}'; }
has_bit() { [ -n "$1" ] && (((0x$1 >> $2) & 1)); }
base=$(capeff)
like "$base" '^[0-9a-f]+$' "CapEff of a plain exec: $base"
ok "$(has_bit "$base" 21 && echo 1 || echo 0)" "a plain exec lacks CAP_SYS_ADMIN"
ok "$(has_bit "$base" 5 && echo 0 || echo 1)" "a plain exec has CAP_KILL from the config"
with=$(rt exec --cap CAP_SYS_ADMIN "$id" sh -c 'grep ^CapEff: /proc/self/status' </dev/null |
	awk '{print $2}')
ok "$(has_bit "$with" 21 && echo 0 || echo 1)" "exec --cap CAP_SYS_ADMIN: CapEff has it ($with)"
ok "$(has_bit "$with" 5 && echo 0 || echo 1)" "exec --cap keeps the config's caps"
nnp() { rt exec "$@" "$id" sh -c 'grep ^NoNewPrivs: /proc/self/status' </dev/null | awk '{print $2}'; }
is "$(nnp)" 0 "exec without --no-new-privs (config says false): NoNewPrivs 0"
is "$(nnp --no-new-privs)" 1 "exec --no-new-privs: NoNewPrivs 1"

# --tty with --console-socket, when the receiver tool is there
RECVTTY=${RECVTTY:-$TOP/tests/tools/recvtty}
if [ -x "$RECVTTY" ]; then
	sock=$T_WORK/tty.sock
	"$RECVTTY" --once --output "$T_WORK/tty.out" "$sock" </dev/null >>"$LOG" 2>&1 &
	rpid=$!
	at_exit "kill -9 $rpid"
	wait_for test -S "$sock"
	rt exec --tty --detach --console-socket "$sock" "$id" sh -c '[ -t 0 ] && [ -t 1 ] && echo tty-ok $(tty)' \
		</dev/null >>"$LOG" 2>&1
	ok $? "exec --tty --detach --console-socket"
	wait_for grep -q tty-ok "$T_WORK/tty.out"
	like "$(tr -d '\r' <"$T_WORK/tty.out")" 'tty-ok /dev/pts/[0-9]+' \
		"the process has a terminal whose master went to the console socket"
	kill "$rpid" 2>/dev/null
else
	diag "skipping --tty: $RECVTTY not built"
fi

rt delete --force "$id" >>"$LOG" 2>&1
ok $? "delete --force the container"
[ "$T_FAILED" -eq 0 ] || { diag "container output:"; sed 's/^/#   /' "$LOG"; }
done_testing

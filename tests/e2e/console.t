#!/bin/bash
# process.terminal with --console-socket: the pty master reaches the socket (tests/tools/recvtty),
# the process has a terminal on its stdio, typed input reaches it, consoleSize sets its size.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH

RECVTTY=$TOP/tests/tools/recvtty
if [ ! -x "$RECVTTY" ]; then
	make -s -C "$TOP" tests/tools/recvtty >/dev/null 2>&1 ||
		cc -std=gnu11 -D_GNU_SOURCE -o "$T_WORK/recvtty" "$TOP/tests/tools/recvtty.c" &&
		RECVTTY=$T_WORK/recvtty
fi
[ -x "$RECVTTY" ] || skip_all "cannot build tests/tools/recvtty"

make_bundle "$T_WORK/base" || exit 1
jq_edit "$T_WORK/base" '.process.terminal = True'

# console ID BUNDLE OUT [INPUT]: creates and starts ID with a console socket served by recvtty
# (which writes INPUT and copies the terminal's output to OUT), waits until the terminal closes
# (at most 10 s), deletes ID; returns recvtty's status. Leaves create's stderr in OUT.err and
# ID's status before the delete in LAST_STATUS.
console() {
	local id=$1 bundle=$2 out=$3 sock=$T_WORK/$1.sock pid rc i
	"$RECVTTY" --once ${4+--input "$4"} --output "$out" "$sock" &
	pid=$!
	at_exit kill "$pid"
	wait_for test -S "$sock" || return 1
	rt_limited create --bundle "$bundle" --console-socket "$sock" "$id" </dev/null >/dev/null 2>"$out.err" ||
		return 1
	rt_limited start "$id" 2>>"$out.err" || return 1
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	wait_for [ "$(status_of "$id")" = stopped ]
	LAST_STATUS=$(status_of "$id")
	rt delete --force "$id" >/dev/null 2>&1
	return "$rc"
}

# A non-interactive process: its stdio is the terminal; consoleSize is applied.
B=$T_WORK/tty
copy_bundle "$T_WORK/base" "$B" sh -c 'echo tty=$(tty); test -t 0 && echo t0=yes
test -t 1 && echo t1=yes; echo size=$(stty size)'
jq_edit "$B" '.process.consoleSize = {"height": 33, "width": 111}'
console "$T_PREFIX-tty" "$B" "$T_WORK/tty.out"
is "$?" 0 "recvtty received the pty master and read the terminal to its end"
out=$(tr -d '\r' <"$T_WORK/tty.out")
like "$out" "tty=/dev/(pts/[0-9]+|console)" "tty names the terminal"
if [ "$(basename "$FERRY")" = runc ]; then
	like "$out" "tty=/dev/pts/0" "runc: the terminal is /dev/pts/0"
fi
like "$out" "t0=yes" "stdin is a terminal"
like "$out" "t1=yes" "stdout is a terminal"
like "$out" "size=33 111" "consoleSize sets the terminal size"
[ -s "$T_WORK/tty.out.err" ] && diag "$(cat "$T_WORK/tty.out.err")"

# An interactive shell: input typed through the master reaches it.
B=$T_WORK/sh
copy_bundle "$T_WORK/base" "$B" sh
console "$T_PREFIX-sh" "$B" "$T_WORK/sh.out" 'echo hello-$((6*7))-'"$$"'\nexit\n'
is "$?" 0 "recvtty relayed an interactive session"
out=$(tr -d '\r' <"$T_WORK/sh.out")
like "$out" "(^|"$'\n'")hello-42-$$"$'(\n|$)' "input through the master ran in the shell"
is "$LAST_STATUS" stopped "typed exit stopped the container"

# terminal true without a console socket is refused.
B=$T_WORK/nosock
copy_bundle "$T_WORK/base" "$B" true
rt_limited create --bundle "$B" "$T_PREFIX-nosock" </dev/null >/dev/null 2>&1
ok $((!$?)) "create with terminal true and no --console-socket fails"
ok "$( ! rt state "$T_PREFIX-nosock" >/dev/null 2>&1; echo $?)" "and leaves no container"

done_testing

#!/bin/bash
# The process from config.json: args, env, cwd, user, umask, rlimits, oomScoreAdj,
# noNewPrivileges, exit status.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
make_bundle "$T_WORK/base" || exit 1

# val OUTPUT KEY: the value of the line "KEY=value" in OUTPUT.
val() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }

B=$T_WORK/proc
script='echo args=$#:$1:$2
echo env=$E2E_VAR
echo cwd=$(pwd)
echo id=$(id)
echo groups=$(sed -n "s/^Groups:[[:space:]]*//p" /proc/self/status)
echo umask=$(umask)
echo nofile=$(ulimit -n):$(ulimit -Hn)
ulimit -n 50 && echo lowered=$(ulimit -n)
echo oom=$(cat /proc/self/oom_score_adj)
echo nnp=$(sed -n "s/^NoNewPrivs:[[:space:]]*//p" /proc/self/status)
touch /tmp/made && echo made=$(stat -c "%u:%g %a" /tmp/made)'
copy_bundle "$T_WORK/base" "$B" sh -c "$script" e2e-zero "arg one" arg-two
mkdir -p "$B/rootfs/work/dir"
chmod 1777 "$B/rootfs/tmp"
jq_edit "$B" '.process.env += ["E2E_VAR=value with spaces"]
.process.cwd = "/work/dir"
.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [10, 20], "umask": 23}
.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]
.process.oomScoreAdj = 500
.process.noNewPrivileges = True
.root.readonly = False'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-proc" 2>&1)
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
is "$(val "$out" args)" "2:arg one:arg-two" "args reach the process unchanged"
is "$(val "$out" env)" "value with spaces" "env variable visible"
is "$(val "$out" cwd)" /work/dir "cwd"
like "$(val "$out" id)" "^uid=1000 gid=1001 groups=" "user uid and gid"
is "$(val "$out" groups)" "10 20" "additionalGids are the supplementary groups"
is "$(val "$out" umask)" 0027 "umask 23 (0027)"
is "$(val "$out" made)" "1000:1001 640" \
	"a new file has the user's ids and the umask's mode"
is "$(val "$out" nofile)" 100:200 "RLIMIT_NOFILE soft and hard"
is "$(val "$out" lowered)" 50 "lowering the limit inside works"
is "$(val "$out" oom)" 500 "oomScoreAdj"
is "$(val "$out" nnp)" 1 "noNewPrivileges true: NoNewPrivs 1"

B=$T_WORK/defaults
copy_bundle "$T_WORK/base" "$B" sh -c 'sed -n "s/^NoNewPrivs:[[:space:]]*//p" /proc/self/status; id -u; pwd; umask'
jq_edit "$B" '.process.noNewPrivileges = False'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-defaults" 2>&1)
is "$(xargs <<<"$out")" "0 0 / 0022" "noNewPrivileges false, root user, cwd / and umask 0022 by default"

# Exit status.
B=$T_WORK/exit
copy_bundle "$T_WORK/base" "$B" sh -c 'exit 42'
rt_limited run --bundle "$B" "$T_PREFIX-exit" >/dev/null 2>&1
is "$?" 42 "exit status of the process is run's exit status"
ok "$([ ! -d "$T_ROOT/$T_PREFIX-exit" ] || [ "$(status_of "$T_PREFIX-exit")" = stopped ]; echo $?)" \
	"the container is gone or stopped after run"

# A command that does not exist.
B=$T_WORK/noexec
copy_bundle "$T_WORK/base" "$B" /no/such/binary
rt_limited run --bundle "$B" "$T_PREFIX-noexec" >/dev/null 2>&1
ok $((! $?)) "a process whose binary does not exist makes run fail"

# Raising the hard limit above the host's needs CAP_SYS_RESOURCE, which this host lacks.
B=$T_WORK/rlimit
copy_bundle "$T_WORK/base" "$B" sh -c 'ulimit -Hn'
host_hard=$(ulimit -Hn)
if (($((16#$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status))) & (1 << 24))); then
	skip "the host has CAP_SYS_RESOURCE" 2
else
	jq_edit "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": '"$((host_hard * 10))"'}]'
	err=$(rt_limited run --bundle "$B" "$T_PREFIX-rlimit" 2>&1)
	is "$?" 1 "raising the hard RLIMIT_NOFILE above the host's fails with exit 1"
	if [ "$(basename "$FERRY")" = ferry ]; then
		like "$err" "CAP_SYS_RESOURCE" "the error mentions CAP_SYS_RESOURCE"
	else
		like "$err" "rlimit" "the error mentions the rlimit"
	fi
fi

done_testing

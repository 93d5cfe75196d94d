#!/bin/bash
# Security settings from config.json: capability sets, dropped capabilities, seccomp filters,
# capabilities the host cannot grant, an AppArmor profile on a host without AppArmor.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
make_bundle "$T_WORK/base" || exit 1

# val OUTPUT KEY: the value of the line "KEY=value" in OUTPUT.
val() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }
# mask CAPNUM...: the /proc/PID/status hex mask of these capability numbers.
mask() {
	local m=0 n
	for n in "$@"; do m=$((m | (1 << n))); done
	printf '%016x' "$m"
}
# capjson NAME...: a JSON list of capability names.
capjson() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "$@"; }
caps_script='for s in Inh Prm Eff Bnd Amb; do echo "$s=$(sed -n "s/^Cap$s:[[:space:]]*//p" /proc/self/status)"; done'

CHOWN=0 FOWNER=3 KILL=5 NET_BIND_SERVICE=10 SYS_RESOURCE=24

# Distinct sets, as root and as a user: the kernel's execve rules give the expected masks.
B=$T_WORK/caps
copy_bundle "$T_WORK/base" "$B" sh -c "$caps_script"
jq_edit "$B" '.process.capabilities = {
 "bounding": '"$(capjson CAP_KILL CAP_CHOWN CAP_FOWNER CAP_NET_BIND_SERVICE)"',
 "effective": '"$(capjson CAP_KILL CAP_CHOWN)"',
 "permitted": '"$(capjson CAP_KILL CAP_CHOWN CAP_FOWNER)"',
 "inheritable": '"$(capjson CAP_KILL)"',
 "ambient": '"$(capjson CAP_KILL)"'}'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-caps-root" 2>&1)
rc=$?
is "$rc" 0 "run with capability sets as root exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
bnd=$(mask $KILL $CHOWN $FOWNER $NET_BIND_SERVICE)
is "$(val "$out" Bnd)" "$bnd" "root: CapBnd is the bounding set"
is "$(val "$out" Inh)" "$(mask $KILL)" "root: CapInh is the inheritable set"
is "$(val "$out" Amb)" "$(mask $KILL)" "root: CapAmb is the ambient set"
# A root execve gains bounding | inheritable, but no new privileges keeps it within permitted.
is "$(val "$out" Prm)" "$(mask $KILL $CHOWN $FOWNER)" "root, NNP: CapPrm is the permitted set"
is "$(val "$out" Eff)" "$(mask $KILL $CHOWN $FOWNER)" "root, NNP: CapEff is the permitted set"
jq_edit "$B" '.process.noNewPrivileges = False'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-caps-root-nnp" 2>&1)
is "$(val "$out" Prm)" "$bnd" "root, no NNP: CapPrm after execve is bounding | inheritable"
is "$(val "$out" Eff)" "$bnd" "root, no NNP: CapEff after execve is bounding | inheritable"

jq_edit "$B" '.process.user = {"uid": 1000, "gid": 1000}'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-caps-user" 2>&1)
rc=$?
is "$rc" 0 "run with capability sets as uid 1000 exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
is "$(val "$out" Bnd)" "$bnd" "user: CapBnd is the bounding set"
is "$(val "$out" Inh)" "$(mask $KILL)" "user: CapInh is the inheritable set"
# A non-root execve keeps only the ambient set in permitted and effective.
is "$(val "$out" Prm)" "$(mask $KILL)" "user: CapPrm after execve is the ambient set"
is "$(val "$out" Eff)" "$(mask $KILL)" "user: CapEff after execve is the ambient set"
is "$(val "$out" Amb)" "$(mask $KILL)" "user: CapAmb is the ambient set"

# A dropped capability is really gone; the same command works when it is granted.
drop_script='touch /tmp/x; chown 1000 /tmp/x 2>&1 && echo chown=ok || echo chown=fail
hostname e2e-other 2>&1 && echo hostname=ok || echo hostname=fail'
for set in "CAP_KILL" "CAP_KILL CAP_CHOWN CAP_SYS_ADMIN"; do
	B=$T_WORK/drop-${set// /-}
	copy_bundle "$T_WORK/base" "$B" sh -c "$drop_script"
	# shellcheck disable=SC2086 # a list of names
	l=$(capjson $set)
	jq_edit "$B" '.root.readonly = False; .process.capabilities = {"bounding": '"$l"',
 "effective": '"$l"', "permitted": '"$l"'}'
	out=$(rt_limited run --bundle "$B" "$T_PREFIX-drop" 2>&1)
	if [ "$set" = CAP_KILL ]; then
		is "$(val "$out" chown)" fail "without CAP_CHOWN, root cannot chown"
		like "$out" "Operation not permitted" "with EPERM"
		is "$(val "$out" hostname)" fail "without CAP_SYS_ADMIN, sethostname fails"
	else
		is "$(val "$out" chown)" ok "with CAP_CHOWN, root can chown"
		is "$(val "$out" hostname)" ok "with CAP_SYS_ADMIN, sethostname works (own UTS ns)"
	fi
done
is "$(hostname)" "$(uname -n)" "host's hostname untouched"

# seccomp: errnoRet for named syscalls, and a rule filtered on an argument.
B=$T_WORK/seccomp
copy_bundle "$T_WORK/base" "$B" sh -c 'mkdir /tmp/x 2>&1; echo mkdir=$?; kill -0 $$; echo kill0=$?
kill -15 $$ 2>&1; echo kill15=$?'
jq_edit "$B" '.root.readonly = False
.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [
  {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
  {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
   "args": [{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-seccomp" 2>&1)
is "$(val "$out" mkdir)" 1 "seccomp: mkdir fails"
like "$out" "Function not implemented" "seccomp: with errnoRet 38 (ENOSYS)"
ok "$([ ! -e "$B/rootfs/tmp/x" ]; echo $?)" "seccomp: no directory made"
is "$(val "$out" kill0)" 0 "seccomp args: kill with signal 0 is allowed"
is "$(val "$out" kill15)" 1 "seccomp args: kill with signal 15 fails"
like "$out" "kill pid 1: Operation not permitted" "seccomp args: with EPERM"

# seccomp: deny by default with an allow list.
allow='read write writev readv exit exit_group execve arch_prctl brk set_tid_address getpid getppid
gettid rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack uname ioctl fcntl close futex newfstatat
fstat stat lstat statx getuid geteuid getgid getegid getgroups prctl capget capset openat open mmap munmap
mprotect madvise wait4 waitid clone clone3 fork vfork dup dup2 dup3 pipe pipe2 getcwd chdir fchdir access
faccessat faccessat2 set_robust_list rseq prlimit64 getrlimit setgroups setuid setgid setresuid
setresgid sched_yield sched_getaffinity getrandom lseek pread64 poll ppoll select pselect6
epoll_create1 epoll_ctl epoll_wait epoll_pwait nanosleep clock_nanosleep clock_gettime
gettimeofday fstatfs statfs getdents64 close_range tgkill umask setsid getsid getpgrp setpgid
readlink readlinkat socketpair sendmsg recvmsg sendto recvfrom keyctl kill fchown fchmod'
B=$T_WORK/seccomp-deny
copy_bundle "$T_WORK/base" "$B" sh -c 'echo allowed; mkdir /tmp/y 2>&1; echo mkdir=$?'
# shellcheck disable=SC2086 # a list of names
jq_edit "$B" '.root.readonly = False
.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": '"$(capjson $allow)"', "action": "SCMP_ACT_ALLOW"}]}'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-seccomp-deny" 2>&1)
like "$out" "^allowed" "seccomp deny-by-default: an allowed program runs"
is "$(val "$out" mkdir)" 1 "seccomp deny-by-default: mkdir, not in the list, fails"
like "$out" "Operation not permitted" "seccomp deny-by-default: with EPERM"

# A capability the host cannot grant (this host has no CAP_SYS_RESOURCE in its bounding set).
if (($((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status))) & (1 << SYS_RESOURCE))); then
	skip "the host has CAP_SYS_RESOURCE" 4
else
	# Listed in the bounding set only: nothing to grant, so both runtimes run (runc 1.1 too).
	B=$T_WORK/nosysres
	copy_bundle "$T_WORK/base" "$B" sh -c "$caps_script"
	jq_edit "$B" '.process.capabilities.bounding += ["CAP_SYS_RESOURCE"]'
	out=$(rt_limited run --bundle "$B" "$T_PREFIX-nosysres" 2>&1)
	is "$?" 0 "CAP_SYS_RESOURCE the host lacks, in the bounding set only: runs"
	ok "$((16#$(val "$out" Bnd) >> SYS_RESOURCE & 1))" "and the bounding set lacks it"
	# Asked for in the effective and permitted sets: it cannot be granted.
	B=$T_WORK/nosysres2
	copy_bundle "$T_WORK/base" "$B" sh -c "$caps_script"
	jq_edit "$B" '.process.capabilities.effective += ["CAP_SYS_RESOURCE"]; .process.capabilities.permitted += ["CAP_SYS_RESOURCE"]'
	out=$(rt_limited run --bundle "$B" "$T_PREFIX-nosysres2" 2>&1)
	ok $((!$?)) "CAP_SYS_RESOURCE the host lacks, in the effective set: run fails"
	if [ "$(basename "$FERRY")" = ferry ]; then
		like "$out" "CAP_SYS_RESOURCE is not in this host's bounding set" \
			"the error names CAP_SYS_RESOURCE and says why"
	fi
fi

# An AppArmor profile on a host without AppArmor.
B=$T_WORK/apparmor
copy_bundle "$T_WORK/base" "$B" true
jq_edit "$B" '.process.apparmorProfile = "e2e-profile"'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-apparmor" 2>&1)
ok $((!$?)) "apparmorProfile without AppArmor: run fails"
if [ "$(basename "$FERRY")" = ferry ]; then
	like "$out" "[Aa]pp[Aa]rmor" "the error names AppArmor"
fi
ok "$( ! rt state "$T_PREFIX-apparmor" >/dev/null 2>&1; echo $?)" "no container left"

done_testing

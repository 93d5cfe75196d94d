#!/bin/bash
# Namespaces from config.json: new ones (uts, ipc, pid, net, mnt, cgroup, time) and joining one by
# path.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
make_bundle "$T_WORK/base" || exit 1

# val OUTPUT KEY: the value of the line "KEY=value" in OUTPUT.
val() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }

runtime=$(basename "$FERRY")
kinds="uts ipc mnt net pid cgroup"
B=$T_WORK/new
script='echo host=$(hostname); echo domain=$(cat /proc/sys/kernel/domainname); echo pid=$$
echo ifaces=$(sed -n "s/^ *\([^ :]*\):.*/\1/p" /proc/net/dev | sort | tr "\n" " ")
for k in '"$kinds"' time; do echo "ns_$k=$(readlink /proc/self/ns/$k)"; done'
copy_bundle "$T_WORK/base" "$B" sh -c "$script"
jq_edit "$B" '.hostname = "ns-e2e-host"; .domainname = "ns-e2e.example"
.linux.namespaces += [{"type": "cgroup"}]'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-new" 2>&1)
rc=$?
is "$rc" 0 "run with new namespaces exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
is "$(val "$out" host)" ns-e2e-host "hostname inside is config's hostname"
if [ "$runtime" = runc ]; then
	skip "runc 1.1 ignores domainname"
else
	is "$(val "$out" domain)" ns-e2e.example "domainname inside is config's domainname"
fi
is "$(hostname)" "$(uname -n)" "host's hostname untouched"
is "$(val "$out" pid)" 1 "pid namespace: the process is pid 1"
is "$(val "$out" ifaces)" "lo" "network namespace: only lo in /proc/net/dev"
for k in $kinds; do
	inside=$(val "$out" "ns_$k")
	like "$inside" "^$k:\[[0-9]+\]$" "$k namespace link readable inside"
	[ -n "$inside" ] && [ "$inside" != "$(readlink /proc/self/ns/"$k")" ]
	ok $? "$k namespace differs from the host's"
done
is "$(val "$out" ns_time)" "$(readlink /proc/self/ns/time)" "no time namespace unless asked"

# Joining a network namespace by path: the process is in it and sees its links.
netns=e2e-$$
ip netns add "$netns" || exit 1
at_exit ip netns del "$netns"
ip netns exec "$netns" sysctl -qw net.ipv4.ip_default_ttl=42 || exit 1
B=$T_WORK/join
copy_bundle "$T_WORK/base" "$B" sh -c 'echo net=$(readlink /proc/self/ns/net)
echo ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)'
jq_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
.linux.namespaces += [{"type": "network", "path": "/var/run/netns/'"$netns"'"}]'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-join" 2>&1)
rc=$?
is "$rc" 0 "run joining a network namespace by path exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
want="net:[$(stat -L -c %i "/var/run/netns/$netns")]"
is "$(val "$out" net)" "$want" "the process is in the namespace at the path"
is "$(val "$out" ttl)" 42 "it sees that namespace's sysctl (ip_default_ttl 42)"
is "$(ip netns exec "$netns" readlink /proc/self/ns/net)" "$want" "the joined namespace still exists"

# A path that is not a namespace fails.
B=$T_WORK/badpath
copy_bundle "$T_WORK/base" "$B" true
jq_edit "$B" 'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
.linux.namespaces += [{"type": "network", "path": "/proc/self/exe"}]'
rt_limited run --bundle "$B" "$T_PREFIX-badpath" >/dev/null 2>&1
ok $((! $?)) "a namespace path that is no namespace makes run fail"
ok "$([ ! -d "$T_ROOT/$T_PREFIX-badpath" ]; echo $?)" "and leaves no container state"

# Time namespace with offsets (runc 1.1 does not know the time namespace).
B=$T_WORK/time
copy_bundle "$T_WORK/base" "$B" sh -c 'echo time=$(readlink /proc/self/ns/time)
echo uptime=$(cut -d. -f1 /proc/uptime)'
jq_edit "$B" '.linux.namespaces += [{"type": "time"}]
.linux.timeOffsets = {"boottime": {"secs": 1000000}, "monotonic": {"secs": 1000000}}'
if [ "$runtime" = runc ]; then
	skip "runc 1.1 has no time namespace" 3
else
	out=$(rt_limited run --bundle "$B" "$T_PREFIX-time" 2>&1)
	is "$?" 0 "run with a time namespace exits 0"
	inside=$(val "$out" time)
	[ -n "$inside" ] && [ "$inside" != "$(readlink /proc/self/ns/time)" ]
	ok $? "time namespace differs from the host's"
	up=$(val "$out" uptime)
	ok "$([ "${up:-0}" -ge 1000000 ] 2>/dev/null; echo $?)" "boottime offset: uptime $up >= 1000000"
fi

done_testing

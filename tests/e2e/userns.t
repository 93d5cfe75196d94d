#!/bin/bash
# A user namespace from config.json: uid/gid mappings, root inside is an unprivileged id outside.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH

# val OUTPUT KEY: the value of the line "KEY=value" in OUTPUT.
val() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }

HOSTID=100000
# The mapped root must be able to reach the bundle.
chmod 0755 "$T_WORK"
S=$T_WORK/shared
mkdir -p "$S"
chmod 0777 "$S"
B=$T_WORK/userns
make_bundle "$B" sh -c 'echo uid=$(id -u) gid=$(id -g)
echo uid_map=$(cat /proc/self/uid_map); echo gid_map=$(cat /proc/self/gid_map)
echo user_ns=$(readlink /proc/self/ns/user)
echo hi >/shared/made && echo made=$(stat -c %u:%g /shared/made)
echo rootfs_owner=$(stat -c %u:%g /bin/busybox)' || exit 1
chown -R "$HOSTID:$HOSTID" "$B/rootfs"
jq_edit "$B" '.linux.namespaces += [{"type": "user"}]
.linux.uidMappings = [{"containerID": 0, "hostID": '"$HOSTID"', "size": 65536}]
.linux.gidMappings = [{"containerID": 0, "hostID": '"$HOSTID"', "size": 65536}]
.mounts += [{"destination": "/shared", "type": "bind", "source": "'"$S"'",
 "options": ["bind", "rw"]}]'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-userns" 2>&1)
rc=$?
is "$rc" 0 "run with a user namespace exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
is "$(val "$out" uid)" "0 gid=0" "id -u and id -g print 0 inside"
is "$(val "$out" uid_map | xargs)" "0 $HOSTID 65536" "/proc/self/uid_map shows the mapping"
is "$(val "$out" gid_map | xargs)" "0 $HOSTID 65536" "/proc/self/gid_map shows the mapping"
inside=$(val "$out" user_ns)
[ -n "$inside" ] && [ "$inside" != "$(readlink /proc/self/ns/user)" ]
ok $? "user namespace differs from the host's"
is "$(val "$out" rootfs_owner)" 0:0 "the rootfs owned by $HOSTID is owned by root inside"
is "$(val "$out" made)" 0:0 "a file made in a bind-mounted dir is root's inside"
is "$(stat -c %u:%g "$S/made" 2>&1)" "$HOSTID:$HOSTID" "and owned by $HOSTID on the host"

# Root inside cannot act as root on host-owned files.
echo secret >"$S/hostfile"
chmod 0600 "$S/hostfile"
B2=$T_WORK/userns2
copy_bundle "$B" "$B2" sh -c 'cat /shared/hostfile 2>&1; echo rc=$?'
out=$(rt_limited run --bundle "$B2" "$T_PREFIX-userns2" 2>&1)
is "$(val "$out" rc)" 1 "root inside cannot read a host root's 0600 file"
like "$out" "Permission denied" "with EACCES"

done_testing

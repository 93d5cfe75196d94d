#!/bin/bash
# Mounts from config.json: tmpfs options, binds (ro, rbind), flags, readonly root, masked and
# readonly paths, sysctl, default and configured devices, root propagation, a failing mount.
. "$(dirname "$0")/../lib.sh"
# The system python3 starts much faster than a version-manager shim.
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
make_bundle "$T_WORK/base" || exit 1

# val OUTPUT KEY: the value of the line "KEY=value" in OUTPUT.
val() { sed -n "s/^$2=//p" <<<"$1" | head -n1; }
# mount_line OUTPUT MOUNTPOINT: the mountinfo line (within OUTPUT) of MOUNTPOINT.
mount_line() { awk -v m="$2" '$5 == m' <<<"$1" | tail -n1; }

# A host directory with a file, and a tmpfs mounted below it (for rbind).
H=$T_WORK/host
mkdir -p "$H/sub"
echo host-data >"$H/file"
mount -t tmpfs -o size=1m e2e-sub "$H/sub" || exit 1
at_exit umount -l "$H/sub"
echo sub-data >"$H/sub/inner"

B=$T_WORK/mounts
script='echo tmpfs_mode=$(stat -c %a /data)
echo ro_read=$(cat /ro/file)
echo x 2>/dev/null >/ro/new && echo ro_write=ok || echo ro_write=fail
echo rbind=$(cat /rb/sub/inner 2>&1)
echo bind=$(ls /nb/sub | wc -l)
cp /bin/busybox /flags/bb && /flags/bb true 2>/dev/null && echo exec=ok || echo exec=fail
echo x 2>/dev/null >/root-file && echo root_write=ok || echo root_write=fail
echo x >/tmp/f && echo tmp_write=$(cat /tmp/f)
echo kcore=$(stat -c %t:%T /proc/keys)
echo secret=$(cat /etc/secret | wc -c)
echo sysfw=$(ls /sys/firmware | wc -l)
echo 1 2>/dev/null >/proc/sys/net/ipv4/ip_forward && echo procsys_write=ok || echo procsys_write=fail
echo x 2>/dev/null >/etc/new && echo etc_write=ok || echo etc_write=fail
echo forward=$(cat /proc/sys/net/ipv4/ip_forward)
cat /proc/self/mountinfo'
copy_bundle "$T_WORK/base" "$B" sh -c "$script"
echo top-secret >"$B/rootfs/etc/secret"
jq_edit "$B" '.root.readonly = True
.mounts += [
 {"destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1750"]},
 {"destination": "/ro", "type": "bind", "source": "'"$H"'", "options": ["bind", "ro"]},
 {"destination": "/rb", "type": "bind", "source": "'"$H"'", "options": ["rbind"]},
 {"destination": "/nb", "type": "bind", "source": "'"$H"'", "options": ["bind"]},
 {"destination": "/flags", "type": "tmpfs", "source": "tmpfs",
  "options": ["nosuid", "noexec", "nodev", "size=4m"]},
 {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]
.linux.maskedPaths += ["/etc/secret"]
.linux.readonlyPaths += ["/etc"]
.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
host_forward=$(cat /proc/sys/net/ipv4/ip_forward)
out=$(rt_limited run --bundle "$B" "$T_PREFIX-mounts" 2>&1)
rc=$?
is "$rc" 0 "run with mounts exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
is "$(val "$out" tmpfs_mode)" 1750 "tmpfs mode= option sets the root mode"
like "$(mount_line "$out" /data)" " - tmpfs .*size=1024k" "tmpfs size= option in mountinfo"
is "$(val "$out" ro_read)" host-data "ro bind: reading works"
is "$(val "$out" ro_write)" fail "ro bind: writing fails"
ok "$([ ! -e "$H/new" ]; echo $?)" "ro bind: nothing written on the host"
like "$(mount_line "$out" /ro)" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ /ro ro[, ]" "ro bind is ro in mountinfo"
is "$(val "$out" rbind)" sub-data "rbind carries the submount"
is "$(val "$out" bind)" 0 "plain bind does not carry the submount"
line=$(mount_line "$out" /flags)
like "$line" "nosuid" "nosuid in mountinfo"
like "$line" "nodev" "nodev in mountinfo"
like "$line" "noexec" "noexec in mountinfo"
is "$(val "$out" exec)" fail "noexec: a binary there cannot run"
is "$(val "$out" root_write)" fail "root.readonly: writing to / fails"
is "$(val "$out" tmp_write)" x "root.readonly: writing to a tmpfs on /tmp works"
like "$(mount_line "$out" /)" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / ro[, ]" "root is ro in mountinfo"
is "$(val "$out" kcore)" 1:3 "maskedPaths: /proc/keys is /dev/null"
is "$(val "$out" secret)" 0 "maskedPaths: a masked file reads empty"
ok "$([ -n "$(ls -A /sys/firmware)" ]; echo $?)" "host has entries in /sys/firmware"
is "$(val "$out" sysfw)" 0 "maskedPaths: a masked directory lists empty"
is "$(val "$out" procsys_write)" fail "readonlyPaths: writing /proc/sys fails"
is "$(val "$out" etc_write)" fail "readonlyPaths: writing into a readonly directory fails"
is "$(val "$out" forward)" 1 "linux.sysctl: net.ipv4.ip_forward reads back 1"
is "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_forward" "host's ip_forward unchanged"
like "$(mount_line "$out" /)" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / [^ ]+ - " "default root propagation: no peer group"
ok "$(! grep -q "$B" /proc/self/mountinfo; echo $?)" "no mounts of the bundle left on the host"

# Writable root; devices.
B=$T_WORK/devices
script='for d in null zero full random urandom tty mydev; do
	echo "$d=$(stat -c "%F %t:%T" /dev/$d)"
done
echo mydev_mode=$(stat -c %a /dev/mydev)
echo mydev_read=$(head -c 4 /dev/mydev | od -An -tx1 | tr -d " ")
echo fd=$(readlink /dev/fd) stdin=$(readlink /dev/stdin)
echo shm=$(stat -c %F /dev/shm)
echo x >/root-file && echo root_write=ok
cat /proc/self/mountinfo'
copy_bundle "$T_WORK/base" "$B" sh -c "$script"
jq_edit "$B" '.root.readonly = False
.linux.devices = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 416,
 "uid": 0, "gid": 0}]
.linux.resources.devices += [{"allow": True, "type": "c", "major": 1, "minor": 5, "access": "rwm"}]
.linux.rootfsPropagation = "private"'
out=$(rt_limited run --bundle "$B" "$T_PREFIX-devices" 2>&1)
rc=$?
is "$rc" 0 "run with devices exits 0"
[ "$rc" -eq 0 ] || sed 's/^/# /' <<<"$out"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	is "$(val "$out" "${d%%:*}")" "character special file ${d#*:}" "/dev/${d%%:*} is char ${d#*:}"
done
is "$(val "$out" fd)" "/proc/self/fd stdin=/proc/self/fd/0" "/dev/fd and /dev/stdin links"
is "$(val "$out" shm)" directory "/dev/shm exists"
like "$(mount_line "$out" /dev/pts)" " - devpts " "/dev/pts is devpts"
is "$(val "$out" mydev)" "character special file 1:5" "linux.devices: /dev/mydev is char 1:5"
is "$(val "$out" mydev_mode)" 640 "linux.devices: fileMode 0640"
is "$(val "$out" mydev_read)" 00000000 "linux.devices: /dev/mydev reads zeros"
is "$(val "$out" root_write)" ok "writable root: writing to / works"
like "$(mount_line "$out" /)" "^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ / [^ ]+ - " "rootfsPropagation private: / has no peer group"
rm -f "$B/rootfs/root-file"

# A mount that fails: create fails and leaves nothing behind.
B=$T_WORK/badmount
copy_bundle "$T_WORK/base" "$B" true
jq_edit "$B" '.mounts += [{"destination": "/bad", "type": "nosuchfs", "source": "none"}]'
err=$(rt_limited create --bundle "$B" "$T_PREFIX-bad" 2>&1 </dev/null)
ok $((! $?)) "a mount of type nosuchfs makes create fail"
like "$err" "nosuchfs|/bad|no such device" "the error names the mount"
ok "$(! grep -q "$B" /proc/self/mountinfo; echo $?)" "no mounts of the bundle left on the host"
ok "$( ! rt state "$T_PREFIX-bad" >/dev/null 2>&1; echo $?)" "no container state left"

done_testing

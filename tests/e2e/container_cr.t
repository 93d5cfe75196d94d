#!/bin/bash
# container_cr.t: `ferry checkpoint` and `ferry restore` of whole containers with runc's flags: a
# counter continues, tmpfs files and live limits come back, stdio comes from the restoring caller,
# --leave-running keeps the container; SysV message queues and semaphore sets keep their ids; bad
# requests change nothing; kill -9 of ferry in the middle of a checkpoint leaves the container
# running.
. "$(dirname "$0")/../lib.sh"

SHARED=$T_WORK/shared
MIB=$((1024 * 1024))
mkdir -p "$SHARED"
COUNTER='i=0; echo hello >/scratch/f; while :; do i=$((i+1)); echo $i >/shared/count; sleep 0.05; done'
if ! make_bundle_fast "$T_WORK/base" sh -c "$COUNTER" >/dev/null ||
	! add_bind "$T_WORK/base" "$SHARED" /shared ||
	! jq_edit "$T_WORK/base" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO"}]}; .root.readonly = False; .mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]}]'; then
	ok 1 "make bundle"
	done_testing
	exit 1
fi
B=$T_WORK/base
RT_LIMIT=60

# count: the counter's last value (read again while the file is being rewritten).
count() {
	local v i
	for ((i = 0; i < 50; i++)); do
		v=$(cat "$SHARED/count" 2>/dev/null)
		[[ $v =~ ^[0-9]+$ ]] && { echo "$v"; return; }
		sleep 0.01
	done
	echo 0
}

# advancing: the counter moves within 2 s.
advancing() {
	local a b i
	a=$(count)
	for ((i = 0; i < 40; i++)); do
		sleep 0.05
		b=$(count)
		[ "$b" -gt "$a" ] && return 0
	done
	return 1
}

id=$T_PREFIX-1
(cd "$B" && rt run -d "$id" </dev/null >/dev/null 2>&1)
ok $? "run -d a counter"
wait_for advancing
ok $? "the counter runs"

# privileges PID: what the process may do (capability sets, no_new_privs, seccomp mode and filters).
privileges() {
	grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp|Seccomp_filters):' "/proc/$1/status" |
		tr -s '\t ' ' ' | tr '\n' ' '
}

# --- checkpoint, then restore with the same id ---
at_least_60() { [ "$(count)" -ge 60 ]; }
wait_for at_least_60
privs_before=$(privileges "$(state_field "$id" pid)")
like "$privs_before" "CapBnd: 0000000020000420 .*NoNewPrivs: 1 Seccomp: 2 Seccomp_filters: 1" \
	"the container runs with runc's default capabilities, no_new_privs and a seccomp filter"
out=$(rt_limited checkpoint --image-path "$T_WORK/img1" --work-path "$T_WORK/work1" "$id" 2>&1)
ok $? "checkpoint --image-path --work-path${out:+: $out}"
at_ckpt=$(count)
ok "$([ -f "$T_WORK/img1/inventory.img" ] && echo 0 || echo 1)" "inventory.img in the image"
ok "$([ -s "$T_WORK/work1/stats-dump" ] && echo 0 || echo 1)" "stats-dump in the work path"
out=$(rt state "$id" 2>&1)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "the container is gone after the checkpoint, as with runc"
sleep 0.3
is "$(count)" "$at_ckpt" "the counter stopped at $at_ckpt"
out=$(rt_limited restore -d --image-path "$T_WORK/img1" --work-path "$T_WORK/work1" \
	--pid-file "$T_WORK/pid1" --bundle "$B" "$id" 2>&1 </dev/null)
ok $? "restore -d --bundle --pid-file${out:+: $out}"
first=$(count)
is "$(status_of "$id")" running "restored container is running"
is "$(cat "$T_WORK/pid1" 2>/dev/null)" "$(state_field "$id" pid)" "--pid-file holds the init's pid"
ok "$([ -s "$T_WORK/work1/stats-restore" ] && echo 0 || echo 1)" "stats-restore in the work path"
is "$(privileges "$(state_field "$id" pid)")" "$privs_before" \
	"same capabilities, no_new_privs and seccomp filter after restore"
wait_for advancing
ok $? "the counter runs again"
ok "$([ "$first" -ge "$at_ckpt" ] && echo 0 || echo 1)" \
	"it continues from $at_ckpt (first value read $first; a new start would be far below)"
is "$(rt exec "$id" cat /scratch/f 2>&1)" hello "a file of its tmpfs is back"
is "$(rt ps "$id" 2>/dev/null | grep -c 'sh -c')" 1 "ps lists the restored init"
like "$(rt exec "$id" ip link show lo 2>&1)" "<LOOPBACK,UP" "its own network namespace has lo up, as runc's"

# --- --leave-running (given twice, as runc accepts), then restore a copy next to it ---
out=$(rt_limited checkpoint --leave-running --leave-running --image-path "$T_WORK/img2" "$id" 2>&1)
ok $? "checkpoint --leave-running${out:+: $out}"
is "$(status_of "$id")" running "the container runs on"
wait_for advancing
ok $? "its counter still runs"
id2=$T_PREFIX-2
out=$(rt_limited restore -detach -no-subreaper -image-path "$T_WORK/img2" -bundle "$B" "$id2" 2>&1 </dev/null)
ok $? "restore with Go-style flags (-no-subreaper) as a second container${out:+: $out}"
is "$(status_of "$id2")" running "the copy runs next to the original"
rt delete -f "$id2" >/dev/null 2>&1

# --- bad requests change nothing ---
out=$(rt_limited restore -d --image-path "$T_WORK/img2" --bundle "$B" "$id" 2>&1 </dev/null)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "restore into an id that exists is refused"
like "$out" "exists" "the error says so: $out"
is "$(status_of "$id")" running "the existing container is untouched"
out=$(rt_limited restore -d --image-path "$T_WORK/img2" --bundle "$T_WORK/nowhere" "$T_PREFIX-3" 2>&1 </dev/null)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "restore from a missing bundle is refused"
like "$out" "nowhere" "the error names it: $out"
ok "$(rt state "$T_PREFIX-3" >/dev/null 2>&1 && echo 1 || echo 0)" "nothing is left of it"
clone_bundle "$B" "$T_WORK/other" sleep 1000
out=$(rt_limited restore -d --image-path "$T_WORK/img2" --bundle "$T_WORK/other" "$T_PREFIX-4" 2>&1 </dev/null)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "restore of another container's image is refused"
like "$out" "not the same container" "the error says why: $out"
ok "$(rt state "$T_PREFIX-4" >/dev/null 2>&1 && echo 1 || echo 0)" "nothing is left of it"
out=$(rt_limited checkpoint --pre-dump --image-path "$T_WORK/img3" "$id" 2>&1)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "checkpoint --pre-dump is refused for now"
like "$out" "pre-dump.*not supported yet" "with a clear message: $out"
idc=$T_PREFIX-created
(cd "$B" && rt create "$idc" </dev/null >/dev/null 2>&1)
out=$(rt_limited checkpoint --image-path "$T_WORK/img4" "$idc" 2>&1)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "checkpoint of a created (not started) container is refused"
like "$out" "is created" "the error says its state: $out"
ok "$([ ! -e "$T_WORK/img4/inventory.img" ] && echo 0 || echo 1)" "no image is left"
rt delete -f "$idc" >/dev/null 2>&1
ids=$T_PREFIX-stopped
clone_bundle "$B" "$T_WORK/short" true
(cd "$T_WORK/short" && rt run -d "$ids" </dev/null >/dev/null 2>&1)
wait_for test "$(status_of "$ids")" = stopped
out=$(rt_limited checkpoint --image-path "$T_WORK/img5" "$ids" 2>&1)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "checkpoint of a stopped container is refused: $out"
out=$(rt_limited restore -d --image-path "$T_WORK/nothing" --bundle "$B" "$T_PREFIX-5" 2>&1 </dev/null)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "restore from a missing image is refused: $out"
rt checkpoint --help >/dev/null 2>&1
ok $? "checkpoint --help exits 0"
rt exec "$id" sleep 30 </dev/null >/dev/null 2>&1 &
epid=$!
wait_for rt exec "$id" pgrep -x sleep
out=$(rt_limited checkpoint --leave-running --image-path "$T_WORK/img8" "$id" 2>&1)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "checkpoint with an exec still attached to its caller is refused"
like "$out" "not a descendant of its init" "naming it: $out"
is "$(status_of "$id")" running "the container runs on"
kill "$epid" 2>/dev/null

# --- a container with its own user namespace (root inside is 100000 outside) ---
idu=$T_PREFIX-userns
copy_bundle "$B" "$T_WORK/userns" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done'
chmod 1777 "$T_WORK/userns/rootfs/tmp"
chmod 0755 "$T_WORK" # the state directory is reached by the namespace's root (exec.fifo)
mkdir -p "$T_WORK/userns/rootfs/scratch" # its root may not make mount points in a host-owned rootfs
jq_edit "$T_WORK/userns" '.linux.namespaces += [{"type": "user"}]; .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]; .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]; .mounts = [m for m in c["mounts"] if m["destination"] != "/shared"]'
(cd "$T_WORK/userns" && rt run -d "$idu" </dev/null >/dev/null 2>"$T_WORK/userns.err")
out=$(cat "$T_WORK/userns.err")
ucount() { rt exec "$idu" cat /tmp/c 2>/dev/null || echo 0; }
at_least_20() { [ "$(ucount)" -ge 20 ]; }
wait_for at_least_20
ok $? "a counter in a container with a user namespace${out:+: $out}"
ids_before=$(grep -E '^(Uid|Gid):' "/proc/$(state_field "$idu" pid)/status" | tr -s '\t ' ' ')
out=$(rt_limited checkpoint --image-path "$T_WORK/img12" "$idu" 2>&1)
ok $? "checkpoint${out:+: $out}"
uat=$(cat "$T_WORK/userns/rootfs/tmp/c")
# (its stderr was a host file: it becomes the restore's, kept out of a command substitution)
rt_limited restore -d --image-path "$T_WORK/img12" --bundle "$T_WORK/userns" "$idu" \
	</dev/null >/dev/null 2>"$T_WORK/userns.rerr"
ok $? "restore into a new user namespace $(cat "$T_WORK/userns.rerr")"
ufirst=$(ucount)
ok "$([ "$ufirst" -ge "$uat" ] && echo 0 || echo 1)" "its counter continues from $uat (read $ufirst)"
is "$(grep -E '^(Uid|Gid):' "/proc/$(state_field "$idu" pid)/status" | tr -s '\t ' ' ')" "$ids_before" \
	"the same ids seen from the host (root of the namespace is 100000)"
rt delete -f "$idu" >/dev/null 2>&1

# --- a file the processes hold is missing from the rootfs at restore ---
idh=$T_PREFIX-held
copy_bundle "$B" "$T_WORK/held" sh -c 'exec 3</etc/held; while :; do sleep 1; done'
echo data >"$T_WORK/held/rootfs/etc/held"
(cd "$T_WORK/held" && rt run -d "$idh" </dev/null >/dev/null 2>&1)
wait_for rt exec "$idh" test -e /proc/1/fd/3
out=$(rt_limited checkpoint --image-path "$T_WORK/img10" "$idh" 2>&1)
ok $? "checkpoint of a container holding /etc/held open${out:+: $out}"
rm -f "$T_WORK/held/rootfs/etc/held"
out=$(rt_limited restore -d --image-path "$T_WORK/img10" --bundle "$T_WORK/held" "$idh" 2>&1 </dev/null)
ok "$([ $? -ne 0 ] && echo 0 || echo 1)" "restore into a rootfs without that file is refused"
like "$out" "holds /etc/held \(fd 3\), which the container's root filesystem does not have" \
	"the error names the process, the file and the fd: $out"
ok "$(rt state "$idh" >/dev/null 2>&1 && echo 1 || echo 0)" "nothing is left of it"

# --- stdio from the restoring caller; a live limit survives ---
cc -static -O2 -o "$B/rootfs/bin/memory" "$TOP/tests/workloads/memory.c" 2>/dev/null
idm=$T_PREFIX-mem
clone_bundle "$B" "$T_WORK/mem" /bin/memory 64
jq_edit "$T_WORK/mem" '.linux.resources = {"memory": {"limit": 268435456}}'
(cd "$T_WORK/mem" && rt run -d "$idm" </dev/null >"$T_WORK/mem.out" 2>&1)
wait_for grep -q READY "$T_WORK/mem.out"
ok $? "a container holding 64 MiB of checked memory, limit 256 MiB"
rt update --memory $((300 * MIB)) "$idm" >/dev/null 2>&1
ok $? "its limit raised live to 300 MiB"
out=$(rt_limited checkpoint --image-path "$T_WORK/img6" "$idm" 2>&1)
ok $? "checkpoint${out:+: $out}"
# (its stdout and stderr become the restore's: kept out of a command substitution's pipe)
rt_limited restore -d --image-path "$T_WORK/img6" --bundle "$T_WORK/mem" "$idm" \
	</dev/null >"$T_WORK/mem2.out" 2>"$T_WORK/mem2.err"
ok $? "restore, its stdout now a new file of the caller $(cat "$T_WORK/mem2.err")"
like "$(rt limits "$idm" 2>&1 | tr -d ' \n')" "\"limit\":$((300 * MIB))" "the limit is 300 MiB after restore"
rt kill "$idm" USR1 >/dev/null 2>&1
wait_for grep -q PASS "$T_WORK/mem2.out"
ok $? "its memory verifies after restore, reported on the caller's stdout ($(tail -n 1 "$T_WORK/mem2.out"))"
rt delete -f "$idm" >/dev/null 2>&1

# --- SysV shared memory in the container's own IPC namespace ---
cc -static -O2 -o "$B/rootfs/bin/sysvshm" "$TOP/tests/workloads/sysvshm.c" 2>/dev/null
ids=$T_PREFIX-sysv
clone_bundle "$B" "$T_WORK/sysv" /bin/sysvshm /tmp
(cd "$T_WORK/sysv" && rt run -d "$ids" </dev/null >"$T_WORK/sysv.out" 2>&1)
wait_for grep -q READY "$T_WORK/sysv.out"
ok $? "a container with SysV segments shared by two processes"
out=$(rt_limited checkpoint --image-path "$T_WORK/img9" "$ids" 2>&1)
ok $? "checkpoint${out:+: $out}"
rt_limited restore -d --image-path "$T_WORK/img9" --bundle "$T_WORK/sysv" "$ids" \
	</dev/null >"$T_WORK/sysv2.out" 2>&1
ok $? "restore into a new IPC namespace $(head -c 300 "$T_WORK/sysv2.out")"
rt kill "$ids" USR1 >/dev/null 2>&1
wait_for grep -q -E 'PASS|FAIL' "$T_WORK/sysv2.out"
like "$(tail -n 1 "$T_WORK/sysv2.out")" "^PASS" "the segments verify after restore"
rt delete -f "$ids" >/dev/null 2>&1

# --- SysV message queue and semaphore set, used by id, in the container's own IPC namespace ---
cc -static -O2 -o "$B/rootfs/bin/sysvmsg" "$TOP/tests/workloads/ipcns/sysvmsg.c" 2>/dev/null
idq=$T_PREFIX-msg
clone_bundle "$B" "$T_WORK/msg" /bin/sysvmsg /tmp
(cd "$T_WORK/msg" && rt run -d "$idq" </dev/null >"$T_WORK/msg.out" 2>&1)
wait_for grep -q READY "$T_WORK/msg.out"
ok $? "a container using a SysV message queue and semaphore set by id"
out=$(rt_limited checkpoint --image-path "$T_WORK/img11" "$idq" 2>&1)
ok $? "checkpoint${out:+: $out}"
like "$("$FERRY" image show "$T_WORK/img11" 2>&1 | jq -c '.container.sysv | [.semaphore_sets[].values, .message_queues[].messages]')" \
	'^\[\[1,42,7\],3\]$' "the image holds the set's values and the queue's 3 messages"
rt_limited restore -d --image-path "$T_WORK/img11" --bundle "$T_WORK/msg" "$idq" \
	</dev/null >"$T_WORK/msg2.out" 2>&1
ok $? "restore into a new IPC namespace $(head -c 300 "$T_WORK/msg2.out")"
rt kill "$idq" USR1 >/dev/null 2>&1
wait_for grep -q -E 'PASS|FAIL' "$T_WORK/msg2.out"
like "$(tail -n 1 "$T_WORK/msg2.out")" "^PASS" "the queue and the set verify by their ids after restore"
rt delete -f "$idq" >/dev/null 2>&1

# --- kill -9 of ferry in the middle of a checkpoint ---
idk=$T_PREFIX-kill
clone_bundle "$B" "$T_WORK/kill" /bin/memory 200
(cd "$T_WORK/kill" && rt run -d "$idk" </dev/null >"$T_WORK/kill.out" 2>&1)
wait_for grep -q READY "$T_WORK/kill.out"
for delay in 0.005 0.02 0.05 0.1 0.2; do
	rm -rf "$T_WORK/img7"
	"$FERRY" --root "$T_ROOT" checkpoint --image-path "$T_WORK/img7" "$idk" >/dev/null 2>&1 & # not rt: $! must be ferry
	cpid=$!
	sleep "$delay"
	kill -9 "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	st=$?
	if [ $st -eq 0 ] || [ -e "$T_WORK/img7/inventory.img" ]; then
		# done (the image sealed, the container stopped) before the kill: bring it back
		skip "the checkpoint was done within $delay s" "$(command -v nft >/dev/null && echo 3 || echo 2)"
		[ $st -eq 0 ] || rt delete -f "$idk" >/dev/null 2>&1
		rt_limited restore -d --image-path "$T_WORK/img7" --bundle "$T_WORK/kill" "$idk" \
			</dev/null >>"$T_WORK/kill.out" 2>&1
		continue
	fi
	st=$(status_of "$idk")
	[ "$st" = paused ] && rt resume "$idk" >/dev/null 2>&1 && st=$(status_of "$idk")
	is "$st" running "ferry killed $delay s into a checkpoint: the container runs"
	if command -v nft >/dev/null; then
		tables=$(nsenter -t "$(state_field "$idk" pid)" -n nft list tables 2>&1) ||
			tables="nft failed: $tables"
		is "$(echo "$tables" | grep -c -E 'ferry|failed')" 0 \
			"its network namespace holds no lock of ferry ($tables)"
	fi
	ok "$([ ! -e "$T_WORK/img7/inventory.img" ] && echo 0 || echo 1)" "no sealed image is left"
done
rt kill "$idk" USR1 >/dev/null 2>&1
wait_for grep -q -E 'PASS|FAIL' "$T_WORK/kill.out"
like "$(tail -n 1 "$T_WORK/kill.out")" "^PASS" "its memory is intact"
rt delete -f "$idk" >/dev/null 2>&1

rt delete -f "$id" >/dev/null 2>&1
done_testing

#!/bin/bash
# ferry process checkpoint on real processes (tests/workloads): a checkpoint with --leave-running
# does not harm the process, the image holds its threads, memory areas and fds; a failed
# checkpoint leaves the process unchanged and no image; without --leave-running it is gone.
. "$(dirname "$0")/../lib.sh"

W=$T_WORK/bin
mkdir -p "$W"
for w in counter memory files; do
	cc -O2 -o "$W/$w" "$TOP/tests/workloads/$w.c" || skip_all "cannot build workload $w"
done



# show DIR PYEXPR: evaluates PYEXPR over the image's JSON (d) and the root process (p).
show() {
	"$FERRY" image show "$1" | python3 -c 'import json, sys
d = json.load(sys.stdin); p = d["processes"][0]
print(eval(sys.argv[1]))' "$2"
}

fds_of() { ls -l "/proc/$1/fd" | awk 'NR > 1 {print $9, $10, $11, $12}'; }

# ---- the counter goes on counting, and the image describes it ----
start_ready counter "$W/counter" "$T_WORK/count"
maps_before=$(cat "/proc/$PID/maps")
fds_before=$(fds_of "$PID")
out=$("$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/c1" --leave-running 2>&1)
ok $? "checkpoint --leave-running of the counter${out:+: $out}"
is "$(cat "/proc/$PID/maps")" "$maps_before" "its memory map is unchanged after the checkpoint"
is "$(fds_of "$PID")" "$fds_before" "its fds are unchanged"
n1=$(cat "$T_WORK/count")
sleep 0.2
n2=$(cat "$T_WORK/count")
ok $((10#$n2 > 10#$n1 ? 0 : 1)) "it keeps counting ($n1 -> $n2)"
like "$("$FERRY" image check "$T_WORK/c1" 2>&1)" "^image OK: 1 processes, 1 threads, [0-9]+ pages" \
	"image check passes"
is "$(show "$T_WORK/c1" '[len(p["vmas"]), p["pid"], len(p["threads"]), p["comm"]]')" \
	"[$(printf '%s\n' "$maps_before" | wc -l), $PID, 1, 'counter']" \
	"the image has one area per line of /proc/PID/maps, the pid, one thread"
is "$(show "$T_WORK/c1" '[(int(v["start"], 16), int(v["end"], 16)) for v in p["vmas"]] == [tuple(int(x, 16) for x in l.split()[0].split("-")) for l in open("/proc/'"$PID"'/maps")]')" \
	"True" "the areas are those of /proc/PID/maps"
is "$(show "$T_WORK/c1" 'p["cwd"] == "'"$(readlink /proc/$PID/cwd)"'" and p["mm"]["exe"] == "'"$W/counter"'"')" \
	"True" "cwd and exe recorded"
finish_check counter "$PID"
like "$RESULT" "^status 0 PASS" "the counter verifies its state after the checkpoint"

# ---- 256 MiB of random data ----
start_ready memory "$W/memory" 256
out=$("$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/m1" --leave-running 2>&1)
ok $? "checkpoint --leave-running of 256 MiB${out:+: $out}"
pages=$("$FERRY" image check "$T_WORK/m1" | sed -n 's/.* \([0-9]*\) pages$/\1/p')
ok $((pages >= 65536 ? 0 : 1)) "image check passes with every page of the 256 MiB ($pages pages)"
finish_check memory "$PID"
like "$RESULT" "^status 0 PASS" "the data's checksum still holds"

# ---- files at offsets ----
mkdir -p "$T_WORK/files"
start_ready files "$W/files" "$T_WORK/files"
out=$("$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/f1" --leave-running 2>&1)
ok $? "checkpoint --leave-running of open files${out:+: $out}"
is "$(show "$T_WORK/f1" '[(f["fd"], f["kind"], f["offset"], bool(f["flags"] & 0o2000), f["cloexec"]) for f in p["fds"] if 3 <= f["fd"] <= 6]')" \
	"[(3, 'file', 1234, False, False), (4, 'file', 4, True, False), (5, 'file', 7, False, False), (6, 'dir', 0, False, True)]" \
	"fds with their kinds, offsets, O_APPEND and close-on-exec"
is "$(show "$T_WORK/f1" '[f["path"] for f in p["fds"] if 3 <= f["fd"] <= 6]')" \
	"['$T_WORK/files/a', '$T_WORK/files/b', '$T_WORK/files/a', '$T_WORK/files']" "fd paths"
finish_check files "$PID"
like "$RESULT" "^status 0 PASS" "the files workload verifies its fds"

# ---- failures leave the process as it was ----
out=$("$FERRY" process checkpoint --pid 4194000 --image-path "$T_WORK/none" 2>&1)
st=$?
ok $((st != 0 ? 0 : 1)) "checkpoint of a missing pid fails"
like "$out" "checkpoint 4194000: .*No such process" "with a clear error"
ok "$([ ! -e "$T_WORK/none" ] && echo 0 || echo 1)" "and leaves no image directory"

start_ready sock python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("READY", s.fileno(), flush=True)
time.sleep(600)'
maps_before=$(cat "/proc/$PID/maps")
fds_before=$(fds_of "$PID")
regs_before=$(grep -E '^(State|SigBlk|SigIgn|SigCgt)' "/proc/$PID/status")
out=$("$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/s1" 2>&1)
st=$?
ok $((st != 0 ? 0 : 1)) "checkpoint of a process holding a socket fails"
like "$out" "fd [0-9]+: socket:\[[0-9]+\]: not supported yet" "naming the fd and its kind"
is "$(cat "/proc/$PID/maps")" "$maps_before" "no leftover mapping in the process"
is "$(fds_of "$PID")" "$fds_before" "no stray fd in the process"
is "$(grep -E '^(State|SigBlk|SigIgn|SigCgt)' "/proc/$PID/status")" "$regs_before" \
	"its state and signal masks are unchanged"
is "$(ls -A "$T_WORK/s1" 2>/dev/null)" "" "no image files remain"
ok "$(grep -q TracerPid:.0 "/proc/$PID/status" && echo 0 || echo 1)" "it is no longer traced"

# ---- without --leave-running the tree is killed after a good dump ----
start_ready counter2 "$W/counter" "$T_WORK/count2"
out=$("$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/c2" 2>&1)
ok $? "checkpoint without --leave-running${out:+: $out}"
wait "$PID"
is "$?" 137 "the process is gone (killed)"
like "$("$FERRY" image check "$T_WORK/c2" 2>&1)" "^image OK: 1 processes, 1 threads" \
	"its image is sealed and valid"

done_testing

#!/bin/bash
# Failures of checkpoint and restore, as a user meets them. A failed checkpoint (an unsupported fd,
# a target exiting mid-dump, an image directory read-only or full, `ferry process checkpoint`
# killed mid-dump) leaves the tree running unchanged: same memory map, fds and signal masks, not
# traced, not stopped, not frozen, and no sealed image. A failed restore (pid in use, a missing
# mapped file, another vDSO layout) names the step and the reason and leaves nothing it made. A
# damaged or malicious image is refused, naming the file and record, before anything is forked.
. "$(dirname "$0")/../lib.sh"

W=$T_WORK/bin
mkdir -p "$W"
for w in counter memory; do
	cc -O2 -o "$W/$w" "$TOP/tests/workloads/$w.c" || skip_all "cannot build workload $w"
done
command -v strace >/dev/null || skip_all "strace is needed"

# victim sock: blocked signals and a UDP socket (which checkpoint refuses); victim parent CMD...:
# a parent that never reaps its child CMD.
cat >"$W/victim.c" <<'C'
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t set;

	if (argc > 1 && !strcmp(argv[1], "sock")) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigaddset(&set, SIGWINCH);
		sigprocmask(SIG_BLOCK, &set, NULL);
		signal(SIGPIPE, SIG_IGN);
		if (socket(AF_INET, SOCK_DGRAM, 0) < 0)
			return 1;
		printf("READY\n");
		fflush(stdout);
	} else if (argc > 2 && !strcmp(argv[1], "parent")) {
		if (fork() == 0) {
			execv(argv[2], argv + 2);
			return 127;
		}
	} else {
		return 2;
	}
	for (;;)
		pause();
}
C
cc -O2 -o "$W/victim" "$W/victim.c" || skip_all "cannot build the victim program"

# imged DIR FILE RECNO CODE: edits record RECNO of DIR/FILE as a protobuf message and reseals
# the image (the file's size and CRC32C in the inventory, then the inventory's seal), so that
# only the record checks can catch the edit. Forged images are made with it.
cat >"$W/imged.py" <<'PY'
import struct, sys

T = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    T.append(c)

def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

def varint(b, i):
    v = s = 0
    while True:
        x = b[i]; i += 1
        v |= (x & 0x7F) << s; s += 7
        if not x & 0x80:
            return v, i

def enc_varint(v):
    v &= (1 << 64) - 1
    o = bytearray()
    while True:
        x = v & 0x7F; v >>= 7
        if v:
            o.append(x | 0x80)
        else:
            o.append(x)
            return bytes(o)

class Msg:
    def __init__(self, b=b''):
        self.f = []
        i = 0
        while i < len(b):
            k, i = varint(b, i)
            n, wt = k >> 3, k & 7
            if wt == 0:
                v, i = varint(b, i)
            elif wt == 1:
                v = struct.unpack_from('<Q', b, i)[0]; i += 8
            elif wt == 5:
                v = struct.unpack_from('<I', b, i)[0]; i += 4
            elif wt == 2:
                ln, i = varint(b, i); v = bytes(b[i:i + ln]); i += ln
            else:
                raise ValueError('wire type %d' % wt)
            self.f.append([n, wt, v])
    def all(self, n):
        return [x for x in self.f if x[0] == n]
    def get(self, n, i=0):
        return self.all(n)[i][2]
    def set(self, n, v, i=0):
        x = self.all(n)
        if not x:
            self.add(n, 2 if isinstance(v, (bytes, str)) else 0, v)
            return
        x[i][2] = v.encode() if isinstance(v, str) else v
    def add(self, n, wt, v):
        self.f.append([n, wt, v.encode() if isinstance(v, str) else v])
    def sub(self, n, i=0):
        return Msg(self.get(n, i))
    def put(self, n, m, i=0):
        self.set(n, m.encode(), i)
    def encode(self):
        o = bytearray()
        for n, wt, v in self.f:
            o += enc_varint(n << 3 | wt)
            if wt == 0:
                o += enc_varint(v)
            elif wt == 1:
                o += struct.pack('<Q', v)
            elif wt == 5:
                o += struct.pack('<I', v)
            else:
                o += enc_varint(len(v)) + v
        return bytes(o)

def records(b):
    out, i = [], 12
    while i < len(b):
        ln = struct.unpack_from('<I', b, i)[0]
        out.append(b[i + 4:i + 4 + ln]); i += 4 + ln
    return out

def frame(head, recs):
    return head + b''.join(struct.pack('<I', len(r)) + r for r in recs)

def reseal(d, name):
    b = open(d + '/inventory.img', 'rb').read()
    inv = Msg(records(b)[0])
    data = open('%s/%s' % (d, name), 'rb').read() if name else None
    for x in inv.all(10) if name else []:
        s = Msg(x[2])
        if s.get(1) == name.encode():
            s.set(2, len(data)); s.set(3, crc32c(data)); x[2] = s.encode()
    r = inv.encode()
    sealed = b[:12] + struct.pack('<I', len(r)) + r
    seal = Msg(); seal.add(1, 0, crc32c(sealed))
    open(d + '/inventory.img', 'wb').write(frame(b[:12], [r, seal.encode()]))

d, name, recno, code = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
b = open('%s/%s' % (d, name), 'rb').read()
recs = records(b)
m = Msg(recs[recno - 1])
exec(code, {'m': m, 'Msg': Msg, 'recs': recs})
if name == 'inventory.img':
    recs[0] = m.encode()
    open('%s/%s' % (d, name), 'wb').write(frame(b[:12], recs))
    reseal(d, '')
else:
    recs[recno - 1] = m.encode()
    open('%s/%s' % (d, name), 'wb').write(frame(b[:12], recs))
    reseal(d, name)
PY
imged() { python3 "$W/imged.py" "$@"; }



# snapshot PID: what a failed checkpoint must not change.
snapshot() {
	cat "/proc/$1/maps"
	ls -l "/proc/$1/fd" | awk 'NR > 1 {print $9, $10, $11}'
	grep -E '^(SigBlk|SigIgn|SigCgt|SigPnd|ShdPnd)' "/proc/$1/status"
}

# unchanged PID BEFORE WHAT: the tree's root is as BEFORE, running and untraced.
unchanged() {
	local st
	is "$(snapshot "$1")" "$2" "$3: maps, fds and signal masks unchanged"
	st=$(awk '$1 == "State:" {print $2} $1 == "TracerPid:" {print $2}' "/proc/$1/status" | tr '\n' ' ')
	like "$st" "^[RS] 0 $" "$3: running (not stopped) and not traced"
	like "$(grep freezer "/proc/$1/cgroup" 2>/dev/null || echo none)" "^(none|[0-9]+:freezer:/)$" \
		"$3: not left in a freezer cgroup"
}

# noimage DIR WHAT: no sealed image remains.
noimage() {
	ok "$([ ! -e "$1/inventory.img" ] && echo 0 || echo 1)" "$2: no inventory.img in $1"
}

# forks LOG: how many processes a command traced by `strace -o LOG` created.
forks() { grep -cE '(clone|clone3|fork|vfork)\(' "$1"; }

# refuse NAME DIR REGEX WHAT: restore of DIR fails with an error matching REGEX and forks nothing;
# no process with the root's pid ($ROOT) appears.
refuse() {
	local out st
	out=$(strace -f -qq -e trace=clone,clone3,fork,vfork -o "$T_WORK/$1.strace" \
		"$FERRY" process restore --image-path "$2" --detach 2>&1)
	st=$?
	is "$(pid_alive "$ROOT" && kill -9 "$ROOT" && echo alive)" "" "$4: no process $ROOT appears"
	is "$st" 1 "$4: restore fails"
	like "$out" "$3" "$4: the error names it"
	is "$(forks "$T_WORK/$1.strace")" 0 "$4: nothing was forked"
}

# ckpt_fails NAME PID DIR REGEX WHAT [ARGS...]: checkpoint of PID into DIR fails with REGEX.
ckpt_fails() {
	local name=$1 pid=$2 dir=$3 re=$4 what=$5 out st
	shift 5
	out=$(timeout 60 "$FERRY" process checkpoint --pid "$pid" --image-path "$dir" "$@" 2>&1)
	st=$?
	is "$st" 1 "$what: checkpoint fails"
	like "$out" "$re" "$what: with a clear error"
}

# ---- an unsupported fd ----
start_ready sock "$W/victim" sock
before=$(snapshot "$PID")
ckpt_fails sock "$PID" "$T_WORK/sock" "fd [0-9]+: socket:\[[0-9]+\].*not supported yet" \
	"an unsupported fd"
unchanged "$PID" "$before" "an unsupported fd"
noimage "$T_WORK/sock" "an unsupported fd"
ok "$([ ! -e "$T_WORK/sock" ] && echo 0 || echo 1)" "an unsupported fd: the image directory it made is gone"
kill -9 "$PID"

# ---- a file lock (it would be lost) ----
start_ready lock python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "w"); fcntl.lockf(f, fcntl.LOCK_EX); print("READY", flush=True); time.sleep(100)' \
	"$T_WORK/lockfile"
ckpt_fails lock "$PID" "$T_WORK/lock" "fd [0-9]+: holds a file lock \([0-9]+: POSIX +ADVISORY +WRITE.*\): not supported yet" \
	"a process holding a POSIX lock"
pid_alive "$PID"
ok $? "a process holding a POSIX lock: it runs on"
kill -9 "$PID"

# ---- a unix socket connected to one outside the tree ----
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); c = s.accept()[0]; time.sleep(100)' \
	"$T_WORK/ux.sock" &
at_exit "kill -9 $!"
wait_for test -S "$T_WORK/ux.sock"
start_ready ux python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print("READY", flush=True); time.sleep(100)' \
	"$T_WORK/ux.sock"
ckpt_fails ux "$PID" "$T_WORK/ux" "fd [0-9]+: a unix socket connected to one outside the tree \(socket:\[[0-9]+\]\): not supported yet" \
	"a unix socket whose peer is outside the tree"
pid_alive "$PID"
ok $? "a unix socket whose peer is outside the tree: the process runs on"
noimage "$T_WORK/ux" "a unix socket whose peer is outside the tree"
kill -9 "$PID"

# ---- a read-only image directory, then a full one (a 64 KiB tmpfs) ----
mkdir -p "$T_WORK/ro" "$T_WORK/full"
mount -t tmpfs -o ro,size=1m tmpfs "$T_WORK/ro" && at_exit "umount -l $T_WORK/ro"
mount -t tmpfs -o size=64k tmpfs "$T_WORK/full" && at_exit "umount -l $T_WORK/full"
start_ready counter "$W/counter" "$T_WORK/count"
before=$(snapshot "$PID")
ckpt_fails ro "$PID" "$T_WORK/ro/img" "$T_WORK/ro/img.*Read-only file system" \
	"a read-only image directory"
unchanged "$PID" "$before" "a read-only image directory"
ckpt_fails full "$PID" "$T_WORK/full/img" "No space left on device" "a full image directory"
unchanged "$PID" "$before" "a full image directory"
noimage "$T_WORK/full/img" "a full image directory"
is "$(ls -A "$T_WORK/full")" "" "a full image directory: the partial image is removed"
finish_check counter "$PID"
like "$RESULT" "^status 0 PASS" "the counter still verifies its state"

# ---- the target exits in the middle of the dump ----
start_ready parent "$W/victim" parent "$W/memory" 512
CHILD=$(tr -d " " <"/proc/$PID/task/$PID/children")
before=$(snapshot "$PID")
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/exit" >"$T_WORK/exit.err" 2>&1 &
CK=$!
at_exit "kill -9 $CK"
for ((i = 0; i < 2000000; i++)); do [ -e "$T_WORK/exit/pages-1.img" ] && break; done
kill -9 "$CHILD"
wait "$CK"
is "$?" 1 "a child killed mid-dump: checkpoint fails"
like "$(cat "$T_WORK/exit.err")" "checkpoint $PID: .*$CHILD" "a child killed mid-dump: the error names it"
unchanged "$PID" "$before" "a child killed mid-dump: the parent"
noimage "$T_WORK/exit" "a child killed mid-dump"
kill -9 "$PID"

# ---- `ferry process checkpoint` killed in the middle of a large dump ----
start_ready big "$W/memory" 512
before=$(snapshot "$PID")
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/killed" --leave-running \
	>/dev/null 2>&1 &
CK=$!
for ((i = 0; i < 2000000; i++)); do [ -s "$T_WORK/killed/pages-1.img" ] && break; done
kill -STOP "$CK" # mid-dump, deterministically
pages=$(stat -c %s "$T_WORK/killed/pages-1.img")
kill -9 "$CK"
wait "$CK"
is "$?" 137 "ferry killed mid-dump ($pages bytes of pages written)"
unchanged "$PID" "$before" "ferry killed mid-dump"
noimage "$T_WORK/killed" "ferry killed mid-dump"
ROOT=none
refuse partial "$T_WORK/killed" "inventory.img" "the partial image"
finish_check big "$PID"
like "$RESULT" "^status 0 PASS" "ferry killed mid-dump: the 512 MiB checksum still holds"

# ---- pids that cannot be checkpointed ----
ckpt_fails gone 4194000 "$T_WORK/gone" "checkpoint 4194000: .*No such process" "a pid that is gone"
ckpt_fails init 1 "$T_WORK/init" "checkpoint 1: .*init" "pid 1" --leave-running
is "$(awk '$1 == "TracerPid:" {print $2}' /proc/1/status)" 0 "pid 1 is not traced"
start_ready traced "$W/counter" "$T_WORK/count2"
strace -qq -p "$PID" -o /dev/null &
ST=$!
at_exit "kill -9 $ST"
wait_for grep -q "TracerPid:.$ST" "/proc/$PID/status"
ckpt_fails traced "$PID" "$T_WORK/traced" "cannot trace $PID .*traced by $ST" \
	"a process traced by strace" --leave-running
is "$(awk '$1 == "TracerPid:" {print $2}' "/proc/$PID/status")" "$ST" \
	"a process traced by strace: strace still traces it"
kill "$ST"
wait "$ST"
finish_check traced "$PID"
like "$RESULT" "^status 0 PASS" "a process traced by strace: the counter verifies its state"

# ---- failed restores: the step and the reason, nothing left behind ----
start_ready good "$W/counter" "$T_WORK/count3"
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/good" --leave-running
ok $? "checkpoint of a counter with --leave-running"
out=$("$FERRY" process restore --image-path "$T_WORK/good" --detach 2>&1)
is "$?" 1 "restore while the pid is taken fails"
like "$out" "check pids: pid $PID is in use" "the error names the step and the pid"
finish_check good "$PID"
like "$RESULT" "^status 0 PASS" "the original was not disturbed"

# A parent and a child running a copy of the counter that is gone at restore time: the parent is
# made, the child's mapping fails, and the parent must be killed.
cp "$W/counter" "$W/counter-copy"
start_ready tree "$W/victim" parent "$W/counter-copy" "$T_WORK/count4"
wait_for test -s "$T_WORK/count4"
CHILD=$(tr -d " " <"/proc/$PID/task/$PID/children")
ROOT=$PID
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/tree"
ok $? "checkpoint of a parent and its child"
wait "$PID" 2>/dev/null
wait_for sh -c "! test -e /proc/$CHILD"
rm "$W/counter-copy"
out=$("$FERRY" process restore --image-path "$T_WORK/tree" --detach 2>&1)
is "$?" 1 "restore with a mapped file missing fails"
like "$out" "restore pid $CHILD: map 0x[0-9a-f]+-0x[0-9a-f]+ \($W/counter-copy\): .*No such file" \
	"the error names the process, the step (map), the area and the file"
sleep 0.2
is "$(pid_alive "$ROOT" && echo alive; pid_alive "$CHILD" && echo alive)" "" \
	"no process of the tree is left (the parent it made is killed)"

# A file the process has open is gone at restore time: the open fails in a batch of calls (after
# the files before it) and its error names the fd and the path; the process made is killed.
start_ready gone "$W/counter" "$T_WORK/count5"
wait_for test -s "$T_WORK/count5"
"$FERRY" process checkpoint --pid "$PID" --image-path "$T_WORK/gone"
ok $? "checkpoint of a counter"
wait "$PID" 2>/dev/null
GONE=$PID
rm "$T_WORK/count5"
out=$("$FERRY" process restore --image-path "$T_WORK/gone" --detach 2>&1)
is "$?" 1 "restore with an open file missing fails"
like "$out" "restore pid $GONE: fd 3: open $T_WORK/count5: .*No such file" \
	"the error names the process, the fd and the file"
sleep 0.2
is "$(pid_alive "$GONE" && echo alive)" "" "the process it made is killed"

# A vDSO of another layout: the image's host facts are forged so that [vdso] is one page longer
# (its end moved up by 4096 in the inventory's VdsoArea, field 6, end = field 3).
cp -r "$T_WORK/good" "$T_WORK/vdso"

imged "$T_WORK/vdso" inventory.img 1 '
for k, x in enumerate(m.all(6)):
    a = Msg(x[2])
    if a.get(1) == b"[vdso]":
        a.set(3, a.get(3) + 4096); x[2] = a.encode()'
like "$("$FERRY" image show "$T_WORK/vdso" | python3 -c 'import json, sys
print([a for a in json.load(sys.stdin)["host"]["vdso"] if a["name"] == "[vdso]"])')" \
	"'end': '0x[0-9a-f]+'" "the forged image is still sealed and readable"
ROOT=$("$FERRY" image show "$T_WORK/vdso" | json_get 'd["root_pid"]')
refuse vdso "$T_WORK/vdso" "check host: vDSO layout differs: \[vdso\] is [0-9]+ bytes in the image, [0-9]+ on this kernel" \
	"a forged vDSO layout"

# ---- damaged and malicious images are refused before anything is forked ----
# Each is a copy of the counter's image ($T_WORK/good, whose process has exited), damaged then
# resealed with imged so that only the record checks can catch it.
ROOT=$("$FERRY" image show "$T_WORK/good" | json_get 'd["root_pid"]')
P=$ROOT
bad() { rm -rf "$T_WORK/$1" && cp -r "$T_WORK/good" "$T_WORK/$1"; }

bad cut
truncate -s -4096 "$T_WORK/cut/pages-1.img"
refuse cut "$T_WORK/cut" "pages-1.img: [0-9]+ bytes, the inventory says [0-9]+" "a truncated pages file"

bad flip
printf '\x5a' | dd of="$T_WORK/flip/core-$P.img" bs=1 seek=40 conv=notrunc status=none
refuse flip "$T_WORK/flip" "core-$P.img: checksum mismatch" "a flipped bit"

bad overlap
imged "$T_WORK/overlap" "mm-$P.img" 3 "m.set(1, m.get(1) - 4096)"
refuse overlap "$T_WORK/overlap" "mm-$P.img: record 3 .*overlap" "overlapping areas"

bad huge
imged "$T_WORK/huge" "pagemap-$P.img" 2 "m.set(2, 1 << 40)"
refuse huge "$T_WORK/huge" "pagemap-$P.img: record 2" "a page run of 2^40 pages"

bad beyond
imged "$T_WORK/beyond" "mm-$P.img" 2 "m.set(2, 1 << 62)"
refuse beyond "$T_WORK/beyond" "mm-$P.img: record 2" "an area ending beyond user space"

bad dotdot
imged "$T_WORK/dotdot" "mm-$P.img" 2 "m.set(6, b'/tmp/../etc/passwd')"
refuse dotdot "$T_WORK/dotdot" "mm-$P.img: record 2 .*\.\." "a mapped file path with '..'"

bad fdpath
imged "$T_WORK/fdpath" files.img 2 "m.set(8, b'/../etc/shadow')"
refuse fdpath "$T_WORK/fdpath" "files.img: record 2 .*\.\." "an fd path with '..'"

bad fdnum
imged "$T_WORK/fdnum" files.img 1 "m.set(2, 1 << 30)"
refuse fdnum "$T_WORK/fdnum" "files.img: record 1 .*" "fd number 2^30"

bad fdneg
imged "$T_WORK/fdneg" files.img 1 "m.set(2, (1 << 64) - 1)"
refuse fdneg "$T_WORK/fdneg" "files.img: record 1 .*" "fd number -1"

bad tid
imged "$T_WORK/tid" pstree.img 1 "m.set(5, b'\x01\x00')"
refuse tid "$T_WORK/tid" "pstree.img: record 1" "a thread list with tid 0"

done_testing

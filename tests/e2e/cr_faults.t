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
    data = open('%s/%s' % (d, name), 'rb').read()
    b = open(d + '/inventory.img', 'rb').read()
    inv = Msg(records(b)[0])
    for k, x in enumerate(inv.all(10)):
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
    open('%s/%s' % (d, name), 'wb').write(frame(b[:12], recs[:1] + recs[1:]))
    reseal(d, '')
else:
    recs[recno - 1] = m.encode()
    open('%s/%s' % (d, name), 'wb').write(frame(b[:12], recs))
    reseal(d, name)
PY
imged() { python3 "$W/imged.py" "$@"; }

# start NAME CMD...: runs CMD in the background (output in $T_WORK/NAME.out), waits for READY;
# sets PID.
start() {
	local name=$1
	shift
	"$@" >"$T_WORK/$name.out" 2>&1 &
	PID=$!
	at_exit "kill -9 $PID"
	wait_for grep -q READY "$T_WORK/$name.out"
}

# finish NAME PID: SIGUSR1, waits; RESULT gets the exit status and the workload's last line.
finish() {
	kill -USR1 "$2"
	wait "$2"
	RESULT="status $? $(tail -n 1 "$T_WORK/$1.out")"
}

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
start sock "$W/victim" sock
before=$(snapshot "$PID")
ckpt_fails sock "$PID" "$T_WORK/sock" "fd [0-9]+: socket:\[[0-9]+\]: not supported yet" \
	"an unsupported fd"
unchanged "$PID" "$before" "an unsupported fd"
noimage "$T_WORK/sock" "an unsupported fd"
ok "$([ ! -e "$T_WORK/sock" ] && echo 0 || echo 1)" "an unsupported fd: the image directory it made is gone"
kill -9 "$PID"

# ---- a read-only image directory, then a full one (a 64 KiB tmpfs) ----
mkdir -p "$T_WORK/ro" "$T_WORK/full"
mount -t tmpfs -o ro,size=1m tmpfs "$T_WORK/ro" && at_exit "umount -l $T_WORK/ro"
mount -t tmpfs -o size=64k tmpfs "$T_WORK/full" && at_exit "umount -l $T_WORK/full"
start counter "$W/counter" "$T_WORK/count"
before=$(snapshot "$PID")
ckpt_fails ro "$PID" "$T_WORK/ro/img" "$T_WORK/ro/img.*Read-only file system" \
	"a read-only image directory"
unchanged "$PID" "$before" "a read-only image directory"
ckpt_fails full "$PID" "$T_WORK/full/img" "No space left on device" "a full image directory"
unchanged "$PID" "$before" "a full image directory"
noimage "$T_WORK/full/img" "a full image directory"
is "$(ls -A "$T_WORK/full")" "" "a full image directory: the partial image is removed"
finish counter "$PID"
like "$RESULT" "^status 0 PASS" "the counter still verifies its state"

# ---- the target exits in the middle of the dump ----
start parent "$W/victim" parent "$W/memory" 512
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
start big "$W/memory" 512
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
finish big "$PID"
like "$RESULT" "^status 0 PASS" "ferry killed mid-dump: the 512 MiB checksum still holds"

# ---- pids that cannot be checkpointed ----
ckpt_fails gone 4194000 "$T_WORK/gone" "checkpoint 4194000: .*No such process" "a pid that is gone"
ckpt_fails init 1 "$T_WORK/init" "checkpoint 1: .*init" "pid 1" --leave-running
is "$(awk '$1 == "TracerPid:" {print $2}' /proc/1/status)" 0 "pid 1 is not traced"
start traced "$W/counter" "$T_WORK/count2"
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
finish traced "$PID"
like "$RESULT" "^status 0 PASS" "a process traced by strace: the counter verifies its state"

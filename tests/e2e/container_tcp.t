#!/bin/bash
# container_tcp.t: live TCP connections of whole containers through `ferry checkpoint
# --tcp-established` and `ferry restore --tcp-established`, over real network namespaces. The
# test makes a client namespace and a container namespace joined by a veth pair (the bundle joins
# the container's by path, as CNI setups do); the clients run in the client namespace.
#  1. A server in the container streams a byte pattern both ways with a client outside (both are
#     tcpstream, built from the source below): checkpoint (the container is killed) and restore,
#     then --leave-running; the client never reconnects and each side gets every byte once.
#  2. Another "host": after the checkpoint the container's veth and namespace are deleted, and
#     the namespace is made again with a new veth and the same addresses (the client's side up
#     once the restore is done, as a moved address is announced); the restore there continues
#     the connection, which only retransmitted meanwhile.
#  3. Debian's redis-server (bound read-only from the host) with keys and a redis-cli session kept
#     open: after the restore the keys are there and the session is the same (CLIENT ID).
#  4. `python3 -m http.server` serves a download (curl --limit-rate) that spans the checkpoint;
#     the file arrives whole.
#  5. No nftables table of ferry is left in any namespace, and the restored namespace accepts new
#     connections.
# Runs under tests/tools/subreaper.
if [ -z "${FERRY_CTCP_REAPED:-}" ]; then
	top=$(cd "$(dirname "$0")/../.." && pwd)
	[ -x "$top/tests/tools/subreaper" ] &&
		FERRY_CTCP_REAPED=1 exec "$top/tests/tools/subreaper" "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"

is_ferry || skip_all "checkpoint --tcp-established of a container needs ferry"
for p in ip nft cc; do
	command -v $p >/dev/null || skip_all "needs $p"
done
[ -x /usr/bin/python3 ] || skip_all "needs /usr/bin/python3"

CLI=ferry-t-$$-cli
CTR=ferry-t-$$-ctr
NET=10.231.$(($$ % 250 + 1))
CADDR=$NET.1 # the client's address
SADDR=$NET.2 # the container's address
PORT=7000
RT_LIMIT=60
in_cli() { ip netns exec "$CLI" "$@"; }

# ---- tcpstream: both ends of a checked stream ----
cat >"$T_WORK/tcpstream.c" <<'EOF'
/* tcpstream serve PORT: listens on PORT, accepts one connection and streams a position-dependent
 * byte pattern on it while checking the one it gets, until the client's end of stream; then
 * prints "PASS sent=N received=M" and exits. Any later connection gets "hi\n" and is closed.
 * tcpstream connect ADDR PORT: the client, which prints READY once bytes went both ways and, on
 * SIGUSR1, stops sending, shuts its writing down, reads the rest and prints "PASS ...". A wrong
 * byte (a lost or repeated one), a reset or a stall of 60 s prints "FAIL ..." and exits 1. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 1024
static volatile sig_atomic_t stop;
static void on_usr1(int sig) { (void)sig; stop = 1; }
static uint8_t pat(uint32_t seed, uint64_t off)
{
	return (uint8_t)(((off + seed) * 0x9e3779b97f4a7c15ull) >> 56);
}
static int fail(const char *what, uint64_t sent, uint64_t got)
{
	printf("FAIL %s (sent=%llu received=%llu)\n", what, (unsigned long long)sent,
	       (unsigned long long)got);
	return 1;
}
static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
/* Streams on s (sending seed out, checking seed in) until the peer's end of stream. */
static int stream(int s, int ls, uint32_t out, uint32_t in, int client)
{
	uint64_t sent = 0, got = 0;
	uint8_t buf[CHUNK * 16];
	long last = now_ms();
	int ready = 0, shut = 0;

	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN | (shut ? 0 : POLLOUT)};
		ssize_t n;

		if (poll(&p, 1, 1) < 0 && errno != EINTR)
			return fail("poll", sent, got);
		if (client && stop && !shut) {
			shutdown(s, SHUT_WR);
			shut = 1;
		}
		if (!shut && (p.revents & POLLOUT)) {
			for (size_t i = 0; i < CHUNK; i++)
				buf[i] = pat(out, sent + i);
			n = send(s, buf, CHUNK, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				return fail(strerror(errno), sent, got);
			sent += n > 0 ? (uint64_t)n : 0;
		}
		n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return fail(strerror(errno), sent, got);
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(in, got + (uint64_t)i))
				return fail("a wrong byte", sent, got + (uint64_t)i);
		if (n > 0) {
			got += (uint64_t)n;
			last = now_ms();
		}
		if (now_ms() - last > 60000)
			return fail("nothing received for 60 s", sent, got);
		if (client && !ready && sent && got) {
			printf("READY\n");
			fflush(stdout);
			ready = 1;
		}
		if (ls >= 0) {
			int c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (c >= 0) {
				(void)!write(c, "hi\n", 3);
				close(c);
			}
		}
		usleep(1000);
	}
	if (!shut)
		shutdown(s, SHUT_WR);
	printf("PASS sent=%llu received=%llu\n", (unsigned long long)sent, (unsigned long long)got);
	fflush(stdout);
	return 0;
}
int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int one = 1, s, ls;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "serve")) {
		a.sin_port = htons((uint16_t)atoi(argv[2]));
		ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 8) < 0)
			return fail(strerror(errno), 0, 0);
		printf("LISTENING\n");
		s = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0)
			return fail(strerror(errno), 0, 0);
		if (fcntl(ls, F_SETFL, O_NONBLOCK) < 0)
			return fail(strerror(errno), 0, 0);
		return stream(s, ls, 2, 1, 0);
	}
	if (argc == 4 && !strcmp(argv[1], "connect")) {
		signal(SIGUSR1, on_usr1);
		a.sin_port = htons((uint16_t)atoi(argv[3]));
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return fail(strerror(errno), 0, 0);
		return stream(s, -1, 1, 2, 1);
	}
	fprintf(stderr, "usage: tcpstream serve PORT | connect ADDR PORT\n");
	return 2;
}
EOF
cc -std=gnu11 -O2 -static -o "$T_WORK/tcpstream" "$T_WORK/tcpstream.c" ||
	skip_all "cannot build tcpstream statically"

# ---- the network: a client namespace and a container namespace joined by a veth pair ----
# netns_up SUFFIX: (re)makes the container's namespace with a new veth pair to the client's
# (fcSUFFIX on the client side, fsSUFFIX on the container side), both addressed, lo up in it; the
# client side's link stays down when NOLINK=1 (brought up by link_up SUFFIX).
netns_up() {
	ip netns add "$CTR" &&
		ip link add "fc$1" netns "$CLI" type veth peer name "fs$1" netns "$CTR" &&
		ip -n "$CLI" addr add "$CADDR/24" dev "fc$1" &&
		ip -n "$CTR" addr add "$SADDR/24" dev "fs$1" &&
		ip -n "$CTR" link set lo up && ip -n "$CTR" link set "fs$1" up &&
		{ [ "${NOLINK:-0}" = 1 ] || link_up "$1"; }
}
link_up() { ip -n "$CLI" link set "fc$1" up; }
# ferry_tables: ferry's nftables tables in the host's, the client's and the container's
# namespaces, one a line ("NAMESPACE TABLE").
ferry_tables() {
	nft list tables 2>/dev/null | awk '/ferry/ {print "host", $3}'
	local ns
	for ns in "$CLI" "$CTR"; do
		ip netns exec "$ns" nft list tables 2>/dev/null | awk -v n="$ns" '/ferry/ {print n, $3}'
	done
}
drop_ferry_tables() {
	local ns t
	for ns in "" "$CLI" "$CTR"; do
		for t in $(${ns:+ip netns exec "$ns"} nft list tables 2>/dev/null | awk '/ferry/ {print $3}'); do
			${ns:+ip netns exec "$ns"} nft delete table inet "$t"
		done
	done
}
at_exit "ip netns del $CLI; ip netns del $CTR"
at_exit drop_ferry_tables
if ! ip netns add "$CLI" || ! ip -n "$CLI" link set lo up || ! netns_up $$; then
	skip_all "cannot make the network namespaces and the veth pair"
fi
wait_for in_cli busybox ping -c 1 -W 1 "$SADDR" >/dev/null 2>&1 || skip_all "the veth pair does not carry packets"

# now_ms: a monotonic-enough clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# timed CMD...: runs CMD, records its wall time in ms in MS, returns its status.
MS=0
timed() {
	local t0 st
	t0=$(now_ms)
	"$@"
	st=$?
	MS=$(($(now_ms) - t0))
	return $st
}

# join_ctr_netns DIR: the bundle joins the container's namespace by path.
join_ctr_netns() {
	jq_edit "$1" ".linux.namespaces = [n for n in .linux.namespaces if n['type'] != 'network'] + [{'type': 'network', 'path': '/var/run/netns/$CTR'}]"
}

# host_bundle DIR ARGS...: a busybox bundle in the container's namespace with the host's /usr and
# /etc bound read-only (so that Debian's programs run in it), running ARGS.
host_bundle() {
	local dir=$1
	shift
	make_bundle_fast "$dir" "$@" >/dev/null && join_ctr_netns "$dir" &&
		ln -sfn usr/lib "$dir/rootfs/lib" && ln -sfn usr/lib64 "$dir/rootfs/lib64" &&
		jq_edit "$dir" ".mounts += [{'destination': d, 'type': 'bind', 'source': d, 'options': ['rbind', 'ro']} for d in ('/usr', '/etc')]"
}

B=$T_WORK/stream
if ! make_bundle_fast "$B" /bin/tcpstream serve $PORT >/dev/null ||
	! cp "$T_WORK/tcpstream" "$B/rootfs/bin/" || ! join_ctr_netns "$B"; then
	ok 1 "make the bundle"
	done_testing
	exit 1
fi

# start_stream NAME: the server container NAME and its client (CPID); output in NAME-srv.out and
# NAME-cli.out.
start_stream() {
	(cd "$B" && rt run -d "$T_PREFIX-$1" </dev/null >"$T_WORK/$1-srv.out" 2>&1) &&
		wait_for grep -q LISTENING "$T_WORK/$1-srv.out" || return 1
	ip netns exec "$CLI" "$T_WORK/tcpstream" connect "$SADDR" $PORT >"$T_WORK/$1-cli.out" 2>&1 </dev/null &
	CPID=$!
	at_exit "kill -9 $CPID"
	wait_for grep -q READY "$T_WORK/$1-cli.out"
}

# end_stream NAME SRV_OUT...: SIGUSR1 to the client; both ends' reports (the server's in the
# first of SRV_OUT that has one) say every byte arrived once, each way.
end_stream() {
	local name=$1 c s f cs
	shift
	kill -USR1 "$CPID"
	wait_for grep -qE '^(PASS|FAIL)' "$T_WORK/$name-cli.out" || kill -9 "$CPID"
	wait "$CPID"
	cs=$?
	c=$(grep -E '^(PASS|FAIL)' "$T_WORK/$name-cli.out")
	for f in "$@"; do
		wait_for grep -qE '^(PASS|FAIL)' "$f"
		s=$(grep -E '^(PASS|FAIL)' "$f") && break
	done
	is "$cs" 0 "$name: the client got every byte once, on its one connection: $c"
	like "$s" '^PASS ' "$name: the server got every byte once: $s"
	c=${c#PASS sent=}
	is "${s#PASS }" "sent=${c#*received=} received=${c%% *}" \
		"$name: what each end sent is what the other received"
}

# ---- 1. checkpoint (kill) and restore on this host, then --leave-running ----
id=$T_PREFIX-s1
start_stream s1
ok $? "a server in the container streams with a client in another namespace"
sleep 0.5
timed rt_limited checkpoint --tcp-established --image-path "$T_WORK/img1" "$id"
ok $? "checkpoint --tcp-established"
ckpt_ms=$MS
ok "$(rt state "$id" >/dev/null 2>&1 && echo 1 || echo 0)" "the container is gone"
like "$(ip netns exec "$CTR" nft list tables 2>/dev/null)" 'ferry' \
	"its namespace stays locked until the restore"
sleep 1
pid_alive "$CPID"
ok $? "the client waits (no reset reached it)"
timed rt_limited restore -d --tcp-established --image-path "$T_WORK/img1" --bundle "$B" "$id" \
	</dev/null >"$T_WORK/s1-srv2.out" 2>&1
ok $? "restore --tcp-established $(cat "$T_WORK/s1-srv2.out")"
diag "a container with one connection: checkpoint $ckpt_ms ms, restore $MS ms"
is "$(status_of "$id" 2>/dev/null)" running "the restored container runs"
is "$(ferry_tables)" "" "no lock left in any namespace"
is "$(in_cli timeout 5 busybox nc "$SADDR" $PORT </dev/null 2>&1)" hi \
	"the restored namespace accepts a new connection"
sleep 0.5
timed rt_limited checkpoint --tcp-established --leave-running --image-path "$T_WORK/img1b" "$id"
ok $? "checkpoint --tcp-established --leave-running"
diag "checkpoint --leave-running: $MS ms"
is "$(status_of "$id" 2>/dev/null)" running "the container runs on"
is "$(ferry_tables)" "" "no lock left"
sleep 0.5
end_stream s1 "$T_WORK/s1-srv2.out"
rt delete -f "$id" >/dev/null 2>&1

# ---- 2. another "host": the namespace is made again, with a new veth and the same addresses ----
# The client's side of the new veth comes up after the restore, as a moved address is announced
# once its owner runs: a retransmission reaching the namespace before the restored socket would
# be answered by a reset (the restore locks the namespace only once it starts).
id=$T_PREFIX-s2
start_stream s2
ok $? "a second server container streams with its client"
sleep 0.5
rt_limited checkpoint --tcp-established --image-path "$T_WORK/img2" "$id"
ok $? "checkpoint --tcp-established"
# The veth goes first, as CNI's DEL does: a namespace being torn down loses its nftables tables
# (the lock) before its interfaces, and a packet of the client arriving in between would be
# answered with a reset.
ip -n "$CTR" link del "fs$$" && ip netns del "$CTR"
wait_for eval '! ip -n "$CLI" link show "fc$$" >/dev/null 2>&1'
ok $? "its veth and its namespace are deleted"
# A namespace without the container's address: the restore fails, names the connection, leaves
# nothing behind, and the connection still waits.
ip netns add "$CTR"
snap=$(pid_snapshot)
out=$(rt_limited restore -d --tcp-established --image-path "$T_WORK/img2" --bundle "$B" "$id" \
	</dev/null 2>&1)
ok $((!$?)) "a restore where the address is missing fails"
like "$out" "$SADDR:$PORT -> $CADDR:[0-9]+: bind: Cannot assign requested address" \
	"the error names the connection: $out"
is "$(leftovers "$id" "$B" "$snap")$(ferry_tables)" "" "nothing is left of it, no lock"
ip netns del "$CTR"
sleep 1
NOLINK=1 netns_up 2$$
ok $? "a new namespace of the same name, with a new veth and the same addresses"
rt_limited restore -d --tcp-established --image-path "$T_WORK/img2" --bundle "$B" "$id" \
	</dev/null >"$T_WORK/s2-srv2.out" 2>&1
ok $? "restore --tcp-established there $(cat "$T_WORK/s2-srv2.out")"
link_up 2$$
is "$(status_of "$id" 2>/dev/null)" running "the restored container runs"
is "$(ferry_tables)" "" "no lock left in any namespace"
pid_alive "$CPID"
ok $? "the client is still connected"
is "$(in_cli timeout 5 busybox nc "$SADDR" $PORT </dev/null 2>&1)" hi \
	"the new namespace accepts a new connection"
sleep 1
end_stream s2 "$T_WORK/s2-srv2.out"
rt delete -f "$id" >/dev/null 2>&1

# ---- 3. redis-server with 100,000 keys and a redis-cli session kept open ----
# rcli CMD...: one command on the open redis-cli session; waits for its reply (one line).
rcli() {
	local n
	n=$(($(wc -l <"$T_WORK/rcli.out") + 1))
	echo "$*" >&7
	wait_for eval '[ "$(wc -l <"$T_WORK/rcli.out")" -ge $n ]'
	sed -n "${n}p" "$T_WORK/rcli.out"
}
if ! command -v redis-cli >/dev/null || [ ! -x /usr/bin/redis-server ]; then
	skip "needs redis-server and redis-cli (scripts/install-deps)" 11
elif ! host_bundle "$T_WORK/redis" /usr/bin/redis-server --bind "$SADDR" --port 6379 \
	--save "" --appendonly no --protected-mode no --enable-debug-command yes; then
	ok 1 "make the redis bundle"
else
	id=$T_PREFIX-redis
	(cd "$T_WORK/redis" && rt run -d "$id" </dev/null >"$T_WORK/redis.out" 2>&1)
	wait_for grep -q "Ready to accept connections" "$T_WORK/redis.out"
	ok $? "redis-server runs in a container"
	mkfifo "$T_WORK/rcli.in" && exec 7<>"$T_WORK/rcli.in"
	at_exit "exec 7>&-"
	ip netns exec "$CLI" redis-cli -h "$SADDR" -p 6379 <"$T_WORK/rcli.in" >"$T_WORK/rcli.out" 2>&1 &
	RCPID=$!
	at_exit "kill -9 $RCPID"
	cid=$(rcli CLIENT ID)
	rcli SET alpha one >/dev/null
	rcli SET beta two >/dev/null
	rcli DEBUG POPULATE 100000 >/dev/null
	is "$(rcli DBSIZE)" 100002 "keys set through a redis-cli session (client id $cid)"
	timed rt_limited checkpoint --tcp-established --image-path "$T_WORK/img3" "$id"
	ok $? "checkpoint --tcp-established"
	ckpt_ms=$MS
	timed rt_limited restore -d --tcp-established --image-path "$T_WORK/img3" \
		--bundle "$T_WORK/redis" "$id" </dev/null >"$T_WORK/redis2.out" 2>&1
	ok $? "restore --tcp-established $(cat "$T_WORK/redis2.out")"
	diag "redis with 100,000 keys: checkpoint $ckpt_ms ms, restore $MS ms"
	is "$(rcli GET alpha)" one "the session goes on: GET answers"
	is "$(rcli GET beta)" two "and the second key is there"
	is "$(rcli DBSIZE)" 100002 "all 100,002 keys are there"
	is "$(rcli CLIENT ID)" "$cid" "the same session: CLIENT ID unchanged"
	pid_alive "$RCPID"
	ok $? "redis-cli never lost its connection"
	is "$(in_cli redis-cli -h "$SADDR" -p 6379 GET alpha 2>&1)" one "a new client is served too"
	is "$(ferry_tables)" "" "no lock left in any namespace"
	rt delete -f "$id" >/dev/null 2>&1
fi

# ---- 4. python3 -m http.server serves a download that spans the checkpoint ----
WWW=$T_WORK/www
mkdir -p "$WWW" && head -c $((8 * 1024 * 1024)) /dev/urandom >"$WWW/big"
if ! command -v curl >/dev/null; then
	skip "needs curl (scripts/install-deps)" 7
elif ! host_bundle "$T_WORK/http" /usr/bin/python3 -m http.server --bind "$SADDR" \
	--directory /srv 8000 || ! add_bind "$T_WORK/http" "$WWW" /srv; then
	ok 1 "make the http.server bundle"
else
	id=$T_PREFIX-http
	(cd "$T_WORK/http" && rt run -d "$id" </dev/null >"$T_WORK/http.out" 2>&1)
	wait_for in_cli curl -sf --max-time 5 -o /dev/null "http://$SADDR:8000/"
	ok $? "python3 -m http.server runs in a container"
	# 8 MiB at 1.5 MiB/s: about 5 s, the checkpoint and the restore in the middle (small socket
	# buffers: most of the file is still to be sent then). The container's side of the veth
	# sends at that rate (a token bucket in the kernel): curl's own --limit-rate averages over
	# windows of seconds, so a stall lets it catch up at full speed (once, 7.9 of the 8 MiB were
	# in before the checkpoint).
	ip netns exec "$CLI" sysctl -qw net.ipv4.tcp_rmem="4096 65536 262144"
	ip netns exec "$CTR" sysctl -qw net.ipv4.tcp_wmem="4096 65536 262144"
	ip -n "$CTR" -o link show type veth | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
		while read -r dev; do
			ip netns exec "$CTR" tc qdisc replace dev "$dev" root tbf rate 12mbit \
				burst 32kb latency 1s
		done
	ip netns exec "$CLI" curl -sS --max-time 60 \
		-w '%{size_download} %{num_connects}\n' -o "$T_WORK/got" "http://$SADDR:8000/big" \
		>"$T_WORK/curl.out" 2>&1 &
	CURL=$!
	at_exit "kill -9 $CURL"
	wait_for eval '[ "$(stat -c %s "$T_WORK/got" 2>/dev/null || echo 0)" -ge $((1024 * 1024)) ]'
	rt_limited checkpoint --tcp-established --image-path "$T_WORK/img4" "$id"
	ok $? "checkpoint --tcp-established in the middle of a download"
	at=$(stat -c %s "$T_WORK/got")
	ok "$([ "$at" -lt $((7 * 1024 * 1024)) ] && pid_alive $CURL && echo 0 || echo 1)" \
		"the download was far from over ($at bytes in)"
	rt_limited restore -d --tcp-established --image-path "$T_WORK/img4" --bundle "$T_WORK/http" \
		"$id" </dev/null >"$T_WORK/http2.out" 2>&1
	ok $? "restore --tcp-established $(grep -v HTTP "$T_WORK/http2.out")"
	wait_for eval '! pid_alive $CURL'
	wait "$CURL"
	is "$?" 0 "curl finished without an error: $(cat "$T_WORK/curl.out")"
	is "$(sha256sum <"$T_WORK/got")" "$(sha256sum <"$WWW/big")" "the file arrived whole"
	is "$(in_cli curl -s --max-time 30 "http://$SADDR:8000/big" | cmp - "$WWW/big" && echo same)" \
		same \
		"the restored server serves a new download"
	rt delete -f "$id" >/dev/null 2>&1
fi

# ---- 5. nothing left ----
is "$(ferry_tables)" "" "no nftables table of ferry is left in any namespace"

done_testing

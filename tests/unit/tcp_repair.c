// SPDX-License-Identifier: Apache-2.0
/* TCP repair and the network lock on the real kernel, in a network namespace of the test's own
 * (a forked child unshares one and brings lo up; the namespace, its sockets and its nftables
 * tables go when the child exits, whatever fails). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/linux/netlock.h"
#include "os/linux/tcp_repair.h"
#include "tap.h"

#define PORT 5555
#define TO_PEER (200u * 1024)	/* bytes the dumped end sends (part of them while locked) */
#define TO_DUMPED (300u * 1024) /* bytes the peer sends (many left unread in the dumped end) */

/* Byte off of a stream: a position-dependent pattern, so a lost or repeated byte shows. */
static uint8_t pat(uint32_t seed, uint64_t off)
{
	uint64_t x = (off + seed) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56);
}

static int lo_up(void)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	r = ioctl(s, SIOCSIFFLAGS, &ifr);
	close(s);
	return r;
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int listener(uint16_t port)
{
	struct sockaddr_in a = lo_addr(port);
	int one = 1, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0)
		return -1;
	return s;
}

/* Connects to port within ms milliseconds; returns the socket, or -1 (timeout or refused). */
static int connect_within(uint16_t port, int ms)
{
	struct sockaddr_in a = lo_addr(port);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), e = 0;
	socklen_t l = sizeof(e);
	struct pollfd p = {.fd = s, .events = POLLOUT};

	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
		goto fail;
	if (poll(&p, 1, ms) != 1 || getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l) < 0 || e)
		goto fail;
	fcntl(s, F_SETFL, 0);
	return s;
fail:
	close(s);
	return -1;
}

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Writes n pattern bytes from *off without blocking forever; returns bytes written or -1. */
static ssize_t send_pat(int s, uint32_t seed, uint64_t *off, size_t n)
{
	uint8_t buf[4096];
	size_t done = 0;

	while (done < n) {
		size_t k = n - done < sizeof(buf) ? n - done : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < k; i++)
			buf[i] = pat(seed, *off + i);
		w = send(s, buf, k, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			break;
		if (w < 0)
			return -1;
		*off += (uint64_t)w;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

/* Reads until want bytes came or ms passed; checks every byte; returns bytes read, -1 on an error
 * (errno), -2 on a wrong byte. */
static ssize_t recv_check(int s, uint32_t seed, uint64_t *off, uint64_t want, int ms)
{
	uint8_t buf[8192];
	uint64_t got = 0;

	while (got < want) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, ms) != 1)
			break;
		n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return -1;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(seed, *off + (uint64_t)i))
				return -2;
		*off += (uint64_t)n;
		got += (uint64_t)n;
	}
	return (ssize_t)got;
}

/* With nft at hand, drops what the peer (port PORT) sends to the dumped end on input only: the
 * dumped end's next bytes are sent and received but never acknowledged. Returns 0 or -1. */
static int drop_acks(bool on)
{
	const char *cmd =
	    on ? "nft 'add table inet ferry-acks; add chain inet ferry-acks in "
		 "{ type filter hook input priority -400; }; add rule inet ferry-acks "
		 "in tcp sport 5555 drop' 2>/dev/null"
	       : "nft delete table inet ferry-acks 2>/dev/null";

	return access("/usr/sbin/nft", X_OK) == 0 && system(cmd) == 0 ? 0 : -1;
}

static struct lx_netlock_conn conn_of(const struct cr_tcp *t)
{
	struct lx_netlock_conn c = {
	    .family = t->family, .sport = (uint16_t)t->sport, .dport = (uint16_t)t->dport};

	memcpy(c.src, t->src, 16);
	memcpy(c.dst, t->dst, 16);
	return c;
}

static void test_established(void)
{
	ferry_err_t err = NULL;
	struct cr_tcp t;
	struct lx_netlock *l = lx_netlock_open(-1, &err);
	int ls = listener(PORT), c = connect_within(PORT, 1000), s = accept4(ls, NULL, NULL, 0);
	uint64_t c_sent = 0, s_sent = 0, c_got = 0, s_got = 0;
	uint64_t ino = ino_of(c);
	int one = 1, r;
	struct lx_netlock_conn lc;
	bool acks;

	ok(l && ls >= 0 && c >= 0 && s >= 0, "a connected pair over loopback");
	if (!l || c < 0 || s < 0)
		return;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The peer fills the dumped end's receive queue, which nobody reads. */
	send_pat(s, 1, &s_sent, TO_DUMPED);
	usleep(100000);
	ok(lx_tcp_identify(c, ino, &t, &err) == 0 && t.state == TCP_ESTABLISHED,
	   "identified as ESTABLISHED");
	lc = conn_of(&t);
	acks = drop_acks(true) == 0;
	if (acks) {
		send_pat(c, 2, &c_sent, TO_PEER / 4);
		usleep(50000);
	} else {
		diag("no nft: the sent but unacknowledged part is not tested");
	}
	ok(lx_netlock_table(l, "ferry-test", true, false, &lc, 1, &err) == 0,
	   "the connection is locked: %s", err ? err->msg : "");
	ferry_error_free(&err);
	drop_acks(false);
	r = connect_within(PORT, 1000);
	ok(r >= 0, "another connection to the same port still passes");
	close(r);
	/* Sent while locked: never leaves. */
	send_pat(c, 2, &c_sent, TO_PEER / 2 - c_sent);
	usleep(50000);
	r = lx_tcp_dump(c, ino, &t, &err);
	ok(r == 0, "dumped in repair mode: %s", err ? err->msg : "");
	ferry_error_free(&err);
	diag("receive queue %zu, send queue %zu (%u never sent), mss %u, wscale %u/%u, opts %#x",
	     t.recvq.len, t.sendq.len, t.unsent, t.mss, t.snd_wscale, t.rcv_wscale, t.options);
	ok(t.recvq.len > 0 && t.sendq.len == c_sent, "both queues hold data (%zu, %zu of %llu)",
	   t.recvq.len, t.sendq.len, (unsigned long long)c_sent);
	if (acks)
		ok(t.unsent > 0 && t.unsent < t.sendq.len,
		   "part of the send queue was sent, unacknowledged, part never sent");
	ok(t.nodelay && t.has_window, "TCP_NODELAY and the window are read");
	/* Closed as ferry closes a killed tree's: in repair mode, no FIN, no RST. */
	lx_tcp_close_silently(c);
	c = lx_tcp_restore(&t, ino, &err);
	ok(c >= 0, "restored: %s", err ? err->msg : "");
	ferry_error_free(&err);
	ok(lx_netlock_delete(l, "ferry-test", &err) == 0, "unlocked");
	if (c < 0)
		return;
	send_pat(c, 2, &c_sent, TO_PEER / 2);
	r = (int)recv_check(s, 2, &s_got, c_sent, 10000);
	ok(s_got == c_sent && r >= 0, "the peer got every byte once (%llu of %llu, %d)",
	   (unsigned long long)s_got, (unsigned long long)c_sent, r);
	fcntl(c, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 200 && c_got < s_sent; i++) {
		r = (int)recv_check(c, 1, &c_got, s_sent - c_got, 50);
		if (r < 0)
			break;
		if (s_sent < TO_DUMPED)
			send_pat(s, 1, &s_sent, TO_DUMPED - s_sent);
	}
	ok(c_got == s_sent && s_sent == TO_DUMPED,
	   "the restored end got every byte once (%llu of %llu)", (unsigned long long)c_got,
	   (unsigned long long)s_sent);
	ok(recv(s, &one, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "the peer saw no reset");
	close(c), close(s), close(ls);
	cr_fd_free(&(struct cr_fd){.tcp = t});
	lx_netlock_close(l);
}

/* A pair over ::1 (accepted end *s); returns the connecting end or -1. */
static int pair6(uint16_t port, int *ls, int *s)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
	int c;

	a.sin6_addr = in6addr_loopback;
	*ls = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*ls < 0 || c < 0 || bind(*ls, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(*ls, 4) < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	*s = accept4(*ls, NULL, NULL, SOCK_CLOEXEC);
	return *s < 0 ? -1 : c;
}

static void test_ipv6(void)
{
	ferry_err_t err = NULL;
	struct cr_tcp t;
	int ls = -1, s = -1, c = pair6(PORT + 5, &ls, &s);
	uint64_t c_sent = 0, s_sent = 0, c_got = 0, s_got = 0, ino = ino_of(c), lock_seen;
	struct lx_netlock *l = lx_netlock_open(-1, &err);
	struct lx_netlock_conn lc;
	char want[80];

	ok(c >= 0 && l, "an IPv6 pair over ::1");
	if (c < 0 || !l)
		return;
	send_pat(s, 3, &s_sent, 50000);
	send_pat(c, 4, &c_sent, 50000);
	usleep(50000);
	ok(lx_tcp_identify(c, ino, &t, &err) == 0 && t.family == AF_INET6, "identified as IPv6");
	snprintf(want, sizeof(want), "socket:[%llu] [::1]:", (unsigned long long)ino);
	ok(!strncmp(lx_tcp_name(ino, &t, (char[160]){0}, 160), want, strlen(want)),
	   "named with its IPv6 addresses");
	lc = conn_of(&t);
	ok(lx_netlock_table(l, "ferry-test6", true, false, &lc, 1, &err) == 0,
	   "IPv6 connection locked: %s", err ? err->msg : "");
	ferry_error_free(&err);
	recv_check(c, 3, &c_got, s_sent, 100); /* what arrived before the lock */
	lock_seen = c_got;
	send_pat(s, 3, &s_sent, 1000);
	recv_check(c, 3, &c_got, 1000, 300);
	ok(c_got == lock_seen, "nothing passes the IPv6 lock");
	ok(lx_tcp_dump(c, ino, &t, &err) == 0, "dumped: %s", err ? err->msg : "");
	ferry_error_free(&err);
	/* Its receive queue is empty and locked: EAGAIN, where repair mode would give EPERM. */
	ok(recv(c, want, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	   "out of repair mode after the dump: its owner reads on");
	lx_tcp_close_silently(c);
	c = lx_tcp_restore(&t, ino, &err);
	ok(c >= 0, "restored: %s", err ? err->msg : "");
	ferry_error_free(&err);
	lx_netlock_delete(l, "ferry-test6", NULL);
	if (c >= 0) {
		recv_check(s, 4, &s_got, c_sent, 5000);
		recv_check(c, 3, &c_got, s_sent - c_got, 5000);
	}
	ok(s_got == c_sent && c_got == s_sent, "every byte arrived once both ways (%llu, %llu)",
	   (unsigned long long)s_got, (unsigned long long)c_got);
	cr_fd_free(&(struct cr_fd){.tcp = t});
	close(c), close(s), close(ls);
	lx_netlock_close(l);
}

/* Both ends of a connection dumped, dropped and restored, as when both are in the tree. */
static void test_both_ends(void)
{
	ferry_err_t err = NULL;
	struct cr_tcp tc, ts;
	int ls = listener(PORT + 6), c = connect_within(PORT + 6, 1000),
	    s = accept4(ls, NULL, NULL, 0);
	uint64_t ci = ino_of(c), si = ino_of(s), c_sent = 0, s_sent = 0, c_got = 0, s_got = 0;
	struct lx_netlock *l = lx_netlock_open(-1, &err);
	struct lx_netlock_conn lc;

	ok(c >= 0 && s >= 0 && l, "a pair whose two ends are carried");
	if (c < 0 || s < 0 || !l)
		return;
	send_pat(c, 5, &c_sent, 40000);
	send_pat(s, 6, &s_sent, 30000);
	usleep(50000);
	ok(lx_tcp_identify(c, ci, &tc, &err) == 0 && lx_tcp_identify(s, si, &ts, &err) == 0,
	   "both identified");
	lc = conn_of(&tc);
	ok(lx_netlock_table(l, "ferry-both", true, false, &lc, 1, &err) == 0 &&
	       lx_tcp_dump(c, ci, &tc, &err) == 0 && lx_tcp_dump(s, si, &ts, &err) == 0,
	   "both dumped: %s", err ? err->msg : "");
	ferry_error_free(&err);
	lx_tcp_close_silently(c);
	lx_tcp_close_silently(s);
	c = lx_tcp_restore(&tc, ci, &err);
	s = lx_tcp_restore(&ts, si, &err);
	ok(c >= 0 && s >= 0, "both restored: %s", err ? err->msg : "");
	ferry_error_free(&err);
	lx_netlock_delete(l, "ferry-both", NULL);
	if (c >= 0 && s >= 0) {
		send_pat(c, 5, &c_sent, 10000);
		send_pat(s, 6, &s_sent, 10000);
		recv_check(s, 5, &s_got, c_sent, 5000);
		recv_check(c, 6, &c_got, s_sent, 5000);
	}
	ok(s_got == c_sent && c_got == s_sent, "every byte once both ways (%llu/%llu, %llu/%llu)",
	   (unsigned long long)s_got, (unsigned long long)c_sent, (unsigned long long)c_got,
	   (unsigned long long)s_sent);
	cr_fd_free(&(struct cr_fd){.tcp = tc});
	cr_fd_free(&(struct cr_fd){.tcp = ts});
	close(c), close(s), close(ls);
	lx_netlock_close(l);
}

static void test_listen(void)
{
	ferry_err_t err = NULL;
	struct cr_tcp t;
	int ls = listener(PORT + 1), c, a;
	uint64_t ino = ino_of(ls);

	ok(lx_tcp_identify(ls, ino, &t, &err) == 0 && lx_tcp_dump(ls, ino, &t, &err) == 0 &&
	       t.state == TCP_LISTEN && t.backlog == 16 && t.reuseaddr,
	   "a listener is dumped with its backlog and SO_REUSEADDR: %s", err ? err->msg : "");
	ferry_error_free(&err);
	close(ls);
	ls = lx_tcp_restore(&t, ino, &err);
	ok(ls >= 0, "the listener is restored: %s", err ? err->msg : "");
	ferry_error_free(&err);
	c = connect_within(PORT + 1, 1000);
	a = ls >= 0 ? accept4(ls, NULL, NULL, SOCK_NONBLOCK) : -1;
	ok(c >= 0 && a >= 0, "the restored listener accepts");
	close(a), close(c), close(ls);
}

static void test_bad_state(void)
{
	ferry_err_t err = NULL;
	struct cr_tcp t;
	int ls = listener(PORT + 2), c = connect_within(PORT + 2, 1000);
	int s = accept4(ls, NULL, NULL, 0);
	uint64_t ino = ino_of(s);
	char want[64];

	shutdown(c, SHUT_WR);
	usleep(50000);
	ok(lx_tcp_identify(s, ino, &t, &err) == 0 && lx_tcp_dump(s, ino, &t, &err) < 0 && err,
	   "a CLOSE_WAIT socket is refused");
	snprintf(want, sizeof(want),
		 "socket:[%llu] 127.0.0.1:%d -> 127.0.0.1:", (unsigned long long)ino, PORT + 2);
	ok(err && strstr(err->msg, want) &&
	       strstr(err->msg, "TCP state CLOSE_WAIT cannot be carried"),
	   "the error names the socket and its state: %s", err ? err->msg : "");
	ferry_error_free(&err);
	close(c), close(s), close(ls);
}

static void test_lock(void)
{
	ferry_err_t err = NULL;
	struct lx_netlock *l = lx_netlock_open(-1, &err);
	int ls = listener(PORT + 3), c;

	ok(l && lx_netlock_table(l, "ferry-test", false, true, NULL, 0, &err) == 0,
	   "the whole namespace is locked: %s", err ? err->msg : "");
	ferry_error_free(&err);
	c = connect_within(PORT + 3, 500);
	ok(c < 0, "a connect gets no answer while locked");
	close(c);
	lx_netlock_close(l);
	l = lx_netlock_open(-1, &err);
	ok(lx_netlock_exists(l, "ferry-test", &err) == 1,
	   "a table without owner outlives its socket");
	ok(lx_netlock_table(l, "ferry-test-own", true, false, NULL, 0, &err) == 0 &&
	       lx_netlock_handover(l, "ferry-test-own", "ferry-test", true, NULL, 0, &err) == 0 &&
	       lx_netlock_exists(l, "ferry-test-own", &err) == 0,
	   "an owned table handed over to one without owner: %s", err ? err->msg : "");
	ferry_error_free(&err);
	c = connect_within(PORT + 3, 300);
	ok(c < 0, "still locked after the handover");
	close(c);
	ok(lx_netlock_delete(l, "ferry-test", &err) == 0 &&
	       lx_netlock_exists(l, "ferry-test", &err) == 0,
	   "deleted");
	c = connect_within(PORT + 3, 1000);
	ok(c >= 0, "after unlock a connect passes");
	close(c);
	ok(lx_netlock_delete(l, "ferry-test", &err) == 0, "deleting a missing table is no error");
	ferry_error_free(&err);
	close(ls);
	lx_netlock_close(l);
}

static void test_owner_lock(void)
{
	int ls = listener(PORT + 4), p[2], c;
	ferry_err_t err = NULL;
	struct lx_netlock *l;
	char b = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		l = lx_netlock_open(-1, NULL);
		if (l && lx_netlock_table(l, LX_NETLOCK_TABLE, true, true, NULL, 0, NULL) == 0)
			(void)!write(p[1], "y", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	ok(read(p[0], &b, 1) == 1, "a child holds an owner lock");
	c = connect_within(PORT + 4, 500);
	ok(c < 0, "no traffic passes while it lives");
	close(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	l = lx_netlock_open(-1, &err);
	ok(l && lx_netlock_exists(l, LX_NETLOCK_TABLE, &err) == 0,
	   "killed with SIGKILL, its table is gone");
	c = connect_within(PORT + 4, 1000);
	ok(c >= 0, "and traffic passes");
	close(c), close(ls), close(p[0]);
	ferry_error_free(&err);
	lx_netlock_close(l);
}

int main(void)
{
	int status = 1, r;
	pid_t pid = fork();

	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
			printf("1..0 # SKIP no private network namespace: %s\n", strerror(errno));
			_exit(0);
		}
		alarm(120);
		test_established();
		test_ipv6();
		test_both_ends();
		test_listen();
		test_bad_state();
		test_lock();
		test_owner_lock();
		r = done_testing();
		fflush(stdout);
		_exit(r);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

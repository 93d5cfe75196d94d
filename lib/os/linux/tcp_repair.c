// SPDX-License-Identifier: Apache-2.0
/* TCP sockets through TCP_REPAIR. Dump: the socket's options first (repair mode changes
 * SO_REUSEADDR), then repair on, the sequence number at the end of each queue (TCP_QUEUE_SEQ), both
 * queues peeked (the send queue holds the unacknowledged bytes and, at its end, SIOCOUTQNSD bytes
 * never sent), the negotiated options from TCP_INFO, TCP_MAXSEG, TCP_TIMESTAMP and
 * TCP_REPAIR_WINDOW. Restore, the way the kernel expects it: repair on, both queue sequence
 * numbers set to the start of the queues, bind, connect (no handshake in repair mode), the
 * options, the timestamp, the receive queue and the sent part of the send queue written in repair
 * mode with the queue selected, the window; then repair off and the never-sent bytes written as
 * ordinary data, which the kernel sends once the network lets it. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/tcp_repair.h"

#define NAME_MAX_LEN 160

static const char *const state_names[] = {
    "CLOSED?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",	   "TIME_WAIT",
    "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
};

const char *lx_tcp_state_name(uint32_t s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "UNKNOWN";
}

static void fmt_addr(const struct cr_tcp *t, const uint8_t *a, uint32_t port, char *buf,
		     size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop((int)t->family, a, ip, sizeof(ip));
	snprintf(buf, size, t->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

const char *lx_tcp_name(uint64_t ino, const struct cr_tcp *t, char *buf, size_t size)
{
	char src[64], dst[64];

	fmt_addr(t, t->src, t->sport, src, sizeof(src));
	fmt_addr(t, t->dst, t->dport, dst, sizeof(dst));
	if (t->state == TCP_LISTEN)
		snprintf(buf, size, "socket:[%llu] %s", (unsigned long long)ino, src);
	else
		snprintf(buf, size, "socket:[%llu] %s -> %s", (unsigned long long)ino, src, dst);
	return buf;
}

/* Copies a socket address into addr and port; returns 0 or -1 (unknown family). */
static int take_addr(const struct sockaddr_storage *ss, uint8_t addr[16], uint32_t *port)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
		return 0;
	}
	return -1;
}

static socklen_t make_addr(const struct cr_tcp *t, const uint8_t *addr, uint32_t port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == AF_INET) {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (void *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	memcpy(&s6->sin6_addr, addr, 16);
	return sizeof(*s6);
}

int lx_tcp_identify(int sk, uint64_t ino, struct cr_tcp *t, ferry_err_t *err)
{
	struct sockaddr_storage ss;
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	int family = 0, type = 0, proto = 0;
	socklen_t il = sizeof(int);

	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &family, &il) < 0 ||
	    getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &il) < 0 ||
	    getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &proto, &il) < 0)
		return ferry_error_errno(err, "socket:[%llu]", (unsigned long long)ino);
	if ((family != AF_INET && family != AF_INET6) || type != SOCK_STREAM ||
	    proto != IPPROTO_TCP)
		return ferry_error(err, ENOTSUP, "socket:[%llu]: not supported yet (%s %s)",
				   (unsigned long long)ino, family == AF_INET6 ? "IPv6" : "IPv4",
				   type == SOCK_DGRAM ? "UDP"
				   : type == SOCK_RAW ? "raw"
						      : "socket");
	memset(t, 0, sizeof(*t));
	t->family = (uint32_t)family;
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return ferry_error_errno(err, "socket:[%llu]: TCP_INFO", (unsigned long long)ino);
	t->state = ti.tcpi_state;
	l = sizeof(ss);
	if (getsockname(sk, (struct sockaddr *)&ss, &l) < 0 ||
	    take_addr(&ss, t->src, &t->sport) < 0)
		return ferry_error_errno(err, "socket:[%llu]: address", (unsigned long long)ino);
	l = sizeof(ss);
	if (getpeername(sk, (struct sockaddr *)&ss, &l) == 0)
		take_addr(&ss, t->dst, &t->dport);
	return 0;
}

static int get_int(int sk, int level, int name, uint32_t *v)
{
	int x = 0;
	socklen_t l = sizeof(x);

	if (getsockopt(sk, level, name, &x, &l) < 0)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

/* The options a user sets and relies on; returns 0 or -1. */
static int dump_user_options(int sk, struct cr_tcp *t, ferry_err_t *err)
{
	uint32_t reuseaddr, reuseport, keepalive, nodelay = 0, v;

	if (get_int(sk, SOL_SOCKET, SO_REUSEADDR, &reuseaddr) < 0 ||
	    get_int(sk, SOL_SOCKET, SO_REUSEPORT, &reuseport) < 0 ||
	    get_int(sk, SOL_SOCKET, SO_KEEPALIVE, &keepalive) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_NODELAY, &nodelay) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_KEEPIDLE, &t->keepidle) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_KEEPINTVL, &t->keepintvl) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_KEEPCNT, &t->keepcnt) < 0)
		return ferry_error_errno(err, "socket options");
	t->reuseaddr = reuseaddr != 0, t->reuseport = reuseport != 0;
	t->keepalive = keepalive != 0, t->nodelay = nodelay != 0;
	/* The kernel doubles what the user asked for; a buffer it sizes itself is not carried. */
	if (get_int(sk, SOL_SOCKET, SO_RCVBUF, &v) == 0)
		t->rcvbuf = v / 2;
	if (get_int(sk, SOL_SOCKET, SO_SNDBUF, &v) == 0)
		t->sndbuf = v / 2;
	return 0;
}

/* The kernel does not show whether the user set a buffer size (SOCK_RCVBUF_LOCK). A size equal to
 * a new socket's is the kernel's choice and is not carried; any other (set by the user, or grown
 * by the kernel with the traffic) is, and then stays fixed, as with CRIU: the restored queues need
 * the room they had. */
static void drop_default_buffers(struct cr_tcp *t)
{
	int s = socket(t->family == AF_INET6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint32_t r = 0, w = 0;

	if (s < 0)
		return;
	if (get_int(s, SOL_SOCKET, SO_RCVBUF, &r) == 0 && r / 2 == t->rcvbuf)
		t->rcvbuf = 0;
	if (get_int(s, SOL_SOCKET, SO_SNDBUF, &w) == 0 && w / 2 == t->sndbuf)
		t->sndbuf = 0;
	close(s);
}

static int set_int(int sk, int level, int name, uint32_t v)
{
	int x = (int)v;

	return setsockopt(sk, level, name, &x, sizeof(x));
}

static int set_queue(int sk, int q)
{
	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q));
}

/* The queue sizes and the sequence numbers at their ends. */
struct queues {
	int inq, outq, unsent;
	uint32_t rcv_seq, snd_seq;
};

static int read_queues(int sk, struct queues *z, ferry_err_t *err)
{
	if (ioctl(sk, SIOCINQ, &z->inq) < 0 || ioctl(sk, SIOCOUTQ, &z->outq) < 0 ||
	    ioctl(sk, SIOCOUTQNSD, &z->unsent) < 0)
		return ferry_error_errno(err, "queue sizes");
	if (z->inq < 0 || z->outq < 0 || (uint32_t)z->inq > LX_TCP_MAX_QUEUE ||
	    (uint32_t)z->outq > LX_TCP_MAX_QUEUE)
		return ferry_error(err, EFBIG, "queues of %d and %d bytes", z->inq, z->outq);
	if (set_queue(sk, TCP_RECV_QUEUE) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, &z->rcv_seq) < 0 ||
	    set_queue(sk, TCP_SEND_QUEUE) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, &z->snd_seq) < 0)
		return ferry_error_errno(err, "queue sequence numbers");
	return 0;
}

/* Copies len bytes of queue q into b; returns 0, 1 when the queue holds fewer (it moved), or -1. */
static int peek_queue(int sk, int q, struct cr_bytes *b, uint32_t len, ferry_err_t *err)
{
	ssize_t n;

	b->data = malloc(len + 1);
	if (!b->data)
		return ferry_error(err, ENOMEM, "queue of %u bytes", len);
	b->len = len;
	if (!len)
		return 0;
	if (set_queue(sk, q) < 0)
		return ferry_error_errno(err, "TCP_REPAIR_QUEUE");
	n = recv(sk, b->data, len, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && errno != EAGAIN)
		return ferry_error_errno(err, "queue of %u bytes", len);
	return n == (ssize_t)len ? 0 : 1;
}

/* State, negotiated options, MSS, timestamp and window; returns 0 or -1. */
static int read_state(int sk, struct cr_tcp *t, ferry_err_t *err)
{
	struct tcp_info ti;
	struct tcp_repair_window w;
	socklen_t l = sizeof(ti);

	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return ferry_error_errno(err, "TCP_INFO");
	if (ti.tcpi_state != TCP_ESTABLISHED)
		return ferry_error(err, EAGAIN, "TCP state changed to %s",
				   lx_tcp_state_name(ti.tcpi_state));
	t->options =
	    ti.tcpi_options & (CR_TCP_OPT_TIMESTAMPS | CR_TCP_OPT_SACK | CR_TCP_OPT_WSCALE);
	t->snd_wscale = ti.tcpi_snd_wscale, t->rcv_wscale = ti.tcpi_rcv_wscale;
	if (get_int(sk, IPPROTO_TCP, TCP_MAXSEG, &t->mss) < 0 ||
	    get_int(sk, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp) < 0)
		return ferry_error_errno(err, "MSS and timestamp");
	l = sizeof(w);
	t->has_window = getsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &l) == 0;
	if (t->has_window) {
		t->snd_wl1 = w.snd_wl1, t->snd_wnd = w.snd_wnd, t->max_window = w.max_window;
		t->rcv_wnd = w.rcv_wnd, t->rcv_wup = w.rcv_wup;
	}
	return 0;
}

static void drop_queues(struct cr_tcp *t)
{
	free(t->recvq.data);
	free(t->sendq.data);
	t->recvq = t->sendq = (struct cr_bytes){0};
}

/* Everything repair mode shows of an ESTABLISHED connection (repair on). Packets that were
 * already past the lock may still move the queues while they are read: then it is read again.
 * Returns 0 or -1. */
static int dump_repair(int sk, struct cr_tcp *t, ferry_err_t *err)
{
	for (int tries = 0; tries < 10; tries++) {
		struct queues a, z;
		int r;

		if (read_queues(sk, &a, err) < 0 || read_state(sk, t, err) < 0)
			return -1;
		r = peek_queue(sk, TCP_RECV_QUEUE, &t->recvq, (uint32_t)a.inq, err);
		if (r == 0)
			r = peek_queue(sk, TCP_SEND_QUEUE, &t->sendq, (uint32_t)a.outq, err);
		if (r == 0 && read_queues(sk, &z, err) < 0)
			r = -1;
		set_queue(sk, TCP_NO_QUEUE);
		if (r < 0)
			return -1;
		if (r == 0 && !memcmp(&a, &z, sizeof(a))) {
			t->rcv_seq = a.rcv_seq, t->snd_seq = a.snd_seq;
			t->unsent = a.unsent <= a.outq ? (uint32_t)a.unsent : (uint32_t)a.outq;
			return 0;
		}
		drop_queues(t);
		usleep(1000);
	}
	return ferry_error(err, EAGAIN, "the connection kept changing while it was read");
}

static int repair(int sk, int how)
{
	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR, &how, sizeof(how));
}

int lx_tcp_repair_off(int sk, const struct cr_tcp *t, ferry_err_t *err)
{
	int one = 1;

	if (repair(sk, TCP_REPAIR_OFF) < 0)
		return ferry_error_errno(err, "TCP_REPAIR off");
	/* Leaving repair mode resets SO_REUSEADDR. */
	if (t->reuseaddr && setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return ferry_error_errno(err, "SO_REUSEADDR");
	return 0;
}

static int dump_listener(int sk, uint64_t ino, struct cr_tcp *t, ferry_err_t *err)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);
	char name[NAME_MAX_LEN];

	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return ferry_error_errno(err, "TCP_INFO");
	/* For a listener, tcpi_unacked is the accept queue and tcpi_sacked the backlog. */
	if (ti.tcpi_unacked)
		return ferry_error(err, ENOTSUP,
				   "%s: %u connections not accepted yet cannot be carried",
				   lx_tcp_name(ino, t, name, sizeof(name)), ti.tcpi_unacked);
	t->backlog = ti.tcpi_sacked;
	return 0;
}

int lx_tcp_dump(int sk, uint64_t ino, struct cr_tcp *t, ferry_err_t *err)
{
	char name[NAME_MAX_LEN];
	int r;

	lx_tcp_name(ino, t, name, sizeof(name));
	if (t->state != TCP_ESTABLISHED && t->state != TCP_LISTEN)
		return ferry_error(err, ENOTSUP, "%s: TCP state %s cannot be carried", name,
				   lx_tcp_state_name(t->state));
	if (dump_user_options(sk, t, err) < 0)
		return ferry_error_wrap(err, "%s", name);
	drop_default_buffers(t);
	if (t->state == TCP_LISTEN)
		return dump_listener(sk, ino, t, err);
	if (repair(sk, TCP_REPAIR_ON) < 0)
		return ferry_error_errno(err, "%s: TCP_REPAIR", name);
	r = dump_repair(sk, t, err);
	/* Out of repair mode at once (no window probe: the network is locked), so that a ferry
	 * killed now leaves a socket its owner can use. */
	if (repair(sk, TCP_REPAIR_OFF_NO_WP) < 0 && r == 0)
		r = ferry_error_errno(err, "TCP_REPAIR off");
	if (r == 0 && t->reuseaddr && set_int(sk, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		r = ferry_error_errno(err, "SO_REUSEADDR");
	return r < 0 ? ferry_error_wrap(err, "%s", name) : 0;
}

void lx_tcp_close_silently(int sk)
{
	repair(sk, TCP_REPAIR_ON);
	close(sk);
}

/* A buffer size as the socket had it, past net.core.[rw]mem_max as the connection may have grown
 * it (with CAP_NET_ADMIN; capped without); returns 0 or -1. */
static int set_buf(int sk, int name, int force, uint32_t v)
{
	return set_int(sk, SOL_SOCKET, force, v) == 0 ? 0 : set_int(sk, SOL_SOCKET, name, v);
}

/* The user's options but SO_REUSEADDR; returns 0 or -1. */
static int restore_user_options(int sk, const struct cr_tcp *t, ferry_err_t *err)
{
	if ((t->reuseport && set_int(sk, SOL_SOCKET, SO_REUSEPORT, 1) < 0) ||
	    (t->keepalive && set_int(sk, SOL_SOCKET, SO_KEEPALIVE, 1) < 0) ||
	    (t->nodelay && set_int(sk, IPPROTO_TCP, TCP_NODELAY, 1) < 0) ||
	    (t->keepidle && set_int(sk, IPPROTO_TCP, TCP_KEEPIDLE, t->keepidle) < 0) ||
	    (t->keepintvl && set_int(sk, IPPROTO_TCP, TCP_KEEPINTVL, t->keepintvl) < 0) ||
	    (t->keepcnt && set_int(sk, IPPROTO_TCP, TCP_KEEPCNT, t->keepcnt) < 0) ||
	    (t->rcvbuf && set_buf(sk, SO_RCVBUF, SO_RCVBUFFORCE, t->rcvbuf) < 0) ||
	    (t->sndbuf && set_buf(sk, SO_SNDBUF, SO_SNDBUFFORCE, t->sndbuf) < 0))
		return ferry_error_errno(err, "socket options");
	return 0;
}

/* Makes a buffer (name SO_SNDBUF or SO_RCVBUF, force its *FORCE twin) of a new socket large
 * enough for a queue of len bytes written back (its packets take up to twice their data); a
 * buffer the connection had grown past net.core.[rw]mem_max needs that. */
static void make_room(int sk, int name, int force, size_t len)
{
	uint32_t cur = 0;
	size_t want = 2 * len + 65536;

	if (get_int(sk, SOL_SOCKET, name, &cur) < 0 || cur >= want || want > INT32_MAX)
		return;
	set_int(sk, SOL_SOCKET, force, (uint32_t)(want / 2)); /* the kernel doubles it */
}

/* Writes len bytes of buf to sk, halving the chunk when the kernel cannot take a large one (a
 * queue written in repair mode is one linear buffer per call); returns 0 or -1. */
static int write_all(int sk, const uint8_t *buf, size_t len, ferry_err_t *err)
{
	size_t chunk = len, off = 0;

	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t r = send(sk, buf + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (r <= 0 && chunk > 1024) {
			chunk /= 2;
			continue;
		}
		if (r <= 0)
			return ferry_error(err, r < 0 ? errno : EIO, "%zu bytes of %zu written",
					   off, len);
		off += (size_t)r;
	}
	return 0;
}

/* Sets both queue sequence numbers, binds and connects (no SYN in repair mode), the negotiated
 * options and the timestamp; returns 0 or -1. */
static int restore_connection(int sk, const struct cr_tcp *t, ferry_err_t *err)
{
	struct sockaddr_storage ss;
	struct tcp_repair_opt opts[4];
	int n = 0;
	socklen_t l;

	if (set_queue(sk, TCP_RECV_QUEUE) < 0 ||
	    set_int(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, t->rcv_seq - (uint32_t)t->recvq.len) < 0 ||
	    set_queue(sk, TCP_SEND_QUEUE) < 0 ||
	    set_int(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, t->snd_seq - (uint32_t)t->sendq.len) < 0)
		return ferry_error_errno(err, "queue sequence numbers");
	l = make_addr(t, t->src, t->sport, &ss);
	if (bind(sk, (struct sockaddr *)&ss, l) < 0)
		return ferry_error_errno(err, "bind");
	l = make_addr(t, t->dst, t->dport, &ss);
	if (connect(sk, (struct sockaddr *)&ss, l) < 0)
		return ferry_error_errno(err, "connect in repair mode");
	if (t->options & CR_TCP_OPT_SACK)
		opts[n++] = (struct tcp_repair_opt){TCPOPT_SACK_PERMITTED, 0};
	if (t->options & CR_TCP_OPT_WSCALE)
		opts[n++] =
		    (struct tcp_repair_opt){TCPOPT_WINDOW, t->snd_wscale | (t->rcv_wscale << 16)};
	if (t->options & CR_TCP_OPT_TIMESTAMPS)
		opts[n++] = (struct tcp_repair_opt){TCPOPT_TIMESTAMP, 0};
	opts[n++] = (struct tcp_repair_opt){TCPOPT_MAXSEG, t->mss};
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_OPTIONS, opts, (socklen_t)(n * sizeof(*opts))) <
	    0)
		return ferry_error_errno(err, "TCP_REPAIR_OPTIONS");
	if ((t->options & CR_TCP_OPT_TIMESTAMPS) &&
	    set_int(sk, IPPROTO_TCP, TCP_TIMESTAMP, t->timestamp) < 0)
		return ferry_error_errno(err, "TCP_TIMESTAMP");
	return 0;
}

/* Both queues and the window of a connection in repair mode, then repair off and the bytes never
 * sent queued as ordinary data; returns 0 or -1. */
static int restore_queues(int sk, const struct cr_tcp *t, ferry_err_t *err)
{
	size_t sent = t->sendq.len - t->unsent;
	struct tcp_repair_window w = {t->snd_wl1, t->snd_wnd, t->max_window, t->rcv_wnd,
				      t->rcv_wup};

	if (t->recvq.len)
		make_room(sk, SO_RCVBUF, SO_RCVBUFFORCE, t->recvq.len);
	if (t->sendq.len)
		make_room(sk, SO_SNDBUF, SO_SNDBUFFORCE, t->sendq.len);
	if (t->recvq.len && (set_queue(sk, TCP_RECV_QUEUE) < 0 ||
			     write_all(sk, t->recvq.data, t->recvq.len, err) < 0))
		return ferry_error_wrap(err, "receive queue");
	if (sent &&
	    (set_queue(sk, TCP_SEND_QUEUE) < 0 || write_all(sk, t->sendq.data, sent, err) < 0))
		return ferry_error_wrap(err, "send queue");
	set_queue(sk, TCP_NO_QUEUE);
	if (t->has_window && setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w)) < 0)
		return ferry_error_errno(err, "TCP_REPAIR_WINDOW");
	if (lx_tcp_repair_off(sk, t, err) < 0)
		return -1;
	if (t->unsent && write_all(sk, t->sendq.data + sent, t->unsent, err) < 0)
		return ferry_error_wrap(err, "bytes never sent");
	return 0;
}

static int restore_listener(int sk, const struct cr_tcp *t, ferry_err_t *err)
{
	struct sockaddr_storage ss;
	socklen_t l = make_addr(t, t->src, t->sport, &ss);

	if (t->reuseaddr && set_int(sk, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		return ferry_error_errno(err, "SO_REUSEADDR");
	if (bind(sk, (struct sockaddr *)&ss, l) < 0)
		return ferry_error_errno(err, "bind");
	if (listen(sk, (int)(t->backlog ? t->backlog : SOMAXCONN)) < 0)
		return ferry_error_errno(err, "listen");
	return 0;
}

int lx_tcp_restore(const struct cr_tcp *t, uint64_t ino, ferry_err_t *err)
{
	char name[NAME_MAX_LEN];
	_cleanup_close_ int sk =
	    socket(t->family == AF_INET6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	lx_tcp_name(ino, t, name, sizeof(name));
	if (sk < 0)
		return ferry_error_errno(err, "%s: socket", name);
	if (restore_user_options(sk, t, err) < 0)
		return ferry_error_wrap(err, "%s", name);
	if (t->state == TCP_LISTEN) {
		if (restore_listener(sk, t, err) < 0)
			return ferry_error_wrap(err, "%s", name);
		return steal_fd(sk);
	}
	if (t->state != TCP_ESTABLISHED)
		return ferry_error(err, EINVAL, "%s: TCP state %s", name,
				   lx_tcp_state_name(t->state));
	if (repair(sk, TCP_REPAIR_ON) < 0)
		return ferry_error_errno(err, "%s: TCP_REPAIR", name);
	if (restore_connection(sk, t, err) < 0 || restore_queues(sk, t, err) < 0)
		return ferry_error_wrap(err, "%s", name);
	return steal_fd(sk);
}

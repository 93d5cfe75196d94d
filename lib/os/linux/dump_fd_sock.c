// SPDX-License-Identifier: Apache-2.0
/* Sockets, through a copy of the fd in ferry (pidfd_getfd). Unix socket pairs: identity, peer and
 * shutdown state from NETLINK_SOCK_DIAG, queued messages peeked without consuming them: MSG_PEEK
 * walked with SO_PEEK_OFF, which is put back as it was. TCP sockets go to dump_net.c. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"
#include "os/linux/dump_fd.h"

#define PEEK_MAX (1u << 20) /* largest message peeked */

struct unix_facts {
	uint32_t peer;
	uint8_t state, shutdown;
	bool named;
};

static void parse_diag(const struct unix_diag_msg *m, size_t len, struct unix_facts *u)
{
	const struct nlattr *a = (const void *)(m + 1);
	size_t left = len - NLMSG_ALIGN(sizeof(*m));

	u->state = m->udiag_state;
	while (left >= sizeof(*a) && a->nla_len >= sizeof(*a) && a->nla_len <= left) {
		const void *v = (const char *)a + NLA_HDRLEN;

		if (a->nla_type == UNIX_DIAG_PEER)
			memcpy(&u->peer, v, sizeof(u->peer));
		else if (a->nla_type == UNIX_DIAG_SHUTDOWN)
			memcpy(&u->shutdown, v, 1);
		else if (a->nla_type == UNIX_DIAG_NAME)
			u->named = true;
		size_t step = (size_t)NLA_ALIGN(a->nla_len);

		left -= step < left ? step : left;
		a = (const void *)((const char *)a + step);
	}
}

/* Asks the kernel about unix socket ino (the shutdown state always comes); returns 0 or -1. */
static int unix_diag(uint32_t ino, struct unix_facts *u, ferry_err_t *err)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req r;
	} req = {
	    .nh = {.nlmsg_len = sizeof(req),
		   .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		   .nlmsg_flags = NLM_F_REQUEST},
	    .r = {.sdiag_family = AF_UNIX,
		  .udiag_states = ~0u,
		  .udiag_ino = ino,
		  .udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_NAME,
		  .udiag_cookie = {~0u, ~0u}},
	};
	_cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	union {
		struct nlmsghdr nh;
		char buf[8192];
	} rep;
	ssize_t n;

	if (nl < 0 || send(nl, &req, sizeof(req), 0) != sizeof(req))
		return ferry_error_errno(err, "sock_diag");
	n = recv(nl, &rep, sizeof(rep), 0);
	if (n < 0)
		return ferry_error_errno(err, "sock_diag");
	if (!NLMSG_OK(&rep.nh, (size_t)n))
		return ferry_error(err, EIO, "sock_diag: short answer");
	if (rep.nh.nlmsg_type == NLMSG_ERROR) {
		const struct nlmsgerr *e = NLMSG_DATA(&rep.nh);

		return ferry_error(err, -e->error, "sock_diag of socket %u: %s", ino,
				   strerror(-e->error));
	}
	if (rep.nh.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    rep.nh.nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return ferry_error(err, EIO, "sock_diag: unexpected answer");
	parse_diag(NLMSG_DATA(&rep.nh), rep.nh.nlmsg_len - NLMSG_HDRLEN, u);
	return 0;
}

static int push_msg(struct cr_fd *f, const uint8_t *buf, size_t len, ferry_err_t *err)
{
	struct cr_bytes *q = realloc(f->unix_sk.queue, (f->unix_sk.n_queue + 1) * sizeof(*q));

	if (!q)
		return ferry_error(err, ENOMEM, "queued message");
	f->unix_sk.queue = q;
	q = &q[f->unix_sk.n_queue];
	q->data = malloc(len ? len : 1);
	if (!q->data)
		return ferry_error(err, ENOMEM, "queued message of %zu bytes", len);
	memcpy(q->data, buf, len);
	q->len = len;
	f->unix_sk.n_queue++;
	return 0;
}

/* One peek at the next message (at the peek offset); returns its length, 0 at the end, or -1. */
static ssize_t peek_one(int sk, bool stream, uint8_t *buf, ferry_err_t *err)
{
	struct iovec iov = {buf, PEEK_MAX};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(64 * sizeof(int))];
	} ctl;
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
	ssize_t n =
	    recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (stream ? 0 : MSG_TRUNC));

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return ferry_error_errno(err, "peek");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(c);

			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				close(fds[i]);
			return ferry_error(err, ENOTSUP, "fds in flight: not supported yet");
		}
	if ((!stream && (size_t)n > PEEK_MAX) || (mh.msg_flags & MSG_CTRUNC))
		return ferry_error(err, EFBIG, "a queued message of %zd bytes", n);
	return n ? n : ferry_error(err, ENOTSUP, "an empty queued message: not supported yet");
}

/* Copies the queue of sk into f, walking it with SO_PEEK_OFF; returns 0 or -1. */
static int peek_queue(int sk, struct cr_fd *f, ferry_err_t *err)
{
	_cleanup_free_ uint8_t *buf = malloc(PEEK_MAX);
	int old = -1, zero = 0, r = 0;
	socklen_t ol = sizeof(old);

	if (!buf)
		return ferry_error(err, ENOMEM, "peek buffer");
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, &ol) < 0 ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) < 0)
		return ferry_error_errno(err, "SO_PEEK_OFF");
	for (;;) {
		ssize_t n = peek_one(sk, f->unix_sk.type == SOCK_STREAM, buf, err);

		if (n <= 0) {
			r = (int)n;
			break;
		}
		if (push_msg(f, buf, (size_t)n, err) < 0) {
			r = -1;
			break;
		}
	}
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &old, sizeof(old)) < 0 && r == 0)
		return ferry_error_errno(err, "SO_PEEK_OFF back to %d", old);
	return r;
}

/* A unix socket pair; returns 0 or -1. */
static int dump_unix(const struct cr_image *img, int sk, struct cr_fd *f, uint64_t ino,
		     ferry_err_t *err)
{
	struct unix_facts u = {0};
	int type = 0;
	socklen_t l = sizeof(int);

	f->kind = CR_FD_UNIX;
	if (getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
		return ferry_error_errno(err, "socket:[%llu]", (unsigned long long)ino);
	if (unix_diag((uint32_t)ino, &u, err) < 0)
		return -1;
	if (u.named || !u.peer)
		return ferry_error(err, ENOTSUP, "socket:[%llu]: not supported yet (%s)",
				   (unsigned long long)ino,
				   u.named ? "a named unix socket" : "a unix socket not in a pair");
	f->id = ino;
	f->unix_sk.type = (uint32_t)type;
	f->unix_sk.peer = u.peer;
	f->unix_sk.shut_rd = (u.shutdown & 1) != 0; /* RCV_SHUTDOWN */
	f->unix_sk.shut_wr = (u.shutdown & 2) != 0; /* SEND_SHUTDOWN */
	f->offset = 0;
	if (lx_dump_fd_seen(img, f))
		return 0;
	if (peek_queue(sk, f, err) < 0)
		return ferry_error_wrap(err, "unix socket:[%llu] queue", (unsigned long long)ino);
	return 0;
}

int lx_dump_fd_sock(struct lx_dump_ctx *ctx, pid_t pid, struct cr_fd *f, uint64_t ino,
		    ferry_err_t *err)
{
	_cleanup_close_ int sk = lx_dump_take_fd(pid, f->fd, err);
	int family = 0, type = 0;
	socklen_t l = sizeof(int);

	if (sk < 0)
		return -1;
	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &family, &l) < 0 ||
	    getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
		return ferry_error_errno(err, "socket:[%llu]", (unsigned long long)ino);
	if (family == AF_UNIX)
		return dump_unix(ctx->img, sk, f, ino, err);
	if ((family == AF_INET || family == AF_INET6) && type == SOCK_STREAM)
		return lx_dump_net_tcp(ctx, f, ino, &sk, err);
	return ferry_error(err, ENOTSUP, "socket:[%llu]: not supported yet (%s)",
			   (unsigned long long)ino,
			   family == AF_INET || family == AF_INET6
			       ? (type == SOCK_DGRAM ? "UDP" : "a raw or other IP socket")
			   : family == AF_NETLINK ? "netlink"
			   : family == AF_PACKET  ? "packet"
						  : "this address family");
}

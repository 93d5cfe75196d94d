// SPDX-License-Identifier: Apache-2.0
/* The network side of a restore: the lock on the image's connections until the restored sockets
 * are live, and the removal of the lock the checkpoint left.
 *
 * Before the tree is made, ferry locks the image's connections (or the whole namespace, when the
 * checkpoint locked all of it) in the root's network namespace with a table its netlink socket
 * owns: the image may come from another host, where no checkpoint lock exists. Each TCP socket
 * is made once by ferry in that namespace (lx_tcp_restore: repair mode, then out of it once its
 * state is complete) and taken by every tracee that had it. In a namespace given by the caller
 * (a container's, new), lo is brought up first: a socket cannot be connected on it while down. When
 * the tree runs, ferry's copies are closed and both locks go. After a failed restore the copies go
 * back into repair mode first, so closing them sends nothing. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/loopback.h"
#include "os/linux/netlock.h"
#include "os/linux/restore.h"
#include "os/linux/tcp_repair.h"

struct lx_rst_net {
	struct lx_netlock *lock;
	int netns; /* the root's network namespace, -1: ferry's */
	bool whole;
	char table[64];
	struct rst_sock {
		uint64_t id;
		int sk;
	} * socks;
	size_t n_socks;
};

/* The fd that carries socket id's state (state != 0), or NULL. */
static const struct cr_fd *tcp_entry(const struct cr_image *img, uint64_t id)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];

			if (f->kind == CR_FD_TCP && f->id == id && f->tcp.state)
				return f;
		}
	return NULL;
}

/* The image's established connections as lock entries (*n of them); returns 0 or -1. */
static int image_conns(const struct cr_image *img, struct lx_netlock_conn **out, size_t *n,
		       bool *whole, const struct cr_fd **first, ferry_err_t *err)
{
	*out = NULL, *n = 0, *whole = false, *first = NULL;
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];
			struct lx_netlock_conn *v;

			if (f->kind != CR_FD_TCP || f->tcp.state != TCP_ESTABLISHED)
				continue;
			v = realloc(*out, (*n + 1) * sizeof(*v));
			if (!v)
				return ferry_error(err, ENOMEM, "network lock");
			*out = v;
			v[*n] = (struct lx_netlock_conn){.family = f->tcp.family,
							 .sport = (uint16_t)f->tcp.sport,
							 .dport = (uint16_t)f->tcp.dport};
			memcpy(v[*n].src, f->tcp.src, 16);
			memcpy(v[*n].dst, f->tcp.dst, 16);
			(*n)++;
			*whole |= f->tcp.netns_locked;
			if (!*first)
				*first = f;
		}
	return 0;
}

/* *fd: the network namespace of the root given by the caller, or -1 (ferry's); returns 0 or -1. */
static int open_netns(const struct os_restore_req *req, int *fd, ferry_err_t *err)
{
	char path[64];

	*fd = -1;
	if (!req->root)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", req->root);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	return *fd < 0 ? ferry_error_errno(err, "%s", path) : 0;
}

static int lock_image(struct lx_rst *rs, struct lx_rst_net *n, ferry_err_t *err)
{
	_cleanup_free_ struct lx_netlock_conn *conns = NULL;
	const struct cr_fd *first;
	char name[160];
	size_t nc;

	if (image_conns(rs->img, &conns, &nc, &n->whole, &first, err) < 0)
		return -1;
	if (!nc)
		return 0;
	if (!rs->req->tcp_established)
		return ferry_error(err, ENOTSUP,
				   "the image holds established TCP connections (%s, ...): use "
				   "--tcp-established",
				   lx_tcp_name(first->id, &first->tcp, name, sizeof(name)));
	n->lock = lx_netlock_open(n->netns, err);
	if (!n->lock)
		return -1;
	if (n->whole)
		snprintf(n->table, sizeof(n->table), "%s", LX_NETLOCK_TABLE);
	else
		snprintf(n->table, sizeof(n->table), "%s-%d", LX_NETLOCK_TABLE, (int)getpid());
	return lx_netlock_table(n->lock, n->table, true, n->whole, conns, nc, err);
}

int lx_rst_net_start(struct lx_rst *rs, ferry_err_t *err)
{
	struct lx_rst_net *n = calloc(1, sizeof(*n));

	if (!n)
		return ferry_error(err, ENOMEM, "network");
	rs->net = n;
	if (open_netns(rs->req, &n->netns, err) < 0)
		return ferry_error_wrap(err, "restore: network namespace");
	if (lock_image(rs, n, err) < 0)
		return ferry_error_wrap(err, "restore: network lock");
	return 0;
}

/* lx_tcp_restore in n's namespace; returns the socket or -1. */
static int make_in_netns(struct lx_rst_net *n, const struct cr_tcp *t, uint64_t id,
			 ferry_err_t *err)
{
	_cleanup_close_ int self = -1;
	int sk;

	if (n->netns < 0)
		return lx_tcp_restore(t, id, err);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(n->netns, CLONE_NEWNET) < 0)
		return ferry_error_errno(err, "enter the network namespace");
	sk = lx_loopback_up(err) < 0 ? -1 : lx_tcp_restore(t, id, err);
	if (setns(self, CLONE_NEWNET) < 0)
		abort(); /* the thread would stay in another namespace */
	return sk;
}

int lx_rst_net_socket(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err)
{
	struct lx_rst_net *n = rs->net;
	const struct cr_fd *e = tcp_entry(rs->img, f->id);
	struct rst_sock *v;
	int sk;

	for (size_t i = 0; i < n->n_socks; i++)
		if (n->socks[i].id == f->id)
			return n->socks[i].sk;
	if (!e)
		return ferry_error(err, ENOENT, "TCP socket %llu: no fd carries its state",
				   (unsigned long long)f->id);
	if (e->tcp.state == TCP_ESTABLISHED && !n->lock)
		return ferry_error(err, EINVAL, "TCP socket %llu: not locked",
				   (unsigned long long)f->id);
	v = realloc(n->socks, (n->n_socks + 1) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "TCP socket");
	n->socks = v;
	sk = make_in_netns(n, &e->tcp, f->id, err);
	if (sk < 0)
		return -1;
	v[n->n_socks++] = (struct rst_sock){f->id, sk};
	return sk;
}

/* Deletes the table the checkpoint left for this image. */
static void remove_checkpoint_lock(struct lx_rst *rs, struct lx_rst_net *n)
{
	char name[64];

	if (n->whole)
		snprintf(name, sizeof(name), "%s", LX_NETLOCK_RESTORE_TABLE);
	else
		snprintf(name, sizeof(name), "%s-%d", LX_NETLOCK_RESTORE_TABLE, rs->img->root_pid);
	lx_netlock_delete(n->lock, name, NULL);
}

void lx_rst_net_finish(struct lx_rst *rs, bool ok)
{
	struct lx_rst_net *n = rs->net;
	int on = 1;

	if (!n)
		return;
	for (size_t i = 0; i < n->n_socks; i++) {
		if (!ok)
			setsockopt(n->socks[i].sk, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on));
		close(n->socks[i].sk);
	}
	if (n->lock) {
		remove_checkpoint_lock(rs, n);
		lx_netlock_delete(n->lock, n->table, NULL);
		lx_netlock_close(n->lock);
	}
	if (n->netns >= 0)
		close(n->netns);
	free(n->socks);
	free(n);
	rs->net = NULL;
}

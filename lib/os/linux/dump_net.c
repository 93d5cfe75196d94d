// SPDX-License-Identifier: Apache-2.0
/* The network side of a dump: the lock on the tree's traffic and ferry's copies of the dumped
 * connections, kept until the dump ends.
 *
 * The lock is an nftables table owned by ferry's netlink socket, made in the network namespace
 * of the root: the whole namespace when the tree owns it (req->netns_lock), else one connection
 * at a time, just before its socket is read in repair mode (lx_tcp_dump leaves repair mode at
 * once: a ferry killed at any point leaves sockets their owners can use, and the kernel drops
 * the owned table). How the dump ends decides the rest:
 * - FAILED, RESUMED: the copies are closed (the tree's sockets go on as they were), the lock
 *   deleted.
 * - KILLED: in one transaction the rules move to a table without owner, which outlives ferry
 *   until the restore deletes it (the peers' packets are dropped, not answered with a reset);
 *   then each copy, the last reference to its connection, goes back into repair mode and is
 *   closed, so the kernel sends neither FIN nor RST. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "os/linux/dump.h"
#include "os/linux/dump_fd.h"
#include "os/linux/netlock.h"
#include "os/linux/tcp_repair.h"

struct lx_dump_net {
	struct lx_netlock *lock; /* in the root's network namespace; NULL until needed */
	bool whole;		 /* the lock covers the whole namespace */
	int *held;		 /* ferry's copies of the dumped connections */
	size_t n_held;
	struct lx_netlock_conn *conns; /* the locked connections */
	size_t n_conns;
	char table[64]; /* the owned table: one per namespace, or one per ferry in a shared one */
};

static struct lx_netlock *open_in(pid_t pid, ferry_err_t *err)
{
	char path[64];
	_cleanup_close_ int ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return ferry_error_errno(err, "network lock: %s", path), NULL;
	return lx_netlock_open(ns, err);
}

/* The owned lock table, made on first use (with the rules of c, if given); returns 1 when it
 * was made now, 0 when it was there, or -1. */
static int lock_begin(struct lx_dump_ctx *ctx, bool whole, const struct lx_netlock_conn *c,
		      ferry_err_t *err)
{
	struct lx_dump_net *n = ctx->net;

	if (n && n->lock)
		return 0;
	if (!n && !(n = ctx->net = calloc(1, sizeof(*n))))
		return ferry_error(err, ENOMEM, "network lock");
	n->lock = open_in(ctx->req->pid, err);
	if (!n->lock)
		return -1;
	if (whole)
		snprintf(n->table, sizeof(n->table), "%s", LX_NETLOCK_TABLE);
	else
		snprintf(n->table, sizeof(n->table), "%s-%d", LX_NETLOCK_TABLE, (int)getpid());
	if (lx_netlock_table(n->lock, n->table, true, whole, c, c ? 1 : 0, err) < 0) {
		lx_netlock_close(n->lock);
		n->lock = NULL;
		return -1;
	}
	n->whole = whole;
	return 1;
}

int lx_dump_net_start(struct lx_dump_ctx *ctx, ferry_err_t *err)
{
	if (!ctx->req->netns_lock)
		return 0;
	return lock_begin(ctx, true, NULL, err) < 0 ? -1 : 0;
}

static struct lx_netlock_conn conn_of(const struct cr_tcp *t)
{
	struct lx_netlock_conn c = {
	    .family = t->family, .sport = (uint16_t)t->sport, .dport = (uint16_t)t->dport};

	memcpy(c.src, t->src, sizeof(c.src));
	memcpy(c.dst, t->dst, sizeof(c.dst));
	return c;
}

/* Locks the connection of t (unless the whole namespace is) and keeps sk; returns 0 or -1. */
static int lock_conn(struct lx_dump_ctx *ctx, const struct cr_tcp *t, ferry_err_t *err)
{
	struct lx_dump_net *n;
	struct lx_netlock_conn c = conn_of(t), *cv;
	int *hv, made = lock_begin(ctx, false, &c, err);

	if (made < 0)
		return -1;
	n = ctx->net;
	cv = realloc(n->conns, (n->n_conns + 1) * sizeof(*cv));
	if (cv)
		n->conns = cv;
	hv = realloc(n->held, (n->n_held + 1) * sizeof(*hv));
	if (hv)
		n->held = hv;
	if (!cv || !hv)
		return ferry_error(err, ENOMEM, "network lock");
	if (!made && !n->whole && lx_netlock_add(n->lock, n->table, &c, err) < 0)
		return -1;
	n->conns[n->n_conns++] = c;
	return 0;
}

int lx_dump_net_tcp(struct lx_dump_ctx *ctx, struct cr_fd *f, uint64_t ino, int *sk,
		    ferry_err_t *err)
{
	struct cr_tcp *t = &f->tcp;
	char name[160];

	f->kind = CR_FD_TCP;
	f->id = ino;
	f->offset = 0;
	if (lx_tcp_identify(*sk, ino, t, err) < 0)
		return -1;
	if (lx_dump_fd_seen(ctx->img, f)) {
		t->state = 0; /* the first fd of this socket carries it */
		return 0;
	}
	if (t->state == TCP_ESTABLISHED && !ctx->req->tcp_established)
		return ferry_error(err, ENOTSUP,
				   "established TCP connection %s: use --tcp-established",
				   lx_tcp_name(ino, t, name, sizeof(name)));
	if (t->state == TCP_ESTABLISHED && lock_conn(ctx, t, err) < 0)
		return ferry_error_wrap(err, "%s", lx_tcp_name(ino, t, name, sizeof(name)));
	if (lx_tcp_dump(*sk, ino, t, err) < 0)
		return -1;
	t->netns_locked = ctx->net && ctx->net->whole;
	if (t->state == TCP_ESTABLISHED) {
		struct lx_dump_net *n = ctx->net;

		n->held[n->n_held++] = steal_fd(*sk);
	}
	return 0;
}

/* Hands the lock over, in one transaction, to a table without owner that keeps it from the
 * killed tree to its restore; returns 0 or -1 (the owned table is still there). */
static int keep_for_restore(struct lx_dump_ctx *ctx, ferry_err_t *err)
{
	struct lx_dump_net *n = ctx->net;
	char name[64];

	if (n->whole)
		snprintf(name, sizeof(name), "%s", LX_NETLOCK_RESTORE_TABLE);
	else
		snprintf(name, sizeof(name), "%s-%d", LX_NETLOCK_RESTORE_TABLE, ctx->img->root_pid);
	if (lx_netlock_handover(n->lock, n->table, name, n->whole, n->conns, n->n_conns, err) < 0)
		return -1;
	n->table[0] = 0;
	return 0;
}

void lx_dump_net_finish(struct lx_dump_ctx *ctx, enum lx_dump_end end)
{
	struct lx_dump_net *n = ctx->net;
	ferry_err_t err = NULL;

	if (!n)
		return;
	/* Without a connection nothing needs the lock (and no restore would lift it). */
	if (end == LX_DUMP_KILLED && n->lock && n->n_conns && keep_for_restore(ctx, &err) < 0) {
		ferry_log(FERRY_LOG_WARN,
			  "checkpoint: the network stays unlocked until restore: %s", err->msg);
		ferry_error_free(&err);
	}
	for (size_t i = 0; i < n->n_held; i++) {
		if (end == LX_DUMP_KILLED)
			lx_tcp_close_silently(n->held[i]);
		else
			close(n->held[i]);
	}
	if (n->lock && n->table[0])
		lx_netlock_delete(n->lock, n->table, NULL);
	lx_netlock_close(n->lock);
	free(n->held);
	free(n->conns);
	free(n);
	ctx->net = NULL;
}

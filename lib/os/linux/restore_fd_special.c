// SPDX-License-Identifier: Apache-2.0
/* Restore of unix socket pairs, eventfd, timerfd, signalfd and epoll (see restore_fd.h). A socket
 * pair lives in ferry's table of pairs (lx_rst.pipes, keyed by the smaller socket id: pipe and
 * socket inode numbers come from one counter) until the restore ends. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore_fd.h"

#define EFD_SEMAPHORE_FLAG 1u
#define EFD_CLOEXEC_FLAG 02000000u
#define SFD_CLOEXEC_FLAG 02000000u
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t) /* <linux/timerfd.h> */
#endif

static int64_t rcall(struct lx_rst_proc *rp, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     uint64_t a3, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3};

	return lx_rfast_call(rp->r.tid, rp->r.syscall_ip, nr, a, err);
}

bool lx_rst_fd_special(const struct cr_fd *f)
{
	return f->kind == CR_FD_UNIX || f->kind == CR_FD_EVENTFD || f->kind == CR_FD_EPOLL ||
	       f->kind == CR_FD_TIMERFD || f->kind == CR_FD_SIGNALFD || f->kind == CR_FD_TCP;
}

/* Sends the queue of the image's fd of socket id (if any fd of it has one) from `from`, so that
 * `to` holds it to read; returns 0 or -1. */
static int refill(const struct cr_image *img, uint64_t id, int from, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];

			if (f->kind != CR_FD_UNIX || f->id != id)
				continue;
			for (size_t m = 0; m < f->unix_sk.n_queue; m++) {
				const struct cr_bytes *b = &f->unix_sk.queue[m];
				size_t done = 0;

				while (done < b->len) {
					ssize_t n = send(from, b->data + done, b->len - done,
							 MSG_DONTWAIT | MSG_NOSIGNAL);

					if (n < 0)
						return ferry_error_errno(
						    err, "refill socket %llu (%zu bytes)",
						    (unsigned long long)id, b->len);
					done += (size_t)n;
				}
			}
		}
	return 0;
}

/* The shutdown state of socket id as the image has it, applied to sk; returns 0 or -1. */
static int shut(const struct cr_image *img, uint64_t id, int sk, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *f = &img->procs[i].fds[k];
			int how = f->unix_sk.shut_rd ? (f->unix_sk.shut_wr ? SHUT_RDWR : SHUT_RD)
						     : SHUT_WR;

			if (f->kind != CR_FD_UNIX || f->id != id)
				continue;
			if ((f->unix_sk.shut_rd || f->unix_sk.shut_wr) && shutdown(sk, how) < 0)
				return ferry_error_errno(err, "shutdown socket %llu",
							 (unsigned long long)id);
			return 0;
		}
	return 0;
}

/* Ferry's end of the pair for f, made, filled and shut on first use; returns it or -1. */
static int pair_fd(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err)
{
	uint64_t lo = f->id < f->unix_sk.peer ? f->id : f->unix_sk.peer;
	uint64_t hi = f->id < f->unix_sk.peer ? f->unix_sk.peer : f->id;
	struct lx_rst_pipe *v;
	int sv[2];

	for (size_t i = 0; i < rs->n_pipes; i++)
		if (rs->pipes[i].id == lo)
			return rs->pipes[i].fd[f->id == lo ? 0 : 1];
	v = realloc(rs->pipes, (rs->n_pipes + 1) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "socket pair");
	rs->pipes = v;
	if (socketpair(AF_UNIX, (int)f->unix_sk.type | SOCK_CLOEXEC, 0, sv) < 0)
		return ferry_error_errno(err, "socketpair of type %u", f->unix_sk.type);
	v[rs->n_pipes++] = (struct lx_rst_pipe){.id = lo, .fd = {sv[0], sv[1]}};
	if (refill(rs->img, lo, sv[1], err) < 0 || refill(rs->img, hi, sv[0], err) < 0 ||
	    shut(rs->img, lo, sv[0], err) < 0 || shut(rs->img, hi, sv[1], err) < 0)
		return -1;
	return sv[f->id == lo ? 0 : 1];
}

/* rp takes ferry's fd own (a remote pidfd_open + pidfd_getfd, or passed when rp lives in other
 * namespaces); returns its fd or -1. */
static int64_t take_from_ferry(struct lx_rst *rs, struct lx_rst_proc *rp, int own, ferry_err_t *err)
{
	int64_t pidfd, fd;

	if (rs->pass_sock >= 0) /* ferry's pid means nothing in the tracee's namespace */
		return lx_rst_give(rs, rp, own, err);
	pidfd = rcall(rp, SYS_pidfd_open, (uint64_t)rs->self, 0, 0, 0, err);

	if (pidfd < 0)
		return -1;
	fd = rcall(rp, SYS_pidfd_getfd, (uint64_t)pidfd, (uint64_t)own, 0, 0, err);
	if (rcall(rp, SYS_close, (uint64_t)pidfd, 0, 0, 0, fd < 0 ? NULL : err) < 0)
		return -1;
	return fd;
}

static int64_t make_timerfd(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_fd *f,
			    ferry_err_t *err)
{
	struct itimerspec its = {
	    .it_interval = {(time_t)(f->timerfd.interval_ns / 1000000000u),
			    (long)(f->timerfd.interval_ns % 1000000000u)},
	    .it_value = {(time_t)(f->timerfd.value_ns / 1000000000u),
			 (long)(f->timerfd.value_ns % 1000000000u)},
	};
	int64_t fd =
	    rcall(rp, SYS_timerfd_create, (uint64_t)f->timerfd.clock, TFD_CLOEXEC, 0, 0, err);
	uint64_t at;

	if (fd < 0)
		return -1;
	if (f->timerfd.value_ns) {
		at = lx_rst_put(rs, rp, 0, &its, sizeof(its), err);
		if (!at || rcall(rp, SYS_timerfd_settime, (uint64_t)fd, 0, at, 0, err) < 0)
			return -1;
	}
	if (f->timerfd.ticks) {
		at = lx_rst_put(rs, rp, 64, &f->timerfd.ticks, sizeof(uint64_t), err);
		if (!at || rcall(rp, SYS_ioctl, (uint64_t)fd, TFD_IOC_SET_TICKS, at, 0, err) < 0)
			return ferry_error_wrap(err, "timerfd ticks");
	}
	return fd;
}

int64_t lx_rst_fd_make(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_fd *f,
		       ferry_err_t *err)
{
	uint64_t at;
	int own;

	switch (f->kind) {
	case CR_FD_UNIX:
		own = pair_fd(rs, f, err);
		return own < 0 ? -1 : take_from_ferry(rs, rp, own, err);
	case CR_FD_TCP:
		own = lx_rst_net_socket(rs, f, err);
		return own < 0 ? -1 : take_from_ferry(rs, rp, own, err);
	case CR_FD_EVENTFD:
		return rcall(rp, SYS_eventfd2, f->eventfd.counter,
			     (f->eventfd.flags & EFD_SEMAPHORE_FLAG) | EFD_CLOEXEC_FLAG, 0, 0, err);
	case CR_FD_EPOLL:
		return rcall(rp, SYS_epoll_create1, EPOLL_CLOEXEC, 0, 0, 0, err);
	case CR_FD_TIMERFD:
		return make_timerfd(rs, rp, f, err);
	case CR_FD_SIGNALFD:
		at = lx_rst_put(rs, rp, 0, &f->signalfd_mask, sizeof(uint64_t), err);
		return at ? rcall(rp, SYS_signalfd4, (uint64_t)-1, at, sizeof(uint64_t),
				  SFD_CLOEXEC_FLAG, err)
			  : -1;
	default:
		return ferry_error(err, ENOTSUP, "this kind of file (%d) is not restored yet",
				   (int)f->kind);
	}
}

int lx_rst_fd_epoll(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	for (size_t i = 0; i < rp->p->n_fds; i++) {
		const struct cr_fd *f = &rp->p->fds[i];

		for (size_t k = 0; f->kind == CR_FD_EPOLL && k < f->epoll.n_targets; k++) {
			const struct cr_epoll_target *t = &f->epoll.targets[k];
			struct epoll_event ev = {.events = t->events, .data.u64 = t->data};
			uint64_t at = lx_rst_put(rs, rp, 0, &ev, sizeof(ev), err);

			if (!at || rcall(rp, SYS_epoll_ctl, (uint64_t)f->fd, EPOLL_CTL_ADD,
					 (uint64_t)t->fd, at, err) < 0)
				return ferry_error_wrap(err, "fd %d: watch fd %d", f->fd, t->fd);
		}
	}
	return 0;
}

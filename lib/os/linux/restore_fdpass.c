// SPDX-License-Identifier: Apache-2.0
/* Handing ferry's fds to tracees that live in other namespaces (a container's): pids of ferry
 * mean nothing there and its /proc is not theirs. The root gets one end of a datagram
 * socketpair (made by a remote call, ferry takes the other end with pidfd_getfd) at a number no
 * image fd uses, and the host's /proc through it; the processes cloned from the root inherit
 * both. An fd goes over with SCM_RIGHTS and a remote recvmsg; ferry's fds are reopened by the
 * tracees as "<ferry pid>/fd/N" under that /proc. Both go when a process's fds are restored. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/remote.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"

static int64_t rcall(struct lx_rst_proc *rp, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     uint64_t a3, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3};

	return lx_rfast_call(rp->r.tid, rp->r.syscall_ip, nr, a, err);
}

/* The lowest fd number above every fd of the image. */
static int above_image_fds(const struct cr_image *img)
{
	int top = 2;

	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++)
			if (img->procs[i].fds[k].fd > top)
				top = img->procs[i].fds[k].fd;
	return top + 1;
}

/* Moves the tracee's fd to number to; returns 0 or -1. */
static int move_fd(struct lx_rst_proc *rp, int64_t fd, int to, ferry_err_t *err)
{
	if (fd == to)
		return 0;
	if (rcall(rp, SYS_dup3, (uint64_t)fd, (uint64_t)to, O_CLOEXEC, 0, err) < 0 ||
	    rcall(rp, SYS_close, (uint64_t)fd, 0, 0, 0, err) < 0)
		return ferry_error_wrap(err, "move fd %lld to %d", (long long)fd, to);
	return 0;
}

int64_t lx_rst_give(struct lx_rst *rs, struct lx_rst_proc *rp, int own, ferry_err_t *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = {0};
	char byte = 0;
	struct iovec iov = {&byte, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct {
		struct msghdr m;
		struct iovec iov;
		char byte;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
	} remote = {0};
	uint64_t at;
	int fd;

	CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &own, sizeof(int));
	if (sendmsg(rs->pass_sock, &m, 0) < 0)
		return ferry_error_errno(err, "pass fd %d", own);
	at = lx_rst_put(rs, rp, 0, &remote, sizeof(remote), err);
	if (!at)
		return -1;
	remote.iov = (struct iovec){(void *)(uintptr_t)(at + offsetof(typeof(remote), byte)), 1};
	remote.m = (struct msghdr){
	    .msg_iov = (void *)(uintptr_t)(at + offsetof(typeof(remote), iov)),
	    .msg_iovlen = 1,
	    .msg_control = (void *)(uintptr_t)(at + offsetof(typeof(remote), u)),
	    .msg_controllen = sizeof(remote.u.buf),
	};
	if (lx_remote_write(rp->r.pid, at, &remote, sizeof(remote), err) < 0 ||
	    rcall(rp, SYS_recvmsg, (uint64_t)rs->pass_fd, at, MSG_CMSG_CLOEXEC, 0, err) < 0 ||
	    lx_remote_read(rp->r.pid, at, &remote, sizeof(remote), err) < 0)
		return ferry_error_wrap(err, "take fd %d", own);
	remote.m.msg_control = remote.u.buf;
	if (!CMSG_FIRSTHDR(&remote.m) || CMSG_FIRSTHDR(&remote.m)->cmsg_type != SCM_RIGHTS)
		return ferry_error(err, EPROTO, "take fd %d: nothing came", own);
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&remote.m)), sizeof(int));
	return fd;
}

int lx_rst_fdpass_init(struct lx_rst *rs, struct lx_rst_proc *root, ferry_err_t *err)
{
	_cleanup_close_ int pidfd = -1, proc = -1;
	int sv[2] = {-1, -1}, top = above_image_fds(rs->img);
	int64_t fd;
	uint64_t at = lx_rst_put(rs, root, 0, sv, sizeof(sv), err);

	if (!at ||
	    rcall(root, SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, at, err) < 0 ||
	    lx_remote_read(root->r.pid, at, sv, sizeof(sv), err) < 0)
		return ferry_error_wrap(err, "fd passing");
	pidfd = (int)syscall(SYS_pidfd_open, root->r.pid, 0);
	rs->pass_sock = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, sv[1], 0);
	if (rs->pass_sock < 0)
		return ferry_error_errno(err, "fd passing: take the socket of %d", root->r.pid);
	fcntl(rs->pass_sock, F_SETFD, FD_CLOEXEC);
	if (rcall(root, SYS_close, (uint64_t)sv[1], 0, 0, 0, err) < 0 ||
	    move_fd(root, sv[0], top, err) < 0)
		return -1;
	rs->pass_fd = top;
	proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc < 0)
		return ferry_error_errno(err, "open /proc");
	fd = lx_rst_give(rs, root, proc, err);
	if (fd < 0 || move_fd(root, fd, top + 1, err) < 0)
		return -1;
	rs->procfd = top + 1;
	return 0;
}

/* Queues close_range(first, last) in rp; returns 0 or -1. */
static int close_range_q(struct lx_rst_proc *rp, uint64_t first, uint64_t last, const char *what,
			 ferry_err_t *err)
{
	const uint64_t a[6] = {first, last};

	return lx_rbatch_call(rp->r.tid, what, SYS_close_range, a, 0, NULL, 0, err) < 0 ? -1 : 0;
}

int lx_rst_fdpass_close_others(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const char *what = "close the copy's files";

	if (rs->pass_fd < 0)
		return close_range_q(rp, 0, ~0U, what, err);
	if ((rs->pass_fd > 0 && close_range_q(rp, 0, (uint64_t)rs->pass_fd - 1, what, err) < 0) ||
	    close_range_q(rp, (uint64_t)rs->procfd + 1, ~0U, what, err) < 0)
		return -1;
	return 0;
}

int lx_rst_fdpass_end(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	if (rs->pass_fd < 0)
		return 0;
	return close_range_q(rp, (uint64_t)rs->pass_fd, (uint64_t)rs->procfd,
			     "close the passing fds", err);
}

int64_t lx_rst_own_path(const struct lx_rst *rs, int own, char *buf, size_t size)
{
	if (rs->procfd >= 0) {
		snprintf(buf, size, "%d/fd/%d", rs->self, own);
		return rs->procfd;
	}
	snprintf(buf, size, "/proc/%d/fd/%d", rs->self, own);
	return AT_FDCWD;
}

int64_t lx_rst_open_own(struct lx_rst *rs, struct lx_rst_proc *rp, int own, uint64_t flags,
			bool *given, ferry_err_t *err)
{
	char path[64];
	int64_t dirfd = lx_rst_own_path(rs, own, path, sizeof(path)), fd;
	ferry_err_t denied = NULL;
	uint64_t at = lx_rst_put(rs, rp, 0, path, strlen(path) + 1, err);

	*given = false;
	if (!at)
		return -1;
	fd =
	    rcall(rp, SYS_openat, (uint64_t)dirfd, at, flags, 0, rs->pass_sock < 0 ? err : &denied);
	if (fd >= 0 || rs->pass_sock < 0)
		return fd;
	/* A tracee in a user namespace may not reopen ferry's fds through /proc: the same open
	 * file is handed over instead. */
	if (denied->errnum != EACCES && denied->errnum != EPERM) {
		*err = denied;
		return ferry_error_wrap(err, "open %s", path);
	}
	ferry_error_free(&denied);
	*given = true;
	return lx_rst_give(rs, rp, own, err);
}

// SPDX-License-Identifier: Apache-2.0
/* Restore: file descriptors at their numbers. Files with a path are opened again by the tracee;
 * objects without one (pipes, memfds, deleted files) are made once in ferry and opened by each
 * tracee through /proc/<ferry>/fd/N. A deleted file is made again from its ghost contents at its
 * old path (or, if that name is taken, at "<path>.ferry-ghost-<id>"), opened, and unlinked when
 * the restore ends, so the tracee holds an unlinked file with the same contents.
 *
 * Files with a path are opened, moved and placed in batches (remote_batch.h). The number an open
 * gets is known beforehand, the lowest free one: the copy's fds are closed first, and each fd
 * restored stays; the batch's results are checked against it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"
#include "os/linux/restore_fd.h"

#define STRIP_FLAGS (O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC)

static int64_t rcall(struct lx_rst_proc *rp, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2};

	return lx_rfast_call(rp->r.tid, rp->r.syscall_ip, nr, a, err);
}

/* The fds a tracee holds while its files are restored, and the opens queued with the number
 * each was to get. */
struct fdtab {
	uint64_t *bits;
	size_t words;
	int lowest; /* every fd below is taken */
	struct opened {
		int64_t call;
		int want;
		int fd; /* the fd restored */
	} * opens;
	size_t n_opens;
};

static void fdtab_free(struct fdtab *t)
{
	free(t->bits);
	free(t->opens);
}

static bool taken(const struct fdtab *t, int fd)
{
	return (size_t)fd / 64 < t->words && (t->bits[fd / 64] >> (fd % 64)) & 1;
}

static int take(struct fdtab *t, int fd, ferry_err_t *err)
{
	if ((size_t)fd / 64 >= t->words) {
		size_t words = (size_t)fd / 64 + 1 + t->words;
		uint64_t *v = realloc(t->bits, words * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "fd table");
		memset(v + t->words, 0, (words - t->words) * sizeof(*v));
		t->bits = v;
		t->words = words;
	}
	t->bits[fd / 64] |= 1ULL << (fd % 64);
	while (taken(t, t->lowest))
		t->lowest++;
	return 0;
}

/* Whether f's file offset is set again (a file read or written at a position). */
static bool seeks(const struct cr_fd *f)
{
	return (f->kind == CR_FD_REG || f->kind == CR_FD_DELETED || f->kind == CR_FD_MEMFD) &&
	       !f->inherit && f->offset;
}

/* Queues f's open of path at the lowest free fd, its move to f's number (dup3, close) and its
 * offset; returns 0 or -1. */
static int queue_open(struct lx_rst_proc *rp, struct fdtab *t, const struct cr_fd *f,
		      const char *path, uint64_t flags, ferry_err_t *err)
{
	size_t len = strlen(path) + 1;
	pid_t tid = rp->r.tid;
	uint64_t a[6] = {(uint64_t)AT_FDCWD, 0, flags};
	struct opened *v = realloc(t->opens, (t->n_opens + 1) * sizeof(*v));
	int want = t->lowest;
	char what[PATH_MAX + 48];

	if (!v)
		return ferry_error(err, ENOMEM, "fd %d", f->fd);
	t->opens = v;
	snprintf(what, sizeof(what), "fd %d: open %s", f->fd, path);
	if (lx_rbatch_room(tid, 4, len, err) < 0 || !(a[1] = lx_rbatch_data(tid, path, len, err)))
		return -1;
	v[t->n_opens] = (struct opened){lx_rbatch_add(tid, SYS_openat, a, what, err), want, f->fd};
	if (v[t->n_opens++].call < 0)
		return -1;
	snprintf(what, sizeof(what), "fd %d", f->fd);
	if (want != f->fd) {
		uint64_t dup[6] = {(uint64_t)want, (uint64_t)f->fd, f->cloexec ? O_CLOEXEC : 0};
		uint64_t cl[6] = {(uint64_t)want};

		if (lx_rbatch_add(tid, SYS_dup3, dup, what, err) < 0 ||
		    lx_rbatch_add(tid, SYS_close, cl, what, err) < 0)
			return -1;
	}
	if (seeks(f)) {
		uint64_t seek[6] = {(uint64_t)f->fd, f->offset, SEEK_SET};

		if (lx_rbatch_add(tid, SYS_lseek, seek, what, err) < 0)
			return -1;
	}
	return 0;
}

/* Runs the queue and checks that every open got the fd it was to get; returns 0 or -1. */
static int opens_check(struct lx_rst_proc *rp, struct fdtab *t, ferry_err_t *err)
{
	if (lx_rbatch_flush(rp->r.tid, err) < 0)
		return -1;
	for (size_t i = 0; i < t->n_opens; i++) {
		int64_t got;

		if (lx_rbatch_result(rp->r.tid, t->opens[i].call, &got, err) < 0)
			return -1;
		if (got != t->opens[i].want)
			return ferry_error(err, EPROTO, "fd %d: opened as %lld, %d was free",
					   t->opens[i].fd, (long long)got, t->opens[i].want);
	}
	return 0;
}

/* Ferry's fd of pipe id (made on first use, holding data); end 0 or 1; returns it or -1. */
static int pipe_fd(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err)
{
	struct lx_rst_pipe *v;
	int end = f->write_end ? 1 : 0;

	for (size_t i = 0; i < rs->n_pipes; i++)
		if (rs->pipes[i].id == f->id)
			goto have;
	v = realloc(rs->pipes, (rs->n_pipes + 1) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "pipe");
	rs->pipes = v;
	v = &v[rs->n_pipes];
	if (pipe2(v->fd, O_CLOEXEC) < 0)
		return ferry_error_errno(err, "pipe");
	v->id = f->id;
	rs->n_pipes++;
have:
	v = NULL;
	for (size_t i = 0; i < rs->n_pipes; i++)
		if (rs->pipes[i].id == f->id)
			v = &rs->pipes[i];
	if (f->data.len) {
		if ((size_t)fcntl(v->fd[1], F_GETPIPE_SZ) < f->data.len &&
		    fcntl(v->fd[1], F_SETPIPE_SZ, (int)f->data.len) < 0)
			return ferry_error_errno(err, "pipe of %zu bytes", f->data.len);
		if (write(v->fd[1], f->data.data, f->data.len) != (ssize_t)f->data.len)
			return ferry_error_errno(err, "refill pipe");
	}
	return v->fd[end];
}

/* Makes the ghost file of a deleted fd in ferry (once); returns ferry's fd or -1. */
static int ghost_fd(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err)
{
	const struct cr_image *img = rs->img;
	char *path = NULL, host[PATH_MAX + 64];
	const char *at;
	size_t i;
	int fd;

	for (i = 0; i < img->n_ghosts && img->ghosts[i].id != f->id; i++)
		;
	if (i == img->n_ghosts)
		return ferry_error(err, ENOENT, "ghost %llu", (unsigned long long)f->id);
	if (rs->ghost_fds[i] >= 0)
		return rs->ghost_fds[i];
	at = lx_rst_host_path(rs, f->path, host, sizeof(host));
	fd = open(at, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, img->ghosts[i].mode & 07777);
	if (fd >= 0) {
		path = strdup(at);
	} else if (errno == EEXIST &&
		   asprintf(&path, "%s.ferry-ghost-%llu", at, (unsigned long long)f->id) > 0) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, img->ghosts[i].mode & 07777);
	}
	if (fd < 0 || !path) {
		ferry_error_errno(err, "make deleted file %s again", f->path);
		free(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rs->ghost_paths[i] = path;
	rs->ghost_fds[i] = fd;
	if (write(fd, img->ghosts[i].data.data, img->ghosts[i].data.len) !=
	    (ssize_t)img->ghosts[i].data.len)
		return ferry_error_errno(err, "write deleted file %s", path);
	return fd;
}

/* Ferry holds a FIFO open read-write so that the tracee's open never blocks; returns 0 or -1. */
static int fifo_hold(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err)
{
	int *v = realloc(rs->fifo_fds, (rs->n_fifo_fds + 1) * sizeof(int));
	char host[PATH_MAX + 64];
	int fd;

	if (!v)
		return ferry_error(err, ENOMEM, "fifo");
	rs->fifo_fds = v;

	fd = open(lx_rst_host_path(rs, f->path, host, sizeof(host)),
		  O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open fifo %s", f->path);
	v[rs->n_fifo_fds++] = fd;
	if (f->data.len && write(fd, f->data.data, f->data.len) != (ssize_t)f->data.len)
		return ferry_error_errno(err, "refill fifo %s", f->path);
	return 0;
}

/* What the tracee opens for f: a path into buf (*own -1), or ferry's fd *own; returns 0 or -1. */
static int fd_source(struct lx_rst *rs, const struct cr_fd *f, char *buf, size_t size, int *own,
		     ferry_err_t *err)
{
	*own = -1;
	if (f->inherit) {
		*own = (int)f->inherit_fd;
		return 0;
	}
	switch (f->kind) {
	case CR_FD_REG:
	case CR_FD_DIR:
	case CR_FD_CHR:
		snprintf(buf, size, "%s", f->path);
		return 0;
	case CR_FD_FIFO:
		snprintf(buf, size, "%s", f->path);
		return fifo_hold(rs, f, err);
	case CR_FD_PIPE:
		*own = pipe_fd(rs, f, err);
		break;
	case CR_FD_DELETED:
		*own = ghost_fd(rs, f, err);
		break;
	case CR_FD_MEMFD:
		for (size_t i = 0; i < rs->img->n_shm; i++)
			if (rs->img->shm[i].id == f->id)
				*own = rs->shm_fds[i];
		if (*own < 0)
			return ferry_error(err, ENOENT, "memfd object %llu",
					   (unsigned long long)f->id);
		break;
	default:
		return ferry_error(err, ENOTSUP, "this kind of file (%d) is not restored yet",
				   (int)f->kind);
	}
	return *own < 0 ? -1 : 0;
}

/* An object made by lx_rst_fd_make, moved to its number with its close-on-exec and status
 * flags; returns 0 or -1. */
static int special_restore(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_fd *f,
			   ferry_err_t *err)
{
	int64_t fd = lx_rst_fd_make(rs, rp, f, err);

	if (fd < 0)
		return -1;
	if (fd != f->fd) {
		if (rcall(rp, SYS_dup3, (uint64_t)fd, (uint64_t)f->fd, f->cloexec ? O_CLOEXEC : 0,
			  err) < 0 ||
		    rcall(rp, SYS_close, (uint64_t)fd, 0, 0, err) < 0)
			return -1;
	} else if (!f->cloexec && rcall(rp, SYS_fcntl, (uint64_t)fd, F_SETFD, 0, err) < 0) {
		return -1;
	}
	if (rcall(rp, SYS_fcntl, (uint64_t)f->fd, F_SETFL, f->flags, err) < 0)
		return ferry_error_wrap(err, "status flags");
	return 0;
}

/* The flags of an open file handed over rather than opened again (it came close-on-exec and with
 * ferry's status flags; the caller's own stdio keeps its status flags). Returns 0 or -1. */
static int handed_flags(struct lx_rst_proc *rp, const struct cr_fd *f, int64_t fd, ferry_err_t *err)
{
	if (fd == f->fd && !f->cloexec &&
	    rcall(rp, SYS_fcntl, (uint64_t)f->fd, F_SETFD, 0, err) < 0)
		return -1;
	if (!f->inherit && rcall(rp, SYS_fcntl, (uint64_t)f->fd, F_SETFL, f->flags, err) < 0)
		return ferry_error_wrap(err, "status flags");
	return 0;
}

/* An fd opened again from ferry's (or handed over), moved to its number with its flags and
 * offset; returns 0 or -1. */
static int own_restore(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_fd *f, int own,
		       uint64_t flags, ferry_err_t *err)
{
	bool given = false;
	int64_t fd = lx_rst_open_own(rs, rp, own, flags, &given, err);

	if (fd < 0)
		return -1;
	if (fd != f->fd) {
		if (rcall(rp, SYS_dup3, (uint64_t)fd, (uint64_t)f->fd, f->cloexec ? O_CLOEXEC : 0,
			  err) < 0 ||
		    rcall(rp, SYS_close, (uint64_t)fd, 0, 0, err) < 0)
			return -1;
	}
	if (given && handed_flags(rp, f, fd, err) < 0)
		return -1;
	if (seeks(f) && rcall(rp, SYS_lseek, (uint64_t)f->fd, f->offset, SEEK_SET, err) < 0)
		return -1;
	return 0;
}

/* Opens one fd at its number with its flags and offset, queued when it has a path; returns 0 or
 * -1. What was queued before and fails here names its own fd. */
static int fd_restore(struct lx_rst *rs, struct lx_rst_proc *rp, struct fdtab *t,
		      const struct cr_fd *f, ferry_err_t *err)
{
	char path[PATH_MAX + 32];
	uint64_t flags = (f->flags & ~(uint32_t)STRIP_FLAGS) | (f->cloexec ? O_CLOEXEC : 0);
	bool special = lx_rst_fd_special(f);
	int own = -1;

	if (f->fd < 0)
		return ferry_error(err, EBADF, "fd %d", f->fd);
	if (!special && fd_source(rs, f, path, sizeof(path), &own, err) < 0)
		return ferry_error_wrap(err, "fd %d", f->fd);
	if (!special && own < 0) {
		if (queue_open(rp, t, f, path, flags, err) < 0)
			return -1;
	} else {
		/* remote syscalls, which run the queue first: flushed here, it names its own fd */
		if (lx_rbatch_flush(rp->r.tid, err) < 0)
			return -1;
		if ((special ? special_restore(rs, rp, f, err)
			     : own_restore(rs, rp, f, own, flags, err)) < 0)
			return ferry_error_wrap(err, "fd %d", f->fd);
	}
	return take(t, f->fd, err);
}

int lx_rst_files(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	__attribute__((cleanup(fdtab_free))) struct fdtab t = {0};

	/* The copy's own fds go first (those passing ferry's fds last, which it keeps). */
	if (lx_rst_fdpass_close_others(rs, rp, err) < 0 ||
	    (rs->pass_fd >= 0 && (take(&t, rs->pass_fd, err) < 0 || take(&t, rs->procfd, err) < 0)))
		return -1;
	for (size_t i = 0; i < rp->p->n_fds; i++)
		if (fd_restore(rs, rp, &t, &rp->p->fds[i], err) < 0)
			return -1;
	if (opens_check(rp, &t, err) < 0 || lx_rst_fd_epoll(rs, rp, err) < 0 ||
	    lx_rst_fdpass_end(rs, rp, err) < 0)
		return -1;
	return lx_rbatch_flush(rp->r.tid, err);
}

// SPDX-License-Identifier: Apache-2.0
/* A process's file descriptors from /proc/PID/fd and fdinfo: regular files, deleted-but-open
 * files (their contents as a ghost), directories, character devices, pipes and FIFOs with the data
 * in flight; unix sockets and anonymous inodes in dump_fd_sock.c and dump_fd_anon.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"
#include "os/linux/dump_fd.h"
#include "os/linux/tty.h"

#define DELETED_SUFFIX " (deleted)"
#define GHOST_MAX (256ull << 20) /* contents kept in memory while dumping */

static int cmp_fd(const void *a, const void *b)
{
	const struct cr_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* fdinfo: "pos:" (decimal) and "flags:" (octal); a "lock:" line is refused. */
static int read_fdinfo(pid_t pid, int fd, uint64_t *pos, uint32_t *flags, ferry_err_t *err)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long v;
	unsigned int fl;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return ferry_error_errno(err, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pos: %llu", &v) == 1)
			*pos = v;
		else if (sscanf(line, "flags: %o", &fl) == 1)
			*flags = fl;
		else if (!strncmp(line, "lock:", 5))
			/* a lock would be lost without a word (CRIU's --file-locks carries them) */
			return ferry_error(err, ENOTSUP,
					   "holds a file lock (%.*s): not supported yet",
					   (int)strcspn(line + 5 + strspn(line + 5, " \t"), "\n"),
					   line + 5 + strspn(line + 5, " \t"));
	}
	return 0;
}

static int read_ghost(struct cr_ghost *g, const char *path, const struct stat *st, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;

	if (fd < 0)
		return ferry_error_errno(err, "open");
	if ((uint64_t)st->st_size > GHOST_MAX)
		return ferry_error(err, EFBIG, "%lld bytes: larger than %llu MiB",
				   (long long)st->st_size, GHOST_MAX >> 20);
	g->data.data = malloc(st->st_size ? (size_t)st->st_size : 1);
	if (!g->data.data)
		return ferry_error(err, ENOMEM, "contents");
	while (done < (size_t)st->st_size) {
		ssize_t r = pread(fd, g->data.data + done, (size_t)st->st_size - done, (off_t)done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ferry_error_errno(err, "read");
		if (r == 0)
			break;
		done += (size_t)r;
	}
	g->data.len = done;
	g->mode = st->st_mode;
	return 0;
}

/* The ghost of a deleted file (one per file in the image); sets *id. Returns 0 or -1. */
static int ghost_of(struct lx_dump_ctx *ctx, const char *path, const struct stat *st, uint64_t *id,
		    ferry_err_t *err)
{
	struct cr_image *img = ctx->img;
	struct cr_ghost *g;
	uint64_t *dv, *in;

	for (size_t i = 0; i < img->n_ghosts; i++)
		if (ctx->ghost_dev[i] == st->st_dev && ctx->ghost_ino[i] == st->st_ino) {
			*id = img->ghosts[i].id;
			return 0;
		}
	g = realloc(img->ghosts, (img->n_ghosts + 1) * sizeof(*g));
	if (g)
		img->ghosts = g;
	dv = realloc(ctx->ghost_dev, (img->n_ghosts + 1) * sizeof(*dv));
	if (dv)
		ctx->ghost_dev = dv;
	in = realloc(ctx->ghost_ino, (img->n_ghosts + 1) * sizeof(*in));
	if (in)
		ctx->ghost_ino = in;
	if (!g || !dv || !in)
		return ferry_error(err, ENOMEM, "ghost");
	g = &img->ghosts[img->n_ghosts];
	*g = (struct cr_ghost){.id = img->n_ghosts + 1};
	if (read_ghost(g, path, st, err) < 0) {
		free(g->data.data);
		return -1;
	}
	ctx->ghost_dev[img->n_ghosts] = st->st_dev;
	ctx->ghost_ino[img->n_ghosts] = st->st_ino;
	*id = g->id;
	img->n_ghosts++;
	return 0;
}

int lx_dump_take_fd(pid_t pid, int fd, ferry_err_t *err)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int own;

	if (pidfd < 0)
		return ferry_error_errno(err, "pidfd_open %d", pid);
	own = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (own < 0)
		return ferry_error_errno(err, "pidfd_getfd %d of %d", fd, pid);
	return own;
}

bool lx_dump_fd_seen(const struct cr_image *img, const struct cr_fd *f)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *o = &img->procs[i].fds[k];

			if (o == f)
				return false;
			if (o->kind == f->kind && o->id == f->id)
				return true;
		}
	return false;
}

/* The bytes in flight in the pipe of fd, copied without consuming them: tee(2) from a reader of
 * the pipe (opened again through /proc) into a pipe of ferry as large, then read from there.
 * Returns 0 or -1. */
static int pipe_data(pid_t pid, struct cr_fd *f, ferry_err_t *err)
{
	char path[64];
	_cleanup_close_ int in = -1, t0 = -1, t1 = -1;
	int t[2], unread = 0, size;
	ssize_t n;
	size_t done = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, f->fd);
	in = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0 || ioctl(in, FIONREAD, &unread) < 0)
		return ferry_error_errno(err, "%s", path);
	if (unread <= 0)
		return 0;
	size = fcntl(in, F_GETPIPE_SZ);
	if (size < 0 || pipe2(t, O_CLOEXEC | O_NONBLOCK) < 0)
		return ferry_error_errno(err, "pipe");
	t0 = t[0], t1 = t[1];
	if (fcntl(t1, F_SETPIPE_SZ, size) < 0)
		return ferry_error_errno(err, "pipe of %d bytes", size);
	n = tee(in, t1, (size_t)unread, SPLICE_F_NONBLOCK);
	if (n != unread)
		return n < 0 ? ferry_error_errno(err, "tee %d bytes", unread)
			     : ferry_error(err, EIO, "tee copied %zd of %d bytes", n, unread);
	f->data.data = malloc((size_t)unread);
	if (!f->data.data)
		return ferry_error(err, ENOMEM, "%d bytes in the pipe", unread);
	while (done < (size_t)unread) {
		n = read(t0, f->data.data + done, (size_t)unread - done);
		if (n <= 0)
			return ferry_error_errno(err, "read the pipe's copy");
		done += (size_t)n;
	}
	f->data.len = done;
	return 0;
}

/* A pipe or FIFO; the data in flight goes with the first fd of the pipe. Returns 0 or -1. */
static int classify_pipe(struct lx_dump_ctx *ctx, pid_t pid, struct cr_fd *f, const char *link,
			 const struct stat *st, ferry_err_t *err)
{
	f->kind = link[0] == '/' ? CR_FD_FIFO : CR_FD_PIPE;
	f->id = st->st_ino;
	f->write_end = (f->flags & O_ACCMODE) == O_WRONLY;
	f->offset = 0;
	if (f->kind == CR_FD_FIFO && !(f->path = strdup(link)))
		return ferry_error(err, ENOMEM, "%s", link);
	if (lx_dump_fd_seen(ctx->img, f))
		return 0;
	if (pipe_data(pid, f, err) < 0)
		return ferry_error_wrap(err, "%s: data in flight", link);
	return 0;
}

/* Classifies fd by its link target and stat; returns 0 or -1 (unsupported kinds included). */
static int classify(struct lx_dump_ctx *ctx, struct lx_scratch *s, pid_t pid, struct cr_fd *f,
		    char *link, const char *path, const struct stat *st, ferry_err_t *err)
{
	size_t len = strlen(link), sl = strlen(DELETED_SUFFIX);
	bool deleted = len > sl && !strcmp(link + len - sl, DELETED_SUFFIX);

	f->mode = st->st_mode;
	if (S_ISFIFO(st->st_mode))
		return classify_pipe(ctx, pid, f, link, st, err);
	if (S_ISSOCK(st->st_mode))
		return lx_dump_fd_sock(ctx, pid, f, st->st_ino, err);
	if (!strncmp(link, "anon_inode:", 11))
		return lx_dump_fd_anon(pid, f, link, err);
	if (link[0] != '/' || !strncmp(link, "/memfd:", 7) ||
	    !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISCHR(st->st_mode)))
		return ferry_error(err, ENOTSUP, "%s: not supported yet", link);
	if (deleted) {
		if (!S_ISREG(st->st_mode))
			return ferry_error(err, ENOTSUP, "%s: not supported yet", link);
		link[len - sl] = 0;
		f->kind = CR_FD_DELETED;
		if (ghost_of(ctx, path, st, &f->id, err) < 0)
			return ferry_error_wrap(err, "%s (deleted)", link);
	} else {
		f->kind = S_ISREG(st->st_mode)	 ? CR_FD_REG
			  : S_ISDIR(st->st_mode) ? CR_FD_DIR
						 : CR_FD_CHR;
	}
	f->rdev = S_ISCHR(st->st_mode) ? st->st_rdev : 0;
	if (f->kind == CR_FD_CHR && lx_tty_record(path, f, err) < 0)
		return -1;
	f->path = strdup(link);
	return f->path ? 0 : ferry_error(err, ENOMEM, "%s", link);
}

static int dump_fd(struct lx_dump_ctx *ctx, struct lx_scratch *s, pid_t pid, struct cr_fd *f,
		   ferry_err_t *err)
{
	char path[64], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, f->fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return ferry_error_errno(err, "fd %d", f->fd);
	link[n] = 0;
	if (stat(path, &st) < 0)
		return ferry_error_errno(err, "fd %d: %s", f->fd, link);
	if (read_fdinfo(pid, f->fd, &f->offset, &f->flags, err) < 0)
		return ferry_error_wrap(err, "fd %d", f->fd);
	f->cloexec = (f->flags & O_CLOEXEC) != 0;
	f->flags &= ~(uint32_t)O_CLOEXEC;
	if (classify(ctx, s, pid, f, link, path, &st, err) < 0)
		return ferry_error_wrap(err, "fd %d", f->fd);
	return 0;
}

/* Lists the fd numbers of pid into p->fds (zeroed entries with ->fd set, sorted). */
static int list_fds(struct cr_process *p, ferry_err_t *err)
{
	char path[64];
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", p->pid);
	dir = opendir(path);
	if (!dir)
		return ferry_error_errno(err, "%s", path);
	while ((d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (p->n_fds == cap) {
			struct cr_fd *v = realloc(p->fds, (cap ? 2 * cap : 16) * sizeof(*v));

			if (!v) {
				closedir(dir);
				return ferry_error(err, ENOMEM, "%s", path);
			}
			p->fds = v, cap = cap ? 2 * cap : 16;
		}
		p->fds[p->n_fds++] = (struct cr_fd){.fd = atoi(d->d_name)};
	}
	closedir(dir);
	if (p->n_fds)
		qsort(p->fds, p->n_fds, sizeof(*p->fds), cmp_fd);
	return 0;
}

int lx_dump_files(struct lx_dump_ctx *ctx, struct lx_scratch *s, struct cr_process *p,
		  ferry_err_t *err)
{
	if (list_fds(p, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_fds; i++)
		if (dump_fd(ctx, s, p->pid, &p->fds[i], err) < 0)
			return ferry_error_wrap(err, "process %d", p->pid);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* A process's file descriptors from /proc/PID/fd and fdinfo: regular files, deleted-but-open
 * files (their contents as a ghost), directories, character devices, pipes and FIFOs. */
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

#define DELETED_SUFFIX " (deleted)"
#define GHOST_MAX (256ull << 20) /* contents kept in memory while dumping */

static int cmp_fd(const void *a, const void *b)
{
	const struct cr_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* fdinfo: "pos:" (decimal) and "flags:" (octal). */
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

/* Bytes in flight in a pipe: FIONREAD run inside the process. Returns them or -1. */
static int64_t pipe_unread(struct lx_scratch *s, int fd, ferry_err_t *err)
{
	uint64_t a[6] = {(uint64_t)fd, FIONREAD, s->addr + CR_PAGE_SIZE - 8};
	int32_t n = 0;

	if (lx_remote_call(&s->r, SYS_ioctl, a, err) < 0 ||
	    lx_remote_read(s->r.pid, s->addr + CR_PAGE_SIZE - 8, &n, sizeof(n), err) < 0)
		return -1;
	return n;
}

/* Classifies fd by its link target and stat; returns 0 or -1 (unsupported kinds included). */
static int classify(struct lx_dump_ctx *ctx, struct lx_scratch *s, pid_t pid, struct cr_fd *f,
		    char *link, const char *path, const struct stat *st, ferry_err_t *err)
{
	size_t len = strlen(link), sl = strlen(DELETED_SUFFIX);
	bool deleted = len > sl && !strcmp(link + len - sl, DELETED_SUFFIX);

	f->mode = st->st_mode;
	if (S_ISFIFO(st->st_mode)) {
		int64_t unread = pipe_unread(s, f->fd, err);

		f->kind = link[0] == '/' ? CR_FD_FIFO : CR_FD_PIPE;
		f->id = st->st_ino;
		f->write_end = (f->flags & O_ACCMODE) == O_WRONLY;
		if (unread < 0)
			return -1;
		if (unread > 0)
			return ferry_error(err, ENOTSUP,
					   "%s: holds %lld unread bytes: not supported yet", link,
					   (long long)unread);
		f->offset = 0;
		return f->kind == CR_FD_FIFO && !(f->path = strdup(link))
			   ? ferry_error(err, ENOMEM, "%s", link)
			   : 0;
	}
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

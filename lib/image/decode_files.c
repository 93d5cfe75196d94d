// SPDX-License-Identifier: Apache-2.0
/* files.img to the model: every fd of every process, checked, then cross references. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "fd.pb-c.h"
#include "image/internal.h"

#define NOMEM(in, err) img_in_error((in), (err), "out of memory")
#define X(v) ((unsigned long long)(v))
#define MAX_FD_DATA (16u << 20)

static bool has_path(enum cr_fd_kind k)
{
	return k == CR_FD_REG || k == CR_FD_DELETED || k == CR_FD_DIR || k == CR_FD_CHR ||
	       k == CR_FD_FIFO;
}

static int dup_bytes(struct img_in *in, struct cr_bytes *b, const ProtobufCBinaryData *d,
		     ferry_err_t *err)
{
	if (d->len > MAX_FD_DATA)
		return img_in_error(in, err, "%zu bytes of data", d->len);
	b->data = malloc(d->len + 1);
	if (!b->data)
		return NOMEM(in, err);
	memcpy(b->data, d->data, d->len);
	b->len = d->len;
	return 0;
}

static int dec_fd_lists(struct img_in *in, struct cr_fd *f, const FerryImg__FdEntry *e,
			ferry_err_t *err)
{
	if (e->n_queue > IMG_MAX_LIST || e->n_targets > IMG_MAX_LIST)
		return img_in_error(in, err, "(fd %d) %zu queued messages, %zu epoll targets",
				    e->fd, e->n_queue, e->n_targets);
	f->unix_sk.queue = calloc(e->n_queue + 1, sizeof(*f->unix_sk.queue));
	f->epoll.targets = calloc(e->n_targets + 1, sizeof(*f->epoll.targets));
	if (!f->unix_sk.queue || !f->epoll.targets)
		return NOMEM(in, err);
	for (size_t i = 0; i < e->n_queue; i++) {
		if (dup_bytes(in, &f->unix_sk.queue[i], &e->queue[i], err) < 0)
			return -1;
		f->unix_sk.n_queue++;
	}
	for (size_t i = 0; i < e->n_targets; i++) {
		const FerryImg__EpollTarget *t = e->targets[i];

		if (t->fd < 0 || t->fd >= IMG_MAX_FD)
			return img_in_error(in, err, "(fd %d) epoll target fd %d out of range",
					    e->fd, t->fd);
		f->epoll.targets[i] = (struct cr_epoll_target){t->fd, t->events, t->data};
	}
	f->epoll.n_targets = e->n_targets;
	return 0;
}

/* Why a TCP record is wrong, or NULL. */
static const char *tcp_problem(const FerryImg__TcpSocket *m)
{
	size_t alen = m->family == 10 ? 16 : 4;

	if (m->family != 2 && m->family != 10)
		return "family";
	if (m->state != 0 && m->state != 1 && m->state != 10)
		return "state (only ESTABLISHED and LISTEN are carried)";
	if (m->state == 0)
		return NULL;
	if (!m->has_src || m->src.len != alen || (m->has_dst && m->dst.len != alen))
		return "address length";
	if (!m->sport || m->sport > 65535 || m->dport > 65535 || (m->state == 1 && !m->dport))
		return "port";
	if (m->sendq.len > MAX_FD_DATA || m->recvq.len > MAX_FD_DATA || m->unsent > m->sendq.len)
		return "queue size";
	if (m->snd_wscale > 14 || m->rcv_wscale > 14 || m->mss > 65535 || m->options > 7)
		return "options";
	return NULL;
}

/* The TCP record of a CR_FD_TCP fd into t; returns 0 or -1. */
static int dec_tcp(struct img_in *in, struct cr_tcp *t, const FerryImg__FdEntry *e,
		   ferry_err_t *err)
{
	const FerryImg__TcpSocket *m = e->tcp;
	const char *why = m ? tcp_problem(m) : "missing";

	if (why)
		return img_in_error(in, err, "(fd %d) TCP socket: %s", e->fd, why);
	t->family = m->family, t->state = m->state;
	memcpy(t->src, m->src.data, m->src.len);
	if (m->has_dst)
		memcpy(t->dst, m->dst.data, m->dst.len);
	t->sport = m->sport, t->dport = m->dport, t->backlog = m->backlog;
	t->snd_seq = m->snd_seq, t->rcv_seq = m->rcv_seq, t->unsent = m->unsent;
	if (dup_bytes(in, &t->sendq, &m->sendq, err) < 0 ||
	    dup_bytes(in, &t->recvq, &m->recvq, err) < 0)
		return -1;
	t->mss = m->mss, t->snd_wscale = m->snd_wscale, t->rcv_wscale = m->rcv_wscale;
	t->timestamp = m->timestamp, t->options = m->options, t->has_window = m->has_window;
	t->snd_wl1 = m->snd_wl1, t->snd_wnd = m->snd_wnd, t->max_window = m->max_window;
	t->rcv_wnd = m->rcv_wnd, t->rcv_wup = m->rcv_wup;
	t->reuseaddr = m->reuseaddr, t->reuseport = m->reuseport;
	t->keepalive = m->keepalive, t->nodelay = m->nodelay;
	t->keepidle = m->keepidle, t->keepintvl = m->keepintvl, t->keepcnt = m->keepcnt;
	t->rcvbuf = m->rcvbuf, t->sndbuf = m->sndbuf, t->netns_locked = m->netns_locked;
	return 0;
}

static int dec_fd(struct img_in *in, struct cr_fd *f, const FerryImg__FdEntry *e, ferry_err_t *err)
{
	const char *why;

	if (e->fd < 0 || e->fd >= IMG_MAX_FD)
		return img_in_error(in, err, "(process %d fd %d) fd number out of range", e->pid,
				    e->fd);
	if (e->kind < CR_FD_REG || e->kind > CR_FD_KIND_MAX)
		return img_in_error(in, err, "(fd %d) unknown kind %u", e->fd, e->kind);
	if (has_path(e->kind) && !e->path)
		return img_in_error(in, err, "(fd %d) no path", e->fd);
	if (has_path(e->kind) && (why = img_path_problem(e->path)))
		return img_in_error(in, err, "(fd %d) path \"%.200s\": %s", e->fd, e->path, why);
	if (e->path && strlen(e->path) > IMG_MAX_PATH)
		return img_in_error(in, err, "(fd %d) name too long", e->fd);
	if ((e->kind == CR_FD_PIPE || e->kind == CR_FD_FIFO || e->kind == CR_FD_UNIX ||
	     e->kind == CR_FD_DELETED || e->kind == CR_FD_MEMFD || e->kind == CR_FD_TCP) &&
	    (!e->has_id || e->id == 0))
		return img_in_error(in, err, "(fd %d) no object id", e->fd);
	f->fd = e->fd, f->cloexec = e->cloexec, f->kind = e->kind;
	f->flags = e->flags, f->offset = e->offset, f->mode = e->mode;
	f->id = e->has_id ? e->id : 0, f->rdev = e->rdev, f->write_end = e->write_end;
	f->unix_sk.type = e->sock_type, f->unix_sk.peer = e->peer;
	f->unix_sk.shut_rd = e->shut_rd, f->unix_sk.shut_wr = e->shut_wr;
	f->eventfd.counter = e->efd_counter, f->eventfd.flags = e->efd_flags;
	f->timerfd.clock = e->tfd_clock, f->timerfd.settime_flags = e->tfd_settime_flags;
	f->timerfd.ticks = e->tfd_ticks, f->timerfd.interval_ns = e->tfd_interval_ns;
	f->timerfd.value_ns = e->tfd_value_ns;
	f->signalfd_mask = e->sfd_mask;
	if (e->kind == CR_FD_UNIX && e->sock_type != 1 && e->sock_type != 2 && e->sock_type != 5)
		return img_in_error(in, err, "(fd %d) unix socket type %u", e->fd, e->sock_type);
	if (e->path && !(f->path = strdup(e->path)))
		return NOMEM(in, err);
	if (e->has_data && dup_bytes(in, &f->data, &e->data, err) < 0)
		return -1;
	if (e->has_termios && (e->kind != CR_FD_CHR || e->termios.len != CR_TERMIOS_SIZE))
		return img_in_error(in, err, "(fd %d) terminal settings of %zu bytes", e->fd,
				    e->termios.len);
	if (e->has_termios && dup_bytes(in, &f->termios, &e->termios, err) < 0)
		return -1;
	if (e->tcp && e->kind != CR_FD_TCP)
		return img_in_error(in, err, "(fd %d) TCP state on another kind of file", e->fd);
	if (e->kind == CR_FD_TCP && dec_tcp(in, &f->tcp, e, err) < 0)
		return -1;
	return dec_fd_lists(in, f, e, err);
}

static int add_fd(struct img_in *in, struct cr_image *img, const FerryImg__FdEntry *e,
		  ferry_err_t *err)
{
	struct cr_process *p = cr_image_find_process(img, e->pid);
	struct cr_fd *f;

	if (!p)
		return img_in_error(in, err, "(fd %d) process %d is not in the tree", e->fd,
				    e->pid);
	for (size_t i = 0; i < p->n_fds; i++)
		if (p->fds[i].fd == e->fd)
			return img_in_error(in, err, "(process %d fd %d) fd appears twice", e->pid,
					    e->fd);
	if (p->n_fds == IMG_MAX_FD)
		return img_in_error(in, err, "too many fds");
	f = realloc(p->fds, (p->n_fds + 1) * sizeof(*f));
	if (!f)
		return NOMEM(in, err);
	p->fds = f;
	f = &p->fds[p->n_fds++];
	memset(f, 0, sizeof(*f));
	return dec_fd(in, f, e, err);
}

static int cmp_fd(const void *a, const void *b)
{
	const struct cr_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

static bool ghost_exists(const struct cr_image *img, uint64_t id)
{
	for (size_t i = 0; i < img->n_ghosts; i++)
		if (img->ghosts[i].id == id)
			return true;
	return false;
}

static bool shm_exists(const struct cr_image *img, uint64_t id, enum cr_shm_kind kind)
{
	for (size_t i = 0; i < img->n_shm; i++)
		if (img->shm[i].id == id && (!kind || img->shm[i].kind == kind))
			return true;
	return false;
}

/* The objects an fd names exist: its ghost, memfd object, unix peer. */
static int check_refs(const char *name, const struct cr_image *img, const struct cr_process *p,
		      const struct cr_fd *f, ferry_err_t *err)
{
	const char *what = NULL;

	if (f->kind == CR_FD_DELETED && !ghost_exists(img, f->id))
		what = "its contents (ghost-<id>.img)";
	else if (f->kind == CR_FD_MEMFD && !shm_exists(img, f->id, CR_SHM_MEMFD))
		what = "its memfd object (shm.img)";
	else if (f->kind == CR_FD_UNIX && f->unix_sk.peer &&
		 !cr_image_has_socket(img, f->unix_sk.peer))
		what = "its peer socket";
	if (what)
		return ferry_error(err, 0, "%s: process %d fd %d: %s is not in the image", name,
				   p->pid, f->fd, what);
	return 0;
}

int dec_files(struct img_in *in, struct cr_image *img, ferry_err_t *err)
{
	int r;

	for (;;) {
		_cleanup_pb_ FerryImg__FdEntry *e = NULL;

		r = img_in_next(in, &ferry_img__fd_entry__descriptor, (void *)&e, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		if (add_fd(in, img, e, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < img->n_procs; i++) {
		struct cr_process *p = &img->procs[i];

		qsort(p->fds, p->n_fds, sizeof(*p->fds), cmp_fd);
		for (size_t k = 0; k < p->n_fds; k++)
			if (check_refs(in->name, img, p, &p->fds[k], err) < 0)
				return -1;
	}
	return 0;
}

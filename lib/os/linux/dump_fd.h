/* SPDX-License-Identifier: Apache-2.0 */
/* Dumping the file kinds that have no path: unix socket pairs (dump_fd_sock.c) and anonymous
 * inodes, eventfd, epoll, timerfd and signalfd (dump_fd_anon.c). Called from dump_files.c with
 * the process seized. */
#ifndef LX_DUMP_FD_H
#define LX_DUMP_FD_H

#include <stdbool.h>
#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"

struct lx_dump_ctx;

/* A copy in ferry of fd of process pid (pidfd_getfd, close-on-exec); returns it or -1. */
int lx_dump_take_fd(pid_t pid, int fd, ferry_err_t *err);

/* Whether an fd dumped before f in img (processes img->procs[0 .. n_procs), the last one being
 * the current) names the same object (kind and id) as f. */
bool lx_dump_fd_seen(const struct cr_image *img, const struct cr_fd *f);

/* Fills f for the socket fd f->fd of pid, inode ino: a unix socket pair (CR_FD_UNIX: type, peer,
 * shutdown state and, unless an fd of the same socket came before, the queued messages read
 * without consuming them) or a TCP socket (CR_FD_TCP, lx_dump_net_tcp). Refuses other families,
 * named, listening and unconnected unix sockets. Returns 0 or -1. */
int lx_dump_fd_sock(struct lx_dump_ctx *ctx, pid_t pid, struct cr_fd *f, uint64_t ino,
		    ferry_err_t *err);

/* Fills f (CR_FD_TCP) from *sk, ferry's copy of TCP socket ino (dump_net.c): a listener, or, with
 * req->tcp_established, a connection locked and put in repair mode, *sk then kept (set to -1)
 * until lx_dump_net_finish. An established connection without the flag is refused naming it.
 * Returns 0 or -1. */
int lx_dump_net_tcp(struct lx_dump_ctx *ctx, struct cr_fd *f, uint64_t ino, int *sk,
		    ferry_err_t *err);

/* Fills f for an anonymous inode whose link is "anon_inode:[NAME]" from /proc/PID/fdinfo:
 * eventfd, eventpoll, timerfd, signalfd; refuses other names. Returns 0 or -1. */
int lx_dump_fd_anon(pid_t pid, struct cr_fd *f, const char *link, ferry_err_t *err);

#endif

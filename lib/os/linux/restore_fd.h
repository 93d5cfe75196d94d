/* SPDX-License-Identifier: Apache-2.0 */
/* Restore of the file kinds without a path (restore_fd_special.c): unix socket pairs are made and
 * filled once in ferry and taken by each tracee with a remote pidfd_getfd; eventfd, timerfd,
 * signalfd and epoll are created by remote syscalls, epoll's watched set once every fd of the
 * process is in place. */
#ifndef LX_RESTORE_FD_H
#define LX_RESTORE_FD_H

#include <stdbool.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "os/linux/restore.h"

/* Whether f is of a kind lx_rst_fd_make creates. */
bool lx_rst_fd_special(const struct cr_fd *f);

/* Creates the object of f in rp (at whatever number the kernel picks, close-on-exec); returns
 * that fd in rp or -1. */
int64_t lx_rst_fd_make(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_fd *f,
		       ferry_err_t *err);

/* Adds the watched fds of every epoll fd of rp; returns 0 or -1. */
int lx_rst_fd_epoll(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

#endif

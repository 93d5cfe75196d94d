/* SPDX-License-Identifier: Apache-2.0 */
/* Small facts about processes from /proc, and descriptor hygiene before exec. */
#ifndef LX_PROC_H
#define LX_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "ferry/error.h"

/* Returns the start time of pid (clock ticks since boot), or 0 when it is gone or a zombie. */
unsigned long long lx_proc_start_time(pid_t pid);

/* Returns the seccomp mode of thread tid of pid (0 none, 1 strict, 2 filter), or -1 when its
 * /proc status does not show one. */
int lx_proc_seccomp_mode(pid_t pid, pid_t tid);

/* Closes every descriptor >= from except the `n` listed in keep; returns 0 or -1. */
int lx_close_fds_from(int from, const int *keep, size_t n);

/* Closes the close-on-exec descriptors in [from, to): in the preserved range they are the
 * runtime's own, not the caller's. */
void lx_close_cloexec_range(int from, int to);

/* Moves fd to a number >= min (close-on-exec) unless it is there already; returns the fd or -1. */
int lx_fd_move_above(int fd, int min);

/* Marks every descriptor >= from close-on-exec; returns 0 or -1. */
int lx_cloexec_from(int from);

/* Clones a child that shares the caller's parent (CLONE_PARENT), fork-style: returns 0 in the
 * child, the child's pid in the caller, -1 on failure. */
pid_t lx_clone_parent(void);

/* Finds args[0] in PATH (from env, or the default PATH); returns a new string or NULL. */
char *lx_find_executable(const char *name, char *const *env, ferry_err_t *err);

#endif

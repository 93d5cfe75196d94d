/* SPDX-License-Identifier: Apache-2.0 */
/* Making a container's init (create) and joining a running container (exec). */
#ifndef LX_SPAWN_H
#define LX_SPAWN_H

#include "os/os.h"

/* The runtime side of create; returns the init's pid or -1. */
pid_t lx_create(const struct os_create_req *req, int *console_fd, ferry_err_t *err);

/* The container's init, forked by stage 1: sets the container up, waits for start, execs. */
void lx_init_main(const struct os_create_req *req, int sock) __attribute__((noreturn));

/* The runtime side of exec; returns the new process's pid or -1. */
pid_t lx_exec(const struct os_exec_req *req, int *console_fd, ferry_err_t *err);

/* The last steps of every container process: privileges, seccomp, fds, execve. Never returns;
 * on failure it reports err to the sync socket (when sock >= 0) or stderr and exits 127. */
struct lx_seccomp;
void lx_exec_process(const struct ferry_process *proc, const char *path,
		     struct lx_seccomp *filter, int preserve_fds, int sock)
	__attribute__((noreturn));

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The container's terminal: a pty made inside the container, its master handed to the caller
 * through a console socket (SCM_RIGHTS, as runc does) or kept by a foreground `run`. */
#ifndef LX_CONSOLE_H
#define LX_CONSOLE_H

#include <stdbool.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* In the container: opens a pty from /dev/ptmx, sizes it, makes its slave the controlling
 * terminal and stdio (bind-mounted over /dev/console when bind_console). Returns the master fd. */
int lx_console_setup(const struct ferry_process *proc, bool bind_console, ferry_err_t *err);

/* Sends the master to the unix socket at path, with its name as payload; returns 0 or -1. */
int lx_console_send(const char *socket_path, int master, ferry_err_t *err);

#endif

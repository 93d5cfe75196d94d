/* SPDX-License-Identifier: Apache-2.0 */
/* Terminal settings of a checkpointed tree: read at dump, applied to the restoring terminal. */
#ifndef LX_TTY_H
#define LX_TTY_H

#include "cr/model.h"
#include "ferry/error.h"

/* Records in f->termios the settings of the terminal at path (a /proc/PID/fd/N link); returns 1
 * when it is a terminal, 0 when it is not, -1 on error. */
int lx_tty_record(const char *path, struct cr_fd *f, ferry_err_t *err);

/* Applies the first terminal settings recorded in img to the terminal its fd is opened on (after
 * --shell-job the caller's), SIGTTOU ignored meanwhile; returns 0 (also when none) or -1. */
int lx_tty_apply(const struct cr_image *img, ferry_err_t *err);

#endif

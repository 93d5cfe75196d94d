/* SPDX-License-Identifier: Apache-2.0 */
/* Working in the IPC namespace of a tree being dumped or restored. */
#ifndef LX_IPCNS_H
#define LX_IPCNS_H

#include <sys/types.h>

#include "ferry/error.h"

/* Enters the IPC namespace of pid when it is not ferry's; *saved gets ferry's (-1 when nothing
 * changed). Returns 0 or -1. */
int lx_ipcns_enter(pid_t pid, int *saved, ferry_err_t *err);

/* Goes back to the namespace saved by lx_ipcns_enter (-1: nothing to do). */
void lx_ipcns_leave(int saved);

#endif

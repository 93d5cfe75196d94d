/* SPDX-License-Identifier: Apache-2.0 */
/* The SysV semaphore sets and message queues of a container's own IPC namespace. */
#ifndef LX_CONTAINER_SYSV_H
#define LX_CONTAINER_SYSV_H

#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"

/* The most message bytes a queue may hold to be carried (container.img's bound). */
#define LX_SYSV_MAX_QUEUE_BYTES (32u << 20)

/* Reads the semaphore sets (values) and message queues (messages, not removed) of init's IPC
 * namespace into c; returns 0 or -1 (a queue holding more than LX_SYSV_MAX_QUEUE_BYTES). */
int lx_sysv_collect(pid_t init, struct cr_container *c, ferry_err_t *err);

/* Makes c's semaphore sets and message queues again in init's (fresh) IPC namespace, each with
 * its id, key, owner, mode, values or messages; returns 0 or -1. */
int lx_sysv_prepare(pid_t init, const struct cr_container *c, ferry_err_t *err);

#endif

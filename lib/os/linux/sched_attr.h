/* SPDX-License-Identifier: Apache-2.0 */
/* A thread's scheduling read and set through its tid (sched_attr.c). */
#ifndef LX_SCHED_ATTR_H
#define LX_SCHED_ATTR_H

#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"

/* Reads thread tid's scheduling into *s; returns 0 or -1. */
int lx_sched_get(pid_t tid, struct cr_sched *s, ferry_err_t *err);

/* Gives thread tid the scheduling *s; returns 0 or -1. */
int lx_sched_set(pid_t tid, const struct cr_sched *s, ferry_err_t *err);

#endif

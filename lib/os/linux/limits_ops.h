/* SPDX-License-Identifier: Apache-2.0 */
/* The resource-limit entries of the backend table (see struct os_ops). */
#ifndef LX_LIMITS_OPS_H
#define LX_LIMITS_OPS_H

#include "ferry/error.h"
#include "ferry/spec.h"

/* os_ops.limits_apply; returns 0 or -1. */
int lx_ops_limits_apply(const char *cgroup, const char *json, const struct ferry_spec *spec,
			char **warnings, ferry_err_t *err);

/* os_ops.limits_read; returns a new JSON string or NULL. */
char *lx_ops_limits_read(const char *cgroup, ferry_err_t *err);

/* os_ops.oom_count; returns 0 or -1. */
int lx_ops_oom_count(const char *cgroup, unsigned long long *count, ferry_err_t *err);

#endif

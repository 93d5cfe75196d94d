/* SPDX-License-Identifier: Apache-2.0 */
/* Resource limits on a container's cgroup: apply the model, read it back live, read stats. */
#ifndef LX_CGROUP_LIMITS_H
#define LX_CGROUP_LIMITS_H

#include <stdint.h>

#include "ferry/error.h"
#include "limits/limits.h"

/* Writes every value set in r into the cgroup at path (lx_cgroup_create made it), on v1, hybrid
 * (the v1 controllers) or v2 (files, and an eBPF BPF_CGROUP_DEVICE program for r->devices).
 * Orders memory and memory+swap so that raising and lowering both work. A file the kernel lacks
 * (e.g. blkio throttling, hugetlb sizes) adds a warning instead of failing; a value the kernel
 * refuses is an error naming the setting and the file. Returns 0 or -1. */
int lx_limits_apply(const char *path, const struct lim_resources *r, struct lim_warnings *warn,
		    ferry_err_t *err);

/* Reads the live limits of the cgroup into *out; returns 0 or -1. */
int lx_limits_read(const char *path, struct lim_resources *out, ferry_err_t *err);

/* Returns runc's `events --stats` "data" JSON for the cgroup (new string), or NULL with *err. */
char *lx_limits_stats(const char *path, ferry_err_t *err);

/* Sets *count to the number of OOM kills in the cgroup so far (v1 memory.oom_control oom_kill,
 * v2 memory.events oom_kill); returns 0 or -1. */
int lx_limits_oom_count(const char *path, uint64_t *count, ferry_err_t *err);

#endif

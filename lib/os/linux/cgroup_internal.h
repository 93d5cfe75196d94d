/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the cgroup module shared by cgroup.c, cgroup_v1.c, cgroup_v2.c and its tests. */
#ifndef LX_CGROUP_INTERNAL_H
#define LX_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "ferry/error.h"

/* One mounted hierarchy, found in /proc/self/mountinfo. */
struct lx_cg_hier {
	char *mnt;  /* mount point */
	char *root; /* root of the mount inside the hierarchy ("/" unless bind-mounted) */
	char *opts; /* super options: the v1 controllers ("rw,cpu,cpuacct", "rw,name=systemd") */
	dev_t dev;  /* identifies the hierarchy: the same one mounted twice is listed once */
	bool v2;    /* cgroup2 */
};

struct lx_cg_hiers {
	struct lx_cg_hier *h;
	size_t n;
};

/* Parses mountinfo text into the cgroup hierarchies it mounts; returns 0 or -1. */
int lx_cg_parse_mountinfo(FILE *f, struct lx_cg_hiers *out, ferry_err_t *err);

/* Discovers the hierarchies from /proc/self/mountinfo; returns 0 or -1 (none mounted). */
int lx_cg_discover(struct lx_cg_hiers *out, ferry_err_t *err);

/* Frees what lx_cg_parse_mountinfo filled in; accepts an empty set. */
void lx_cg_hiers_free(struct lx_cg_hiers *hs);

/* Returns the enum lx_cgroup_layout of a set of hierarchies, or -1 when it is empty. */
int lx_cg_layout_of(const struct lx_cg_hiers *hs);

/* Returns true when the hierarchy's super options include name ("freezer", "name=systemd"). */
bool lx_cg_has_option(const struct lx_cg_hier *h, const char *name);

/* Returns the directory of cgroup path in hierarchy h (malloc'd), or NULL on ENOMEM. */
char *lx_cg_dir(const struct lx_cg_hier *h, const char *path);

/* Finds the calling process's cgroup in /proc/self/cgroup text (v1: the memory entry or the first;
 * v2_only: the "0::" entry). Returns a new string or NULL. */
char *lx_cg_parse_self(const char *text, bool v2_only, ferry_err_t *err);

/* Reads dir/file whole; returns a new NUL-terminated string or NULL (errnum from errno). */
char *lx_cg_read(const char *dir, const char *file, ferry_err_t *err);

/* Like lx_cg_read, but a missing cgroup or file returns NULL with *missing set and *err untouched.
 */
char *lx_cg_read_opt(const char *dir, const char *file, bool *missing, ferry_err_t *err);

/* Writes value to dir/file in one write; returns 0 or -1. */
int lx_cg_write(const char *dir, const char *file, const char *value, ferry_err_t *err);

/* Returns the monotonic clock in milliseconds. */
long long lx_cg_now_ms(void);

/* v1: copies cpuset.cpus and cpuset.mems from the parent of dir when dir's are empty; 0 or -1. */
int lx_cgv1_copy_cpuset(const char *dir, bool noprefix, ferry_err_t *err);

/* v1: writes freezer.state and waits until it reads back; returns 0 or -1. */
int lx_cgv1_freeze(const char *dir, bool frozen, ferry_err_t *err);

/* v1: sets *frozen from freezer.state (missing cgroup: false); returns 0 or -1. */
int lx_cgv1_frozen(const char *dir, bool *frozen, ferry_err_t *err);

/* v2: enables every controller of dir's cgroup.controllers in its subtree_control, ignoring
 * failures (some cannot be enabled). */
void lx_cgv2_enable_controllers(const char *dir);

/* v2: writes cgroup.freeze and waits for "frozen 0|1" in cgroup.events; returns 0 or -1. */
int lx_cgv2_freeze(const char *dir, bool frozen, ferry_err_t *err);

/* v2: sets *frozen from cgroup.events (missing cgroup: false); returns 0 or -1. */
int lx_cgv2_frozen(const char *dir, bool *frozen, ferry_err_t *err);

/* v2: SIGKILLs the cgroup's subtree through cgroup.kill; returns 1 done, 0 unsupported, -1 error.
 */
int lx_cgv2_kill(const char *dir, ferry_err_t *err);

#endif

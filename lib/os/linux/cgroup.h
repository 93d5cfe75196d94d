/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container cgroups on cgroup v1, v2 and hybrid hosts. A container's cgroup is named by one
 * string, `path`, as stored in the container's state: an absolute path inside every hierarchy
 * ("/ferry/abc"). lx_cgroup_resolve turns the config's cgroupsPath into that string.
 */
#ifndef LX_CGROUP_H
#define LX_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "ferry/error.h"

enum lx_cgroup_layout {
	LX_CGROUP_V1,     /* only v1 hierarchies */
	LX_CGROUP_HYBRID, /* v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified) */
	LX_CGROUP_V2,     /* unified only */
};

/* Returns the host's layout, or -1 with *err when no cgroup filesystem is mounted. */
int lx_cgroup_layout(ferry_err_t *err);

/*
 * Resolves a config cgroupsPath (absolute, relative to the calling process's own cgroup, or NULL
 * for the default "/ferry/<id>") into the absolute path stored in state. Refuses a path with a ".."
 * component or that is not normalised. Returns a new string or NULL.
 */
char *lx_cgroup_resolve(const char *cgroups_path, const char *id, ferry_err_t *err);

/* Creates the cgroup in every hierarchy (v2: enables the parent's controllers). Returns 0 or -1. */
int lx_cgroup_create(const char *path, ferry_err_t *err);

/* Moves pid into the cgroup in every hierarchy; returns 0 or -1. */
int lx_cgroup_enter(const char *path, pid_t pid, ferry_err_t *err);

/* Lists the pids in the cgroup (v1: freezer or first hierarchy; v2: cgroup.procs), recursively
 * including child cgroups. *pids is malloc'd. Returns 0 or -1. */
int lx_cgroup_pids(const char *path, pid_t **pids, size_t *n, ferry_err_t *err);

/* Freezes (true) or thaws (false) and waits until the state is reached; returns 0 or -1. */
int lx_cgroup_freeze(const char *path, bool frozen, ferry_err_t *err);

/* Sets *frozen from the freezer state; a missing cgroup reads as not frozen. Returns 0 or -1. */
int lx_cgroup_frozen(const char *path, bool *frozen, ferry_err_t *err);

/* Sends sig to every process in the cgroup; returns 0 or -1. */
int lx_cgroup_kill(const char *path, int sig, ferry_err_t *err);

/* Removes the cgroup from every hierarchy (children first, retrying briefly while busy); a
 * cgroup that is already gone is not an error. Returns 0 or -1. */
int lx_cgroup_destroy(const char *path, ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Linux namespaces of a container: which to create, which to join, the id maps and time offsets. */
#ifndef LX_NAMESPACES_H
#define LX_NAMESPACES_H

#include <stdbool.h>
#include <sys/types.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* Returns the CLONE_NEW* flag of a namespace type. */
int lx_ns_flag(enum ferry_ns_type type);

/* Returns the /proc/PID/ns/ entry name of a namespace type ("net", "mnt", ...). */
const char *lx_ns_proc_name(enum ferry_ns_type type);

/* Returns the CLONE_NEW* flags of the namespaces the spec asks to create. */
int lx_ns_new_flags(const struct ferry_spec *spec);

/* Checks the namespaces: a mount namespace is required, paths to join must be namespaces of the
 * right type, a new user namespace needs uid and gid mappings. Returns 0 or -1. */
int lx_ns_validate(const struct ferry_spec *spec, ferry_err_t *err);

/* Joins every namespace given by path (the user namespace first); returns 0 or -1. */
int lx_ns_join_paths(const struct ferry_spec *spec, ferry_err_t *err);

/* Writes uid_map and gid_map of pid from the spec; returns 0 or -1. */
int lx_ns_write_idmaps(pid_t pid, const struct ferry_spec *spec, ferry_err_t *err);

/* Writes the time namespace offsets (after unshare(CLONE_NEWTIME), before any child). */
int lx_ns_write_time_offsets(const struct ferry_spec *spec, ferry_err_t *err);

/* Joins every namespace of pid that differs from the caller's; returns 0 or -1. */
int lx_ns_join_process(pid_t pid, ferry_err_t *err);

#endif

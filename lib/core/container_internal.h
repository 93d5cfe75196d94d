/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of the container lifecycle that checkpoint and restore share with create. */
#ifndef FERRY_CONTAINER_INTERNAL_H
#define FERRY_CONTAINER_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/state.h"
#include "ferry/container.h"

static inline void ct_rec_clear(struct state_rec *rec)
{
	ferry_state_clear(&rec->pub);
}

#define _cleanup_rec_ __attribute__((cleanup(ct_rec_clear)))

static inline void ct_spec_freep(struct ferry_spec **s)
{
	ferry_spec_free(*s);
}

#define _cleanup_spec_ __attribute__((cleanup(ct_spec_freep)))

/* The whole of a file as a string (NUL-terminated, *len bytes); returns it or NULL. */
char *ct_read_whole(const char *path, size_t *len, ferry_err_t *err);

/* ferry_container_create; with restore the init parks after setup, a copy of ferry for a
 * restore to take (the container stays "created"). Returns 0 or -1 (nothing left). */
int ct_create(const struct ferry_ctx *ctx, const struct ferry_create_opts *opts, bool restore,
	      pid_t *init_pid, int *console_fd, ferry_err_t *err);

/* Undoes a create that failed after its state directory was made: kills pid and the cgroup's
 * processes, removes the cgroup and the state directory. */
void ct_create_rollback(const struct ferry_ctx *ctx, const char *id, const char *cgroup, pid_t pid);

/* The state JSON hooks get on stdin (new string), or NULL. */
char *ct_hook_state(const char *id, pid_t pid, enum ferry_status status,
		    const struct ferry_spec *spec);

/* Writes pid to path atomically; returns 0 or -1. */
int ct_write_pid_file(const char *path, pid_t pid, ferry_err_t *err);

#endif

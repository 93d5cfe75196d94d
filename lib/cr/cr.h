/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint and restore of a tree, for the callers that add to it (a whole container). */
#ifndef CR_CR_H
#define CR_CR_H

#include <stdbool.h>
#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "ferry/process.h"
#include "ferry/spec.h"

struct cr_dump_args {
	const struct ferry_checkpoint_opts *opts;
	const char *cgroup;		/* the tree's cgroup (frozen while it is seized), or NULL */
	bool netns_lock;		/* the tree owns its network namespace: lock all of it */
	struct cr_container *container; /* written with the tree; owned by the call */
	/* Called with the tree stopped, before the image is written: fills what of the container
	 * must be read while nothing runs. Returns 0 or -1. */
	int (*collect)(void *arg, struct cr_container *c, ferry_err_t *err);
	void *collect_arg;
};

/* Dumps a tree as ferry_process_checkpoint does, with what a holds; returns 0 or -1. */
int cr_checkpoint(const struct cr_dump_args *a, struct ferry_checkpoint_stats *stats,
		  ferry_err_t *err);

/* Reads and validates the image in dir and checks it against this host (OS, CPU, vDSO); *read_us
 * gets the time it took. Returns 0 or -1 (img freed). */
int cr_image_load(const char *dir, struct cr_image *img, uint64_t *read_us, ferry_err_t *err);

/* Restores a loaded image (spec: a container's config, for its seccomp filter, or NULL); root > 0 is a stopped child copy of ferry in the tree's namespaces
 * (a container's init) that becomes the tree's root. Returns the root's pid or -1 (everything
 * made killed). */
pid_t cr_restore_loaded(const struct ferry_restore_opts *opts, struct cr_image *img, pid_t root,
			const struct ferry_spec *spec, struct ferry_restore_stats *stats,
			ferry_err_t *err);

#endif

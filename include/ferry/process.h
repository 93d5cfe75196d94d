/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint and restore of a process tree (`ferry process checkpoint|restore`). */
#ifndef FERRY_PROCESS_H
#define FERRY_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/error.h"

/* Called as work advances (phase: "freeze", "memory", "write", ...; done/total in the phase's
 * unit: pages, bytes or processes). Only the command line prints. */
typedef void (*ferry_progress_fn)(void *arg, const char *phase, uint64_t done, uint64_t total);

struct ferry_checkpoint_opts {
	pid_t pid;              /* root of the tree */
	const char *image_path; /* directory to create (its parent must exist) */
	bool leave_running;     /* resume the tree after a good dump (else it is killed) */
	bool shell_job;         /* the tree belongs to a terminal session outside it */
	bool tcp_established;   /* dump established TCP connections (TCP_REPAIR) */
	ferry_progress_fn progress;
	void *progress_arg;
};

/* What a checkpoint did and how long it took (microseconds). */
struct ferry_checkpoint_stats {
	uint64_t freeze_us, collect_us, memory_us, write_us, total_us;
	uint64_t processes, threads, vmas, pages, bytes;
};

/* Dumps the tree rooted at opts->pid into opts->image_path. On failure the tree is left running
 * unchanged and no sealed image remains. Returns 0 or -1. */
int ferry_process_checkpoint(const struct ferry_checkpoint_opts *opts,
			     struct ferry_checkpoint_stats *stats, ferry_err_t *err);

struct ferry_restore_opts {
	const char *image_path;
	bool shell_job;
	bool tcp_established;
	ferry_progress_fn progress;
	void *progress_arg;
};

struct ferry_restore_stats {
	uint64_t read_us, tree_us, memory_us, total_us;
	uint64_t processes, threads, pages;
};

/* Validates the whole image, then re-creates its tree (same pids) as children of the caller,
 * running. *root_pid is the tree's root. On failure nothing it made is left. Returns 0 or -1. */
int ferry_process_restore(const struct ferry_restore_opts *opts, pid_t *root_pid,
			  struct ferry_restore_stats *stats, ferry_err_t *err);

#endif

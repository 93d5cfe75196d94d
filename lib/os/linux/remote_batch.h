/* SPDX-License-Identifier: Apache-2.0 */
/* Batches of remote syscalls for the restore. A thread being restored runs a queue of syscalls
 * in one go: ferry writes the queue into an area of the thread's process (with a small runner,
 * installed once), points the thread at the runner and resumes it; the runner makes each call in
 * turn, stores its result, stops at the first one that fails, and traps at the end. One ptrace
 * round trip then serves tens of calls, where each remote syscall costs one (remote_fast.h).
 *
 * A call whose result ferry needs (an address chosen by the kernel) stays a remote syscall; a
 * call that needs the result of an earlier queued one (an fd opened in the batch) takes it with
 * lx_rbatch_next_arg or lx_rbatch_result_to, which the runner resolves. Any remote syscall in
 * the thread (remote_fast.c) runs the queue first, so calls keep their order. Called from the
 * tracing thread. */
#ifndef LX_REMOTE_BATCH_H
#define LX_REMOTE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/error.h"
#include "os/linux/remote_fast.h"

/* Bytes of the area: the runner, the queue (64 bytes a call), then the calls' data. */
#define LX_RBATCH_SIZE (32 * 1024u)

/* Makes the area at `at` (LX_RBATCH_SIZE bytes, readable, writable and executable in tid's
 * process) tid's batch area, and writes the runner there unless the process has it already (a
 * child cloned from a process that had it). Returns 0 or -1. */
int lx_rbatch_open(pid_t tid, uint64_t at, bool write_runner, ferry_err_t *err);

/* Makes room for `calls` calls and `bytes` bytes of data in tid's queue, running the queue when
 * they do not fit. Calls queued together after one lx_rbatch_room never run apart. Returns 0 or
 * -1. */
int lx_rbatch_room(pid_t tid, size_t calls, size_t bytes, ferry_err_t *err);

/* Queues syscall nr with args; what (may be NULL) names the step in an error. Returns the call's
 * index (>= 0) or -1 (no room made for it, or no batch area). */
int64_t lx_rbatch_add(pid_t tid, long nr, const uint64_t args[6], const char *what,
		      ferry_err_t *err);

/* Queues one call in a group of its own: room for it, and when data is set, argument arg points
 * at a copy of its len bytes. Returns the call's index or -1. */
int64_t lx_rbatch_call(pid_t tid, const char *what, long nr, const uint64_t args[6], int arg,
		       const void *data, size_t len, ferry_err_t *err);

/* Copies len bytes into the queue's data; returns their address in tid's process, or 0. */
uint64_t lx_rbatch_data(pid_t tid, const void *data, size_t len, ferry_err_t *err);

/* Argument arg of the next queued call becomes the result of queued call `from` (run or not).
 * Returns 0 or -1. */
int lx_rbatch_next_arg(pid_t tid, int64_t from, int arg, ferry_err_t *err);

/* The result of queued call `from` is stored, as 8 bytes, at address dst of tid's process (in the
 * queue's data) before the next queued call runs. Returns 0 or -1. */
int lx_rbatch_result_to(pid_t tid, int64_t from, uint64_t dst, ferry_err_t *err);

/* Runs what tid has queued. A call that failed becomes an error naming its syscall, its step and
 * the reason, and the rest of the queue is dropped. Returns 0 or -1. */
int lx_rbatch_flush(pid_t tid, ferry_err_t *err);

/* The tasks tid's queued calls make (clone3) go into kids (NULL: none may be made) whenever its
 * queue runs, each left in its first stop. Returns 0 or -1. */
int lx_rbatch_kids(pid_t tid, struct lx_rfast_kids *kids, ferry_err_t *err);

/* *ret gets the result of queued call idx once it has run; returns 0, or -1 when it has not. */
int lx_rbatch_result(pid_t tid, int64_t idx, int64_t *ret, ferry_err_t *err);

/* Number of calls run and batches run since the last lx_rbatch_reset. */
void lx_rbatch_counts(uint64_t *calls, uint64_t *batches);

/* Forgets every thread's queue (a thread id may be reused by the next restore). */
void lx_rbatch_reset(void);

#endif

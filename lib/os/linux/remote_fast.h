/* SPDX-License-Identifier: Apache-2.0 */
/* Remote syscalls for the restore. A thread being restored is a throwaway copy of ferry: nothing
 * of its registers needs keeping between calls, and its signals stay blocked. So a call only sets
 * the registers (no read, no signal-mask change) and runs the `syscall` at a known address: with
 * PTRACE_SINGLESTEP (one stop, at the syscall's exit) or with PTRACE_SYSCALL (an entry and an exit
 * stop). The thread is left where the call ended, in a stop from which the next call can run;
 * whoever resumes it for good sets its registers first. Called from the tracing thread. */
#ifndef LX_REMOTE_FAST_H
#define LX_REMOTE_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "ferry/error.h"

/* Runs syscall nr with args in thread tid (in any ptrace stop, its signals blocked but SIGTRAP)
 * at ip, the address of a `syscall` instruction; *ret gets the raw result (a negative errno on
 * failure). step: one stop, a SIGTRAP the kernel forces at the syscall's exit (which unblocks
 * SIGTRAP and resets its action to SIG_DFL when it was blocked or ignored, and which a pending
 * SIGTRAP would take the place of); else two syscall stops and no signal. What tid has queued
 * in a batch runs first. Returns 0 when the syscall ran, -1 when it could not be run. */
int lx_rfast_syscall(pid_t tid, uint64_t ip, long nr, const uint64_t args[6], bool step,
		     int64_t *ret, ferry_err_t *err);

/* Tasks made by a thread's code, as ferry sees them, in the order it made them. */
struct lx_rfast_kids {
	pid_t *v;
	size_t n, max;
};

/* Runs code in tid (in any ptrace stop, its signals blocked) from the registers kept for it,
 * with rip = ip and rbx, r12 set, until the SIGTRAP of an int3 (a batch's runner, see
 * remote_batch.h); *regs gets the registers there. Each task it makes (left in its first stop)
 * goes into kids, an error when kids is NULL or full. Runs no queued batch. Returns 0 or -1. */
int lx_rfast_run(pid_t tid, uint64_t ip, uint64_t rbx, uint64_t r12, struct lx_rfast_kids *kids,
		 struct user_regs_struct *regs, ferry_err_t *err);

/* Runs clone3(args, size) in tid at ip with syscall stops; *child gets the task the kernel
 * reported in a clone or fork event (0: none), *ret the raw result. Returns 0 or -1. */
int lx_rfast_clone3(pid_t tid, uint64_t ip, uint64_t args, uint64_t size, pid_t *child,
		    int64_t *ret, ferry_err_t *err);

/* Like lx_rfast_syscall with step on, and a negative result becomes an error naming the syscall.
 * Returns the result (>= 0) or -1. */
int64_t lx_rfast_call(pid_t tid, uint64_t ip, long nr, const uint64_t args[6], ferry_err_t *err);

/* Same with syscall stops (no SIGTRAP involved); returns the result (>= 0) or -1. */
int64_t lx_rfast_call_nostep(pid_t tid, uint64_t ip, long nr, const uint64_t args[6],
			     ferry_err_t *err);

/* Forgets the registers kept per thread (a thread id may be reused by the next restore). */
void lx_rfast_reset(void);

/* Writes, as debug log entries, the number and total time of the calls per syscall since the
 * last lx_rfast_reset. */
void lx_rfast_log_stats(void);

#endif

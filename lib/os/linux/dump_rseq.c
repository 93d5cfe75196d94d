// SPDX-License-Identifier: Apache-2.0
/* A thread's rseq registration (the C library registers one for every thread), read with
 * PTRACE_GET_RSEQ_CONFIGURATION and registered again on restore: without it the kernel no longer
 * keeps the area's cpu number up to date, and no longer aborts a restartable sequence that is
 * preempted (per-CPU allocator caches rely on both).
 *
 * A thread stopped inside a critical section (between its start_ip and start_ip +
 * post_commit_offset, the descriptor named by the area's rseq_cs) is moved to the section's
 * abort_ip first, as a preemption would move it: the dump's own remote syscalls return the thread
 * to user mode elsewhere, where the kernel clears rseq_cs, so that the section would otherwise go
 * on unprotected, in the process left running and in the restored one. */
#include <errno.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "os/linux/dump.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

#define RSEQ_CS_FIELD 8 /* offsetof(struct rseq, rseq_cs) */

struct rseq_config {
	uint64_t ptr;
	uint32_t size, sig, flags, pad;
};

struct rseq_cs {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
};

int lx_rseq_get(pid_t tid, struct cr_thread *t, ferry_err_t *err)
{
	struct rseq_config cfg = {0};

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(cfg), &cfg) < 0)
		return errno == EIO || errno == EINVAL
			   ? 0 /* a kernel without it */
			   : ferry_error_errno(err, "rseq of thread %d", tid);
	t->rseq = cfg.ptr;
	t->rseq_len = cfg.ptr ? cfg.size : 0;
	t->rseq_sig = cfg.ptr ? cfg.sig : 0;
	return 0;
}

/* Moves thread tid of pid to the abort_ip of the critical section it is stopped in, if any;
 * returns 0 or -1. */
static int abort_section(pid_t pid, pid_t tid, ferry_err_t *err)
{
	struct cr_thread t = {0};
	struct user_regs_struct regs;
	struct rseq_cs cs;
	uint64_t at;

	if (lx_rseq_get(tid, &t, err) < 0)
		return -1;
	if (!t.rseq)
		return 0;
	if (lx_remote_read(pid, t.rseq + RSEQ_CS_FIELD, &at, sizeof(at), err) < 0)
		return ferry_error_wrap(err, "rseq area of thread %d", tid);
	if (!at)
		return 0;
	if (lx_remote_read(pid, at, &cs, sizeof(cs), err) < 0)
		return ferry_error_wrap(err, "rseq critical section of thread %d", tid);
	if (lx_regs_get(tid, &regs, err) < 0)
		return -1;
	if (regs.rip - cs.start_ip >= cs.post_commit_offset)
		return 0;
	regs.rip = cs.abort_ip;
	return lx_regs_set(tid, &regs, err);
}

int lx_rseq_abort_sections(const struct lx_proc *lx, ferry_err_t *err)
{
	for (size_t i = 0; i < lx->ntids; i++)
		if (abort_section(lx->pid, lx->tids[i], err) < 0)
			return -1;
	return 0;
}

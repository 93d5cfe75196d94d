// SPDX-License-Identifier: Apache-2.0
/* Remote syscalls for the restore: registers set once per call, one or two stops, nothing put
 * back (see remote_fast.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "ferry/log.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote.h"
#include "os/linux/remote_batch.h"
#include "os/linux/remote_fast.h"

#define SYSCALL_STOP (SIGTRAP | 0x80)
#define MAX_NR 512

/* Per thread, the registers read at its first call: segments, flags and bases for the next. */
struct kept {
	pid_t tid;
	struct user_regs_struct regs;
};

static _Thread_local struct kept *kept;
static _Thread_local size_t n_kept;
static _Thread_local struct {
	uint32_t calls;
	uint64_t ns;
} stats[MAX_NR];

void lx_rfast_reset(void)
{
	free(kept);
	kept = NULL;
	n_kept = 0;
	memset(stats, 0, sizeof(stats));
	lx_rbatch_reset();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

void lx_rfast_log_stats(void)
{
	uint64_t batched, batches;
	uint32_t calls = 0;
	uint64_t ns = 0;

	for (int nr = 0; nr < MAX_NR; nr++) {
		if (!stats[nr].calls)
			continue;
		calls += stats[nr].calls;
		ns += stats[nr].ns;
		ferry_log(FERRY_LOG_DEBUG, "restore: remote syscall %d: %u calls, %.3f ms", nr,
			  stats[nr].calls, (double)stats[nr].ns / 1e6);
	}
	lx_rbatch_counts(&batched, &batches);
	ferry_log(FERRY_LOG_DEBUG,
		  "restore: %u remote syscalls in %.3f ms, %llu more in %llu batches", calls,
		  (double)ns / 1e6, (unsigned long long)batched, (unsigned long long)batches);
}

/* Returns the registers kept for tid, read the first time; NULL on error. */
static struct user_regs_struct *base_regs(pid_t tid, ferry_err_t *err)
{
	struct kept *v;

	for (size_t i = 0; i < n_kept; i++)
		if (kept[i].tid == tid)
			return &kept[i].regs;
	v = realloc(kept, (n_kept + 1) * sizeof(*kept));
	if (!v) {
		ferry_error(err, ENOMEM, "remote syscall in %d", tid);
		return NULL;
	}
	kept = v;
	v[n_kept].tid = tid;
	if (lx_regs_get(tid, &v[n_kept].regs, err) < 0)
		return NULL;
	return &v[n_kept++].regs;
}

/* Resumes tid with req until a stop of the kind expected (a syscall stop for PTRACE_SYSCALL, else
 * the SIGTRAP of a step or an int3); a clone or fork event adds the new task to kids (an error
 * when kids is full) and resumes it again. Returns 0 or -1. */
static int run_to(pid_t tid, enum __ptrace_request req, struct lx_rfast_kids *kids,
		  ferry_err_t *err)
{
	int want = req == PTRACE_SYSCALL ? SYSCALL_STOP : SIGTRAP;

	for (;;) {
		int st;

		if (lx_resume_stop(tid, req, &st, err) < 0)
			return -1;
		if (st >> 16 == PTRACE_EVENT_CLONE || st >> 16 == PTRACE_EVENT_FORK) {
			unsigned long msg;

			if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) < 0)
				return ferry_error_errno(err, "new task of %d", tid);
			if (kids->n == kids->max)
				return ferry_error(err, EPROTO, "thread %d made task %lu", tid,
						   msg);
			kids->v[kids->n++] = (pid_t)msg;
			continue;
		}
		if (WSTOPSIG(st) == want && st >> 16 == 0)
			return 0;
		return ferry_error(err, EFAULT, "thread %d got signal %d (%s)", tid, WSTOPSIG(st),
				   strsignal(WSTOPSIG(st) & 0x7f));
	}
}

/* lx_rfast_syscall, with the task a clone or fork event reports in kids. */
static int run_syscall(pid_t tid, uint64_t ip, long nr, const uint64_t a[6], bool step,
		       int64_t *ret, struct lx_rfast_kids *kids, ferry_err_t *err)
{
	static const uint64_t none[6];
	struct user_regs_struct *base = base_regs(tid, err), regs;
	uint64_t t0 = now_ns();

	if (!base || lx_rbatch_flush(tid, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld", nr);
	if (!a)
		a = none;
	regs = *base;
	lx_regs_syscall_setup(&regs, ip, nr, a);
	if (lx_regs_set(tid, &regs, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld in %d", nr, tid);
	if (step ? run_to(tid, PTRACE_SINGLESTEP, kids, err) < 0
		 : run_to(tid, PTRACE_SYSCALL, kids, err) < 0 ||
		       run_to(tid, PTRACE_SYSCALL, kids, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld in %d", nr, tid);
	if (lx_regs_get(tid, &regs, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld in %d", nr, tid);
	if (regs.rip != ip + 2)
		return ferry_error(err, EFAULT, "remote syscall %ld in %d: stopped at 0x%llx", nr,
				   tid, (unsigned long long)regs.rip);
	*ret = (int64_t)regs.rax;
	if (nr >= 0 && nr < MAX_NR) {
		stats[nr].calls++;
		stats[nr].ns += now_ns() - t0;
	}
	return 0;
}

int lx_rfast_run(pid_t tid, uint64_t ip, uint64_t rbx, uint64_t r12, struct lx_rfast_kids *kids,
		 struct user_regs_struct *regs, ferry_err_t *err)
{
	struct user_regs_struct *base = base_regs(tid, err);
	struct lx_rfast_kids none = {NULL, 0, 0};

	if (!base)
		return -1;
	*regs = *base;
	regs->rip = ip;
	regs->rbx = rbx;
	regs->r12 = r12;
	regs->orig_rax = (uint64_t)-1; /* no syscall to restart */
	if (lx_regs_set(tid, regs, err) < 0 ||
	    run_to(tid, PTRACE_CONT, kids ? kids : &none, err) < 0)
		return -1;
	return lx_regs_get(tid, regs, err);
}

int lx_rfast_syscall(pid_t tid, uint64_t ip, long nr, const uint64_t a[6], bool step, int64_t *ret,
		     ferry_err_t *err)
{
	pid_t child;
	struct lx_rfast_kids kids = {&child, 0, 1};

	return run_syscall(tid, ip, nr, a, step, ret, &kids, err);
}

int lx_rfast_clone3(pid_t tid, uint64_t ip, uint64_t args, uint64_t size, pid_t *child,
		    int64_t *ret, ferry_err_t *err)
{
	const uint64_t a[6] = {args, size};
	struct lx_rfast_kids kids = {child, 0, 1};

	*child = 0;
	return run_syscall(tid, ip, SYS_clone3, a, false, ret, &kids, err);
}

static int64_t call(pid_t tid, uint64_t ip, long nr, const uint64_t a[6], bool step,
		    ferry_err_t *err)
{
	int64_t ret = 0;

	if (lx_rfast_syscall(tid, ip, nr, a, step, &ret, err) < 0)
		return -1;
	if ((uint64_t)ret < (uint64_t)-4095)
		return ret;
	return ferry_error(err, (int)-ret, "remote syscall %ld in %d", nr, tid);
}

int64_t lx_rfast_call(pid_t tid, uint64_t ip, long nr, const uint64_t a[6], ferry_err_t *err)
{
	return call(tid, ip, nr, a, true, err);
}

int64_t lx_rfast_call_nostep(pid_t tid, uint64_t ip, long nr, const uint64_t a[6], ferry_err_t *err)
{
	return call(tid, ip, nr, a, false, err);
}

// SPDX-License-Identifier: Apache-2.0
/* The state of threads (ptrace) and what a process shows only from inside (remote syscalls
 * writing into a scratch page): registers, xsave, signals, sigaltstack, clear_child_tid, rseq,
 * scheduling, brk, signal actions, itimers, securebits, dumpable, child subreaper, parent death
 * signal. */
#include <errno.h>
#include <linux/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"
#include "os/linux/remote_exit.h"
#include "os/linux/sched_attr.h"

_Static_assert(sizeof(struct user_regs_struct) == sizeof(struct cr_regs),
	       "cr_regs mirrors user_regs_struct");

/* Scratch layout: sigactions at 0 (64 x 32 bytes), then the small results. */
enum {
	SCR_SIGACT = 0,
	SCR_ITIMER = 64 * 32, /* 3 x struct itimerval (32 bytes) */
	SCR_ALTSTACK = SCR_ITIMER + 3 * 32,
	SCR_TIDADDR = SCR_ALTSTACK + 32,
	SCR_INT = SCR_TIDADDR + 8, /* an int for ioctl results */
	SCR_TIMER = SCR_INT + 8,   /* struct itimerspec (32 bytes) */
	SCR_SIZE = SCR_TIMER + 32,
};

#define MAX_TIMERS 64 /* POSIX timers dumped per process */

/* The scratch goes on the leader's stack below its guard's frame when there is room: then a
 * ferry killed mid-dump leaves no mapping behind. Else a page is mapped. */
int lx_scratch_map(struct lx_scratch *s, pid_t pid, pid_t tid, ferry_err_t *err)
{
	uint64_t a[6] = {
	    0, CR_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
	int64_t at;

	s->addr = 0;
	if (lx_remote_init(&s->r, pid, tid, err) < 0 || lx_remote_guard(&s->r, err) < 0 ||
	    lx_remote_guard_scratch(&s->r, SCR_SIZE, &s->addr, err) < 0)
		return -1;
	if (s->addr)
		return 0;
	at = lx_remote_call(&s->r, SYS_mmap, a, err);
	if (at < 0)
		return -1;
	s->addr = (uint64_t)at;
	return 0;
}

int lx_scratch_unmap(struct lx_scratch *s, ferry_err_t *err)
{
	uint64_t a[6] = {s->addr, CR_PAGE_SIZE};

	if (!s->addr)
		return 0;
	if (!lx_remote_guard_holds(&s->r, s->addr) && lx_remote_call(&s->r, SYS_munmap, a, err) < 0)
		return -1;
	s->addr = 0;
	return 0;
}

/* The remote of thread tid: the leader's, or a copy guarded for tid. Returns 0 or -1. */
static int remote_of(const struct lx_scratch *s, pid_t tid, struct lx_remote *r, ferry_err_t *err)
{
	*r = s->r;
	if (tid == s->r.tid)
		return 0;
	r->tid = tid;
	return lx_remote_guard(r, err);
}

/* Runs a syscall through r; returns its result (>= 0) or -1. */
static int64_t rcall(struct lx_remote *r, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     uint64_t a3, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3};

	return lx_remote_call(r, nr, a, err);
}

/* Runs a syscall in thread tid of the scratch's process; returns its result (>= 0) or -1. */
static int64_t call_in(struct lx_scratch *s, pid_t tid, long nr, uint64_t a0, uint64_t a1,
		       uint64_t a2, uint64_t a3, ferry_err_t *err)
{
	struct lx_remote r;

	if (remote_of(s, tid, &r, err) < 0)
		return -1;
	return rcall(&r, nr, a0, a1, a2, a3, err);
}

static int copy_siginfo(const siginfo_t *in, size_t n, struct cr_siginfo **out, size_t *nout,
			ferry_err_t *err)
{
	*out = NULL, *nout = 0;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return ferry_error(err, ENOMEM, "pending signals");
	for (size_t i = 0; i < n; i++)
		memcpy((*out)[i].raw, &in[i], CR_SIGINFO_SIZE);
	*nout = n;
	return 0;
}

static int thread_ptrace_state(pid_t tid, struct cr_thread *t, ferry_err_t *err)
{
	struct user_regs_struct regs;
	_cleanup_free_ siginfo_t *pend = NULL;
	size_t n_pend = 0, rl_len = 0;
	void *xs = NULL;

	if (lx_regs_get(tid, &regs, err) < 0)
		return -1;
	lx_regs_rewind_syscall(&regs);
	memcpy(&t->regs, &regs, sizeof(regs));
	if (lx_xsave_get(tid, &xs, &t->xsave_len, err) < 0)
		return -1;
	t->xsave = xs;
	if (t->xsave_len >= 520)
		memcpy(&t->xsave_mask, t->xsave + 512, 8); /* XSTATE_BV of the xsave header */
	if (lx_sigmask_get(tid, &t->sigmask, err) < 0 ||
	    lx_sigqueue_peek(tid, false, &pend, &n_pend, err) < 0 ||
	    copy_siginfo(pend, n_pend, &t->pending, &t->n_pending, err) < 0 ||
	    lx_robust_list_get(tid, &t->robust_list, &rl_len, err) < 0 ||
	    lx_rseq_get(tid, t, err) < 0 || lx_sched_get(tid, &t->sched, err) < 0)
		return -1;
	t->has_sched = true;
	t->robust_list_len = rl_len;
	return 0;
}

/* sigaltstack and clear_child_tid, from inside the thread. */
static int thread_remote_state(struct lx_scratch *s, pid_t tid, struct cr_thread *t,
			       ferry_err_t *err)
{
	struct {
		uint64_t sp;
		int32_t flags, pad;
		uint64_t size;
	} ss;
	uint64_t tidaddr = 0;
	struct lx_remote r;

	if (remote_of(s, tid, &r, err) < 0 ||
	    rcall(&r, SYS_sigaltstack, 0, s->addr + SCR_ALTSTACK, 0, 0, err) < 0 ||
	    lx_remote_read(s->r.pid, s->addr + SCR_ALTSTACK, &ss, sizeof(ss), err) < 0)
		return -1;
	t->altstack = (struct cr_sigaltstack){ss.sp, ss.size, (uint32_t)ss.flags};
	if (rcall(&r, SYS_prctl, PR_GET_TID_ADDRESS, s->addr + SCR_TIDADDR, 0, 0, err) < 0 ||
	    lx_remote_read(s->r.pid, s->addr + SCR_TIDADDR, &tidaddr, 8, err) < 0)
		return -1;
	t->clear_child_tid = tidaddr;
	return 0;
}

/* Reads the SigCgt and SigIgn masks of /proc/PID/status: the signals whose action is not
 * SIG_DFL. Returns 0 or -1. */
static int non_default_signals(pid_t pid, uint64_t *mask, ferry_err_t *err)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long v;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return ferry_error_errno(err, "%s", path);
	*mask = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigCgt: %llx", &v) == 1 ||
		    sscanf(line, "SigIgn: %llx", &v) == 1) {
			*mask |= v;
			found++;
		}
	if (found != 2)
		return ferry_error(err, EINVAL, "%s: no SigCgt/SigIgn", path);
	return 0;
}

/* Signal actions: rt_sigaction for the signals caught or ignored only, the others are SIG_DFL
 * with no flags, mask or restorer (the kernel clears them with the handler). */
static int sigactions(struct lx_scratch *s, struct cr_process *p, ferry_err_t *err)
{
	uint64_t mask = 0;

	memset(p->sigactions, 0, sizeof(p->sigactions));
	if (non_default_signals(p->pid, &mask, err) < 0)
		return -1;
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		uint64_t at = s->addr + SCR_SIGACT + 32 * (uint64_t)(sig - 1);

		if (!(mask & (1ULL << (sig - 1))) || sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (call_in(s, s->r.tid, SYS_rt_sigaction, (uint64_t)sig, 0, at, 8, err) < 0 ||
		    lx_remote_read(p->pid, at, &p->sigactions[sig - 1], sizeof(p->sigactions[0]),
				   err) < 0)
			return ferry_error_wrap(err, "signal %d", sig);
	}
	return 0;
}

/* One line "ID: n", "signal: signo/value", "notify: kind/pid.tid", "ClockID: c" of
 * /proc/PID/timers into t; returns 1 when it was the last line of a timer, else 0. */
static int timer_line(const char *line, struct cr_posix_timer *t)
{
	unsigned long long v;
	char kind[16], who[8];
	int a;

	if (sscanf(line, "ID: %d", &a) == 1) {
		*t = (struct cr_posix_timer){.id = a};
	} else if (sscanf(line, "signal: %d/%llx", &a, &v) == 2) {
		t->signo = a;
		t->sigev_value = v;
	} else if (sscanf(line, "notify: %15[a-z]/%7[a-z].%d", kind, who, &a) == 3) {
		t->notify = !strcmp(kind, "none")     ? SIGEV_NONE
			    : !strcmp(kind, "thread") ? SIGEV_THREAD
						      : SIGEV_SIGNAL;
		if (!strcmp(who, "tid"))
			t->notify |= SIGEV_THREAD_ID;
		t->notify_tid = a;
	} else if (sscanf(line, "ClockID: %d", &a) == 1) {
		t->clock = a;
		return 1;
	}
	return 0;
}

/* POSIX timers: /proc/PID/timers, their times by a remote timer_gettime each. */
static int posix_timers(struct lx_scratch *s, struct cr_process *p, ferry_err_t *err)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	struct cr_posix_timer t = {0};
	uint64_t its[4];

	snprintf(path, sizeof(path), "/proc/%d/timers", p->pid);
	f = fopen(path, "re");
	if (!f)
		return ferry_error_errno(err, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		if (!timer_line(line, &t))
			continue;
		if (p->n_timers == MAX_TIMERS)
			return ferry_error(err, ENOTSUP, "more than %d POSIX timers", MAX_TIMERS);
		if (!p->timers && !(p->timers = calloc(MAX_TIMERS, sizeof(*p->timers))))
			return ferry_error(err, ENOMEM, "POSIX timers");
		if (call_in(s, s->r.tid, SYS_timer_gettime, (uint64_t)t.id, s->addr + SCR_TIMER, 0,
			    0, err) < 0 ||
		    lx_remote_read(p->pid, s->addr + SCR_TIMER, its, sizeof(its), err) < 0)
			return ferry_error_wrap(err, "POSIX timer %d", t.id);
		t.interval_ns = its[0] * 1000000000 + its[1];
		t.value_ns = its[2] * 1000000000 + its[3];
		p->timers[p->n_timers++] = t;
	}
	return 0;
}

/* The int prctl(op, &int) of the leader writes; returns it or -1. */
static int64_t prctl_int(struct lx_scratch *s, pid_t pid, int op, ferry_err_t *err)
{
	int32_t v;

	if (call_in(s, s->r.tid, SYS_prctl, (uint64_t)op, s->addr + SCR_INT, 0, 0, err) < 0 ||
	    lx_remote_read(pid, s->addr + SCR_INT, &v, sizeof(v), err) < 0)
		return -1;
	return v;
}

/* Dumpable, child subreaper (the process's) and the leader's parent death signal; oom_score_adj
 * and THP_enabled came with the /proc facts. Returns 0 or -1. */
static int proc_prctl_state(struct lx_scratch *s, struct cr_process *p, ferry_err_t *err)
{
	int64_t dumpable, reaper, pdeath;

	dumpable = call_in(s, s->r.tid, SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, err);
	if (dumpable < 0 || (reaper = prctl_int(s, p->pid, PR_GET_CHILD_SUBREAPER, err)) < 0 ||
	    (pdeath = prctl_int(s, p->pid, PR_GET_PDEATHSIG, err)) < 0)
		return -1;
	p->dumpable = (uint32_t)dumpable;
	p->child_subreaper = reaper != 0;
	p->threads[0].pdeath_sig = (int32_t)pdeath;
	p->has_prctl = true;
	return 0;
}

/* brk, signal actions, itimers, POSIX timers, securebits, prctl state: per process, through the
 * leader. */
static int proc_remote_state(struct lx_scratch *s, struct cr_process *p, ferry_err_t *err)
{
	uint64_t it[12];
	int64_t r;

	r = call_in(s, s->r.tid, SYS_brk, 0, 0, 0, 0, err);
	if (r < 0)
		return -1;
	p->mm.brk = (uint64_t)r;
	if (sigactions(s, p, err) < 0)
		return -1;
	for (int which = 0; which < 3; which++)
		if (call_in(s, s->r.tid, SYS_getitimer, (uint64_t)which,
			    s->addr + SCR_ITIMER + 32 * which, 0, 0, err) < 0)
			return -1;
	if (lx_remote_read(p->pid, s->addr + SCR_ITIMER, it, sizeof(it), err) < 0)
		return -1;
	for (int which = 0; which < 3; which++) {
		p->itimers[which].interval_us = it[4 * which] * 1000000 + it[4 * which + 1];
		p->itimers[which].value_us = it[4 * which + 2] * 1000000 + it[4 * which + 3];
	}
	if (posix_timers(s, p, err) < 0)
		return -1;
	r = call_in(s, s->r.tid, SYS_prctl, PR_GET_SECUREBITS, 0, 0, 0, err);
	if (r < 0)
		return -1;
	p->creds.securebits = (uint32_t)r;
	return proc_prctl_state(s, p, err);
}

int lx_dump_threads(struct lx_scratch *s, const struct lx_proc *lx, struct cr_process *p,
		    ferry_err_t *err)
{
	_cleanup_free_ siginfo_t *pend = NULL;
	size_t n_pend = 0;

	p->threads = calloc(lx->ntids, sizeof(*p->threads));
	if (!p->threads)
		return ferry_error(err, ENOMEM, "process %d", p->pid);
	for (size_t i = 0; i < lx->ntids; i++) {
		struct cr_thread *t = &p->threads[i];
		pid_t tid = lx->tids[i];

		t->tid = tid;
		p->n_threads = i + 1;
		t->comm = lx_dump_comm(p->pid, tid);
		if (thread_ptrace_state(tid, t, err) < 0 || thread_remote_state(s, tid, t, err) < 0)
			return ferry_error_wrap(err, "thread %d", tid);
	}
	if (lx_sigqueue_peek(p->pid, true, &pend, &n_pend, err) < 0 ||
	    copy_siginfo(pend, n_pend, &p->shared_pending, &p->n_shared_pending, err) < 0 ||
	    proc_remote_state(s, p, err) < 0)
		return ferry_error_wrap(err, "process %d", p->pid);
	return 0;
}

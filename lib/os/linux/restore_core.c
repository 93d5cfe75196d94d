// SPDX-License-Identifier: Apache-2.0
/* Restore: the state of a process (umask, cwd, root, personality, rlimits, signal actions,
 * itimers, session) and of its threads (created with their tids, then credentials, robust list,
 * altstack, pending signals, registers, xsave, signal mask), and the last step: the scratch page
 * unmapped through a `syscall` of the restored vDSO. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"
#include "os/linux/sched_attr.h"

static int64_t call_in(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, long nr, uint64_t a0,
		       uint64_t a1, uint64_t a2, uint64_t a3, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3};

	return lx_rst_call_in(rs, rp, tid, nr, a, err);
}

#define RCALL(nr, a0, a1, a2, a3) call_in(rs, rp, rp->r.tid, nr, a0, a1, a2, a3, err)

/* Queues syscall nr in thread tid, argument arg (>= 0) pointing at a copy of data; what names
 * the step in an error. Returns 0 or -1. */
static int queue_in(pid_t tid, const char *what, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		    uint64_t a3, int arg, const void *data, size_t len, ferry_err_t *err)
{
	const uint64_t a[6] = {a0, a1, a2, a3};

	return lx_rbatch_call(tid, what, nr, a, arg, data, len, err) < 0 ? -1 : 0;
}

/* Queues the rlimits that differ from ferry's (which the copy has); only lowering a hard limit
 * works without CAP_SYS_RESOURCE. Returns 0 or -1. */
static int rlimits(struct lx_rst_proc *rp, ferry_err_t *err)
{
	for (int i = 0; i < CR_RLIMIT_COUNT; i++) {
		const struct cr_rlimit *want = &rp->p->rlimits[i];
		struct rlimit cur;
		char what[32];

		if (getrlimit((__rlimit_resource_t)i, &cur) < 0)
			return ferry_error_errno(err, "rlimit %d", i);
		if (cur.rlim_cur == want->cur && cur.rlim_max == want->max)
			continue;
		if (want->max > cur.rlim_max)
			return ferry_error(err, EPERM,
					   "rlimit %d: raising the hard limit from %llu to %llu "
					   "needs CAP_SYS_RESOURCE",
					   i, (unsigned long long)cur.rlim_max,
					   (unsigned long long)want->max);
		snprintf(what, sizeof(what), "rlimit %d", i);
		if (queue_in(rp->r.tid, what, SYS_prlimit64, 0, (uint64_t)i, 0, 0, 2, want,
			     sizeof(*want), err) < 0)
			return -1;
	}
	return 0;
}

/* Queues the signal actions that differ from ferry's own (which the copy has). SIGTRAP waits for
 * the end (sigtrap_action): the remote calls' steps and batches' traps reset it. */
static int sigactions(struct lx_rst_proc *rp, ferry_err_t *err)
{
	for (int sig = 1; sig <= CR_NSIG; sig++) {
		const struct cr_sigaction *want = &rp->p->sigactions[sig - 1];
		struct cr_sigaction cur;
		char what[32];

		if (sig == SIGKILL || sig == SIGSTOP || sig == SIGTRAP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &cur, 8) < 0)
			return ferry_error_errno(err, "signal %d", sig);
		if (!memcmp(&cur, want, sizeof(cur)))
			continue;
		snprintf(what, sizeof(what), "action of signal %d", sig);
		if (queue_in(rp->r.tid, what, SYS_rt_sigaction, (uint64_t)sig, 0, 0, 8, 1, want,
			     sizeof(*want), err) < 0)
			return -1;
	}
	return 0;
}

static int itimers(struct lx_rst_proc *rp, ferry_err_t *err)
{
	for (int w = 0; w < 3; w++) {
		const struct cr_itimer *t = &rp->p->itimers[w];
		/* A periodic timer that had just expired reads 0 until its signal is dequeued (the
		 * kernel re-arms it then); that signal comes back as an ordinary pending one, so
		 * the timer is armed here for its next period. */
		uint64_t value = t->value_us ? t->value_us : t->interval_us;
		struct itimerval v = {
		    {(time_t)(t->interval_us / 1000000), (suseconds_t)(t->interval_us % 1000000)},
		    {(time_t)(value / 1000000), (suseconds_t)(value % 1000000)},
		};
		char what[32];

		if (!value)
			continue;
		snprintf(what, sizeof(what), "itimer %d", w);
		if (queue_in(rp->r.tid, what, SYS_setitimer, (uint64_t)w, 0, 0, 0, 1, &v, sizeof(v),
			     err) < 0)
			return -1;
	}
	return 0;
}

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77 /* Linux 6.17: timer_create takes the id asked for */
#endif

/* Creates one POSIX timer with its dumped id (PR_TIMER_CREATE_RESTORE_IDS on) and arms it with
 * the time it had left; returns 0 or -1. */
static int posix_timer(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_posix_timer *t,
		       ferry_err_t *err)
{
	struct {
		uint64_t value;
		int32_t signo, notify, tid, pad[11];
	} sev = {t->sigev_value, t->signo, t->notify, t->notify_tid};
	/* As for itimers: a periodic timer whose signal is still queued reads 0 until dequeued. */
	uint64_t value = t->value_ns ? t->value_ns : t->interval_ns;
	struct {
		int32_t id, pad;
		uint64_t its[4];
	} io = {t->id,
		0,
		{t->interval_ns / 1000000000, t->interval_ns % 1000000000, value / 1000000000,
		 value % 1000000000}};
	uint64_t sev_at, io_at;
	int32_t got = -1;

	_Static_assert(sizeof(sev) == 64, "struct sigevent");
	sev_at = lx_rst_put(rs, rp, 0, &sev, sizeof(sev), err);
	io_at = sev_at ? lx_rst_put(rs, rp, sizeof(sev), &io, sizeof(io), err) : 0;
	if (!io_at || RCALL(SYS_timer_create, (uint64_t)t->clock, sev_at, io_at, 0) < 0 ||
	    lx_remote_read(rp->r.pid, io_at, &got, sizeof(got), err) < 0)
		return -1;
	if (got != t->id)
		return ferry_error(err, EEXIST, "got id %d", got);
	if (value && RCALL(SYS_timer_settime, (uint64_t)t->id, 0, io_at + 8, 0) < 0)
		return -1;
	return 0;
}

/* POSIX timers, created with their ids; returns 0 or -1. */
static int posix_timers(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;

	if (!p->n_timers)
		return 0;
	if (RCALL(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0) < 0)
		return ferry_error_wrap(err, "POSIX timers need Linux 6.17 (restore of timer ids)");
	for (size_t i = 0; i < p->n_timers; i++)
		if (posix_timer(rs, rp, &p->timers[i], err) < 0)
			return ferry_error_wrap(err, "POSIX timer %d", p->timers[i].id);
	if (RCALL(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0) < 0)
		return -1;
	return 0;
}

int lx_rst_session(struct lx_rst *rs, struct lx_rst_proc *rp, bool root, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	ferry_err_t probe = NULL;
	int64_t cur;

	/* The calls run in the tracee: pids as the tree's pid namespace sees them. */
	if (p->sid == p->pid) {
		cur = RCALL(SYS_getsid, 0, 0, 0, 0);
		if (cur < 0 || (cur != p->pid && RCALL(SYS_setsid, 0, 0, 0, 0) < 0))
			return ferry_error_wrap(err, "session");
	}
	if (p->pgid == 0) /* led from outside our pid namespace: keep the caller's */
		return 0;
	cur = RCALL(SYS_getpgid, 0, 0, 0, 0);
	if (cur < 0)
		return -1;
	if (cur == p->pgid)
		return 0;
	if (p->pgid != p->pid &&
	    call_in(rs, rp, rp->r.tid, SYS_kill, (uint64_t)-p->pgid, 0, 0, 0, &probe) < 0) {
		ferry_error_free(&probe);
		if (root) /* a group outside the tree (a shell job): keep the caller's */
			return 0;
		return ferry_error(err, ESRCH, "process group %d is gone", p->pgid);
	}
	if (root && p->pgid != p->pid) {
		/* a group outside the tree: joined when it is of the caller's session, else the
		 * caller's is kept */
		if (call_in(rs, rp, rp->r.tid, SYS_setpgid, 0, (uint64_t)p->pgid, 0, 0, &probe) < 0)
			ferry_error_free(&probe);
		return 0;
	}
	if (RCALL(SYS_setpgid, 0, (uint64_t)p->pgid, 0, 0) < 0)
		return ferry_error_wrap(err, "process group %d", p->pgid);
	return 0;
}

int lx_rst_proc_state(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	pid_t tid = rp->r.tid;
	char what[PATH_MAX + 8];

	(void)rs;
	if (queue_in(tid, "umask", SYS_umask, p->umask, 0, 0, 0, -1, NULL, 0, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "cwd %s", p->cwd);
	if (queue_in(tid, what, SYS_chdir, 0, 0, 0, 0, 0, p->cwd, strlen(p->cwd) + 1, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "root %s", p->root);
	if (strcmp(p->root, "/") &&
	    queue_in(tid, what, SYS_chroot, 0, 0, 0, 0, 0, p->root, strlen(p->root) + 1, err) < 0)
		return -1;
	if ((uint32_t)personality(0xffffffff) != p->personality &&
	    queue_in(tid, "personality", SYS_personality, p->personality, 0, 0, 0, -1, NULL, 0,
		     err) < 0)
		return -1;
	if (rlimits(rp, err) < 0 || sigactions(rp, err) < 0 || itimers(rp, err) < 0)
		return -1;
	return lx_rbatch_flush(tid, err);
}

int lx_rst_threads(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	if (lx_rst_bounding(rs, rp, err) < 0 || lx_rst_make_threads(rs, rp, err) < 0)
		return -1;
	/* After the threads: a timer may signal one of them (glibc's SIGEV_THREAD helper). */
	return posix_timers(rs, rp, err);
}

/* Queues the process's prctl state in its leader tid: after the credentials, whose change clears
 * the parent death signal and resets dumpable. Returns 0 or -1. */
static int prctl_state(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;

	/* the root's parent is not in the image (ferry, gone after the restore, would fire it) */
	if (p->threads[0].pdeath_sig && p->pid != rs->img->root_pid &&
	    queue_in(tid, "parent death signal", SYS_prctl, PR_SET_PDEATHSIG,
		     (uint64_t)p->threads[0].pdeath_sig, 0, 0, -1, NULL, 0, err) < 0)
		return -1;
	if (!p->has_prctl)
		return 0;
	if (p->child_subreaper && queue_in(tid, "child subreaper", SYS_prctl,
					   PR_SET_CHILD_SUBREAPER, 1, 0, 0, -1, NULL, 0, err) < 0)
		return -1;
	if (p->thp_disable && queue_in(tid, "THP disabled", SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0,
				       -1, NULL, 0, err) < 0)
		return -1;
	/* 2 (set by an exec of a setuid program) is not for prctl to give */
	if (p->dumpable < 2 && queue_in(tid, "dumpable", SYS_prctl, PR_SET_DUMPABLE, p->dumpable, 0,
					0, -1, NULL, 0, err) < 0)
		return -1;
	return 0;
}

/* Writes the process's oom_score_adj; lowering it needs CAP_SYS_RESOURCE, without which the
 * process keeps the one it has (logged). Returns 0 or -1. */
static int oom_score(struct lx_rst_proc *rp, ferry_err_t *err)
{
	char path[64], buf[16];
	_cleanup_close_ int fd = -1;
	int len;

	if (!rp->p->has_prctl)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", rp->r.pid);
	len = snprintf(buf, sizeof(buf), "%d", rp->p->oom_score_adj);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, buf, (size_t)len) == len)
		return 0;
	if (errno == EACCES || errno == EPERM) {
		ferry_log(FERRY_LOG_WARN, "restore pid %d: oom_score_adj %d: %s", rp->p->pid,
			  rp->p->oom_score_adj, strerror(errno));
		return 0;
	}
	return ferry_error_errno(err, "oom_score_adj %d", rp->p->oom_score_adj);
}

/* What a thread sets from inside: robust list, altstack, clear_child_tid, name, credentials, the
 * process's prctl state (the leader), its rseq registration; in one batch. */
static int thread_inside(struct lx_rst *rs, struct lx_rst_proc *rp, size_t i, ferry_err_t *err)
{
	const struct cr_thread *t = &rp->p->threads[i];
	pid_t tid = rp->tids[i];
	stack_t ss = {(void *)t->altstack.sp, (int)t->altstack.flags, t->altstack.size};
	char what[64];

	snprintf(what, sizeof(what), "thread %d: robust list", tid);
	if (t->robust_list && queue_in(tid, what, SYS_set_robust_list, t->robust_list,
				       t->robust_list_len, 0, 0, -1, NULL, 0, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "thread %d: altstack", tid);
	ss.ss_flags &= ~SS_ONSTACK;
	if (!(t->altstack.flags & SS_DISABLE) &&
	    queue_in(tid, what, SYS_sigaltstack, 0, 0, 0, 0, 0, &ss, sizeof(ss), err) < 0)
		return -1;
	snprintf(what, sizeof(what), "thread %d: clear_child_tid", tid);
	if (i == 0 && t->clear_child_tid &&
	    queue_in(tid, what, SYS_set_tid_address, t->clear_child_tid, 0, 0, 0, -1, NULL, 0,
		     err) < 0)
		return -1;
	if (t->comm) {
		char name[16] = {0};

		strncpy(name, t->comm, sizeof(name) - 1);
		snprintf(what, sizeof(what), "thread %d: name", tid);
		if (queue_in(tid, what, SYS_prctl, PR_SET_NAME, 0, 0, 0, 1, name, sizeof(name),
			     err) < 0)
			return -1;
	}
	if (lx_rst_creds(rs, rp, tid, err) < 0 || (i == 0 && prctl_state(rs, rp, tid, err) < 0))
		return -1;
	/* last: from here the kernel updates the area on every return to user mode */
	snprintf(what, sizeof(what), "thread %d: rseq", tid);
	if (t->rseq && queue_in(tid, what, SYS_rseq, t->rseq, t->rseq_len, 0, t->rseq_sig, -1, NULL,
				0, err) < 0)
		return -1;
	return lx_rbatch_flush(tid, err);
}

/* The SIGTRAP action, once no remote call steps any more (a step's trap resets a blocked or
 * ignored SIGTRAP to SIG_DFL: the copy has ferry's action with that handler). Returns 0 or -1. */
static int sigtrap_action(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_sigaction *want = &rp->p->sigactions[SIGTRAP - 1];
	struct cr_sigaction cur;
	uint64_t at, a[6] = {SIGTRAP, 0, 0, 8};

	if (syscall(SYS_rt_sigaction, SIGTRAP, NULL, &cur, 8) < 0)
		return ferry_error_errno(err, "signal %d", SIGTRAP);
	cur.handler = (uint64_t)(uintptr_t)SIG_DFL;
	if (!memcmp(&cur, want, sizeof(cur)))
		return 0;
	at = lx_rst_put(rs, rp, 0, want, sizeof(*want), err);
	a[1] = at;
	if (!at || lx_rfast_call_nostep(rp->r.tid, rp->r.syscall_ip, SYS_rt_sigaction, a, err) < 0)
		return ferry_error_wrap(err, "action of signal %d", SIGTRAP);
	return 0;
}

/* Queues the dumped pending signals again, from the leader (a process may queue any siginfo to
 * itself), with syscall stops: a step's trap would take the place of a queued SIGTRAP. */
static int pending(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	uint64_t a[6] = {0};

	for (size_t i = 0; i < p->n_shared_pending; i++) {
		int sig = *(const int32_t *)p->shared_pending[i].raw;
		uint64_t at = lx_rst_put(rs, rp, 0, p->shared_pending[i].raw, CR_SIGINFO_SIZE, err);

		a[0] = (uint64_t)p->pid;
		a[1] = (uint64_t)sig;
		a[2] = at;
		if (!at || lx_rfast_call_nostep(rp->r.tid, rp->r.syscall_ip, SYS_rt_sigqueueinfo, a,
						err) < 0)
			return ferry_error_wrap(err, "pending signal %d", sig);
	}
	for (size_t t = 0; t < p->n_threads; t++)
		for (size_t i = 0; i < p->threads[t].n_pending; i++) {
			const struct cr_siginfo *si = &p->threads[t].pending[i];
			int sig = *(const int32_t *)si->raw;
			uint64_t at = lx_rst_put(rs, rp, 0, si->raw, CR_SIGINFO_SIZE, err);

			a[0] = (uint64_t)p->pid;
			a[1] = (uint64_t)p->threads[t].tid;
			a[2] = (uint64_t)sig;
			a[3] = at;
			if (!at || lx_rfast_call_nostep(rp->r.tid, rp->r.syscall_ip,
							SYS_rt_tgsigqueueinfo, a, err) < 0)
				return ferry_error_wrap(err, "pending signal %d of thread %d", sig,
							p->threads[t].tid);
		}
	return 0;
}

/* Registers, xsave area and signal mask of one thread. */
static int thread_regs(struct lx_rst_proc *rp, size_t i, ferry_err_t *err)
{
	const struct cr_thread *t = &rp->p->threads[i];
	struct user_regs_struct regs;
	pid_t tid = rp->tids[i];

	_Static_assert(sizeof(regs) == sizeof(t->regs), "cr_regs is user_regs_struct");
	memcpy(&regs, &t->regs, sizeof(regs));
	if (lx_regs_set(tid, &regs, err) < 0)
		return ferry_error_wrap(err, "registers of thread %d", tid);
	if (t->xsave && lx_xsave_set(tid, t->xsave, t->xsave_len, err) < 0)
		return ferry_error_wrap(err, "FPU state of thread %d", tid);
	if (lx_sigmask_set(tid, t->sigmask, err) < 0)
		return ferry_error_wrap(err, "signal mask of thread %d", tid);
	return 0;
}

int lx_rst_finish(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	struct lx_remote last;
	uint64_t a[6] = {rs->scratch, LX_RST_SCRATCH_SIZE};

	/* The filter first, while every thread still holds CAP_SYS_ADMIN. */
	if (lx_rst_seccomp(rs, rp, err) < 0)
		return -1;
	for (size_t i = 0; i < rp->n_tids; i++)
		if (thread_inside(rs, rp, i, err) < 0)
			return -1;
	/* From here no step: every signal blocked (the steps unblocked SIGTRAP) until the masks of
	 * the image are set. */
	for (size_t i = 0; i < rp->n_tids; i++)
		if (lx_sigmask_set(rp->tids[i], ~0ULL, err) < 0)
			return -1;
	if (sigtrap_action(rs, rp, err) < 0 || pending(rs, rp, err) < 0)
		return -1;
	for (size_t i = 0; i < rp->n_tids; i++)
		if (thread_regs(rp, i, err) < 0)
			return -1;
	/* The scheduling last but for the unmap: a real-time thread runs as soon as it can */
	for (size_t i = 0; i < rp->n_tids; i++)
		if (rp->p->threads[i].has_sched &&
		    lx_sched_set(rp->tids[i], &rp->p->threads[i].sched, err) < 0)
			return -1;
	if (oom_score(rp, err) < 0)
		return -1;
	/* Every thread must be resumed from a stop inside signal handling (an interrupt stop, or
	 * the signal-delivery stop of a step's SIGTRAP), where the kernel restarts an interrupted
	 * syscall of the restored registers; after a syscall-exit stop it would not. The leader's
	 * syscall stops (pending, sigtrap_action) end with the call below, which leaves it in an
	 * interrupt stop. The last call unmaps the gadget: it runs on a `syscall` of the restored
	 * vDSO (or one written over the restored code for that call), and the thread's restored
	 * registers are put back after it. */
	if (lx_remote_init(&last, rp->r.pid, rp->r.tid, err) < 0 ||
	    lx_remote_call(&last, SYS_munmap, a, err) < 0)
		return ferry_error_wrap(err, "unmap the scratch page");
	return 0;
}

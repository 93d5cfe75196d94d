// SPDX-License-Identifier: Apache-2.0
/* Restore: creating the processes and threads with their dumped pids (clone3 with set_tid), as
 * stopped, seized copies of ferry or of their restored parent. */
#include <elf.h>
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"

#define SEIZE_OPTS                                                                              \
	(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | \
	 PTRACE_O_SUSPEND_SECCOMP)

/* Waits for tid's PTRACE_EVENT_STOP (a new or interrupted tracee); returns 0 or -1. */
static int wait_event_stop(pid_t tid, ferry_err_t *err)
{
	for (;;) {
		int st, r = lx_wait_stop(tid, &st, err);

		if (r < 0)
			return -1;
		if (r == 1)
			return ferry_error(err, ESRCH, "process %d died", tid);
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal before the stop: keep it queued for later, never deliver it now. */
		if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
			return ferry_error_errno(err, "resume %d", tid);
	}
}

int lx_rst_rseq_queue(struct lx_rst_proc *rp, ferry_err_t *err)
{
	struct {
		uint64_t ptr;
		uint32_t size, sig, flags, pad;
	} cfg = {0};
	uint64_t a[6];

	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, rp->r.tid, (void *)sizeof(cfg), &cfg) < 0 ||
	    !cfg.ptr)
		return 0;
	a[0] = cfg.ptr;
	a[1] = cfg.size;
	a[2] = 1; /* RSEQ_FLAG_UNREGISTER */
	a[3] = cfg.sig;
	a[4] = a[5] = 0;
	return lx_rbatch_call(rp->r.tid, "unregister rseq", SYS_rseq, a, 0, NULL, 0, err) < 0 ? -1
											      : 0;
}

/* Returns the address of a `syscall` instruction in ferry's own vDSO (the copy, a fork, has it
 * at the same place), or 0. */
static uint64_t own_vdso_syscall(void)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const void *hit;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return 0;
	ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		hit = memmem((const char *)eh + ph[i].p_offset, ph[i].p_filesz, "\x0f\x05", 2);
		if (hit)
			return (uint64_t)(uintptr_t)hit;
	}
	return 0;
}

/* Seizes the stopped copy pid and makes it ready for remote calls; returns 0 or -1 (the caller
 * kills it). */
static int seize_copy(struct lx_rst_proc *rp, pid_t pid, ferry_err_t *err)
{
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)(long)SEIZE_OPTS) < 0 ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) < 0)
		return ferry_error_errno(err, "trace new process %d", pid);
	rp->tids[0] = pid;
	rp->n_tids = 1;
	rp->r.pid = rp->r.tid = pid;
	/* Every signal blocked from here (the copy may not have run its own sigprocmask yet): the
	 * remote calls do not juggle masks. */
	if (wait_event_stop(pid, err) < 0 || lx_sigmask_set(pid, ~0ULL, err) < 0)
		return -1;
	rp->r.syscall_ip = own_vdso_syscall();
	if (!rp->r.syscall_ip && lx_remote_init(&rp->r, pid, pid, err) < 0)
		return -1;
	if (!rp->r.syscall_ip)
		return ferry_error(err, ENOEXEC, "restore: no vDSO to run syscalls through");
	return 0;
}

int lx_rst_adopt_root(struct lx_rst_proc *rp, pid_t pid, ferry_err_t *err)
{
	if (seize_copy(rp, pid, err) < 0) {
		rp->tids[0] = pid; /* killed with the rest */
		rp->n_tids = 1;
		return ferry_error_wrap(err, "restore pid %d", rp->p->pid);
	}
	return 0;
}

int lx_rst_create_root(struct lx_rst_proc *rp, ferry_err_t *err)
{
	pid_t want = rp->p->pid;
	struct clone_args args = {
	    .exit_signal = SIGCHLD,
	    .set_tid = (uint64_t)(uintptr_t)&want,
	    .set_tid_size = 1,
	};
	sigset_t all;
	long pid;

	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		if (errno == EEXIST)
			return ferry_error(err, EEXIST, "pid %d is in use", want);
		return ferry_error_errno(err, "create pid %d", want);
	}
	if (pid == 0) {
		/* The copy waits, every signal blocked, until ferry replaces all of it. */
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (;;)
			syscall(SYS_pause);
	}
	if (seize_copy(rp, (pid_t)pid, err) < 0) {
		if (!rp->n_tids) {
			kill((pid_t)pid, SIGKILL);
			waitpid((pid_t)pid, NULL, __WALL);
		}
		return -1;
	}
	return 0;
}

pid_t lx_rst_remote_clone(struct lx_rst *rs, struct lx_rst_proc *parent, pid_t tid,
			  ferry_err_t *err)
{
	struct clone_args args = {.exit_signal = SIGCHLD, .set_tid_size = 1};
	uint64_t at_tid, at_args;
	pid_t child = 0;
	int64_t ret = 0;

	at_tid = lx_rst_put(rs, parent, 0, &tid, sizeof(tid), err);
	args.set_tid = at_tid;
	at_args = at_tid ? lx_rst_put(rs, parent, 64, &args, sizeof(args), err) : 0;
	if (!at_args)
		return -1;
	/* The parent's signals are blocked (a copy of ferry's restore), so is the child's. */
	if (lx_rfast_clone3(parent->r.tid, parent->r.syscall_ip, at_args, sizeof(args), &child,
			    &ret, err) < 0) {
		if (child > 0)
			kill(child, SIGKILL);
		return -1;
	}
	if (ret < 0) {
		if (ret == -EEXIST)
			return ferry_error(err, EEXIST, "pid %d is in use", tid);
		return ferry_error(err, (int)-ret, "create pid %d", tid);
	}
	/* ret is the pid in the tree's namespace, child the one ferry sees */
	if (child <= 0 || (pid_t)ret != tid)
		return ferry_error(err, EPROTO, "create %d: got %lld", tid, (long long)ret);
	if (wait_event_stop(child, err) < 0)
		return -1;
	return child;
}

uint64_t lx_rst_put(struct lx_rst *rs, struct lx_rst_proc *rp, size_t off, const void *data,
		    size_t len, ferry_err_t *err)
{
	uint64_t at = rs->scratch + LX_RST_DATA + off;

	if (LX_RST_DATA + off + len > LX_RST_BATCH) {
		ferry_error(err, E2BIG, "%zu bytes do not fit in the scratch page", len);
		return 0;
	}
	if (lx_remote_write(rp->r.pid, at, data, len, err) < 0)
		return 0;
	return at;
}

int64_t lx_rst_call_in(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, long nr,
		       const uint64_t args[6], ferry_err_t *err)
{
	(void)rs;
	return lx_rfast_call(tid, rp->r.syscall_ip, nr, args, err);
}

/* Queues the clone3 of thread t of rp in the leader's batch; returns its index or -1. */
static int64_t queue_thread(struct lx_rst_proc *rp, const struct cr_thread *t, ferry_err_t *err)
{
	struct clone_args args = {
	    .flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
		     CLONE_SYSVSEM | CLONE_SETTLS | CLONE_CHILD_CLEARTID,
	    .tls = t->regs.fs_base,
	    .child_tid = t->clear_child_tid,
	    .set_tid_size = 1,
	};
	pid_t leader = rp->r.tid;
	uint64_t a[6] = {0, sizeof(args)};
	char what[32];

	snprintf(what, sizeof(what), "thread %d", t->tid);
	if (lx_rbatch_room(leader, 1, sizeof(t->tid) + sizeof(args) + 16, err) < 0 ||
	    !(args.set_tid = lx_rbatch_data(leader, &t->tid, sizeof(t->tid), err)) ||
	    !(a[0] = lx_rbatch_data(leader, &args, sizeof(args), err)))
		return -1;
	return lx_rbatch_add(leader, SYS_clone3, a, what, err);
}

int lx_rst_make_threads(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	size_t n = p->n_threads > 1 ? p->n_threads - 1 : 0;
	_cleanup_free_ pid_t *made = NULL;
	_cleanup_free_ int64_t *call = NULL;
	struct lx_rfast_kids kids = {NULL, 0, n};
	int rc = 0;

	if (!n)
		return 0;
	kids.v = made = calloc(n, sizeof(*made));
	call = calloc(n, sizeof(*call));
	if (!made || !call)
		return ferry_error(err, ENOMEM, "threads");
	/* The leader's signals are blocked (a copy of ferry's restore), so are its threads'. */
	if (lx_rbatch_flush(rp->r.tid, err) < 0 || lx_rbatch_kids(rp->r.tid, &kids, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		if ((call[i] = queue_thread(rp, &p->threads[i + 1], err)) < 0)
			rc = -1;
	if (rc == 0)
		rc = lx_rbatch_flush(rp->r.tid, err);
	lx_rbatch_kids(rp->r.tid, NULL, NULL);
	/* every thread made is the process's (killed with it), each left in its first stop */
	for (size_t i = 0; i < kids.n; i++) {
		const struct cr_thread *t = &p->threads[i + 1];
		int64_t got;

		if (rc == 0 && lx_rbatch_result(rp->r.tid, call[i], &got, err) < 0)
			rc = -1;
		else if (rc == 0 && got != t->tid)
			rc = ferry_error(err, EPROTO, "thread %d: made as %lld", t->tid,
					 (long long)got);
		if (rc == 0 &&
		    (wait_event_stop(made[i], err) < 0 ||
		     lx_rbatch_open(made[i], rs->scratch + LX_RST_BATCH, false, err) < 0))
			rc = ferry_error_wrap(err, "thread %d", t->tid);
		rp->tids[rp->n_tids++] = made[i];
	}
	if (rc == 0 && kids.n != n)
		rc = ferry_error(err, EPROTO, "%zu threads made of %zu", kids.n, n);
	return rc;
}

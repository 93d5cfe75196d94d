/* SPDX-License-Identifier: Apache-2.0 */
/* Process control for checkpoint/restore: seize a whole process tree with ptrace, read and write
 * the per-thread state (registers, xsave area, signal mask, pending signals, robust list) and
 * rewind a thread interrupted inside a system call.
 *
 * ptrace binds a tracee to the tracing *thread*: every call below on a given tree must come from
 * the thread that seized it. x86-64 only. */
#ifndef LX_PTRACE_H
#define LX_PTRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "ferry/error.h"

/* One process of a seized tree. */
struct lx_proc {
	pid_t pid, ppid, pgid, sid; /* from /proc/PID/stat when it was seized */
	char state;    /* the stat state letter before seizing: 'R', 'S', 'T', 'Z', ... */
	bool zombie;   /* exited, not reaped: nothing of it is traced */
	pid_t *tids;   /* every thread, seized and in a ptrace stop */
	int *stop_sig; /* per thread: 0, or the job-control signal of a group stop */
	size_t ntids, cap;
};

/* A seized tree: procs[0] is the root; a parent always comes before its children. */
struct lx_tree {
	struct lx_proc *procs;
	size_t n, cap;
	char *cgroup;  /* freezer cgroup used while seizing, or NULL */
	bool refreeze; /* the cgroup was frozen before: freeze it again after the detach */
};

/* Seizes the tree rooted at root: freezes the cgroup first when cgroup is not NULL (thawing it
 * once every thread holds an interrupt), PTRACE_SEIZE (TRACESYSGOOD, no exit-kill; seccomp
 * filters suspended while traced when the caller may do that) and
 * PTRACE_INTERRUPT every thread of every process (threads from /proc/PID/task, children from
 * /proc/PID/task/TID/children), waiting for each stop and rescanning until no new thread or
 * child appears. A pending signal met while stopping a thread is re-delivered, never lost.
 * Returns 0 with every thread in a ptrace stop, or -1 with nothing traced or frozen left
 * (ESRCH: root is gone; EPERM: root cannot be traced). */
int lx_tree_seize(pid_t root, const char *cgroup, struct lx_tree *tree, ferry_err_t *err);

/* Detaches every thread (PTRACE_DETACH, no signal): a thread runs on as before, a group-stopped
 * one stays stopped; refreezes the cgroup if it was frozen before. Frees the tree. Threads
 * that are gone are skipped. Returns 0, or -1 if some thread could not be detached (all the
 * others are). */
int lx_tree_detach(struct lx_tree *tree, ferry_err_t *err);

/* Frees the tree's memory only (no detach); accepts an empty tree. */
void lx_tree_free(struct lx_tree *tree);

/* Returns the process with that pid in the tree, or NULL. */
struct lx_proc *lx_tree_find(struct lx_tree *tree, pid_t pid);

/* Reads the general registers (NT_PRSTATUS, 27 words, fs/gs base included); returns 0 or -1. */
int lx_regs_get(pid_t tid, struct user_regs_struct *regs, ferry_err_t *err);

/* Writes the general registers; returns 0 or -1. */
int lx_regs_set(pid_t tid, const struct user_regs_struct *regs, ferry_err_t *err);

/* Returns the size of this CPU's full xsave area (cpuid 0xD, ecx of subleaf 0). */
size_t lx_xsave_size(void);

/* Reads the full xsave area (NT_X86_XSTATE) into a new malloc'd buffer (*buf) of *len bytes,
 * the length the kernel reports; returns 0 or -1. */
int lx_xsave_get(pid_t tid, void **buf, size_t *len, ferry_err_t *err);

/* Writes an xsave area read by lx_xsave_get (same CPU features); returns 0 or -1. */
int lx_xsave_set(pid_t tid, const void *buf, size_t len, ferry_err_t *err);

/* Reads the blocked-signal mask (bit n-1 for signal n); returns 0 or -1. */
int lx_sigmask_get(pid_t tid, uint64_t *mask, ferry_err_t *err);

/* Writes the blocked-signal mask (SIGKILL and SIGSTOP are ignored by the kernel). Note: this
 * clears a temporary sigsuspend/ppoll/pselect mask the thread would have restored.
 * Returns 0 or -1. */
int lx_sigmask_set(pid_t tid, uint64_t mask, ferry_err_t *err);

/* Reads, without dequeuing, the signals queued to the thread (shared false) or to its whole
 * process (shared true), oldest first, into a new malloc'd array (*out, *n; NULL and 0 if none).
 * Returns 0 or -1. */
int lx_sigqueue_peek(pid_t tid, bool shared, siginfo_t **out, size_t *n, ferry_err_t *err);

/* Reads the thread's robust futex list head and length (get_robust_list); returns 0 or -1. */
int lx_robust_list_get(pid_t tid, uint64_t *head, size_t *len, ferry_err_t *err);

/* What lx_regs_rewind_syscall did. */
enum lx_rewind {
	LX_REWIND_NONE,	   /* not stopped in a restartable syscall: registers untouched */
	LX_REWIND_RESTART, /* rip -= 2, rax = orig_rax: the syscall runs again when resumed */
	LX_REWIND_EINTR,   /* -ERESTART_RESTARTBLOCK: rax = -EINTR (the restart block is kernel
			      state that cannot be carried over) */
};

/* Rewinds registers read from a thread stopped inside an interrupted syscall (orig_rax >= 0,
 * rax one of -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK) the way
 * the kernel does when it resumes such a thread with no handler to run: rax = orig_rax and rip
 * back over the 2-byte `syscall`; for -ERESTART_RESTARTBLOCK, whose restart state lives in the
 * kernel, rax = -EINTR as when a handler interrupts it. orig_rax becomes -1 in both cases, so
 * the registers describe a thread in user mode, ready to be written to a new thread.
 * Returns what was done. */
enum lx_rewind lx_regs_rewind_syscall(struct user_regs_struct *regs);

/* Waits for a state change of tid (__WALL), retrying EINTR; *status gets the wait status.
 * Returns 0 when it stopped, 1 when it exited or was killed, -1 on error. */
int lx_wait_stop(pid_t tid, int *status, ferry_err_t *err);

/* Resumes tid with req (PTRACE_CONT, PTRACE_SYSCALL or PTRACE_SINGLESTEP) until a stop that is
 * not an interrupt (group-stop event) stop, resuming it again past those; *status gets the wait
 * status. Returns 0, or -1 (the thread died: ESRCH). */
int lx_resume_stop(pid_t tid, int req, int *status, ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Remote syscalls: run one system call inside a thread held in a ptrace stop (see ptrace.h), and
 * copy memory in and out of its process. x86-64 only; called from the tracing thread. */
#ifndef LX_REMOTE_H
#define LX_REMOTE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "ferry/error.h"

/* A thread used to run syscalls in its process. */
struct lx_remote {
	pid_t pid; /* the process */
	pid_t tid; /* the thread (in a ptrace stop: seized and interrupted) */
	uint64_t
	    syscall_ip; /* address of a `syscall` (0f 05) in the tracee; 0: write one each time */
	/* The guard (remote_exit.h): the way back for the thread if ferry dies mid-call. */
	bool exit_searched;   /* the gadgets below were looked for in pid (found or not) */
	uint64_t exit_gadget; /* `syscall; ret` of the process's own code, or 0 */
	uint64_t exit_sigret; /* `mov $15, %rax; syscall` (rt_sigreturn) of its code, or 0 */
	uint64_t exit_sp;    /* tid's way-out frame, the stack pointer of its calls; 0: unguarded */
	uint64_t exit_floor; /* the lowest address of tid's stack the guard may write */
};

/* Prepares r, unguarded (remote_exit.h), for thread tid of process pid: finds a `syscall`
 * instruction in the [vdso] (any executable 0f 05 will do: nothing after it runs). Without a vDSO,
 * syscall_ip stays 0 and each call writes 0f 05 over the code at rip, restoring those bytes
 * afterwards. Call it again after unmapping or moving the vDSO. Returns 0 or -1. */
int lx_remote_init(struct lx_remote *r, pid_t pid, pid_t tid, ferry_err_t *err);

/* Puts tid (in a syscall-exit or signal stop) back in an interrupt stop: the kernel then handles
 * its registers (syscall restart) exactly as for the stop it was seized in. Returns 0 or -1. */
int lx_back_to_interrupt_stop(pid_t tid, ferry_err_t *err);

/* Points regs at the `syscall` instruction at ip, with nr in rax, the six arguments in place
 * and orig_rax -1 (no restart on resume). */
void lx_regs_syscall_setup(struct user_regs_struct *regs, uint64_t ip, long nr,
			   const uint64_t a[6]);

/* Runs syscall nr with up to six arguments in r->tid and stores its raw result (a negative
 * errno on failure) in *ret. The thread's registers and signal mask are saved and restored
 * exactly, and it is left in the same kind of ptrace stop as before (an interrupted syscall of
 * its own restarts when it is resumed). All signals are blocked while the syscall runs (which
 * drops a sigsuspend-style temporary mask, see lx_sigmask_set); a SIGSTOP delivered or a fault
 * raised meanwhile fails the call and that signal is lost. Syscalls that do not return (exit,
 * execve, rt_sigreturn) are not supported. With a guard (r->exit_sp, lx_remote_guard) the call
 * runs from the process's `syscall; ret` on the guard's frame, so that a ferry killed at any point
 * of it leaves the thread going on as it was. FERRY_FAULT=remote-entry|remote-exit|remote-done:N
 * kills ferry at the syscall-entry stop, the exit stop, or once the registers are back, of its
 * N-th remote syscall (tests). Returns 0 when the syscall ran (whatever its result), -1 when it
 * could not be run. */
int lx_remote_syscall(struct lx_remote *r, long nr, const uint64_t args[6], int64_t *ret,
		      ferry_err_t *err);

/* Like lx_remote_syscall, and a negative result becomes an error naming the syscall.
 * Returns the result (>= 0; an address for mmap) or -1. */
int64_t lx_remote_call(struct lx_remote *r, long nr, const uint64_t args[6], ferry_err_t *err);

/* Like lx_remote_call, guarded only (r->exit_sp), but the call runs with its stack pointer at sp
 * (a frame of the caller's: lx_exit_undo_frame_write) and a successful one leaves the thread at
 * the syscall's exit stop, every signal blocked, with the call's registers: the caller moves it
 * on or puts it back (a ferry killed meanwhile lets it return onto sp). A failed one is put back
 * as lx_remote_syscall does. Returns the result (>= 0) or -1. */
int64_t lx_remote_call_stay(struct lx_remote *r, long nr, const uint64_t args[6], uint64_t sp,
			    ferry_err_t *err);

/* SIGKILLs ferry itself when FERRY_FAULT is point (tests of what a dead ferry leaves). */
void lx_remote_fault(const char *point);

/* Copies len bytes from buf to addr in process pid (process_vm_writev; PTRACE_POKEDATA, which
 * also writes read-only pages, for what that refuses). Returns 0 or -1. */
int lx_remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len, ferry_err_t *err);

/* Copies len bytes at addr in process pid into buf (process_vm_readv; PTRACE_PEEKDATA, which
 * also reads PROT_NONE pages, for what that refuses). Returns 0 or -1. */
int lx_remote_read(pid_t pid, uint64_t addr, void *buf, size_t len, ferry_err_t *err);

/* Reads (old != NULL) and/or sets (set != NULL) r->tid's alternate signal stack with a remote
 * sigaltstack through a scratch page mapped and unmapped in the tracee. Returns 0 or -1. */
int lx_remote_sigaltstack(struct lx_remote *r, const stack_t *set, stack_t *old, ferry_err_t *err);

#endif

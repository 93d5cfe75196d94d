/* SPDX-License-Identifier: Apache-2.0 */
/* The guard of remote syscalls (remote.h): a way back for the thread if ferry is killed in the
 * middle of one. Below the thread's stack pointer and red zone (where a signal would go) it
 * writes the address of an rt_sigreturn gadget of the process, then a signal frame of the
 * thread's own registers, signal mask and FPU state; a guarded call runs from a `syscall; ret`
 * gadget of the process with its stack pointer on that frame, so that whatever point ferry dies
 * at, the thread goes on as it was (remote_exit.c says why, point by point). Everything here goes
 * through ptrace and process_vm_writev: no remote syscall. x86-64 only; called from the tracing
 * thread. */
#ifndef LX_REMOTE_EXIT_H
#define LX_REMOTE_EXIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "ferry/error.h"
#include "os/linux/remote.h"

/* What the way out needs from a process's own code. */
struct lx_exit_gadgets {
	uint64_t syscall_ret; /* `syscall` then `ret` (directly or after glibc's error check) */
	uint64_t sigreturn;   /* `mov $15, %rax` (or %eax), `syscall`: an rt_sigreturn */
};

/* Looks for both gadgets in the executable mappings of pid (not the vsyscall page; 64 MiB read at
 * most). Returns 1 with both found, 0 when one is missing, or -1. */
int lx_exit_gadgets_find(pid_t pid, struct lx_exit_gadgets *g, ferry_err_t *err);

/* Returns the lowest address a way-out frame may use on the stack holding sp in pid: one page
 * above the start of the writable mapping that holds it; 0 when no writable mapping does. */
uint64_t lx_exit_stack_floor(pid_t pid, uint64_t sp);

/* Writes the way-out frame of thread tid of pid (in a ptrace stop) below regs->rsp and its red
 * zone: sigreturn (the gadget's address), then a signal frame of regs (rewound out of an
 * interrupted syscall, as a signal would), mask, the thread's FPU state (read here), and
 * altstack as uc_stack, or with altstack NULL one that rt_sigreturn refuses and ignores, leaving
 * the thread's alternate stack as it is. Returns 0 with the frame's address (the stack pointer
 * of the way out) in *at, 0 in *at when it would go below floor (nothing written), or -1. */
int lx_exit_frame_write(pid_t pid, pid_t tid, uint64_t sigreturn,
			const struct user_regs_struct *regs, uint64_t mask, const stack_t *altstack,
			uint64_t floor, uint64_t *at, ferry_err_t *err);

/* Writes, below r's guard frame (set: r->exit_sp), an undo frame: a signal frame under the
 * rt_sigreturn gadget's address that runs syscall nr(a0, a1) from the `syscall; ret` gadget with
 * every signal blocked and its stack pointer on the guard's frame (cs, ss and eflags from regs,
 * the thread's own). A call run with its stack pointer there (lx_remote_call_stay) that ferry
 * does not see through therefore runs nr, then the guard's way out: an mmap undone by its
 * munmap. Returns 0 with its address in *at (0: no room, nothing written) or -1. */
int lx_exit_undo_frame_write(const struct lx_remote *r, const struct user_regs_struct *regs,
			     long nr, uint64_t a0, uint64_t a1, uint64_t *at, ferry_err_t *err);

/* Sets the guard of r->tid (in a ptrace stop, with no remote syscall under way) from its current
 * registers, mask and FPU state: the gadgets (searched once per process: r keeps them, and a copy
 * of r for another thread of the process reuses them), then the frame. Without gadgets, with a
 * shadow stack, or without room on the stack, r->exit_sp stays 0 and calls run unguarded.
 * Set it again if the thread's registers or mask change between calls. Returns 0, or -1 when
 * the thread cannot be read. */
int lx_remote_guard(struct lx_remote *r, ferry_err_t *err);

/* Finds len bytes on r->tid's stack right below its guard's frame for remote syscalls to write
 * into: above r->exit_floor, and within the thread's alternate stack when the frame is on it,
 * clear of it otherwise (asked with one guarded remote sigaltstack). Nothing is mapped, so nothing
 * stays behind if ferry dies. *at gets the address (64-byte aligned), or 0 when r is unguarded or
 * there is no room. Returns 0 or -1. */
int lx_remote_guard_scratch(struct lx_remote *r, size_t len, uint64_t *at, ferry_err_t *err);

/* Whether addr lies on r->tid's stack below its guard's frame, where lx_remote_guard_scratch puts
 * its bytes (a new mapping never does). */
bool lx_remote_guard_holds(const struct lx_remote *r, uint64_t addr);

#endif

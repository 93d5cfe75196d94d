/* SPDX-License-Identifier: Apache-2.0 */
/* Dumping a seized process tree into the process model (os_ops.dump): /proc facts (dump_proc.c),
 * per-thread and remote state (dump_task.c), file descriptors (dump_files.c) and memory
 * (dump_mem.c). Every function here is called from the thread that seized the tree. */
#ifndef LX_DUMP_H
#define LX_DUMP_H

#include <stdint.h>
#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote.h"
#include "os/os.h"

/* What a dump carries from process to process. */
struct lx_dump_ctx {
	const struct os_dump_req *req;
	struct image_writer *w;
	struct cr_image *img;
	struct ferry_checkpoint_stats *stats;
	uint32_t pages_id;   /* the one pages file of the dump, 0 until a page is written */
	uint64_t pages_seen; /* pages found so far (progress total) */
	uint64_t pages_done; /* pages written so far */
	uint64_t *ghost_dev, *ghost_ino; /* identity of img->ghosts[i] */
	struct lx_dump_net *net;	 /* network lock and repaired sockets (dump_net.c) */
};

/* How a dump ends, for its network state. */
enum lx_dump_end {
	LX_DUMP_FAILED,	 /* the tree runs on unchanged */
	LX_DUMP_RESUMED, /* leave running: sockets leave repair mode, the lock goes */
	LX_DUMP_KILLED,	 /* the tree was killed: the lock stays for the restore */
};

/* Before the tree is seized: locks the network namespace of req->pid when req->netns_lock.
 * Returns 0 or -1 (nothing locked). */
int lx_dump_net_start(struct lx_dump_ctx *ctx, ferry_err_t *err);

/* Ends the network part of a dump (KILLED: called after the tree is gone). Never fails. */
void lx_dump_net_finish(struct lx_dump_ctx *ctx, enum lx_dump_end end);

/* A scratch page mapped in a stopped process for remote syscalls to write into. */
struct lx_scratch {
	struct lx_remote r; /* through the process's leader */
	uint64_t addr;	    /* 0 when not mapped */
};

/* os_ops.dump; returns 0 or -1 (the tree left running unchanged). */
int lx_dump(const struct os_dump_req *req, struct image_writer *w, struct cr_image *img,
	    struct ferry_checkpoint_stats *stats, ferry_err_t *err);

/* os_ops.host_facts; returns 0 or -1. */
int lx_host_facts(struct cr_host *host, ferry_err_t *err);

/* Fills the /proc facts of p->pid (comm, mm fields but brk, auxv, exe, rlimits, umask,
 * credentials, cwd, root, personality, oom_score_adj, THP disabled); returns 0 or -1. */
int lx_dump_proc_facts(struct cr_process *p, ferry_err_t *err);

/* Moves every thread of lx stopped inside an rseq critical section to its abort_ip, as a
 * preemption would (before any remote syscall returns it to user mode elsewhere); returns 0 or
 * -1. */
int lx_rseq_abort_sections(const struct lx_proc *lx, ferry_err_t *err);

/* Reads thread tid's rseq registration into t (none: zeroes); returns 0 or -1. */
int lx_rseq_get(pid_t tid, struct cr_thread *t, ferry_err_t *err);

/* Fills p->seccomp from the threads of lx (seized and stopped): the chain of seccomp filters they
 * all have. Returns 0, or -1 (also for threads with chains of their own, and the strict mode). */
int lx_dump_seccomp(const struct lx_proc *lx, struct cr_process *p, ferry_err_t *err);

/* Reads /proc/PID/task/TID/comm (tid 0: /proc/PID/comm) without its newline; returns a new
 * string or NULL. */
char *lx_dump_comm(pid_t pid, pid_t tid);

/* Maps a scratch page in process pid through thread tid; returns 0 or -1. */
int lx_scratch_map(struct lx_scratch *s, pid_t pid, pid_t tid, ferry_err_t *err);

/* Unmaps the scratch page (if mapped); returns 0 or -1. */
int lx_scratch_unmap(struct lx_scratch *s, ferry_err_t *err);

/* Fills the threads of p from the seized lx: registers (rewound out of a restartable syscall),
 * xsave, sigmask, pending signals, robust list, sigaltstack, clear_child_tid, comm; and the
 * remote per-process state: brk, signal actions, itimers, securebits, shared pending signals.
 * Returns 0 or -1. */
int lx_dump_threads(struct lx_scratch *s, const struct lx_proc *lx, struct cr_process *p,
		    ferry_err_t *err);

/* Fills p->fds (sorted) from /proc/PID/fd, adding ghosts of deleted files to ctx->img; refuses
 * the kinds not supported yet with an error naming the fd. Returns 0 or -1. */
int lx_dump_files(struct lx_dump_ctx *ctx, struct lx_scratch *s, struct cr_process *p,
		  ferry_err_t *err);

/* Fills p->vmas from /proc/PID/smaps and writes the present pages through ctx->w into p->pages;
 * returns 0 or -1. */
int lx_dump_memory(struct lx_dump_ctx *ctx, struct cr_process *p, ferry_err_t *err);

/* Rewrites the pids of img (processes, parents, groups, sessions, threads, timer targets) from
 * ferry's pid namespace to the tree's own, when the root lives in another one; returns 0 or -1. */
int lx_dump_ns_pids(const struct lx_tree *tree, struct cr_image *img, ferry_err_t *err);

/* Rewrites the credentials of img (uids, gids, groups) from the host's user namespace to the
 * tree's own, when it has one; returns 0 or -1. */
int lx_dump_ns_ids(const struct lx_tree *tree, struct cr_image *img, ferry_err_t *err);

/* Returns CLOCK_MONOTONIC in microseconds. */
uint64_t lx_dump_now_us(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restore of a process tree by remote syscalls driven by ptrace. ferry creates each process as a
 * stopped copy of itself (clone3 with set_tid = the dumped pid: the root as ferry's child, every
 * other process by a remote clone3 in its restored parent), maps a scratch page holding a
 * `syscall` instruction at an address free in every map involved, and then, through that gadget,
 * empties the copy, moves the vDSO, maps the image's areas, fills their pages, sets the mm fields,
 * the files, the process and thread state, creates the threads (remote clone3 with set_tid), sets
 * their registers, and finally unmaps the scratch page with a `syscall` of the restored vDSO and
 * detaches. Objects shared between processes (shm, pipes, ghost files) are made once in ferry and
 * opened by the tracees through /proc/<ferry>/fd/N.
 *
 * All of it runs on the calling thread (ptrace binds tracees to it).
 */
#ifndef LX_RESTORE_H
#define LX_RESTORE_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "ferry/process.h"
#include "os/linux/remote.h"
#include "os/linux/remote_batch.h"
#include "os/os.h"

/* The scratch area: the gadget at 0, data from LX_RST_DATA, the batch area (remote_batch.h) from
 * LX_RST_BATCH. */
#define LX_RST_DATA 256u
#define LX_RST_BATCH (4 * 4096u)
#define LX_RST_SCRATCH_SIZE (LX_RST_BATCH + LX_RBATCH_SIZE)

struct lx_rst_proc {
	const struct cr_process *p;
	struct lx_remote r; /* the leader; syscall_ip: the gadget once mapped */
	pid_t *tids;	    /* threads created so far, tids[0] the leader */
	size_t n_tids;
};

struct lx_rst_pages {
	uint32_t id;
	const uint8_t *map; /* the whole pages file, mapped read-only */
	size_t size;
};

struct lx_rst {
	const struct cr_image *img;
	const char *dir;
	pid_t self;
	uint64_t scratch;	   /* address of the scratch page in every restored process */
	struct lx_rst_proc *procs; /* same order as img->procs */
	size_t n_procs;
	struct lx_rst_pages *pages;
	size_t n_pages;
	int *shm_fds;	    /* per img->shm entry, ferry's fd of the object (-1: none yet) */
	int *ghost_fds;	    /* per img->ghosts entry, -1 until made */
	char **ghost_paths; /* where each ghost file was made (unlinked at the end) */
	struct lx_rst_pipe {
		uint64_t id;
		int fd[2];
	} * pipes;
	size_t n_pipes;
	int *fifo_fds; /* FIFOs ferry holds open while the tracees open them */
	size_t n_fifo_fds;
	const struct os_restore_req *req;
	char fs_root[32]; /* "" or "/proc/ROOT/root": where ferry finds the tree's paths */
	int pass_sock;	  /* ferry's end of the fd passing socket, or -1 (restore_fdpass.c) */
	int pass_fd;	  /* the tracees' end, at this number in each, or -1 */
	int procfd;	  /* the host's /proc in each tracee (pass_fd + 1), or -1 */
	void *seccomp;	  /* a container's seccomp filter (BPF), installed in every process */
	size_t seccomp_len;
	struct lx_rst_net *net; /* network lock and sockets made in repair mode (restore_net.c) */
	cpu_set_t cpus;		/* ferry's CPU mask, while it runs pinned to one (restore.c) */
	bool pinned;
};

/* Makes the threads of rp but the leader with their tids (clone3 with set_tid, in batches from
 * the leader), each left in its first stop with its batch area; returns 0 or -1 (the threads
 * made are in rp->tids). */
int lx_rst_make_threads(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* The kernel writes to a registered rseq area on every return to user mode, and kills the
 * thread when that memory is gone: a copy's registration (ferry's libc's, which a process
 * inherits from its parent copy) is dropped, queued, before its memory goes. Returns 0 or -1. */
int lx_rst_rseq_queue(struct lx_rst_proc *rp, ferry_err_t *err);

/* path of the tree as ferry reaches it (through the root's /proc root when the tree lives in
 * its own mount namespace), in buf or path itself; returns it. */
const char *lx_rst_host_path(const struct lx_rst *rs, const char *path, char *buf, size_t size);

/* For a tree in other namespaces (req->root): gives the root (and the processes cloned from
 * it) the fd passing socket and the host's /proc; returns 0 or -1. */
int lx_rst_fdpass_init(struct lx_rst *rs, struct lx_rst_proc *root, ferry_err_t *err);

/* Hands ferry's fd own to rp (SCM_RIGHTS); returns rp's new fd (close-on-exec) or -1. */
int64_t lx_rst_give(struct lx_rst *rs, struct lx_rst_proc *rp, int own, ferry_err_t *err);

/* Queues the closing of every fd of rp but the passing ones; returns 0 or -1. */
int lx_rst_fdpass_close_others(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Queues the closing of the passing fds of rp once its fds are restored; returns 0 or -1. */
int lx_rst_fdpass_end(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* rp opens ferry's fd own again with flags (through /proc), or takes the same open file when
 * /proc refuses it (a user namespace: *given, close-on-exec); returns rp's fd or -1. */
int64_t lx_rst_open_own(struct lx_rst *rs, struct lx_rst_proc *rp, int own, uint64_t flags,
			bool *given, ferry_err_t *err);

/* Where rp opens ferry's fd own again: returns the dirfd (AT_FDCWD or its /proc) and the path
 * in buf. */
int64_t lx_rst_own_path(const struct lx_rst *rs, int own, char *buf, size_t size);

/* Drops from rp's bounding set what the image's lacks (before its threads are made); returns
 * 0 or -1. */
int lx_rst_bounding(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Securebits, no_new_privs, groups, gids, uids and capability sets of thread tid of rp, as the
 * image has them; returns 0 or -1. */
int lx_rst_creds(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, ferry_err_t *err);

/* Installs the seccomp filters of rp (the image's chain, else rs->seccomp) on every thread of rp
 * (TSYNC); returns 0 or -1. */
int lx_rst_seccomp(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Before any socket is made: locks the traffic of the image's TCP connections in the network
 * namespace of the root (its whole namespace when the checkpoint locked all of it). Returns 0 or
 * -1. */
int lx_rst_net_start(struct lx_rst *rs, ferry_err_t *err);

/* After the tree runs (ok) or was killed (!ok): sockets out of repair mode, every lock rule gone,
 * the checkpoint's included. Never fails. */
void lx_rst_net_finish(struct lx_rst *rs, bool ok);

/* Ferry's copy of the TCP socket of f (CR_FD_TCP), made on first use in the root's network
 * namespace with its whole state; returns it or -1. */
int lx_rst_net_socket(struct lx_rst *rs, const struct cr_fd *f, ferry_err_t *err);

/* Re-creates a validated image's tree (os_ops.restore); returns the root's pid or -1 with every
 * process it made killed. */
pid_t lx_restore(const struct os_restore_req *req, const struct cr_image *img,
		 struct ferry_restore_stats *stats, ferry_err_t *err);

/* Takes pid, a stopped child copy of ferry in the tree's namespaces, as the root; returns 0 or
 * -1. */
int lx_rst_adopt_root(struct lx_rst_proc *rp, pid_t pid, ferry_err_t *err);

/* Creates the root as a stopped, seized copy of ferry with pid p->pid; returns 0 or -1. */
int lx_rst_create_root(struct lx_rst_proc *rp, ferry_err_t *err);

/* Creates process pid, a child of parent (seized and stopped, gadget mapped), as a stopped copy
 * of it, by a remote clone3 with set_tid (threads: lx_rst_make_threads). Returns the new pid as
 * ferry sees it, or -1. */
pid_t lx_rst_remote_clone(struct lx_rst *rs, struct lx_rst_proc *parent, pid_t pid,
			  ferry_err_t *err);

/* Copies len bytes into the scratch data of rp at offset off (from LX_RST_DATA); returns the
 * address in the tracee or 0 (err set). */
uint64_t lx_rst_put(struct lx_rst *rs, struct lx_rst_proc *rp, size_t off, const void *data,
		    size_t len, ferry_err_t *err);

/* Runs a remote syscall in thread tid of rp through the gadget; returns its result or -1. */
int64_t lx_rst_call_in(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, long nr,
		       const uint64_t args[6], ferry_err_t *err);

/* Finds an address for size bytes free in ferry's map and in every process of the image; returns
 * it or 0. */
uint64_t lx_rst_find_scratch(const struct cr_image *img, uint64_t size, ferry_err_t *err);

/* Maps the scratch page with its `syscall` gadget in rp (a ferry copy); returns 0 or -1. */
int lx_rst_map_scratch(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Replaces the memory of rp by the image's: unmaps the copy, moves the vDSO, maps every area,
 * fills the pages, sets protections, madvise state and the mm fields. Returns 0 or -1. */
int lx_rst_mm(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Makes the shared memory objects of the image in ferry, filled; returns 0 or -1. */
int lx_rst_shm_prepare(struct lx_rst *rs, ferry_err_t *err);

/* Maps the pages file pages_id (cached); returns it or NULL. */
const struct lx_rst_pages *lx_rst_pages_get(struct lx_rst *rs, uint32_t pages_id, ferry_err_t *err);

/* Restores the file descriptors of rp (its copy's fds closed first); returns 0 or -1. */
int lx_rst_files(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Makes rp a session or group leader as it was, or puts it in its group (a group outside the
 * tree is kept as the caller's for the root); returns 0 or -1. */
int lx_rst_session(struct lx_rst *rs, struct lx_rst_proc *rp, bool root, ferry_err_t *err);

/* Restores umask, cwd, root, personality, rlimits, signal actions and itimers of rp (POSIX
 * timers come with the threads); returns 0 or -1. */
int lx_rst_proc_state(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Creates the other threads of rp, then its POSIX timers; returns 0 or -1. */
int lx_rst_threads(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Sets every thread's own state (credentials, robust list, altstack, pending signals, registers,
 * xsave, mask), unmaps the scratch page through the restored vDSO; returns 0 or -1. */
int lx_rst_finish(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err);

/* Releases what ferry holds for the restore (pages maps, shm/pipe/fifo fds, ghost files). */
void lx_rst_release(struct lx_rst *rs);

#endif

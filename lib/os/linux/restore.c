// SPDX-License-Identifier: Apache-2.0
/* Restore of a process tree (os_ops.restore): the order of the steps, and killing everything made
 * when one fails. See restore.h for the method. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/log.h"
#include "os/linux/remote_fast.h"
#include "os/linux/ipcns.h"
#include "os/linux/restore.h"
#include "os/linux/security.h"
#include "os/linux/tty.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The container's seccomp filter as BPF into rs; returns 0 or -1. */
static int seccomp_of(const struct ferry_spec *spec, struct lx_rst *rs, ferry_err_t *err)
{
	struct lx_seccomp *f = NULL;
	int r;

	if (!spec || !spec->has_linux || !spec->linux.seccomp)
		return 0;
	if (lx_seccomp_prepare(spec->linux.seccomp, &f, err) < 0)
		return ferry_error_wrap(err, "restore: seccomp filter");
	r = lx_seccomp_export(f, &rs->seccomp, &rs->seccomp_len, err);
	lx_seccomp_free(f);
	return r;
}

static int rst_init(struct lx_rst *rs, const struct os_restore_req *req, const struct cr_image *img,
		    ferry_err_t *err)
{
	memset(rs, 0, sizeof(*rs));
	rs->img = img;
	rs->dir = req->image_path;
	rs->self = getpid();
	rs->req = req;
	rs->pass_sock = rs->pass_fd = rs->procfd = -1;
	if (req->root > 0)
		snprintf(rs->fs_root, sizeof(rs->fs_root), "/proc/%d/root", req->root);
	if (seccomp_of(req->spec, rs, err) < 0)
		return -1;
	rs->procs = calloc(img->n_procs, sizeof(*rs->procs));
	rs->shm_fds = malloc((img->n_shm + 1) * sizeof(int));
	rs->ghost_fds = malloc((img->n_ghosts + 1) * sizeof(int));
	rs->ghost_paths = calloc(img->n_ghosts + 1, sizeof(char *));
	if (!rs->procs || !rs->shm_fds || !rs->ghost_fds || !rs->ghost_paths)
		return ferry_error(err, ENOMEM, "restore");
	for (size_t i = 0; i < img->n_shm; i++)
		rs->shm_fds[i] = -1;
	for (size_t i = 0; i < img->n_ghosts; i++)
		rs->ghost_fds[i] = -1;
	for (size_t i = 0; i < img->n_procs; i++) {
		rs->procs[i].p = &img->procs[i];
		rs->procs[i].tids = calloc(img->procs[i].n_threads + 1, sizeof(pid_t));
		if (!rs->procs[i].tids)
			return ferry_error(err, ENOMEM, "restore");
	}
	rs->n_procs = img->n_procs;
	return 0;
}

/* Unmaps the pages files. */
static void pages_release(struct lx_rst *rs)
{
	for (size_t i = 0; i < rs->n_pages; i++)
		munmap((void *)rs->pages[i].map, rs->pages[i].size);
	free(rs->pages);
	rs->pages = NULL;
	rs->n_pages = 0;
}

void lx_rst_release(struct lx_rst *rs)
{
	pages_release(rs);
	for (size_t i = 0; rs->shm_fds && i < rs->img->n_shm; i++)
		if (rs->shm_fds[i] >= 0)
			close(rs->shm_fds[i]);
	for (size_t i = 0; rs->ghost_fds && i < rs->img->n_ghosts; i++) {
		if (rs->ghost_fds[i] >= 0)
			close(rs->ghost_fds[i]);
		if (rs->ghost_paths[i])
			unlink(rs->ghost_paths[i]);
		free(rs->ghost_paths[i]);
	}
	for (size_t i = 0; i < rs->n_pipes; i++) {
		close(rs->pipes[i].fd[0]);
		close(rs->pipes[i].fd[1]);
	}
	for (size_t i = 0; i < rs->n_fifo_fds; i++)
		close(rs->fifo_fds[i]);
	if (rs->pass_sock >= 0)
		close(rs->pass_sock);
	for (size_t i = 0; rs->procs && i < rs->n_procs; i++)
		free(rs->procs[i].tids);
	free(rs->procs);
	free(rs->shm_fds);
	free(rs->ghost_fds);
	free(rs->ghost_paths);
	free(rs->pipes);
	free(rs->fifo_fds);
	free(rs->seccomp);
	memset(rs, 0, sizeof(*rs));
}

const char *lx_rst_host_path(const struct lx_rst *rs, const char *path, char *buf, size_t size)
{
	if (!rs->fs_root[0] || path[0] != '/')
		return path;
	snprintf(buf, size, "%s%s", rs->fs_root, path);
	return buf;
}

/* Kills every process made so far and reaps every task of them. */
static void kill_all(struct lx_rst *rs)
{
	for (size_t i = 0; i < rs->n_procs; i++)
		if (rs->procs[i].n_tids)
			kill(rs->procs[i].tids[0], SIGKILL);
	/* threads first: traced by ferry, each must be reaped before its leader can be */
	for (size_t i = rs->n_procs; i-- > 0;)
		for (size_t t = rs->procs[i].n_tids; t-- > 0;)
			while (waitpid(rs->procs[i].tids[t], NULL, __WALL) < 0 && errno == EINTR)
				;
}

static struct lx_rst_proc *find_proc(struct lx_rst *rs, pid_t pid)
{
	for (size_t i = 0; i < rs->n_procs; i++)
		if (rs->procs[i].p->pid == pid)
			return &rs->procs[i];
	return NULL;
}

/* Creates every process, parents first, each as a stopped copy with the scratch page; returns 0
 * or -1. */
static int make_tree(struct lx_rst *rs, ferry_err_t *err)
{
	struct lx_rst_proc *root = &rs->procs[0];
	size_t made = 1;

	int r = rs->req->root > 0 ? lx_rst_adopt_root(root, rs->req->root, err)
				  : lx_rst_create_root(root, err);

	if (r < 0 || lx_rst_map_scratch(rs, root, err) < 0 ||
	    (rs->req->root > 0 && lx_rst_fdpass_init(rs, root, err) < 0) ||
	    lx_rst_session(rs, root, true, err) < 0)
		return ferry_error_wrap(err, "restore pid %d", root->p->pid);
	while (made < rs->n_procs) {
		size_t before = made;

		for (size_t i = 1; i < rs->n_procs; i++) {
			struct lx_rst_proc *rp = &rs->procs[i], *parent;
			pid_t pid;

			parent = find_proc(rs, rp->p->ppid);
			if (rp->n_tids || !parent || !parent->n_tids)
				continue;
			pid = lx_rst_remote_clone(rs, parent, rp->p->pid, err);
			if (pid < 0)
				return ferry_error_wrap(err, "restore pid %d", rp->p->pid);
			rp->tids[0] = pid;
			rp->n_tids = 1;
			rp->r = (struct lx_remote){pid, pid, rs->scratch};
			made++;
			if (lx_rbatch_open(pid, rs->scratch + LX_RST_BATCH, false, err) < 0 ||
			    lx_rst_session(rs, rp, false, err) < 0)
				return ferry_error_wrap(err, "restore pid %d", rp->p->pid);
		}
		if (made == before)
			return ferry_error(err, EINVAL, "restore: the tree is not connected");
	}
	return 0;
}

/* Restores one process from its ferry copy; returns 0 or -1. */
static int restore_proc(struct lx_rst *rs, struct lx_rst_proc *rp,
			struct ferry_restore_stats *stats, ferry_err_t *err)
{
	uint64_t t0 = now_us(), t1, t2, t3;

	if (lx_rst_mm(rs, rp, err) < 0)
		return -1;
	t1 = now_us();
	stats->memory_us += t1 - t0;
	if (lx_rst_files(rs, rp, err) < 0)
		return -1;
	t2 = now_us();
	if (lx_rst_proc_state(rs, rp, err) < 0)
		return -1;
	t3 = now_us();
	if (lx_rst_threads(rs, rp, err) < 0)
		return -1;
	ferry_log(FERRY_LOG_DEBUG, "restore pid %d: files %.3f ms, state %.3f ms, threads %.3f ms",
		  rp->p->pid, (double)(t2 - t1) / 1e3, (double)(t3 - t2) / 1e3,
		  (double)(now_us() - t3) / 1e3);
	return 0;
}

static void detach_all(struct lx_rst *rs)
{
	for (size_t i = 0; i < rs->n_procs; i++)
		for (size_t t = 0; t < rs->procs[i].n_tids; t++)
			ptrace(PTRACE_DETACH, rs->procs[i].tids[t], NULL, NULL);
}

/* A failed restore leaves no SysV segment it made: each one's id is its fd's inode number. */
static void remove_sysv(struct lx_rst *rs)
{
	for (size_t i = 0; rs->shm_fds && i < rs->img->n_shm; i++) {
		struct stat st;

		if (rs->img->shm[i].kind != CR_SHM_SYSV || rs->shm_fds[i] < 0 ||
		    fstat(rs->shm_fds[i], &st) < 0)
			continue;
		shmctl((int)st.st_ino, IPC_RMID, NULL);
	}
}

/* The restore's tracees stop and resume at every remote call and batch. On one CPU with ferry,
 * each of those is a switch between the two; a tracee on another CPU, idle while ferry works,
 * needs a wake-up of that CPU instead, which on a VM costs more than the call itself. So ferry
 * runs on the CPU it is on, and the processes it makes inherit that; pin_end gives every task
 * ferry's mask again (what they would have had). Not for a container's tree, which comes from a
 * root the runtime made, with the container's CPUs. */
static void pin_begin(struct lx_rst *rs)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (rs->req->root > 0 || cpu < 0 || sched_getaffinity(0, sizeof(rs->cpus), &rs->cpus) < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	rs->pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
}

static void pin_end(struct lx_rst *rs)
{
	if (!rs->pinned)
		return;
	for (size_t i = 0; i < rs->n_procs; i++)
		for (size_t t = 0; t < rs->procs[i].n_tids; t++)
			sched_setaffinity(rs->procs[i].tids[t], sizeof(rs->cpus), &rs->cpus);
	sched_setaffinity(0, sizeof(rs->cpus), &rs->cpus);
	rs->pinned = false;
}

/* Kills what a failed restore made and frees the rest. */
static void undo(struct lx_rst *rs)
{
	kill_all(rs);
	pin_end(rs);
	lx_rst_net_finish(rs, false);
	remove_sysv(rs);
	lx_rst_release(rs);
}

static int restore_all(struct lx_rst *rs, const struct os_restore_req *req,
		       struct ferry_restore_stats *stats, ferry_err_t *err)
{
	uint64_t t0 = now_us();

	pin_begin(rs);
	rs->scratch = lx_rst_find_scratch(rs->img, LX_RST_SCRATCH_SIZE, err);
	if (!rs->scratch || lx_rst_net_start(rs, err) < 0 || make_tree(rs, err) < 0)
		return -1;
	stats->tree_us = now_us() - t0;
	t0 = now_us();
	if (lx_rst_shm_prepare(rs, err) < 0)
		return ferry_error_wrap(err, "restore");
	ferry_log(FERRY_LOG_DEBUG, "restore: shared memory in %.3f ms",
		  (double)(now_us() - t0) / 1e3);
	for (size_t i = 0; i < rs->n_procs; i++) {
		if (req->progress)
			req->progress(req->progress_arg, "restore", i, rs->n_procs);
		if (restore_proc(rs, &rs->procs[i], stats, err) < 0)
			return ferry_error_wrap(err, "restore pid %d", rs->procs[i].p->pid);
	}
	/* Only when every process is complete: the final state, and the gadget goes. */
	t0 = now_us();
	for (size_t i = 0; i < rs->n_procs; i++)
		if (lx_rst_finish(rs, &rs->procs[i], err) < 0)
			return ferry_error_wrap(err, "restore pid %d", rs->procs[i].p->pid);
	ferry_log(FERRY_LOG_DEBUG, "restore: final state of every thread in %.3f ms",
		  (double)(now_us() - t0) / 1e3);
	if (req->progress)
		req->progress(req->progress_arg, "restore", rs->n_procs, rs->n_procs);
	return 0;
}

pid_t lx_restore(const struct os_restore_req *req, const struct cr_image *img,
		 struct ferry_restore_stats *stats, ferry_err_t *err)
{
	struct ferry_restore_stats dummy = {0};
	struct lx_rst rs;
	int ipc = -1;
	uint64_t t0;
	pid_t root;

	if (!stats)
		stats = &dummy;
	if (img->n_procs == 0)
		return ferry_error(err, EINVAL, "restore: the image holds no process");
	lx_rfast_reset();
	if (rst_init(&rs, req, img, err) < 0) {
		lx_rst_release(&rs);
		return -1;
	}
	/* SysV segments are made and attached by id: in the tree's IPC namespace. */
	if ((req->root > 0 && lx_ipcns_enter(req->root, &ipc, err) < 0) ||
	    restore_all(&rs, req, stats, err) < 0) {
		undo(&rs);
		lx_ipcns_leave(ipc);
		return -1;
	}
	lx_ipcns_leave(ipc);
	lx_rfast_log_stats();
	if (req->shell_job && lx_tty_apply(img, err) < 0) {
		undo(&rs);
		return ferry_error_wrap(err, "restore");
	}
	t0 = now_us();
	pages_release(&rs); /* before the tree runs: the unmap then waits for no one */
	pin_end(&rs);
	detach_all(&rs);
	lx_rst_net_finish(&rs, true);
	ferry_log(FERRY_LOG_DEBUG, "restore: detach in %.3f ms", (double)(now_us() - t0) / 1e3);
	root = rs.procs[0].tids[0];
	lx_rst_release(&rs);
	return root;
}

// SPDX-License-Identifier: Apache-2.0
/* os_ops.dump for Linux: seize the tree, collect every process into the model (pages written as
 * they are read), have the caller seal the image while the tree is still stopped, then detach it
 * (leave running) or kill it. Any failure detaches the tree unchanged. Also os_ops.host_facts. */
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/version.h"
#include "image/image.h"
#include "os/linux/cgroup.h"
#include "os/linux/dump.h"
#include "os/linux/ipcns.h"
#include "os/linux/memmap.h"
#include "os/linux/proc.h"

uint64_t lx_dump_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Puts the leader (tid == pid) first, as the model wants it. */
static void leader_first(struct lx_proc *lx)
{
	for (size_t i = 1; i < lx->ntids; i++)
		if (lx->tids[i] == lx->pid) {
			pid_t t = lx->tids[0];
			int s = lx->stop_sig[0];

			lx->tids[0] = lx->tids[i], lx->tids[i] = t;
			lx->stop_sig[0] = lx->stop_sig[i], lx->stop_sig[i] = s;
		}
}

/* What needs the scratch page: threads, remote per-process state, fds. The page is unmapped
 * before the memory map is read. */
static int dump_inside(struct lx_dump_ctx *ctx, struct lx_proc *lx, struct cr_process *p,
		       ferry_err_t *err)
{
	struct lx_scratch s = {0};
	int r;

	if (lx_scratch_map(&s, lx->pid, lx->tids[0], err) < 0)
		return ferry_error_wrap(err, "process %d", lx->pid);
	r = lx_dump_threads(&s, lx, p, err);
	if (r == 0)
		r = lx_dump_files(ctx, &s, p, err);
	if (s.addr && lx_scratch_unmap(&s, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

static int dump_process(struct lx_dump_ctx *ctx, struct lx_proc *lx, struct cr_process *p,
			ferry_err_t *err)
{
	uint64_t t0 = lx_dump_now_us();

	if (lx->zombie)
		return ferry_error(err, ENOTSUP, "process %d is a zombie: not supported yet",
				   lx->pid);
	leader_first(lx);
	*p =
	    (struct cr_process){.pid = lx->pid, .ppid = lx->ppid, .pgid = lx->pgid, .sid = lx->sid};
	if (lx_dump_proc_facts(p, err) < 0 || lx_dump_seccomp(lx, p, err) < 0 ||
	    lx_rseq_abort_sections(lx, err) < 0)
		return ferry_error_wrap(err, "process %d", p->pid);
	if (dump_inside(ctx, lx, p, err) < 0)
		return -1;
	ctx->stats->collect_us += lx_dump_now_us() - t0;
	t0 = lx_dump_now_us();
	if (lx_dump_memory(ctx, p, err) < 0)
		return -1;
	ctx->stats->memory_us += lx_dump_now_us() - t0;
	ctx->stats->threads += p->n_threads;
	ctx->stats->processes++;
	return 0;
}

static int dump_tree(struct lx_dump_ctx *ctx, struct lx_tree *tree, ferry_err_t *err)
{
	struct cr_image *img = ctx->img;

	img->procs = calloc(tree->n, sizeof(*img->procs));
	if (!img->procs)
		return ferry_error(err, ENOMEM, "process tree");
	img->root_pid = tree->procs[0].pid;
	for (size_t i = 0; i < tree->n; i++) {
		img->n_procs = i + 1;
		if (dump_process(ctx, &tree->procs[i], &img->procs[i], err) < 0)
			return -1;
	}
	return 0;
}

/* Every process of the tree's cgroup must be in the tree: one outside it (a `ferry exec` still
 * attached to its caller, whose parent is outside the container) would be lost. Returns 0 or -1. */
static int cgroup_in_tree(const char *cgroup, struct lx_tree *tree, ferry_err_t *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;

	if (!cgroup)
		return 0;
	if (lx_cgroup_pids(cgroup, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *comm = NULL;

		if (lx_tree_find(tree, pids[i]) || !lx_proc_start_time(pids[i]))
			continue;
		comm = lx_dump_comm(pids[i], 0);
		return ferry_error(
		    err, ENOTSUP,
		    "process %d (%s) of the container is not a descendant of its init "
		    "(an exec still attached to its caller?): not supported yet",
		    pids[i], comm ? comm : "?");
	}
	return 0;
}

/* 1 when thread *tid has just been reaped (or cannot be waited for), then marked 0; else 0. */
static size_t reap_thread(pid_t *tid)
{
	int st = 0;
	pid_t r;

	if (*tid <= 0)
		return 0;
	r = waitpid(*tid, &st, __WALL | WNOHANG);
	if ((r < 0 && errno != EINTR) || (r == *tid && (WIFEXITED(st) || WIFSIGNALED(st)))) {
		*tid = 0;
		return 1;
	}
	return 0;
}

/* Kills every process of a seized tree and reaps each of its threads in whatever order they
 * exit: a leader is reported only after its other threads, and the last thread of a pid
 * namespace's init waits until every other task of the namespace, its own traced threads
 * included, is reaped by us, their tracer. Frees the tree. */
static void kill_tree(struct lx_tree *tree)
{
	size_t left = 0, before;

	for (size_t i = 0; i < tree->n; i++) {
		kill(tree->procs[i].pid, SIGKILL);
		left += tree->procs[i].ntids;
	}
	while (left) {
		before = left;
		for (size_t i = tree->n; i-- > 0;)
			for (size_t j = tree->procs[i].ntids; j-- > 0;)
				left -= reap_thread(&tree->procs[i].tids[j]);
		if (left == before)
			usleep(200);
	}
	lx_tree_free(tree);
}

static int dump_in_ns(const struct os_dump_req *req, struct image_writer *w, struct cr_image *img,
		      struct ferry_checkpoint_stats *stats, ferry_err_t *err);

int lx_dump(const struct os_dump_req *req, struct image_writer *w, struct cr_image *img,
	    struct ferry_checkpoint_stats *stats, ferry_err_t *err)
{
	int saved, r;

	/* SysV segments are looked up by id: in the tree's IPC namespace. */
	if (lx_ipcns_enter(req->pid, &saved, err) < 0)
		return ferry_error_wrap(err, "checkpoint %d", req->pid);
	r = dump_in_ns(req, w, img, stats, err);
	lx_ipcns_leave(saved);
	return r;
}

static int dump_in_ns(const struct os_dump_req *req, struct image_writer *w, struct cr_image *img,
		      struct ferry_checkpoint_stats *stats, ferry_err_t *err)
{
	struct lx_dump_ctx ctx = {.req = req, .w = w, .img = img, .stats = stats};
	struct lx_tree tree = {0};
	uint64_t t0 = lx_dump_now_us();
	int r;

	if (req->progress)
		req->progress(req->progress_arg, "freeze", 0, 1);
	if (lx_dump_net_start(&ctx, err) < 0)
		return ferry_error_wrap(err, "checkpoint %d", req->pid);
	if (lx_tree_seize(req->pid, req->cgroup, &tree, err) < 0) {
		lx_dump_net_finish(&ctx, LX_DUMP_FAILED);
		return ferry_error_wrap(err, "checkpoint %d", req->pid);
	}
	stats->freeze_us += lx_dump_now_us() - t0;
	r = cgroup_in_tree(req->cgroup, &tree, err);
	if (r == 0)
		r = dump_tree(&ctx, &tree, err);
	free(ctx.ghost_dev);
	free(ctx.ghost_ino);
	if (r == 0)
		r = lx_dump_ns_ids(&tree, img, err); /* before the pids: it reads /proc by host pid */
	if (r == 0)
		r = lx_dump_ns_pids(&tree, img, err);
	if (r == 0 && req->seal)
		r = req->seal(req->seal_arg, img, err);
	if (r < 0) {
		lx_dump_net_finish(&ctx, LX_DUMP_FAILED);
		lx_tree_detach(&tree, NULL);
		return ferry_error_wrap(err, "checkpoint %d", req->pid);
	}
	if (!req->leave_running) {
		kill_tree(&tree);
		lx_dump_net_finish(&ctx, LX_DUMP_KILLED);
		return 0;
	}
	lx_dump_net_finish(&ctx, LX_DUMP_RESUMED);
	if (lx_tree_detach(&tree, err) < 0)
		return ferry_error_wrap(err, "checkpoint %d: resume", req->pid);
	return 0;
}

/* XCR0, when the OS enabled XSAVE (cpuid 1: ecx bit 27 OSXSAVE); 0 otherwise. */
static uint64_t read_xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static int vdso_layout(struct cr_host *host, ferry_err_t *err)
{
	struct lx_memmap m = {0};

	if (lx_memmap_read(getpid(), false, &m, err) < 0)
		return -1;
	host->vdso = calloc(4, sizeof(*host->vdso));
	for (size_t i = 0; host->vdso && i < m.n && host->n_vdso < 4; i++) {
		const struct lx_area *a = &m.areas[i];
		struct cr_vdso_area *v = &host->vdso[host->n_vdso];

		if (a->kind != LX_AREA_VDSO && a->kind != LX_AREA_VVAR &&
		    a->kind != LX_AREA_VVAR_VCLOCK)
			continue;
		v->name = strdup(a->path);
		v->start = a->start, v->end = a->end;
		if (!v->name)
			break;
		host->n_vdso++;
	}
	lx_memmap_free(&m);
	return host->vdso ? 0 : ferry_error(err, ENOMEM, "host facts");
}

int lx_host_facts(struct cr_host *host, ferry_err_t *err)
{
	struct utsname u;

	if (uname(&u) < 0)
		return ferry_error_errno(err, "uname");
	host->os = strdup("Linux");
	host->kernel = strdup(u.release);
	host->arch = strdup(u.machine);
	host->ferry_version = strdup(FERRY_VERSION);
	host->xsave_mask = read_xcr0();
	if (!host->os || !host->kernel || !host->arch || !host->ferry_version)
		return ferry_error(err, ENOMEM, "host facts");
	return vdso_layout(host, err);
}

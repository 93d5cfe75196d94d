// SPDX-License-Identifier: Apache-2.0
/* Restore of a process tree: the whole image is read and validated, then checked against this host
 * (OS, architecture, CPU features, vDSO layout) and its pids checked free, all before anything is
 * created; then the OS backend re-creates the tree. A backend failure kills what it made. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cr/cr.h"
#include "cr/model.h"
#include "ferry/process.h"
#include "image/image.h"
#include "os/os.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static const struct cr_vdso_area *vdso_find(const struct cr_host *h, const char *name)
{
	for (size_t i = 0; i < h->n_vdso; i++)
		if (h->vdso[i].name && !strcmp(h->vdso[i].name, name))
			return &h->vdso[i];
	return NULL;
}

/* The vDSO areas of the image (img) and of this host (here) must have the same names, sizes and
 * offsets from [vdso]: the restored code calls into a vDSO laid out as at the dump. */
static int vdso_compatible(const struct cr_host *img, const struct cr_host *here, ferry_err_t *err)
{
	const struct cr_vdso_area *iv = vdso_find(img, "[vdso]"), *hv = vdso_find(here, "[vdso]");

	for (size_t i = 0; i < here->n_vdso; i++)
		if (!vdso_find(img, here->vdso[i].name))
			return ferry_error(
			    err, EINVAL,
			    "vDSO layout differs: %s exists on this kernel, not in the "
			    "image",
			    here->vdso[i].name);
	for (size_t i = 0; i < img->n_vdso; i++) {
		const struct cr_vdso_area *a = &img->vdso[i], *b = vdso_find(here, a->name);

		if (!b)
			return ferry_error(
			    err, EINVAL,
			    "vDSO layout differs: %s is in the image, not on this kernel", a->name);
		if (a->end - a->start != b->end - b->start)
			return ferry_error(
			    err, EINVAL,
			    "vDSO layout differs: %s is %llu bytes in the image, %llu on "
			    "this kernel",
			    a->name, (unsigned long long)(a->end - a->start),
			    (unsigned long long)(b->end - b->start));
		if (iv && hv && a->start - iv->start != b->start - hv->start)
			return ferry_error(
			    err, EINVAL,
			    "vDSO layout differs: %s is at another offset from [vdso] "
			    "than on this kernel",
			    a->name);
	}
	return 0;
}

/* Refuses an image taken on another OS or architecture, using CPU state features this CPU lacks,
 * or with another vDSO layout; returns 0 or -1. */
static int host_compatible(const struct cr_host *img, ferry_err_t *err)
{
	struct cr_image here = {0};
	int r = -1;

	if (os_ops.host_facts(&here.host, err) < 0)
		goto out;
	if (strcmp(img->os, here.host.os) || strcmp(img->arch, here.host.arch)) {
		ferry_error(err, EINVAL, "the image is of %s %s, this host is %s %s", img->os,
			    img->arch, here.host.os, here.host.arch);
		goto out;
	}
	if (img->xsave_mask & ~here.host.xsave_mask) {
		ferry_error(
		    err, EINVAL,
		    "the image uses CPU state features (xsave 0x%llx) this CPU lacks (0x%llx)",
		    (unsigned long long)img->xsave_mask, (unsigned long long)here.host.xsave_mask);
		goto out;
	}
	r = vdso_compatible(img, &here.host, err);
out:
	cr_image_free(&here);
	return r;
}

/* Every pid and tid of the image must be free; returns 0 or -1 naming the first one in use. */
static int pids_free(const struct cr_image *img, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t t = 0; t < img->procs[i].n_threads; t++) {
			pid_t tid = img->procs[i].threads[t].tid;

			if (kill(tid, 0) == 0 || errno == EPERM)
				return ferry_error(err, EEXIST, "pid %d is in use", tid);
		}
	return 0;
}

static bool in_tree(const struct cr_image *img, int32_t pid)
{
	return cr_image_find_process(img, pid) != NULL;
}

/* Whether process group pgid lives on in the caller's session. Its leader may be gone while the
 * group lives (getsid then fails): the backend tries to join it and keeps the caller's group if
 * it is of another session. */
static bool group_here(pid_t pgid)
{
	pid_t sid = getsid(pgid);

	if (sid >= 0)
		return sid == getsid(0);
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/* The caller's terminal (the first of fds 0..2 that is one), or NULL. */
static char *caller_tty(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (isatty(fd))
			return ttyname(fd);
	return NULL;
}

/* Sessions and groups outside the tree are not re-created: the tree joins the caller's session,
 * and the caller's process group unless the dumped group lives on in the caller's session (and
 * --shell-job is not given). With --shell-job, fds on a pseudo-terminal are opened on the
 * caller's terminal (CRIU's --shell-job). Returns 0 or -1. */
static int adopt_outside(struct cr_image *img, bool shell_job, ferry_err_t *err)
{
	const char *tty = shell_job ? caller_tty() : NULL;

	for (size_t i = 0; i < img->n_procs; i++) {
		struct cr_process *p = &img->procs[i];

		if (!in_tree(img, p->sid))
			p->sid = getsid(0);
		if (!in_tree(img, p->pgid) && (shell_job || p->pgid == 0 || !group_here(p->pgid)))
			p->pgid = getpgrp();
		for (size_t k = 0; tty && k < p->n_fds; k++) {
			struct cr_fd *f = &p->fds[k];
			char *path;

			if (f->kind != CR_FD_CHR || !f->path || strncmp(f->path, "/dev/pts/", 9))
				continue;
			path = strdup(tty);
			if (!path)
				return ferry_error(err, ENOMEM, "shell job");
			free(f->path);
			f->path = path;
		}
	}
	return 0;
}

int cr_image_load(const char *dir, struct cr_image *img, uint64_t *read_us, ferry_err_t *err)
{
	uint64_t t0 = now_us();

	if (!dir)
		return ferry_error(err, EINVAL, "restore: no image path given");
	if (image_read(dir, 0, img, err) < 0)
		return ferry_error_wrap(err, "restore from %s", dir);
	if (read_us)
		*read_us = now_us() - t0;
	if (host_compatible(&img->host, err) < 0) {
		cr_image_free(img);
		return ferry_error_wrap(err, "restore from %s: check host", dir);
	}
	return 0;
}

pid_t cr_restore_loaded(const struct ferry_restore_opts *opts, struct cr_image *img, pid_t root,
			const struct ferry_spec *spec, struct ferry_restore_stats *stats,
			ferry_err_t *err)
{
	struct image_summary sum;
	struct os_restore_req req = {
	    .image_path = opts->image_path,
	    .shell_job = opts->shell_job,
	    .tcp_established = opts->tcp_established,
	    .root = root,
	    .spec = spec,
	    .progress = opts->progress,
	    .progress_arg = opts->progress_arg,
	};
	pid_t pid = -1;

	if (!os_ops.restore)
		return ferry_error(err, ENOSYS, "restore: not supported on this OS");
	if (opts->progress)
		opts->progress(opts->progress_arg, "read", 1, 1);
	if (adopt_outside(img, opts->shell_job, err) < 0)
		ferry_error_wrap(err, "restore from %s", opts->image_path);
	else
		pid = os_ops.restore(&req, img, stats, err);
	image_summarize(img, &sum);
	stats->processes = sum.processes;
	stats->threads = sum.threads;
	stats->pages = sum.pages;
	return pid;
}

int ferry_process_restore(const struct ferry_restore_opts *opts, pid_t *root_pid,
			  struct ferry_restore_stats *stats, ferry_err_t *err)
{
	struct ferry_restore_stats st = {0};
	struct cr_image img = {0};
	uint64_t t0 = now_us();
	pid_t root = -1;

	if (cr_image_load(opts->image_path, &img, &st.read_us, err) < 0)
		return -1;
	if (img.container)
		ferry_error(err, EINVAL,
			    "restore from %s: this is the image of container \"%s\": use "
			    "`ferry restore`",
			    opts->image_path, img.container->id);
	else if (pids_free(&img, err) < 0)
		ferry_error_wrap(err, "restore from %s: check pids", opts->image_path);
	else
		root = cr_restore_loaded(opts, &img, 0, NULL, &st, err);
	cr_image_free(&img);
	st.total_us = now_us() - t0;
	if (stats)
		*stats = st;
	if (root < 0)
		return -1;
	if (root_pid)
		*root_pid = root;
	return 0;
}

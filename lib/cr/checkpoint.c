// SPDX-License-Identifier: Apache-2.0
/* `ferry process checkpoint`: the backend freezes and collects the tree, pages going to the image
 * as they are read; the model is written and the image sealed while the tree is still stopped;
 * only then may the backend kill it. A failure leaves the tree running and no image files. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cr/cr.h"
#include "cr/model.h"
#include "ferry/process.h"
#include "image/image.h"
#include "os/os.h"

struct seal_ctx {
	struct image_writer *w; /* NULL once closed */
	struct ferry_checkpoint_stats *stats;
	const struct ferry_checkpoint_opts *opts;
	const struct cr_dump_args *args;
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Writes the model and seals the image; called by the backend with the tree stopped. */
static int seal(void *arg, struct cr_image *img, ferry_err_t *err)
{
	struct seal_ctx *s = arg;
	struct image_writer *w = s->w;
	uint64_t t0 = now_us();
	int r;

	if (s->opts->progress)
		s->opts->progress(s->opts->progress_arg, "write", 0, img->n_procs);
	s->w = NULL;
	r = cr_image_check_peers(img, err);
	if (r == 0 && s->args->collect && img->container)
		r = s->args->collect(s->args->collect_arg, img->container, err);
	if (r == 0)
		r = image_write_all(w, img, err);
	if (r < 0) {
		image_writer_abort(w);
		return -1;
	}
	r = image_writer_close(w, &img->host, img->root_pid, err);
	s->stats->write_us += now_us() - t0;
	if (r == 0 && s->opts->progress)
		s->opts->progress(s->opts->progress_arg, "write", img->n_procs, img->n_procs);
	return r;
}

/* Removes the image files (*.img) of dir, and dir itself when this checkpoint made it. */
static void remove_partial(const char *dir, bool made)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			size_t n = strlen(e->d_name);

			if (n > 4 && !strcmp(e->d_name + n - 4, ".img"))
				unlinkat(dirfd(d), e->d_name, 0);
		}
		closedir(d);
	}
	if (made)
		rmdir(dir);
}

int cr_checkpoint(const struct cr_dump_args *a, struct ferry_checkpoint_stats *stats,
		  ferry_err_t *err)
{
	const struct ferry_checkpoint_opts *opts = a->opts;
	struct ferry_checkpoint_stats st = {0};
	struct cr_image img = {.container = a->container};
	struct seal_ctx sc = {.stats = &st, .opts = opts, .args = a};
	struct os_dump_req req = {
	    .pid = opts->pid,
	    .cgroup = a->cgroup,
	    .leave_running = opts->leave_running,
	    .shell_job = opts->shell_job,
	    .tcp_established = opts->tcp_established,
	    .netns_lock = a->netns_lock,
	    .progress = opts->progress,
	    .progress_arg = opts->progress_arg,
	    .seal = seal,
	    .seal_arg = &sc,
	};
	uint64_t t0 = now_us();
	struct stat sb;
	bool made = stat(opts->image_path, &sb) < 0;
	int r = -1;

	if (!os_ops.dump || !os_ops.host_facts) {
		ferry_error(err, ENOSYS, "checkpoint: not supported on this OS");
		goto out;
	}
	sc.w = image_writer_open(opts->image_path, err);
	if (!sc.w) {
		ferry_error_wrap(err, "checkpoint %d", opts->pid);
		goto out;
	}
	r = os_ops.host_facts(&img.host, err);
	if (r == 0)
		r = os_ops.dump(&req, sc.w, &img, &st, err);
	image_writer_abort(sc.w);
	if (r < 0)
		remove_partial(opts->image_path, made);
out:
	cr_image_free(&img);
	st.total_us = now_us() - t0;
	if (stats)
		*stats = st;
	return r;
}

int ferry_process_checkpoint(const struct ferry_checkpoint_opts *opts,
			     struct ferry_checkpoint_stats *stats, ferry_err_t *err)
{
	struct cr_dump_args a = {.opts = opts};

	if (opts->pid <= 0)
		return ferry_error(err, EINVAL, "checkpoint: no pid given");
	if (opts->pid == 1)
		return ferry_error(
		    err, EPERM,
		    "checkpoint 1: pid 1 is the init of this pid namespace; freezing or "
		    "killing it would take the namespace down");
	if (opts->pid == getpid())
		return ferry_error(err, EINVAL, "checkpoint %d: that is ferry itself", opts->pid);
	return cr_checkpoint(&a, stats, err);
}

// SPDX-License-Identifier: Apache-2.0
/* Restore of a process tree: the whole image is read and validated before anything is created,
 * then the OS backend re-creates the tree. */
#include <errno.h>
#include <time.h>

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

int ferry_process_restore(const struct ferry_restore_opts *opts, pid_t *root_pid,
			  struct ferry_restore_stats *stats, ferry_err_t *err)
{
	struct ferry_restore_stats st = {0};
	struct cr_image img = {0};
	struct image_summary sum;
	struct os_restore_req req = {
	    .image_path = opts->image_path,
	    .shell_job = opts->shell_job,
	    .progress = opts->progress,
	    .progress_arg = opts->progress_arg,
	};
	uint64_t t0 = now_us();
	pid_t root;

	if (!os_ops.restore)
		return ferry_error(err, ENOSYS, "restore: not supported on this OS");
	if (!opts->image_path)
		return ferry_error(err, EINVAL, "restore: no image path given");
	if (image_read(opts->image_path, 0, &img, err) < 0)
		return ferry_error_wrap(err, "restore from %s", opts->image_path);
	st.read_us = now_us() - t0;
	if (opts->progress)
		opts->progress(opts->progress_arg, "read", 1, 1);
	root = os_ops.restore(&req, &img, &st, err);
	image_summarize(&img, &sum);
	cr_image_free(&img);
	st.processes = sum.processes;
	st.threads = sum.threads;
	st.pages = sum.pages;
	st.total_us = now_us() - t0;
	if (stats)
		*stats = st;
	if (root < 0)
		return -1;
	if (root_pid)
		*root_pid = root;
	return 0;
}

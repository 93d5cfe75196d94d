// SPDX-License-Identifier: Apache-2.0
/* `ferry checkpoint` and `ferry restore` of a whole container, as runc's: the process tree with
 * what the container adds (its config, live limits, what its namespaces hold) in one image; a
 * restore creates the container from the bundle, its init parked as a copy of ferry that the
 * image's first process replaces. A failed checkpoint leaves the container running; a failed
 * restore leaves nothing. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/container_internal.h"
#include "core/hooks.h"
#include "core/state.h"
#include "cr/cr.h"
#include "ferry/container.h"
#include "ferry/log.h"
#include "image/image.h"
#include "os/os.h"

static const uint32_t ns_bits[FERRY_NS__COUNT] = {
    [FERRY_NS_PID] = CR_NS_PID,	      [FERRY_NS_NETWORK] = CR_NS_NET,
    [FERRY_NS_MOUNT] = CR_NS_MOUNT,   [FERRY_NS_IPC] = CR_NS_IPC,
    [FERRY_NS_UTS] = CR_NS_UTS,	      [FERRY_NS_USER] = CR_NS_USER,
    [FERRY_NS_CGROUP] = CR_NS_CGROUP, [FERRY_NS_TIME] = CR_NS_TIME,
};

/* The namespaces the container made itself (not joined by path). */
static uint32_t own_namespaces(const struct ferry_spec *spec)
{
	uint32_t bits = 0;

	for (size_t i = 0; spec->has_linux && i < spec->linux.n_namespaces; i++)
		if (!spec->linux.namespaces[i].path)
			bits |= ns_bits[spec->linux.namespaces[i].type];
	return bits;
}

struct collect_arg {
	pid_t init;
	const struct ferry_spec *spec;
};

/* What the container's namespaces hold, read while its processes are stopped. */
static int collect_namespaces(void *arg, struct cr_container *c, ferry_err_t *err)
{
	const struct collect_arg *a = arg;

	return os_ops.ct_collect(a->init, a->spec, c, err);
}

/* The container record of a running container; returns it or NULL. */
static struct cr_container *container_record(const struct ferry_ctx *ctx,
					     const struct state_rec *rec,
					     const struct ferry_spec *spec, ferry_err_t *err)
{
	_cleanup_free_ char *dir = state_dir(ctx, rec->pub.id, err), *path = NULL;
	struct cr_container *c = calloc(1, sizeof(*c));
	size_t len;

	if (!c || !dir || asprintf(&path, "%s/config.json", dir) < 0) {
		free(c);
		ferry_error(err, ENOMEM, "container record");
		return NULL;
	}
	c->id = strdup(rec->pub.id);
	c->config = ct_read_whole(path, &len, err);
	c->namespaces = own_namespaces(spec);
	c->netns_locked = ferry_spec_namespace(spec, FERRY_NS_NETWORK) != NULL;
	if (c->id && c->config && rec->pub.cgroup)
		c->limits = os_ops.limits_read(rec->pub.cgroup, err);
	if (!c->id || !c->config || (rec->pub.cgroup && !c->limits)) {
		cr_container_free(c);
		return NULL;
	}
	return c;
}

/* mkdir -p, as runc makes its image and work paths; returns 0 or -1. */
static int make_dirs(const char *path, ferry_err_t *err)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return ferry_error(err, ENOMEM, "%s", path);
	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return ferry_error_errno(err, "mkdir %s", p);
		if (!c)
			return 0;
		*s = c;
	}
}

static int cgroups_mode_check(const char *mode, ferry_err_t *err)
{
	static const char *const ok[] = {"soft", "full", "strict", "ignore"};

	if (!mode)
		return 0;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strcmp(mode, ok[i]))
			return 0;
	return ferry_error(err, EINVAL,
			   "--manage-cgroups-mode \"%s\": expected soft, full, strict or ignore",
			   mode);
}

/* After a checkpoint that stopped the container: gone as after `delete` (runc's behaviour). */
static void destroy_after_checkpoint(const struct ferry_ctx *ctx, const struct state_rec *rec,
				     const struct ferry_spec *spec)
{
	_cleanup_free_ char *json = ct_hook_state(rec->pub.id, 0, FERRY_STATUS_STOPPED, spec);
	ferry_err_t soft = NULL;

	if (rec->pub.cgroup && (os_ops.cgroup_kill(rec->pub.cgroup, SIGKILL, &soft) < 0 ||
				os_ops.cgroup_destroy(rec->pub.cgroup, &soft) < 0))
		ferry_log(FERRY_LOG_WARN, "checkpoint: %s", soft->msg);
	ferry_error_free(&soft);
	if (json && hooks_run(spec, FERRY_HOOK_POSTSTOP, json, &soft) < 0)
		ferry_log(FERRY_LOG_WARN, "%s", soft->msg);
	ferry_error_free(&soft);
	if (state_dir_remove(ctx, rec->pub.id, &soft) < 0)
		ferry_log(FERRY_LOG_WARN, "checkpoint: %s", soft->msg);
	ferry_error_free(&soft);
}

int ferry_container_checkpoint(const struct ferry_ctx *ctx,
			       const struct ferry_ct_checkpoint_opts *opts,
			       struct ferry_checkpoint_stats *stats, ferry_err_t *err)
{
	_cleanup_close_ int dirfd = state_dir_lock(ctx, opts->id, err);
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	struct ferry_checkpoint_stats st = {0};
	struct ferry_checkpoint_opts po = {
	    .image_path = opts->image_path,
	    .leave_running = opts->leave_running,
	    .shell_job = opts->shell_job,
	    .tcp_established = opts->tcp_established,
	    .progress = opts->progress,
	    .progress_arg = opts->progress_arg,
	};
	struct cr_dump_args a = {.opts = &po, .collect = collect_namespaces};
	struct collect_arg ca;
	ferry_err_t soft = NULL;

	if (dirfd < 0 || state_read(ctx, opts->id, &rec, err) < 0)
		return -1;
	if (rec.pub.status != FERRY_STATUS_RUNNING && rec.pub.status != FERRY_STATUS_PAUSED)
		return ferry_error(err, EINVAL,
				   "container \"%s\" is %s: only a running or paused container "
				   "can be checkpointed",
				   opts->id, ferry_status_name(rec.pub.status));
	if (!opts->image_path)
		return ferry_error(err, EINVAL, "checkpoint: no image path given");
	if (cgroups_mode_check(opts->manage_cgroups_mode, err) < 0 ||
	    make_dirs(opts->image_path, err) < 0 ||
	    (opts->work_path && make_dirs(opts->work_path, err) < 0))
		return -1;
	spec = ferry_container_spec(ctx, opts->id, err);
	if (!spec)
		return -1;
	a.container = container_record(ctx, &rec, spec, err);
	if (!a.container)
		return ferry_error_wrap(err, "checkpoint container \"%s\"", opts->id);
	po.pid = rec.pub.pid;
	ca = (struct collect_arg){rec.pub.pid, spec};
	a.collect_arg = &ca;
	a.cgroup = rec.pub.cgroup;
	a.netns_lock = a.container->netns_locked;
	if (cr_checkpoint(&a, &st, err) < 0)
		return ferry_error_wrap(err, "checkpoint container \"%s\"", opts->id);
	if (stats)
		*stats = st;
	if (image_write_dump_stats(opts->work_path ? opts->work_path : opts->image_path, &st,
				   &soft) < 0)
		ferry_log(FERRY_LOG_WARN, "checkpoint: %s", soft->msg);
	ferry_error_free(&soft);
	if (!opts->leave_running)
		destroy_after_checkpoint(ctx, &rec, spec);
	return 0;
}

/* The bundle must run what the image's container ran (same process.args): an image of another
 * container is refused before anything is made. Returns 0 or -1. */
static int same_container(const struct cr_container *c, const struct ferry_spec *bundle,
			  ferry_err_t *err)
{
	_cleanup_spec_ struct ferry_spec *was =
	    ferry_spec_parse(c->config, strlen(c->config), bundle->bundle, err);
	bool same;

	if (!was)
		return ferry_error_wrap(err, "the image's config.json");
	same = was->process.n_args == bundle->process.n_args;
	for (size_t i = 0; same && i < was->process.n_args; i++)
		same = !strcmp(was->process.args[i], bundle->process.args[i]);
	if (!same)
		return ferry_error(err, EINVAL,
				   "the image is of container \"%s\", which ran \"%s\"; the "
				   "bundle's config.json runs \"%s\": not the same container",
				   c->id, was->process.n_args ? was->process.args[0] : "",
				   bundle->process.n_args ? bundle->process.args[0] : "");
	return 0;
}

/* Checks the image and the bundle before anything is made; returns 0 or -1. */
static int restore_preflight(const struct ferry_ct_restore_opts *opts, const struct cr_image *img,
			     ferry_err_t *err)
{
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	char bundle[4096];

	if (!img->container)
		return ferry_error(err, EINVAL,
				   "%s is the image of a process tree, not of a container: use "
				   "`ferry process restore`",
				   opts->image_path);
	if (!realpath(opts->bundle ? opts->bundle : ".", bundle))
		return ferry_error_errno(err, "bundle %s", opts->bundle ? opts->bundle : ".");
	spec = ferry_spec_load(bundle, err);
	if (!spec)
		return -1;
	if (spec->process.terminal && !opts->console_socket)
		return ferry_error(err, EINVAL,
				   "process.terminal is true: restore needs --console-socket");
	return same_container(img->container, spec, err);
}

/* Applies the live limits of the image, made at create from the bundle's config; returns 0 or
 * -1. */
static int restore_limits(const struct state_rec *rec, const struct cr_container *c,
			  ferry_err_t *err)
{
	_cleanup_free_ char *warnings = NULL;

	if (!c->limits || !rec->pub.cgroup)
		return 0;
	if (os_ops.limits_apply(rec->pub.cgroup, c->limits, NULL, &warnings, err) < 0)
		return ferry_error_wrap(err, "limits of the image");
	if (warnings)
		ferry_log(FERRY_LOG_WARN, "restore: %s", warnings);
	return 0;
}

/* The parked init made by ct_create becomes the image's tree; returns 0 or -1. */
static int restore_into(const struct ferry_ctx *ctx, const struct ferry_ct_restore_opts *opts,
			struct cr_image *img, pid_t init, struct ferry_restore_stats *st,
			ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_spec_ struct ferry_spec *spec = ferry_container_spec(ctx, opts->id, err);
	_cleanup_free_ char *dir = NULL, *fifo = NULL;
	struct ferry_restore_opts ro = {
	    .image_path = opts->image_path,
	    .tcp_established = opts->tcp_established,
	    .progress = opts->progress,
	    .progress_arg = opts->progress_arg,
	};

	if (!spec || state_read(ctx, opts->id, &rec, err) < 0)
		return -1;
	if (restore_limits(&rec, img->container, err) < 0 ||
	    os_ops.ct_prepare(init, spec, img, err) < 0)
		return -1;
	if (cr_restore_loaded(&ro, img, init, spec, st, err) < 0)
		return -1;
	if (opts->pid_file && ct_write_pid_file(opts->pid_file, init, err) < 0)
		return -1;
	dir = state_dir(ctx, opts->id, err);
	if (!dir || asprintf(&fifo, "%s/exec.fifo", dir) < 0)
		return -1;
	unlink(fifo); /* running from here */
	return 0;
}

static void poststart(const struct ferry_ctx *ctx, const char *id, pid_t pid)
{
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	_cleanup_free_ char *json = NULL;
	ferry_err_t soft = NULL;

	spec = ferry_container_spec(ctx, id, &soft);
	json = spec ? ct_hook_state(id, pid, FERRY_STATUS_RUNNING, spec) : NULL;
	if (json && hooks_run(spec, FERRY_HOOK_POSTSTART, json, &soft) < 0)
		ferry_log(FERRY_LOG_WARN, "%s", soft->msg);
	ferry_error_free(&soft);
}

int ferry_container_restore(const struct ferry_ctx *ctx, const struct ferry_ct_restore_opts *opts,
			    pid_t *init_pid, struct ferry_restore_stats *stats, ferry_err_t *err)
{
	struct ferry_restore_stats st = {0};
	struct cr_image img = {0};
	struct ferry_create_opts co = {
	    .id = opts->id,
	    .bundle = opts->bundle,
	    .console_socket = opts->console_socket,
	};
	struct timespec t0, t1;
	ferry_err_t soft = NULL;
	int console_fd = -1, r;
	pid_t init = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ferry_id_validate(opts->id, err) < 0 ||
	    (opts->work_path && make_dirs(opts->work_path, err) < 0))
		return -1;
	if (cr_image_load(opts->image_path, &img, &st.read_us, err) < 0)
		return ferry_error_wrap(err, "restore container \"%s\"", opts->id);
	r = restore_preflight(opts, &img, err);
	if (r == 0)
		r = ct_create(ctx, &co, true, &init, &console_fd, err);
	if (r == 0 && restore_into(ctx, opts, &img, init, &st, err) < 0) {
		_cleanup_rec_ struct state_rec rec = {0};

		if (state_read(ctx, opts->id, &rec, &soft) == 0)
			ct_create_rollback(ctx, opts->id, rec.pub.cgroup, init);
		ferry_error_free(&soft);
		r = -1;
	}
	cr_image_free(&img);
	if (r < 0)
		return ferry_error_wrap(err, "restore container \"%s\"", opts->id);
	poststart(ctx, opts->id, init);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st.total_us = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
		      (uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000;
	if (image_write_restore_stats(opts->work_path ? opts->work_path : opts->image_path, &st,
				      &soft) < 0)
		ferry_log(FERRY_LOG_WARN, "restore: %s", soft->msg);
	ferry_error_free(&soft);
	if (stats)
		*stats = st;
	*init_pid = init;
	return 0;
}

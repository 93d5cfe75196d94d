// SPDX-License-Identifier: Apache-2.0
/* The container lifecycle: create, start, kill, delete, pause, exec, over the state store. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cleanup.h"
#include "core/container_internal.h"
#include "core/container_limits.h"
#include "core/hooks.h"
#include "core/state.h"
#include "core/timefmt.h"
#include "ferry/container.h"
#include "ferry/log.h"
#include "os/os.h"

char *ct_read_whole(const char *path, size_t *len, ferry_err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f) {
		ferry_error_errno(err, "open %s", path);
		return NULL;
	}
	do {
		if (n + 4096 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);

			if (!nb) {
				free(buf);
				ferry_error(err, ENOMEM, "read %s", path);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct ferry_spec *ferry_container_spec(const struct ferry_ctx *ctx, const char *id,
					ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
	size_t len;

	if (state_read(ctx, id, &rec, err) < 0)
		return NULL;
	dir = state_dir(ctx, id, err);
	if (!dir || asprintf(&path, "%s/config.json", dir) < 0)
		return NULL;
	text = ct_read_whole(path, &len, err);
	if (!text)
		return NULL;
	return ferry_spec_parse(text, len, rec.pub.bundle, err);
}

/* Builds the state JSON that hooks get on stdin. */
char *ct_hook_state(const char *id, pid_t pid, enum ferry_status status,
		    const struct ferry_spec *spec)
{
	struct ferry_state st = {
	    .id = (char *)id,
	    .pid = pid,
	    .status = status,
	    .bundle = spec->bundle,
	    .rootfs = spec->rootfs,
	    .created = "",
	    .owner = "",
	    .annotations = spec->annotations,
	    .n_annotations = spec->n_annotations,
	};

	return ferry_state_to_json(&st, false);
}

struct create_hooks_arg {
	const struct ferry_spec *spec;
	const char *id;
};

static int create_hooks(void *arg, pid_t pid, char **state_json, ferry_err_t *err)
{
	struct create_hooks_arg *a = arg;
	_cleanup_free_ char *json = ct_hook_state(a->id, pid, FERRY_STATUS_CREATING, a->spec);

	if (!json)
		return ferry_error(err, ENOMEM, "hook state");
	if (hooks_run(a->spec, FERRY_HOOK_PRESTART, json, err) < 0 ||
	    hooks_run(a->spec, FERRY_HOOK_CREATE_RUNTIME, json, err) < 0)
		return -1;
	*state_json = steal_ptr(json);
	return 0;
}

static char *bundle_path(const char *bundle, ferry_err_t *err)
{
	char buf[PATH_MAX];

	if (!realpath(bundle ? bundle : ".", buf)) {
		ferry_error_errno(err, "bundle %s", bundle ? bundle : ".");
		return NULL;
	}
	return strdup(buf);
}

int ct_write_pid_file(const char *path, pid_t pid, ferry_err_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);
	_cleanup_close_ int fd = -1;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return ferry_error(err, ENOMEM, "pid file");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, n) != n || rename(tmp, path) < 0) {
		ferry_error_errno(err, "pid file %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int save_config(int dirfd, const char *bundle, ferry_err_t *err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;

	if (asprintf(&path, "%s/config.json", bundle) < 0)
		return ferry_error(err, ENOMEM, "config path");
	text = ct_read_whole(path, &len, err);
	if (!text)
		return -1;
	return state_write_file(dirfd, "config.json", text, len, err);
}

static void kill_and_reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	for (int i = 0; i < 200 && os_ops.proc_start_time(pid); i++)
		poll(NULL, 0, 5);
}

void ct_create_rollback(const struct ferry_ctx *ctx, const char *id, const char *cgroup, pid_t pid)
{
	ferry_err_t ignored = NULL;

	kill_and_reap(pid);
	if (cgroup) {
		os_ops.cgroup_kill(cgroup, SIGKILL, &ignored);
		ferry_error_free(&ignored);
		os_ops.cgroup_destroy(cgroup, &ignored);
		ferry_error_free(&ignored);
	}
	state_dir_remove(ctx, id, &ignored);
	ferry_error_free(&ignored);
}

static int create_in_dir(const struct ferry_ctx *ctx, const struct ferry_create_opts *opts,
			 const struct ferry_spec *spec, int dirfd, struct state_rec *rec,
			 bool restore, int *console_fd, ferry_err_t *err)
{
	_cleanup_free_ char *dir = state_dir(ctx, opts->id, err);
	_cleanup_free_ char *fifo = NULL;
	struct create_hooks_arg harg = {.spec = spec, .id = opts->id};
	struct os_create_req req = {
	    .spec = spec,
	    .id = opts->id,
	    .cgroup = rec->pub.cgroup,
	    .console_socket = opts->console_socket,
	    .no_pivot = opts->no_pivot,
	    .no_new_keyring = opts->no_new_keyring,
	    .preserve_fds = opts->preserve_fds,
	    .keep_console = opts->foreground && !opts->console_socket,
	    .restore = restore,
	    .hooks = create_hooks,
	    .hooks_arg = &harg,
	};
	pid_t pid;

	if (!dir || asprintf(&fifo, "%s/exec.fifo", dir) < 0)
		return -1;
	if (save_config(dirfd, spec->bundle, err) < 0 || state_write(dirfd, rec, err) < 0)
		return -1;
	/* 0622: the init may run as a user that only a user namespace makes root. */
	if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0)
		return ferry_error_errno(err, "mkfifo %s", fifo);
	if (os_ops.cgroup_create(rec->pub.cgroup, err) < 0 ||
	    container_limits_apply(rec->pub.cgroup, spec, err) < 0)
		return -1;
	req.exec_fifo = fifo;
	pid = os_ops.create(&req, console_fd, err);
	if (pid < 0)
		return -1;
	rec->pub.pid = pid;
	rec->start_time = os_ops.proc_start_time(pid);
	if (state_write(dirfd, rec, err) < 0)
		return -1;
	if (opts->pid_file && ct_write_pid_file(opts->pid_file, pid, err) < 0)
		return -1;
	return 0;
}

int ct_create(const struct ferry_ctx *ctx, const struct ferry_create_opts *opts, bool restore,
	      pid_t *init_pid, int *console_fd, ferry_err_t *err)
{
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	_cleanup_free_ char *bundle = NULL;
	_cleanup_close_ int dirfd = -1;
	_cleanup_rec_ struct state_rec rec = {0};
	char created[64];

	*console_fd = -1;
	if (ferry_id_validate(opts->id, err) < 0)
		return -1;
	bundle = bundle_path(opts->bundle, err);
	if (!bundle)
		return -1;
	spec = ferry_spec_load(bundle, err);
	if (!spec)
		return -1;
	if (!spec->has_process)
		return ferry_error(err, 0, "config.json: process: missing");
	if (os_ops.validate(spec, err) < 0 ||
	    container_limits_check(spec->has_linux ? spec->linux.resources_json : NULL, err) < 0)
		return -1;
	rec.pub.cgroup =
	    os_ops.cgroup_resolve(spec->has_linux ? spec->linux.cgroups_path : NULL, opts->id, err);
	if (!rec.pub.cgroup)
		return -1;
	dirfd = state_dir_create(ctx, opts->id, err);
	if (dirfd < 0)
		return -1;
	rec.pub.id = strdup(opts->id);
	rec.pub.bundle = strdup(bundle);
	rec.pub.rootfs = strdup(spec->rootfs);
	rec.pub.created = strdup(ferry_time_rfc3339(created, sizeof(created), true));
	rec.pub.annotations = spec->annotations;
	rec.pub.n_annotations = spec->n_annotations;
	if (create_in_dir(ctx, opts, spec, dirfd, &rec, restore, console_fd, err) < 0) {
		ct_create_rollback(ctx, opts->id, rec.pub.cgroup, rec.pub.pid);
		if (*console_fd >= 0)
			close(*console_fd);
		*console_fd = -1;
		rec.pub.annotations = NULL;
		rec.pub.n_annotations = 0;
		return -1;
	}
	rec.pub.annotations = NULL; /* owned by spec */
	rec.pub.n_annotations = 0;
	*init_pid = rec.pub.pid;
	ferry_log(FERRY_LOG_DEBUG, "created container %s, init pid %d", opts->id, rec.pub.pid);
	return 0;
}

int ferry_container_create(const struct ferry_ctx *ctx, const struct ferry_create_opts *opts,
			   pid_t *init_pid, int *console_fd, ferry_err_t *err)
{
	return ct_create(ctx, opts, false, init_pid, console_fd, err);
}

/* Reads the fifo until want (1: the init's byte, 0: EOF once it has exec'd), watching that the
 * init stays alive. */
static int fifo_wait(int fd, const struct state_rec *rec, bool eof, ferry_err_t *err)
{
	char c;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 100);

		if (r > 0) {
			ssize_t n = read(fd, &c, 1);

			if (n == (eof ? 0 : 1))
				return 0;
		}
		if (os_ops.proc_start_time(rec->pub.pid) != rec->start_time)
			return eof ? 0
				   : ferry_error(err, 0,
						 "container \"%s\": its init exited before start",
						 rec->pub.id);
	}
}

/* Lets the init exec and waits until it has: read its byte from the fifo, then EOF. */
static int release_init(const char *dir, const struct state_rec *rec, ferry_err_t *err)
{
	_cleanup_free_ char *fifo = NULL;
	_cleanup_close_ int fd = -1;

	if (asprintf(&fifo, "%s/exec.fifo", dir) < 0)
		return ferry_error(err, ENOMEM, "fifo path");
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", fifo);
	if (fifo_wait(fd, rec, false, err) < 0)
		return -1;
	unlink(fifo);
	return fifo_wait(fd, rec, true, err);
}

int ferry_container_start(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_close_ int dirfd = state_dir_lock(ctx, id, err);
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_free_ char *dir = NULL;
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	_cleanup_free_ char *json = NULL;
	ferry_err_t hook_err = NULL;

	if (dirfd < 0 || state_read(ctx, id, &rec, err) < 0)
		return -1;
	if (rec.pub.status != FERRY_STATUS_CREATED)
		return ferry_error(err, 0, "cannot start a container that is %s",
				   ferry_status_name(rec.pub.status));
	dir = state_dir(ctx, id, err);
	spec = ferry_container_spec(ctx, id, err);
	if (!dir || !spec)
		return -1;
	if (release_init(dir, &rec, err) < 0)
		return -1;
	json = ct_hook_state(id, rec.pub.pid, FERRY_STATUS_RUNNING, spec);
	if (json && hooks_run(spec, FERRY_HOOK_POSTSTART, json, &hook_err) < 0) {
		/* The runtime-spec: a poststart failure is logged, the container keeps running. */
		ferry_log(FERRY_LOG_WARN, "%s", hook_err->msg);
		ferry_error_free(&hook_err);
	}
	return 0;
}

int ferry_container_state(const struct ferry_ctx *ctx, const char *id, struct ferry_state *st,
			  ferry_err_t *err)
{
	struct state_rec rec;

	if (state_read(ctx, id, &rec, err) < 0)
		return -1;
	rec.pub.owner = state_owner(ctx, id);
	*st = rec.pub;
	return 0;
}

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const struct ferry_state *)a)->id, ((const struct ferry_state *)b)->id);
}

int ferry_container_list(const struct ferry_ctx *ctx, struct ferry_state **out, size_t *n,
			 ferry_err_t *err)
{
	DIR *d = opendir(ctx->root);
	struct dirent *de;
	struct ferry_state *list = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : ferry_error_errno(err, "open %s", ctx->root);
	while ((de = readdir(d))) {
		struct state_rec rec;
		ferry_err_t ignored = NULL;
		struct ferry_state *nl;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (state_read(ctx, de->d_name, &rec, &ignored) < 0) {
			ferry_error_free(&ignored);
			continue;
		}
		rec.pub.owner = state_owner(ctx, de->d_name);
		nl = realloc(list, (count + 1) * sizeof(*list));
		if (!nl) {
			ferry_state_clear(&rec.pub);
			break;
		}
		list = nl;
		list[count++] = rec.pub;
	}
	closedir(d);
	qsort(list, count, sizeof(*list), cmp_state);
	*out = list;
	*n = count;
	return 0;
}

int ferry_container_kill(const struct ferry_ctx *ctx, const char *id, int sig, bool all,
			 ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};

	if (state_read(ctx, id, &rec, err) < 0)
		return -1;
	if (rec.pub.status == FERRY_STATUS_STOPPED)
		return ferry_error(err, 0, "container \"%s\" is not running", id);
	if (all && rec.pub.cgroup)
		return os_ops.cgroup_kill(rec.pub.cgroup, sig, err);
	if (kill(rec.pub.pid, sig) < 0)
		return ferry_error_errno(err, "kill container \"%s\" (pid %d)", id, rec.pub.pid);
	return 0;
}

/* Stops every process of a running container and waits for its init to be gone. */
static int stop_all(const struct state_rec *rec, ferry_err_t *err)
{
	ferry_err_t ignored = NULL;

	if (rec->pub.cgroup && os_ops.cgroup_kill(rec->pub.cgroup, SIGKILL, err) < 0)
		return -1;
	kill(rec->pub.pid, SIGKILL);
	if (rec->pub.status == FERRY_STATUS_PAUSED) {
		os_ops.cgroup_freeze(rec->pub.cgroup, false, &ignored);
		ferry_error_free(&ignored);
	}
	for (int i = 0; i < 1000; i++) {
		if (os_ops.proc_start_time(rec->pub.pid) != rec->start_time)
			return 0;
		poll(NULL, 0, 5);
	}
	return ferry_error(err, 0, "container \"%s\": init %d did not exit", rec->pub.id,
			   rec->pub.pid);
}

int ferry_container_delete(const struct ferry_ctx *ctx, const char *id, bool force,
			   ferry_err_t *err)
{
	_cleanup_close_ int dirfd = state_dir_lock(ctx, id, err);
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	ferry_err_t soft = NULL;

	if (dirfd < 0 || state_read(ctx, id, &rec, err) < 0)
		return -1;
	if ((rec.pub.status == FERRY_STATUS_RUNNING || rec.pub.status == FERRY_STATUS_PAUSED) &&
	    !force)
		return ferry_error(err, 0, "cannot delete container \"%s\" that is %s", id,
				   ferry_status_name(rec.pub.status));
	if (rec.pub.status != FERRY_STATUS_STOPPED && stop_all(&rec, err) < 0)
		return -1;
	if (rec.pub.cgroup && os_ops.cgroup_destroy(rec.pub.cgroup, err) < 0)
		return -1;
	spec = ferry_container_spec(ctx, id, &soft);
	if (spec) {
		_cleanup_free_ char *json = ct_hook_state(id, 0, FERRY_STATUS_STOPPED, spec);

		/* A poststop failure is logged; the delete goes on. */
		if (json && hooks_run(spec, FERRY_HOOK_POSTSTOP, json, &soft) < 0)
			ferry_log(FERRY_LOG_WARN, "%s", soft->msg);
	}
	ferry_error_free(&soft);
	return state_dir_remove(ctx, id, err);
}

int ferry_container_pause(const struct ferry_ctx *ctx, const char *id, bool pause, ferry_err_t *err)
{
	_cleanup_close_ int dirfd = state_dir_lock(ctx, id, err);
	_cleanup_rec_ struct state_rec rec = {0};
	enum ferry_status want = pause ? FERRY_STATUS_RUNNING : FERRY_STATUS_PAUSED;

	if (dirfd < 0 || state_read(ctx, id, &rec, err) < 0)
		return -1;
	if (rec.pub.status != want)
		return ferry_error(err, 0, "container \"%s\" is %s, not %s", id,
				   ferry_status_name(rec.pub.status), ferry_status_name(want));
	return os_ops.cgroup_freeze(rec.pub.cgroup, pause, err);
}

int ferry_container_pids(const struct ferry_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			 ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};

	*pids = NULL;
	*n = 0;
	if (state_read(ctx, id, &rec, err) < 0)
		return -1;
	if (rec.pub.status == FERRY_STATUS_STOPPED || !rec.pub.cgroup)
		return 0;
	return os_ops.cgroup_pids(rec.pub.cgroup, pids, n, err);
}

int ferry_container_exec(const struct ferry_ctx *ctx, const struct ferry_exec_opts *opts,
			 pid_t *pid, int *console_fd, ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_spec_ struct ferry_spec *spec = NULL;
	struct os_exec_req req = {
	    .process = opts->process,
	    .console_socket = opts->console_socket,
	    .keep_console = !opts->console_socket && !opts->detach,
	    .preserve_fds = opts->preserve_fds,
	};

	*console_fd = -1;
	if (state_read(ctx, opts->id, &rec, err) < 0)
		return -1;
	if (rec.pub.status != FERRY_STATUS_RUNNING && rec.pub.status != FERRY_STATUS_CREATED)
		return ferry_error(err, 0, "cannot exec in a container that is %s",
				   ferry_status_name(rec.pub.status));
	if (opts->process->terminal && opts->detach && !opts->console_socket)
		return ferry_error(err, 0, "exec --detach with a terminal needs --console-socket");
	if (!opts->process->n_args)
		return ferry_error(err, 0, "exec: no command given");
	if (os_ops.validate_process(opts->process, err) < 0)
		return -1;
	spec = ferry_container_spec(ctx, opts->id, err);
	if (!spec)
		return -1;
	req.spec = spec;
	req.init_pid = rec.pub.pid;
	req.cgroup = rec.pub.cgroup;
	*pid = os_ops.exec(&req, console_fd, err);
	if (*pid < 0)
		return -1;
	if (opts->pid_file && ct_write_pid_file(opts->pid_file, *pid, err) < 0) {
		kill_and_reap(*pid);
		return -1;
	}
	return 0;
}

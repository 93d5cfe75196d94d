/* SPDX-License-Identifier: Apache-2.0 */
/* The container lifecycle, as the command line drives it (runc's commands). */
#ifndef FERRY_CONTAINER_H
#define FERRY_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ferry/error.h"
#include "ferry/process.h"
#include "ferry/spec.h"

#define FERRY_DEFAULT_ROOT "/run/ferry"
#define FERRY_ID_MAX 1024

struct ferry_ctx {
	const char *root; /* state directory, --root */
};

enum ferry_status {
	FERRY_STATUS_CREATING,
	FERRY_STATUS_CREATED,
	FERRY_STATUS_RUNNING,
	FERRY_STATUS_PAUSED,
	FERRY_STATUS_STOPPED,
};

/* What `state` and `list` report of one container. */
struct ferry_state {
	char *id;
	pid_t pid; /* 0 when stopped */
	enum ferry_status status;
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *owner;
	char *cgroup;
	struct ferry_kv *annotations;
	size_t n_annotations;
};

struct ferry_create_opts {
	const char *id;
	const char *bundle; /* NULL: the current directory */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	/* run in the foreground: the container's init becomes the caller's child and, with a
	 * terminal and no console socket, the caller gets the pty master in *console_fd */
	bool foreground;
};

struct ferry_exec_opts {
	const char *id;
	struct ferry_process *process; /* filled by the caller (from --process or args) */
	const char *console_socket;
	const char *pid_file;
	bool detach;
	int preserve_fds;
};

struct ferry_ct_checkpoint_opts {
	const char *id;
	const char *image_path; /* made if missing; must hold no image yet */
	const char *work_path;	/* stats-dump goes here (NULL: the image path) */
	bool leave_running;	/* else the container is stopped and its state removed, as runc */
	bool tcp_established;
	bool ext_unix_sk, shell_job, file_locks; /* accepted (runc's flags) */
	const char *manage_cgroups_mode;	 /* soft|full|strict|ignore, or NULL */
	ferry_progress_fn progress;
	void *progress_arg;
};

struct ferry_ct_restore_opts {
	const char *id;
	const char *bundle; /* NULL: the current directory */
	const char *image_path;
	const char *work_path;
	const char *pid_file;
	const char *console_socket;
	bool detach; /* else the restored init is the caller's child, to wait for */
	bool tcp_established;
	const char *lsm_mount_context;
	ferry_progress_fn progress;
	void *progress_arg;
};

/* Checkpoints a running (or paused) container into opts->image_path; writes stats-dump in the
 * work path. Without leave_running the container is stopped and deleted once the image is
 * sealed. On failure the container runs on unchanged. Returns 0 or -1. */
int ferry_container_checkpoint(const struct ferry_ctx *ctx,
			       const struct ferry_ct_checkpoint_opts *opts,
			       struct ferry_checkpoint_stats *stats, ferry_err_t *err);

/* Creates container opts->id from the bundle and restores the image into it, running; *init_pid
 * is its first process (the caller's child). On failure nothing is left. Returns 0 or -1. */
int ferry_container_restore(const struct ferry_ctx *ctx, const struct ferry_ct_restore_opts *opts,
			    pid_t *init_pid, struct ferry_restore_stats *stats, ferry_err_t *err);

/* Returns "created", "running", ... */
const char *ferry_status_name(enum ferry_status s);

/* Checks a container id (not empty, no '/', not "." or "..", at most FERRY_ID_MAX bytes, printable);
 * returns 0 or -1. */
int ferry_id_validate(const char *id, ferry_err_t *err);

/* Creates the container (runc create). *init_pid and *console_fd (-1 if none) are set on success.
 * Returns 0 or -1; on failure nothing is left behind. */
int ferry_container_create(const struct ferry_ctx *ctx, const struct ferry_create_opts *opts,
			   pid_t *init_pid, int *console_fd, ferry_err_t *err);

/* Starts a created container (runc start) and runs the poststart hooks; returns 0 or -1. */
int ferry_container_start(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* Reads one container's state; returns 0 or -1 (unknown id). Free with ferry_state_clear. */
int ferry_container_state(const struct ferry_ctx *ctx, const char *id, struct ferry_state *st,
			  ferry_err_t *err);

/* Returns the state as runc's JSON text (a new string), or NULL. */
char *ferry_state_to_json(const struct ferry_state *st, bool pretty);

/* Frees what st owns. */
void ferry_state_clear(struct ferry_state *st);

/* Lists every container under the root; *out is an array of *n states. Returns 0 or -1. */
int ferry_container_list(const struct ferry_ctx *ctx, struct ferry_state **out, size_t *n,
			 ferry_err_t *err);

/* Sends a signal to the init (or, with all, to every process of the container); returns 0 or -1. */
int ferry_container_kill(const struct ferry_ctx *ctx, const char *id, int sig, bool all,
			 ferry_err_t *err);

/* Deletes a stopped (or created) container; force kills a running one first. Returns 0 or -1. */
int ferry_container_delete(const struct ferry_ctx *ctx, const char *id, bool force,
			   ferry_err_t *err);

/* Freezes (pause) or thaws (resume) the container; returns 0 or -1. */
int ferry_container_pause(const struct ferry_ctx *ctx, const char *id, bool pause,
			  ferry_err_t *err);

/* Lists the pids of the container's processes (*pids malloc'd); returns 0 or -1. */
int ferry_container_pids(const struct ferry_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			 ferry_err_t *err);

/* Runs a new process in the container. *pid is its pid and *console_fd the pty master when the
 * process has a terminal and no console socket was given (-1 otherwise). Returns 0 or -1. */
int ferry_container_exec(const struct ferry_ctx *ctx, const struct ferry_exec_opts *opts,
			 pid_t *pid, int *console_fd, ferry_err_t *err);

/* Loads the config the container was created with (kept in its state); returns NULL on error. */
struct ferry_spec *ferry_container_spec(const struct ferry_ctx *ctx, const char *id,
					ferry_err_t *err);

/* Changes the resource limits of a running (or created/paused) container live; resources_json is
 * OCI linux.resources JSON with only the values to change. *warnings (new string or NULL) lists
 * settings this host cannot apply. Returns 0 or -1. */
int ferry_container_update(const struct ferry_ctx *ctx, const char *id, const char *resources_json,
			   char **warnings, ferry_err_t *err);

/* The container's live limits as linux.resources JSON (new string), or NULL. */
char *ferry_container_limits(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* runc's `events --stats` object {"type":"stats","id":...,"data":{...}} as JSON (new string). */
char *ferry_container_stats(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err);

/* The number of OOM kills in the container so far; returns 0 or -1. */
int ferry_container_oom_count(const struct ferry_ctx *ctx, const char *id,
			      unsigned long long *count, ferry_err_t *err);

/* Translates linux.resources JSON into `format`: "json" (normalised OCI), "cgroup1", "cgroup2"
 * (one "file value" a line, v1 prefixed with the controller), or "rctl" (one RCTL rule a line
 * for jail `name`, then cpuset and devfs lines; nofile >= 0 adds openfiles from RLIMIT_NOFILE);
 * warnings follow as "# warning: ..." lines. Returns a new string or NULL. */
char *ferry_limits_format(const char *resources_json, const char *format, const char *name,
			  long long nofile, ferry_err_t *err);

/* Signal name ("TERM", "SIGTERM", "15") to number; returns the number or -1. */
int ferry_signal_parse(const char *s, ferry_err_t *err);

/* Returns the features JSON (runc features), a new string. */
char *ferry_features_json(void);

#endif

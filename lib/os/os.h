/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The backend contract: the operations each OS implements. lib/core calls only these; the build
 * links exactly one backend (mk/$(OS).mk), which defines `os_ops`.
 */
#ifndef FERRY_OS_H
#define FERRY_OS_H

#include <stdbool.h>
#include <sys/types.h>

#include "ferry/error.h"
#include "ferry/process.h"
#include "ferry/spec.h"

/* Called by the backend once the container's namespaces exist and before its root is pivoted:
 * runs the prestart and createRuntime hooks for init `pid` and returns in *state_json (new string)
 * the state that the hooks inside the container will get. Returns 0 or -1. */
typedef int (*os_hooks_cb)(void *arg, pid_t pid, char **state_json, ferry_err_t *err);

struct os_create_req {
	const struct ferry_spec *spec;
	const char *id;
	const char *cgroup;     /* resolved cgroup path (from os_ops.cgroup_resolve) */
	const char *exec_fifo;  /* the init blocks writing to this fifo until `start` */
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	bool keep_console;      /* no console socket: hand the pty master to the caller */
	bool restore;           /* the init stops after READY, every signal blocked, as a copy of
				 * ferry that a restore makes the container's first process */
	os_hooks_cb hooks;
	void *hooks_arg;
};

struct os_exec_req {
	const struct ferry_spec *spec; /* the container's config (seccomp, namespaces) */
	const struct ferry_process *process;
	pid_t init_pid;
	const char *cgroup;
	const char *console_socket;
	bool keep_console;
	int preserve_fds;
};

struct image_writer;
struct cr_image;
struct cr_host;
struct cr_container;
struct ferry_checkpoint_stats;
struct ferry_restore_stats;

struct os_dump_req {
	pid_t pid;            /* root of the tree */
	const char *cgroup;   /* the tree's own cgroup (freezer first), or NULL */
	bool leave_running;
	bool shell_job;
	bool tcp_established; /* established TCP connections are dumped (else refused) */
	bool netns_lock;      /* the tree owns its network namespace: lock all of it */
	ferry_progress_fn progress;
	void *progress_arg;
	/* Called by dump once the whole tree is collected (img complete, its pages written), with
	 * every thread still stopped: writes the model and seals the image. Only when it returns
	 * 0 may the tree be killed (!leave_running); when it fails the tree runs on unchanged. */
	int (*seal)(void *arg, struct cr_image *img, ferry_err_t *err);
	void *seal_arg;
};

struct os_restore_req {
	const char *image_path; /* page data is read from here */
	bool shell_job;
	bool tcp_established; /* the image's TCP connections are restored */
	const struct ferry_spec *spec; /* a container's config: its seccomp filter is installed in
					* every restored process; NULL for a process tree */
	pid_t root;           /* > 0: a stopped child copy of ferry inside the target namespaces
			       * (a container's init) becomes the root; 0: the root is made */
	ferry_progress_fn progress;
	void *progress_arg;
};

struct os_ops {
	/* Checks everything OS-specific in the spec before anything is made; returns 0 or -1. */
	int (*validate)(const struct ferry_spec *spec, ferry_err_t *err);
	/* Checks an exec'd process's OS-specific fields; returns 0 or -1. */
	int (*validate_process)(const struct ferry_process *proc, ferry_err_t *err);
	/* Resolves the config's cgroupsPath into the stored path; returns a new string or NULL. */
	char *(*cgroup_resolve)(const char *cgroups_path, const char *id, ferry_err_t *err);
	/* Makes the container's cgroup; returns 0 or -1. */
	int (*cgroup_create)(const char *cgroup, ferry_err_t *err);
	/* Creates the container's init, stopped before exec; returns its pid or -1. *console_fd
	 * gets the pty master with keep_console (else -1). */
	pid_t (*create)(const struct os_create_req *req, int *console_fd, ferry_err_t *err);
	/* Starts a process in a running container; returns its pid or -1. */
	pid_t (*exec)(const struct os_exec_req *req, int *console_fd, ferry_err_t *err);
	/* A process's start time (an opaque number that differs when a pid is reused); 0 when
	 * it is gone or a zombie. */
	unsigned long long (*proc_start_time)(pid_t pid);
	int (*cgroup_pids)(const char *cgroup, pid_t **pids, size_t *n, ferry_err_t *err);
	int (*cgroup_freeze)(const char *cgroup, bool frozen, ferry_err_t *err);
	int (*cgroup_frozen)(const char *cgroup, bool *frozen, ferry_err_t *err);
	int (*cgroup_kill)(const char *cgroup, int sig, ferry_err_t *err);
	int (*cgroup_destroy)(const char *cgroup, ferry_err_t *err);
	/* Applies resource limits (linux.resources JSON) to the cgroup. At create, spec is the
	 * container's config (its devices and the default ones are then allowed, as runc does); on
	 * update it is NULL. *warnings (new string of lines, or NULL) names settings this host cannot
	 * express. Returns 0 or -1. */
	int (*limits_apply)(const char *cgroup, const char *resources_json,
			    const struct ferry_spec *spec, char **warnings, ferry_err_t *err);
	/* Reads the live limits as linux.resources JSON (new string); returns NULL on error. */
	char *(*limits_read)(const char *cgroup, ferry_err_t *err);
	/* runc's events --stats "data" object as JSON (new string), or NULL. */
	char *(*stats)(const char *cgroup, ferry_err_t *err);
	/* The number of OOM kills in the cgroup so far; returns 0 or -1. */
	int (*oom_count)(const char *cgroup, unsigned long long *count, ferry_err_t *err);
	/* Freezes the tree, collects it into img (pages written through w as they are read),
	 * calls req->seal with the tree still stopped, then resumes the tree (leave_running) or
	 * kills it (SIGKILL, only after seal succeeded). On any failure, seal's included, the tree
	 * is detached and runs on unchanged: nothing left in its memory or fd tables.
	 * Returns 0 or -1. */
	int (*dump)(const struct os_dump_req *req, struct image_writer *w, struct cr_image *img,
		    struct ferry_checkpoint_stats *stats, ferry_err_t *err);
	/* Fills host (new strings) with the facts an image records: OS, kernel release, arch,
	 * xsave mask (XCR0), the vDSO layout of the calling process, ferry version. Returns 0 or
	 * -1. */
	int (*host_facts)(struct cr_host *host, ferry_err_t *err);
	/* Re-creates a validated image's tree as the caller's children; returns the root's pid or
	 * -1 (everything it made killed). */
	pid_t (*restore)(const struct os_restore_req *req, const struct cr_image *img,
			 struct ferry_restore_stats *stats, ferry_err_t *err);
	/* Reads what a running container's namespaces hold beyond its processes into c: hostname
	 * and domainname (its own UTS namespace), the live values of the config's linux.sysctl
	 * keys, the files of its tmpfs mounts. init is its first process (host pid). Returns 0
	 * or -1. */
	int (*ct_collect)(pid_t init, const struct ferry_spec *spec, struct cr_container *c,
			  ferry_err_t *err);
	/* Puts c back into the namespaces of a restore's parked init (made from spec): tmpfs
	 * files, hostname, domainname, sysctls; marks the first process's stdio that came from
	 * outside the container as inherited from the caller; and checks that every other path
	 * the image's processes hold exists in its root. Returns 0 or -1. */
	int (*ct_prepare)(pid_t init, const struct ferry_spec *spec, struct cr_image *img,
			  ferry_err_t *err);
	/* Facts for `ferry features`: a JSON object text for the "linux" key (new string). */
	char *(*features_json)(void);
};

extern const struct os_ops os_ops;

#endif

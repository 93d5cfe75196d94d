// SPDX-License-Identifier: Apache-2.0
/*
 * The container's init, from its first instruction in the new namespaces to execve:
 *   hooks (runtime side) -> rootfs -> createContainer hooks -> pivot -> masks, sysctls,
 *   hostname -> console -> rlimits, oom score -> READY -> wait on exec.fifo ->
 *   startContainer hooks -> privileges and seccomp -> execve.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/hooks.h"
#include "os/linux/console.h"
#include "os/linux/loopback.h"
#include "os/linux/namespaces.h"
#include "os/linux/proc.h"
#include "os/linux/rootfs.h"
#include "os/linux/security.h"
#include "os/linux/spawn.h"
#include "os/linux/sync.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

static int set_names(const struct ferry_spec *spec, ferry_err_t *err)
{
	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
		return ferry_error_errno(err, "hostname: set \"%s\"", spec->hostname);
	if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
		return ferry_error_errno(err, "domainname: set \"%s\"", spec->domainname);
	return 0;
}

static int set_oom_score(const struct ferry_process *proc, ferry_err_t *err)
{
	char buf[16];
	int len;
	_cleanup_close_ int fd = -1;

	if (!proc->has_oom_score_adj)
		return 0;
	len = snprintf(buf, sizeof(buf), "%d", proc->oom_score_adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != len)
		return ferry_error_errno(err, "process.oomScoreAdj: set %d", proc->oom_score_adj);
	return 0;
}

static void join_keyring(const char *id)
{
	char name[128];

	snprintf(name, sizeof(name), "_ses.%.100s", id);
	/* Best effort, as runc: a kernel without keyrings or a denying seccomp is fine. */
	syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name, 0, 0, 0);
}

/* Whether the container made its own network namespace (not joined by path). */
static bool new_netns(const struct ferry_spec *spec)
{
	const struct ferry_namespace *ns = ferry_spec_namespace(spec, FERRY_NS_NETWORK);

	return ns && !ns->path;
}

/* Everything up to READY: errors still reach `create`. Returns the console fd sent, or -1. */
static int init_setup(const struct os_create_req *req, int sock, char **state_json,
		      ferry_err_t *err)
{
	const struct ferry_spec *spec = req->spec;
	const struct ferry_namespace *user = ferry_spec_namespace(spec, FERRY_NS_USER);
	struct lx_sync_msg msg;

	if (setsid() < 0)
		return ferry_error_errno(err, "setsid");
	if (new_netns(spec) && lx_loopback_up(err) < 0)
		return -1;
	if (lx_sync_send(sock, LX_SYNC_HOOKS, 0, NULL, 0, -1, err) < 0 ||
	    lx_sync_expect(sock, LX_SYNC_HOOKS_DONE, &msg, err) < 0)
		return -1;
	*state_json = steal_ptr(msg.data);
	lx_sync_msg_clear(&msg);
	if (lx_rootfs_prepare(spec, user != NULL, err) < 0)
		return -1;
	if (hooks_run(spec, FERRY_HOOK_CREATE_CONTAINER, *state_json, err) < 0)
		return -1;
	if (lx_rootfs_pivot(spec, req->no_pivot, err) < 0 || lx_rootfs_finalize(spec, err) < 0)
		return -1;
	if (set_names(spec, err) < 0)
		return -1;
	if (!req->no_new_keyring)
		join_keyring(req->id);
	if (spec->process.terminal) {
		_cleanup_close_ int master = lx_console_setup(&spec->process, true, err);

		if (master < 0 ||
		    lx_sync_send(sock, LX_SYNC_CONSOLE, 0, "/dev/ptmx", 9, master, err) < 0)
			return -1;
	}
	if (set_oom_score(&spec->process, err) < 0 || lx_rlimits_apply(&spec->process, err) < 0)
		return -1;
	if (spec->process.cwd && chdir(spec->process.cwd) < 0)
		return ferry_error_errno(err, "process.cwd: chdir %s", spec->process.cwd);
	return 0;
}

static __attribute__((noreturn)) void init_fatal(ferry_err_t *err)
{
	dprintf(2, "ferry: container init: %s\n", *err ? (*err)->msg : "unknown error");
	_exit(127);
}

/* The state startContainer hooks get: the same, with status "created" (start has been called). */
static void mark_created(char *state_json)
{
	static const char from[] = "\"status\":\"creating\"", to[] = "\"status\":\"created\"";
	char *p = state_json ? strstr(state_json, from) : NULL;
	size_t lf = sizeof(from) - 1, lt = sizeof(to) - 1;

	if (!p)
		return;
	memcpy(p, to, lt);
	memmove(p + lt, p + lf, strlen(p + lf) + 1);
}

/* Waits until `start` reads the fifo; the fifo was opened O_PATH before the pivot. The write end
 * stays open, close-on-exec, so that `start` sees EOF when the process has exec'd. */
static int wait_for_start(int fifo_path_fd, ferry_err_t *err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fifo_path_fd);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open exec.fifo");
	if (write(fd, "0", 1) != 1)
		return ferry_error_errno(err, "write exec.fifo");
	close(fifo_path_fd);
	return 0;
}

/* A restore's init: set up like any other, then it waits, signals blocked, for the restore to
 * seize it and replace all of it by the image's first process. */
static __attribute__((noreturn)) void park_for_restore(int sock)
{
	ferry_err_t err = NULL;
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, 0);
	if (lx_sync_send(sock, LX_SYNC_READY, 0, NULL, 0, -1, &err) < 0)
		_exit(1);
	close(sock);
	for (;;)
		syscall(SYS_pause);
}

void lx_init_main(const struct os_create_req *req, int sock)
{
	const struct ferry_spec *spec = req->spec;
	const struct ferry_process *proc = &spec->process;
	_cleanup_free_ char *state_json = NULL, *path = NULL;
	struct lx_seccomp *filter = NULL;
	ferry_err_t err = NULL;
	struct lx_sync_msg msg;
	int fifo;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (lx_sync_expect(sock, LX_SYNC_GO, &msg, &err) < 0)
		_exit(1);
	lx_sync_msg_clear(&msg);
	fifo = open(req->exec_fifo, O_PATH | O_CLOEXEC);
	if (fifo < 0) {
		ferry_error_errno(&err, "open %s", req->exec_fifo);
		goto fail;
	}
	if (init_setup(req, sock, &state_json, &err) < 0)
		goto fail;
	if (req->restore)
		park_for_restore(sock);
	if (lx_seccomp_prepare(spec->has_linux ? spec->linux.seccomp : NULL, &filter, &err) < 0)
		goto fail;
	path = lx_find_executable(proc->args[0], proc->env, &err);
	if (!path)
		goto fail;
	prctl(PR_SET_PDEATHSIG, 0);
	if (lx_sync_send(sock, LX_SYNC_READY, 0, NULL, 0, -1, &err) < 0)
		_exit(1);
	close(sock);
	/* From here on `create` has returned: errors go to the container's stderr. */
	if (wait_for_start(fifo, &err) < 0)
		init_fatal(&err);
	mark_created(state_json);
	if (hooks_run(spec, FERRY_HOOK_START_CONTAINER, state_json, &err) < 0)
		init_fatal(&err);
	lx_exec_process(proc, path, filter, req->preserve_fds, -1);
fail:
	lx_sync_send_error(sock, err);
	_exit(1);
}

void lx_exec_process(const struct ferry_process *proc, const char *path,
		     struct lx_seccomp *filter, int preserve_fds, int sock)
{
	ferry_err_t err = NULL;

	/* As runc: without no_new_privs the filter goes in while the process still holds
	 * CAP_SYS_ADMIN; with it, last. */
	if (!proc->no_new_privileges && lx_seccomp_load(filter, &err) < 0)
		goto fail;
	if (lx_caps_bound(proc, &err) < 0 || lx_user_apply(proc, &err) < 0 ||
	    lx_caps_apply(proc, &err) < 0)
		goto fail;
	if (proc->no_new_privileges) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			ferry_error_errno(&err, "process.noNewPrivileges");
			goto fail;
		}
		if (lx_seccomp_load(filter, &err) < 0)
			goto fail;
	}
	if (lx_cloexec_from(3 + preserve_fds) < 0) {
		ferry_error_errno(&err, "mark descriptors close-on-exec");
		goto fail;
	}
	execve(path, proc->args, proc->env ? proc->env : (char *[]){NULL});
	ferry_error_errno(&err, "exec %s", path);
fail:
	if (sock >= 0) {
		lx_sync_send_error(sock, err);
		_exit(127);
	}
	init_fatal(&err);
}

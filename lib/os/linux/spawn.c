// SPDX-License-Identifier: Apache-2.0
/*
 * create: the runtime forks stage 1, which joins and creates the namespaces (writing no maps
 * itself: the runtime does, from outside) and clones the init with CLONE_PARENT, so the init is
 * the runtime's child, as the foreground `run` needs to wait for it.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/console.h"
#include "os/linux/namespaces.h"
#include "os/linux/proc.h"
#include "os/linux/spawn.h"
#include "os/linux/sync.h"

static void child_fail(int sock, ferry_err_t *err)
{
	lx_sync_send_error(sock, *err);
	_exit(1);
}

static int stage1_userns(const struct ferry_spec *spec, int sock, ferry_err_t *err)
{
	struct lx_sync_msg msg;

	if (unshare(CLONE_NEWUSER) < 0)
		return ferry_error_errno(err, "create the user namespace");
	if (lx_sync_send(sock, LX_SYNC_USERMAP, 0, NULL, 0, -1, err) < 0 ||
	    lx_sync_expect(sock, LX_SYNC_GO, &msg, err) < 0)
		return -1;
	lx_sync_msg_clear(&msg);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return ferry_error_errno(err, "become root in the user namespace (is 0 mapped?)");
	return 0;
}

/* In the child: nothing of the runtime's may follow the container, preserved fds apart. Returns
 * the sync socket, moved above the preserved range. */
static int child_sock_prepare(const struct os_create_req *req, int sock)
{
	int keep[1];

	keep[0] = sock = lx_fd_move_above(sock, 3 + req->preserve_fds);
	if (sock < 0)
		_exit(1);
	lx_close_fds_from(3 + req->preserve_fds, keep, 1);
	lx_close_cloexec_range(3, 3 + req->preserve_fds);
	return sock;
}

static void stage1_main(const struct os_create_req *req, int sock)
{
	const struct ferry_spec *spec = req->spec;
	int flags = lx_ns_new_flags(spec);
	ferry_err_t err = NULL;
	struct lx_sync_msg msg;
	pid_t init;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (lx_sync_expect(sock, LX_SYNC_GO, &msg, &err) < 0)
		_exit(1);
	lx_sync_msg_clear(&msg);
	if (lx_ns_join_paths(spec, &err) < 0)
		child_fail(sock, &err);
	if ((flags & CLONE_NEWUSER) && stage1_userns(spec, sock, &err) < 0)
		child_fail(sock, &err);
	if (unshare(flags & ~CLONE_NEWUSER) < 0) {
		ferry_error_errno(&err, "create namespaces");
		child_fail(sock, &err);
	}
	if (lx_ns_write_time_offsets(spec, &err) < 0)
		child_fail(sock, &err);
	init = lx_clone_parent();
	if (init < 0) {
		ferry_error_errno(&err, "clone the init");
		child_fail(sock, &err);
	}
	if (init == 0)
		lx_init_main(req, sock);
	lx_sync_send(sock, LX_SYNC_PID, init, NULL, 0, -1, &err);
	_exit(0);
}

/* The runtime's part with stage 1: cgroup, id maps; returns the init's pid or -1. */
static pid_t talk_stage1(const struct os_create_req *req, int sock, pid_t stage1,
			 ferry_err_t *err)
{
	const struct ferry_namespace *user = ferry_spec_namespace(req->spec, FERRY_NS_USER);
	struct lx_sync_msg msg;
	pid_t init;

	if (lx_cgroup_enter(req->cgroup, stage1, err) < 0 ||
	    lx_sync_send(sock, LX_SYNC_GO, 0, NULL, 0, -1, err) < 0)
		return -1;
	if (user && !user->path) {
		if (lx_sync_expect(sock, LX_SYNC_USERMAP, &msg, err) < 0)
			return -1;
		lx_sync_msg_clear(&msg);
		if (lx_ns_write_idmaps(stage1, req->spec, err) < 0 ||
		    lx_sync_send(sock, LX_SYNC_GO, 0, NULL, 0, -1, err) < 0)
			return -1;
	}
	if (lx_sync_expect(sock, LX_SYNC_PID, &msg, err) < 0)
		return -1;
	init = msg.value;
	lx_sync_msg_clear(&msg);
	return init;
}

/* The runtime's part with the init, from GO to READY; returns 0 or -1. */
static int talk_init(const struct os_create_req *req, int sock, pid_t init, int *console_fd,
		     ferry_err_t *err)
{
	_cleanup_free_ char *state_json = NULL;
	struct lx_sync_msg msg;

	if (lx_sync_send(sock, LX_SYNC_GO, 0, NULL, 0, -1, err) < 0 ||
	    lx_sync_expect(sock, LX_SYNC_HOOKS, &msg, err) < 0)
		return -1;
	lx_sync_msg_clear(&msg);
	if (req->hooks(req->hooks_arg, init, &state_json, err) < 0) {
		lx_sync_send_error(sock, *err);
		return -1;
	}
	if (lx_sync_send(sock, LX_SYNC_HOOKS_DONE, 0, state_json, strlen(state_json), -1, err) < 0)
		return -1;
	if (req->spec->process.terminal) {
		int r = 0;

		if (lx_sync_expect(sock, LX_SYNC_CONSOLE, &msg, err) < 0)
			return -1;
		if (req->console_socket)
			r = lx_console_send(req->console_socket, msg.fd, err);
		else if (req->keep_console)
			*console_fd = steal_fd(msg.fd);
		lx_sync_msg_clear(&msg);
		if (r < 0)
			return -1;
	}
	if (lx_sync_expect(sock, LX_SYNC_READY, &msg, err) < 0)
		return -1;
	lx_sync_msg_clear(&msg);
	return 0;
}

/* Whether the init can be cloned straight into its namespaces, with no stage 1: nothing to join,
 * no user namespace to map, no time offsets and no cgroup namespace (whose root must be the
 * container's cgroup, which the init enters only after the clone). */
static bool direct_clone(const struct ferry_spec *spec)
{
	int flags = lx_ns_new_flags(spec);

	for (size_t i = 0; i < spec->linux.n_namespaces; i++)
		if (spec->linux.namespaces[i].path)
			return false;
	return !(flags & (CLONE_NEWUSER | CLONE_NEWCGROUP | lx_ns_flag(FERRY_NS_TIME)));
}

/* Starts the init (directly, or through stage 1); returns its pid or -1. */
static pid_t spawn_init(const struct os_create_req *req, int sock, int child_sock,
			ferry_err_t *err)
{
	pid_t child, init;
	int status;

	if (direct_clone(req->spec)) {
		child = (pid_t)syscall(SYS_clone, lx_ns_new_flags(req->spec) | SIGCHLD, NULL, NULL,
				       NULL, 0);
		if (child < 0)
			return ferry_error_errno(err, "create the container's namespaces");
		if (child == 0) {
			close(sock);
			lx_init_main(req, child_sock_prepare(req, child_sock));
		}
		if (lx_cgroup_enter(req->cgroup, child, err) < 0) {
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			return -1;
		}
		return child;
	}
	child = fork();
	if (child < 0)
		return ferry_error_errno(err, "fork");
	if (child == 0) {
		close(sock);
		stage1_main(req, child_sock_prepare(req, child_sock));
	}
	init = talk_stage1(req, sock, child, err);
	if (init < 0)
		kill(child, SIGKILL);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	return init;
}

pid_t lx_create(const struct os_create_req *req, int *console_fd, ferry_err_t *err)
{
	int sv[2];
	pid_t init;

	*console_fd = -1;
	if (req->spec->process.terminal && !req->console_socket && !req->keep_console)
		return ferry_error(err, 0,
				   "process.terminal is true: --console-socket is required");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ferry_error_errno(err, "socketpair");
	init = spawn_init(req, sv[0], sv[1], err);
	close(sv[1]);
	if (init >= 0 && talk_init(req, sv[0], init, console_fd, err) < 0) {
		kill(init, SIGKILL);
		waitpid(init, NULL, 0);
		init = -1;
	}
	close(sv[0]);
	return init;
}

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

static void stage1_main(const struct os_create_req *req, int sock)
{
	const struct ferry_spec *spec = req->spec;
	int keep[1];
	int flags = lx_ns_new_flags(spec);
	ferry_err_t err = NULL;
	struct lx_sync_msg msg;
	pid_t init;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Nothing of the runtime's may follow the container, preserved fds apart. */
	keep[0] = sock = lx_fd_move_above(sock, 3 + req->preserve_fds);
	if (sock < 0)
		_exit(1);
	lx_close_fds_from(3 + req->preserve_fds, keep, 1);
	lx_close_cloexec_range(3, 3 + req->preserve_fds);
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

/* Runs the runtime's part of the conversation with stage 1 and the init. */
static pid_t create_talk(const struct os_create_req *req, int sock, pid_t stage1, int *console_fd,
			 ferry_err_t *err)
{
	const struct ferry_namespace *user = ferry_spec_namespace(req->spec, FERRY_NS_USER);
	_cleanup_free_ char *state_json = NULL;
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
	if (lx_sync_send(sock, LX_SYNC_GO, 0, NULL, 0, -1, err) < 0)
		goto fail;
	if (lx_sync_expect(sock, LX_SYNC_HOOKS, &msg, err) < 0)
		goto fail;
	lx_sync_msg_clear(&msg);
	if (req->hooks(req->hooks_arg, init, &state_json, err) < 0) {
		lx_sync_send_error(sock, *err);
		goto fail;
	}
	if (lx_sync_send(sock, LX_SYNC_HOOKS_DONE, 0, state_json, strlen(state_json), -1, err) < 0)
		goto fail;
	if (req->spec->process.terminal) {
		if (lx_sync_expect(sock, LX_SYNC_CONSOLE, &msg, err) < 0)
			goto fail;
		if (req->console_socket) {
			int r = lx_console_send(req->console_socket, msg.fd, err);

			lx_sync_msg_clear(&msg);
			if (r < 0)
				goto fail;
		} else if (req->keep_console) {
			*console_fd = steal_fd(msg.fd);
		}
		lx_sync_msg_clear(&msg);
	}
	if (lx_sync_expect(sock, LX_SYNC_READY, &msg, err) < 0)
		goto fail;
	lx_sync_msg_clear(&msg);
	return init;
fail:
	kill(init, SIGKILL);
	waitpid(init, NULL, 0);
	return -1;
}

pid_t lx_create(const struct os_create_req *req, int *console_fd, ferry_err_t *err)
{
	int sv[2];
	pid_t stage1, init;
	int status;

	*console_fd = -1;
	if (req->spec->process.terminal && !req->console_socket && !req->keep_console)
		return ferry_error(err, 0,
				   "process.terminal is true: --console-socket is required");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ferry_error_errno(err, "socketpair");
	stage1 = fork();
	if (stage1 < 0) {
		close(sv[0]);
		close(sv[1]);
		return ferry_error_errno(err, "fork");
	}
	if (stage1 == 0) {
		close(sv[0]);
		stage1_main(req, sv[1]);
	}
	close(sv[1]);
	init = create_talk(req, sv[0], stage1, console_fd, err);
	close(sv[0]);
	if (init < 0)
		kill(stage1, SIGKILL);
	while (waitpid(stage1, &status, 0) < 0 && errno == EINTR)
		;
	return init;
}

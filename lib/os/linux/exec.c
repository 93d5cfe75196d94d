// SPDX-License-Identifier: Apache-2.0
/* exec: a new process joins the namespaces and cgroup of a running container's init. */
#include <errno.h>
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
#include "os/linux/security.h"
#include "os/linux/spawn.h"
#include "os/linux/sync.h"

static void exec_child(const struct os_exec_req *req, int sock)
{
	const struct ferry_process *proc = req->process;
	struct lx_seccomp *filter = NULL;
	_cleanup_free_ char *path = NULL;
	ferry_err_t err = NULL;
	struct lx_sync_msg msg;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (lx_sync_expect(sock, LX_SYNC_GO, &msg, &err) < 0)
		_exit(1);
	lx_sync_msg_clear(&msg);
	if (proc->terminal) {
		_cleanup_close_ int master = -1;

		if (setsid() < 0) {
			ferry_error_errno(&err, "setsid");
			goto fail;
		}
		master = lx_console_setup(proc, false, &err);
		if (master < 0 ||
		    lx_sync_send(sock, LX_SYNC_CONSOLE, 0, "/dev/ptmx", 9, master, &err) < 0)
			goto fail;
	}
	if (lx_rlimits_apply(proc, &err) < 0)
		goto fail;
	if (proc->cwd && chdir(proc->cwd) < 0) {
		ferry_error_errno(&err, "cwd %s", proc->cwd);
		goto fail;
	}
	if (lx_seccomp_prepare(req->spec->has_linux ? req->spec->linux.seccomp : NULL, &filter,
			       &err) < 0)
		goto fail;
	path = lx_find_executable(proc->args[0], proc->env, &err);
	if (!path)
		goto fail;
	prctl(PR_SET_PDEATHSIG, 0);
	lx_exec_process(proc, path, filter, req->preserve_fds, sock);
fail:
	lx_sync_send_error(sock, err);
	_exit(1);
}

static void exec_stage1(const struct os_exec_req *req, int sock)
{
	int keep[1];
	ferry_err_t err = NULL;
	pid_t child;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	keep[0] = sock = lx_fd_move_above(sock, 3 + req->preserve_fds);
	if (sock < 0)
		_exit(1);
	lx_close_fds_from(3 + req->preserve_fds, keep, 1);
	lx_close_cloexec_range(3, 3 + req->preserve_fds);
	if (lx_ns_join_process(req->init_pid, &err) < 0) {
		lx_sync_send_error(sock, err);
		_exit(1);
	}
	child = lx_clone_parent();
	if (child < 0) {
		ferry_error_errno(&err, "clone");
		lx_sync_send_error(sock, err);
		_exit(1);
	}
	if (child == 0)
		exec_child(req, sock);
	lx_sync_send(sock, LX_SYNC_PID, child, NULL, 0, -1, &err);
	_exit(0);
}

/* Returns 0 when the process exec'd (the socket closed), -1 with its error otherwise. */
static int exec_talk(const struct os_exec_req *req, int sock, pid_t child, int *console_fd,
		     ferry_err_t *err)
{
	struct lx_sync_msg msg;
	ferry_err_t eof = NULL;

	if (req->cgroup && lx_cgroup_enter(req->cgroup, child, err) < 0)
		return -1;
	if (lx_sync_send(sock, LX_SYNC_GO, 0, NULL, 0, -1, err) < 0)
		return -1;
	if (req->process->terminal) {
		if (lx_sync_expect(sock, LX_SYNC_CONSOLE, &msg, err) < 0)
			return -1;
		if (req->console_socket && lx_console_send(req->console_socket, msg.fd, err) < 0) {
			lx_sync_msg_clear(&msg);
			return -1;
		}
		if (!req->console_socket && req->keep_console)
			*console_fd = steal_fd(msg.fd);
		lx_sync_msg_clear(&msg);
	}
	/* Nothing more comes on success: the socket closes at execve. */
	if (lx_sync_expect(sock, LX_SYNC_READY, &msg, &eof) == 0) {
		lx_sync_msg_clear(&msg);
		return 0;
	}
	if (eof->errnum == EPIPE) {
		ferry_error_free(&eof);
		return 0;
	}
	*err = ferry_error_steal(&eof);
	return -1;
}

pid_t lx_exec(const struct os_exec_req *req, int *console_fd, ferry_err_t *err)
{
	int sv[2], status;
	pid_t stage1, child;
	struct lx_sync_msg msg;

	*console_fd = -1;
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
		exec_stage1(req, sv[1]);
	}
	close(sv[1]);
	if (lx_sync_expect(sv[0], LX_SYNC_PID, &msg, err) < 0) {
		close(sv[0]);
		waitpid(stage1, &status, 0);
		return -1;
	}
	child = msg.value;
	lx_sync_msg_clear(&msg);
	waitpid(stage1, &status, 0);
	if (exec_talk(req, sv[0], child, console_fd, err) < 0) {
		close(sv[0]);
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		return -1;
	}
	close(sv[0]);
	return child;
}

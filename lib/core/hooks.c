// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "core/cleanup.h"
#include "core/hooks.h"

const char *hooks_kind_name(enum ferry_hook_kind kind)
{
	static const char *const names[] = {"prestart",       "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};

	return names[kind];
}

static void hook_child(const struct ferry_hook *h, int in_fd)
{
	char *const fallback[] = {h->path, NULL};

	if (dup2(in_fd, 0) < 0)
		_exit(127);
	if (in_fd != 0)
		close(in_fd);
	/* A hook's stdout and stderr are the runtime's; everything else is closed on exec. */
	execve(h->path, h->args ? h->args : fallback, h->env ? h->env : (char *[]){NULL});
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits for the hook; kills it at the deadline. Returns its wait status, or -1 on timeout. */
static int hook_wait(pid_t pid, int timeout)
{
	long long deadline = timeout > 0 ? now_ms() + timeout * 1000LL : 0;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, deadline ? WNOHANG : 0);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return 0;
		if (deadline && now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		if (deadline)
			poll(NULL, 0, 10);
	}
}

static int hook_run_one(const struct ferry_hook *h, const char *what, const char *state_json,
			ferry_err_t *err)
{
	int pfd[2];
	pid_t pid;
	int status;
	size_t len = strlen(state_json);

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ferry_error_errno(err, "%s %s: pipe", what, h->path);
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return ferry_error_errno(err, "%s %s: fork", what, h->path);
	}
	if (pid == 0) {
		close(pfd[1]);
		hook_child(h, pfd[0]);
	}
	close(pfd[0]);
	{
		struct sigaction ign = {.sa_handler = SIG_IGN}, old;

		/* A hook that does not read its stdin must not kill us with SIGPIPE. */
		sigaction(SIGPIPE, &ign, &old);
		if (write(pfd[1], state_json, len) < 0 && errno != EPIPE)
			len = 0;
		close(pfd[1]);
		sigaction(SIGPIPE, &old, NULL);
	}
	status = hook_wait(pid, h->timeout);
	if (status < 0)
		return ferry_error(err, 0, "%s %s: timed out after %d s", what, h->path,
				   h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return ferry_error(err, 0, "%s %s: could not be executed", what, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return ferry_error(err, 0, "%s %s: exited with status %d", what, h->path,
				   WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return ferry_error(err, 0, "%s %s: killed by signal %d", what, h->path,
				   WTERMSIG(status));
	return 0;
}

int hooks_run(const struct ferry_spec *spec, enum ferry_hook_kind kind, const char *state_json,
	      ferry_err_t *err)
{
	for (size_t i = 0; i < spec->n_hooks[kind]; i++) {
		char what[64];

		snprintf(what, sizeof(what), "hooks.%s[%zu]", hooks_kind_name(kind), i);
		if (hook_run_one(&spec->hooks[kind][i], what, state_json, err) < 0)
			return -1;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* The foreground of `run` and `exec`: forward signals, proxy the terminal, wait, report. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

static const int forwarded[] = {SIGHUP, SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
				SIGTERM, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPWR};

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Reaps children; returns true when pid has exited, with its status in *status. */
static bool reap(pid_t pid, int *status)
{
	bool done = false;
	int st;
	pid_t r;

	while ((r = waitpid(-1, &st, WNOHANG)) > 0)
		if (r == pid) {
			*status = st;
			done = true;
		}
	return done;
}

static void copy_fd(int from, int to, bool *open_)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || errno != EINTR)
			*open_ = false;
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, n - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		off += w;
	}
}

static void resize(int console_fd)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(console_fd, TIOCSWINSZ, &ws);
}

int cli_wait_forward(pid_t pid, int console_fd)
{
	sigset_t set, old;
	struct termios saved;
	bool raw = false, in_open = console_fd >= 0, con_open = console_fd >= 0, done;
	int sfd, status = 0;

	sigemptyset(&set);
	for (size_t k = 0; k < sizeof(forwarded) / sizeof(forwarded[0]); k++)
		sigaddset(&set, forwarded[k]);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (console_fd >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;

		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		resize(console_fd);
	}
	done = reap(pid, &status);
	while (!done) {
		struct pollfd p[3] = {{sfd, POLLIN, 0},
				      {con_open ? console_fd : -1, POLLIN, 0},
				      {in_open ? 0 : -1, POLLIN, 0}};

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					done = reap(pid, &status);
				else if (si.ssi_signo == SIGWINCH && console_fd >= 0)
					resize(console_fd);
				else if (si.ssi_signo != SIGWINCH)
					kill(pid, (int)si.ssi_signo);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			copy_fd(console_fd, 1, &con_open);
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			copy_fd(0, console_fd, &in_open);
	}
	/* What the process printed last is still in the pty. */
	while (con_open) {
		struct pollfd p = {console_fd, POLLIN, 0};

		if (poll(&p, 1, 50) <= 0)
			break;
		copy_fd(console_fd, 1, &con_open);
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	if (console_fd >= 0)
		close(console_fd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return exit_code(status);
}

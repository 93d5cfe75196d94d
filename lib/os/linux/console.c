// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/console.h"

static int bind_console(const char *slave, ferry_err_t *err)
{
	struct stat st;

	if (lstat("/dev/console", &st) < 0) {
		int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		if (fd < 0)
			return ferry_error_errno(err, "create /dev/console");
		close(fd);
	}
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return ferry_error_errno(err, "bind %s to /dev/console", slave);
	return 0;
}

int lx_console_setup(const struct ferry_process *proc, bool bind, ferry_err_t *err)
{
	_cleanup_close_ int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_close_ int slave = -1;
	char name[128];

	if (master < 0)
		return ferry_error_errno(err, "open /dev/ptmx");
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return ferry_error_errno(err, "set up the pty");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return ferry_error_errno(err, "open %s", name);
	if (proc->has_console_size) {
		struct winsize ws = {.ws_row = proc->console_height, .ws_col = proc->console_width};

		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return ferry_error_errno(err, "set the console size");
	}
	if (bind && bind_console(name, err) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return ferry_error_errno(err, "dup2 the pty to %d", fd);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return ferry_error_errno(err, "make the pty the controlling terminal");
	return steal_fd(master);
}

int lx_console_send(const char *socket_path, int master, ferry_err_t *err)
{
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char name[] = "/dev/ptmx";
	struct iovec iov = {name, sizeof(name) - 1};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return ferry_error(err, ENAMETOOLONG, "console socket %s", socket_path);
	strcpy(addr.sun_path, socket_path);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return ferry_error_errno(err, "connect to console socket %s", socket_path);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		return ferry_error_errno(err, "send the pty to %s", socket_path);
	return 0;
}

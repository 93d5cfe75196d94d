// SPDX-License-Identifier: Apache-2.0
/*
 * recvtty [--once] [--input STRING] [--output FILE] SOCKET_PATH: listens on a unix socket for a
 * runtime's --console-socket, receives the pty master (SCM_RIGHTS), writes STRING to it (escapes
 * \n \r \t \\ are understood), copies what the master prints to FILE (default stdout) until
 * EOF/EIO. Without --once it then waits for the next connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void unescape(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '\\' || !s[1]) {
			*out++ = *s;
			continue;
		}
		s++;
		*out++ = *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s == 't' ? '\t' : *s;
	}
	*out = '\0';
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "recvtty: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("recvtty: socket");
		return -1;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		fprintf(stderr, "recvtty: listen on %s: %m\n", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* Receives one fd sent with SCM_RIGHTS on conn; returns it, or -1. */
static int recv_fd(int conn)
{
	char name[4096];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.buf,
	    .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) {
		perror("recvtty: recvmsg");
		return -1;
	}
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "recvtty: no file descriptor in the message\n");
		return -1;
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Feeds input to the master and copies its output to out until EOF or EIO; returns 0 or -1. */
static int relay(int master, const char *input, int out)
{
	char buf[4096];
	ssize_t n;

	if (input && write_all(master, input, strlen(input)) < 0) {
		perror("recvtty: write to the master");
		return -1;
	}
	for (;;) {
		n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == EIO))
			return 0;
		if (n < 0) {
			perror("recvtty: read from the master");
			return -1;
		}
		if (write_all(out, buf, (size_t)n) < 0) {
			perror("recvtty: write output");
			return -1;
		}
	}
}

int main(int argc, char **argv)
{
	char *input = NULL;
	const char *output = NULL;
	int once = 0, i, lfd, conn, master, out = STDOUT_FILENO, ret = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--once"))
			once = 1;
		else if (!strcmp(argv[i], "--input") && i + 1 < argc)
			input = argv[++i];
		else if (!strcmp(argv[i], "--output") && i + 1 < argc)
			output = argv[++i];
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr,
			"usage: recvtty [--once] [--input STRING] [--output FILE] SOCKET\n");
		return 2;
	}
	if (input)
		unescape(input);
	if (output) {
		out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0) {
			fprintf(stderr, "recvtty: open %s: %m\n", output);
			return 1;
		}
	}
	lfd = listen_on(argv[i]);
	if (lfd < 0)
		return 1;
	do {
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			perror("recvtty: accept");
			ret = 1;
			break;
		}
		master = recv_fd(conn);
		close(conn);
		if (master < 0 || relay(master, input, out) < 0)
			ret = 1;
		if (master >= 0)
			close(master);
	} while (!once && !ret);
	close(lfd);
	unlink(argv[i]);
	return ret;
}

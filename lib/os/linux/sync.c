// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/sync.h"

#define SYNC_MAX (64 * 1024)

struct sync_hdr {
	uint32_t type;
	int32_t value;
};

int lx_sync_send(int sock, uint32_t type, int32_t value, const void *data, size_t len, int fd,
		 ferry_err_t *err)
{
	struct sync_hdr hdr = {.type = type, .value = value};
	struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {(void *)data, len}};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = data && len ? 2 : 1};

	if (len > SYNC_MAX - sizeof(hdr))
		return ferry_error(err, EMSGSIZE, "sync message too large");
	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return ferry_error_errno(err, "sync send");
	}
	return 0;
}

void lx_sync_send_error(int sock, const struct ferry_err *e)
{
	char buf[4096];
	size_t len = ferry_error_to_wire(e, buf, sizeof(buf));

	lx_sync_send(sock, LX_SYNC_ERROR, 0, buf, len, -1, NULL);
}

static int sync_recv(int sock, struct lx_sync_msg *msg, ferry_err_t *err)
{
	_cleanup_free_ char *buf = malloc(SYNC_MAX);
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, SYNC_MAX};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct sync_hdr hdr;
	ssize_t n;

	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	if (!buf)
		return ferry_error(err, ENOMEM, "sync receive");
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ferry_error_errno(err, "sync receive");
	if (n == 0)
		return ferry_error(err, EPIPE, "the container's process exited during setup");
	if ((size_t)n < sizeof(hdr))
		return ferry_error(err, EPROTO, "sync: short message");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&msg->fd, CMSG_DATA(c), sizeof(int));
	memcpy(&hdr, buf, sizeof(hdr));
	msg->type = hdr.type;
	msg->value = hdr.value;
	msg->len = n - sizeof(hdr);
	msg->data = malloc(msg->len + 1);
	if (!msg->data)
		return ferry_error(err, ENOMEM, "sync receive");
	memcpy(msg->data, buf + sizeof(hdr), msg->len);
	msg->data[msg->len] = '\0';
	return 0;
}

int lx_sync_expect(int sock, uint32_t want, struct lx_sync_msg *msg, ferry_err_t *err)
{
	if (sync_recv(sock, msg, err) < 0)
		return -1;
	if (msg->type == LX_SYNC_ERROR) {
		ferry_error_from_wire(err, msg->data, msg->len);
		lx_sync_msg_clear(msg);
		return -1;
	}
	if (msg->type != want) {
		uint32_t got = msg->type;

		lx_sync_msg_clear(msg);
		return ferry_error(err, EPROTO, "sync: expected message %u, got %u", want, got);
	}
	return 0;
}

void lx_sync_msg_clear(struct lx_sync_msg *msg)
{
	free(msg->data);
	msg->data = NULL;
	if (msg->fd >= 0)
		close(msg->fd);
	msg->fd = -1;
}

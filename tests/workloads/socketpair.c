// SPDX-License-Identifier: Apache-2.0
/* socketpair: three unix socket pairs, stream (fds 3, 4), dgram (5, 6) and seqpacket (7, 8), each
 * with messages queued in both directions (fd 6 non-blocking); prints READY and waits. On SIGUSR1
 * it reads every queued message back, checks contents, order and (dgram, seqpacket) boundaries,
 * that nothing more is queued and that each pair still carries data both ways, then prints PASS
 * or FAIL (exit 0 or 1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG 3000

static volatile sig_atomic_t verify;
static char big[BIG];
static const char *const ab[] = {"first from a", "second, longer, from a", big};
static const char *const ba[] = {"from b", "b again"};

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static int fail(const char *what, int type)
{
	printf("FAIL %s (socket type %d)\n", what, type);
	return 1;
}

static int send_all(int fd, const char *const *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (send(fd, msgs[i], strlen(msgs[i]), 0) != (ssize_t)strlen(msgs[i]))
			return -1;
	return 0;
}

/* Reads the messages back from fd: one by one with boundaries, or as one stream. */
static int recv_all(int fd, int type, const char *const *msgs, size_t n)
{
	static char want[2 * BIG], got[2 * BIG];
	size_t wl = 0, gl = 0;
	ssize_t r;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(msgs[i]);

		if (type != SOCK_STREAM) {
			r = recv(fd, got, sizeof(got), MSG_DONTWAIT);
			if (r != (ssize_t)l || memcmp(got, msgs[i], l))
				return fail("message", type);
		}
		memcpy(want + wl, msgs[i], l);
		wl += l;
	}
	while (type == SOCK_STREAM && gl < wl) {
		r = recv(fd, got + gl, sizeof(got) - gl, MSG_DONTWAIT);
		if (r <= 0)
			return fail("stream too short", type);
		gl += (size_t)r;
	}
	if (type == SOCK_STREAM && (gl != wl || memcmp(got, want, wl)))
		return fail("stream contents", type);
	if (recv(fd, got, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		return fail("more queued than was sent", type);
	return 0;
}

static int check_pair(int a, int b, int type)
{
	static const char *const ping[] = {"ping"}, *const pong[] = {"pong"};
	int t = 0;
	socklen_t l = sizeof(t);

	if (getsockopt(a, SOL_SOCKET, SO_TYPE, &t, &l) < 0 || t != type)
		return fail("type", type);
	if (recv_all(b, type, ab, 3) || recv_all(a, type, ba, 2))
		return 1;
	if (send_all(a, ping, 1) || recv_all(b, type, ping, 1) || send_all(b, pong, 1) ||
	    recv_all(a, type, pong, 1))
		return fail("the pair no longer carries data", type);
	return 0;
}

int main(void)
{
	static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
	sigset_t none;
	int sv[2];

	for (int i = 3; i < 64; i++)
		close(i);
	memset(big, 'z', BIG - 1);
	for (int i = 0; i < 3; i++)
		if (socketpair(AF_UNIX, types[i], 0, sv) < 0 || sv[0] != 3 + 2 * i ||
		    send_all(sv[0], ab, 3) || send_all(sv[1], ba, 2))
			return fail("setup", types[i]);
	if (fcntl(6, F_SETFL, O_NONBLOCK) < 0)
		return fail("setup", 0);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (!(fcntl(6, F_GETFL) & O_NONBLOCK) || (fcntl(5, F_GETFL) & O_NONBLOCK))
		return fail("flags", 0);
	for (int i = 0; i < 3; i++)
		if (check_pair(3 + 2 * i, 4 + 2 * i, types[i]))
			return 1;
	printf("PASS\n");
	return 0;
}

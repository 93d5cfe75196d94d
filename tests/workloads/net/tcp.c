// SPDX-License-Identifier: Apache-2.0
/* Workload: an established TCP connection to a peer outside the tree (tests/tools/tcppeer on
 * 127.0.0.1:PORT), carried through checkpoint and restore with --tcp-established (run by
 * tests/e2e/tcp.t, not by the generic harness: it needs the peer and the flag).
 *
 * tcp PORT: connects, streams a position-dependent byte pattern to the peer while reading and
 * checking the one it sends, prints READY once bytes went both ways. It also holds a second fd of
 * the connection (dup) and a listener on 127.0.0.1:PORT+1. On SIGUSR1 it checks that both fds
 * are still one socket, non-blocking, with its TCP_KEEPIDLE, and that the listener accepts, stops
 * sending, shuts its writing down, reads until the peer's end of stream, and prints "PASS sent=N
 * received=M" (exit 0), or "FAIL ..." (exit 1) on a wrong byte, a reset or a stall. The peer checks
 * the other direction the same way; together no byte was lost or repeated either way, and the
 * connection was never made again. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK 1024
#define STALL_MS 20000

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

/* Byte off of the stream seeded seed (1: peer to workload, 2: workload to peer). */
static uint8_t pat(uint32_t seed, uint64_t off)
{
	return (uint8_t)(((off + seed) * 0x9e3779b97f4a7c15ull) >> 56);
}

static int fail(const char *what, uint64_t sent, uint64_t got)
{
	printf("FAIL %s (sent=%llu received=%llu)\n", what, (unsigned long long)sent,
	       (unsigned long long)got);
	return 1;
}

/* A listener on 127.0.0.1:port; returns it or -1. */
static int listen_on(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 4) < 0)
		return -1;
	return s;
}

static int connect_peer(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return s;
}

/* What must still hold after a restore: fd d is the connection s, the listener accepts. */
static const char *check_held(int s, int d, int ls, int port)
{
	struct stat a, b;
	int c, x;

	if (fstat(s, &a) < 0 || fstat(d, &b) < 0 || a.st_ino != b.st_ino)
		return "the two fds of the connection are no longer one socket";
	if (!(fcntl(d, F_GETFL) & O_NONBLOCK))
		return "the connection lost O_NONBLOCK";
	if (getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &x, &(socklen_t){sizeof(x)}) < 0 || x != 77)
		return "the connection lost TCP_KEEPIDLE";
	c = connect_peer(port);
	x = c < 0 ? -1 : accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (c >= 0)
		close(c);
	if (x < 0)
		return "the listener does not accept";
	close(x);
	return NULL;
}

/* Reads what is there and checks it; returns bytes read, 0 at the end of the stream, -1 (EAGAIN:
 * nothing yet) or -2 (a wrong byte). */
static ssize_t take(int s, uint64_t *got)
{
	uint8_t buf[CHUNK * 8];
	ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != pat(1, *got + (uint64_t)i))
			return *got += (uint64_t)i, -2;
	if (n > 0)
		*got += (uint64_t)n;
	return n;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	uint64_t sent = 0, got = 0;
	uint8_t buf[CHUNK];
	int s, d, ls, idle = 0;
	bool ready = false;
	const char *why;

	if (argc < 2)
		return fprintf(stderr, "usage: tcp PORT\n"), 2;
	sigaction(SIGUSR1, &sa, NULL);
	s = connect_peer(atoi(argv[1]));
	ls = listen_on(atoi(argv[1]) + 1);
	d = dup(s);
	if (s < 0 || ls < 0 || d < 0 || fcntl(d, F_SETFL, O_NONBLOCK) < 0 ||
	    setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &(int){77}, sizeof(int)) < 0)
		return fail(strerror(errno), 0, 0);
	for (;;) {
		ssize_t n;

		if (stop && sent) {
			if ((why = check_held(s, d, ls, atoi(argv[1]) + 1)))
				return fail(why, sent, got);
			shutdown(s, SHUT_WR);
			break;
		}
		for (size_t i = 0; i < CHUNK; i++)
			buf[i] = pat(2, sent + i);
		n = send(s, buf, CHUNK, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return fail(strerror(errno), sent, got);
		sent += n > 0 ? (uint64_t)n : 0;
		n = take(s, &got);
		if (n == -2 || n == 0 || (n < 0 && errno != EAGAIN))
			return fail(n == -2 ? "a wrong byte"
				    : n	    ? strerror(errno)
					    : "end of stream",
				    sent, got);
		if (!ready && sent && got) {
			ready = true;
			printf("READY\n");
			fflush(stdout);
		}
		usleep(1000);
	}
	for (;;) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 1) < 0 && errno != EINTR)
			return fail("poll", sent, got);
		n = take(s, &got);
		if (n == 0)
			break;
		if (n == -2 || (n < 0 && errno != EAGAIN))
			return fail(n == -2 ? "a wrong byte" : strerror(errno), sent, got);
		idle = n > 0 ? 0 : idle + 1;
		if (idle > STALL_MS)
			return fail("nothing received for 20 s", sent, got);
	}
	printf("PASS sent=%llu received=%llu\n", (unsigned long long)sent, (unsigned long long)got);
	return 0;
}

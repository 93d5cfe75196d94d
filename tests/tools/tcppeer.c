// SPDX-License-Identifier: Apache-2.0
/* tcppeer PORT: the far end of a TCP connection carried through checkpoint and restore. Listens
 * on 127.0.0.1:PORT, prints "LISTENING", accepts one connection (never another), then streams a
 * position-dependent byte pattern to it while reading and checking the pattern it gets back,
 * until the other side shuts its writing down. Then it shuts down its own, prints
 * "PASS sent=N received=M" and exits 0; a wrong byte, a reset or a stall of more than 60 s prints
 * "FAIL ..." and exits 1. Any lost or repeated byte shows as a wrong byte. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 1024
#define STALL_MS 60000

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

static int accept_one(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), s;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 1) < 0)
		return -1;
	printf("LISTENING\n");
	fflush(stdout);
	s = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	close(ls);
	return s;
}

int main(int argc, char **argv)
{
	uint64_t sent = 0, got = 0;
	uint8_t buf[CHUNK * 8];
	bool eof = false;
	int s, idle = 0;

	if (argc != 2)
		return fprintf(stderr, "usage: tcppeer PORT\n"), 2;
	s = accept_one(atoi(argv[1]));
	if (s < 0)
		return fail(strerror(errno), 0, 0);
	while (!eof) {
		struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
		ssize_t n;

		if (poll(&p, 1, 1) < 0 && errno != EINTR)
			return fail("poll", sent, got);
		if (p.revents & POLLOUT) {
			for (size_t i = 0; i < CHUNK; i++)
				buf[i] = pat(1, sent + i);
			n = send(s, buf, CHUNK, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				return fail(strerror(errno), sent, got);
			sent += n > 0 ? (uint64_t)n : 0;
		}
		n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN)
			return fail(strerror(errno), sent, got);
		eof = n == 0;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(2, got + (uint64_t)i))
				return fail("a wrong byte", sent, got + (uint64_t)i);
		got += n > 0 ? (uint64_t)n : 0;
		idle = n > 0 ? 0 : idle + 1;
		if (idle > STALL_MS)
			return fail("nothing received for 60 s", sent, got);
		usleep(1000);
	}
	shutdown(s, SHUT_WR);
	printf("PASS sent=%llu received=%llu\n", (unsigned long long)sent, (unsigned long long)got);
	return 0;
}

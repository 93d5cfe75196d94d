// SPDX-License-Identifier: Apache-2.0
/* pipe: a pipe holding 40,000 unread patterned bytes (read end fd 3, write end fd 4, the read end
 * non-blocking) and a second, full pipe (fds 5 and 6, 4,096 bytes in a one-page pipe); prints
 * READY and waits. On SIGUSR1 it reads every byte back, checks that nothing more is there and
 * that both pipes still carry data, then prints PASS or FAIL (exit 0 or 1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LEN 40000
#define FULL 4096

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static int fail(const char *what)
{
	printf("FAIL %s\n", what);
	return 1;
}

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 13 + i / 256 + seed);
}

/* Reads len bytes from fd and checks them against the pattern; 0 or 1. */
static int drain(int fd, size_t len, unsigned seed)
{
	static unsigned char buf[LEN + 1];
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, buf + done, len - done);
		if (n <= 0)
			return fail("short pipe");
		done += (size_t)n;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(i, seed))
			return fail("pipe contents");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || read(fd, buf, 1) != -1 || errno != EAGAIN)
		return fail("more data than was written");
	return 0;
}

static int check(void)
{
	char c;

	if (!(fcntl(3, F_GETFL) & O_NONBLOCK) || (fcntl(4, F_GETFL) & O_ACCMODE) != O_WRONLY)
		return fail("flags");
	if (fcntl(6, F_GETPIPE_SZ) < FULL)
		return fail("pipe size");
	if (drain(3, LEN, 1) || drain(5, FULL, 2))
		return 1;
	if (write(4, "x", 1) != 1 || read(3, &c, 1) != 1 || c != 'x' || write(6, "y", 1) != 1 ||
	    read(5, &c, 1) != 1 || c != 'y')
		return fail("the pipes no longer carry data");
	return 0;
}

int main(void)
{
	static unsigned char buf[LEN];
	int p[2], q[2];
	sigset_t none;

	for (int i = 3; i < 64; i++)
		close(i);
	if (pipe(p) < 0 || pipe(q) < 0 || p[0] != 3 || q[1] != 6)
		return fail("setup");
	for (size_t i = 0; i < LEN; i++)
		buf[i] = pattern(i, 1);
	if (fcntl(3, F_SETFL, O_NONBLOCK) < 0 || write(4, buf, LEN) != LEN)
		return fail("setup");
	for (size_t i = 0; i < FULL; i++)
		buf[i] = pattern(i, 2);
	if (fcntl(6, F_SETPIPE_SZ, FULL) < 0 || write(6, buf, FULL) != FULL)
		return fail("setup");
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (check())
		return 1;
	printf("PASS\n");
	return 0;
}

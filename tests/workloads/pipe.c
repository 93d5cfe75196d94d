// SPDX-License-Identifier: Apache-2.0
/* pipe: a pipe holding 40,000 unread patterned bytes (read end fd 3, write end fd 4, the read end
 * non-blocking) and a second, full pipe (fds 5 and 6, 4,096 bytes in a one-page pipe); prints
 * READY and waits; a child holds the read end (fd 7) of a third pipe whose write end (fd 8) the
 * parent keeps, 10,000 bytes in it. On SIGUSR1 it reads every byte back, checks that nothing more
 * is there and that both pipes still carry data; then it closes fd 8 and has the child (SIGUSR1)
 * read its pipe to the end; it prints PASS or FAIL (exit 0 or 1). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN 40000
#define FULL 4096
#define TREE 10000

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

/* The child: waits for SIGUSR1, then reads the pipe on fd 7 up to its end; exit status 0 if it
 * held exactly the parent's bytes. */
static int child(void)
{
	static unsigned char buf[TREE + 1];
	size_t done = 0;
	sigset_t none;
	ssize_t n;

	sigemptyset(&none);
	while (!verify)
		sigsuspend(&none);
	while ((n = read(7, buf + done, sizeof(buf) - done)) > 0)
		done += (size_t)n;
	if (n < 0 || done != TREE)
		return 1;
	for (size_t i = 0; i < TREE; i++)
		if (buf[i] != pattern(i, 3))
			return 2;
	return 0;
}

static int check_child(pid_t c)
{
	int st;

	close(8);
	if (kill(c, SIGUSR1) < 0 || waitpid(c, &st, 0) != c)
		return fail("child");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return fail("the child's pipe");
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
	pid_t c;

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
	if (pipe(p) < 0 || p[0] != 7)
		return fail("setup");
	c = fork();
	if (c < 0)
		return fail("fork");
	if (c == 0) {
		close(8);
		_exit(child());
	}
	close(7);
	for (size_t i = 0; i < TREE; i++)
		buf[i] = pattern(i, 3);
	if (write(8, buf, TREE) != TREE)
		return fail("setup");
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (check()) {
		kill(c, SIGKILL);
		return 1;
	}
	if (check_child(c))
		return 1;
	printf("PASS\n");
	return 0;
}

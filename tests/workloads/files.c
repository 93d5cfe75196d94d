// SPDX-License-Identifier: Apache-2.0
/* files DIR: opens DIR/a read-write at offset 1234, DIR/b with O_APPEND, DIR/c read-only at
 * offset 7 and DIR itself, prints READY and waits; on SIGUSR1 it checks every offset and flag and
 * that reading and appending still work where they were, prints PASS or FAIL (exit 0 or 1). The
 * fds are 3 (a), 4 (b), 5 (c), 6 (DIR). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static int open_at(const char *dir, const char *name, int flags, int want)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags, 0644);
	if (fd >= 0 && fd != want) {
		dup2(fd, want);
		close(fd);
		fd = want;
	}
	return fd;
}

int main(int argc, char **argv)
{
	char buf[2048] = {0}, c;
	sigset_t none;
	int a, b, r, d;

	if (argc != 2)
		return 2;
	for (int i = 3; i < 64; i++)
		close(i);
	a = open_at(argv[1], "a", O_RDWR | O_CREAT | O_TRUNC, 3);
	b = open_at(argv[1], "b", O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 4);
	memset(buf, 'x', sizeof(buf));
	if (a < 0 || b < 0 || write(a, buf, sizeof(buf)) != sizeof(buf) ||
	    write(b, "one\n", 4) != 4)
		return fail("setup");
	r = open_at(argv[1], "a", O_RDONLY, 5);
	d = open_at(argv[1], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 6);
	if (r < 0 || d < 0 || lseek(a, 1234, SEEK_SET) != 1234 || lseek(r, 7, SEEK_SET) != 7)
		return fail("setup");
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (lseek(a, 0, SEEK_CUR) != 1234 || lseek(r, 0, SEEK_CUR) != 7)
		return fail("offsets");
	if (!(fcntl(b, F_GETFL) & O_APPEND) || !(fcntl(d, F_GETFD) & FD_CLOEXEC))
		return fail("flags");
	if (write(b, "two\n", 4) != 4 || read(r, &c, 1) != 1 || c != 'x')
		return fail("io");
	if (pread(open_at(argv[1], "b", O_RDONLY, 7), buf, 8, 0) != 8 ||
	    memcmp(buf, "one\ntwo\n", 8))
		return fail("append");
	printf("PASS\n");
	return 0;
}

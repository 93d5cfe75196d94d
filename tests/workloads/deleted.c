// SPDX-License-Identifier: Apache-2.0
/* deleted [DIR]: opens DIR/deleted-<pid> read-write as fd 3, writes 10,000 patterned bytes, seeks
 * to 3,333 and unlinks it; prints READY and waits. On SIGUSR1 it checks that fd 3 is still an
 * unlinked file of the same size and contents at the same offset, and still writable, then
 * prints PASS or FAIL (exit 0 or 1). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE 10000
#define OFFSET 3333

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

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

static int check(int fd)
{
	unsigned char buf[SIZE];
	char link[4096];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 0 || st.st_size != SIZE)
		return fail("not an unlinked file of the same size");
	if ((st.st_mode & 07777) != 0640)
		return fail("mode");
	n = readlink("/proc/self/fd/3", link, sizeof(link) - 1);
	if (n < 0 || (link[n] = 0, !strstr(link, "/deleted-")) || !strstr(link, " (deleted)"))
		return fail("link");
	if (lseek(fd, 0, SEEK_CUR) != OFFSET)
		return fail("offset");
	if (read(fd, buf, SIZE) != SIZE - OFFSET)
		return fail("read");
	for (size_t i = OFFSET; i < SIZE; i++)
		if (buf[i - OFFSET] != pattern(i))
			return fail("contents");
	if (pread(fd, buf, OFFSET, 0) != OFFSET)
		return fail("pread");
	for (size_t i = 0; i < OFFSET; i++)
		if (buf[i] != pattern(i))
			return fail("contents");
	if (write(fd, "more", 4) != 4 || fstat(fd, &st) < 0 || st.st_size != SIZE + 4)
		return fail("write");
	return 0;
}

int main(int argc, char **argv)
{
	unsigned char buf[SIZE];
	char path[4096];
	sigset_t none;
	int fd;

	for (int i = 3; i < 64; i++)
		close(i);
	snprintf(path, sizeof(path), "%s/deleted-%d", argc > 1 ? argv[1] : "/tmp", (int)getpid());
	umask(0);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	for (size_t i = 0; i < SIZE; i++)
		buf[i] = pattern(i);
	if (fd != 3 || write(fd, buf, SIZE) != SIZE || lseek(fd, OFFSET, SEEK_SET) != OFFSET ||
	    unlink(path) < 0)
		return fail("setup");
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (check(fd))
		return 1;
	printf("PASS\n");
	return 0;
}

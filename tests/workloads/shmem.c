// SPDX-License-Identifier: Apache-2.0
/* shmem [DIR]: MAP_SHARED anonymous memory (256 KiB, a page left untouched) and a memfd
 * (128 KiB, its fd closed once mapped) shared by a parent and its child. The parent fills the
 * anonymous area, the child the memfd; each checks the other's writes. Prints READY once both are
 * set up; on SIGUSR1 the parent checks both areas are still shared mappings of the same objects
 * (/proc/self/maps), checks their contents, then writes a token the child must see and answer
 * through the other area (writes by one process visible to the other), and prints PASS or FAIL.
 * The child exits when the parent is gone. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANON_SIZE (256 * 1024)
#define MFD_SIZE (128 * 1024)
#define HOLE_PAGE 17 /* a page of the anonymous area nobody touches */

struct ctl {
	volatile uint64_t cmd, token, answer, child_ok;
};

static volatile sig_atomic_t verify;
static uint8_t *anon, *mfd;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static uint8_t anon_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint8_t mfd_byte(size_t i)
{
	return (uint8_t)(i * 13 + 1);
}

/* The control words live at the start of the anonymous area, the pattern after them. */
static struct ctl *ctl(void)
{
	return (struct ctl *)anon;
}

static int anon_ok(void)
{
	for (size_t i = 4096; i < ANON_SIZE; i++) {
		if (i / 4096 == HOLE_PAGE) {
			if (anon[i])
				return 0;
			continue;
		}
		if (anon[i] != anon_byte(i))
			return 0;
	}
	return 1;
}

static int mfd_ok(void)
{
	for (size_t i = 4096; i < MFD_SIZE; i++)
		if (mfd[i] != mfd_byte(i))
			return 0;
	return 1;
}

static void child_main(pid_t parent)
{
	for (size_t i = 4096; i < MFD_SIZE; i++)
		mfd[i] = mfd_byte(i);
	ctl()->child_ok = anon_ok() ? 1 : 2;
	while (getppid() == parent) {
		if (ctl()->cmd == 1) {
			/* Answer through the memfd: the parent reads it there. */
			*(volatile uint64_t *)mfd = ctl()->token ^ 0x5a5a5a5a;
			ctl()->child_ok = anon_ok() && mfd_ok() ? 3 : 4;
			ctl()->cmd = 0;
		}
		sleep_ms(1);
	}
	_exit(0);
}

/* Whether addr starts a shared mapping whose path contains name in /proc/self/maps. */
static int mapped_shared(const void *addr, const char *name)
{
	char line[512], want[32];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)) && strstr(line, " rw-s ") &&
		    strstr(line, name))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

static int fail(const char *what, pid_t child)
{
	printf("FAIL %s\n", what);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return 1;
}

static int check(pid_t child)
{
	uint64_t token = 0x1234567890ull ^ (uint64_t)time(NULL);

	if (!mapped_shared(anon, "/dev/zero") || !mapped_shared(mfd, "/memfd:shmem-test"))
		return fail("maps", child);
	if (!anon_ok() || !mfd_ok())
		return fail("contents", child);
	ctl()->token = token;
	ctl()->cmd = 1;
	for (int i = 0; i < 2000 && ctl()->cmd; i++)
		sleep_ms(1);
	if (ctl()->cmd)
		return fail("the child never saw the command", child);
	if (ctl()->child_ok != 3)
		return fail("the child saw other contents", child);
	if (*(volatile uint64_t *)mfd != (token ^ 0x5a5a5a5a))
		return fail("the child's answer is not visible", child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("PASS shmem\n");
	return 0;
}

int main(void)
{
	pid_t child, self = getpid();
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	anon = mmap(NULL, ANON_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("shmem-test", MFD_CLOEXEC);
	if (anon == MAP_FAILED || fd < 0 || ftruncate(fd, MFD_SIZE) < 0)
		return printf("FAIL setup: %m\n"), 1;
	mfd = mmap(NULL, MFD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (mfd == MAP_FAILED)
		return printf("FAIL mmap memfd: %m\n"), 1;
	for (size_t i = 4096; i < ANON_SIZE; i++)
		if (i / 4096 != HOLE_PAGE)
			anon[i] = anon_byte(i);
	child = fork();
	if (child < 0)
		return printf("FAIL fork: %m\n"), 1;
	if (child == 0)
		child_main(self);
	for (int i = 0; i < 2000 && !ctl()->child_ok; i++)
		sleep_ms(1);
	if (ctl()->child_ok != 1)
		return fail("child setup", child);
	if (!mfd_ok())
		return fail("the child's writes are not visible", child);
	printf("READY\n");
	while (!verify)
		sleep_ms(1);
	return check(child);
}

// SPDX-License-Identifier: Apache-2.0
/* mapfile DIR: writes DIR/data (8 pages of a known pattern), maps it MAP_PRIVATE and MAP_SHARED
 * (and closes the fd), writes one page of the private map (copy on write) and reads the rest of
 * both; prints READY. On SIGUSR1 it checks that the private map still has its modified page and
 * the file's other pages, that the shared map shows the file, that a write through the shared map
 * reaches the file and one through the private map does not, prints PASS or FAIL, exits 0 or 1. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES 8
#define PAGE 4096
#define DIRTY 3 /* the private page written before the checkpoint */

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static uint8_t file_byte(size_t off)
{
	return (uint8_t)(off * 7 + off / PAGE);
}

static uint8_t dirty_byte(size_t off)
{
	return (uint8_t)(0xa5 ^ off);
}

static int fail(const char *what, size_t off)
{
	printf("FAIL %s (offset %zu)\n", what, off);
	return 1;
}

/* Checks the private map: the dirty page as written, every other page as the file. */
static int check_private(const uint8_t *priv)
{
	for (size_t off = 0; off < PAGES * PAGE; off++) {
		uint8_t want = off / PAGE == DIRTY ? dirty_byte(off) : file_byte(off);

		if (priv[off] != want)
			return fail("private map", off);
	}
	return 0;
}

/* Checks the shared map against the file and that writes go both ways as they should. */
static int check_shared(uint8_t *shared, uint8_t *priv, int fd)
{
	uint8_t page[PAGE];

	for (size_t off = 0; off < PAGES * PAGE; off++)
		if (shared[off] != file_byte(off))
			return fail("shared map", off);
	memset(shared + 5 * PAGE, 0x5a, PAGE);
	if (pread(fd, page, PAGE, 5 * PAGE) != PAGE || page[0] != 0x5a || page[PAGE - 1] != 0x5a)
		return fail("a write to the shared map is not in the file", 5 * PAGE);
	if (priv[5 * PAGE] != 0x5a)
		return fail("the private map's clean page does not follow the file", 5 * PAGE);
	memset(priv + 6 * PAGE, 0x11, PAGE);
	if (pread(fd, page, PAGE, 6 * PAGE) != PAGE || page[0] != file_byte(6 * PAGE))
		return fail("a write to the private map reached the file", 6 * PAGE);
	if (pread(fd, page, PAGE, DIRTY * PAGE) != PAGE || page[0] != file_byte(DIRTY * PAGE))
		return fail("the private page reached the file", DIRTY * PAGE);
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec step = {0, 1000000};
	static uint8_t buf[PAGES * PAGE];
	char path[4096];
	uint8_t *priv, *shared;
	volatile uint64_t sum = 0;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: mapfile DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	for (size_t off = 0; off < sizeof(buf); off++)
		buf[off] = file_byte(off);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
		printf("FAIL write %s: %m\n", path);
		return 1;
	}
	priv = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	shared = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (priv == MAP_FAILED || shared == MAP_FAILED) {
		printf("FAIL mmap: %m\n");
		return 1;
	}
	for (size_t off = DIRTY * PAGE; off < (DIRTY + 1) * PAGE; off++)
		priv[off] = dirty_byte(off);
	for (size_t off = 0; off < sizeof(buf); off += 512)
		sum += priv[off] + shared[off];
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("FAIL open %s: %m\n", path);
		return 1;
	}
	if (check_private(priv) || check_shared(shared, priv, fd))
		return 1;
	printf("PASS\n");
	return 0;
}

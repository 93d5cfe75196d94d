// SPDX-License-Identifier: Apache-2.0
/* bench-pages [-p] [-s MIB] [-n RUNS] [-c CHUNK_KIB] [-d DIR]: reading a process's memory into a
 * file. A child holds MIB MiB of random data; each round, in alternation, times
 *   plain   write(2) of the same bytes from this program's own memory to a new file in DIR,
 *   copy    find the child's pages (PAGEMAP_SCAN) + process_vm_readv into a buffer + write(2),
 *   splice  find + process_vm_readv into a buffer + vmsplice to a pipe + splice to the file,
 *   memory  find + process_vm_readv of everything into one buffer (no file),
 * and the finding alone, by PAGEMAP_SCAN and by reading /proc/PID/pagemap. Prints medians. With
 * -p, the plain write alone (no child, nothing else in between: the yardstick a checkpoint run
 * next to it is held to, bench/cr-pages). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/memmap.h"
#include "os/linux/pages.h"

enum { T_PLAIN, T_COPY, T_SPLICE, T_MEMORY, T_SCAN, T_PAGEMAP, T_N };
static const char *names[T_N] = {
    "plain write (own memory)",	   "dump: readv + write",      "dump: readv + vmsplice/splice",
    "readv into memory (no file)", "find pages: PAGEMAP_SCAN", "find pages: read pagemap",
};

static pid_t child = -1;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill_random(uint64_t *w, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

static void die(const char *what, ferry_err_t err)
{
	fprintf(stderr, "bench-pages: %s: %s\n", what, err ? err->msg : strerror(errno));
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	exit(1);
}

static pid_t start_child(size_t size)
{
	int fds[2];
	char c = 0;

	if (pipe(fds) < 0)
		die("pipe", NULL);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		uint64_t *m =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			_exit(1);
		fill_random(m, size / 8);
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	if (pid < 0 || read(fds[0], &c, 1) != 1)
		die("child", NULL);
	close(fds[0]);
	return pid;
}

/* Finds the child's pages; returns the time taken. */
static double find(unsigned flags, struct lx_page_list *pl)
{
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_memmap m;
	struct lx_pagemap pm;
	double t0 = now_ms();

	memset(pl, 0, sizeof(*pl));
	if (lx_memmap_read(child, true, &m, &err) < 0 ||
	    lx_pagemap_open(child, flags, &pm, &err) < 0 ||
	    lx_pages_find_all(&pm, &m, pl, &err) < 0)
		die("find pages", err);
	double t = now_ms() - t0;
	lx_pagemap_close(&pm);
	lx_memmap_free(&m);
	return t;
}

static int new_file(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/bench-pages.img", dir);
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(path, NULL);
	unlink(path);
	return fd;
}

static double plain(const char *dir, const char *buf, size_t size)
{
	int fd = new_file(dir);
	double t0 = now_ms();

	for (size_t done = 0; done < size;) {
		ssize_t k = write(fd, buf + done, size - done);
		if (k <= 0)
			die("write", NULL);
		done += (size_t)k;
	}
	double t = now_ms() - t0;
	close(fd);
	return t;
}

static double dump(const char *dir, enum lx_pages_method how, size_t chunk, uint64_t *bytes)
{
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_page_list pl;
	int fd = new_file(dir);
	double t0 = now_ms();

	find(0, &pl);
	int64_t n = lx_pages_write(child, pl.v, pl.n, fd, how, chunk, &err);
	double t = now_ms() - t0;
	if (n < 0 || (uint64_t)n != pl.bytes)
		die("write pages", err);
	*bytes = pl.bytes;
	lx_page_list_free(&pl);
	close(fd);
	return t;
}

static double to_memory(char *buf, size_t size)
{
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_page_list pl;
	double t0 = now_ms();

	find(0, &pl);
	if (lx_pages_read(child, pl.v, pl.n, buf, size, &err) < 0)
		die("read pages", err);
	double t = now_ms() - t0;
	lx_page_list_free(&pl);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The plain write of size random bytes alone, runs times after one not counted; prints the
 * median. */
static int plain_alone(const char *dir, size_t size, int runs)
{
	char *own = malloc(size);
	double *t = calloc((size_t)runs, sizeof(double));

	if (!own || !t)
		die("memory", NULL);
	fill_random((uint64_t *)own, size / 8);
	plain(dir, own, size);
	for (int r = 0; r < runs; r++)
		t[r] = plain(dir, own, size);
	printf("  %-32s %9.2f ms   %.2f GB/s\n", names[T_PLAIN], median(t, runs),
	       size / median(t, runs) / 1e6);
	free(t);
	free(own);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = 128, chunk = 0;
	int runs = 7, opt;
	const char *dir = "/dev/shm";
	bool plain_only = false;

	while ((opt = getopt(argc, argv, "ps:n:c:d:")) != -1) {
		switch (opt) {
		case 'p':
			plain_only = true;
			break;
		case 's':
			mib = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			runs = atoi(optarg);
			break;
		case 'c':
			chunk = strtoul(optarg, NULL, 10) * 1024;
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			fprintf(
			    stderr,
			    "usage: bench-pages [-p] [-s MIB] [-n RUNS] [-c CHUNK_KIB] [-d DIR]\n");
			return 2;
		}
	}
	if (!mib || runs < 1)
		return 2;
	size_t size = mib << 20;
	/* The child's own libc, stack and heap come on top of the data. */
	size_t bufsize = size + (64 << 20);
	char *own, *mem;
	double *t[T_N];
	uint64_t bytes = 0;
	struct lx_page_list pl;

	if (plain_only)
		return plain_alone(dir, size, runs);
	child = start_child(size); /* first: it must not inherit the buffers below */
	own = malloc(size);
	mem = malloc(bufsize);
	if (!own || !mem)
		die("memory", NULL);
	fill_random((uint64_t *)own, size / 8);
	memset(mem, 0, bufsize);
	for (int k = 0; k < T_N; k++)
		if (!(t[k] = calloc(runs + 1, sizeof(double))))
			die("memory", NULL);
	for (int r = -1; r < runs; r++) { /* round -1 warms up, not counted */
		int i = r < 0 ? runs : r;
		t[T_PLAIN][i] = plain(dir, own, size);
		t[T_COPY][i] = dump(dir, LX_PAGES_COPY, chunk, &bytes);
		t[T_SPLICE][i] = dump(dir, LX_PAGES_SPLICE, chunk, &bytes);
		t[T_MEMORY][i] = to_memory(mem, bufsize);
		t[T_SCAN][i] = find(0, &pl);
		lx_page_list_free(&pl);
		t[T_PAGEMAP][i] = find(LX_PAGES_NO_SCAN, &pl);
		lx_page_list_free(&pl);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);

	double med[T_N];
	for (int k = 0; k < T_N; k++)
		med[k] = median(t[k], runs);
	printf("reading memory: a child holding %zu MiB of random data, %llu KiB dumped, into %s; "
	       "%d runs each, alternated; medians (chunk %zu KiB)\n",
	       mib, (unsigned long long)bytes / 1024, dir, runs, chunk ? chunk / 1024 : 1024);
	for (int k = 0; k < T_N; k++) {
		printf("  %-32s %9.2f ms", names[k], med[k]);
		if (k != T_PLAIN)
			printf("   %.2f x plain write", med[k] / med[T_PLAIN]);
		if (k <= T_MEMORY)
			printf("   %.2f GB/s", bytes / med[k] / 1e6);
		printf("\n");
	}
	return 0;
}

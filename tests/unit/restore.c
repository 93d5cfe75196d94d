// SPDX-License-Identifier: Apache-2.0
/* Restore of a real process after a real checkpoint: same pid, the counters of its two threads
 * continue from where they were, the memory map and the fd table equal the image; a bad image is
 * refused before any process is made. Run as root under tests/tools/subreaper. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/process.h"
#include "image/image.h"
#include "os/linux/memmap.h"
#include "tap.h"

static char tmpdir[64] = "/tmp/ferry-restore-XXXXXX";
static char counts[128], logpath[128], imgdir[128];
static pid_t child = -1;
static int count_fd = -1;

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* ---- the program that is checkpointed ---- */

static void *thread_main(void *arg)
{
	volatile uint64_t n = 0;

	(void)arg;
	for (;;) {
		n++;
		pwrite(count_fd, (const void *)&n, 8, 8);
		msleep(1);
	}
	return NULL;
}

static void child_main(void)
{
	volatile uint64_t n = 0;
	pthread_t t;
	int devnull = open("/dev/null", O_RDWR), logfd;
	char *heap = malloc(1 << 20);

	close(count_fd);
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	close(devnull);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (logfd != 3 || write(logfd, "0123456789", 10) != 10 || !heap)
		_exit(2);
	memset(heap, 0x5a, 1 << 20);
	count_fd = open(counts, O_RDWR);
	if (count_fd < 0 || pthread_create(&t, NULL, thread_main, NULL))
		_exit(2);
	for (;;) {
		n++;
		if (heap[n % (1 << 20)] != 0x5a)
			n = 1ULL << 60; /* visible: memory was not restored */
		pwrite(count_fd, (const void *)&n, 8, 0);
		msleep(1);
	}
}

/* ---- checks ---- */

static void read_counts(uint64_t v[2])
{
	v[0] = v[1] = 0;
	pread(count_fd, v, 16, 0);
}

static void cleanup(void)
{
	char cmd[160];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd)) {
	}
}

/* Compares the restored process's map with the image's areas; returns the mismatches. */
static int compare_maps(pid_t pid, const struct cr_process *p)
{
	struct lx_memmap m = {0};
	ferry_err_t err = NULL;
	size_t j = 0;
	int bad = 0;

	if (lx_memmap_read(pid, false, &m, &err) < 0) {
		diag("%s", err->msg);
		ferry_error_free(&err);
		return 1;
	}
	for (size_t i = 0; i < p->n_vmas; i++) {
		const struct cr_vma *v = &p->vmas[i];
		const struct lx_area *a = j < m.n ? &m.areas[j] : NULL;

		if (!a || a->start != v->start || a->end != v->end ||
		    (uint32_t)a->prot != v->prot || a->shared != !!(v->flags & CR_VMA_SHARED) ||
		    (v->path && (!a->path || strcmp(a->path, v->path)))) {
			diag("area %zu: image 0x%llx-0x%llx prot %u %s, restored 0x%llx-0x%llx "
			     "prot %d %s",
			     i, (unsigned long long)v->start, (unsigned long long)v->end, v->prot,
			     v->path ? v->path : "", a ? (unsigned long long)a->start : 0,
			     a ? (unsigned long long)a->end : 0, a ? a->prot : 0,
			     a && a->path ? a->path : "");
			bad++;
		}
		j++;
	}
	if (j != m.n) {
		diag("%zu areas in the image, %zu restored", j, m.n);
		bad++;
	}
	lx_memmap_free(&m);
	return bad;
}

static void test_bad_image(void)
{
	char path[192];
	ferry_err_t err = NULL;
	struct ferry_restore_opts opts = {.image_path = imgdir};
	pid_t root = -1;
	int fd, r;

	/* One flipped byte in the process tree file. */
	snprintf(path, sizeof(path), "%s/pstree.img", imgdir);
	fd = open(path, O_RDWR);
	ok(fd >= 0, "open pstree.img");
	if (fd >= 0) {
		char c;

		pread(fd, &c, 1, 14);
		c ^= 0x10;
		pwrite(fd, &c, 1, 14);
		close(fd);
	}
	r = ferry_process_restore(&opts, &root, NULL, &err);
	ok(r < 0 && err && strstr(err->msg, "pstree.img"), "a damaged image is refused: %s",
	   err ? err->msg : "(no error)");
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no process was made");
	ok(kill(child, 0) < 0 && errno == ESRCH, "pid %d is free", child);
	ferry_error_free(&err);
	child = -1;
}

static void test_round_trip(void)
{
	struct ferry_checkpoint_opts cp = {.image_path = imgdir};
	struct ferry_restore_opts ro = {.image_path = imgdir};
	struct ferry_restore_stats st = {0};
	struct cr_image img = {0};
	ferry_err_t err = NULL;
	uint64_t before[2], after[2], later[2];
	char link[64], target[256];
	pid_t root = -1;
	ssize_t n;
	off_t off;

	for (int i = 0; i < 400; i++) {
		msleep(5);
		read_counts(before);
		if (before[0] >= 30 && before[1] >= 30)
			break;
	}
	cp.pid = child;
	ok(ferry_process_checkpoint(&cp, NULL, &err) == 0, "checkpoint %d%s%s", child,
	   err ? ": " : "", err ? err->msg : "");
	ferry_error_free(&err);
	waitpid(child, NULL, 0);
	read_counts(before);
	ok(image_read(imgdir, 0, &img, &err) == 0, "image readable");
	ferry_error_free(&err);

	ok(ferry_process_restore(&ro, &root, &st, &err) == 0, "restore%s%s", err ? ": " : "",
	   err ? err->msg : "");
	ferry_error_free(&err);
	ok(root == child, "same pid (%d)", root);
	if (root != child) {
		cr_image_free(&img);
		return;
	}
	diag("restore: %llu us (tree %llu, memory %llu), %llu pages",
	     (unsigned long long)st.total_us, (unsigned long long)st.tree_us,
	     (unsigned long long)st.memory_us, (unsigned long long)st.pages);
	if (img.n_procs == 1)
		ok(compare_maps(root, &img.procs[0]) == 0, "the memory map equals the image");
	msleep(50);
	read_counts(after);
	ok(after[0] > before[0] && after[0] < before[0] + 10000,
	   "main thread continues: %llu -> %llu", (unsigned long long)before[0],
	   (unsigned long long)after[0]);
	ok(after[1] > before[1] && after[1] < before[1] + 10000, "thread continues: %llu -> %llu",
	   (unsigned long long)before[1], (unsigned long long)after[1]);
	snprintf(link, sizeof(link), "/proc/%d/fd/3", root);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = 0;
	is_str(target, logpath, "fd 3 is the log file again");
	snprintf(link, sizeof(link), "/proc/%d/fdinfo/3", root);
	{
		_cleanup_fclose_ FILE *f = fopen(link, "re");
		long long pos = -1;

		if (f && fscanf(f, "pos: %lld", &pos) != 1)
			pos = -1;
		off = (off_t)pos;
	}
	ok(off == 10, "its offset is 10 (%lld)", (long long)off);
	msleep(20);
	read_counts(later);
	ok(later[0] > after[0] && later[1] > after[1], "both keep counting");
	ok(kill(root, 0) == 0, "still running");
	kill(root, SIGKILL);
	waitpid(root, NULL, 0);
	cr_image_free(&img);
}

int main(void)
{
	uint64_t zero[2] = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(counts, sizeof(counts), "%s/counts", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/log", tmpdir);
	snprintf(imgdir, sizeof(imgdir), "%s/img", tmpdir);
	count_fd = open(counts, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (count_fd < 0 || pwrite(count_fd, zero, 16, 0) != 16)
		return 1;
	child = fork();
	if (child == 0)
		child_main();
	test_round_trip();
	test_bad_image();
	if (!getenv("KEEP"))
		cleanup();
	return done_testing();
}

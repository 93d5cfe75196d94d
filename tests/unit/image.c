// SPDX-License-Identifier: Apache-2.0
/*
 * The checkpoint image: a model written then read back equals the original; every kind of bad
 * image (truncated, bit-flipped, wrong magic/version, bad checksum, overlapping areas, absurd
 * sizes, '..' paths, fds out of range, runs outside the pages file) is refused with an error naming
 * the file; a deterministic mutation run over a valid image's files never crashes the reader.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image_sample.h"
#include "tap.h"

static char base[256];
static unsigned counter;

static void rm_rf(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

static const char *new_dir(void)
{
	static char dir[300];

	snprintf(dir, sizeof(dir), "%s/%u", base, counter++);
	return dir;
}

static char *json_of(const struct cr_image *img)
{
	return image_to_json(img, NULL);
}

static bool bytes_equal(const struct cr_image *a, const struct cr_image *b)
{
	for (size_t i = 0; i < a->n_procs; i++) {
		const struct cr_process *p = &a->procs[i], *q = &b->procs[i];

		for (size_t t = 0; t < p->n_threads; t++) {
			const struct cr_thread *x = &p->threads[t], *y = &q->threads[t];

			if (x->xsave_len != y->xsave_len ||
			    memcmp(x->xsave, y->xsave, x->xsave_len) ||
			    memcmp(x->pending, y->pending, x->n_pending * sizeof(*x->pending)))
				return false;
		}
		if (memcmp(p->shared_pending, q->shared_pending, sizeof(*p->shared_pending)))
			return false;
		if (p->n_seccomp != q->n_seccomp ||
		    (p->n_seccomp &&
		     (p->seccomp[0].len != q->seccomp[0].len ||
		      memcmp(p->seccomp[0].bpf, q->seccomp[0].bpf, p->seccomp[0].len))))
			return false;
		for (size_t k = 0; k < p->n_fds; k++) {
			const struct cr_fd *x = &p->fds[k], *y = &q->fds[k];

			if (x->data.len != y->data.len ||
			    (x->data.len && memcmp(x->data.data, y->data.data, x->data.len)))
				return false;
			for (size_t m = 0; m < x->unix_sk.n_queue; m++)
				if (x->unix_sk.queue[m].len != y->unix_sk.queue[m].len ||
				    memcmp(x->unix_sk.queue[m].data, y->unix_sk.queue[m].data,
					   x->unix_sk.queue[m].len))
					return false;
		}
	}
	return a->n_ghosts == b->n_ghosts &&
	       !memcmp(a->ghosts[0].data.data, b->ghosts[0].data.data, a->ghosts[0].data.len);
}

static void test_round_trip(void)
{
	const char *dir = new_dir();
	ferry_err_t err = NULL;
	struct cr_image w, r;
	char *jw, *jr;
	uint8_t page[CR_PAGE_SIZE];
	int fd;

	ok(sample_write(dir, &w, &err) == 0, "sample image written");
	ok(image_read(dir, 0, &r, &err) == 0, "sample image read back: %s", err ? err->msg : "");
	jw = json_of(&w), jr = json_of(&r);
	ok(jw && jr && !strcmp(jw, jr), "every field read back equals the written model");
	ok(bytes_equal(&w, &r), "xsave, siginfo, pipe, socket and ghost bytes equal");
	ok(!memcmp(&w.procs[1].threads[1].regs, &r.procs[1].threads[1].regs,
		   sizeof(struct cr_regs)),
	   "registers equal");
	fd = image_open_pages(dir, r.procs[1].pages.pages_id, &err);
	ok(fd >= 0 &&
	       pread(fd, page, sizeof(page),
		     IMAGE_PAGES_DATA_START + r.procs[1].pages.runs[2].offset) ==
		   (ssize_t)sizeof(page) &&
	       page[0] == 'a' + 2 + 1 && page[4095] == 'a' + 3,
	   "page contents found through the page map");
	if (fd >= 0)
		close(fd);
	free(jw), free(jr);
	cr_image_free(&w), cr_image_free(&r);
	ferry_error_free(&err);
}

/* Reads dir, expecting failure with want in the message. */
static void expect_fail(const char *dir, const char *want, const char *what)
{
	ferry_err_t err = NULL;
	struct cr_image img;
	int r = image_read(dir, 0, &img, &err);

	ok(r < 0 && err && strstr(err->msg, want), "%s: refused", what);
	if (!(r < 0 && err && strstr(err->msg, want)))
		diag("got: %s (wanted \"%s\")", err ? err->msg : "success", want);
	else
		diag("%s", err->msg);
	if (r == 0)
		cr_image_free(&img);
	ferry_error_free(&err);
}

typedef void (*tweak_fn)(struct cr_image *img);

/* Writes the sample with a tweak applied to its model before the write (so checksums match). */
static const char *write_tweaked(tweak_fn fn)
{
	const char *dir = new_dir();
	ferry_err_t err = NULL;
	struct cr_image img;
	struct image_writer *w;

	sample_write(dir, &img, &err);
	rm_rf(dir);
	fn(&img);
	w = image_writer_open(dir, &err);
	for (size_t i = 0; w && i < img.n_procs; i++) {
		static uint8_t pages[9 * CR_PAGE_SIZE];
		struct cr_pagemap pm = {.pages_id = img.procs[i].pages.pages_id};

		image_write_pages(w, &pm, 0, pages, 9, &err);
		free(pm.runs);
	}
	if (!w || image_write_all(w, &img, &err) < 0 ||
	    image_writer_close(w, &img.host, img.root_pid, &err) < 0)
		diag("tweaked write: %s", err ? err->msg : "?");
	cr_image_free(&img);
	ferry_error_free(&err);
	return dir;
}

static void t_overlap(struct cr_image *img)
{
	img->procs[0].vmas[2].start = S_BASE + 0x8000;
}
static void t_dotdot(struct cr_image *img)
{
	free(img->procs[1].fds[1].path);
	img->procs[1].fds[1].path = strdup("/tmp/../../etc/shadow");
}
static void t_vma_dotdot(struct cr_image *img)
{
	free(img->procs[0].vmas[0].path);
	img->procs[0].vmas[0].path = strdup("/../bin/sh");
}
static void t_fd_range(struct cr_image *img)
{
	img->procs[0].fds[5].fd = 1 << 24;
}
static void t_run_outside(struct cr_image *img)
{
	img->procs[0].pages.runs[3].offset = 1ull << 30;
}
static void t_run_unmapped(struct cr_image *img)
{
	img->procs[0].pages.runs[0].vaddr = S_BASE + 0x100000;
}
static void t_absurd_pending(struct cr_image *img)
{
	img->procs[1].threads[0].pending[0].raw[0] = 99;
}
static void t_unaligned(struct cr_image *img)
{
	img->procs[1].vmas[1].end = S_BASE + 0x10001;
}
static void t_no_ghost(struct cr_image *img)
{
	img->procs[1].fds[5].id = 77;
}
static void t_rlimit(struct cr_image *img)
{
	img->procs[0].rlimits[3].max = 0, img->procs[0].rlimits[3].cur = 5;
}
static void t_seccomp_len(struct cr_image *img)
{
	img->procs[1].seccomp[0].len = 30;
}
static void t_seccomp_flags(struct cr_image *img)
{
	img->procs[0].seccomp[0].flags = 1; /* TSYNC: not a flag of a filter once installed */
}
static void t_rseq_align(struct cr_image *img)
{
	img->procs[1].threads[1].rseq += 4;
}
static void t_sched(struct cr_image *img)
{
	img->procs[0].threads[0].sched = (struct cr_sched){.policy = 1, .priority = 0};
}
static void t_oom(struct cr_image *img)
{
	img->procs[1].oom_score_adj = 2000;
}
static void t_orphan(struct cr_image *img)
{
	img->procs[1].ppid = 4000;
}

static void test_semantic(void)
{
	static const struct {
		tweak_fn fn;
		const char *want, *what;
	} cases[] = {
	    {t_overlap,
	     "mm-42.img: record 4 (vma 0x7f0000008000-0x7f0000022000): overlaps record 3",
	     "overlapping areas"},
	    {t_dotdot, "files.img: record", "fd path with '..'"},
	    {t_vma_dotdot, "has a '..' component", "area path with '..'"},
	    {t_fd_range, "fd number out of range", "fd out of range"},
	    {t_run_outside, "points outside pages-1.img", "page map outside the pages file"},
	    {t_run_unmapped, "not inside the memory areas", "page run outside every area"},
	    {t_absurd_pending, "core-50.img: record 1: pending signal 0: signal 99",
	     "signal number out of range"},
	    {t_unaligned, "mm-50.img: record 3", "unaligned area"},
	    {t_no_ghost, "is not in the image", "deleted file without contents"},
	    {t_rlimit, "soft limit above the hard one", "rlimit soft above hard"},
	    {t_orphan, "parent 4000 is not in the tree", "parent outside the tree"},
	    {t_rseq_align, "record 1: rseq area 0x", "rseq area not aligned"},
	    {t_sched, "record 1: scheduling: policy 1, flags 0x0, nice 0, priority 0",
	     "SCHED_FIFO without a priority"},
	    {t_oom, "proc-50.img: record 1: oom_score_adj 2000", "oom_score_adj out of range"},
	    {t_seccomp_len, "proc-50.img: record 1: seccomp filter 0: 30 bytes",
	     "seccomp filter not a whole number of instructions"},
	    {t_seccomp_flags, "proc-42.img: record 1: seccomp filter 0: 32 bytes, flags 0x1",
	     "seccomp filter with an unknown flag"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_fail(write_tweaked(cases[i].fn), cases[i].want, cases[i].what);
}

/* Writes the sample again with the pages of process 50 in two files: its first two runs after
 * process 42's in pages-1.img (its head's file), the last two in pages-2.img (runs naming their
 * file); bad 1 points run 3 beyond pages-2.img (inside pages-1.img), bad 2 makes it overlap run 2
 * there. Returns the directory; *img holds the written model. */
static const char *write_split(struct cr_image *img, int bad)
{
	const char *dir = new_dir();
	ferry_err_t err = NULL;
	struct image_writer *w;
	uint8_t page[2 * CR_PAGE_SIZE];
	struct cr_pagemap other = {0};
	struct cr_pagemap *pm;
	int rc = -1;

	sample_write(dir, img, &err);
	rm_rf(dir);
	pm = &img->procs[1].pages;
	w = image_writer_open(dir, &err);
	for (size_t i = 0; w && i < 2; i++) {
		free(img->procs[i].pages.runs);
		img->procs[i].pages = (struct cr_pagemap){.pages_id = 1};
	}
	free(img->shm[0].pages.runs);
	img->shm[0].pages = (struct cr_pagemap){.pages_id = 1};
	if (!w || image_writer_new_pages_id(w) != 1)
		goto out;
	other.pages_id = image_writer_new_pages_id(w);
	rc = 0;
	for (int k = 0; k < 4; k++) {
		memset(page, 'a' + k, sizeof(page));
		rc |=
		    image_write_pages(w, &img->procs[0].pages, S_BASE + k * 0x4000, page, 2, &err);
		memset(page, 'a' + k + 1, sizeof(page));
		rc |= image_write_pages(w, k < 2 ? pm : &other, S_BASE + k * 0x4000, page, 2, &err);
	}
	memset(page, 's', sizeof(page));
	rc |= image_write_pages(w, &img->shm[0].pages, 0x1000, page, 1, &err);
	pm->runs = realloc(pm->runs, (pm->n_runs + other.n_runs) * sizeof(*pm->runs));
	for (size_t i = 0; rc == 0 && pm->runs && i < other.n_runs; i++) {
		pm->runs[pm->n_runs] = other.runs[i];
		pm->runs[pm->n_runs++].pages_id = other.pages_id;
	}
	pm->cap_runs = pm->n_runs;
	if (bad)
		pm->runs[3].offset = bad == 1 ? 0x4000 : 0;
	if (rc < 0 || !pm->runs || image_write_all(w, img, &err) < 0 ||
	    image_writer_close(w, &img->host, img->root_pid, &err) < 0)
		rc = -1;
	w = NULL;
out:
	if (w)
		image_writer_abort(w);
	if (rc < 0)
		diag("split write: %s", err ? err->msg : "?");
	free(other.runs);
	ferry_error_free(&err);
	return dir;
}

/* The page runs of one process spread over two pages files, and such runs gone bad. */
static void test_split_files(void)
{
	ferry_err_t err = NULL;
	struct cr_image w, r;
	const char *dir = write_split(&w, 0);
	uint8_t page[CR_PAGE_SIZE];
	char *jw, *jr;
	int fd, rc = image_read(dir, 0, &r, &err);

	ok(rc == 0, "runs in two pages files read back: %s", err ? err->msg : "");
	jw = json_of(&w), jr = rc == 0 ? json_of(&r) : NULL;
	ok(jw && jr && !strcmp(jw, jr), "every run read back names its own file");
	ok(rc == 0 && r.procs[1].pages.n_runs == 4 && r.procs[1].pages.runs[1].pages_id == 0 &&
	       r.procs[1].pages.runs[2].pages_id == 2 && r.procs[1].pages.runs[3].offset == 0x2000,
	   "runs 0-1 in the head's pages-1.img, runs 2-3 at 0 and 0x2000 of pages-2.img");
	fd = image_open_pages(dir, 2, &err);
	ok(fd >= 0 &&
	       pread(fd, page, sizeof(page), IMAGE_PAGES_DATA_START + 0x2000) == CR_PAGE_SIZE &&
	       page[0] == 'a' + 3 + 1,
	   "run 3's contents found in pages-2.img");
	if (fd >= 0)
		close(fd);
	free(jw), free(jr);
	cr_image_free(&w);
	if (rc == 0)
		cr_image_free(&r);
	ferry_error_free(&err);
	dir = write_split(&w, 1);
	cr_image_free(&w);
	expect_fail(dir, "points outside pages-2.img", "a run beyond its own pages file");
	dir = write_split(&w, 2);
	cr_image_free(&w);
	expect_fail(dir, "overlaps the previous run of pages-2.img",
		    "two runs on one page of a file");
}

static ssize_t read_all(const char *path, uint8_t **buf)
{
	struct stat st;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	*buf = malloc(st.st_size + 1);
	n = read(fd, *buf, st.st_size);
	close(fd);
	return n;
}

static void write_all(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		diag("cannot rewrite %s", path);
	if (fd >= 0)
		close(fd);
}

/* A fresh valid image; its path. */
static const char *fresh(void)
{
	const char *dir = new_dir();
	ferry_err_t err = NULL;
	struct cr_image img;

	sample_write(dir, &img, &err);
	cr_image_free(&img);
	ferry_error_free(&err);
	return dir;
}

static void edit(const char *dir, const char *file, size_t len_or_flip, bool truncate)
{
	char path[400];
	uint8_t *buf = NULL;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = read_all(path, &buf);
	if (n < 0)
		return;
	if (truncate)
		write_all(path, buf, len_or_flip < (size_t)n ? len_or_flip : (size_t)n - 1);
	else {
		buf[len_or_flip % n] ^= 1u << (len_or_flip % 8);
		write_all(path, buf, n);
	}
	free(buf);
}

static void test_bytes(void)
{
	static const char *const files[] = {"pstree.img",     "core-50.img", "mm-42.img",
					    "pagemap-50.img", "files.img",   "proc-42.img",
					    "shm.img",	      "ghost-1.img"};
	const char *dir;
	char path[400];
	uint8_t hdr[12];
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		size_t cuts[] = {0, 5, 12, 14, 40};

		for (size_t k = 0; k < ARRAY_SIZE(cuts); k++) {
			dir = fresh();
			edit(dir, files[i], cuts[k], true);
			expect_fail(dir, files[i], "truncated file");
		}
		dir = fresh();
		edit(dir, files[i], 13 * (i + 3), false);
		expect_fail(dir, "checksum mismatch", "bit flip");
	}
	dir = fresh();
	edit(dir, "pages-2.img", 8192 + 77, false);
	expect_fail(dir, "pages-2.img: checksum mismatch", "bit flip in a pages file");
	dir = fresh();
	edit(dir, "pages-1.img", 4096 * 3, true);
	expect_fail(dir, "pages-1.img", "truncated pages file");
	dir = fresh();
	edit(dir, "inventory.img", 100, false);
	expect_fail(dir, "inventory.img", "bit flip in the inventory");
	dir = fresh();
	edit(dir, "inventory.img", 50, true);
	expect_fail(dir, "inventory.img", "truncated inventory");

	/* Right checksum in the inventory, wrong header: rewrite the header of a file whose sum
	 * we then cannot match: the reader names the checksum first; so test the header checks on
	 * a pages file read with IMAGE_READ_NO_PAGE_SUMS, where only the header protects it. */
	dir = fresh();
	snprintf(path, sizeof(path), "%s/pages-1.img", dir);
	fd = open(path, O_RDWR);
	if (fd >= 0 && pread(fd, hdr, 12, 0) == 12) {
		struct cr_image img;
		ferry_err_t err = NULL;

		hdr[8] = 9; /* format version 9 */
		if (pwrite(fd, hdr, 12, 0) != 12)
			diag("pwrite");
		ok(image_read(dir, IMAGE_READ_NO_PAGE_SUMS, &img, &err) < 0 && err &&
		       strstr(err->msg, "pages-1.img: bad header"),
		   "wrong format version refused: %s", err ? err->msg : "accepted");
		ferry_error_free(&err);
	}
	if (fd >= 0)
		close(fd);
	dir = fresh();
	snprintf(path, sizeof(path), "%s/core-99.img", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	expect_fail(dir, "core-99.img: not listed in the inventory", "stray file");
	dir = fresh();
	snprintf(path, sizeof(path), "%s/core-51.img", dir);
	unlink(path);
	expect_fail(dir, "core-51.img", "missing file");
}

static uint64_t rng_state = 0x1e55c0ffee123457ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Random edits and cuts to one record file, read with checksums ignored so that the decoders,
 * not the checksums, meet the garbage. */
static void test_mutations(void)
{
	static const char *const files[] = {"pstree.img",     "core-50.img", "mm-42.img",
					    "pagemap-50.img", "files.img",   "proc-42.img",
					    "shm.img",	      "ghost-1.img"};
	const char *dir = fresh();
	int survived = 0, refused = 0, rounds = 1500;

	for (int i = 0; i < rounds; i++) {
		const char *f = files[rng() % ARRAY_SIZE(files)];
		char path[400];
		uint8_t *buf = NULL;
		ssize_t n;
		struct cr_image img;
		ferry_err_t err = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, f);
		n = read_all(path, &buf);
		if (n <= 12) {
			free(buf);
			continue;
		}
		uint8_t *orig = malloc(n);

		memcpy(orig, buf, n);
		for (int k = 0, m = 1 + rng() % 4; k < m; k++)
			buf[12 + rng() % (n - 12)] = (uint8_t)rng();
		write_all(path, buf, n - (rng() % 4 == 0 ? rng() % (n - 12) : 0));
		if (image_read(dir, IMAGE_READ_NO_PAGE_SUMS | IMAGE_READ_NO_SUMS, &img, &err) == 0)
			cr_image_free(&img);
		else
			refused++;
		ferry_error_free(&err);
		write_all(path, orig, n);
		survived++;
		free(orig);
		free(buf);
	}
	ok(survived == rounds && refused > rounds / 2,
	   "mutation run: %d inputs, %d refused, no crash", survived, refused);
}

#define BIG_FILE ((40u << 20) + 123) /* more than two records of contents */

static struct cr_mount_file mount_file(const char *path, uint32_t mode, size_t len,
				       const char *target)
{
	struct cr_mount_file f = {.path = strdup(path), .mode = mode, .uid = 7, .gid = 8};

	f.target = target ? strdup(target) : NULL;
	f.data.data = len ? malloc(len) : NULL;
	for (size_t i = 0; f.data.data && i < len; i++)
		f.data.data[i] = (uint8_t)(i * 31 + i / 4096);
	f.data.len = len;
	f.mtime_ns = 1234567890123ull;
	return f;
}

/* A container record with a tmpfs holding its directory, a large file and a link. */
static void t_container(struct cr_image *img)
{
	struct cr_container *c = calloc(1, sizeof(*c));
	struct cr_mount_files *m;

	c->id = strdup("web-1");
	c->config = strdup("{\"ociVersion\": \"1.0.2\"}");
	c->limits = strdup("{\"memory\":{\"limit\":314572800}}");
	c->hostname = strdup("web");
	c->namespaces = CR_NS_PID | CR_NS_NET | CR_NS_UTS;
	c->netns_locked = true;
	c->sysctls = calloc(1, sizeof(char *));
	c->sysctls[0] = strdup("net.ipv4.ip_forward=1");
	c->n_sysctls = 1;
	m = c->mounts = calloc(1, sizeof(*m));
	c->n_mounts = 1;
	m->destination = strdup("/dev/shm");
	m->files = calloc(3, sizeof(*m->files));
	m->n_files = 3;
	m->files[0] = mount_file(".", S_IFDIR | 01777, 0, NULL);
	m->files[1] = mount_file("big", S_IFREG | 0600, BIG_FILE, NULL);
	m->files[2] = mount_file("link", S_IFLNK | 0777, 0, "big");
	img->container = c;
}

static void t_container_escape(struct cr_image *img)
{
	t_container(img);
	free(img->container->mounts[0].files[2].path);
	img->container->mounts[0].files[2].path = strdup("../../etc/passwd");
}

static void test_container(void)
{
	const char *dir = write_tweaked(t_container);
	struct cr_image want = {0}, got;
	ferry_err_t err = NULL;
	const struct cr_mount_files *a, *b;
	bool same;

	ok(image_read(dir, 0, &got, &err) == 0 && got.container, "container image read back%s%s",
	   err ? ": " : "", err ? err->msg : "");
	if (!got.container) {
		ferry_error_free(&err);
		return;
	}
	t_container(&want);
	a = &want.container->mounts[0], b = &got.container->mounts[0];
	is_str(got.container->id, "web-1", "its id");
	is_str(got.container->limits, want.container->limits, "its live limits");
	ok(got.container->netns_locked && got.container->namespaces == want.container->namespaces &&
	       got.container->n_sysctls == 1 &&
	       !strcmp(got.container->sysctls[0], "net.ipv4.ip_forward=1"),
	   "its namespaces, lock and sysctls");
	same = got.container->n_mounts == 1 && b->n_files == 3 &&
	       !strcmp(b->destination, a->destination);
	for (size_t i = 0; same && i < 3; i++)
		same =
		    !strcmp(a->files[i].path, b->files[i].path) &&
		    a->files[i].mode == b->files[i].mode && a->files[i].uid == b->files[i].uid &&
		    a->files[i].mtime_ns == b->files[i].mtime_ns &&
		    a->files[i].data.len == b->files[i].data.len &&
		    (!a->files[i].data.len ||
		     !memcmp(a->files[i].data.data, b->files[i].data.data, a->files[i].data.len)) &&
		    !a->files[i].target == !b->files[i].target;
	ok(same, "its tmpfs files, a file of %u bytes (three records) byte for byte", BIG_FILE);
	cr_image_free(&want), cr_image_free(&got);
	expect_fail(write_tweaked(t_container_escape), "is not inside its mount",
		    "a tmpfs file path with ..");
}

static const char *const sysv_texts[] = {"first", "", "third message"};

static void t_sysv(struct cr_image *img)
{
	struct cr_container *c;
	struct cr_sysv_queue *q;

	t_container(img);
	c = img->container;
	c->sems = calloc(2, sizeof(*c->sems));
	c->n_sems = 2;
	for (size_t i = 0; i < 2; i++) {
		c->sems[i] = (struct cr_sysv_sem){.key = i ? 0 : 0x1234,
						  .id = (int32_t)(i * 32768),
						  .mode = 0640,
						  .uid = 1000,
						  .gid = 100,
						  .nsems = 3};
		c->sems[i].values = calloc(3, sizeof(uint16_t));
		for (size_t k = 0; k < 3; k++)
			c->sems[i].values[k] = (uint16_t)(7 * k + i);
	}
	q = c->queues = calloc(1, sizeof(*q));
	c->n_queues = 1;
	*q = (struct cr_sysv_queue){.key = 0x55, .id = 3, .mode = 0600, .qbytes = 1 << 20};
	q->msgs = calloc(3, sizeof(*q->msgs));
	q->n_msgs = 3;
	for (size_t i = 0; i < 3; i++) {
		q->msgs[i].type = (int64_t)(3 - i);
		q->msgs[i].data.len = strlen(sysv_texts[i]);
		q->msgs[i].data.data = (uint8_t *)strdup(sysv_texts[i]);
	}
}

static void t_sysv_same_id(struct cr_image *img)
{
	t_sysv(img);
	img->container->sems[1].id = img->container->sems[0].id;
}

static void t_sysv_bad_type(struct cr_image *img)
{
	t_sysv(img);
	img->container->queues[0].msgs[1].type = 0;
}

static bool same_sysv(const struct cr_container *a, const struct cr_container *b)
{
	bool same = a->n_sems == b->n_sems && a->n_queues == b->n_queues;

	for (size_t i = 0; same && i < a->n_sems; i++)
		same = a->sems[i].key == b->sems[i].key && a->sems[i].id == b->sems[i].id &&
		       a->sems[i].mode == b->sems[i].mode && a->sems[i].uid == b->sems[i].uid &&
		       a->sems[i].nsems == b->sems[i].nsems &&
		       !memcmp(a->sems[i].values, b->sems[i].values, 3 * sizeof(uint16_t));
	for (size_t i = 0; same && i < a->n_queues; i++) {
		const struct cr_sysv_queue *p = &a->queues[i], *q = &b->queues[i];

		same = p->key == q->key && p->id == q->id && p->mode == q->mode &&
		       p->qbytes == q->qbytes && p->n_msgs == q->n_msgs;
		for (size_t k = 0; same && k < p->n_msgs; k++)
			same = p->msgs[k].type == q->msgs[k].type &&
			       p->msgs[k].data.len == q->msgs[k].data.len &&
			       !memcmp(p->msgs[k].data.data, q->msgs[k].data.data,
				       p->msgs[k].data.len);
	}
	return same;
}

static void test_container_sysv(void)
{
	const char *dir = write_tweaked(t_sysv);
	struct cr_image want = {0}, got;
	ferry_err_t err = NULL;

	ok(image_read(dir, 0, &got, &err) == 0 && got.container,
	   "container image with SysV objects read back%s%s", err ? ": " : "", err ? err->msg : "");
	if (!got.container) {
		ferry_error_free(&err);
		return;
	}
	t_sysv(&want);
	ok(same_sysv(want.container, got.container),
	   "its semaphore sets and message queue (messages in order, one empty)");
	ok(got.container->n_mounts == 1 && got.container->mounts[0].n_files == 3,
	   "its tmpfs files still follow the SysV records");
	cr_image_free(&want), cr_image_free(&got);
	expect_fail(write_tweaked(t_sysv_same_id), "SysV id 0 twice", "two semaphore sets, one id");
	expect_fail(write_tweaked(t_sysv_bad_type), "message 1 of type 0", "a message of type 0");
}

/* Checksums of parts joined (a large pages file is checked in parts at once) equal the whole's. */
static void test_crc_combine(void)
{
	static const size_t cuts[] = {0, 1, 7, 4096, 65535, 100000, 199999, 200000};
	uint8_t *buf = malloc(200000);
	uint32_t whole;
	unsigned bad = 0;

	if (!buf) {
		ok(0, "crc32c of parts joined: no memory");
		return;
	}
	for (size_t i = 0; i < 200000; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	whole = image_crc32c(0, buf, 200000);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		bad += image_crc32c_combine(image_crc32c(0, buf, cuts[i]),
					    image_crc32c(0, buf + cuts[i], 200000 - cuts[i]),
					    200000 - cuts[i]) != whole;
	ok(!bad, "crc32c of two parts joined equals the whole's (%u cuts wrong)", bad);
	free(buf);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/ferry-image-test.XXXXXX");
	if (!mkdtemp(base)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_round_trip();
	test_semantic();
	test_split_files();
	test_bytes();
	test_mutations();
	test_container();
	test_container_sysv();
	test_crc_combine();
	rm_rf(base);
	return done_testing();
}

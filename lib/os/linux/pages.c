// SPDX-License-Identifier: Apache-2.0
/* Present pages of a process (PAGEMAP_SCAN, /proc/PID/pagemap, mincore for shmem) and reading
 * them (process_vm_readv, /proc/PID/mem, vmsplice/splice). The rules are in pages.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/pages.h"

/* PAGEMAP_SCAN, from the kernel's uapi <linux/fs.h> (6.7+); Debian 12's headers lack it. */
struct lx_page_region {
	uint64_t start, end, categories;
};

struct lx_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define LX_PAGEMAP_SCAN _IOWR('f', 16, struct lx_pm_scan_arg)
#define LX_PAGE_IS_FILE (1 << 2)
#define LX_PAGE_IS_PRESENT (1 << 3)
#define LX_PAGE_IS_SWAPPED (1 << 4)
#define LX_PAGE_IS_PFNZERO (1 << 5)

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE (1ULL << 61)
#define PM_PFN_MASK ((1ULL << 55) - 1)

#define PM_BUF_BYTES (512 * 1024)
#define HUGE_PAGES_PER_PMD 512

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

static size_t page_size(void)
{
	static size_t ps;

	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

void lx_page_list_free(struct lx_page_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int lx_page_list_add(struct lx_page_list *l, uint64_t start, uint64_t end, ferry_err_t *err)
{
	if (end <= start)
		return 0;
	l->bytes += end - start;
	if (l->n && l->v[l->n - 1].end == start) {
		l->v[l->n - 1].end = end;
		return 0;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 256;
		struct lx_page_range *v = realloc(l->v, ncap * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "page list");
		l->v = v;
		l->cap = ncap;
	}
	l->v[l->n++] = (struct lx_page_range){start, end};
	return 0;
}

/* Returns the frame behind addr in this process, or 0 (absent, or frames hidden without
 * CAP_SYS_ADMIN). */
static uint64_t self_pfn(int fd, const void *addr)
{
	uint64_t e;

	if (pread(fd, &e, sizeof(e), (off_t)((uintptr_t)addr / page_size() * sizeof(e))) !=
	    sizeof(e))
		return 0;
	return (e & PM_PRESENT) ? (e & PM_PFN_MASK) : 0;
}

/* Finds the frames of the zero page and of the huge zero page by read-faulting memory here. */
static void find_zero_pfns(struct lx_pagemap *pm)
{
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t huge = (size_t)HUGE_PAGES_PER_PMD * page_size();
	volatile const char *p;

	if (fd < 0)
		return;
	/* Two read faults share the zero page's frame; where they do not, the kernel gave each a
	 * page of its own (no zero page) and there is nothing to skip. */
	p = mmap(NULL, 3 * page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		(void)p[0];
		(void)p[2 * page_size()];
		uint64_t a = self_pfn(fd, (const void *)p);
		if (a && a == self_pfn(fd, (const void *)(p + 2 * page_size())))
			pm->zero_pfn = a;
		munmap((void *)p, 3 * page_size());
	}
	char *q = mmap(NULL, 3 * huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED)
		return;
	p = (char *)(((uintptr_t)q + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise((void *)p, 2 * huge, MADV_HUGEPAGE) == 0) {
		(void)p[0];
		(void)p[huge];
		uint64_t pfn = self_pfn(fd, (const void *)p);
		if (pfn && pfn != pm->zero_pfn && self_pfn(fd, (const void *)(p + huge)) == pfn)
			pm->huge_zero_pfn = pfn;
	}
	munmap(q, 3 * huge);
}

int lx_pagemap_open(pid_t pid, unsigned flags, struct lx_pagemap *pm, ferry_err_t *err)
{
	char path[64];

	memset(pm, 0, sizeof(*pm));
	pm->pid = pid;
	pm->flags = flags;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm->fd < 0)
		return ferry_error_errno(err, "open %s", path);
	pm->buf = malloc(PM_BUF_BYTES);
	if (!pm->buf) {
		lx_pagemap_close(pm);
		return ferry_error(err, ENOMEM, "pagemap buffer");
	}
	pm->scan = !(flags & LX_PAGES_NO_SCAN);
	if (!pm->scan)
		find_zero_pfns(pm);
	return 0;
}

void lx_pagemap_close(struct lx_pagemap *pm)
{
	if (pm->pid && pm->fd >= 0)
		close(pm->fd);
	free(pm->buf);
	memset(pm, 0, sizeof(*pm));
	pm->fd = -1;
}

bool lx_area_wants_pages(const struct lx_area *a)
{
	switch (a->kind) {
	case LX_AREA_VDSO:
	case LX_AREA_VVAR:
	case LX_AREA_VVAR_VCLOCK:
	case LX_AREA_VSYSCALL:
	case LX_AREA_SPECIAL:
		return false;
	default:
		break;
	}
	if (a->vmflags & (LX_VM_IO | LX_VM_PF))
		return false;
	if (a->shared && !lx_area_is_shmem(a))
		return false;
	return true;
}

/* Runs PAGEMAP_SCAN over a; returns 0, -1 with *err, or -2 when the ioctl is not supported. */
static int find_by_scan(struct lx_pagemap *pm, const struct lx_area *a, uint64_t exclude,
			struct lx_page_list *out, ferry_err_t *err)
{
	struct lx_page_region *regs = pm->buf;
	struct lx_pm_scan_arg arg = {
	    .size = sizeof(arg),
	    .start = a->start,
	    .end = a->end,
	    .vec = (uintptr_t)regs,
	    .vec_len = PM_BUF_BYTES / sizeof(*regs),
	    .category_inverted = exclude,
	    .category_mask = exclude,
	    .category_anyof_mask = LX_PAGE_IS_PRESENT | LX_PAGE_IS_SWAPPED,
	};

	for (bool first = true;; first = false) {
		long n = ioctl(pm->fd, LX_PAGEMAP_SCAN, &arg);

		if (n < 0 && first && (errno == ENOTTY || errno == EINVAL))
			return -2;
		if (n < 0)
			return ferry_error_errno(err, "PAGEMAP_SCAN of %d at %#llx", pm->pid,
						 (unsigned long long)arg.start);
		/* walk_end can stop short of regions already returned (seen on 6.18): go on
		 * from the furthest of the two, and never report a page twice. */
		uint64_t next = arg.walk_end;
		for (long i = 0; i < n; i++) {
			uint64_t s = regs[i].start < arg.start ? arg.start : regs[i].start;
			if (lx_page_list_add(out, s, regs[i].end, err) < 0)
				return -1;
			if (regs[i].end > next)
				next = regs[i].end;
		}
		if (next >= a->end)
			return 0;
		if (next <= arg.start)
			return ferry_error(err, EIO, "PAGEMAP_SCAN of %d stalled at %#llx", pm->pid,
					   (unsigned long long)arg.start);
		arg.start = next;
	}
}

static bool entry_wanted(const struct lx_pagemap *pm, uint64_t e, uint64_t exclude)
{
	uint64_t pfn = e & PM_PFN_MASK;

	if (!(e & (PM_PRESENT | PM_SWAPPED)))
		return false;
	if ((exclude & LX_PAGE_IS_FILE) && (e & PM_FILE))
		return false;
	if ((exclude & LX_PAGE_IS_PFNZERO) && (e & PM_PRESENT) && pfn &&
	    (pfn == pm->zero_pfn ||
	     (pm->huge_zero_pfn && pfn - pm->huge_zero_pfn < HUGE_PAGES_PER_PMD)))
		return false;
	return true;
}

/* Reads /proc/PID/pagemap over a with the same rule as find_by_scan; returns 0 or -1. */
static int find_by_pagemap(struct lx_pagemap *pm, const struct lx_area *a, uint64_t exclude,
			   struct lx_page_list *out, ferry_err_t *err)
{
	uint64_t *e = pm->buf, run = 0, ps = page_size();
	bool in_run = false;

	for (uint64_t addr = a->start; addr < a->end;) {
		size_t cnt = (a->end - addr) / ps;

		if (cnt > PM_BUF_BYTES / sizeof(*e))
			cnt = PM_BUF_BYTES / sizeof(*e);
		ssize_t got = pread(pm->fd, e, cnt * sizeof(*e), (off_t)(addr / ps * sizeof(*e)));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || got % sizeof(*e))
			return ferry_error(err, got < 0 ? errno : EIO,
					   "read pagemap of %d at %#llx", pm->pid,
					   (unsigned long long)addr);
		cnt = (size_t)got / sizeof(*e);
		for (size_t i = 0; i < cnt; i++) {
			bool want = entry_wanted(pm, e[i], exclude);

			if (want && !in_run)
				run = addr + i * ps;
			else if (!want && in_run &&
				 lx_page_list_add(out, run, addr + i * ps, err) < 0)
				return -1;
			in_run = want;
		}
		addr += cnt * ps;
	}
	return in_run ? lx_page_list_add(out, run, a->end, err) : 0;
}

/* Finds the existing pages of a shared shmem object inside a's window (map_files + mincore);
 * returns 0, -1 with *err, or 1 when map_files cannot be used here. */
static int find_shmem(struct lx_pagemap *pm, const struct lx_area *a, struct lx_page_list *out,
		      ferry_err_t *err)
{
	char path[96];
	size_t len = a->end - a->start, ps = page_size();
	_cleanup_free_ unsigned char *vec = NULL;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pm->pid,
		 (unsigned long long)a->start, (unsigned long long)a->end);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return (errno == EPERM || errno == EACCES)
			   ? 1
			   : ferry_error_errno(err, "open %s", path);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)a->offset);
	if (p == MAP_FAILED)
		return (errno == EACCES || errno == EPERM) ? 1
							   : ferry_error_errno(err, "map %s", path);
	vec = malloc(len / ps);
	if (!vec)
		r = ferry_error(err, ENOMEM, "mincore of %s", path);
	else if (mincore(p, len, vec) < 0)
		r = ferry_error_errno(err, "mincore of %s", path);
	for (size_t i = 0, run = 0; r == 0 && i <= len / ps; i++) {
		bool in = i < len / ps && (vec[i] & 1);

		if (in && (i == 0 || !(vec[i - 1] & 1)))
			run = i;
		if (!in && i > 0 && (vec[i - 1] & 1))
			r = lx_page_list_add(out, a->start + run * ps, a->start + i * ps, err);
	}
	munmap(p, len);
	return r;
}

int lx_pages_find(struct lx_pagemap *pm, const struct lx_area *a, struct lx_page_list *out,
		  ferry_err_t *err)
{
	uint64_t exclude = 0;

	if (!lx_area_wants_pages(a))
		return 0;
	if (a->shared) {
		int r = find_shmem(pm, a, out, err);
		if (r <= 0)
			return r;
	} else {
		exclude = LX_PAGE_IS_PFNZERO | (lx_area_is_anon(a) ? 0 : LX_PAGE_IS_FILE);
	}
	if (pm->scan) {
		int r = find_by_scan(pm, a, exclude, out, err);
		if (r != -2)
			return r;
		pm->scan = false;
		find_zero_pfns(pm);
	}
	return find_by_pagemap(pm, a, exclude, out, err);
}

int lx_pages_find_all(struct lx_pagemap *pm, const struct lx_memmap *m, struct lx_page_list *out,
		      ferry_err_t *err)
{
	for (size_t i = 0; i < m->n; i++)
		if (lx_pages_find(pm, &m->areas[i], out, err) < 0)
			return -1;
	return 0;
}

/* A position in a list of ranges, and /proc/PID/mem opened when first needed. */
struct cursor {
	pid_t pid;
	const struct lx_page_range *r;
	size_t n, i;  /* ranges, count, current */
	uint64_t off; /* bytes done in r[i] */
	int mem_fd;
};

static void cursor_advance(struct cursor *c, uint64_t bytes)
{
	while (bytes && c->i < c->n) {
		uint64_t left = c->r[c->i].end - c->r[c->i].start - c->off;
		uint64_t step = bytes < left ? bytes : left;

		c->off += step;
		bytes -= step;
		if (c->off == c->r[c->i].end - c->r[c->i].start) {
			c->i++;
			c->off = 0;
		}
	}
}

/* Reads the rest of the current range (or len bytes of it) through /proc/PID/mem, which can
 * read what the process itself may not (PROT_NONE); returns the bytes read or -1. */
static ssize_t read_forced(struct cursor *c, char *buf, size_t len, ferry_err_t *err)
{
	uint64_t addr = c->r[c->i].start + c->off;
	uint64_t left = c->r[c->i].end - addr;
	size_t want = len < left ? len : left, done = 0;

	if (c->mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", c->pid);
		c->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->mem_fd < 0)
			return ferry_error_errno(err, "open %s", path);
	}
	while (done < want) {
		ssize_t k = pread(c->mem_fd, buf + done, want - done, (off_t)(addr + done));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ferry_error(err, k < 0 ? errno : EIO, "read memory of %d at %#llx",
					   c->pid, (unsigned long long)(addr + done));
		done += k;
	}
	return (ssize_t)done;
}

/* Fills buf with up to len bytes from the cursor on (IOV_MAX ranges a call); returns the bytes
 * read (0 at the end) or -1. */
static ssize_t cursor_read(struct cursor *c, char *buf, size_t len, ferry_err_t *err)
{
	struct iovec remote[IOV_MAX];
	size_t total = 0;

	while (total < len && c->i < c->n) {
		size_t cnt = 0, want = 0;
		uint64_t off = c->off;

		for (size_t i = c->i; i < c->n && cnt < IOV_MAX && want < len - total;
		     i++, off = 0) {
			uint64_t l = c->r[i].end - c->r[i].start - off;

			if (l > len - total - want)
				l = len - total - want;
			remote[cnt++] = (struct iovec){(void *)(uintptr_t)(c->r[i].start + off), l};
			want += l;
		}
		struct iovec local = {buf + total, want};
		ssize_t got = process_vm_readv(c->pid, &local, 1, remote, cnt, 0);
		if (got < 0 && errno != EFAULT)
			return ferry_error_errno(err, "process_vm_readv of %d at %#llx", c->pid,
						 (unsigned long long)(c->r[c->i].start + c->off));
		if (got < 0)
			got = 0;
		cursor_advance(c, (uint64_t)got);
		total += (size_t)got;
		if ((size_t)got < want) {
			ssize_t k = read_forced(c, buf + total, len - total, err);
			if (k < 0)
				return -1;
			cursor_advance(c, (uint64_t)k);
			total += (size_t)k;
		}
	}
	return (ssize_t)total;
}

ssize_t lx_pages_read(pid_t pid, const struct lx_page_range *r, size_t n, void *buf, size_t size,
		      ferry_err_t *err)
{
	struct cursor c = {.pid = pid, .r = r, .n = n, .mem_fd = -1};
	uint64_t need = 0;
	ssize_t got;

	for (size_t i = 0; i < n; i++)
		need += r[i].end - r[i].start;
	if (need > size)
		return ferry_error(err, ENOSPC,
				   "read memory of %d: %llu bytes into a buffer of %zu", pid,
				   (unsigned long long)need, size);
	got = cursor_read(&c, buf, (size_t)need, err);
	if (c.mem_fd >= 0)
		close(c.mem_fd);
	return got;
}

static int write_all(int fd, const char *buf, size_t len, ferry_err_t *err)
{
	while (len) {
		ssize_t k = write(fd, buf, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ferry_error(err, k < 0 ? errno : EIO, "write pages");
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

/* vmsplices buf into the pipe and splices it on to fd; returns 0 or -1. */
static int splice_all(const int pipefd[2], int fd, char *buf, size_t len, ferry_err_t *err)
{
	while (len) {
		struct iovec iov = {buf, len};
		ssize_t in = vmsplice(pipefd[1], &iov, 1, 0);

		if (in < 0 && errno == EINTR)
			continue;
		if (in <= 0)
			return ferry_error(err, in < 0 ? errno : EIO, "vmsplice pages");
		for (ssize_t left = in; left > 0;) {
			ssize_t out =
			    splice(pipefd[0], NULL, fd, NULL, (size_t)left, SPLICE_F_MOVE);
			if (out < 0 && errno == EINTR)
				continue;
			if (out <= 0)
				return ferry_error(err, out < 0 ? errno : EIO, "splice pages");
			left -= out;
		}
		buf += in;
		len -= (size_t)in;
	}
	return 0;
}

/* Opens a pipe holding chunk bytes if the system allows, else as much as it does; returns 0 with
 * *chunk set to what one vmsplice should carry, or -1. */
static int open_pipe(int pipefd[2], size_t *chunk, ferry_err_t *err)
{
	int sz;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ferry_error_errno(err, "pipe");
	sz = fcntl(pipefd[1], F_SETPIPE_SZ, (int)*chunk);
	if (sz < 0) {
		_cleanup_fclose_ FILE *f = fopen("/proc/sys/fs/pipe-max-size", "re");
		int max = 0;

		if (f && fscanf(f, "%d", &max) == 1 && max > 0)
			sz = fcntl(pipefd[1], F_SETPIPE_SZ, max);
		if (sz < 0)
			sz = fcntl(pipefd[1], F_GETPIPE_SZ);
	}
	if (sz > 0 && (size_t)sz < *chunk)
		*chunk = (size_t)sz;
	return 0;
}

int64_t lx_pages_write(pid_t pid, const struct lx_page_range *r, size_t n, int fd,
		       enum lx_pages_method method, size_t chunk, ferry_err_t *err)
{
	struct cursor c = {.pid = pid, .r = r, .n = n, .mem_fd = -1};
	int pipefd[2] = {-1, -1};
	int64_t total = 0;
	char *buf = MAP_FAILED;

	chunk = chunk ? (chunk + page_size() - 1) / page_size() * page_size() : 1 << 20;
	if (method == LX_PAGES_SPLICE && open_pipe(pipefd, &chunk, err) < 0)
		goto fail;
	buf = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		ferry_error_errno(err, "page buffer");
		goto fail;
	}
	for (;;) {
		ssize_t got = cursor_read(&c, buf, chunk, err);
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		if ((method == LX_PAGES_SPLICE ? splice_all(pipefd, fd, buf, (size_t)got, err)
					       : write_all(fd, buf, (size_t)got, err)) < 0)
			goto fail;
		total += got;
	}
	goto out;
fail:
	total = -1;
out:
	if (buf != MAP_FAILED)
		munmap(buf, chunk);
	for (int i = 0; i < 2; i++)
		if (pipefd[i] >= 0)
			close(pipefd[i]);
	if (c.mem_fd >= 0)
		close(c.mem_fd);
	return total;
}

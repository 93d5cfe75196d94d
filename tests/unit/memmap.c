// SPDX-License-Identifier: Apache-2.0
/* The memory map and the present pages of a live child, read the way a checkpoint reads them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/memmap.h"
#include "os/linux/pages.h"
#include "tap.h"

#define BIG_PAGES 16384 /* 64 MiB */
#define FILE_PAGES 16
#define PS 4096UL

/* Where the child put things (sent to the parent through a pipe). */
struct layout {
	uintptr_t big, zread, fpriv, shanon, memfd, pnone, gdown, dontdump, deleted, flagged, sysv,
	    locked;
	int shmid;
	bool sysv_ok;
};

static pid_t child = -1;
static bool zero_page_used; /* read faults of anonymous memory map the zero page */
static char tmpdir[] = "/tmp/ferry-memmap.XXXXXX";
static char fpriv_path[128], deleted_path[128];

static void cleanup(void)
{
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	unlink(fpriv_path);
	unlink(deleted_path);
	rmdir(tmpdir);
}

static void pattern_page(uint64_t *w, size_t page)
{
	for (size_t j = 0; j < PS / 8; j++)
		w[j] = ((uint64_t)page << 32 | j) ^ 0x9e3779b97f4a7c15ULL;
}

/* Maps len bytes with a free page on each side, so no neighbour merges with it. */
static char *map_alone(size_t len, int prot, int flags, int fd, off_t off)
{
	char *r = mmap(NULL, len + 2 * PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return NULL;
	char *p = mmap(r + PS, len, prot, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED)
		return NULL;
	munmap(r, PS);
	munmap(r + PS + len, PS);
	return p;
}

static int make_file(const char *path, char fill, size_t pages)
{
	char page[PS];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	memset(page, fill, sizeof(page));
	for (size_t i = 0; fd >= 0 && i < pages; i++)
		if (write(fd, page, PS) != (ssize_t)PS)
			return -1;
	return fd;
}

/* The child's private anonymous areas; returns 0 or -1. */
static int setup_anon(struct layout *l)
{
	char *p;

	p = map_alone(BIG_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || madvise(p, BIG_PAGES * PS, MADV_NOHUGEPAGE) < 0)
		return -1;
	for (size_t i = 0; i < BIG_PAGES; i += 2)
		pattern_page((uint64_t *)(p + i * PS), i);
	l->big = (uintptr_t)p;

	/* Only read: the zero page where the kernel maps it (nothing to dump), else pages. */
	p = map_alone(8 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return -1;
	for (size_t i = 0; i < 8; i++)
		(void)*(volatile char *)(p + i * PS);
	l->zread = (uintptr_t)p;

	p = map_alone(4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return -1;
	pattern_page((uint64_t *)p, 100000);
	pattern_page((uint64_t *)(p + 2 * PS), 100002);
	if (mprotect(p, 4 * PS, PROT_NONE) < 0)
		return -1;
	l->pnone = (uintptr_t)p;

	p = map_alone(16 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN,
		      -1, 0);
	if (!p)
		return -1;
	memset(p + 15 * PS, 'g', PS);
	l->gdown = (uintptr_t)p;

	p = map_alone(4 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || madvise(p, 4 * PS, MADV_DONTDUMP) < 0)
		return -1;
	memset(p, 'd', 4 * PS);
	l->dontdump = (uintptr_t)p;

	return 0;
}

/* The child's file-backed, shared and flagged areas; returns 0 or -1. */
static int setup_backed(struct layout *l)
{
	char *p;
	int fd;

	if ((fd = make_file(fpriv_path, 'F', FILE_PAGES)) < 0)
		return -1;
	p = map_alone(FILE_PAGES * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (!p)
		return -1;
	for (size_t i = 0; i < FILE_PAGES; i++)
		(void)*(volatile char *)(p + i * PS);
	memset(p + 3 * PS, 'a', PS);
	memset(p + 7 * PS, 'b', PS);
	l->fpriv = (uintptr_t)p;

	p = map_alone(8 * PS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!p)
		return -1;
	memset(p, 's', 3 * PS);
	memset(p + 5 * PS, 't', PS);
	l->shanon = (uintptr_t)p;

	fd = memfd_create("ferry mem", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4 * PS) < 0)
		return -1;
	p = map_alone(4 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (!p)
		return -1;
	memset(p + PS, 'm', PS);
	l->memfd = (uintptr_t)p;

	if ((fd = make_file(deleted_path, 'D', 2)) < 0)
		return -1;
	p = map_alone(2 * PS, PROT_READ, MAP_SHARED, fd, PS);
	close(fd);
	if (!p || unlink(deleted_path) < 0)
		return -1;
	l->deleted = (uintptr_t)p;

	p = map_alone(4 * PS, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (!p || madvise(p, 4 * PS, MADV_DONTFORK) < 0 ||
	    madvise(p, 4 * PS, MADV_WIPEONFORK) < 0 || madvise(p, 4 * PS, MADV_HUGEPAGE) < 0 ||
	    madvise(p, 4 * PS, MADV_RANDOM) < 0)
		return -1;
	prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, 4 * PS, "ferry-named");
	l->flagged = (uintptr_t)p;

	p = map_alone(PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || mlock(p, PS) < 0)
		return -1;
	l->locked = (uintptr_t)p;

	l->shmid = shmget(IPC_PRIVATE, 4 * PS, IPC_CREAT | 0600);
	if (l->shmid >= 0) {
		p = shmat(l->shmid, NULL, 0);
		shmctl(l->shmid, IPC_RMID, NULL); /* gone with the child */
		if (p != (void *)-1) {
			memset(p, 'v', PS);
			l->sysv = (uintptr_t)p;
			l->sysv_ok = true;
		}
	}
	return 0;
}

static int start_child(struct layout *l)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		struct layout cl = {0};

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		if (setup_anon(&cl) < 0 || setup_backed(&cl) < 0)
			_exit(1);
		if (write(fds[1], &cl, sizeof(cl)) != sizeof(cl))
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ssize_t n = read(fds[0], l, sizeof(*l));
	close(fds[0]);
	return n == sizeof(*l) ? 0 : -1;
}

static const struct lx_area *area_at(const struct lx_memmap *m, uintptr_t addr, size_t len)
{
	const struct lx_area *a = lx_memmap_find(m, addr);

	return a && a->start == addr && a->end == addr + len ? a : NULL;
}

/* The ranges of one area, found one way or the other. */
static int find_one(struct lx_pagemap *pm, const struct lx_area *a, struct lx_page_list *l)
{
	_cleanup_err_ ferry_err_t err = NULL;

	memset(l, 0, sizeof(*l));
	if (lx_pages_find(pm, a, l, &err) < 0) {
		diag("%s", err->msg);
		return -1;
	}
	return 0;
}

static bool ranges_are(const struct lx_page_list *l, uintptr_t base, const size_t *pairs, size_t n)
{
	if (l->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (l->v[i].start != base + pairs[2 * i] * PS ||
		    l->v[i].end != base + pairs[2 * i + 1] * PS)
			return false;
	return true;
}

static void check_parse_text(void)
{
	struct lx_memmap m;
	_cleanup_err_ ferry_err_t err = NULL;
	const char *text =
	    "00400000-00452000 r-xp 00001000 08:02 173521      /usr/bin/a file\n"
	    "7f0000000000-7f0000001000 rw-s 00000000 00:01 1025       /memfd:x y (deleted)\n"
	    "7f0000001000-7f0000002000 rw-s 00000000 00:01 32769      /SYSV0000abcd (deleted)\n"
	    "7f0000002000-7f0000003000 rw-p 00000000 00:00 0          [anon:buf]\n"
	    "7f0000003000-7f0000004000 rw-s 00000000 00:01 1026       [anon_shmem:sh]\n"
	    "7f0000004000-7f0000005000 r--s 00000000 00:01 1027       /dev/zero (deleted)\n"
	    "7f0000005000-7f0000006000 r--p 00000000 00:00 0          [uprobes]\n"
	    "7f0000006000-7f0000007000 ---p 00000000 00:00 0 \n";

	ok(lx_memmap_parse(text, makedev(0, 1), &m, &err) == 0 && m.n == 8 && !m.have_smaps,
	   "maps text: 8 areas, no smaps fields");
	if (m.n != 8) {
		lx_memmap_free(&m);
		return;
	}
	ok(m.areas[0].start == 0x400000 && m.areas[0].offset == 0x1000 &&
	       m.areas[0].dev_major == 8 && m.areas[0].dev_minor == 2 &&
	       m.areas[0].inode == 173521 && m.areas[0].prot == (PROT_READ | PROT_EXEC) &&
	       m.areas[0].kind == LX_AREA_FILE,
	   "maps text: a file area with offset, device, inode and prot");
	is_str(m.areas[0].path, "/usr/bin/a file", "maps text: a path with a space");
	ok(m.areas[1].kind == LX_AREA_MEMFD && m.areas[1].deleted && m.areas[1].shared,
	   "maps text: memfd");
	is_str(m.areas[1].name, "x y", "maps text: memfd name");
	ok(m.areas[2].kind == LX_AREA_SYSV && m.areas[2].sysv_key == 0xabcd &&
	       m.areas[2].inode == 32769,
	   "maps text: SysV shm with its key and shmid");
	ok(m.areas[3].kind == LX_AREA_ANON && m.areas[3].name && !strcmp(m.areas[3].name, "buf"),
	   "maps text: [anon:NAME]");
	ok(m.areas[4].kind == LX_AREA_SHMEM && m.areas[4].name && !strcmp(m.areas[4].name, "sh"),
	   "maps text: [anon_shmem:NAME]");
	ok(m.areas[5].kind == LX_AREA_SHMEM && m.areas[5].deleted, "maps text: shared anonymous");
	ok(m.areas[6].kind == LX_AREA_SPECIAL && !lx_area_wants_pages(&m.areas[6]),
	   "maps text: [uprobes] is special, no pages");
	ok(m.areas[7].kind == LX_AREA_ANON && m.areas[7].prot == 0 && !m.areas[7].path,
	   "maps text: PROT_NONE anonymous");
	lx_memmap_free(&m);

	ok(lx_memmap_parse("00400000-00452000 r-xp zz\n", 0, &m, &err) < 0 && err &&
	       strstr(err->msg, "line 1"),
	   "maps text: a bad line is refused with its number");
	ferry_error_free(&err);
	ok(lx_memmap_parse("7f0000001000-7f0000002000 rw-p 0 00:00 0\n"
			   "7f0000000000-7f0000001000 rw-p 0 00:00 0\n",
			   0, &m, &err) < 0,
	   "maps text: unsorted areas are refused");
}

static void check_backed_areas(const struct lx_memmap *m, const struct layout *l);

static void check_areas(const struct lx_memmap *m, const struct layout *l)
{
	const struct lx_area *a;

	ok(m->have_smaps, "smaps read");
	a = area_at(m, l->big, BIG_PAGES * PS);
	ok(a && a->kind == LX_AREA_ANON && a->prot == (PROT_READ | PROT_WRITE) && !a->shared &&
	       !a->path && (a->vmflags & LX_VM_NH) && (a->vmflags & LX_VM_RD) &&
	       (a->vmflags & LX_VM_WR) && a->rss_kb == BIG_PAGES / 2 * 4 &&
	       a->anon_kb == BIG_PAGES / 2 * 4,
	   "64 MiB area: anonymous, rw-p, nh, Rss and Anonymous 32 MiB");

	check_backed_areas(m, l);
}

static void check_backed_areas(const struct lx_memmap *m, const struct layout *l)
{
	const struct lx_area *a;
	struct stat st;
	dev_t shm = lx_shmem_dev();

	a = area_at(m, l->fpriv, FILE_PAGES * PS);
	ok(a && a->kind == LX_AREA_FILE && !a->shared && !a->deleted && a->offset == 0 &&
	       stat(fpriv_path, &st) == 0 && a->inode == st.st_ino &&
	       makedev(a->dev_major, a->dev_minor) == st.st_dev,
	   "private file: path, inode and device of the file");
	is_str(a ? a->path : NULL, fpriv_path, "private file: path");

	a = area_at(m, l->shanon, 8 * PS);
	ok(a && a->kind == LX_AREA_SHMEM && a->shared && a->deleted && a->inode &&
	       makedev(a->dev_major, a->dev_minor) == shm && lx_area_is_shmem(a) &&
	       lx_area_is_anon(a) && (a->vmflags & LX_VM_SH),
	   "MAP_SHARED anonymous: shmem, identity on the shmem device, inode %llu",
	   a ? (unsigned long long)a->inode : 0ULL);

	a = area_at(m, l->memfd, 4 * PS);
	ok(a && a->kind == LX_AREA_MEMFD && a->shared && a->deleted && lx_area_is_shmem(a) &&
	       !lx_area_is_anon(a) && a->name && !strcmp(a->name, "ferry mem"),
	   "memfd: kind, name 'ferry mem', deleted");

	a = area_at(m, l->pnone, 4 * PS);
	ok(a && a->kind == LX_AREA_ANON && a->prot == 0 && !(a->vmflags & LX_VM_RD) &&
	       (a->vmflags & LX_VM_MR),
	   "PROT_NONE area: prot 0, may read");

	a = area_at(m, l->gdown, 16 * PS);
	ok(a && (a->vmflags & LX_VM_GD), "MAP_GROWSDOWN area: gd");

	a = area_at(m, l->dontdump, 4 * PS);
	ok(a && (a->vmflags & LX_VM_DD) && lx_area_wants_pages(a),
	   "MADV_DONTDUMP area: dd, and its pages are dumped (only core dumps leave them out)");

	a = area_at(m, l->deleted, 2 * PS);
	ok(a && a->kind == LX_AREA_FILE && a->deleted && a->shared && a->offset == PS &&
	       a->prot == PROT_READ && !lx_area_wants_pages(a),
	   "deleted shared file: deleted, offset 4096, no pages (the file holds them)");
	is_str(a ? a->path : NULL, deleted_path, "deleted file: path without ' (deleted)'");

	a = area_at(m, l->flagged, 4 * PS);
	ok(a && (a->vmflags & LX_VM_DC) && (a->vmflags & LX_VM_WF) && (a->vmflags & LX_VM_HG) &&
	       (a->vmflags & LX_VM_RR) && (a->vmflags & LX_VM_EX) && !(a->vmflags & LX_VM_SD) &&
	       !(a->vmflags & LX_VM_UNKNOWN),
	   "madvise flags: dc wf hg rr ex, no sd, nothing unknown");
	if (a && a->name)
		is_str(a->name, "ferry-named", "prctl-named anonymous area");

	a = area_at(m, l->locked, PS);
	ok(a && (a->vmflags & LX_VM_LO), "mlock'ed area: lo");

	if (l->sysv_ok) {
		a = area_at(m, l->sysv, 4 * PS);
		ok(a && a->kind == LX_AREA_SYSV && a->inode == (uint64_t)l->shmid && a->shared &&
		       a->sysv_key == 0 && lx_area_is_shmem(a),
		   "SysV shm: kind, shmid as inode, key");
	}

	bool vdso = false, vvar = false, heap = false, stack = false;
	for (size_t i = 0; i < m->n; i++) {
		a = &m->areas[i];
		vdso |= a->kind == LX_AREA_VDSO && !lx_area_wants_pages(a);
		vvar |= a->kind == LX_AREA_VVAR && !lx_area_wants_pages(a);
		heap |= a->kind == LX_AREA_HEAP && lx_area_wants_pages(a);
		stack |= a->kind == LX_AREA_STACK && lx_area_wants_pages(a);
	}
	ok(vdso && vvar && heap && stack, "[vdso] [vvar] no pages; [heap] [stack] pages");
}

static void check_big(struct lx_pagemap *pm, const struct layout *l, const char *how)
{
	const struct lx_area a = {.start = l->big,
				  .end = l->big + BIG_PAGES * PS,
				  .kind = LX_AREA_ANON,
				  .prot = PROT_READ | PROT_WRITE};
	struct lx_page_list pl;
	bool exact = true;

	if (find_one(pm, &a, &pl) < 0) {
		ok(0, "%s: find pages", how);
		return;
	}
	for (size_t i = 0; exact && i < pl.n; i++)
		exact = pl.v[i].start == l->big + 2 * i * PS && pl.v[i].end == pl.v[i].start + PS;
	ok(pl.n == BIG_PAGES / 2 && pl.bytes == 32 << 20 && exact,
	   "%s: exactly the 16384 written pages (32 MiB), no zero-page ones (%zu ranges)", how,
	   pl.n);
	lx_page_list_free(&pl);
}

static void check_small_areas(struct lx_pagemap *pm, const struct layout *l)
{
	struct lx_page_list pl;
	const struct lx_area *a;
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_memmap m;

	if (lx_memmap_read(child, true, &m, &err) < 0)
		return;
	static const size_t fpriv[] = {3, 4, 7, 8}, shanon[] = {0, 3, 5, 6}, memfd[] = {1, 2},
			    pnone[] = {0, 1, 2, 3}, gdown[] = {15, 16}, one[] = {0, 1},
			    zread[] = {0, 8}, dontdump[] = {0, 4};
	const struct {
		uintptr_t base;
		size_t len;
		const size_t *pairs;
		size_t n;
		const char *what;
	} cases[] = {
	    {l->fpriv, FILE_PAGES, fpriv, 2, "private file: only the 2 written (COW) pages"},
	    {l->shanon, 8, shanon, 2, "shared anonymous: the object's pages 0-2 and 5"},
	    {l->memfd, 4, memfd, 1, "memfd: its one written page"},
	    {l->pnone, 4, pnone, 2, "PROT_NONE: the 2 pages written before mprotect"},
	    {l->gdown, 16, gdown, 1, "grows-down: the touched top page"},
	    {l->dontdump, 4, dontdump, 1, "MADV_DONTDUMP: its 4 written pages"},
	    {l->deleted, 2, NULL, 0, "deleted shared file: nothing"},
	    {l->sysv, 4, one, 1, "SysV shm: its written page"},
	    {l->zread, 8, zread, zero_page_used ? 0 : 1,
	     "read-only faults: no pages if the zero page took them, else all 8"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!cases[i].base)
			continue;
		a = area_at(&m, cases[i].base, cases[i].len * PS);
		ok(a && find_one(pm, a, &pl) == 0 &&
		       ranges_are(&pl, cases[i].base, cases[i].pairs, cases[i].n),
		   "%s", cases[i].what);
		if (a)
			lx_page_list_free(&pl);
	}
	lx_memmap_free(&m);
}

/* Both ways over every area: the same ranges. */
static void check_same(struct lx_pagemap *scan, struct lx_pagemap *pmap)
{
	struct lx_memmap m;
	struct lx_page_list a = {0}, b = {0};
	_cleanup_err_ ferry_err_t err = NULL;

	ok(lx_memmap_read(child, true, &m, &err) == 0 &&
	       lx_pages_find_all(scan, &m, &a, &err) == 0 &&
	       lx_pages_find_all(pmap, &m, &b, &err) == 0,
	   "find all pages both ways%s%s", err ? ": " : "", err ? err->msg : "");
	ok(a.n == b.n && a.bytes == b.bytes && a.n && memcmp(a.v, b.v, a.n * sizeof(*a.v)) == 0,
	   "PAGEMAP_SCAN and /proc/PID/pagemap agree on every area (%zu ranges, %llu KiB)", a.n,
	   (unsigned long long)a.bytes / 1024);
	ok(scan->scan && !pmap->scan, "PAGEMAP_SCAN was used, and the fallback was");
	lx_page_list_free(&a);
	lx_page_list_free(&b);
	lx_memmap_free(&m);
}

static bool big_matches(const char *buf)
{
	uint64_t want[PS / 8];

	for (size_t k = 0; k < BIG_PAGES / 2; k++) {
		pattern_page(want, 2 * k);
		if (memcmp(buf + k * PS, want, PS) != 0) {
			diag("page %zu differs", 2 * k);
			return false;
		}
	}
	return true;
}

static void check_read(struct lx_pagemap *pm, const struct layout *l)
{
	const struct lx_area big = {.start = l->big, .end = l->big + BIG_PAGES * PS};
	const struct lx_page_range pn[] = {{l->pnone, l->pnone + PS},
					   {l->pnone + 2 * PS, l->pnone + 3 * PS}};
	struct lx_page_list pl;
	_cleanup_err_ ferry_err_t err = NULL;
	size_t size = 32 << 20;
	char *buf = malloc(size), *back = malloc(size);
	uint64_t want[PS / 8];

	if (!buf || !back || find_one(pm, &big, &pl) < 0) {
		ok(0, "read: setup");
		goto out;
	}
	ok(lx_pages_read(child, pl.v, pl.n, buf, size, &err) == (ssize_t)size && big_matches(buf),
	   "process_vm_readv of 16384 ranges: the pattern, byte for byte");
	ok(lx_pages_read(child, pl.v, pl.n, buf, size - 1, &err) < 0 && err,
	   "a buffer too small is refused");
	ferry_error_free(&err);

	ok(lx_pages_read(child, pn, 2, buf, 2 * PS, &err) == 2 * PS, "PROT_NONE pages read%s%s",
	   err ? ": " : "", err ? err->msg : "");
	pattern_page(want, 100000);
	bool same = memcmp(buf, want, PS) == 0;
	pattern_page(want, 100002);
	ok(same && memcmp(buf + PS, want, PS) == 0, "PROT_NONE pages: their contents");

	static const struct {
		enum lx_pages_method m;
		size_t chunk;
		const char *what;
	} ways[] = {
	    {LX_PAGES_COPY, 0, "readv+write"},
	    {LX_PAGES_SPLICE, 0, "vmsplice+splice"},
	    {LX_PAGES_COPY, 3 * PS, "readv+write, 12 KiB chunks"},
	    {LX_PAGES_SPLICE, 5 * PS, "vmsplice+splice, 20 KiB chunks"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ways); i++) {
		char path[160];
		snprintf(path, sizeof(path), "%s/pages", tmpdir);
		_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int64_t n = lx_pages_write(child, pl.v, pl.n, fd, ways[i].m, ways[i].chunk, &err);
		ok(n == (int64_t)size && pread(fd, back, size, 0) == (ssize_t)size &&
		       big_matches(back),
		   "%s to a file: the pattern%s%s", ways[i].what, err ? ": " : "",
		   err ? err->msg : "");
		ferry_error_free(&err);
		unlink(path);
	}
	lx_page_list_free(&pl);
out:
	free(buf);
	free(back);
}

int main(void)
{
	struct layout l = {0};
	struct lx_memmap m;
	struct lx_pagemap scan, pmap;
	_cleanup_err_ ferry_err_t err = NULL;

	check_parse_text();
	if (!mkdtemp(tmpdir)) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	snprintf(fpriv_path, sizeof(fpriv_path), "%s/private", tmpdir);
	snprintf(deleted_path, sizeof(deleted_path), "%s/deleted", tmpdir);
	atexit(cleanup);
	if (start_child(&l) < 0) {
		ok(0, "child set up its memory");
		return done_testing();
	}
	ok(lx_memmap_read(child, true, &m, &err) == 0, "read /proc/%d/smaps", child);
	if (m.n)
		check_areas(&m, &l);
	lx_memmap_free(&m);
	if (lx_pagemap_open(child, 0, &scan, &err) < 0 ||
	    lx_pagemap_open(child, LX_PAGES_NO_SCAN, &pmap, &err) < 0) {
		ok(0, "open pagemap: %s", err->msg);
		return done_testing();
	}
	zero_page_used = pmap.zero_pfn != 0;
	diag("zero page %s", zero_page_used ? "used for read faults" : "not used here");
	check_big(&scan, &l, "PAGEMAP_SCAN");
	check_big(&pmap, &l, "/proc/PID/pagemap");
	check_small_areas(&scan, &l);
	check_small_areas(&pmap, &l);
	check_same(&scan, &pmap);
	check_read(&scan, &l);
	lx_pagemap_close(&scan);
	lx_pagemap_close(&pmap);

	ok(lx_memmap_read(999999999, true, &m, &err) < 0 && err && strstr(err->msg, "999999999"),
	   "a pid that does not exist: an error naming it");
	cleanup();
	return done_testing();
}

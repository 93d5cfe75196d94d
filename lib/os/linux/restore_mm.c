// SPDX-License-Identifier: Apache-2.0
/* Restore: the address space. The ferry copy is emptied around the scratch page and the vDSO,
 * the vDSO is moved to its dumped address, every area of the image is mapped at its address and
 * filled from the pages files, then the mm fields are set with PR_SET_MM_MAP. The calls whose
 * result ferry does not need are queued and run in batches (remote_batch.h): the mappings before
 * the pages are written, the protections, advice and mm fields after. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "image/image.h"
#include "os/linux/memmap.h"
#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"

#define SPECIAL_VMA (CR_VMA_VDSO | CR_VMA_VVAR | CR_VMA_VVAR_VCLOCK | CR_VMA_VSYSCALL)
#define USER_TOP (1ULL << 47)

struct range {
	uint64_t start, end;
};

/* Returns whether [s, e) overlaps one of the n ranges. */
static const struct range *overlap(const struct range *v, size_t n, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < n; i++)
		if (s < v[i].end && v[i].start < e)
			return &v[i];
	return NULL;
}

/* First address at or above 1 TiB where size bytes overlap none of the ranges; 0 if none. */
static uint64_t gap_in(const struct range *v, size_t n, uint64_t size)
{
	uint64_t at = 1ULL << 40;
	const struct range *o;

	while (at + size < USER_TOP && (o = overlap(v, n, at, at + size)))
		at = (o->end + 0xfff) & ~0xfffULL;
	return at + size < USER_TOP ? at : 0;
}

static int ranges_add(struct range **v, size_t *n, uint64_t s, uint64_t e, ferry_err_t *err)
{
	struct range *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return ferry_error(err, ENOMEM, "restore");
	nv[(*n)++] = (struct range){s, e};
	*v = nv;
	return 0;
}

uint64_t lx_rst_find_scratch(const struct cr_image *img, uint64_t size, ferry_err_t *err)
{
	struct lx_memmap self = {0};
	_cleanup_free_ struct range *v = NULL;
	size_t n = 0;
	uint64_t at;

	if (lx_memmap_read(getpid(), false, &self, err) < 0)
		return 0;
	for (size_t i = 0; i < self.n; i++)
		if (ranges_add(&v, &n, self.areas[i].start, self.areas[i].end, err) < 0)
			goto fail;
	for (size_t p = 0; p < img->n_procs; p++)
		for (size_t i = 0; i < img->procs[p].n_vmas; i++)
			if (ranges_add(&v, &n, img->procs[p].vmas[i].start,
				       img->procs[p].vmas[i].end, err) < 0)
				goto fail;
	lx_memmap_free(&self);
	at = gap_in(v, n, size);
	if (!at)
		ferry_error(err, ENOMEM, "no free address for the scratch page");
	return at;
fail:
	lx_memmap_free(&self);
	return 0;
}

int lx_rst_map_scratch(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	static const uint8_t code[] = {0x0f, 0x05, 0xcc, 0xcc};
	uint64_t a[6] = {rs->scratch,
			 LX_RST_SCRATCH_SIZE,
			 PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 (uint64_t)-1,
			 0};
	int64_t at = lx_rfast_call(rp->r.tid, rp->r.syscall_ip, SYS_mmap, a, err);

	if (at < 0)
		return ferry_error_wrap(err, "scratch page");
	if ((uint64_t)at != rs->scratch)
		return ferry_error(err, EEXIST, "scratch page: mapped at 0x%llx",
				   (unsigned long long)at);
	if (lx_remote_write(rp->r.pid, rs->scratch, code, sizeof(code), err) < 0 ||
	    lx_rbatch_open(rp->r.tid, rs->scratch + LX_RST_BATCH, true, err) < 0)
		return -1;
	rp->r.syscall_ip = rs->scratch;
	return 0;
}

const struct lx_rst_pages *lx_rst_pages_get(struct lx_rst *rs, uint32_t pages_id, ferry_err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct lx_rst_pages *v;
	struct stat st;
	void *map;

	for (size_t i = 0; i < rs->n_pages; i++)
		if (rs->pages[i].id == pages_id)
			return &rs->pages[i];
	fd = image_open_pages(rs->dir, pages_id, err);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		ferry_error_errno(err, "pages-%u.img", pages_id);
		return NULL;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ferry_error_errno(err, "map pages-%u.img", pages_id);
		return NULL;
	}
	v = realloc(rs->pages, (rs->n_pages + 1) * sizeof(*v));
	if (!v) {
		munmap(map, (size_t)st.st_size);
		ferry_error(err, ENOMEM, "pages-%u.img", pages_id);
		return NULL;
	}
	rs->pages = v;
	v[rs->n_pages] = (struct lx_rst_pages){pages_id, map, (size_t)st.st_size};
	return &v[rs->n_pages++];
}

/* The segment of s's key that still lives on this host (a same-host restore after the tree was
 * killed: a keyed segment outlives its processes). Such a segment is attached as it is now, like
 * CRIU attaches SysV areas by id: it is state shared with whoever else knows the key, so writes
 * made after the checkpoint are kept and the image's pages (the contents at checkpoint) are not
 * written over them, as a shared file is not rewound either; its owner, mode and other attaches
 * are left alone, and a failed restore does not remove it. The image's contents make the segment
 * again only where the key is free (another host, or the segment was removed). Returns its id, -1
 * when there is none (or s is IPC_PRIVATE), or -2 with err set when the key names a segment of
 * another size (refused: not the segment the image knew). */
static int sysv_live(const struct cr_shm *s, ferry_err_t *err)
{
	struct shmid_ds ds;
	int id;

	if (s->key == IPC_PRIVATE)
		return -1;
	id = shmget(s->key, 0, 0);
	if (id < 0 && errno == ENOENT)
		return -1;
	if (id < 0 || shmctl(id, IPC_STAT, &ds) < 0) {
		ferry_error_errno(err, "SysV shared memory key 0x%08x", (unsigned)s->key);
		return -2;
	}
	if (ds.shm_segsz != s->size) {
		ferry_error(
		    err, EEXIST,
		    "SysV shared memory key 0x%08x is in use on this host by a segment of %zu "
		    "bytes (the image's has %llu)",
		    (unsigned)s->key, (size_t)ds.shm_segsz, (unsigned long long)s->size);
		return -2;
	}
	return id;
}

/* Makes SysV segment s (with its key, or IPC_PRIVATE: a private segment gets a new id, which the
 * restored process only sees through its attach) and opens its file through a temporary attach;
 * returns the fd (its inode number is the segment's id) or -1, the segment removed. */
static int sysv_make(const struct cr_shm *s, ferry_err_t *err)
{
	key_t key = s->key;
	char path[96];
	void *m;
	int id, fd;

	id = shmget(key, s->size, IPC_CREAT | IPC_EXCL | (int)(s->mode & 0777));
	if (id < 0 && errno == EEXIST)
		return ferry_error(err, EEXIST,
				   "SysV shared memory key 0x%08x is already in use on this host",
				   (unsigned)key);
	if (id < 0)
		return ferry_error_errno(err, "SysV shared memory key 0x%08x of %llu bytes",
					 (unsigned)key, (unsigned long long)s->size);
	m = shmat(id, NULL, 0);
	if (m == (void *)-1) {
		ferry_error_errno(err, "attach SysV shared memory %d", id);
		shmctl(id, IPC_RMID, NULL);
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
		 (unsigned long)m + (s->size + CR_PAGE_SIZE - 1) / CR_PAGE_SIZE * CR_PAGE_SIZE);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		ferry_error_errno(err, "open %s", path);
	shmdt(m);
	if (fd < 0)
		shmctl(id, IPC_RMID, NULL);
	return fd;
}

/* Makes shm object s in ferry: a MAP_SHARED anonymous object (its "/dev/zero" file reopened
 * through map_files), a memfd or a SysV segment; returns the fd or -1. */
static int shm_make(const struct cr_shm *s, ferry_err_t *err)
{
	char path[96];
	void *m;
	int fd;

	if (s->kind == CR_SHM_MEMFD) {
		fd = memfd_create(s->name ? s->name : "", MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, (off_t)s->size) < 0)
			return ferry_error_errno(err, "memfd %s", s->name ? s->name : "");
		return fd;
	}
	if (s->kind == CR_SHM_SYSV)
		return sysv_make(s, err);
	m = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return ferry_error_errno(err, "shared memory of %llu bytes",
					 (unsigned long long)s->size);
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)m,
		 (unsigned long)m + s->size);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		ferry_error_errno(err, "open %s", path);
	munmap(m, s->size);
	return fd;
}

/* Fills a shm object from its page runs; returns 0 or -1. */
static int shm_fill(struct lx_rst *rs, const struct cr_shm *s, int fd, ferry_err_t *err)
{
	const struct lx_rst_pages *pg;

	if (!s->pages.n_runs)
		return 0;
	pg = lx_rst_pages_get(rs, s->pages.pages_id, err);
	if (!pg)
		return -1;
	for (size_t i = 0; i < s->pages.n_runs; i++) {
		const struct cr_page_run *run = &s->pages.runs[i];
		size_t len = run->nr_pages * CR_PAGE_SIZE;
		const uint8_t *src = pg->map + IMAGE_PAGES_DATA_START + run->offset;

		if (pwrite(fd, src, len, (off_t)run->vaddr) != (ssize_t)len)
			return ferry_error_errno(err, "fill shared memory %llu",
						 (unsigned long long)s->id);
	}
	if (s->seals && fcntl(fd, F_ADD_SEALS, (int)s->seals) < 0)
		return ferry_error_errno(err, "seal memfd %s", s->name ? s->name : "");
	return 0;
}

int lx_rst_shm_prepare(struct lx_rst *rs, ferry_err_t *err)
{
	for (size_t i = 0; i < rs->img->n_shm; i++) {
		const struct cr_shm *s = &rs->img->shm[i];

		int live = s->kind == CR_SHM_SYSV ? sysv_live(s, err) : -1;

		if (live >= 0) {
			/* Re-attached as it is now, by key, in sysv_attach: never refilled from the
			 * image nor removed by a failed restore (rs->shm_fds[i] stays -1). */
			ferry_log(FERRY_LOG_DEBUG, "SysV key 0x%08x: segment %d re-attached",
				  (unsigned)s->key, live);
			continue;
		}
		if (live == -2)
			return ferry_error_wrap(err, "shared memory %llu",
						(unsigned long long)s->id);
		rs->shm_fds[i] = shm_make(s, err);
		if (rs->shm_fds[i] < 0 || shm_fill(rs, s, rs->shm_fds[i], err) < 0)
			return ferry_error_wrap(err, "shared memory %llu",
						(unsigned long long)s->id);
	}
	return 0;
}

static int64_t rcall(struct lx_rst_proc *rp, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     uint64_t a3, uint64_t a4, uint64_t a5, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3, a4, a5};

	return lx_rfast_call(rp->r.tid, rp->r.syscall_ip, nr, a, err);
}

/* Queues a call in rp's batch, what naming its step in an error; returns its index or -1. */
static int64_t qcall(struct lx_rst_proc *rp, const char *what, long nr, uint64_t a0, uint64_t a1,
		     uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5, ferry_err_t *err)
{
	const uint64_t a[6] = {a0, a1, a2, a3, a4, a5};

	return lx_rbatch_call(rp->r.tid, what, nr, a, -1, NULL, 0, err);
}

static bool is_special(const struct lx_area *a)
{
	return a->kind == LX_AREA_VDSO || a->kind == LX_AREA_VVAR ||
	       a->kind == LX_AREA_VVAR_VCLOCK || a->kind == LX_AREA_VSYSCALL;
}

/* Unmaps [s, e) but the parts the image's areas (vmas, sorted) cover: those are mapped over with
 * MAP_FIXED later, which spares a call and tears the copy's pages down once. Returns 0 or -1. */
static int unmap_uncovered(struct lx_rst_proc *rp, uint64_t s, uint64_t e, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	char what[64];

	snprintf(what, sizeof(what), "unmap 0x%llx-0x%llx", (unsigned long long)s,
		 (unsigned long long)e);

	for (size_t i = 0; i < p->n_vmas && s < e; i++) {
		const struct cr_vma *v = &p->vmas[i];

		if ((v->flags & SPECIAL_VMA) || v->end <= s)
			continue;
		if (v->start >= e)
			break;
		if (v->start > s &&
		    qcall(rp, what, SYS_munmap, s, v->start - s, 0, 0, 0, 0, err) < 0)
			return -1;
		s = v->end;
	}
	if (s < e && qcall(rp, what, SYS_munmap, s, e - s, 0, 0, 0, 0, err) < 0)
		return -1;
	return 0;
}

/* Unmaps every area of the copy but the scratch page, the kernel's special areas and what the
 * image maps over; returns 0 or -1. */
static int unmap_copy(struct lx_rst *rs, struct lx_rst_proc *rp, const struct lx_memmap *m,
		      ferry_err_t *err)
{
	for (size_t i = 0; i < m->n; i++) {
		uint64_t s = m->areas[i].start, e = m->areas[i].end;

		if (is_special(&m->areas[i]) || s == rs->scratch)
			continue;
		/* Merge a run of areas to unmap into one call. */
		while (i + 1 < m->n && m->areas[i + 1].start == e &&
		       !is_special(&m->areas[i + 1]) && m->areas[i + 1].start != rs->scratch)
			e = m->areas[++i].end;
		if (unmap_uncovered(rp, s, e, err) < 0)
			return -1;
	}
	return 0;
}

static const uint32_t vdso_flags[3] = {CR_VMA_VDSO, CR_VMA_VVAR, CR_VMA_VVAR_VCLOCK};
static const enum lx_area_kind vdso_kinds[3] = {LX_AREA_VDSO, LX_AREA_VVAR, LX_AREA_VVAR_VCLOCK};
static const char *const vdso_names[3] = {"[vdso]", "[vvar]", "[vvar_vclock]"};

/* The current (cur) and image (img) ranges of [vdso], [vvar], [vvar_vclock]; returns 0 when the
 * layouts agree (same sizes, same offsets from [vdso]), else -1 naming the difference. */
static int vdso_layout(const struct cr_process *p, const struct lx_memmap *m, struct range cur[3],
		       struct range img[3], ferry_err_t *err)
{
	memset(cur, 0, 3 * sizeof(*cur));
	memset(img, 0, 3 * sizeof(*img));
	for (size_t i = 0; i < m->n; i++)
		for (int k = 0; k < 3; k++)
			if (m->areas[i].kind == vdso_kinds[k])
				cur[k] = (struct range){m->areas[i].start, m->areas[i].end};
	for (size_t i = 0; i < p->n_vmas; i++)
		for (int k = 0; k < 3; k++)
			if (p->vmas[i].flags & vdso_flags[k])
				img[k] = (struct range){p->vmas[i].start, p->vmas[i].end};
	if (!img[0].end && !img[1].end && !img[2].end)
		return 0;
	for (int k = 0; k < 3; k++) {
		uint64_t cs = cur[k].end - cur[k].start, is = img[k].end - img[k].start;

		if (cs != is)
			return ferry_error(err, EOPNOTSUPP,
					   "vDSO layout differs: %s is %llu bytes in the image, "
					   "%llu on this kernel",
					   vdso_names[k], (unsigned long long)is,
					   (unsigned long long)cs);
		if (cs && cur[k].start - cur[0].start != img[k].start - img[0].start)
			return ferry_error(err, EOPNOTSUPP,
					   "vDSO layout differs: %s is at another offset from "
					   "[vdso] than on this kernel",
					   vdso_names[k]);
	}
	return 0;
}

/* mremaps the three areas from the ranges at to those at dst; returns 0 or -1. */
static int vdso_move(struct lx_rst_proc *rp, const struct range from[3], const struct range to[3],
		     ferry_err_t *err)
{
	for (int k = 0; k < 3; k++) {
		uint64_t len = from[k].end - from[k].start;
		char what[64];

		if (!len || from[k].start == to[k].start)
			continue;
		snprintf(what, sizeof(what), "move %s to 0x%llx", vdso_names[k],
			 (unsigned long long)to[k].start);
		if (qcall(rp, what, SYS_mremap, from[k].start, len, len,
			  MREMAP_MAYMOVE | MREMAP_FIXED, to[k].start, 0, err) < 0)
			return -1;
	}
	return 0;
}

/* Moves the vDSO areas to the image's addresses (through a free place when the two overlap), or
 * unmaps them if the image has none; returns 0 or -1. */
static int vdso_restore(struct lx_rst *rs, struct lx_rst_proc *rp, const struct lx_memmap *m,
			ferry_err_t *err)
{
	struct range cur[3], img[3], tmp[3];
	uint64_t lo = UINT64_MAX, hi = 0, at;
	_cleanup_free_ struct range *busy = NULL;
	size_t nbusy = 0;

	if (vdso_layout(rp->p, m, cur, img, err) < 0)
		return -1;
	if (!img[0].end && !img[1].end && !img[2].end) {
		for (int k = 0; k < 3; k++) {
			char what[32];

			snprintf(what, sizeof(what), "unmap %s", vdso_names[k]);
			if (cur[k].end && qcall(rp, what, SYS_munmap, cur[k].start,
						cur[k].end - cur[k].start, 0, 0, 0, 0, err) < 0)
				return -1;
		}
		return 0;
	}
	for (int k = 0; k < 3; k++) {
		if (!cur[k].end)
			continue;
		lo = cur[k].start < lo ? cur[k].start : lo;
		hi = cur[k].end > hi ? cur[k].end : hi;
	}
	if (!overlap(cur, 3, img[0].start, img[0].end) &&
	    !overlap(cur, 3, img[1].start, img[1].end) &&
	    !overlap(cur, 3, img[2].start, img[2].end))
		return vdso_move(rp, cur, img, err);
	/* Through a place free in both maps, keeping the relative layout. */
	for (size_t i = 0; i < m->n; i++)
		if (ranges_add(&busy, &nbusy, m->areas[i].start, m->areas[i].end, err) < 0)
			return -1;
	for (size_t i = 0; i < rp->p->n_vmas; i++)
		if (ranges_add(&busy, &nbusy, rp->p->vmas[i].start, rp->p->vmas[i].end, err) < 0)
			return -1;
	if (ranges_add(&busy, &nbusy, rs->scratch, rs->scratch + LX_RST_SCRATCH_SIZE, err) < 0)
		return -1;
	at = gap_in(busy, nbusy, hi - lo);
	if (!at)
		return ferry_error(err, ENOMEM, "no free place to move the vDSO through");
	for (int k = 0; k < 3; k++)
		tmp[k] = cur[k].end ? (struct range){at + cur[k].start - lo, at + cur[k].end - lo}
				    : cur[k];
	if (vdso_move(rp, cur, tmp, err) < 0)
		return -1;
	return vdso_move(rp, tmp, img, err);
}

/* Whether a page run of p lies in [s, e): runs are sorted, *cursor advances. */
static bool has_runs(const struct cr_pagemap *pm, size_t *cursor, uint64_t s, uint64_t e)
{
	while (*cursor < pm->n_runs &&
	       pm->runs[*cursor].vaddr + pm->runs[*cursor].nr_pages * CR_PAGE_SIZE <= s)
		(*cursor)++;
	return *cursor < pm->n_runs && pm->runs[*cursor].vaddr < e;
}

static int shm_index(const struct cr_image *img, uint64_t id)
{
	for (size_t i = 0; i < img->n_shm; i++)
		if (img->shm[i].id == id)
			return (int)i;
	return -1;
}

/* An fd in the tracee: its number, or the result of a queued call. */
struct rfd {
	int64_t v; /* the number, or the call's index */
	bool queued;
};

/* Opens the backing of v in the tracee: ferry's shm object now, a file path in the batch; returns
 * 0 or -1. */
static int open_backing(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_vma *v,
			struct rfd *fd, ferry_err_t *err)
{
	char host[PATH_MAX + 64], what[PATH_MAX + 16];
	int flags = O_RDONLY | O_CLOEXEC;
	uint64_t a[6] = {(uint64_t)AT_FDCWD};
	struct stat st;
	bool given;

	if (v->shm_id) {
		int i = shm_index(rs->img, v->shm_id);

		if (i < 0)
			return ferry_error(err, ENOENT, "shared memory %llu",
					   (unsigned long long)v->shm_id);
		/* a user namespace's tracee takes the object itself (/proc refuses) */
		*fd = (struct rfd){
		    lx_rst_open_own(rs, rp, rs->shm_fds[i], O_RDWR | O_CLOEXEC, &given, err)};
		return fd->v < 0 ? -1 : 0;
	}
	if (stat(lx_rst_host_path(rs, v->path, host, sizeof(host)), &st) < 0)
		return ferry_error_errno(err, "%s", v->path);
	if (v->ino && st.st_ino != v->ino)
		return ferry_error(err, ESTALE, "%s is another file than at checkpoint", v->path);
	if ((v->flags & CR_VMA_SHARED) && (v->prot & PROT_WRITE))
		flags = O_RDWR | O_CLOEXEC;
	snprintf(what, sizeof(what), "open %s", v->path);
	a[2] = (uint64_t)flags;
	*fd = (struct rfd){
	    lx_rbatch_call(rp->r.tid, what, SYS_openat, a, 1, v->path, strlen(v->path) + 1, err),
	    true};
	return fd->v < 0 ? -1 : 0;
}

/* Maps an anonymous area elsewhere, faults one page in (a moved area keeps its page offset only
 * once it has an anon_vma) and drops it, then moves it to its address; returns 0 or -1. */
static int map_moved(struct lx_rst_proc *rp, const struct cr_vma *v, uint32_t prot, uint64_t flags,
		     ferry_err_t *err)
{
	static const uint64_t zero;
	uint64_t len = v->end - v->start;
	int64_t at = rcall(rp, SYS_mmap, 1ULL << 46, len, PROT_READ | PROT_WRITE,
			   flags & ~(uint64_t)MAP_FIXED, (uint64_t)-1, 0, err);

	if (at < 0)
		return -1;
	if ((uint64_t)at == v->start)
		return ferry_error(err, EFAULT, "area mapped in place");
	if (lx_remote_write(rp->r.pid, (uint64_t)at, &zero, sizeof(zero), err) < 0 ||
	    rcall(rp, SYS_madvise, (uint64_t)at, CR_PAGE_SIZE, MADV_DONTNEED, 0, 0, 0, err) < 0 ||
	    rcall(rp, SYS_mremap, (uint64_t)at, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, v->start,
		  0, err) < 0)
		return -1;
	if (prot != (PROT_READ | PROT_WRITE) &&
	    rcall(rp, SYS_mprotect, v->start, len, prot, 0, 0, 0, err) < 0)
		return -1;
	return 0;
}

/* Backing files opened in the tracee during map_all, each once: several areas map one file. They
 * stay open: lx_rst_files, which comes next, closes every fd of the copy in one call. */
struct backings {
	const struct cr_vma *v[64]; /* the area each fd was opened for */
	struct rfd fd[64];
	size_t n;
};

static bool same_backing(const struct cr_vma *a, const struct cr_vma *b)
{
	if (a->shm_id || b->shm_id)
		return a->shm_id == b->shm_id;
	return a->path && b->path && !strcmp(a->path, b->path) && a->ino == b->ino &&
	       ((a->flags ^ b->flags) & CR_VMA_SHARED) == 0 &&
	       ((a->prot ^ b->prot) & PROT_WRITE) == 0;
}

/* The tracee's fd of v's backing in *fd, opened the first time; *cached tells whether it stays
 * open for other areas. Returns 0 or -1. */
static int backing_fd(struct lx_rst *rs, struct lx_rst_proc *rp, struct backings *b,
		      const struct cr_vma *v, struct rfd *fd, bool *cached, ferry_err_t *err)
{
	*cached = true;
	for (size_t i = 0; i < b->n; i++)
		if (same_backing(b->v[i], v)) {
			*fd = b->fd[i];
			return 0;
		}
	if (open_backing(rs, rp, v, fd, err) < 0)
		return -1;
	*cached = b->n < sizeof(b->fd) / sizeof(b->fd[0]);
	if (*cached) {
		b->v[b->n] = v;
		b->fd[b->n++] = *fd;
	}
	return 0;
}

/* Queues a call taking fd as its argument arg; returns 0 or -1. */
static int qcall_fd(struct lx_rst_proc *rp, const char *what, struct rfd fd, int arg, long nr,
		    uint64_t a[6], ferry_err_t *err)
{
	if (lx_rbatch_room(rp->r.tid, 2, 0, err) < 0)
		return -1;
	if (fd.queued && lx_rbatch_next_arg(rp->r.tid, fd.v, arg, err) < 0)
		return -1;
	if (!fd.queued)
		a[arg] = (uint64_t)fd.v;
	return lx_rbatch_add(rp->r.tid, nr, a, what, err) < 0 ? -1 : 0;
}

/* Whether area k of p continues area k - 1's attach of the same shm object (split by mprotect). */
static bool continues_prev(const struct cr_process *p, size_t k)
{
	const struct cr_vma *a = &p->vmas[k - 1], *b = &p->vmas[k];

	return k > 0 && a->shm_id == b->shm_id && a->end == b->start &&
	       a->pgoff + (a->end - a->start) == b->pgoff;
}

/* Attaches SysV segment area v with a remote shmat at its address (read-only when the area is
 * not writable); a later piece of a split attach only gets its protection, the tail of the
 * segment the process had unmapped is unmapped, a segment marked for removal at checkpoint is
 * removed again once attached; returns 0 or -1. */
static int sysv_attach(struct lx_rst *rs, struct lx_rst_proc *rp, const struct cr_vma *v,
		       const struct cr_shm *s, int fd, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	size_t k = (size_t)(v - p->vmas), j = k;
	uint64_t flg = 0, len = (s->size + CR_PAGE_SIZE - 1) / CR_PAGE_SIZE * CR_PAGE_SIZE;
	uint64_t end = v->end;
	struct stat st = {0};
	int64_t at;

	if (v->pgoff && k > 0 && continues_prev(p, k))
		return rcall(rp, SYS_mprotect, v->start, v->end - v->start, v->prot, 0, 0, 0, err) <
			       0
			   ? -1
			   : 0;
	if (v->pgoff)
		return ferry_error(err, ENOTSUP, "SysV shared memory attached from offset %llu",
				   (unsigned long long)v->pgoff);
	if (fd >= 0 && fstat(fd, &st) < 0)
		return ferry_error_errno(err, "SysV shared memory");
	if (fd < 0) { /* a live segment (lx_rst_shm_prepare): its id now */
		int id = sysv_live(s, err);

		if (id == -1)
			return ferry_error(err, ENOENT, "SysV shared memory key 0x%08x is gone",
					   (unsigned)s->key);
		if (id < 0)
			return -1;
		st.st_ino = (ino_t)id;
	}
	if (!(v->prot & PROT_WRITE))
		flg |= SHM_RDONLY;
	if (v->prot & PROT_EXEC)
		flg |= SHM_EXEC;
	at = rcall(rp, SYS_shmat, (uint64_t)st.st_ino, v->start, flg, 0, 0, 0, err);
	if (at < 0)
		return ferry_error_wrap(err, "shmat %llu", (unsigned long long)st.st_ino);
	if ((uint64_t)at != v->start)
		return ferry_error(err, EFAULT, "attached at 0x%llx", (unsigned long long)at);
	while (j + 1 < p->n_vmas && continues_prev(p, j + 1))
		end = p->vmas[++j].end;
	if (v->start + len > end &&
	    rcall(rp, SYS_munmap, end, v->start + len - end, 0, 0, 0, 0, err) < 0)
		return -1;
	if (fd >= 0 && (s->mode & SHM_DEST) && shmctl((int)st.st_ino, IPC_RMID, NULL) < 0 &&
	    errno != EINVAL)
		return ferry_error_errno(err, "remove SysV shared memory %llu",
					 (unsigned long long)st.st_ino);
	return 0;
}

static const char *vma_name(const struct cr_vma *v)
{
	if (v->path)
		return v->path;
	if (v->flags & CR_VMA_HEAP)
		return "[heap]";
	if (v->flags & CR_VMA_STACK)
		return "[stack]";
	return v->shm_id ? "shared memory" : "anonymous";
}

/* "VERB 0xSTART-0xEND (NAME)" of v in buf; returns buf. */
static const char *what_area(const char *verb, const struct cr_vma *v, char *buf, size_t size)
{
	snprintf(buf, size, "%s 0x%llx-0x%llx (%s)", verb, (unsigned long long)v->start,
		 (unsigned long long)v->end, vma_name(v));
	return buf;
}

/* map_area once room is made: returns 0 or -1. */
static int map_area_in(struct lx_rst *rs, struct lx_rst_proc *rp, struct backings *b,
		       const struct cr_vma *v, uint32_t prot, bool remap, const char *what,
		       ferry_err_t *err)
{
	uint64_t flags = MAP_FIXED | ((v->flags & CR_VMA_SHARED) ? MAP_SHARED : MAP_PRIVATE);
	uint64_t a[6] = {v->start, v->end - v->start, prot, 0, (uint64_t)-1, 0};
	struct rfd fd;
	bool cached;

	if (v->flags & CR_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (v->flags & CR_VMA_NORESERVE)
		flags |= MAP_NORESERVE;
	if (v->shm_id) {
		int i = shm_index(rs->img, v->shm_id);

		if (i >= 0 && rs->img->shm[i].kind == CR_SHM_SYSV)
			return sysv_attach(rs, rp, v, &rs->img->shm[i], rs->shm_fds[i], err);
	}
	if (!v->path && !v->shm_id) {
		if (remap) /* only anonymous areas */
			return map_moved(rp, v, prot, flags | MAP_ANONYMOUS, err);
		a[3] = flags | MAP_ANONYMOUS;
		return lx_rbatch_add(rp->r.tid, SYS_mmap, a, what, err) < 0 ? -1 : 0;
	}
	if (backing_fd(rs, rp, b, v, &fd, &cached, err) < 0)
		return -1;
	a[3] = flags;
	a[5] = v->pgoff;
	/* MAP_FIXED: a mapping that succeeds is at v->start */
	if (qcall_fd(rp, what, fd, 4, SYS_mmap, a, err) < 0)
		return -1;
	if (cached)
		return 0;
	memset(a, 0, sizeof(a));
	return qcall_fd(rp, what, fd, 0, SYS_close, a, err);
}

/* Maps one area at its address with a temporary protection (writable when pages are to be
 * written), queued when ferry needs no result; returns 0 or -1. What was queued before and fails
 * when the queue runs here reports its own step. */
static int map_area(struct lx_rst *rs, struct lx_rst_proc *rp, struct backings *b,
		    const struct cr_vma *v, uint32_t prot, bool remap, ferry_err_t *err)
{
	char what[PATH_MAX + 64];
	bool sync = remap || v->shm_id; /* remote syscalls, which run the queue first */

	/* an open, the mmap and a close, each with a copy of the fd */
	if (lx_rbatch_room(rp->r.tid, 5, v->path ? strlen(v->path) + 16 : 0, err) < 0 ||
	    (sync && lx_rbatch_flush(rp->r.tid, err) < 0))
		return -1;
	what_area("map", v, what, sizeof(what));
	if (map_area_in(rs, rp, b, v, prot, remap, what, err) < 0)
		return ferry_error_wrap(err, "%s", what);
	return 0;
}

static const struct {
	uint32_t flag;
	int advice;
} madvs[] = {
    {CR_MADV_DONTFORK, MADV_DONTFORK},	 {CR_MADV_DONTDUMP, MADV_DONTDUMP},
    {CR_MADV_HUGEPAGE, MADV_HUGEPAGE},	 {CR_MADV_NOHUGEPAGE, MADV_NOHUGEPAGE},
    {CR_MADV_MERGEABLE, MADV_MERGEABLE}, {CR_MADV_WIPEONFORK, MADV_WIPEONFORK},
    {CR_MADV_RANDOM, MADV_RANDOM},	 {CR_MADV_SEQUENTIAL, MADV_SEQUENTIAL},
};

/* Queues the madvise state and mlock of an area; returns 0 or -1. */
static int area_finish(struct lx_rst_proc *rp, const struct cr_vma *v, ferry_err_t *err)
{
	uint64_t len = v->end - v->start;
	char what[PATH_MAX + 80];

	what_area("area", v, what, sizeof(what));
	for (size_t i = 0; v->madv && i < sizeof(madvs) / sizeof(madvs[0]); i++) {
		char step[sizeof(what) + 16];

		if (!(v->madv & madvs[i].flag))
			continue;
		snprintf(step, sizeof(step), "%s: madvise %d", what, madvs[i].advice);
		if (qcall(rp, step, SYS_madvise, v->start, len, (uint64_t)madvs[i].advice, 0, 0, 0,
			  err) < 0)
			return -1;
	}
	if ((v->flags & CR_VMA_LOCKED) &&
	    qcall(rp, what, SYS_mlock, v->start, len, 0, 0, 0, 0, err) < 0)
		return -1;
	return 0;
}

/* Queues the final protection of area i and of the adjacent areas after it with the same one, in
 * one call; returns the index of the last area it covered, or -1. */
static ssize_t reprotect(struct lx_rst_proc *rp, const uint32_t *tmp, size_t i, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	const struct cr_vma *v = &p->vmas[i];
	uint64_t end = v->end;
	char what[PATH_MAX + 64];

	what_area("area", v, what, sizeof(what));
	while (i + 1 < p->n_vmas && p->vmas[i + 1].start == end &&
	       !(p->vmas[i + 1].flags & SPECIAL_VMA) && p->vmas[i + 1].prot == v->prot &&
	       tmp[i + 1] != p->vmas[i + 1].prot)
		end = p->vmas[++i].end;
	if (qcall(rp, what, SYS_mprotect, v->start, end - v->start, v->prot, 0, 0, 0, err) < 0)
		return -1;
	return (ssize_t)i;
}

/* Writes the page runs of the process into its memory, IOV_MAX runs (of one pages file) a call;
 * returns 0 or -1. */
static int fill_pages(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_pagemap *pm = &rp->p->pages;
	struct iovec loc[IOV_MAX], rem[IOV_MAX];

	for (size_t i = 0; i < pm->n_runs;) {
		uint32_t id = pm->runs[i].pages_id ? pm->runs[i].pages_id : pm->pages_id;
		const struct lx_rst_pages *pg = lx_rst_pages_get(rs, id, err);
		size_t n = 0, want = 0;
		ssize_t got;

		if (!pg)
			return -1;
		for (; i < pm->n_runs && n < IOV_MAX; i++, n++) {
			const struct cr_page_run *run = &pm->runs[i];
			size_t len = run->nr_pages * CR_PAGE_SIZE;

			if ((run->pages_id ? run->pages_id : pm->pages_id) != id)
				break;
			loc[n] = (struct iovec){
			    (void *)(pg->map + IMAGE_PAGES_DATA_START + run->offset), len};
			rem[n] = (struct iovec){(void *)run->vaddr, len};
			want += len;
		}
		got = process_vm_writev(rp->r.pid, loc, n, rem, n, 0);
		if (got == (ssize_t)want)
			continue;
		/* Short: write run by run (lx_remote_write falls back to ptrace). */
		for (size_t k = 0; k < n; k++)
			if (lx_remote_write(rp->r.pid, (uint64_t)rem[k].iov_base, loc[k].iov_base,
					    loc[k].iov_len, err) < 0)
				return ferry_error_wrap(err, "fill pages");
	}
	return 0;
}

/* Whether the kernel would merge area i with the one before it (adjacent private anonymous
 * areas alike), though the image has them apart. */
static bool merges_with_prev(const struct cr_process *p, size_t i)
{
	const uint32_t kept = CR_VMA_SHARED | CR_VMA_GROWSDOWN | CR_VMA_LOCKED | CR_VMA_NORESERVE;
	const struct cr_vma *a = &p->vmas[i - 1], *b = &p->vmas[i];

	return a->end == b->start && !a->path && !b->path && !a->shm_id && !b->shm_id &&
	       !((a->flags | b->flags) & (CR_VMA_SHARED | SPECIAL_VMA)) &&
	       (a->flags & kept) == (b->flags & kept) && a->prot == b->prot && a->madv == b->madv;
}

/* Temporary protections (writable where pages go) and which areas are mapped elsewhere and moved
 * in place (remap[i]): every other one of neighbours the kernel would merge, since a moved area
 * keeps its page offset, which then does not follow its neighbour's, and the kernel merges
 * anonymous areas (and shares their anon_vma) only when it does. */
static void plan_prots(struct lx_rst_proc *rp, uint32_t *tmp, bool *remap)
{
	const struct cr_process *p = rp->p;
	size_t cursor = 0, pos = 0;

	for (size_t i = 0; i < p->n_vmas; i++) {
		const struct cr_vma *v = &p->vmas[i];
		bool fill = has_runs(&p->pages, &cursor, v->start, v->end);

		pos = i > 0 && merges_with_prev(p, i) ? pos + 1 : 0;
		remap[i] = pos & 1;
		tmp[i] = v->prot | (fill ? PROT_WRITE : 0);
	}
}

/* Maps every area of the image, fills the pages, then sets the final protections. */
static int map_all(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;
	_cleanup_free_ uint32_t *tmp = calloc(p->n_vmas + 1, sizeof(uint32_t));
	_cleanup_free_ bool *remap = calloc(p->n_vmas + 1, sizeof(bool));
	_cleanup_free_ struct backings *b = calloc(1, sizeof(*b));

	if (!tmp || !remap || !b)
		return ferry_error(err, ENOMEM, "restore");
	plan_prots(rp, tmp, remap);
	for (size_t i = 0; i < p->n_vmas; i++)
		if (!(p->vmas[i].flags & SPECIAL_VMA) &&
		    map_area(rs, rp, b, &p->vmas[i], tmp[i], remap[i], err) < 0)
			return -1;
	if (lx_rbatch_flush(rp->r.tid, err) < 0 || fill_pages(rs, rp, err) < 0)
		return -1;
	/* queued: each call names its area in an error */
	for (size_t i = 0; i < p->n_vmas; i++) {
		const struct cr_vma *v = &p->vmas[i];
		ssize_t last = (ssize_t)i;

		if (v->flags & SPECIAL_VMA)
			continue;
		if (tmp[i] != v->prot)
			last = reprotect(rp, tmp, i, err);
		for (size_t k = i; last >= 0 && k <= (size_t)last; k++)
			if (area_finish(rp, &p->vmas[k], err) < 0)
				last = -1;
		if (last < 0)
			return -1;
		i = (size_t)last;
	}
	return 0;
}

/* Whether path is ferry's own executable, which the copy has already (the kernel refuses to set
 * an exe that is mapped: EBUSY). */
static bool same_exe(struct lx_rst *rs, const char *path)
{
	char host[PATH_MAX + 64];
	struct stat a, b;

	path = lx_rst_host_path(rs, path, host, sizeof(host));
	return stat("/proc/self/exe", &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Queues PR_SET_MM_MAP with the image's mm fields, auxv and exe (opened in the same batch: its
 * fd is copied into the struct, 8 bytes over exe_fd, the last field, and the padding after);
 * returns 0 or -1. */
static int mm_fields(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	static const uint64_t pad;
	const struct cr_mm *mm = &rp->p->mm;
	struct prctl_mm_map map = {
	    .start_code = mm->start_code,
	    .end_code = mm->end_code,
	    .start_data = mm->start_data,
	    .end_data = mm->end_data,
	    .start_brk = mm->start_brk,
	    .brk = mm->brk,
	    .start_stack = mm->start_stack,
	    .arg_start = mm->arg_start,
	    .arg_end = mm->arg_end,
	    .env_start = mm->env_start,
	    .env_end = mm->env_end,
	    .exe_fd = (uint32_t)-1,
	};
	const char *what = "mm fields (PR_SET_MM_MAP)";
	bool exe = mm->exe && !same_exe(rs, mm->exe);
	size_t exe_len = exe ? strlen(mm->exe) + 1 : 0, auxv_len = mm->n_auxv * sizeof(uint64_t);
	uint64_t a[6] = {(uint64_t)AT_FDCWD, 0, O_RDONLY | O_CLOEXEC}, at;
	pid_t tid = rp->r.tid;
	int64_t fd = -1;
	char exe_what[PATH_MAX + 8];

	_Static_assert(offsetof(struct prctl_mm_map, exe_fd) + 4 == sizeof(struct prctl_mm_map),
		       "exe_fd is not the last field");
	if (lx_rbatch_room(tid, 3, exe_len + auxv_len + sizeof(map) + 40, err) < 0)
		return -1;
	if (exe) {
		snprintf(exe_what, sizeof(exe_what), "exe %s", mm->exe);
		a[1] = lx_rbatch_data(tid, mm->exe, exe_len, err);
		fd = a[1] ? lx_rbatch_add(tid, SYS_openat, a, exe_what, err) : -1;
		if (fd < 0)
			return -1;
	}
	if (auxv_len) {
		map.auxv = (__u64 *)(uintptr_t)lx_rbatch_data(tid, mm->auxv, auxv_len, err);
		map.auxv_size = (uint32_t)auxv_len;
		if (!map.auxv)
			return -1;
	}
	at = lx_rbatch_data(tid, &map, sizeof(map), err);
	if (!at || !lx_rbatch_data(tid, &pad, sizeof(pad), err) ||
	    (exe &&
	     lx_rbatch_result_to(tid, fd, at + offsetof(struct prctl_mm_map, exe_fd), err) < 0))
		return -1;
	memset(a, 0, sizeof(a));
	a[0] = PR_SET_MM;
	a[1] = PR_SET_MM_MAP;
	a[2] = at;
	a[3] = sizeof(map);
	/* the exe's fd, if any, is closed with the copy's other fds by lx_rst_files */
	return lx_rbatch_add(tid, SYS_prctl, a, what, err) < 0 ? -1 : 0;
}

int lx_rst_mm(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	struct lx_memmap m = {0};
	int rc;

	if (lx_memmap_read(rp->r.pid, false, &m, err) < 0)
		return -1;
	rc = lx_rst_rseq_queue(rp, err);
	if (rc == 0)
		rc = unmap_copy(rs, rp, &m, err);
	if (rc == 0)
		rc = vdso_restore(rs, rp, &m, err);
	lx_memmap_free(&m);
	if (rc < 0 || map_all(rs, rp, err) < 0 || mm_fields(rs, rp, err) < 0 ||
	    lx_rbatch_flush(rp->r.tid, err) < 0)
		return -1;
	return 0;
}

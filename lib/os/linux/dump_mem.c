// SPDX-License-Identifier: Apache-2.0
/* A process's memory: its areas from /proc/PID/smaps, and its present pages moved into the image
 * by code injected into the process (vmsplice, then splice into the pages file; parasite.h), or,
 * when that cannot be used, read with process_vm_readv into a reusable buffer and written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "image/image.h"
#include "os/linux/dump.h"
#include "os/linux/memmap.h"
#include "os/linux/pages.h"
#include "os/linux/parasite.h"

#define DUMP_BUF_SIZE (4u << 20) /* pages read per process_vm_readv batch */
#define DUMP_MAX_RANGES 1024	 /* ranges per batch */
#define DUMP_MT_MIN (16u << 20)	 /* pages of one process worth several files at once */
/* Pages of one process copied rather than spliced by injected code: that costs about 2 ms
 * (inject, cure) whatever the size, a copy about 10 ms a MiB on a VM (docs/benchmarks.md). */
#define DUMP_COPY_MAX (256u << 10)

static uint32_t vma_flags(const struct lx_area *a)
{
	static const uint32_t kind_flag[] = {
	    [LX_AREA_HEAP] = CR_VMA_HEAP,
	    [LX_AREA_STACK] = CR_VMA_STACK,
	    [LX_AREA_VDSO] = CR_VMA_VDSO,
	    [LX_AREA_VVAR] = CR_VMA_VVAR,
	    [LX_AREA_VVAR_VCLOCK] = CR_VMA_VVAR_VCLOCK,
	    [LX_AREA_VSYSCALL] = CR_VMA_VSYSCALL,
	};
	uint32_t f = 0;

	if (a->kind < ARRAY_SIZE(kind_flag))
		f |= kind_flag[a->kind];
	if (a->shared)
		f |= CR_VMA_SHARED;
	if (lx_area_is_anon(a) || lx_area_is_shmem(a))
		f |= CR_VMA_ANON;
	if (a->vmflags & LX_VM_GD)
		f |= CR_VMA_GROWSDOWN;
	if (a->vmflags & LX_VM_LO)
		f |= CR_VMA_LOCKED;
	if (a->vmflags & LX_VM_NR)
		f |= CR_VMA_NORESERVE;
	return f;
}

static uint32_t vma_madv(uint64_t vm)
{
	static const struct {
		uint64_t vm;
		uint32_t madv;
	} map[] = {
	    {LX_VM_DC, CR_MADV_DONTFORK},  {LX_VM_DD, CR_MADV_DONTDUMP},
	    {LX_VM_HG, CR_MADV_HUGEPAGE},  {LX_VM_NH, CR_MADV_NOHUGEPAGE},
	    {LX_VM_MG, CR_MADV_MERGEABLE}, {LX_VM_WF, CR_MADV_WIPEONFORK},
	    {LX_VM_RR, CR_MADV_RANDOM},	   {LX_VM_SR, CR_MADV_SEQUENTIAL},
	};
	uint32_t m = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (vm & map[i].vm)
			m |= map[i].madv;
	return m;
}

/* One area into the model; refuses what a restore could not rebuild yet. */
static int area_to_vma(const struct lx_area *a, struct cr_vma *v, ferry_err_t *err)
{
	const char *what = NULL;

	if (a->kind == LX_AREA_SPECIAL)
		what = "a special kernel area";
	else if (a->kind == LX_AREA_FILE && a->deleted && !lx_area_is_shmem(a))
		what = "a deleted mapped file";
	else if (a->kind == LX_AREA_FILE && (a->vmflags & (LX_VM_IO | LX_VM_PF)))
		what = "device memory";
	if (what)
		return ferry_error(err, ENOTSUP,
				   "memory area %llx-%llx (%s): %s: not supported yet",
				   (unsigned long long)a->start, (unsigned long long)a->end,
				   a->path ? a->path : "", what);
	*v = (struct cr_vma){
	    .start = a->start,
	    .end = a->end,
	    .prot = (uint32_t)a->prot & CR_PROT_ALL,
	    .flags = vma_flags(a),
	    .madv = vma_madv(a->vmflags),
	};
	if (a->kind == LX_AREA_FILE) {
		v->pgoff = a->offset;
		v->dev = makedev(a->dev_major, a->dev_minor);
		v->ino = a->inode;
		v->path = strdup(a->path);
		if (!v->path)
			return ferry_error(err, ENOMEM, "memory area %s", a->path);
	}
	return 0;
}

/* The id of a shmem object in the image: its kind and inode (a SysV segment's inode is its id,
 * which may be 0). */
static uint64_t shm_object_id(const struct lx_area *a)
{
	uint64_t kind = a->kind == LX_AREA_SYSV	   ? CR_SHM_SYSV
			: a->kind == LX_AREA_MEMFD ? CR_SHM_MEMFD
						   : CR_SHM_ANON;

	return kind << 56 | (a->inode + 1);
}

/* Writes the contents of a shmem object (its data ranges, SEEK_DATA/SEEK_HOLE) into s->pages;
 * returns 0 or -1. */
static int shm_pages(struct lx_dump_ctx *ctx, int fd, struct cr_shm *s, ferry_err_t *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	off_t at = 0, end;

	while (at < (off_t)s->size && (at = lseek(fd, at, SEEK_DATA)) >= 0) {
		end = lseek(fd, at, SEEK_HOLE);
		if (end < 0 || end > (off_t)s->size)
			end = (off_t)s->size;
		if (!buf && !(buf = malloc(DUMP_BUF_SIZE)))
			return ferry_error(err, ENOMEM, "shared memory");
		if (!ctx->pages_id)
			ctx->pages_id = image_writer_new_pages_id(ctx->w);
		s->pages.pages_id = ctx->pages_id;
		while (at < end) {
			size_t len =
			    (size_t)(end - at) < DUMP_BUF_SIZE ? (size_t)(end - at) : DUMP_BUF_SIZE;
			ssize_t n = pread(fd, buf, len, at);

			if (n <= 0)
				return ferry_error_errno(err, "read shared memory");
			len = ((size_t)n + CR_PAGE_SIZE - 1) / CR_PAGE_SIZE * CR_PAGE_SIZE;
			if ((size_t)n < len)
				memset(buf + n, 0, len - (size_t)n);
			if (image_write_pages(ctx->w, &s->pages, (uint64_t)at, buf,
					      len / CR_PAGE_SIZE, err) < 0)
				return -1;
			ctx->stats->pages += len / CR_PAGE_SIZE;
			ctx->stats->bytes += len;
			at += (off_t)len;
		}
	}
	if (at < 0 && errno != ENXIO)
		return ferry_error_errno(err, "find the data of shared memory");
	return 0;
}

/* Fills the facts of a new shmem object from its file (opened through map_files). */
static int shm_facts(const struct lx_area *a, int fd, struct cr_shm *s, ferry_err_t *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ferry_error_errno(err, "shared memory");
	s->size = (uint64_t)st.st_size;
	s->mode = st.st_mode & 07777;
	if (a->kind == LX_AREA_MEMFD) {
		int seals = fcntl(fd, F_GET_SEALS);

		s->seals = seals > 0 ? (uint32_t)seals : 0;
		s->name = strdup(a->name ? a->name : "");
		if (!s->name)
			return ferry_error(err, ENOMEM, "memfd");
	} else if (a->kind == LX_AREA_SYSV) {
		struct shmid_ds ds;

		if (shmctl((int)a->inode, IPC_STAT, &ds) < 0)
			return ferry_error_errno(err, "SysV shared memory %llu",
						 (unsigned long long)a->inode);
		s->key = (int32_t)ds.shm_perm.__key;
		s->mode = ds.shm_perm.mode;
		s->size = ds.shm_segsz;
	}
	return 0;
}

/* Adds the shmem object behind a to the image once (facts and contents); returns 0 or -1. */
static int shm_object(struct lx_dump_ctx *ctx, pid_t pid, const struct lx_area *a, uint64_t id,
		      ferry_err_t *err)
{
	struct cr_image *img = ctx->img;
	struct cr_shm *v, *s;
	char path[96];
	_cleanup_close_ int fd = -1;

	for (size_t i = 0; i < img->n_shm; i++)
		if (img->shm[i].id == id)
			return 0;
	v = realloc(img->shm, (img->n_shm + 1) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "shared memory");
	img->shm = v;
	s = &v[img->n_shm++];
	*s = (struct cr_shm){.id = id, .kind = (enum cr_shm_kind)(id >> 56)};
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)a->start, (unsigned long long)a->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", path);
	if (shm_facts(a, fd, s, err) < 0 || shm_pages(ctx, fd, s, err) < 0)
		return ferry_error_wrap(err, "shared memory at 0x%llx",
					(unsigned long long)a->start);
	return 0;
}

static int dump_areas(struct lx_dump_ctx *ctx, struct cr_process *p, const struct lx_memmap *m,
		      ferry_err_t *err)
{
	p->vmas = calloc(m->n ? m->n : 1, sizeof(*p->vmas));
	if (!p->vmas)
		return ferry_error(err, ENOMEM, "memory areas");
	for (size_t i = 0; i < m->n; i++) {
		const struct lx_area *a = &m->areas[i];

		if (area_to_vma(a, &p->vmas[i], err) < 0)
			return -1;
		p->n_vmas = i + 1;
		if (!lx_area_is_shmem(a))
			continue;
		p->vmas[i].shm_id = shm_object_id(a);
		if (shm_object(ctx, p->pid, a, p->vmas[i].shm_id, err) < 0)
			return -1;
	}
	return 0;
}

/* The ranges of present pages of every area but shared shmem ones (dumped with their object). */
static int find_pages(struct lx_pagemap *pm, const struct lx_memmap *m, struct lx_page_list *l,
		      ferry_err_t *err)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct lx_area *a = &m->areas[i];

		if (a->shared && lx_area_is_shmem(a))
			continue;
		if (lx_pages_find(pm, a, l, err) < 0)
			return -1;
	}
	return 0;
}

/* Writing one process's pages: through the code injected into it when that can be used (its
 * pages vmspliced into a pipe and spliced into the pages file, never copied through ferry; up to
 * LX_PARASITE_QUEUE batches in flight, so that the process checksums and vmsplices one while
 * ferry splices the other), else read with process_vm_readv into buf and written. */
struct pages_out {
	struct lx_dump_ctx *ctx;
	struct cr_process *p;
	const struct lx_memmap *m;
	struct lx_parasite ps; /* ps.r.pid 0: not injected */
	size_t area;	       /* cursor into m->areas for readable() */
	uint8_t *buf;	       /* mapped, buf_size bytes */
	size_t buf_size;
	int fd; /* the pages file while batches are in flight */
	struct lx_page_range sent[LX_PARASITE_QUEUE][LX_PARASITE_MAX_RANGES];
};

/* Whether every area under [start, end) is readable by the process itself (vmsplice needs it;
 * ranges come in ascending order). */
static bool readable(struct pages_out *o, uint64_t start, uint64_t end)
{
	const struct lx_memmap *m = o->m;

	while (o->area < m->n && m->areas[o->area].end <= start)
		o->area++;
	for (size_t i = o->area; i < m->n && m->areas[i].start < end; i++)
		if (!(m->areas[i].prot & PROT_READ))
			return false;
	return true;
}

static void progress(struct pages_out *o, const struct lx_page_range *r, size_t n)
{
	struct lx_dump_ctx *ctx = o->ctx;

	for (size_t i = 0; i < n; i++)
		ctx->pages_done += (r[i].end - r[i].start) / CR_PAGE_SIZE;
	if (ctx->req->progress)
		ctx->req->progress(ctx->req->progress_arg, "memory", ctx->pages_done,
				   ctx->pages_seen);
}

/* Reads the batch r[0..n) (bytes total) and writes it as runs; returns 0 or -1. */
static int copy_batch(struct pages_out *o, const struct lx_page_range *r, size_t n, size_t bytes,
		      ferry_err_t *err)
{
	size_t off = 0;

	if (lx_pages_read(o->p->pid, r, n, o->buf, bytes, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t nr = (r[i].end - r[i].start) / CR_PAGE_SIZE;

		if (image_write_pages(o->ctx->w, &o->p->pages, r[i].start, o->buf + off, nr, err) <
		    0)
			return -1;
		off += nr * CR_PAGE_SIZE;
	}
	progress(o, r, n);
	return 0;
}

/* The injected code failed before any byte reached the file: removes it and copies the
 * batches in flight instead (the next ones are copied too); returns 0 or -1. */
static int fall_back(struct pages_out *o, ferry_err_t *why, ferry_err_t *err)
{
	size_t q = o->ps.queued, n[LX_PARASITE_QUEUE];

	ferry_log(FERRY_LOG_DEBUG, "pages of process %d copied from 0x%llx: %s", o->p->pid,
		  (unsigned long long)o->sent[0][0].start, (*why)->msg);
	ferry_error_free(why);
	for (size_t i = 0; i < q; i++)
		n[i] = o->ps.queue[i].n;
	if (lx_parasite_cure(&o->ps, err) < 0)
		return -1;
	for (size_t i = 0; i < q; i++) {
		size_t bytes = 0;

		for (size_t j = 0; j < n[i]; j++)
			bytes += o->sent[i][j].end - o->sent[i][j].start;
		if (copy_batch(o, o->sent[i], n[i], bytes, err) < 0)
			return -1;
	}
	return 0;
}

/* Moves the oldest batch in flight from the pipe into the pages file and records its runs;
 * returns 0 or -1. */
static int receive_batch(struct pages_out *o, ferry_err_t *err)
{
	uint32_t crc[LX_PARASITE_MAX_RANGES];
	const struct lx_page_range *r = o->sent[0];
	size_t n = o->ps.queue[0].n;
	ferry_err_t e = NULL;

	if (lx_parasite_receive(&o->ps, o->fd, crc, &e) < 0) {
		if (!o->ps.spliced)
			return fall_back(o, &e, err);
		if (err)
			*err = ferry_error_steal(&e);
		ferry_error_free(&e);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (image_pages_appended(o->ctx->w, &o->p->pages, r[i].start,
					 (r[i].end - r[i].start) / CR_PAGE_SIZE, crc[i], err) < 0)
			return -1;
	progress(o, r, n);
	memmove(o->sent[0], o->sent[1], sizeof(o->sent) - sizeof(o->sent[0]));
	return 0;
}

/* Receives every batch in flight; returns 0 or -1. */
static int receive_all(struct pages_out *o, ferry_err_t *err)
{
	while (o->ps.queued)
		if (receive_batch(o, err) < 0)
			return -1;
	return 0;
}

/* Sends the batch r[0..n) to the injected code (the queue has room); the checksum continues
 * from the previous batch when one is in flight. Returns 0 or -1. */
static int send_batch(struct pages_out *o, const struct lx_page_range *r, size_t n,
		      ferry_err_t *err)
{
	uint32_t crc_in;
	bool chained = o->ps.queued > 0;

	if (!chained) {
		o->fd = image_pages_append_fd(o->ctx->w, o->p->pages.pages_id, &crc_in, err);
		if (o->fd < 0)
			return -1;
	}
	memcpy(o->sent[o->ps.queued], r, n * sizeof(*r));
	return lx_parasite_send(&o->ps, 0, r, n, chained ? NULL : &crc_in, err);
}

/* Writes the batch r[0..n) (bytes total) one way or the other, receiving the oldest batch in
 * flight first when the queue is full; returns 0 or -1. */
static int write_batch(struct pages_out *o, const struct lx_page_range *r, size_t n, size_t bytes,
		       ferry_err_t *err)
{
	if (o->ps.r.pid && readable(o, r[0].start, r[n - 1].end)) {
		if (o->ps.queued == LX_PARASITE_QUEUE && receive_batch(o, err) < 0)
			return -1;
		if (o->ps.r.pid) /* still injected (not fallen back) */
			return send_batch(o, r, n, err);
	}
	if (receive_all(o, err) < 0)
		return -1;
	return copy_batch(o, r, n, bytes, err);
}

/* How many streams (pages files filled at once) the pages of l go in: one per online CPU, at most
 * LX_PARASITE_MAX_PIPES, for a large address space whose pages the process can all read itself;
 * else one. */
static size_t streams_for(struct pages_out *o, const struct lx_page_list *l)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cpus > LX_PARASITE_MAX_PIPES ? LX_PARASITE_MAX_PIPES
		   : cpus > 1			? (size_t)cpus
						: 1;

	if (l->bytes < DUMP_MT_MIN)
		return 1;
	for (size_t i = 0; n > 1 && i < l->n; i++)
		if (!readable(o, l->v[i].start, l->v[i].end))
			n = 1;
	o->area = 0;
	return n;
}

static void progress_mt(void *arg, const struct lx_page_range *r, size_t n)
{
	progress(arg, r, n);
}

/* The line of /proc/PID/cgroup (pid 0: ferry's own) naming the memory controller's cgroup (the
 * unified one without a v1 memory hierarchy) into buf; returns 0 or -1. */
static int memory_cgroup(pid_t pid, char *buf, size_t size)
{
	char path[64], line[4096];
	_cleanup_fclose_ FILE *f = NULL;
	bool found = false;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *c = strchr(line, ':');
		bool v1 = c && (strstr(c, ":memory:") == c || strstr(c, ",memory:") ||
				strstr(c, ":memory,"));

		if (v1 || (!found && !strncmp(line, "0::", 3))) {
			snprintf(buf, size, "%s", v1 ? c : line);
			found = true;
			if (v1)
				break;
		}
	}
	return found ? 0 : -1;
}

/* Whether the process's own threads may write its pages files (parasite.h): what it writes is
 * charged to its memory cgroup and bounded by its RLIMIT_FSIZE, so only when both are as for
 * ferry writing them itself (the same cgroup, no file size limit). */
static bool writers_fit(const struct cr_process *p)
{
	char mine[4096], theirs[4096];

	if (p->rlimits[RLIMIT_FSIZE].cur != CR_RLIM_INFINITY)
		return false;
	return memory_cgroup(0, mine, sizeof(mine)) == 0 &&
	       memory_cgroup(p->pid, theirs, sizeof(theirs)) == 0 && !strcmp(mine, theirs);
}

/* Injects the code into p through its first thread for n streams (its own threads writing them
 * when that fits, else n pipes); without it, pages are copied (logged). */
static void pages_out_start(struct pages_out *o, size_t n)
{
	bool writers = n > 1 && writers_fit(o->p);
	ferry_err_t e = NULL;

	if (o->p->n_threads == 0 || !o->p->threads)
		return;
	if (lx_parasite_start(&o->ps, o->m, o->p->pid, o->p->threads[0].tid, writers ? 0 : n,
			      writers ? n : 1, &e) < 0)
		ferry_log(FERRY_LOG_DEBUG, "pages of process %d copied: %s", o->p->pid, e->msg);
	else if (writers)
		ferry_log(FERRY_LOG_DEBUG, "pages of process %d: written by %zu of its threads",
			  o->p->pid, o->ps.n_writers);
	else
		ferry_log(FERRY_LOG_DEBUG, "pages of process %d: spliced from %zu pipes", o->p->pid,
			  o->ps.n_pipes);
	ferry_error_free(&e);
}

/* Writes every range of l, cutting ranges at the batch size; returns 0 or -1. */
static int write_pages(struct pages_out *o, const struct lx_page_list *l, ferry_err_t *err)
{
	_cleanup_free_ struct lx_page_range *batch = NULL;
	size_t nb = 0, bytes = 0, max = DUMP_MAX_RANGES, size = DUMP_BUF_SIZE;

	if (o->ps.r.pid)
		size = o->ps.pipe_size, max = LX_PARASITE_MAX_RANGES;
	size = l->bytes < size ? l->bytes : size;
	size = size ? size : CR_PAGE_SIZE;
	/* Copied pages go through it: its pages made at once, not one fault each. Else it serves
	 * only if the injected code fails. */
	o->buf_size = size;
	o->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | (o->ps.r.pid ? 0 : MAP_POPULATE), -1, 0);
	batch = calloc(max, sizeof(*batch));
	if (o->buf == MAP_FAILED || !batch) {
		o->buf = NULL;
		return ferry_error(err, ENOMEM, "pages");
	}
	for (size_t i = 0; i < l->n; i++) {
		uint64_t at = l->v[i].start;

		while (at < l->v[i].end) {
			uint64_t take = l->v[i].end - at;

			if (take > size - bytes)
				take = size - bytes;
			batch[nb++] = (struct lx_page_range){at, at + take};
			bytes += take, at += take;
			if (bytes == size || nb == max) {
				if (write_batch(o, batch, nb, bytes, err) < 0)
					return -1;
				nb = 0, bytes = 0;
			}
		}
	}
	if (nb && write_batch(o, batch, nb, bytes, err) < 0)
		return -1;
	return receive_all(o, err);
}

/* Writes the pages of l for p, injecting the code for it and removing it after; returns 0 or -1. */
static int dump_pages(struct lx_dump_ctx *ctx, struct cr_process *p, const struct lx_memmap *m,
		      const struct lx_page_list *l, ferry_err_t *err)
{
	_cleanup_free_ struct pages_out *o = calloc(1, sizeof(*o));
	int r;

	if (!o)
		return ferry_error(err, ENOMEM, "pages");
	uint64_t t0 = lx_dump_now_us(), t1, t2;

	*o = (struct pages_out){.ctx = ctx, .p = p, .m = m, .fd = -1};
	if (l->bytes > DUMP_COPY_MAX)
		pages_out_start(o, streams_for(o, l));
	else
		ferry_log(FERRY_LOG_DEBUG, "pages of process %d copied: %llu KiB", p->pid,
			  (unsigned long long)l->bytes >> 10);
	t1 = lx_dump_now_us();
	if (o->ps.r.pid && o->ps.n_pipes != 1) {
		const struct lx_pages_mt job = {ctx->w, &p->pages, progress_mt, o};

		r = lx_pages_mt(&o->ps, &job, l, err);
	} else {
		r = write_pages(o, l, err);
	}
	t2 = lx_dump_now_us();
	if (lx_parasite_cure(&o->ps, r < 0 ? NULL : err) < 0)
		r = -1;
	ferry_log(FERRY_LOG_DEBUG,
		  "pages of process %d: inject %.3f ms, write %.3f ms, cure %.3f ms", p->pid,
		  (double)(t1 - t0) / 1e3, (double)(t2 - t1) / 1e3,
		  (double)(lx_dump_now_us() - t2) / 1e3);
	if (o->buf)
		munmap(o->buf, o->buf_size);
	return r;
}

int lx_dump_memory(struct lx_dump_ctx *ctx, struct cr_process *p, ferry_err_t *err)
{
	struct lx_memmap m = {0};
	struct lx_pagemap pm = {0};
	struct lx_page_list l = {0};
	uint64_t t0 = lx_dump_now_us(), t1;
	int r = -1;

	if (lx_memmap_read(p->pid, true, &m, err) < 0 || dump_areas(ctx, p, &m, err) < 0)
		goto out;
	t1 = lx_dump_now_us();
	if (lx_pagemap_open(p->pid, 0, &pm, err) < 0 || find_pages(&pm, &m, &l, err) < 0)
		goto out;
	ferry_log(FERRY_LOG_DEBUG, "memory of process %d: map %.3f ms, pages found %.3f ms", p->pid,
		  (double)(t1 - t0) / 1e3, (double)(lx_dump_now_us() - t1) / 1e3);
	ctx->pages_seen += l.bytes / CR_PAGE_SIZE;
	if (l.n) {
		if (!ctx->pages_id)
			ctx->pages_id = image_writer_new_pages_id(ctx->w);
		p->pages.pages_id = ctx->pages_id;
		if (dump_pages(ctx, p, &m, &l, err) < 0)
			goto out;
	}
	ctx->stats->pages += l.bytes / CR_PAGE_SIZE;
	ctx->stats->bytes += l.bytes;
	ctx->stats->vmas += p->n_vmas;
	r = 0;
out:
	lx_page_list_free(&l);
	lx_pagemap_close(&pm);
	lx_memmap_free(&m);
	return r < 0 ? ferry_error_wrap(err, "process %d", p->pid) : 0;
}

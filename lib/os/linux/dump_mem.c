// SPDX-License-Identifier: Apache-2.0
/* A process's memory: its areas from /proc/PID/smaps, and its present pages read with
 * process_vm_readv into a reusable buffer and written to the image in large runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "core/cleanup.h"
#include "image/image.h"
#include "os/linux/dump.h"
#include "os/linux/memmap.h"
#include "os/linux/pages.h"

#define DUMP_BUF_SIZE (4u << 20) /* pages read per process_vm_readv batch */
#define DUMP_MAX_RANGES 1024	 /* ranges per batch */

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
	if (lx_area_is_anon(a))
		f |= CR_VMA_ANON;
	if (a->vmflags & LX_VM_GD)
		f |= CR_VMA_GROWSDOWN;
	if (a->vmflags & LX_VM_LO)
		f |= CR_VMA_LOCKED;
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

	if (lx_area_is_shmem(a))
		what = "shared memory";
	else if (a->kind == LX_AREA_SPECIAL)
		what = "a special kernel area";
	else if (a->kind == LX_AREA_FILE && a->deleted)
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

static int dump_areas(struct cr_process *p, const struct lx_memmap *m, ferry_err_t *err)
{
	p->vmas = calloc(m->n ? m->n : 1, sizeof(*p->vmas));
	if (!p->vmas)
		return ferry_error(err, ENOMEM, "memory areas");
	for (size_t i = 0; i < m->n; i++) {
		if (area_to_vma(&m->areas[i], &p->vmas[i], err) < 0)
			return -1;
		p->n_vmas = i + 1;
	}
	return 0;
}

/* Reads the batch ranges[0..n) (bytes total) and writes it as runs; returns 0 or -1. */
static int write_batch(struct lx_dump_ctx *ctx, struct cr_process *p, const struct lx_page_range *r,
		       size_t n, uint8_t *buf, size_t bytes, ferry_err_t *err)
{
	size_t off = 0;

	if (lx_pages_read(p->pid, r, n, buf, bytes, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t nr = (r[i].end - r[i].start) / CR_PAGE_SIZE;

		if (image_write_pages(ctx->w, &p->pages, r[i].start, buf + off, nr, err) < 0)
			return -1;
		off += nr * CR_PAGE_SIZE;
		ctx->pages_done += nr;
	}
	if (ctx->req->progress)
		ctx->req->progress(ctx->req->progress_arg, "memory", ctx->pages_done,
				   ctx->pages_seen);
	return 0;
}

/* Writes every range of l, cutting ranges at the buffer's size; returns 0 or -1. */
static int write_pages(struct lx_dump_ctx *ctx, struct cr_process *p, const struct lx_page_list *l,
		       ferry_err_t *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ struct lx_page_range *batch = NULL;
	size_t nb = 0, bytes = 0, size = l->bytes < DUMP_BUF_SIZE ? l->bytes : DUMP_BUF_SIZE;

	buf = malloc(size);
	batch = calloc(DUMP_MAX_RANGES, sizeof(*batch));
	if (!buf || !batch)
		return ferry_error(err, ENOMEM, "pages");
	for (size_t i = 0; i < l->n; i++) {
		uint64_t at = l->v[i].start;

		while (at < l->v[i].end) {
			uint64_t take = l->v[i].end - at;

			if (take > size - bytes)
				take = size - bytes;
			batch[nb++] = (struct lx_page_range){at, at + take};
			bytes += take, at += take;
			if (bytes == size || nb == DUMP_MAX_RANGES) {
				if (write_batch(ctx, p, batch, nb, buf, bytes, err) < 0)
					return -1;
				nb = 0, bytes = 0;
			}
		}
	}
	return nb ? write_batch(ctx, p, batch, nb, buf, bytes, err) : 0;
}

int lx_dump_memory(struct lx_dump_ctx *ctx, struct cr_process *p, ferry_err_t *err)
{
	struct lx_memmap m = {0};
	struct lx_pagemap pm = {0};
	struct lx_page_list l = {0};
	int r = -1;

	if (lx_memmap_read(p->pid, true, &m, err) < 0 || dump_areas(p, &m, err) < 0 ||
	    lx_pagemap_open(p->pid, 0, &pm, err) < 0 || lx_pages_find_all(&pm, &m, &l, err) < 0)
		goto out;
	ctx->pages_seen += l.bytes / CR_PAGE_SIZE;
	if (l.n) {
		if (!ctx->pages_id)
			ctx->pages_id = image_writer_new_pages_id(ctx->w);
		p->pages.pages_id = ctx->pages_id;
		if (write_pages(ctx, p, &l, err) < 0)
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

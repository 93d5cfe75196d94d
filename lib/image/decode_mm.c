// SPDX-License-Identifier: Apache-2.0
/* Memory records to the model: areas, page maps, shared objects, deleted-file contents. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "image/internal.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "shm.pb-c.h"

#define NOMEM(in, err) img_in_error((in), (err), "out of memory")
#define X(v) ((unsigned long long)(v))

static int dec_vma(struct img_in *in, struct cr_vma *a, const FerryImg__Vma *v,
		   const struct cr_vma *prev, ferry_err_t *err)
{
	const char *why;
	bool vsyscall = v->flags & CR_VMA_VSYSCALL;

	if (v->start % CR_PAGE_SIZE || v->end % CR_PAGE_SIZE || v->start >= v->end ||
	    (!vsyscall && v->end > IMG_USER_TOP) || (vsyscall && v->start != IMG_VSYSCALL))
		return img_in_error(in, err, "(vma 0x%llx-0x%llx): bad range", X(v->start),
				    X(v->end));
	if (prev && v->start < prev->end)
		return img_in_error(in, err, "(vma 0x%llx-0x%llx): overlaps record %u", X(v->start),
				    X(v->end), in->recno - 1);
	if (v->prot & ~CR_PROT_ALL || v->flags & ~CR_VMA_ALL || v->madv & ~CR_MADV_ALL)
		return img_in_error(in, err, "(vma 0x%llx-0x%llx): unknown prot, flags or madvise",
				    X(v->start), X(v->end));
	if (v->path && (why = img_path_problem(v->path)))
		return img_in_error(in, err, "(vma 0x%llx-0x%llx): path \"%.200s\": %s",
				    X(v->start), X(v->end), v->path, why);
	if (v->pgoff % CR_PAGE_SIZE || v->pgoff > UINT64_MAX - (v->end - v->start))
		return img_in_error(in, err, "(vma 0x%llx-0x%llx): bad file offset 0x%llx",
				    X(v->start), X(v->end), X(v->pgoff));
	*a = (struct cr_vma){v->start, v->end,	 v->prot, v->flags, v->madv,
			     NULL,     v->pgoff, v->dev,  v->ino,   v->has_shm_id ? v->shm_id : 0};
	if (v->path && !(a->path = strdup(v->path)))
		return NOMEM(in, err);
	return 0;
}

static int dec_mm_info(struct img_in *in, struct cr_process *p, const FerryImg__MmInfo *m,
		       ferry_err_t *err)
{
	const char *why;
	struct cr_mm *s = &p->mm;

	if (m->pid != p->pid)
		return img_in_error(in, err, "process %d, expected %d", m->pid, p->pid);
	if (m->n_auxv > IMG_MAX_AUXV || m->n_auxv % 2)
		return img_in_error(in, err, "auxv of %zu words", m->n_auxv);
	if (m->nr_vmas > IMG_MAX_VMAS)
		return img_in_error(in, err, "%u memory areas", m->nr_vmas);
	if (m->start_code > m->end_code || m->start_data > m->end_data || m->start_brk > m->brk ||
	    m->arg_start > m->arg_end || m->env_start > m->env_end)
		return img_in_error(in, err, "an mm range ends before it starts");
	if (m->exe && (why = img_path_problem(m->exe)))
		return img_in_error(in, err, "exe \"%.200s\": %s", m->exe, why);
	*s = (struct cr_mm){m->start_code,
			    m->end_code,
			    m->start_data,
			    m->end_data,
			    m->start_brk,
			    m->brk,
			    m->start_stack,
			    m->arg_start,
			    m->arg_end,
			    m->env_start,
			    m->env_end,
			    NULL,
			    0,
			    NULL};
	s->auxv = calloc(m->n_auxv + 1, sizeof(*s->auxv));
	if (!s->auxv || (m->exe && !(s->exe = strdup(m->exe))))
		return NOMEM(in, err);
	memcpy(s->auxv, m->auxv, m->n_auxv * sizeof(*s->auxv));
	s->n_auxv = m->n_auxv;
	p->vmas = calloc(m->nr_vmas + 1, sizeof(*p->vmas));
	return p->vmas ? 0 : NOMEM(in, err);
}

int dec_mm(struct img_in *in, struct cr_process *p, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__MmInfo *m = NULL;
	uint32_t want;
	int r = img_in_next(in, &ferry_img__mm_info__descriptor, (void *)&m, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: no MmInfo record", in->name);
	if (r < 0 || dec_mm_info(in, p, m, err) < 0)
		return -1;
	want = m->nr_vmas;
	for (;;) {
		_cleanup_pb_ FerryImg__Vma *v = NULL;
		const struct cr_vma *prev = p->n_vmas ? &p->vmas[p->n_vmas - 1] : NULL;

		r = img_in_next(in, &ferry_img__vma__descriptor, (void *)&v, err);
		if (r <= 0)
			break;
		if (p->n_vmas == want)
			return img_in_error(in, err, "more areas than the %u announced", want);
		if (dec_vma(in, &p->vmas[p->n_vmas], v, prev, err) < 0)
			return -1;
		p->n_vmas++;
	}
	if (r == 0 && p->n_vmas != want)
		return ferry_error(err, 0, "%s: %zu areas, %u announced (truncated?)", in->name,
				   p->n_vmas, want);
	return r;
}

/* The first area ending above addr (areas sorted), or NULL. */
static const struct cr_vma *vma_above(const struct cr_process *p, uint64_t addr)
{
	size_t lo = 0, hi = p->n_vmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < p->n_vmas ? &p->vmas[lo] : NULL;
}

/* Is [start, end) covered by areas with no gap? */
static bool covered(const struct cr_process *p, uint64_t start, uint64_t end)
{
	while (start < end) {
		const struct cr_vma *a = vma_above(p, start);

		if (!a || a->start > start)
			return false;
		start = a->end;
	}
	return true;
}

/* Checks one run against the previous one, the limit of its addresses and its pages file. */
static int check_run(struct img_in *in, const struct cr_page_run *r, const struct cr_page_run *prev,
		     uint64_t limit, uint32_t pages_id, int64_t data_size, ferry_err_t *err)
{
	uint64_t bytes = r->nr_pages * CR_PAGE_SIZE;

	if (r->nr_pages == 0 || r->nr_pages > limit / CR_PAGE_SIZE || r->vaddr % CR_PAGE_SIZE ||
	    r->offset % CR_PAGE_SIZE || r->vaddr > limit - bytes)
		return img_in_error(in, err, "(run 0x%llx + %llu pages): bad range", X(r->vaddr),
				    X(r->nr_pages));
	if (prev && r->vaddr < prev->vaddr + prev->nr_pages * CR_PAGE_SIZE)
		return img_in_error(in, err, "(run 0x%llx + %llu pages): overlaps record %u",
				    X(r->vaddr), X(r->nr_pages), in->recno - 1);
	if (data_size < 0 || r->offset > (uint64_t)data_size ||
	    bytes > (uint64_t)data_size - r->offset)
		return img_in_error(in, err,
				    "(run 0x%llx + %llu pages): offset 0x%llx points outside "
				    "pages-%u.img (%lld bytes of pages)",
				    X(r->vaddr), X(r->nr_pages), X(r->offset), pages_id,
				    (long long)data_size);
	return 0;
}

#define RUN_FILES_MAX 8 /* pages files one pagemap may spread its runs over */

/* The pages files a pagemap's runs use so far, each with the end of its last run. */
struct run_files {
	uint32_t id[RUN_FILES_MAX];
	uint64_t end[RUN_FILES_MAX];
	int64_t size[RUN_FILES_MAX];
	size_t n;
};

/* Checks that run e of the pagemap headed by h lies inside its own pages file, after the
 * previous run of that file, and fills *run; returns 0 or -1. */
static int dec_run(struct img_in *in, const FerryImg__PagemapHead *h, const FerryImg__PageRun *e,
		   struct run_files *f, const struct cr_page_run *prev,
		   int64_t (*pages_size)(void *, uint32_t), void *ctx, struct cr_page_run *run,
		   ferry_err_t *err)
{
	uint32_t id = e->has_pages_id ? e->pages_id : h->pages_id;
	size_t k = 0;

	if (id == 0)
		return img_in_error(in, err, "(run 0x%llx): pages file 0", X(e->vaddr));
	while (k < f->n && f->id[k] != id)
		k++;
	if (k == f->n) {
		if (f->n == RUN_FILES_MAX)
			return img_in_error(in, err, "runs in more than %d pages files",
					    RUN_FILES_MAX);
		f->id[k] = id, f->end[k] = 0, f->size[k] = pages_size(ctx, id);
		f->n++;
	}
	*run = (struct cr_page_run){e->vaddr, e->nr_pages, e->offset, id == h->pages_id ? 0 : id};
	if (check_run(in, run, prev, IMG_USER_TOP, id, f->size[k], err) < 0)
		return -1;
	if (run->offset < f->end[k])
		return img_in_error(
		    in, err,
		    "(run 0x%llx + %llu pages): offset 0x%llx overlaps the previous "
		    "run of pages-%u.img",
		    X(run->vaddr), X(run->nr_pages), X(run->offset), id);
	f->end[k] = run->offset + run->nr_pages * CR_PAGE_SIZE;
	return 0;
}

int dec_pagemap(struct img_in *in, struct cr_process *p, int64_t (*pages_size)(void *, uint32_t),
		void *ctx, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__PagemapHead *h = NULL;
	struct cr_pagemap *pm = &p->pages;
	struct run_files files = {.n = 0};
	int r = img_in_next(in, &ferry_img__pagemap_head__descriptor, (void *)&h, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: no PagemapHead record", in->name);
	if (r < 0)
		return -1;
	if (h->pid != p->pid || h->nr_runs > IMG_MAX_RUNS || (h->nr_runs && !h->pages_id))
		return img_in_error(in, err, "process %d, %u runs in pages file %u", h->pid,
				    h->nr_runs, h->pages_id);
	pm->pages_id = h->pages_id;
	pm->runs = calloc(h->nr_runs + 1, sizeof(*pm->runs));
	if (!pm->runs)
		return NOMEM(in, err);
	pm->cap_runs = h->nr_runs;
	for (;;) {
		_cleanup_pb_ FerryImg__PageRun *e = NULL;
		struct cr_page_run run;

		r = img_in_next(in, &ferry_img__page_run__descriptor, (void *)&e, err);
		if (r <= 0)
			break;
		if (pm->n_runs == h->nr_runs)
			return img_in_error(in, err, "more runs than the %u announced", h->nr_runs);
		if (dec_run(in, h, e, &files, pm->n_runs ? &pm->runs[pm->n_runs - 1] : NULL,
			    pages_size, ctx, &run, err) < 0)
			return -1;
		if (!covered(p, run.vaddr, run.vaddr + run.nr_pages * CR_PAGE_SIZE))
			return img_in_error(in, err,
					    "(run 0x%llx + %llu pages): not inside the "
					    "memory areas of mm-%d.img",
					    X(run.vaddr), X(run.nr_pages), p->pid);
		pm->runs[pm->n_runs++] = run;
	}
	if (r == 0 && pm->n_runs != h->nr_runs)
		return ferry_error(err, 0, "%s: %zu runs, %u announced (truncated?)", in->name,
				   pm->n_runs, h->nr_runs);
	return r;
}

static int dec_shm_entry(struct img_in *in, struct cr_shm *s, const FerryImg__ShmEntry *e,
			 int64_t (*pages_size)(void *, uint32_t), void *ctx, ferry_err_t *err)
{
	int64_t size;

	if (e->id == 0 || e->kind < CR_SHM_ANON || e->kind > CR_SHM_KIND_MAX ||
	    e->size > IMG_USER_TOP || e->n_runs > IMG_MAX_RUNS || (e->n_runs && !e->pages_id))
		return img_in_error(in, err, "(shm %llu): bad id, kind, size or page count",
				    X(e->id));
	*s = (struct cr_shm){.id = e->id,
			     .kind = e->kind,
			     .size = e->size,
			     .key = e->has_key ? e->key : 0,
			     .mode = e->mode,
			     .seals = e->has_seals ? e->seals : 0};
	if (e->name && strlen(e->name) > IMG_MAX_PATH)
		return img_in_error(in, err, "(shm %llu): name too long", X(e->id));
	if (e->name && !(s->name = strdup(e->name)))
		return NOMEM(in, err);
	size = e->pages_id ? pages_size(ctx, e->pages_id) : 0;
	s->pages.pages_id = e->pages_id;
	s->pages.runs = calloc(e->n_runs + 1, sizeof(*s->pages.runs));
	if (!s->pages.runs)
		return NOMEM(in, err);
	for (size_t i = 0; i < e->n_runs; i++) {
		struct cr_page_run run = {e->runs[i]->vaddr, e->runs[i]->nr_pages,
					  e->runs[i]->offset, 0};

		if (e->runs[i]->has_pages_id && e->runs[i]->pages_id != e->pages_id)
			return img_in_error(in, err, "(shm %llu): a run in another pages file",
					    X(e->id));

		if (check_run(in, &run, i ? &s->pages.runs[i - 1] : NULL,
			      (e->size + CR_PAGE_SIZE - 1) / CR_PAGE_SIZE * CR_PAGE_SIZE,
			      e->pages_id, size, err) < 0)
			return -1;
		s->pages.runs[s->pages.n_runs++] = run;
	}
	s->pages.cap_runs = e->n_runs;
	return 0;
}

int dec_shm(struct img_in *in, struct cr_image *img, int64_t (*pages_size)(void *, uint32_t),
	    void *ctx, ferry_err_t *err)
{
	int r;

	for (;;) {
		_cleanup_pb_ FerryImg__ShmEntry *e = NULL;
		struct cr_shm *s;

		r = img_in_next(in, &ferry_img__shm_entry__descriptor, (void *)&e, err);
		if (r <= 0)
			return r;
		if (img->n_shm == IMG_MAX_LIST)
			return img_in_error(in, err, "too many shared memory objects");
		s = realloc(img->shm, (img->n_shm + 1) * sizeof(*s));
		if (!s)
			return NOMEM(in, err);
		img->shm = s;
		s = &img->shm[img->n_shm];
		memset(s, 0, sizeof(*s));
		img->n_shm++;
		for (size_t i = 0; i + 1 < img->n_shm; i++)
			if (img->shm[i].id == e->id)
				return img_in_error(in, err, "(shm %llu): id used twice", X(e->id));
		if (dec_shm_entry(in, s, e, pages_size, ctx, err) < 0)
			return -1;
	}
}

int dec_ghost(struct img_in *in, struct cr_ghost *g, uint64_t id, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__GhostHead *h = NULL;
	int r = img_in_next(in, &ferry_img__ghost_head__descriptor, (void *)&h, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: no GhostHead record", in->name);
	if (r < 0)
		return -1;
	if (h->id != id || h->size > in->len)
		return img_in_error(in, err, "ghost %llu of %llu bytes in a file of %zu", X(h->id),
				    X(h->size), in->len);
	*g = (struct cr_ghost){.id = id, .mode = h->mode};
	g->data.data = malloc(h->size + 1);
	if (!g->data.data)
		return NOMEM(in, err);
	for (;;) {
		_cleanup_pb_ FerryImg__GhostChunk *c = NULL;

		r = img_in_next(in, &ferry_img__ghost_chunk__descriptor, (void *)&c, err);
		if (r <= 0)
			break;
		if (c->data.len > h->size - g->data.len)
			return img_in_error(in, err, "more contents than the %llu bytes announced",
					    X(h->size));
		memcpy(g->data.data + g->data.len, c->data.data, c->data.len);
		g->data.len += c->data.len;
	}
	if (r == 0 && g->data.len != h->size)
		return ferry_error(err, 0, "%s: %zu bytes of contents, %llu announced", in->name,
				   g->data.len, X(h->size));
	return r;
}

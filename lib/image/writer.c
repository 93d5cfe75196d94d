// SPDX-License-Identifier: Apache-2.0
/* The image writer: record files, pages files, and the inventory that seals them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image/internal.h"
#include "inventory.pb-c.h"

struct file_sum {
	char name[IMG_NAME_MAX];
	uint64_t size;
	uint32_t crc;
};

struct pages_out {
	uint32_t id;
	uint64_t data_size;
	struct img_out *out;
};

struct image_writer {
	int dirfd;
	struct img_out *pstree, *files, *shm;
	struct pages_out *pages;
	size_t n_pages;
	uint32_t next_pages_id;
	struct file_sum *sums;
	size_t n_sums, cap_sums;
};

static int add_sum(struct image_writer *w, const struct img_out *o, ferry_err_t *err)
{
	if (w->n_sums == w->cap_sums) {
		size_t cap = w->cap_sums ? 2 * w->cap_sums : 64;
		struct file_sum *s = realloc(w->sums, cap * sizeof(*s));

		if (!s)
			return ferry_error(err, ENOMEM, "%s", o->name);
		w->sums = s, w->cap_sums = cap;
	}
	snprintf(w->sums[w->n_sums].name, IMG_NAME_MAX, "%s", o->name);
	w->sums[w->n_sums].size = o->size;
	w->sums[w->n_sums++].crc = o->crc;
	return 0;
}

/* Closes o, records its checksum and frees it; returns 0 or -1. */
static int finish(struct image_writer *w, struct img_out **po, ferry_err_t *err)
{
	struct img_out *o = *po;
	int r;

	if (!o)
		return 0;
	r = img_out_close(o, err);
	if (r == 0)
		r = add_sum(w, o, err);
	free(o);
	*po = NULL;
	return r;
}

static struct img_out *open_out(struct image_writer *w, const char *name, enum img_kind kind,
				ferry_err_t *err)
{
	struct img_out *o = malloc(sizeof(*o));

	if (!o) {
		ferry_error(err, ENOMEM, "%s", name);
		return NULL;
	}
	if (img_out_open(o, w->dirfd, name, kind, err) < 0) {
		if (o->fd >= 0)
			close(o->fd);
		free(o);
		return NULL;
	}
	return o;
}

struct image_writer *image_writer_open(const char *dir, ferry_err_t *err)
{
	struct image_writer *w = calloc(1, sizeof(*w));
	_cleanup_free_ char *path = NULL;

	if (!w) {
		ferry_error(err, ENOMEM, "image %s", dir);
		return NULL;
	}
	w->dirfd = -1;
	w->next_pages_id = 1;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ferry_error_errno(err, "image %s: mkdir", dir);
		goto fail;
	}
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		ferry_error_errno(err, "image %s", dir);
		goto fail;
	}
	w->pstree = open_out(w, "pstree.img", IMG_PSTREE, err);
	if (w->pstree)
		w->files = open_out(w, "files.img", IMG_FILES, err);
	if (w->files)
		w->shm = open_out(w, "shm.img", IMG_SHM, err);
	if (!w->shm) {
		ferry_error_wrap(err, "image %s", dir);
		goto fail;
	}
	return w;
fail:
	image_writer_abort(w);
	return NULL;
}

uint32_t image_writer_new_pages_id(struct image_writer *w)
{
	return w->next_pages_id++;
}

static struct pages_out *pages_out(struct image_writer *w, uint32_t id, ferry_err_t *err)
{
	static const uint8_t zeros[IMAGE_PAGES_DATA_START - IMG_HEADER_SIZE];
	struct pages_out *p;
	char name[IMG_NAME_MAX];

	for (size_t i = 0; i < w->n_pages; i++)
		if (w->pages[i].id == id)
			return &w->pages[i];
	if (id == 0) {
		ferry_error(err, 0, "pages: pages id 0 is reserved for \"no pages\"");
		return NULL;
	}
	p = realloc(w->pages, (w->n_pages + 1) * sizeof(*p));
	if (!p) {
		ferry_error(err, ENOMEM, "pages-%u.img", id);
		return NULL;
	}
	w->pages = p;
	p = &w->pages[w->n_pages];
	snprintf(name, sizeof(name), "pages-%u.img", id);
	*p = (struct pages_out){.id = id, .out = open_out(w, name, IMG_PAGES, err)};
	if (!p->out)
		return NULL;
	if (img_out_write(p->out, zeros, sizeof(zeros), err) < 0) {
		img_out_close(p->out, err);
		free(p->out);
		return NULL;
	}
	if (id >= w->next_pages_id)
		w->next_pages_id = id + 1;
	w->n_pages++;
	return p;
}

static int add_run(struct cr_pagemap *pm, uint64_t vaddr, uint64_t nr, uint64_t offset, uint32_t id,
		   ferry_err_t *err)
{
	struct cr_page_run *last = pm->n_runs ? &pm->runs[pm->n_runs - 1] : NULL;

	if (last && vaddr < last->vaddr + last->nr_pages * CR_PAGE_SIZE)
		return ferry_error(err, 0, "pages: run at 0x%llx is below the previous run's end",
				   (unsigned long long)vaddr);
	if (id == pm->pages_id)
		id = 0;
	if (last && vaddr == last->vaddr + last->nr_pages * CR_PAGE_SIZE && id == last->pages_id &&
	    offset == last->offset + last->nr_pages * CR_PAGE_SIZE) {
		last->nr_pages += nr;
		return 0;
	}
	if (pm->n_runs == pm->cap_runs) {
		size_t cap = pm->cap_runs ? 2 * pm->cap_runs : 16;
		struct cr_page_run *r = realloc(pm->runs, cap * sizeof(*r));

		if (!r)
			return ferry_error(err, ENOMEM, "pages");
		pm->runs = r, pm->cap_runs = cap;
	}
	pm->runs[pm->n_runs++] = (struct cr_page_run){vaddr, nr, offset, id};
	return 0;
}

int image_write_pages(struct image_writer *w, struct cr_pagemap *pm, uint64_t vaddr,
		      const void *data, uint64_t nr_pages, ferry_err_t *err)
{
	struct pages_out *p;
	uint64_t offset;

	if (vaddr % CR_PAGE_SIZE || nr_pages == 0 || nr_pages > SIZE_MAX / CR_PAGE_SIZE)
		return ferry_error(err, 0, "pages: bad run 0x%llx + %llu pages",
				   (unsigned long long)vaddr, (unsigned long long)nr_pages);
	p = pages_out(w, pm->pages_id, err);
	if (!p)
		return -1;
	offset = p->data_size;
	if (add_run(pm, vaddr, nr_pages, offset, 0, err) < 0 ||
	    img_out_write(p->out, data, nr_pages * CR_PAGE_SIZE, err) < 0)
		return -1;
	p->data_size += nr_pages * CR_PAGE_SIZE;
	return 0;
}

int image_pages_append_fd(struct image_writer *w, uint32_t pages_id, uint32_t *crc,
			  ferry_err_t *err)
{
	struct pages_out *p = pages_out(w, pages_id, err);
	struct img_out *o;
	size_t done = 0;

	if (!p)
		return -1;
	o = p->out;
	while (done < o->blen) {
		ssize_t n = write(o->fd, o->buf + done, o->blen - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ferry_error_errno(err, "%s: write", o->name);
		done += (size_t)n;
	}
	o->blen = 0;
	*crc = o->crc;
	return o->fd;
}

int image_pages_appended(struct image_writer *w, struct cr_pagemap *pm, uint64_t vaddr,
			 uint64_t nr_pages, uint32_t crc, ferry_err_t *err)
{
	return image_pages_appended_to(w, pm, pm->pages_id, vaddr, nr_pages, crc, err);
}

int image_pages_appended_to(struct image_writer *w, struct cr_pagemap *pm, uint32_t pages_id,
			    uint64_t vaddr, uint64_t nr_pages, uint32_t crc, ferry_err_t *err)
{
	struct pages_out *p;

	if (vaddr % CR_PAGE_SIZE || nr_pages == 0 || nr_pages > SIZE_MAX / CR_PAGE_SIZE)
		return ferry_error(err, 0, "pages: bad run 0x%llx + %llu pages",
				   (unsigned long long)vaddr, (unsigned long long)nr_pages);
	p = pages_out(w, pages_id, err);
	if (!p)
		return -1;
	if (add_run(pm, vaddr, nr_pages, p->data_size, pages_id, err) < 0)
		return -1;
	p->data_size += nr_pages * CR_PAGE_SIZE;
	p->out->size += nr_pages * CR_PAGE_SIZE;
	p->out->crc = crc;
	return 0;
}

/* Opens name, lets fn add its records, closes it; returns 0 or -1. */
#define WRITE_FILE(w, err, kind, call, ...)                  \
	({                                                   \
		char _name[IMG_NAME_MAX];                    \
		struct img_out *_o;                          \
		int _r = -1;                                 \
		snprintf(_name, sizeof(_name), __VA_ARGS__); \
		_o = open_out((w), _name, (kind), (err));    \
		if (_o) {                                    \
			_r = (call);                         \
			if (finish((w), &_o, (err)) < 0)     \
				_r = -1;                     \
		}                                            \
		_r;                                          \
	})

int image_write_process(struct image_writer *w, const struct cr_process *p, ferry_err_t *err)
{
	if (enc_pstree(w->pstree, p, err) < 0 ||
	    WRITE_FILE(w, err, IMG_PROC, enc_proc(_o, p, err), "proc-%d.img", p->pid) < 0 ||
	    WRITE_FILE(w, err, IMG_MM, enc_mm(_o, p, err), "mm-%d.img", p->pid) < 0 ||
	    WRITE_FILE(w, err, IMG_PAGEMAP, enc_pagemap(_o, p->pid, &p->pages, err),
		       "pagemap-%d.img", p->pid) < 0)
		return ferry_error_wrap(err, "process %d", p->pid);
	for (size_t i = 0; i < p->n_threads; i++) {
		const struct cr_thread *t = &p->threads[i];

		if (WRITE_FILE(w, err, IMG_CORE, enc_thread(_o, t, err), "core-%d.img", t->tid) < 0)
			return ferry_error_wrap(err, "process %d", p->pid);
	}
	for (size_t i = 0; i < p->n_fds; i++)
		if (enc_fd(w->files, p->pid, &p->fds[i], err) < 0)
			return ferry_error_wrap(err, "process %d", p->pid);
	return 0;
}

int image_write_shm(struct image_writer *w, const struct cr_shm *shm, ferry_err_t *err)
{
	return enc_shm(w->shm, shm, err);
}

int image_write_ghost(struct image_writer *w, const struct cr_ghost *g, ferry_err_t *err)
{
	return WRITE_FILE(w, err, IMG_GHOST, enc_ghost(_o, g, err), "ghost-%llu.img",
			  (unsigned long long)g->id);
}

int image_write_all(struct image_writer *w, const struct cr_image *img, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++)
		if (image_write_process(w, &img->procs[i], err) < 0)
			return -1;
	for (size_t i = 0; i < img->n_shm; i++)
		if (image_write_shm(w, &img->shm[i], err) < 0)
			return -1;
	for (size_t i = 0; i < img->n_ghosts; i++)
		if (image_write_ghost(w, &img->ghosts[i], err) < 0)
			return -1;
	if (img->container &&
	    WRITE_FILE(w, err, IMG_CONTAINER, enc_container(_o, img->container, err),
		       "container.img") < 0)
		return -1;
	return 0;
}

static int write_inventory(struct image_writer *w, const struct cr_host *host, int32_t root_pid,
			   ferry_err_t *err)
{
	FerryImg__Inventory inv = FERRY_IMG__INVENTORY__INIT;
	FerryImg__Seal seal = FERRY_IMG__SEAL__INIT;
	size_t nv = host->n_vdso, nf = w->n_sums;
	_cleanup_free_ FerryImg__VdsoArea *v = calloc(nv + 1, sizeof(*v));
	_cleanup_free_ FerryImg__VdsoArea **vp = calloc(nv + 1, sizeof(*vp));
	_cleanup_free_ FerryImg__FileSum *f = calloc(nf + 1, sizeof(*f));
	_cleanup_free_ FerryImg__FileSum **fp = calloc(nf + 1, sizeof(*fp));
	struct img_out *o;
	int r;

	if (!v || !vp || !f || !fp)
		return ferry_error(err, ENOMEM, "inventory.img");
	for (size_t i = 0; i < nv; i++) {
		ferry_img__vdso_area__init(&v[i]);
		v[i].name = host->vdso[i].name ? host->vdso[i].name : "";
		v[i].start = host->vdso[i].start, v[i].end = host->vdso[i].end;
		vp[i] = &v[i];
	}
	for (size_t i = 0; i < nf; i++) {
		ferry_img__file_sum__init(&f[i]);
		f[i].name = w->sums[i].name, f[i].size = w->sums[i].size;
		f[i].crc32c = w->sums[i].crc;
		fp[i] = &f[i];
	}
	inv.format_version = IMAGE_FORMAT_VERSION;
	inv.os = host->os ? host->os : "";
	inv.kernel = host->kernel ? host->kernel : "";
	inv.arch = host->arch ? host->arch : "";
	inv.xsave_mask = host->xsave_mask;
	inv.n_vdso = nv, inv.vdso = vp;
	inv.ferry_version = host->ferry_version ? host->ferry_version : "";
	inv.page_size = CR_PAGE_SIZE;
	inv.root_pid = root_pid;
	inv.n_files = nf, inv.files = fp;
	o = open_out(w, "inventory.img", IMG_INVENTORY, err);
	if (!o)
		return -1;
	r = img_out_record(o, &inv.base, err);
	seal.crc32c = o->crc;
	if (r == 0)
		r = img_out_record(o, &seal.base, err);
	if (img_out_close(o, err) < 0)
		r = -1;
	free(o);
	return r;
}

int image_writer_close(struct image_writer *w, const struct cr_host *host, int32_t root_pid,
		       ferry_err_t *err)
{
	int r = 0;

	if (finish(w, &w->pstree, err) < 0 || finish(w, &w->files, err) < 0 ||
	    finish(w, &w->shm, err) < 0)
		r = -1;
	for (size_t i = 0; r == 0 && i < w->n_pages; i++)
		if (finish(w, &w->pages[i].out, err) < 0)
			r = -1;
	if (r == 0)
		r = write_inventory(w, host, root_pid, err);
	image_writer_abort(w);
	return r;
}

void image_writer_abort(struct image_writer *w)
{
	struct img_out *outs[3];

	if (!w)
		return;
	outs[0] = w->pstree, outs[1] = w->files, outs[2] = w->shm;
	for (size_t i = 0; i < 3; i++)
		if (outs[i]) {
			close(outs[i]->fd);
			free(outs[i]);
		}
	for (size_t i = 0; i < w->n_pages; i++)
		if (w->pages[i].out) {
			close(w->pages[i].out->fd);
			free(w->pages[i].out);
		}
	free(w->pages);
	free(w->sums);
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w);
}

// SPDX-License-Identifier: Apache-2.0
/* The image reader: inventory, checksums, then every file decoded and checked. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image/internal.h"
#include "inventory.pb-c.h"

#define MAX_FILES (4u << 20)

struct rfile {
	char name[IMG_NAME_MAX];
	uint64_t size;
	uint32_t crc;
	uint8_t *buf; /* record files only */
	bool used;
};

struct reader {
	int dirfd;
	unsigned flags;
	struct rfile *files;
	size_t n_files;
};

static struct rfile *find(struct reader *rd, const char *name)
{
	for (size_t i = 0; i < rd->n_files; i++)
		if (!strcmp(rd->files[i].name, name))
			return &rd->files[i];
	return NULL;
}

/* Reads up to max bytes of name into *buf; returns the length or -1. */
static ssize_t slurp(int dirfd, const char *name, uint64_t max, uint8_t **buf, ferry_err_t *err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return ferry_error_errno(err, "%s", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ferry_error(err, 0, "%s: not a regular file", name);
	if ((uint64_t)st.st_size > max)
		return ferry_error(err, 0, "%s: %lld bytes, the inventory says %llu", name,
				   (long long)st.st_size, (unsigned long long)max);
	*buf = malloc(st.st_size + 1);
	if (!*buf)
		return ferry_error(err, ENOMEM, "%s", name);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ferry_error(err, n ? errno : 0, "%s: short read", name);
		got += n;
	}
	return got;
}

#ifndef MAP_POPULATE
#define MAP_POPULATE 0 /* not on FreeBSD: the pages fault in */
#endif

#define SUM_CHUNK (1u << 20)  /* bytes read at a time */
#define SUM_SPLIT (16u << 20) /* a file this large is checksummed in parts at once */
#define SUM_PARTS 4

/* A part of a file being checksummed. */
struct sum_part {
	int fd;
	uint64_t off, len;
	uint64_t done; /* bytes read */
	uint32_t crc;  /* of those */
	pthread_t th;
	bool started;
};

/* Checksums a part checksummed by one thread (less than SUM_SPLIT) in the page cache, mapped
 * with its pages: no copy, and no fresh memory to fault in (a large file is read in parts by
 * several threads of ferry, whose unmaps would each have to reach the other CPUs). A file found
 * shorter than the part leaves it unread (a page past the end would fault). Returns false when
 * the part cannot be mapped. */
static bool sum_mapped(struct sum_part *s)
{
	void *map = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, s->fd, (off_t)s->off);
	struct stat st;

	if (map == MAP_FAILED)
		return false;
	if (fstat(s->fd, &st) == 0 && st.st_size >= (off_t)(s->off + s->len)) {
		s->crc = image_crc32c(s->crc, map, s->len);
		s->done = s->len;
	}
	munmap(map, s->len);
	return true;
}

/* Checksums part->len bytes at part->off; part->done says how many could be read. */
static void *sum_part(void *arg)
{
	struct sum_part *s = arg;
	uint8_t *buf;

	s->crc = 0, s->done = 0;
	if (s->len < SUM_SPLIT && sum_mapped(s))
		return NULL;
	buf = malloc(SUM_CHUNK);
	while (buf && s->done < s->len) {
		size_t want = s->len - s->done < SUM_CHUNK ? (size_t)(s->len - s->done) : SUM_CHUNK;
		ssize_t n = pread(s->fd, buf, want, (off_t)(s->off + s->done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		s->crc = image_crc32c(s->crc, buf, (size_t)n);
		s->done += (uint64_t)n;
	}
	free(buf);
	return NULL;
}

/* The CRC32C of the first size bytes of fd into *crc, in up to SUM_PARTS parts at once (one per
 * online CPU) for a large file; returns 0, or -1 when not all could be read. */
static int sum_file(int fd, uint64_t size, uint32_t *crc)
{
	struct sum_part p[SUM_PARTS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = size < SUM_SPLIT || cpus < 2 ? 1 : cpus < SUM_PARTS ? (size_t)cpus : SUM_PARTS;
	uint64_t each = size / n / CR_PAGE_SIZE * CR_PAGE_SIZE;
	int rc = 0;

	for (size_t k = 0; k < n; k++)
		p[k] = (struct sum_part){
		    .fd = fd, .off = k * each, .len = k + 1 < n ? each : size - k * each};
	for (size_t k = 1; k < n; k++)
		p[k].started = pthread_create(&p[k].th, NULL, sum_part, &p[k]) == 0;
	sum_part(&p[0]);
	*crc = 0;
	for (size_t k = 0; k < n; k++) {
		if (k && p[k].started)
			pthread_join(p[k].th, NULL);
		else if (k)
			sum_part(&p[k]);
		if (p[k].done != p[k].len)
			rc = -1;
		*crc = image_crc32c_combine(*crc, p[k].crc, p[k].len);
	}
	return rc;
}

/* Checks the size and CRC32C of a pages file by streaming it; returns 0 or -1. */
static int check_pages_file(struct reader *rd, struct rfile *f, ferry_err_t *err)
{
	_cleanup_close_ int fd = openat(rd->dirfd, f->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	uint8_t buf[IMG_HEADER_SIZE];
	struct stat st;
	uint32_t crc = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ferry_error_errno(err, "%s", f->name);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size)
		return ferry_error(err, 0, "%s: %lld bytes, the inventory says %llu (truncated?)",
				   f->name, (long long)st.st_size, (unsigned long long)f->size);
	if (f->size < IMAGE_PAGES_DATA_START || (f->size - IMAGE_PAGES_DATA_START) % CR_PAGE_SIZE)
		return ferry_error(err, 0, "%s: %llu bytes is not a header and whole pages",
				   f->name, (unsigned long long)f->size);
	if (pread(fd, buf, IMG_HEADER_SIZE, 0) != IMG_HEADER_SIZE || memcmp(buf, IMG_MAGIC, 4) ||
	    buf[4] != IMG_PAGES || buf[5] || buf[6] || buf[7] || buf[8] != IMAGE_FORMAT_VERSION ||
	    buf[9] || buf[10] || buf[11])
		return ferry_error(err, 0, "%s: bad header (magic, kind or format version)",
				   f->name);
	if (rd->flags & IMAGE_READ_NO_PAGE_SUMS)
		return 0;
	if (sum_file(fd, f->size, &crc) < 0)
		return ferry_error(err, EIO, "%s: cannot read all %llu bytes (truncated?)", f->name,
				   (unsigned long long)f->size);
	if (crc != f->crc)
		return ferry_error(err, 0, "%s: checksum mismatch (crc32c %08x, inventory %08x)",
				   f->name, crc, f->crc);
	return 0;
}

/* Loads a record file listed in the inventory, checking size and checksum. */
static int load_file(struct reader *rd, struct rfile *f, ferry_err_t *err)
{
	ssize_t n;
	uint32_t crc;

	if (!strncmp(f->name, "pages-", 6))
		return check_pages_file(rd, f, err);
	n = slurp(rd->dirfd, f->name, rd->flags & IMAGE_READ_NO_SUMS ? IMG_MAX_RECORD : f->size,
		  &f->buf, err);
	if (n < 0)
		return -1;
	if (rd->flags & IMAGE_READ_NO_SUMS) {
		f->size = n;
		return 0;
	}
	if ((uint64_t)n != f->size)
		return ferry_error(err, 0, "%s: %zd bytes, the inventory says %llu (truncated?)",
				   f->name, n, (unsigned long long)f->size);
	crc = image_crc32c(0, f->buf, n);
	if (crc != f->crc)
		return ferry_error(err, 0, "%s: checksum mismatch (crc32c %08x, inventory %08x)",
				   f->name, crc, f->crc);
	return 0;
}

static bool name_ok(const char *n)
{
	static const char *const fixed[] = {"pstree.img", "files.img", "shm.img", "container.img"};
	static const char *const prefixes[] = {"core-",	   "proc-",  "mm-",
					       "pagemap-", "pages-", "ghost-"};
	size_t len = strlen(n);

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!strcmp(n, fixed[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);

		if (!strncmp(n, prefixes[i], pl) && len > pl + 4 && len < IMG_NAME_MAX &&
		    strspn(n + pl, "0123456789") == len - pl - 4 && !strcmp(n + len - 4, ".img"))
			return true;
	}
	return false;
}

static int take_inventory(struct reader *rd, struct cr_image *img, const FerryImg__Inventory *v,
			  ferry_err_t *err)
{
	struct cr_host *h = &img->host;

	if (v->format_version != IMAGE_FORMAT_VERSION || v->page_size != CR_PAGE_SIZE ||
	    v->root_pid <= 0 || v->root_pid >= IMG_MAX_PID || v->n_files > MAX_FILES ||
	    v->n_vdso > 16)
		return ferry_error(err, 0,
				   "inventory.img: record 1: format version %u, page size "
				   "%u, root %d, %zu files: not readable here",
				   v->format_version, v->page_size, v->root_pid, v->n_files);
	img->root_pid = v->root_pid;
	h->os = strdup(v->os), h->kernel = strdup(v->kernel), h->arch = strdup(v->arch);
	h->ferry_version = strdup(v->ferry_version);
	h->xsave_mask = v->xsave_mask;
	h->vdso = calloc(v->n_vdso + 1, sizeof(*h->vdso));
	rd->files = calloc(v->n_files + 1, sizeof(*rd->files));
	if (!h->os || !h->kernel || !h->arch || !h->ferry_version || !h->vdso || !rd->files)
		return ferry_error(err, ENOMEM, "inventory.img");
	for (size_t i = 0; i < v->n_vdso; i++) {
		h->vdso[i] = (struct cr_vdso_area){strdup(v->vdso[i]->name), v->vdso[i]->start,
						   v->vdso[i]->end};
		h->n_vdso++;
		if (!h->vdso[i].name)
			return ferry_error(err, ENOMEM, "inventory.img");
	}
	for (size_t i = 0; i < v->n_files; i++) {
		const FerryImg__FileSum *s = v->files[i];

		if (!name_ok(s->name) || find(rd, s->name))
			return ferry_error(err, 0,
					   "inventory.img: record 1: file \"%.80s\": bad or "
					   "repeated name",
					   s->name);
		snprintf(rd->files[i].name, IMG_NAME_MAX, "%s", s->name);
		rd->files[i].size = s->size;
		rd->files[i].crc = s->crc32c;
		rd->n_files++;
	}
	return 0;
}

static int read_inventory(struct reader *rd, struct cr_image *img, ferry_err_t *err)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_pb_ FerryImg__Inventory *v = NULL;
	_cleanup_pb_ FerryImg__Seal *seal = NULL;
	ProtobufCMessage *extra = NULL;
	struct img_in in;
	size_t sealed_len;
	ssize_t n = slurp(rd->dirfd, "inventory.img", IMG_MAX_RECORD, &buf, err);

	if (n < 0 || img_in_start(&in, "inventory.img", buf, n, IMG_INVENTORY, err) < 0)
		return -1;
	if (img_in_next(&in, &ferry_img__inventory__descriptor, (void *)&v, err) <= 0)
		return ferry_error(err, 0, "inventory.img: no inventory record");
	sealed_len = in.pos;
	if (img_in_next(&in, &ferry_img__seal__descriptor, (void *)&seal, err) <= 0)
		return ferry_error(err, 0, "inventory.img: record 2: no seal (truncated?)");
	if (seal->crc32c != image_crc32c(0, buf, sealed_len))
		return ferry_error(err, 0, "inventory.img: checksum mismatch");
	if (img_in_next(&in, &ferry_img__seal__descriptor, &extra, err) != 0) {
		if (extra)
			protobuf_c_message_free_unpacked(extra, NULL);
		return ferry_error(err, 0, "inventory.img: record 3: unexpected record");
	}
	return take_inventory(rd, img, v, err);
}

/* Every file of the directory is in the inventory, and the other way round. */
static bool is_img_name(const char *n)
{
	size_t len = strlen(n);

	return len > 4 && !strcmp(n + len - 4, ".img");
}

static int check_listing(struct reader *rd, ferry_err_t *err)
{
	DIR *d = fdopendir(dup(rd->dirfd));
	struct dirent *e;
	int r = 0;

	if (!d)
		return ferry_error_errno(err, "image directory");
	/* Files that are not images (stats-dump, logs) may share the directory. */
	while (r == 0 && (e = readdir(d)))
		if (is_img_name(e->d_name) && strcmp(e->d_name, "inventory.img") &&
		    !find(rd, e->d_name))
			r = ferry_error(err, 0, "%.80s: not listed in the inventory", e->d_name);
	closedir(d);
	for (size_t i = 0; r == 0 && i < rd->n_files; i++)
		r = load_file(rd, &rd->files[i], err);
	return r;
}

static int64_t pages_size(void *ctx, uint32_t id)
{
	char name[IMG_NAME_MAX];
	struct rfile *f;

	snprintf(name, sizeof(name), "pages-%u.img", id);
	f = find(ctx, name);
	if (!f)
		return -1;
	f->used = true;
	return (int64_t)(f->size - IMAGE_PAGES_DATA_START);
}

/* Starts reading the record file name; returns 0, or -1 when it is missing or its header bad. */
static int open_in(struct reader *rd, struct img_in *in, const char *name, enum img_kind kind,
		   ferry_err_t *err)
{
	struct rfile *f = find(rd, name);

	if (!f)
		return ferry_error(err, 0, "%s: missing", name);
	f->used = true;
	return img_in_start(in, f->name, f->buf, f->size, kind, err);
}

static int read_process(struct reader *rd, struct cr_process *p, ferry_err_t *err)
{
	struct img_in in;
	char name[IMG_NAME_MAX];

	snprintf(name, sizeof(name), "proc-%d.img", p->pid);
	if (open_in(rd, &in, name, IMG_PROC, err) < 0 || dec_proc(&in, p, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "mm-%d.img", p->pid);
	if (open_in(rd, &in, name, IMG_MM, err) < 0 || dec_mm(&in, p, err) < 0)
		return -1;
	snprintf(name, sizeof(name), "pagemap-%d.img", p->pid);
	if (open_in(rd, &in, name, IMG_PAGEMAP, err) < 0 ||
	    dec_pagemap(&in, p, pages_size, rd, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_threads; i++) {
		snprintf(name, sizeof(name), "core-%d.img", p->threads[i].tid);
		if (open_in(rd, &in, name, IMG_CORE, err) < 0 ||
		    dec_thread(&in, &p->threads[i], p->threads[i].tid, err) < 0)
			return -1;
	}
	return 0;
}

static int read_ghosts(struct reader *rd, struct cr_image *img, ferry_err_t *err)
{
	img->ghosts = calloc(rd->n_files + 1, sizeof(*img->ghosts));
	if (!img->ghosts)
		return ferry_error(err, ENOMEM, "ghosts");
	for (size_t i = 0; i < rd->n_files; i++) {
		struct img_in in;
		uint64_t id;

		if (strncmp(rd->files[i].name, "ghost-", 6))
			continue;
		id = strtoull(rd->files[i].name + 6, NULL, 10);
		img->n_ghosts++; /* zeroed: freed with the image if decoding fails */
		if (open_in(rd, &in, rd->files[i].name, IMG_GHOST, err) < 0 ||
		    dec_ghost(&in, &img->ghosts[img->n_ghosts - 1], id, err) < 0)
			return -1;
	}
	return 0;
}

/* Areas backed by a shared object name one that exists. */
static int check_vma_refs(const struct cr_image *img, ferry_err_t *err)
{
	for (size_t i = 0; i < img->n_procs; i++) {
		const struct cr_process *p = &img->procs[i];

		for (size_t k = 0; k < p->n_vmas; k++) {
			bool found = false;

			if (!p->vmas[k].shm_id)
				continue;
			for (size_t s = 0; s < img->n_shm; s++)
				found |= img->shm[s].id == p->vmas[k].shm_id;
			if (!found)
				return ferry_error(err, 0,
						   "mm-%d.img: record %zu (vma 0x%llx-0x%llx): "
						   "shared object %llu is not in shm.img",
						   p->pid, k + 2,
						   (unsigned long long)p->vmas[k].start,
						   (unsigned long long)p->vmas[k].end,
						   (unsigned long long)p->vmas[k].shm_id);
		}
	}
	return 0;
}

static int read_all(struct reader *rd, struct cr_image *img, ferry_err_t *err)
{
	struct img_in in;

	if (read_inventory(rd, img, err) < 0 || check_listing(rd, err) < 0)
		return -1;
	if (open_in(rd, &in, "pstree.img", IMG_PSTREE, err) < 0 ||
	    dec_pstree(&in, img, img->root_pid, err) < 0)
		return -1;
	for (size_t i = 0; i < img->n_procs; i++)
		if (read_process(rd, &img->procs[i], err) < 0)
			return -1;
	if (open_in(rd, &in, "shm.img", IMG_SHM, err) < 0 ||
	    dec_shm(&in, img, pages_size, rd, err) < 0 || read_ghosts(rd, img, err) < 0 ||
	    check_vma_refs(img, err) < 0)
		return -1;
	if (open_in(rd, &in, "files.img", IMG_FILES, err) < 0 || dec_files(&in, img, err) < 0)
		return -1;
	if (find(rd, "container.img") &&
	    (open_in(rd, &in, "container.img", IMG_CONTAINER, err) < 0 ||
	     dec_container(&in, img, err) < 0))
		return -1;
	for (size_t i = 0; i < rd->n_files; i++)
		if (!rd->files[i].used)
			return ferry_error(err, 0, "%s: not part of the process tree",
					   rd->files[i].name);
	return 0;
}

int image_read(const char *dir, unsigned flags, struct cr_image *out, ferry_err_t *err)
{
	struct reader rd = {.flags = flags};
	int r;

	memset(out, 0, sizeof(*out));
	rd.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rd.dirfd < 0)
		return ferry_error_errno(err, "image %s", dir);
	r = read_all(&rd, out, err);
	for (size_t i = 0; i < rd.n_files; i++)
		free(rd.files[i].buf);
	free(rd.files);
	close(rd.dirfd);
	if (r < 0) {
		cr_image_free(out);
		return ferry_error_wrap(err, "image %s", dir);
	}
	return 0;
}

int image_open_pages(const char *dir, uint32_t pages_id, ferry_err_t *err)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/pages-%" PRIu32 ".img", dir, pages_id) < 0)
		return ferry_error(err, ENOMEM, "pages-%u.img", pages_id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "%s", path);
	return fd;
}

void image_summarize(const struct cr_image *img, struct image_summary *sum)
{
	*sum = (struct image_summary){.processes = img->n_procs};
	for (size_t i = 0; i < img->n_procs; i++) {
		const struct cr_process *p = &img->procs[i];

		sum->threads += p->n_threads;
		sum->fds += p->n_fds;
		sum->vmas += p->n_vmas;
		for (size_t k = 0; k < p->pages.n_runs; k++)
			sum->pages += p->pages.runs[k].nr_pages;
	}
	for (size_t i = 0; i < img->n_shm; i++)
		for (size_t k = 0; k < img->shm[i].pages.n_runs; k++)
			sum->pages += img->shm[i].pages.runs[k].nr_pages;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checkpoint image: a directory of files (docs/image-format.md). The writer turns the process
 * model (cr/model.h) into record files and raw pages, then seals the directory with an inventory
 * holding the host facts and a CRC32C of every file. The reader checks everything (headers,
 * records, sizes, ranges, overlaps, paths, references, checksums) before it returns a model.
 * Callers never see protobuf.
 */
#ifndef FERRY_IMAGE_H
#define FERRY_IMAGE_H

#include <stdint.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "ferry/process.h"

#define IMAGE_FORMAT_VERSION 1
/* Page data in a pages file starts here; run offsets count from it. */
#define IMAGE_PAGES_DATA_START 4096u

struct image_writer;

/* Creates dir (its parent must exist; an existing dir must hold no image files); returns a
 * writer or NULL. */
struct image_writer *image_writer_open(const char *dir, ferry_err_t *err);

/* Returns a new pages file id for image_write_pages (1, 2, ...). */
uint32_t image_writer_new_pages_id(struct image_writer *w);

/* Appends nr_pages pages at vaddr to pages file pm->pages_id (set it first) and records the run
 * in pm, merged with the previous run when contiguous; vaddr must be above the last run. Returns
 * 0 or -1. */
int image_write_pages(struct image_writer *w, struct cr_pagemap *pm, uint64_t vaddr,
		      const void *data, uint64_t nr_pages, ferry_err_t *err);

/* Flushes pages file pages_id (created if needed) for the caller to append page data to it
 * directly (splice), and gives its checksum so far in *crc. Returns the file's fd (owned by the
 * writer, positioned at the end of the file) or -1. */
int image_pages_append_fd(struct image_writer *w, uint32_t pages_id, uint32_t *crc,
			  ferry_err_t *err);

/* Records nr_pages pages at vaddr that the caller appended to pages file pm->pages_id through
 * image_pages_append_fd, as image_write_pages would; crc is the file's checksum after them
 * (continued from the one image_pages_append_fd gave). Returns 0 or -1. */
int image_pages_appended(struct image_writer *w, struct cr_pagemap *pm, uint64_t vaddr,
			 uint64_t nr_pages, uint32_t crc, ferry_err_t *err);

/* As image_pages_appended, for pages appended to pages file pages_id (which may differ from
 * pm->pages_id: the run then names its own file). Returns 0 or -1. */
int image_pages_appended_to(struct image_writer *w, struct cr_pagemap *pm, uint32_t pages_id,
			    uint64_t vaddr, uint64_t nr_pages, uint32_t crc, ferry_err_t *err);

/* Writes a process (pstree entry, proc-, core-, mm-, pagemap- files, its fds) after its pages;
 * returns 0 or -1. */
int image_write_process(struct image_writer *w, const struct cr_process *p, ferry_err_t *err);

/* Writes a shared memory object (its pages first) to shm.img; returns 0 or -1. */
int image_write_shm(struct image_writer *w, const struct cr_shm *shm, ferry_err_t *err);

/* Writes the contents of a deleted file to ghost-<id>.img; returns 0 or -1. */
int image_write_ghost(struct image_writer *w, const struct cr_ghost *g, ferry_err_t *err);

/* Writes the processes, shm objects and ghosts of a model whose pages are written already;
 * returns 0 or -1. */
int image_write_all(struct image_writer *w, const struct cr_image *img, ferry_err_t *err);

/* Closes every file, writes inventory.img (host facts, root pid, checksums) and frees w, even on
 * failure; returns 0 or -1. */
int image_writer_close(struct image_writer *w, const struct cr_host *host, int32_t root_pid,
		       ferry_err_t *err);

/* Frees a writer without sealing the image (the directory stays, without inventory.img, and no
 * reader accepts it); accepts NULL. */
void image_writer_abort(struct image_writer *w);

enum {
	IMAGE_READ_NO_PAGE_SUMS = 1u << 0, /* trust pages files (large) if their sizes match */
	IMAGE_READ_NO_SUMS = 1u << 1,	   /* ignore sizes and checksums of record files (tests,
					    * looking into a damaged image); decoders still check */
};

/* Reads and validates the image in dir into *out (zeroed first, freed on failure); returns 0 or
 * -1 with an error naming the file and record. */
int image_read(const char *dir, unsigned flags, struct cr_image *out, ferry_err_t *err);

/* Opens pages-<id>.img of dir read-only; returns the fd or -1. Data starts at
 * IMAGE_PAGES_DATA_START. */
int image_open_pages(const char *dir, uint32_t pages_id, ferry_err_t *err);

struct image_summary {
	uint64_t processes, threads, pages, fds, vmas;
};

/* Counts what a model holds. */
void image_summarize(const struct cr_image *img, struct image_summary *sum);

/* Returns the model as JSON text (malloc'd; pages as runs and byte counts) or NULL. */
char *image_to_json(const struct cr_image *img, ferry_err_t *err);

/* Writes stats-dump (stats-restore) in dir: the phase timings of a checkpoint (restore) in the
 * layout container engines read; returns 0 or -1. */
int image_write_dump_stats(const char *dir, const struct ferry_checkpoint_stats *s,
			   ferry_err_t *err);
int image_write_restore_stats(const char *dir, const struct ferry_restore_stats *s,
			      ferry_err_t *err);

/* Returns the CRC32C (Castagnoli) of buf continuing from crc (0 to start). */
uint32_t image_crc32c(uint32_t crc, const void *buf, size_t len);

/* a * b, and x^n, modulo the CRC32C polynomial, reflected as the checksum's register is (bit 31:
 * x^0). */
uint32_t image_crc32c_mulmod(uint32_t a, uint32_t b);
uint32_t image_crc32c_xpow(uint64_t n);

/* The CRC32C of A followed by B from crc_a = image_crc32c(0, A) and crc_b = image_crc32c(0, B)
 * (len_b bytes). */
uint32_t image_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

#endif

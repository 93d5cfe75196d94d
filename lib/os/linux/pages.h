/* SPDX-License-Identifier: Apache-2.0 */
/* The pages of a process worth dumping, and reading them (process_vm_readv, vmsplice/splice).
 *
 * Which pages of an area are dumped (lx_area_wants_pages, then lx_pages_find):
 * - No page data for [vsyscall], [vvar], [vvar_vclock], [vdso] (the kernel provides them again on
 *   restore), other "[...]" kernel areas, VM_IO/VM_PFNMAP areas ("io"/"pf"), and shared mappings
 *   of ordinary files (the file holds the data). MADV_DONTDUMP areas ("dd") are dumped like any
 *   other: the advice keeps them out of core dumps, and what programs put there (keys in a secure
 *   heap, a guest's memory, thread stacks) they need back after a restore.
 * - Private anonymous areas (heap, stack, [anon:NAME] ...): every present or swapped page, except
 *   pages mapping the kernel's zero page (a read-only fault of untouched memory: reading them back
 *   as zeroes is the same thing as leaving them unmapped).
 * - Private file mappings (also a memfd mapped MAP_PRIVATE): only the anonymous pages, i.e. those
 *   the process wrote (copy-on-write copies). The rule: a page is dumped when it is present and
 *   not file-backed (PAGEMAP_SCAN: PAGE_IS_PRESENT without PAGE_IS_FILE; /proc/PID/pagemap: bit 63
 *   set, bit 61 "file-page or shared-anon" clear), or when it is swapped (bit 62 / PAGE_IS_SWAPPED:
 *   file pages are never swapped, they are dropped and read again from the file). Pages still
 *   shared with the page cache are restored by mapping the file again.
 * - Shared shmem objects (MAP_SHARED anonymous, memfd, SysV shm): every page of the object inside
 *   the area's window, whichever process touched it: the object is opened through
 *   /proc/PID/map_files, mapped here read-only, and mincore() tells which pages exist. Its
 *   identity is (dev, inode) of the area (lx_area_is_shmem); callers dump each object once.
 *   Without access to map_files the process's own present pages are used instead.
 *
 * Finding the pages uses the PAGEMAP_SCAN ioctl (kernel 6.7+) on /proc/PID/pagemap, which returns
 * ranges; where it is missing (ENOTTY, EINVAL) /proc/PID/pagemap is read, 8 bytes per page, with
 * the same rule and the same merged ranges.
 *
 * Dirty-page tracking for pre-copy is not here: it needs a userfaultfd registered inside the
 * target (UFFD_FEATURE_WP_ASYNC), which is the business of code running in the tracee. */
#ifndef LX_PAGES_H
#define LX_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/error.h"
#include "os/linux/memmap.h"

enum {
	LX_PAGES_NO_SCAN = 1 << 0, /* read /proc/PID/pagemap even where PAGEMAP_SCAN works */
};

/* A range of pages [start, end), page aligned. */
struct lx_page_range {
	uint64_t start, end;
};

struct lx_page_list {
	struct lx_page_range *v; /* sorted, adjacent ranges merged (also across areas) */
	size_t n, cap;
	uint64_t bytes; /* sum of the range lengths */
};

/* An open view of a process's page tables. */
struct lx_pagemap {
	pid_t pid;
	int fd;		/* /proc/PID/pagemap */
	bool scan;	/* PAGEMAP_SCAN is used */
	unsigned flags; /* LX_PAGES_* */
	uint64_t zero_pfn,
	    huge_zero_pfn; /* the zero pages' frames (0: unknown), for the fallback */
	void *buf;	   /* ioctl regions or pagemap entries */
};

/* Opens /proc/PID/pagemap of pid (flags: LX_PAGES_*); returns 0 or -1. */
int lx_pagemap_open(pid_t pid, unsigned flags, struct lx_pagemap *pm, ferry_err_t *err);

/* Closes pm; accepts a zeroed or closed one (pid 0). */
void lx_pagemap_close(struct lx_pagemap *pm);

/* Returns whether an area needs any page data in a dump (the rules above). */
bool lx_area_wants_pages(const struct lx_area *a);

/* Appends the ranges of a to dump to out (nothing when !lx_area_wants_pages); returns 0 or -1. */
int lx_pages_find(struct lx_pagemap *pm, const struct lx_area *a, struct lx_page_list *out,
		  ferry_err_t *err);

/* Appends the ranges of every area of m; returns 0 or -1. */
int lx_pages_find_all(struct lx_pagemap *pm, const struct lx_memmap *m, struct lx_page_list *out,
		      ferry_err_t *err);

/* Appends [start, end) to l, merging with the last range when adjacent; returns 0 or -1. */
int lx_page_list_add(struct lx_page_list *l, uint64_t start, uint64_t end, ferry_err_t *err);

/* Frees the ranges of l and zeroes it. */
void lx_page_list_free(struct lx_page_list *l);

/* Reads the n ranges of pid's memory into buf (size bytes at least the ranges' total), in order
 * and back to back, with process_vm_readv (IOV_MAX ranges a call); pages the process cannot read
 * (PROT_NONE) come through /proc/PID/mem. Returns the bytes read (the total) or -1. */
ssize_t lx_pages_read(pid_t pid, const struct lx_page_range *r, size_t n, void *buf, size_t size,
		      ferry_err_t *err);

enum lx_pages_method {
	LX_PAGES_COPY,	 /* process_vm_readv into a buffer, then write(2) */
	LX_PAGES_SPLICE, /* process_vm_readv into a buffer, vmsplice to a pipe, splice to fd */
};

/* Writes the n ranges of pid's memory to fd at its offset, back to back, through a buffer of
 * chunk bytes (0: 1 MiB; the pipe is sized to it up to fs.pipe-max-size). Returns the bytes
 * written (the total) or -1. */
int64_t lx_pages_write(pid_t pid, const struct lx_page_range *r, size_t n, int fd,
		       enum lx_pages_method method, size_t chunk, ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the files of lib/limits: growing lists of writes, warnings and strings, and
 * parsing the numbers cgroup files hold. */
#ifndef LIM_INTERNAL_H
#define LIM_INTERNAL_H

#include <stdarg.h>

#include "limits/limits.h"

/* The value cgroup v1 shows for "no limit": PAGE_COUNTER_MAX pages, in bytes, page-rounded. */
#define LIM_V1_UNLIMITED 9223372036854771712LL

/* The CFS period the kernel uses when none is given, in microseconds. */
#define LIM_DEFAULT_PERIOD 100000ULL

/* Appends controller/file = printf(fmt, ...); returns 0 or -1. */
int lim_add_write(struct lim_writes *out, const char *controller, const char *file,
		  ferry_err_t *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends a warning printf(fmt, ...); returns 0 or -1. */
int lim_warn(struct lim_warnings *w, ferry_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends printf(fmt, ...) to a string vector; returns 0 or -1. */
int lim_strv_addf(char ***v, size_t *n, ferry_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Returns a copy of s without leading and trailing white space (new string), or NULL. */
char *lim_strdup_trim(const char *s);

/* Parses a whole decimal integer (white space around allowed); returns 0 or -1. */
int lim_parse_i64(const char *s, int64_t *out);
int lim_parse_u64(const char *s, uint64_t *out);

/* Like lim_parse_i64, but "max" is -1; returns 0 or -1. */
int lim_parse_max(const char *s, int64_t *out);

/* "maj:min" with "*" for -1; returns 0 or -1. */
int lim_parse_majmin(const char *s, int64_t *major, int64_t *minor);

/* Appends a device value to a list; returns 0 or -1. */
int lim_dev_push(struct lim_dev_value **list, size_t *n, const struct lim_dev_value *v,
		 ferry_err_t *err);

/* Sets *out to a copy of s (NULL stays NULL); returns 0 or -1. */
int lim_dup(char **out, const char *s, ferry_err_t *err);

/* Reads controller/file through read and returns its contents trimmed (new string), or NULL. */
char *lim_read_trim(lim_read_fn read, void *arg, const char *controller, const char *file);

/* Huge page sizes tried when reading limits and stats back, NULL-terminated. */
extern const char *const lim_hugepage_sizes[];

/* Reads hugetlb.<size>.<suffix> for every size in lim_hugepage_sizes into r->hugepages, skipping
 * sizes with no limit; returns 0 or -1. */
int lim_read_hugepages(lim_read_fn read, void *arg, const char *ctl, const char *suffix,
		       struct lim_resources *r, ferry_err_t *err);

/* Returns -1 with *err set to an out-of-memory error. */
int lim_oom(ferry_err_t *err);

#endif

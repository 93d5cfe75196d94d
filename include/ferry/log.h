/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's log: `--log FILE` (default: none) in text or JSON lines, as runc writes it. */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdbool.h>

#include "ferry/error.h"

enum ferry_log_format {
	FERRY_LOG_TEXT,
	FERRY_LOG_JSON,
};

enum ferry_log_level {
	FERRY_LOG_DEBUG,
	FERRY_LOG_INFO,
	FERRY_LOG_WARN,
	FERRY_LOG_ERROR,
};

/* Opens the log (path NULL: no log file); returns 0 or -1. */
int ferry_log_open(const char *path, enum ferry_log_format format, bool debug, ferry_err_t *err);

/* Returns the log's file descriptor, or -1 when there is none. */
int ferry_log_fd(void);

/* Returns the log format in use. */
enum ferry_log_format ferry_log_format(void);

/* Writes one entry to the log, if any (debug entries only with --debug). */
void ferry_log(enum ferry_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats one entry as the log would ("{"level":...}" or "time=... level=... msg=..."); returns
 * a new string or NULL. */
char *ferry_log_format_entry(enum ferry_log_level level, const char *msg);

#endif

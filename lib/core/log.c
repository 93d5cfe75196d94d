// SPDX-License-Identifier: Apache-2.0
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/timefmt.h"
#include "ferry/log.h"

static int log_fd = -1;
static enum ferry_log_format log_format_v = FERRY_LOG_TEXT;
static bool log_debug;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

int ferry_log_open(const char *path, enum ferry_log_format format, bool debug, ferry_err_t *err)
{
	log_format_v = format;
	log_debug = debug;
	if (!path || !*path)
		return 0;
	log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (log_fd < 0)
		return ferry_error_errno(err, "open log file %s", path);
	return 0;
}

int ferry_log_fd(void)
{
	return log_fd;
}

enum ferry_log_format ferry_log_format(void)
{
	return log_format_v;
}

char *ferry_log_format_entry(enum ferry_log_level level, const char *msg)
{
	char stamp[64];
	char *line = NULL;

	ferry_time_rfc3339(stamp, sizeof(stamp), false);
	if (log_format_v == FERRY_LOG_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "level", level_names[level], "msg", msg,
				      "time", stamp);
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (s && asprintf(&line, "%s\n", s) < 0)
			line = NULL;
		free(s);
		return line;
	}
	if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", stamp, level_names[level], msg) < 0)
		return NULL;
	return line;
}

void ferry_log(enum ferry_log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *line = NULL;
	va_list ap;

	if (log_fd < 0 || (level == FERRY_LOG_DEBUG && !log_debug))
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	line = ferry_log_format_entry(level, msg);
	if (line && write(log_fd, line, strlen(line)) < 0)
		return;
}

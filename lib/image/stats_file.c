// SPDX-License-Identifier: Apache-2.0
/* stats-dump and stats-restore: phase timings in the work directory, laid out as container
 * engines (Podman's --print-stats) read them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image/image.h"
#include "stats.pb-c.h"

#define SERVICE_MAGIC 0x55105940u
#define STATS_MAGIC 0x57093306u

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static int write_stats(const char *dir, const char *name, const FerryImg__StatsEntry *e,
		       ferry_err_t *err)
{
	size_t len = ferry_img__stats_entry__get_packed_size(e);
	_cleanup_free_ uint8_t *buf = malloc(12 + len);
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	uint32_t head[3] = {SERVICE_MAGIC, STATS_MAGIC, (uint32_t)len};

	if (!buf || asprintf(&path, "%s/%s", dir, name) < 0 ||
	    asprintf(&tmp, "%s/.%s.tmp", dir, name) < 0)
		return ferry_error(err, ENOMEM, "%s", name);
	memcpy(buf, head, sizeof(head));
	ferry_img__stats_entry__pack(e, buf + 12);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, 12 + len) != (ssize_t)(12 + len) || rename(tmp, path) < 0) {
		ferry_error_errno(err, "write %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int image_write_dump_stats(const char *dir, const struct ferry_checkpoint_stats *s,
			   ferry_err_t *err)
{
	FerryImg__StatsEntry e = FERRY_IMG__STATS_ENTRY__INIT;
	FerryImg__DumpStatsEntry d = FERRY_IMG__DUMP_STATS_ENTRY__INIT;

	d.freezing_time = clamp32(s->freeze_us);
	d.frozen_time = clamp32(s->total_us);
	d.memdump_time = clamp32(s->memory_us);
	d.memwrite_time = clamp32(s->write_us);
	d.pages_scanned = s->pages;
	d.pages_written = s->pages;
	e.dump = &d;
	return write_stats(dir, "stats-dump", &e, err);
}

int image_write_restore_stats(const char *dir, const struct ferry_restore_stats *s,
			      ferry_err_t *err)
{
	FerryImg__StatsEntry e = FERRY_IMG__STATS_ENTRY__INIT;
	FerryImg__RestoreStatsEntry r = FERRY_IMG__RESTORE_STATS_ENTRY__INIT;

	r.forking_time = clamp32(s->tree_us);
	r.restore_time = clamp32(s->total_us);
	r.has_pages_restored = true;
	r.pages_restored = s->pages;
	e.restore = &r;
	return write_stats(dir, "stats-restore", &e, err);
}

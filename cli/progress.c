// SPDX-License-Identifier: Apache-2.0
/* Progress lines and summaries of checkpoints and restores. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/progress.h"
#include "ferry/log.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void cli_progress_init(struct cli_progress *p)
{
	*p = (struct cli_progress){.tty = isatty(2), .start_us = now_us()};
}

/* One line, redrawn at most 10 times a second. */
void cli_progress_cb(void *arg, const char *phase, uint64_t done, uint64_t total)
{
	struct cli_progress *p = arg;
	uint64_t now = now_us(), us;

	if (!p->tty || (p->shown && now - p->last_us < 100000 && done != total))
		return;
	p->last_us = now, p->shown = true;
	us = now - p->start_us ? now - p->start_us : 1;
	if (!strcmp(phase, "memory"))
		fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 " pages, %.1f MiB/s", phase,
			done, total, (double)done * 4096 / (1 << 20) / ((double)us / 1e6));
	else
		fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64, phase, done, total);
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->tty && p->shown)
		fputs("\r\033[K", stderr);
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static void summary(const struct cli_progress *p, const char *line)
{
	if (ferry_log_format() == FERRY_LOG_JSON)
		ferry_log(FERRY_LOG_INFO, "%s", line);
	if (p->tty)
		fprintf(stderr, "%s\n", line);
}

void cli_checkpoint_summary(const struct cli_progress *p, const struct ferry_checkpoint_stats *s)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "checkpoint: %" PRIu64 " process%s, %" PRIu64 " thread%s, %" PRIu64
		 " pages (%.1f MiB) in %.1f ms: freeze %.1f, collect %.1f, memory %.1f, write %.1f",
		 s->processes, s->processes == 1 ? "" : "es", s->threads,
		 s->threads == 1 ? "" : "s", s->pages, (double)s->bytes / (1 << 20),
		 ms(s->total_us), ms(s->freeze_us), ms(s->collect_us), ms(s->memory_us),
		 ms(s->write_us));
	summary(p, line);
}

void cli_restore_summary(const struct cli_progress *p, const struct ferry_restore_stats *s)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "restore: %" PRIu64 " process%s, %" PRIu64 " thread%s, %" PRIu64
		 " pages in %.1f ms: read %.1f, tree %.1f, memory %.1f",
		 s->processes, s->processes == 1 ? "" : "es", s->threads,
		 s->threads == 1 ? "" : "s", s->pages, ms(s->total_us), ms(s->read_us),
		 ms(s->tree_us), ms(s->memory_us));
	summary(p, line);
}

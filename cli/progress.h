/* SPDX-License-Identifier: Apache-2.0 */
/* Progress of long operations on a terminal (one redrawn line on stderr), and their summaries:
 * on stderr on a terminal, in the log as a JSON line with --log-format json; quiet otherwise. */
#ifndef FERRY_CLI_PROGRESS_H
#define FERRY_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "ferry/process.h"

struct cli_progress {
	bool tty;
	uint64_t start_us, last_us;
	bool shown;
};

/* Starts a progress display (shown only when stderr is a terminal). */
void cli_progress_init(struct cli_progress *p);

/* A ferry_progress_fn: arg is a struct cli_progress. */
void cli_progress_cb(void *arg, const char *phase, uint64_t done, uint64_t total);

/* Clears the progress line. */
void cli_progress_end(struct cli_progress *p);

/* Prints what a checkpoint (restore) did and took. */
void cli_checkpoint_summary(const struct cli_progress *p, const struct ferry_checkpoint_stats *s);
void cli_restore_summary(const struct cli_progress *p, const struct ferry_restore_stats *s);

#endif

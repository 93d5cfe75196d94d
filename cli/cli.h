/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdbool.h>
#include <sys/types.h>

#include "ferry/container.h"
#include "ferry/error.h"

struct cli_cmd {
	const char *name;
	const char *usage; /* printed by --help */
	int (*run)(const struct ferry_ctx *ctx, int argc, char **argv);
};

/* Prints err to stderr and to the log; returns 1 (the exit status of a failed command). */
int cli_fail(ferry_err_t *err);

/* Prints a usage error for cmd; returns 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the usage of cmd and returns 0. */
int cli_help(const char *cmd);

/* Waits for pid (the caller's child), forwarding signals and proxying the pty master when
 * console_fd >= 0; returns the exit status as a shell reports it (128+signal when killed). */
int cli_wait_forward(pid_t pid, int console_fd);

int cmd_create(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_run(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_start(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_state(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_list(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_ps(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_kill(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_delete(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_pause(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_resume(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_exec(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_spec(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_features(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_update(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_events(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_limits(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_image(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_process(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_checkpoint(const struct ferry_ctx *ctx, int argc, char **argv);
int cmd_restore(const struct ferry_ctx *ctx, int argc, char **argv);

#endif

// SPDX-License-Identifier: Apache-2.0
/* create, start, run */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

struct create_flags {
	struct ferry_create_opts o;
	bool detach;
	bool keep;
	bool no_subreaper; /* accepted: the foreground run reaps its init itself */
};

static int parse_create(const char *cmd, int argc, char **argv, struct create_flags *f, int *i)
{
	struct opt opts[] = {
		{"bundle", 'b', OPT_STRING, &f->o.bundle},
		{"console-socket", 0, OPT_STRING, &f->o.console_socket},
		{"pid-file", 0, OPT_STRING, &f->o.pid_file},
		{"no-pivot", 0, OPT_BOOL, &f->o.no_pivot},
		{"no-new-keyring", 0, OPT_BOOL, &f->o.no_new_keyring},
		{"preserve-fds", 0, OPT_INT, &f->o.preserve_fds},
		{"detach", 'd', OPT_BOOL, &f->detach},
		{"keep", 0, OPT_BOOL, &f->keep},
		{"no-subreaper", 0, OPT_BOOL, &f->no_subreaper},
		{NULL, 0, 0, NULL},
	};
	int r;

	*i = 1;
	r = opts_parse(cmd, opts, argc, argv, i);
	if (r != 0)
		return r > 0 ? cli_help(cmd) + 2 : 1;
	if (*i != argc - 1)
		return cli_usage_error(cmd, "expects exactly one container id");
	if (f->o.preserve_fds < 0)
		return cli_usage_error(cmd, "--preserve-fds must not be negative");
	f->o.id = argv[*i];
	return 0;
}

int cmd_create(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct create_flags f = {0};
	ferry_err_t err = NULL;
	pid_t pid;
	int console_fd, i, r;

	r = parse_create("create", argc, argv, &f, &i);
	if (r)
		return r == 2 ? 0 : r;
	if (ferry_container_create(ctx, &f.o, &pid, &console_fd, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_start(const struct ferry_ctx *ctx, int argc, char **argv)
{
	ferry_err_t err = NULL;
	int i = 1, r = opts_parse("start", (struct opt[]){{NULL, 0, 0, NULL}}, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("start") : 1;
	if (i != argc - 1)
		return cli_usage_error("start", "expects exactly one container id");
	if (ferry_container_start(ctx, argv[i], &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_run(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct create_flags f = {0};
	ferry_err_t err = NULL;
	pid_t pid;
	int console_fd, i, r, status;

	r = parse_create("run", argc, argv, &f, &i);
	if (r)
		return r == 2 ? 0 : r;
	f.o.foreground = !f.detach;
	if (ferry_container_create(ctx, &f.o, &pid, &console_fd, &err) < 0)
		return cli_fail(&err);
	if (ferry_container_start(ctx, f.o.id, &err) < 0) {
		ferry_err_t ignored = NULL;

		ferry_container_delete(ctx, f.o.id, true, &ignored);
		ferry_error_free(&ignored);
		return cli_fail(&err);
	}
	if (f.detach)
		return 0;
	status = cli_wait_forward(pid, console_fd);
	if (!f.keep && ferry_container_delete(ctx, f.o.id, true, &err) < 0)
		cli_fail(&err);
	return status;
}

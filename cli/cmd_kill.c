// SPDX-License-Identifier: Apache-2.0
/* kill, delete, pause, resume */
#include <signal.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/options.h"

int cmd_kill(const struct ferry_ctx *ctx, int argc, char **argv)
{
	bool all = false;
	struct opt opts[] = {{"all", 'a', OPT_BOOL, &all}, {NULL, 0, 0, NULL}};
	ferry_err_t err = NULL;
	int i = 1, sig = SIGTERM, r = opts_parse("kill", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("kill") : 1;
	if (i >= argc || argc - i > 2)
		return cli_usage_error("kill", "expects a container id and an optional signal");
	if (argc - i == 2) {
		sig = ferry_signal_parse(argv[i + 1], &err);
		if (sig < 0)
			return cli_fail(&err);
	}
	if (ferry_container_kill(ctx, argv[i], sig, all, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_delete(const struct ferry_ctx *ctx, int argc, char **argv)
{
	bool force = false;
	struct opt opts[] = {{"force", 'f', OPT_BOOL, &force}, {NULL, 0, 0, NULL}};
	ferry_err_t err = NULL;
	int i = 1, r = opts_parse("delete", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("delete") : 1;
	if (i >= argc)
		return cli_usage_error("delete", "expects a container id");
	for (; i < argc; i++)
		if (ferry_container_delete(ctx, argv[i], force, &err) < 0)
			r = cli_fail(&err);
	return r;
}

static int pause_resume(const char *cmd, bool pause, const struct ferry_ctx *ctx, int argc,
			char **argv)
{
	ferry_err_t err = NULL;
	int i = 1, r = opts_parse(cmd, (struct opt[]){{NULL, 0, 0, NULL}}, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help(cmd) : 1;
	if (i != argc - 1)
		return cli_usage_error(cmd, "expects exactly one container id");
	if (ferry_container_pause(ctx, argv[i], pause, &err) < 0)
		return cli_fail(&err);
	return 0;
}

int cmd_pause(const struct ferry_ctx *ctx, int argc, char **argv)
{
	return pause_resume("pause", true, ctx, argc, argv);
}

int cmd_resume(const struct ferry_ctx *ctx, int argc, char **argv)
{
	return pause_resume("resume", false, ctx, argc, argv);
}

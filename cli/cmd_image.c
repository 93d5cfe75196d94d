// SPDX-License-Identifier: Apache-2.0
/* image: `ferry image show DIR` prints a checkpoint image as JSON; `ferry image check DIR`
 * validates it completely. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "ferry/image.h"

static int image_show(const char *dir)
{
	ferry_err_t err = NULL;
	char *json = ferry_image_show(dir, &err);

	if (!json)
		return cli_fail(&err);
	printf("%s\n", json);
	free(json);
	return 0;
}

static int image_check(const char *dir)
{
	ferry_err_t err = NULL;
	struct ferry_image_summary sum;

	if (ferry_image_check(dir, &sum, &err) < 0)
		return cli_fail(&err);
	printf("image OK: %" PRIu64 " processes, %" PRIu64 " threads, %" PRIu64 " pages\n",
	       sum.processes, sum.threads, sum.pages);
	return 0;
}

int cmd_image(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct opt opts[] = {{NULL, 0, 0, NULL}};
	int i = 1, r = opts_parse("image", opts, argc, argv, &i);

	if (r != 0)
		return r > 0 ? cli_help("image") : 1;
	if (argc - i != 2)
		return cli_usage_error("image", "expected show|check DIR");
	if (!strcmp(argv[i], "show"))
		return image_show(argv[i + 1]);
	if (!strcmp(argv[i], "check"))
		return image_check(argv[i + 1]);
	return cli_usage_error("image", "unknown subcommand \"%s\"", argv[i]);
}

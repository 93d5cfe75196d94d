// SPDX-License-Identifier: Apache-2.0
/* limits: a container's resource limits (live) or a bundle's (from config.json), as normalised
 * OCI JSON, cgroup v1 or v2 files, or FreeBSD RCTL rules. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"

/* The hard RLIMIT_NOFILE of the config's process, or -1 when it sets none. */
static long long spec_nofile(const struct ferry_spec *spec)
{
	if (!spec || !spec->has_process)
		return -1;
	for (size_t k = 0; k < spec->process.n_rlimits; k++) {
		const struct ferry_rlimit *rl = &spec->process.rlimits[k];

		if (rl->type && !strcmp(rl->type, "RLIMIT_NOFILE"))
			return rl->hard > (uint64_t)INT64_MAX ? INT64_MAX : (long long)rl->hard;
	}
	return -1;
}

static int print_formatted(const char *resources, const char *format, const char *name,
			   long long nofile)
{
	ferry_err_t err = NULL;
	char *out = ferry_limits_format(resources, format, name, nofile, &err);
	size_t len;

	if (!out)
		return cli_fail(&err);
	len = strlen(out);
	fputs(out, stdout);
	if (len && out[len - 1] != '\n')
		putchar('\n');
	free(out);
	return 0;
}

static int bundle_limits(const char *bundle, const char *format)
{
	ferry_err_t err = NULL;
	struct ferry_spec *spec = ferry_spec_load(bundle, &err);
	char *dir;
	int r;

	if (!spec)
		return cli_fail(&err);
	dir = strdup(spec->bundle ? spec->bundle : bundle);
	if (!dir) {
		ferry_spec_free(spec);
		fprintf(stderr, "ferry limits: out of memory\n");
		return 1;
	}
	r = print_formatted(
	    spec->has_linux && spec->linux.resources_json ? spec->linux.resources_json : "{}",
	    format, basename(dir), spec_nofile(spec));
	free(dir);
	ferry_spec_free(spec);
	return r;
}

static int live_limits(const struct ferry_ctx *ctx, const char *id, const char *format)
{
	ferry_err_t err = NULL;
	char *resources = ferry_container_limits(ctx, id, &err);
	struct ferry_spec *spec;
	int r;

	if (!resources)
		return cli_fail(&err);
	spec = ferry_container_spec(ctx, id, &err);
	if (!spec) {
		free(resources);
		return cli_fail(&err);
	}
	r = print_formatted(resources, format, id, spec_nofile(spec));
	ferry_spec_free(spec);
	free(resources);
	return r;
}

int cmd_limits(const struct ferry_ctx *ctx, int argc, char **argv)
{
	const char *bundle = NULL, *format = "json";
	struct opt opts[] = {
	    {"bundle", 'b', OPT_STRING, &bundle},
	    {"format", 'f', OPT_STRING, &format},
	    {NULL, 0, 0, NULL},
	};
	const char *const formats[] = {"json", "cgroup1", "cgroup2", "rctl"};
	bool known = false;
	int i = 1, r = opts_parse("limits", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("limits") : 1;
	for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++)
		known |= !strcmp(format, formats[k]);
	if (!known)
		return cli_usage_error("limits",
				       "--format: expected json, cgroup1, cgroup2 or rctl");
	if (bundle && i != argc)
		return cli_usage_error("limits", "takes either --bundle DIR or a container id");
	if (!bundle && i != argc - 1)
		return cli_usage_error("limits",
				       "expects --bundle DIR or exactly one container id");
	return bundle ? bundle_limits(bundle, format) : live_limits(ctx, argv[i], format);
}

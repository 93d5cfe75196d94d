// SPDX-License-Identifier: Apache-2.0
/* spec, features */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

int cmd_spec(const struct ferry_ctx *ctx, int argc, char **argv)
{
	const char *bundle = ".";
	bool rootless = false;
	struct opt opts[] = {
		{"bundle", 'b', OPT_STRING, &bundle},
		{"rootless", 0, OPT_BOOL, &rootless},
		{NULL, 0, 0, NULL},
	};
	char path[4096];
	char *json;
	int i = 1, r = opts_parse("spec", opts, argc, argv, &i), fd;
	ssize_t len;

	if (r)
		return r > 0 ? cli_help("spec") : 1;
	if (rootless) {
		fprintf(stderr, "ferry spec: --rootless is not supported yet\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "ferry spec: %s: %s\n", path,
			errno == EEXIST ? "File exists" : strerror(errno));
		return 1;
	}
	json = ferry_spec_default_json();
	len = json ? (ssize_t)strlen(json) : 0;
	if (!json || write(fd, json, len) != len) {
		fprintf(stderr, "ferry spec: write %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		free(json);
		return 1;
	}
	close(fd);
	free(json);
	return 0;
}

int cmd_features(const struct ferry_ctx *ctx, int argc, char **argv)
{
	int i = 1, r = opts_parse("features", (struct opt[]){{NULL, 0, 0, NULL}}, argc, argv, &i);
	char *json;

	if (r)
		return r > 0 ? cli_help("features") : 1;
	json = ferry_features_json();
	printf("%s\n", json ? json : "{}");
	free(json);
	return 0;
}

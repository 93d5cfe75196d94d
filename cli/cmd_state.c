// SPDX-License-Identifier: Apache-2.0
/* state, list, ps */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

static int one_id(const char *cmd, int argc, char **argv, int *i)
{
	int r;

	*i = 1;
	r = opts_parse(cmd, (struct opt[]){{NULL, 0, 0, NULL}}, argc, argv, i);
	if (r)
		return r > 0 ? (cli_help(cmd), 2) : 1;
	if (*i != argc - 1)
		return cli_usage_error(cmd, "expects exactly one container id");
	return 0;
}

int cmd_state(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct ferry_state st;
	ferry_err_t err = NULL;
	char *json;
	int i, r = one_id("state", argc, argv, &i);

	if (r)
		return r == 2 ? 0 : r;
	if (ferry_container_state(ctx, argv[i], &st, &err) < 0)
		return cli_fail(&err);
	json = ferry_state_to_json(&st, true);
	printf("%s\n", json ? json : "{}");
	free(json);
	ferry_state_clear(&st);
	return 0;
}

static void list_table(const struct ferry_state *l, size_t n)
{
	printf("%-12s %-8s %-10s %-40s %-31s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
	       "OWNER");
	for (size_t k = 0; k < n; k++)
		printf("%-12s %-8d %-10s %-40s %-31s %s\n", l[k].id, l[k].pid,
		       ferry_status_name(l[k].status), l[k].bundle, l[k].created, l[k].owner);
}

static void list_json(const struct ferry_state *l, size_t n)
{
	json_t *a = json_array();
	char *text;

	for (size_t k = 0; k < n; k++) {
		char *one = ferry_state_to_json(&l[k], false);
		json_t *o = one ? json_loads(one, 0, NULL) : NULL;

		free(one);
		if (o)
			json_array_append_new(a, o);
	}
	text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	printf("%s\n", text ? text : "[]");
	free(text);
	json_decref(a);
}

int cmd_list(const struct ferry_ctx *ctx, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	struct opt opts[] = {
		{"format", 'f', OPT_STRING, &format},
		{"quiet", 'q', OPT_BOOL, &quiet},
		{NULL, 0, 0, NULL},
	};
	struct ferry_state *l;
	ferry_err_t err = NULL;
	size_t n;
	int i = 1, r = opts_parse("list", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("list") : 1;
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage_error("list", "--format: expected table or json");
	if (ferry_container_list(ctx, &l, &n, &err) < 0)
		return cli_fail(&err);
	if (quiet)
		for (size_t k = 0; k < n; k++)
			printf("%s\n", l[k].id);
	else if (!strcmp(format, "json"))
		list_json(l, n);
	else
		list_table(l, n);
	for (size_t k = 0; k < n; k++)
		ferry_state_clear(&l[k]);
	free(l);
	return 0;
}

static bool listed(pid_t p, const pid_t *pids, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (pids[k] == p)
			return true;
	return false;
}

/* Runs `ps ARGS` and keeps the header and the lines whose PID column is one of ours, as runc. */
static int ps_table(const pid_t *pids, size_t n, int argc, char **argv)
{
	char cmd[4096] = "ps";
	size_t len = 2;
	FILE *p;
	char line[4096];
	int pid_col = -1, status;

	if (argc == 0)
		len += snprintf(cmd + len, sizeof(cmd) - len, " -ef");
	for (int k = 0; k < argc && len < sizeof(cmd); k++)
		len += snprintf(cmd + len, sizeof(cmd) - len, " '%s'", argv[k]);
	p = popen(cmd, "r");
	if (!p)
		return 1;
	while (fgets(line, sizeof(line), p)) {
		char copy[4096], *save = NULL, *tok;
		int col = 0;

		strcpy(copy, line);
		tok = strtok_r(copy, " \t\n", &save);
		if (pid_col < 0) {
			for (; tok; tok = strtok_r(NULL, " \t\n", &save), col++)
				if (!strcmp(tok, "PID"))
					pid_col = col;
			fputs(line, stdout);
			continue;
		}
		for (; tok && col < pid_col; col++)
			tok = strtok_r(NULL, " \t\n", &save);
		if (tok && listed(atoi(tok), pids, n))
			fputs(line, stdout);
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int cmd_ps(const struct ferry_ctx *ctx, int argc, char **argv)
{
	const char *format = "table";
	struct opt opts[] = {{"format", 'f', OPT_STRING, &format}, {NULL, 0, 0, NULL}};
	ferry_err_t err = NULL;
	pid_t *pids;
	size_t n;
	int i = 1, r = opts_parse("ps", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("ps") : 1;
	if (i >= argc)
		return cli_usage_error("ps", "expects a container id");
	if (strcmp(format, "table") && strcmp(format, "json"))
		return cli_usage_error("ps", "--format: expected table or json");
	if (ferry_container_pids(ctx, argv[i], &pids, &n, &err) < 0)
		return cli_fail(&err);
	if (!strcmp(format, "json")) {
		printf("[");
		for (size_t k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", pids[k]);
		printf("]\n");
		free(pids);
		return 0;
	}
	r = ps_table(pids, n, argc - i - 1, argv + i + 1);
	free(pids);
	return r;
}

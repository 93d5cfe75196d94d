// SPDX-License-Identifier: Apache-2.0
/* exec: a new process in a running container, from --process FILE or from the container's own
 * process with the flags' changes, as runc builds it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"

struct exec_flags {
	const char *process_file, *console_socket, *cwd, *user, *pid_file;
	bool tty, no_new_privs, detach, ignore_paused;
	const char *apparmor, *label, *cgroup;
	int preserve_fds;
	struct opt_list env, gids, caps;
};

static char **strv_append(char **v, size_t *n, const char *s)
{
	char **nv = realloc(v, (*n + 2) * sizeof(*v));

	if (!nv)
		return v;
	nv[(*n)++] = strdup(s);
	nv[*n] = NULL;
	return nv;
}

static void set_env(struct ferry_process *p, const char *kv)
{
	size_t klen = strcspn(kv, "=");

	for (size_t k = 0; k < p->n_env; k++)
		if (!strncmp(p->env[k], kv, klen) && p->env[k][klen] == '=') {
			free(p->env[k]);
			p->env[k] = strdup(kv);
			return;
		}
	p->env = strv_append(p->env, &p->n_env, kv);
}

static int parse_user(const char *s, struct ferry_process *p, ferry_err_t *err)
{
	char *end;
	unsigned long uid = strtoul(s, &end, 10), gid = 0;

	if (end == s || (*end && *end != ':'))
		return ferry_error(err, EINVAL, "--user: expected UID[:GID], got \"%s\"", s);
	if (*end == ':') {
		const char *g = end + 1;

		gid = strtoul(g, &end, 10);
		if (end == g || *end)
			return ferry_error(err, EINVAL, "--user: expected UID[:GID], got \"%s\"", s);
	}
	p->user.uid = (uint32_t)uid;
	p->user.gid = (uint32_t)gid;
	return 0;
}

static int apply_flags(const struct exec_flags *f, struct ferry_process *p, int argc, char **argv,
		       ferry_err_t *err)
{
	if (argc > 0) {
		for (size_t k = 0; k < p->n_args; k++)
			free(p->args[k]);
		free(p->args);
		p->args = NULL;
		p->n_args = 0;
		for (int k = 0; k < argc; k++)
			p->args = strv_append(p->args, &p->n_args, argv[k]);
	}
	for (int k = 0; k < f->env.n; k++)
		set_env(p, f->env.items[k]);
	if (f->cwd) {
		free(p->cwd);
		p->cwd = strdup(f->cwd);
	}
	if (f->user && parse_user(f->user, p, err) < 0)
		return -1;
	if (f->gids.n) {
		free(p->user.additional_gids);
		p->user.additional_gids = calloc(f->gids.n, sizeof(uint32_t));
		for (int k = 0; k < f->gids.n; k++)
			p->user.additional_gids[k] = (uint32_t)strtoul(f->gids.items[k], NULL, 10);
		p->user.n_additional_gids = f->gids.n;
	}
	for (int k = 0; k < f->caps.n; k++) {
		static const enum ferry_cap_set sets[] = {FERRY_CAP_BOUNDING, FERRY_CAP_EFFECTIVE,
							  FERRY_CAP_PERMITTED};

		p->has_caps = true;
		for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
			p->caps.names[sets[s]] =
				strv_append(p->caps.names[sets[s]], &p->caps.n[sets[s]],
					    f->caps.items[k]);
	}
	if (f->no_new_privs)
		p->no_new_privileges = true;
	p->terminal = f->tty;
	return 0;
}

static char *read_file(const char *path, size_t *len, ferry_err_t *err)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;

	if (!fp) {
		ferry_error_errno(err, "--process %s", path);
		return NULL;
	}
	*len = 0;
	for (;;) {
		if (*len + 4096 >= cap)
			buf = realloc(buf, cap = cap * 2 + 8192);
		size_t r = fread(buf + *len, 1, cap - *len - 1, fp);

		if (!r)
			break;
		*len += r;
	}
	fclose(fp);
	buf[*len] = '\0';
	return buf;
}

/* Builds the process to run; returns 0 or -1. */
static int build_process(const struct ferry_ctx *ctx, const char *id, const struct exec_flags *f,
			 int argc, char **argv, struct ferry_process *p, ferry_err_t *err)
{
	struct ferry_spec *spec;

	if (f->process_file) {
		size_t len;
		char *text = read_file(f->process_file, &len, err);
		int r;

		if (!text)
			return -1;
		r = ferry_spec_parse_process(text, len, p, err);
		free(text);
		return r;
	}
	if (argc == 0)
		return ferry_error(err, EINVAL, "exec: no command given (args or --process)");
	spec = ferry_container_spec(ctx, id, err);
	if (!spec)
		return -1;
	*p = spec->process;
	memset(&spec->process, 0, sizeof(spec->process));
	ferry_spec_free(spec);
	return apply_flags(f, p, argc, argv, err);
}

int cmd_exec(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct exec_flags f = {0};
	struct opt opts[] = {
		{"process", 'p', OPT_STRING, &f.process_file},
		{"console-socket", 0, OPT_STRING, &f.console_socket},
		{"cwd", 0, OPT_STRING, &f.cwd},
		{"user", 'u', OPT_STRING, &f.user},
		{"pid-file", 0, OPT_STRING, &f.pid_file},
		{"tty", 't', OPT_BOOL, &f.tty},
		{"no-new-privs", 0, OPT_BOOL, &f.no_new_privs},
		{"detach", 'd', OPT_BOOL, &f.detach},
		{"ignore-paused", 0, OPT_BOOL, &f.ignore_paused},
		{"apparmor", 0, OPT_STRING, &f.apparmor},
		{"process-label", 0, OPT_STRING, &f.label},
		{"cgroup", 0, OPT_STRING, &f.cgroup},
		{"preserve-fds", 0, OPT_INT, &f.preserve_fds},
		{"env", 'e', OPT_LIST, &f.env},
		{"additional-gids", 'g', OPT_LIST, &f.gids},
		{"cap", 'c', OPT_LIST, &f.caps},
		{NULL, 0, 0, NULL},
	};
	struct ferry_process proc = {0};
	struct ferry_exec_opts eo = {0};
	ferry_err_t err = NULL;
	pid_t pid;
	int i = 1, r = opts_parse("exec", opts, argc, argv, &i), console_fd, status;

	if (r)
		return r > 0 ? cli_help("exec") : 1;
	if (i >= argc)
		return cli_usage_error("exec", "expects a container id");
	if (f.apparmor || f.label)
		return cli_usage_error("exec", "AppArmor and SELinux are not available on this host");
	if (build_process(ctx, argv[i], &f, argc - i - 1, argv + i + 1, &proc, &err) < 0) {
		ferry_process_clear(&proc);
		return cli_fail(&err);
	}
	eo = (struct ferry_exec_opts){.id = argv[i], .process = &proc,
				      .console_socket = f.console_socket, .pid_file = f.pid_file,
				      .detach = f.detach, .preserve_fds = f.preserve_fds};
	if (ferry_container_exec(ctx, &eo, &pid, &console_fd, &err) < 0) {
		ferry_process_clear(&proc);
		return cli_fail(&err);
	}
	ferry_process_clear(&proc);
	if (f.detach)
		return 0;
	status = cli_wait_forward(pid, console_fd);
	return status;
}

// SPDX-License-Identifier: Apache-2.0
/* The "process" object of config.json, also the file that `exec --process` takes. */
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/spec_internal.h"

static const char *const cap_set_keys[FERRY_CAP__COUNT] = {
    [FERRY_CAP_BOUNDING] = "bounding",	     [FERRY_CAP_EFFECTIVE] = "effective",
    [FERRY_CAP_INHERITABLE] = "inheritable", [FERRY_CAP_PERMITTED] = "permitted",
    [FERRY_CAP_AMBIENT] = "ambient",
};

static int parse_gids(struct spec_ctx *c, const json_t *user, struct ferry_user *u)
{
	json_t *arr;
	size_t old, key_len;
	int rc = 0;

	if (spec_get_array(c, user, "additionalGids", &arr) < 0)
		return -1;
	if (!arr || json_array_size(arr) == 0)
		return 0;
	u->additional_gids = calloc(json_array_size(arr), sizeof(*u->additional_gids));
	if (!u->additional_gids)
		return spec_fail_at(c, "additionalGids", "out of memory");
	u->n_additional_gids = json_array_size(arr);
	old = spec_push(c, "additionalGids");
	key_len = c->len;
	for (size_t i = 0; i < u->n_additional_gids && rc == 0; i++) {
		spec_push_index(c, i);
		rc = spec_val_u32(c, json_array_get(arr, i), &u->additional_gids[i]);
		spec_pop(c, key_len);
	}
	spec_pop(c, old);
	return rc;
}

/* user: uid and gid default to 0 when absent, as runc reads them. */
static int parse_user(struct spec_ctx *c, const json_t *proc, struct ferry_user *u)
{
	json_t *user;
	size_t old;
	int rc = -1;

	if (spec_get_object(c, proc, "user", false, &user) < 0)
		return -1;
	if (!user)
		return 0;
	old = spec_push(c, "user");
	if (spec_get_u32(c, user, "uid", false, NULL, &u->uid) < 0 ||
	    spec_get_u32(c, user, "gid", false, NULL, &u->gid) < 0 ||
	    spec_get_u32(c, user, "umask", false, &u->has_umask, &u->umask) < 0 ||
	    parse_gids(c, user, u) < 0)
		goto out;
	rc = 0;
out:
	spec_pop(c, old);
	return rc;
}

static int parse_caps(struct spec_ctx *c, const json_t *proc, struct ferry_process *p)
{
	json_t *caps;
	size_t old;
	int rc = 0;

	if (spec_get_object(c, proc, "capabilities", false, &caps) < 0)
		return -1;
	if (!caps)
		return 0;
	p->has_caps = true;
	old = spec_push(c, "capabilities");
	for (int i = 0; i < FERRY_CAP__COUNT && rc == 0; i++)
		rc = spec_get_strv(c, caps, cap_set_keys[i], &p->caps.names[i], &p->caps.n[i]);
	spec_pop(c, old);
	return rc;
}

static int parse_rlimit(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_rlimit *r = elem;
	const struct ferry_process *p = data;

	if (spec_get_str(c, v, "type", true, &r->type) < 0 ||
	    spec_get_u64(c, v, "soft", true, NULL, &r->soft) < 0 ||
	    spec_get_u64(c, v, "hard", true, NULL, &r->hard) < 0)
		return -1;
	for (struct ferry_rlimit *o = p->rlimits; o < r; o++)
		if (strcmp(o->type, r->type) == 0)
			return spec_fail_at(c, "type", "duplicate rlimit \"%s\"", r->type);
	return 0;
}

static int parse_console(struct spec_ctx *c, const json_t *proc, struct ferry_process *p)
{
	json_t *cs;
	size_t old;
	int rc = 0;

	if (spec_get_object(c, proc, "consoleSize", false, &cs) < 0)
		return -1;
	if (!cs)
		return 0;
	p->has_console_size = true;
	old = spec_push(c, "consoleSize");
	if (spec_get_u32(c, cs, "height", true, NULL, &p->console_height) < 0 ||
	    spec_get_u32(c, cs, "width", true, NULL, &p->console_width) < 0)
		rc = -1;
	spec_pop(c, old);
	return rc;
}

static int parse_args_cwd(struct spec_ctx *c, const json_t *proc, struct ferry_process *p)
{
	if (!spec_member(proc, "args"))
		return spec_fail_at(c, "args", "missing");
	if (spec_get_strv(c, proc, "args", &p->args, &p->n_args) < 0)
		return -1;
	if (p->n_args == 0)
		return spec_fail_at(c, "args", "must not be empty");
	if (spec_get_strv(c, proc, "env", &p->env, &p->n_env) < 0)
		return -1;
	if (!p->env) {
		p->env = calloc(1, sizeof(*p->env));
		if (!p->env)
			return spec_fail_at(c, "env", "out of memory");
	}
	if (spec_get_str(c, proc, "cwd", true, &p->cwd) < 0)
		return -1;
	if (!spec_is_abs(p->cwd))
		return spec_fail_at(c, "cwd", "must be an absolute path");
	return 0;
}

/* Parses the process object at the current path into *p (zeroed by the caller). */
int spec_parse_process_obj(struct spec_ctx *c, const json_t *proc, struct ferry_process *p)
{
	int64_t adj = 0;

	if (spec_get_bool(c, proc, "terminal", &p->terminal) < 0 || parse_console(c, proc, p) < 0 ||
	    parse_user(c, proc, &p->user) < 0 || parse_args_cwd(c, proc, p) < 0 ||
	    parse_caps(c, proc, p) < 0)
		return -1;
	if (spec_get_list(c, proc, "rlimits", sizeof(*p->rlimits), (void **)&p->rlimits,
			  &p->n_rlimits, parse_rlimit, p) < 0)
		return -1;
	if (spec_get_bool(c, proc, "noNewPrivileges", &p->no_new_privileges) < 0 ||
	    spec_get_i64(c, proc, "oomScoreAdj", false, &p->has_oom_score_adj, -1000, 1000, &adj) <
		0 ||
	    spec_get_str(c, proc, "apparmorProfile", false, &p->apparmor_profile) < 0 ||
	    spec_get_str(c, proc, "selinuxLabel", false, &p->selinux_label) < 0)
		return -1;
	p->oom_score_adj = (int)adj;
	return 0;
}

void ferry_process_clear(struct ferry_process *p)
{
	if (!p)
		return;
	free(p->user.additional_gids);
	spec_strv_free(p->args, p->n_args);
	spec_strv_free(p->env, p->n_env);
	free(p->cwd);
	for (int i = 0; i < FERRY_CAP__COUNT; i++)
		spec_strv_free(p->caps.names[i], p->caps.n[i]);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].type);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

int ferry_spec_parse_process(const char *json, size_t len, struct ferry_process *out,
			     ferry_err_t *err)
{
	struct spec_ctx c = {.file = "process", .err = err};
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = spec_json_load(&c, json, len);
	if (!root) {
		spec_ctx_done(&c);
		return -1;
	}
	rc = spec_parse_process_obj(&c, root, out);
	json_decref(root);
	spec_ctx_done(&c);
	if (rc < 0)
		ferry_process_clear(out);
	return rc;
}

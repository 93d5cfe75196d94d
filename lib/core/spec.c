// SPDX-License-Identifier: Apache-2.0
/* config.json -> struct ferry_spec: the top level, root, mounts, hooks and annotations. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/spec_internal.h"

/* config.json larger than this is refused rather than read into memory. */
#define SPEC_MAX_SIZE (64u << 20)

static const char *const hook_keys[FERRY_HOOK__COUNT] = {
    [FERRY_HOOK_PRESTART] = "prestart",
    [FERRY_HOOK_CREATE_RUNTIME] = "createRuntime",
    [FERRY_HOOK_CREATE_CONTAINER] = "createContainer",
    [FERRY_HOOK_START_CONTAINER] = "startContainer",
    [FERRY_HOOK_POSTSTART] = "poststart",
    [FERRY_HOOK_POSTSTOP] = "poststop",
};

static int parse_root(struct spec_ctx *c, const json_t *top, struct ferry_spec *s)
{
	_cleanup_free_ char *joined = NULL;
	json_t *root;
	size_t old;
	int rc = -1;

	if (spec_get_object(c, top, "root", true, &root) < 0)
		return -1;
	old = spec_push(c, "root");
	if (spec_get_str(c, root, "path", true, &s->root_path) < 0 ||
	    spec_get_bool(c, root, "readonly", &s->root_readonly) < 0)
		goto out;
	if (!s->root_path[0]) {
		spec_fail_at(c, "path", "must not be empty");
		goto out;
	}
	if (spec_is_abs(s->root_path))
		joined = strdup(s->root_path);
	else if (asprintf(&joined, "%s/%s", s->bundle, s->root_path) < 0)
		joined = NULL;
	if (joined)
		s->rootfs = spec_path_clean(joined);
	if (!s->rootfs) {
		spec_fail_at(c, "path", "out of memory");
		goto out;
	}
	rc = 0;
out:
	spec_pop(c, old);
	return rc;
}

static int parse_mount(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_mount *m = elem;

	if (spec_get_str(c, v, "destination", true, &m->destination) < 0)
		return -1;
	if (!spec_is_abs(m->destination))
		return spec_fail_at(c, "destination", "must be an absolute path");
	if (spec_get_str(c, v, "type", false, &m->type) < 0 ||
	    spec_get_str(c, v, "source", false, &m->source) < 0 ||
	    spec_get_strv(c, v, "options", &m->options, &m->n_options) < 0)
		return -1;
	return 0;
}

static int parse_hook(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_hook *h = elem;
	bool has_timeout;
	int64_t timeout = 0;

	if (spec_get_str(c, v, "path", true, &h->path) < 0)
		return -1;
	if (!spec_is_abs(h->path))
		return spec_fail_at(c, "path", "must be an absolute path");
	if (spec_get_strv(c, v, "args", &h->args, &h->n_args) < 0 ||
	    spec_get_strv(c, v, "env", &h->env, &h->n_env) < 0 ||
	    spec_get_i64(c, v, "timeout", false, &has_timeout, INT32_MIN, INT32_MAX, &timeout) < 0)
		return -1;
	if (has_timeout && timeout <= 0)
		return spec_fail_at(c, "timeout", "must be greater than zero");
	h->timeout = (int)timeout;
	return 0;
}

static int parse_hooks(struct spec_ctx *c, const json_t *top, struct ferry_spec *s)
{
	json_t *hooks;
	size_t old;
	int rc = 0;

	if (spec_get_object(c, top, "hooks", false, &hooks) < 0)
		return -1;
	if (!hooks)
		return 0;
	old = spec_push(c, "hooks");
	for (int k = 0; k < FERRY_HOOK__COUNT && rc == 0; k++)
		rc = spec_get_list(c, hooks, hook_keys[k], sizeof(*s->hooks[k]),
				   (void **)&s->hooks[k], &s->n_hooks[k], parse_hook, NULL);
	spec_pop(c, old);
	return rc;
}

static int parse_process(struct spec_ctx *c, const json_t *top, struct ferry_spec *s)
{
	json_t *proc;
	size_t old;
	int rc;

	if (spec_get_object(c, top, "process", false, &proc) < 0)
		return -1;
	if (!proc)
		return 0;
	s->has_process = true;
	old = spec_push(c, "process");
	rc = spec_parse_process_obj(c, proc, &s->process);
	spec_pop(c, old);
	return rc;
}

static int parse_linux(struct spec_ctx *c, const json_t *top, struct ferry_spec *s)
{
	json_t *lx;
	size_t old;
	int rc;

	if (spec_get_object(c, top, "linux", false, &lx) < 0)
		return -1;
	if (!lx)
		return 0;
	s->has_linux = true;
	old = spec_push(c, "linux");
	rc = spec_parse_linux(c, lx, &s->linux);
	spec_pop(c, old);
	return rc;
}

static int parse_top(struct spec_ctx *c, const json_t *top, struct ferry_spec *s)
{
	if (spec_get_str(c, top, "ociVersion", true, &s->oci_version) < 0 ||
	    parse_root(c, top, s) < 0 || parse_process(c, top, s) < 0 ||
	    spec_get_str(c, top, "hostname", false, &s->hostname) < 0 ||
	    spec_get_str(c, top, "domainname", false, &s->domainname) < 0)
		return -1;
	if (spec_get_list(c, top, "mounts", sizeof(*s->mounts), (void **)&s->mounts, &s->n_mounts,
			  parse_mount, NULL) < 0)
		return -1;
	if (parse_hooks(c, top, s) < 0 ||
	    spec_get_kv(c, top, "annotations", &s->annotations, &s->n_annotations) < 0 ||
	    parse_linux(c, top, s) < 0)
		return -1;
	return 0;
}

struct ferry_spec *ferry_spec_parse(const char *json, size_t len, const char *bundle,
				    ferry_err_t *err)
{
	struct spec_ctx c = {.file = "config.json", .err = err};
	struct ferry_spec *s;
	json_t *top;
	int rc;

	if (!spec_is_abs(bundle)) {
		ferry_error(err, EINVAL, "config.json: bundle path \"%s\" is not absolute",
			    bundle ? bundle : "");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->bundle = spec_path_clean(bundle))) {
		free(s);
		ferry_error(err, ENOMEM, "config.json");
		return NULL;
	}
	top = spec_json_load(&c, json, len);
	rc = top ? parse_top(&c, top, s) : -1;
	json_decref(top);
	spec_ctx_done(&c);
	if (rc < 0) {
		ferry_spec_free(s);
		return NULL;
	}
	return s;
}

/* Reads a whole regular file of at most SPEC_MAX_SIZE bytes; returns its text or NULL. */
static char *read_config(const char *path, size_t *len, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ferry_error_errno(err, "open %s", path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SPEC_MAX_SIZE) {
		ferry_error(err, 0, "%s: not a regular file of at most %u bytes", path,
			    SPEC_MAX_SIZE);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ferry_error(err, ENOMEM, "read %s", path);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ferry_error_errno(err, "read %s", path);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*len = got;
	return steal_ptr(buf);
}

struct ferry_spec *ferry_spec_load(const char *bundle, ferry_err_t *err)
{
	_cleanup_free_ char *abs = NULL, *cwd = NULL, *path = NULL, *text = NULL;
	size_t len = 0;

	if (!bundle || !bundle[0]) {
		ferry_error(err, EINVAL, "bundle path is empty");
		return NULL;
	}
	if (!spec_is_abs(bundle)) {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			ferry_error_errno(err, "getcwd");
			return NULL;
		}
		if (asprintf(&abs, "%s/%s", cwd, bundle) < 0) {
			ferry_error(err, ENOMEM, "bundle path");
			return NULL;
		}
		bundle = abs;
	}
	if (asprintf(&path, "%s/config.json", bundle) < 0) {
		ferry_error(err, ENOMEM, "bundle path");
		return NULL;
	}
	text = read_config(path, &len, err);
	if (!text)
		return NULL;
	return ferry_spec_parse(text, len, bundle, err);
}

void ferry_spec_free(struct ferry_spec *s)
{
	if (!s)
		return;
	free(s->oci_version);
	free(s->bundle);
	free(s->root_path);
	free(s->rootfs);
	ferry_process_clear(&s->process);
	free(s->hostname);
	free(s->domainname);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].destination);
		free(s->mounts[i].type);
		free(s->mounts[i].source);
		spec_strv_free(s->mounts[i].options, s->mounts[i].n_options);
	}
	free(s->mounts);
	for (int k = 0; k < FERRY_HOOK__COUNT; k++) {
		for (size_t i = 0; i < s->n_hooks[k]; i++) {
			free(s->hooks[k][i].path);
			spec_strv_free(s->hooks[k][i].args, s->hooks[k][i].n_args);
			spec_strv_free(s->hooks[k][i].env, s->hooks[k][i].n_env);
		}
		free(s->hooks[k]);
	}
	spec_kv_free(s->annotations, s->n_annotations);
	spec_linux_clear(&s->linux);
	free(s);
}

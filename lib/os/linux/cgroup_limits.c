// SPDX-License-Identifier: Apache-2.0
/* Resource limits on a container's cgroup: the portable model written to and read from the files
 * of the mounted hierarchies (v1, hybrid or v2), device rules on v2 as an eBPF program. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/cgroup_devices_bpf.h"
#include "os/linux/cgroup_internal.h"
#include "os/linux/cgroup_limits.h"

/* The hierarchies and the container's cgroup path in them. */
struct cg {
	struct lx_cg_hiers hs;
	int layout;
	const char *path;
};

static int cg_open(struct cg *c, const char *path, ferry_err_t *err)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	if (!path || path[0] != '/')
		return ferry_error(err, EINVAL, "cgroup path %s is not absolute", path ? path : "");
	if (lx_cg_discover(&c->hs, err) < 0)
		return -1;
	c->layout = lx_cg_layout_of(&c->hs);
	if (c->layout < 0) {
		lx_cg_hiers_free(&c->hs);
		return ferry_error(err, ENOENT, "no cgroup hierarchy is mounted");
	}
	return 0;
}

static void cg_close(struct cg *c)
{
	lx_cg_hiers_free(&c->hs);
}

/* Returns the hierarchy holding controller ("" for the cgroup2 one), or NULL if not mounted. */
static const struct lx_cg_hier *hier_of(const struct cg *c, const char *controller)
{
	for (size_t i = 0; i < c->hs.n; i++) {
		const struct lx_cg_hier *h = &c->hs.h[i];

		if (!*controller ? h->v2 : !h->v2 && lx_cg_has_option(h, controller))
			return h;
	}
	return NULL;
}

/* The name of file in h: a hierarchy mounted with noprefix drops "<controller>.". */
static const char *file_in(const struct lx_cg_hier *h, const char *controller, const char *file)
{
	size_t cl = strlen(controller);

	if (cl && !h->v2 && lx_cg_has_option(h, "noprefix") && strncmp(file, controller, cl) == 0 &&
	    file[cl] == '.')
		return file + cl + 1;
	return file;
}

/* lim_read_fn over the container's cgroup: NULL when the controller, cgroup or file is missing. */
static char *read_cb(void *arg, const char *controller, const char *file)
{
	const struct cg *c = arg;
	const struct lx_cg_hier *h = hier_of(c, controller ? controller : "");
	_cleanup_free_ char *dir = NULL;
	_cleanup_err_ ferry_err_t e = NULL;
	bool missing = false;

	if (!h || !(dir = lx_cg_dir(h, c->path)))
		return NULL;
	return lx_cg_read_opt(dir, file_in(h, controller ? controller : "", file), &missing, &e);
}

/* Appends "<file>: not available on this host" to warn; returns 0 or -1. */
static int warn_missing(struct lim_warnings *warn, const char *file, ferry_err_t *err)
{
	char **msgs;

	if (!warn)
		return 0;
	msgs = realloc(warn->msgs, (warn->n + 2) * sizeof(*msgs));
	if (!msgs)
		return ferry_error(err, ENOMEM, "warning");
	warn->msgs = msgs;
	if (asprintf(&msgs[warn->n], "%s: not available on this host", file) < 0)
		return ferry_error(err, ENOMEM, "warning");
	msgs[++warn->n] = NULL;
	return 0;
}

/* Outcome of one write. */
enum wres { WR_OK, WR_MISSING, WR_FAIL };

/* Writes w into the cgroup; on WR_FAIL *errnum is the kernel's answer. A missing controller or
 * file is WR_MISSING, a missing cgroup directory a failure (ENOENT). */
static enum wres write_one(const struct cg *c, const struct lim_write *w, int *errnum)
{
	const char *ctl = w->controller ? w->controller : "";
	const struct lx_cg_hier *h = hier_of(c, ctl);
	_cleanup_free_ char *dir = NULL;
	_cleanup_err_ ferry_err_t e = NULL;

	if (!h)
		return WR_MISSING;
	dir = lx_cg_dir(h, c->path);
	if (!dir) {
		*errnum = ENOMEM;
		return WR_FAIL;
	}
	if (lx_cg_write(dir, file_in(h, ctl, w->file), w->value, &e) == 0)
		return WR_OK;
	*errnum = e->errnum;
	if (*errnum == ENOENT && access(dir, F_OK) == 0)
		return WR_MISSING;
	return WR_FAIL;
}

/* Index of the other half of the memory / memory+swap pair after i, or -1. */
static ssize_t partner(const struct lim_writes *ws, size_t i)
{
	static const char lim[] = "memory.limit_in_bytes", sw[] = "memory.memsw.limit_in_bytes";
	const char *want;

	if (strcmp(ws->w[i].file, lim) == 0)
		want = sw;
	else if (strcmp(ws->w[i].file, sw) == 0)
		want = lim;
	else
		return -1;
	for (size_t j = i + 1; j < ws->n; j++)
		if (strcmp(ws->w[j].file, want) == 0)
			return (ssize_t)j;
	return -1;
}

static int report(const struct lim_write *w, enum wres res, int errnum, struct lim_warnings *warn,
		  ferry_err_t *err)
{
	if (res == WR_OK)
		return 0;
	if (res == WR_MISSING)
		return warn_missing(warn, w->file, err);
	return ferry_error(err, errnum, "%s = %s", w->file, w->value);
}

/* Writes every file; the memory pair is retried in the other order when the kernel refuses the
 * first (raising memory above memory+swap, or lowering memory+swap below memory). */
static int apply_writes(const struct cg *c, const struct lim_writes *ws, struct lim_warnings *warn,
			ferry_err_t *err)
{
	_cleanup_free_ bool *done = calloc(ws->n ? ws->n : 1, sizeof(bool));
	int errnum = 0;

	if (!done)
		return ferry_error(err, ENOMEM, "cgroup %s", c->path);
	for (size_t i = 0; i < ws->n; i++) {
		enum wres res;
		ssize_t j;

		if (done[i])
			continue;
		res = write_one(c, &ws->w[i], &errnum);
		if (res == WR_FAIL && errnum == EINVAL && (j = partner(ws, i)) >= 0) {
			enum wres rj = write_one(c, &ws->w[j], &errnum);

			if (report(&ws->w[j], rj, errnum, warn, err) < 0)
				return -1;
			done[j] = true;
			res = write_one(c, &ws->w[i], &errnum);
		}
		if (report(&ws->w[i], res, errnum, warn, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_v2_devices(const struct cg *c, const struct lim_resources *r, ferry_err_t *err)
{
	const struct lx_cg_hier *h = hier_of(c, "");
	_cleanup_free_ char *dir = NULL;

	if (!r->n_devices)
		return 0;
	if (!h || !(dir = lx_cg_dir(h, c->path)))
		return ferry_error(err, h ? ENOMEM : ENOENT, "devices: no cgroup2 hierarchy");
	return lx_devbpf_apply(dir, r->devices, r->n_devices, err);
}

int lx_limits_apply(const char *path, const struct lim_resources *r, struct lim_warnings *warn,
		    ferry_err_t *err)
{
	struct lim_writes ws = {0};
	struct cg c;
	int ret;

	if (cg_open(&c, path, err) < 0)
		return ferry_error_wrap(err, "apply limits");
	if (c.layout == LX_CGROUP_V2)
		ret = lim_to_cgroup2(r, &ws, warn, err);
	else
		ret = lim_to_cgroup1(r, &ws, warn, err);
	if (ret == 0)
		ret = apply_writes(&c, &ws, warn, err);
	if (ret == 0 && c.layout == LX_CGROUP_V2)
		ret = apply_v2_devices(&c, r, err);
	lim_writes_free(&ws);
	cg_close(&c);
	return ret < 0 ? ferry_error_wrap(err, "cgroup %s", path) : 0;
}

int lx_limits_read(const char *path, struct lim_resources *out, ferry_err_t *err)
{
	struct cg c;
	int ret;

	if (cg_open(&c, path, err) < 0)
		return ferry_error_wrap(err, "read limits");
	if (c.layout == LX_CGROUP_V2)
		ret = lim_from_cgroup2(read_cb, &c, out, err);
	else
		ret = lim_from_cgroup1(read_cb, &c, out, err);
	cg_close(&c);
	return ret < 0 ? ferry_error_wrap(err, "read limits of cgroup %s", path) : 0;
}

char *lx_limits_stats(const char *path, ferry_err_t *err)
{
	struct cg c;
	char *json;

	if (cg_open(&c, path, err) < 0) {
		ferry_error_wrap(err, "stats");
		return NULL;
	}
	json = lim_stats_json(read_cb, &c, c.layout == LX_CGROUP_V2);
	cg_close(&c);
	if (!json)
		ferry_error(err, ENOMEM, "stats of cgroup %s", path);
	return json;
}

/* Finds "key N" as a line of text; returns 0 or -1. */
static int find_counter(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char *end;

		if (strncmp(p, key, kl) != 0 || p[kl] != ' ')
			continue;
		errno = 0;
		*v = strtoull(p + kl + 1, &end, 10);
		if (errno || end == p + kl + 1)
			return -1;
		return 0;
	}
	return -1;
}

int lx_limits_oom_count(const char *path, uint64_t *count, ferry_err_t *err)
{
	_cleanup_free_ char *text = NULL;
	const char *file;
	struct cg c;

	if (cg_open(&c, path, err) < 0)
		return ferry_error_wrap(err, "oom count");
	file = c.layout == LX_CGROUP_V2 ? "memory.events" : "memory.oom_control";
	text = read_cb(&c, c.layout == LX_CGROUP_V2 ? "" : "memory", file);
	cg_close(&c);
	if (!text)
		return ferry_error(err, ENOENT, "oom count of cgroup %s: no %s", path, file);
	if (find_counter(text, "oom_kill", count) < 0)
		return ferry_error(err, EINVAL, "oom count of cgroup %s: no oom_kill in %s", path,
				   file);
	return 0;
}

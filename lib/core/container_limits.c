// SPDX-License-Identifier: Apache-2.0
/* Live resource limits of a container: update, read back, stats, OOM count. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/container_limits.h"
#include "core/state.h"
#include "ferry/log.h"
#include "limits/limits.h"
#include "os/os.h"

static void rec_clear(struct state_rec *rec)
{
	ferry_state_clear(&rec->pub);
}

#define _cleanup_rec_ __attribute__((cleanup(rec_clear)))

int container_limits_check(const char *json, ferry_err_t *err)
{
	struct lim_resources r = {0};
	int ret;

	if (!json)
		return 0;
	ret = lim_parse_json(json, "config.json: linux.resources", &r, err);
	lim_free(&r);
	return ret;
}

int container_limits_apply(const char *cgroup, const struct ferry_spec *spec, ferry_err_t *err)
{
	_cleanup_free_ char *warnings = NULL;

	if (!spec->has_linux || !spec->linux.resources_json)
		return 0;
	if (os_ops.limits_apply(cgroup, spec->linux.resources_json, spec, &warnings, err) < 0)
		return ferry_error_wrap(err, "linux.resources");
	if (warnings)
		ferry_log(FERRY_LOG_WARN, "linux.resources: not applied on this host:\n%s", warnings);
	return 0;
}

/* Reads the state of a container whose processes are alive (created, running or paused). */
static int live_cgroup(const struct ferry_ctx *ctx, const char *id, struct state_rec *rec,
		       ferry_err_t *err)
{
	if (state_read(ctx, id, rec, err) < 0)
		return -1;
	if (rec->pub.status == FERRY_STATUS_STOPPED || !rec->pub.cgroup)
		return ferry_error(err, 0, "container \"%s\" is not running", id);
	return 0;
}

int ferry_container_update(const struct ferry_ctx *ctx, const char *id, const char *resources_json,
			   char **warnings, ferry_err_t *err)
{
	_cleanup_close_ int dirfd = state_dir_lock(ctx, id, err);
	_cleanup_rec_ struct state_rec rec = {0};
	struct lim_resources r = {0};
	int ret;

	*warnings = NULL;
	if (dirfd < 0 || live_cgroup(ctx, id, &rec, err) < 0)
		return -1;
	ret = lim_parse_json(resources_json, "resources", &r, err);
	lim_free(&r);
	if (ret < 0)
		return -1;
	return os_ops.limits_apply(rec.pub.cgroup, resources_json, NULL, warnings, err);
}

char *ferry_container_limits(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};

	if (live_cgroup(ctx, id, &rec, err) < 0)
		return NULL;
	return os_ops.limits_read(rec.pub.cgroup, err);
}

char *ferry_container_stats(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};
	_cleanup_free_ char *data = NULL;
	json_t *o, *d;
	char *text;

	if (live_cgroup(ctx, id, &rec, err) < 0)
		return NULL;
	data = os_ops.stats(rec.pub.cgroup, err);
	if (!data)
		return NULL;
	d = json_loads(data, 0, NULL);
	if (!d) {
		ferry_error(err, 0, "stats of \"%s\": malformed data", id);
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", d);
	text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		ferry_error(err, ENOMEM, "stats");
	return text;
}

int ferry_container_oom_count(const struct ferry_ctx *ctx, const char *id,
			      unsigned long long *count, ferry_err_t *err)
{
	_cleanup_rec_ struct state_rec rec = {0};

	/* A stopped container keeps its cgroup until delete: an OOM kill of the init itself is
	 * still counted there. */
	if (state_read(ctx, id, &rec, err) < 0)
		return -1;
	if (!rec.pub.cgroup)
		return ferry_error(err, 0, "container \"%s\" has no cgroup", id);
	return os_ops.oom_count(rec.pub.cgroup, count, err);
}

// SPDX-License-Identifier: Apache-2.0
/* The backend's resource-limit operations: JSON in and out, the model and driver in between. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/limits.h"
#include "os/linux/cgroup_limits.h"
#include "os/linux/limits_ops.h"

/* The devices every container may use, as runc allows them (after the config's own rules). */
static const struct lim_device_rule default_devices[] = {
	{true, 'c', -1, -1, "m"},  {true, 'b', -1, -1, "m"},  {true, 'c', 1, 3, "rwm"},
	{true, 'c', 1, 8, "rwm"},  {true, 'c', 1, 7, "rwm"},  {true, 'c', 5, 0, "rwm"},
	{true, 'c', 1, 5, "rwm"},  {true, 'c', 1, 9, "rwm"},  {true, 'c', 136, -1, "rwm"},
	{true, 'c', 5, 2, "rwm"},  {true, 'c', 10, 200, "rwm"},
};

static int add_rule(struct lim_resources *r, const struct lim_device_rule *rule)
{
	struct lim_device_rule *n = realloc(r->devices, (r->n_devices + 1) * sizeof(*n));

	if (!n)
		return -1;
	r->devices = n;
	r->devices[r->n_devices++] = *rule;
	return 0;
}

/* Appends allow rules for the default devices and the config's linux.devices. */
static int allow_container_devices(struct lim_resources *r, const struct ferry_spec *spec,
				   ferry_err_t *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (add_rule(r, &default_devices[i]) < 0)
			return ferry_error(err, ENOMEM, "device rules");
	for (size_t i = 0; i < spec->linux.n_devices; i++) {
		const struct ferry_device *d = &spec->linux.devices[i];
		struct lim_device_rule rule = {true, d->type == 'b' ? 'b' : 'c', d->major, d->minor,
					       "rwm"};

		if (d->type == 'p')
			continue;
		if (add_rule(r, &rule) < 0)
			return ferry_error(err, ENOMEM, "device rules");
	}
	return 0;
}

static char *join_warnings(const struct lim_warnings *w)
{
	size_t len = 0;
	char *out, *p;

	if (!w->n)
		return NULL;
	for (size_t i = 0; i < w->n; i++)
		len += strlen(w->msgs[i]) + 1;
	out = p = malloc(len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < w->n; i++)
		p = stpcpy(stpcpy(p, w->msgs[i]), "\n");
	return out;
}

int lx_ops_limits_apply(const char *cgroup, const char *json, const struct ferry_spec *spec,
			char **warnings, ferry_err_t *err)
{
	struct lim_resources r = {0};
	struct lim_warnings w = {0};
	int ret = -1;

	*warnings = NULL;
	if (lim_parse_json(json, "linux.resources", &r, err) < 0)
		goto out;
	if (spec && r.n_devices && allow_container_devices(&r, spec, err) < 0)
		goto out;
	ret = lx_limits_apply(cgroup, &r, &w, err);
	*warnings = join_warnings(&w);
out:
	lim_warnings_free(&w);
	lim_free(&r);
	return ret;
}

char *lx_ops_limits_read(const char *cgroup, ferry_err_t *err)
{
	struct lim_resources r = {0};
	char *json = NULL;

	if (lx_limits_read(cgroup, &r, err) == 0) {
		json = lim_to_json(&r);
		if (!json)
			ferry_error(err, ENOMEM, "limits");
	}
	lim_free(&r);
	return json;
}

int lx_ops_oom_count(const char *cgroup, unsigned long long *count, ferry_err_t *err)
{
	uint64_t n = 0;

	if (lx_limits_oom_count(cgroup, &n, err) < 0)
		return -1;
	*count = n;
	return 0;
}

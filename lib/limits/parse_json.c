// SPDX-License-Identifier: Apache-2.0
/* OCI linux.resources JSON -> the model, refusing negative, absurd and unknown values with an
 * error that names the field. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

/* Fetches obj[key] as an integer; *present false when absent or null. Returns 0 or -1. */
static int get_int(json_t *obj, const char *path, const char *key, json_int_t *v, bool *present,
		   ferry_err_t *err)
{
	json_t *j = json_object_get(obj, key);

	*present = false;
	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return ferry_error(err, 0, "%s.%s: must be an integer", path, key);
	*v = json_integer_value(j);
	*present = true;
	return 0;
}

/* A signed limit where -1 means unlimited and 0 means not set (as runc). */
static int get_limit(json_t *obj, const char *path, const char *key, struct lim_i64 *out,
		     ferry_err_t *err)
{
	json_int_t v;
	bool present;

	if (get_int(obj, path, key, &v, &present, err) < 0)
		return -1;
	if (!present)
		return 0;
	if (v < -1)
		return ferry_error(err, 0, "%s.%s: %" JSON_INTEGER_FORMAT " must be >= -1", path,
				   key, v);
	if (v != 0) {
		out->set = true;
		out->v = v;
	}
	return 0;
}

/* An unsigned value in lo..hi; 0 means not set when zero_unset. */
static int get_range(json_t *obj, const char *path, const char *key, uint64_t lo, uint64_t hi,
		     bool zero_unset, struct lim_u64 *out, ferry_err_t *err)
{
	json_int_t v;
	bool present;

	if (get_int(obj, path, key, &v, &present, err) < 0)
		return -1;
	if (!present || (v == 0 && zero_unset))
		return 0;
	if (v < 0 || (uint64_t)v < lo || (uint64_t)v > hi)
		return ferry_error(err, 0,
				   "%s.%s: %" JSON_INTEGER_FORMAT " is out of range (%" PRIu64
				   "..%" PRIu64 ")",
				   path, key, v, lo, hi);
	out->set = true;
	out->v = (uint64_t)v;
	return 0;
}

static int get_bool(json_t *obj, const char *path, const char *key, bool *set, bool *v,
		    ferry_err_t *err)
{
	json_t *j = json_object_get(obj, key);

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return ferry_error(err, 0, "%s.%s: must be a boolean", path, key);
	*set = true;
	*v = json_is_true(j);
	return 0;
}

static int get_string(json_t *obj, const char *path, const char *key, char **out, ferry_err_t *err)
{
	json_t *j = json_object_get(obj, key);

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return ferry_error(err, 0, "%s.%s: must be a string", path, key);
	free(*out);
	return lim_dup(out, json_string_value(j), err);
}

/* Returns the object at obj[key] (NULL when absent); -1 on a type error through *bad. */
static json_t *get_section(json_t *obj, const char *path, const char *key, json_type type,
			   bool *bad, ferry_err_t *err)
{
	json_t *j = json_object_get(obj, key);

	if (!j || json_is_null(j))
		return NULL;
	if (json_typeof(j) != type) {
		*bad = true;
		ferry_error(err, 0, "%s.%s: must be %s", path, key,
			    type == JSON_OBJECT ? "an object" : "an array");
		return NULL;
	}
	return j;
}

static int parse_memory(json_t *m, const char *path, struct lim_memory *out, ferry_err_t *err)
{
	struct lim_memory *o = out;

	if (get_limit(m, path, "limit", &o->limit, err) < 0 ||
	    get_limit(m, path, "reservation", &o->reservation, err) < 0 ||
	    get_limit(m, path, "swap", &o->swap, err) < 0 ||
	    get_limit(m, path, "kernel", &o->kernel, err) < 0 ||
	    get_limit(m, path, "kernelTCP", &o->kernel_tcp, err) < 0 ||
	    get_range(m, path, "swappiness", 0, 100, false, &o->swappiness, err) < 0 ||
	    get_bool(m, path, "disableOOMKiller", &o->disable_oom_killer_set,
		     &o->disable_oom_killer, err) < 0 ||
	    get_bool(m, path, "useHierarchy", &o->use_hierarchy_set, &o->use_hierarchy, err) < 0 ||
	    get_bool(m, path, "checkBeforeUpdate", &o->check_before_update_set,
		     &o->check_before_update, err) < 0)
		return -1;
	if (o->limit.set && o->swap.set && o->limit.v > 0 && o->swap.v > 0 &&
	    o->swap.v < o->limit.v)
		return ferry_error(
		    err, 0, "%s.swap: %" PRId64 " is below limit %" PRId64 " (swap is memory+swap)",
		    path, o->swap.v, o->limit.v);
	return 0;
}

static int parse_cpu(json_t *c, const char *path, struct lim_cpu *o, ferry_err_t *err)
{
	json_int_t v;
	bool present;

	if (get_range(c, path, "shares", 2, 262144, true, &o->shares, err) < 0 ||
	    get_limit(c, path, "quota", &o->quota, err) < 0)
		return -1;
	if (o->quota.set && o->quota.v > 0 && o->quota.v < 1000)
		return ferry_error(err, 0,
				   "%s.quota: %" PRId64 " is below the kernel's minimum of 1000 "
				   "(1ms)",
				   path, o->quota.v);
	if (get_range(c, path, "period", 1000, 1000000, true, &o->period, err) < 0 ||
	    get_range(c, path, "burst", 0, UINT64_MAX >> 1, false, &o->burst, err) < 0 ||
	    get_limit(c, path, "realtimeRuntime", &o->realtime_runtime, err) < 0 ||
	    get_range(c, path, "realtimePeriod", 1, UINT64_MAX >> 1, true, &o->realtime_period,
		      err) < 0 ||
	    get_string(c, path, "cpus", &o->cpus, err) < 0 ||
	    get_string(c, path, "mems", &o->mems, err) < 0 ||
	    get_int(c, path, "idle", &v, &present, err) < 0)
		return -1;
	if (present) {
		if (v != 0 && v != 1)
			return ferry_error(
			    err, 0, "%s.idle: %" JSON_INTEGER_FORMAT " is out of range (0..1)",
			    path, v);
		o->idle.set = true;
		o->idle.v = v;
	}
	return 0;
}

/* One {major, minor, <key>} entry of a blockIO device list. */
static int parse_dev_entry(json_t *e, const char *path, const char *vkey, bool weight,
			   struct lim_dev_value *d, ferry_err_t *err)
{
	json_int_t v;
	bool present;
	struct lim_u64 val = {0}, leaf = {0};

	if (!json_is_object(e))
		return ferry_error(err, 0, "%s: must be an object", path);
	memset(d, 0, sizeof(*d));
	if (get_int(e, path, "major", &v, &present, err) < 0)
		return -1;
	if (!present || v < 0)
		return ferry_error(err, 0, "%s.major: must be given and >= 0", path);
	d->major = v;
	if (get_int(e, path, "minor", &v, &present, err) < 0)
		return -1;
	if (!present || v < 0)
		return ferry_error(err, 0, "%s.minor: must be given and >= 0", path);
	d->minor = v;
	if (weight) {
		if (get_range(e, path, vkey, 10, 1000, false, &val, err) < 0 ||
		    get_range(e, path, "leafWeight", 10, 1000, false, &leaf, err) < 0)
			return -1;
	} else if (get_range(e, path, vkey, 0, UINT64_MAX >> 1, false, &val, err) < 0) {
		return -1;
	}
	if (!weight && !val.set)
		return ferry_error(err, 0, "%s.%s: must be given", path, vkey);
	d->value = val.v;
	d->leaf_set = leaf.set;
	d->leaf_value = leaf.v;
	if (weight && !val.set && !leaf.set)
		return ferry_error(err, 0, "%s: needs weight or leafWeight", path);
	return 0;
}

static int parse_dev_list(json_t *b, const char *path, const char *key, const char *vkey,
			  struct lim_dev_value **list, size_t *n, ferry_err_t *err)
{
	bool bad = false;
	json_t *a = get_section(b, path, key, JSON_ARRAY, &bad, err), *e;
	size_t i;

	if (bad)
		return -1;
	json_array_foreach(a, i, e)
	{
		char p[320];
		struct lim_dev_value d;

		snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
		if (parse_dev_entry(e, p, vkey, strcmp(vkey, "weight") == 0, &d, err) < 0 ||
		    lim_dev_push(list, n, &d, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_blkio(json_t *b, const char *path, struct lim_blkio *o, ferry_err_t *err)
{
	if (get_range(b, path, "weight", 10, 1000, true, &o->weight, err) < 0 ||
	    get_range(b, path, "leafWeight", 10, 1000, true, &o->leaf_weight, err) < 0 ||
	    parse_dev_list(b, path, "weightDevice", "weight", &o->weight_device,
			   &o->n_weight_device, err) < 0 ||
	    parse_dev_list(b, path, "throttleReadBpsDevice", "rate", &o->read_bps, &o->n_read_bps,
			   err) < 0 ||
	    parse_dev_list(b, path, "throttleWriteBpsDevice", "rate", &o->write_bps,
			   &o->n_write_bps, err) < 0 ||
	    parse_dev_list(b, path, "throttleReadIOPSDevice", "rate", &o->read_iops,
			   &o->n_read_iops, err) < 0 ||
	    parse_dev_list(b, path, "throttleWriteIOPSDevice", "rate", &o->write_iops,
			   &o->n_write_iops, err) < 0)
		return -1;
	return 0;
}

/* "2MB", "64KB", "1GB": digits then KB, MB, GB, TB or PB. */
static bool valid_page_size(const char *s)
{
	size_t d = strspn(s, "0123456789");
	static const char *const units[] = {"KB", "MB", "GB", "TB", "PB"};

	if (d == 0 || s[0] == '0')
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(s + d, units[i]) == 0)
			return true;
	return false;
}

static int parse_hugepages(json_t *a, const char *path, struct lim_resources *r, ferry_err_t *err)
{
	json_t *e;
	size_t i;

	r->hugepages = calloc(json_array_size(a) + 1, sizeof(*r->hugepages));
	if (!r->hugepages)
		return lim_oom(err);
	json_array_foreach(a, i, e)
	{
		char p[320];
		struct lim_hugepage *h = &r->hugepages[r->n_hugepages];
		json_int_t v;
		bool present;
		const char *ps;

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(e))
			return ferry_error(err, 0, "%s: must be an object", p);
		ps = json_string_value(json_object_get(e, "pageSize"));
		if (!ps || !valid_page_size(ps))
			return ferry_error(err, 0, "%s.pageSize: must be a size like \"2MB\"", p);
		if (get_int(e, p, "limit", &v, &present, err) < 0)
			return -1;
		if (!present || v < 0)
			return ferry_error(err, 0, "%s.limit: must be given and >= 0", p);
		if (lim_dup(&h->page_size, ps, err) < 0)
			return -1;
		h->limit = (uint64_t)v;
		r->n_hugepages++;
	}
	return 0;
}

static int parse_device(json_t *e, const char *p, struct lim_device_rule *d, ferry_err_t *err)
{
	const char *type, *access;
	json_int_t v;
	bool present, allow_set = false;

	if (!json_is_object(e))
		return ferry_error(err, 0, "%s: must be an object", p);
	if (get_bool(e, p, "allow", &allow_set, &d->allow, err) < 0)
		return -1;
	if (!allow_set)
		return ferry_error(err, 0, "%s.allow: must be given", p);
	type = json_string_value(json_object_get(e, "type"));
	if (!type || !*type)
		type = "a";
	if (strlen(type) != 1 || !strchr("acb", type[0]))
		return ferry_error(err, 0, "%s.type: unknown device type \"%s\" (a, c or b)", p,
				   type);
	d->type = type[0];
	d->major = d->minor = -1;
	if (get_int(e, p, "major", &v, &present, err) < 0)
		return -1;
	if (present && v < -1)
		return ferry_error(err, 0, "%s.major: %" JSON_INTEGER_FORMAT " must be >= -1", p,
				   v);
	if (present)
		d->major = v;
	if (get_int(e, p, "minor", &v, &present, err) < 0)
		return -1;
	if (present && v < -1)
		return ferry_error(err, 0, "%s.minor: %" JSON_INTEGER_FORMAT " must be >= -1", p,
				   v);
	if (present)
		d->minor = v;
	access = json_string_value(json_object_get(e, "access"));
	if (!access || !*access)
		access = "rwm";
	if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
		return ferry_error(err, 0, "%s.access: \"%s\" has letters other than r, w and m", p,
				   access);
	snprintf(d->access, sizeof(d->access), "%s", access);
	return 0;
}

static int parse_devices(json_t *a, const char *path, struct lim_resources *r, ferry_err_t *err)
{
	json_t *e;
	size_t i;

	r->devices = calloc(json_array_size(a) + 1, sizeof(*r->devices));
	if (!r->devices)
		return lim_oom(err);
	json_array_foreach(a, i, e)
	{
		char p[320];

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (parse_device(e, p, &r->devices[i], err) < 0)
			return -1;
		r->n_devices++;
	}
	return 0;
}

static int parse_network(json_t *n, const char *path, struct lim_resources *r, ferry_err_t *err)
{
	bool bad = false;
	json_t *a, *e;
	size_t i;

	if (get_range(n, path, "classID", 0, UINT32_MAX, false, &r->net_class_id, err) < 0)
		return -1;
	a = get_section(n, path, "priorities", JSON_ARRAY, &bad, err);
	if (bad)
		return -1;
	r->net_prios = calloc(json_array_size(a) + 1, sizeof(*r->net_prios));
	if (!r->net_prios)
		return lim_oom(err);
	json_array_foreach(a, i, e)
	{
		char p[320];
		struct lim_u64 prio = {0};
		const char *name = json_string_value(json_object_get(e, "name"));

		snprintf(p, sizeof(p), "%s.priorities[%zu]", path, i);
		if (!name || !*name || strpbrk(name, " \n"))
			return ferry_error(err, 0, "%s.name: must be an interface name", p);
		if (get_range(e, p, "priority", 0, UINT32_MAX, false, &prio, err) < 0)
			return -1;
		if (lim_dup(&r->net_prios[i].name, name, err) < 0)
			return -1;
		r->net_prios[i].priority = (uint32_t)prio.v;
		r->n_net_prios++;
	}
	return 0;
}

static int parse_unified(json_t *u, const char *path, struct lim_resources *r, ferry_err_t *err)
{
	const char *k;
	json_t *v;

	r->unified = calloc(json_object_size(u) + 1, sizeof(*r->unified));
	if (!r->unified)
		return lim_oom(err);
	json_object_foreach(u, k, v)
	{
		struct lim_kv *kv = &r->unified[r->n_unified];

		if (!json_is_string(v))
			return ferry_error(err, 0, "%s.%s: must be a string", path, k);
		if (!*k || strchr(k, '/') || k[0] == '.')
			return ferry_error(err, 0, "%s.%s: not a cgroup file name", path, k);
		if (lim_dup(&kv->key, k, err) < 0 ||
		    lim_dup(&kv->value, json_string_value(v), err) < 0)
			return -1;
		r->n_unified++;
	}
	return 0;
}

/* Parses every section of the object root; returns 0 or -1. */
static int parse_sections(json_t *root, const char *prefix, struct lim_resources *r,
			  ferry_err_t *err)
{
	bool bad = false;
	char p[256];
	json_t *s;

	if ((s = get_section(root, prefix, "memory", JSON_OBJECT, &bad, err))) {
		snprintf(p, sizeof(p), "%s.memory", prefix);
		r->has_memory = true;
		if (parse_memory(s, p, &r->memory, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "cpu", JSON_OBJECT, &bad, err))) {
		snprintf(p, sizeof(p), "%s.cpu", prefix);
		r->has_cpu = true;
		if (parse_cpu(s, p, &r->cpu, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "pids", JSON_OBJECT, &bad, err))) {
		json_int_t v;
		bool present;

		snprintf(p, sizeof(p), "%s.pids", prefix);
		if (get_int(s, p, "limit", &v, &present, err) < 0)
			return -1;
		if (present && v < -1)
			return ferry_error(
			    err, 0, "%s.limit: %" JSON_INTEGER_FORMAT " must be >= -1", p, v);
		r->has_pids = present;
		r->pids_limit.set = present;
		r->pids_limit.v = present ? v : 0;
	}
	if (!bad && (s = get_section(root, prefix, "blockIO", JSON_OBJECT, &bad, err))) {
		snprintf(p, sizeof(p), "%s.blockIO", prefix);
		r->has_blkio = true;
		if (parse_blkio(s, p, &r->blkio, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "hugepageLimits", JSON_ARRAY, &bad, err))) {
		snprintf(p, sizeof(p), "%s.hugepageLimits", prefix);
		if (parse_hugepages(s, p, r, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "devices", JSON_ARRAY, &bad, err))) {
		snprintf(p, sizeof(p), "%s.devices", prefix);
		if (parse_devices(s, p, r, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "network", JSON_OBJECT, &bad, err))) {
		snprintf(p, sizeof(p), "%s.network", prefix);
		r->has_network = true;
		if (parse_network(s, p, r, err) < 0)
			return -1;
	}
	if (!bad && (s = get_section(root, prefix, "unified", JSON_OBJECT, &bad, err))) {
		snprintf(p, sizeof(p), "%s.unified", prefix);
		if (parse_unified(s, p, r, err) < 0)
			return -1;
	}
	return bad ? -1 : 0;
}

int lim_parse_json(const char *json, const char *prefix, struct lim_resources *out,
		   ferry_err_t *err)
{
	json_error_t jerr;
	json_t *root;
	int r;

	memset(out, 0, sizeof(*out));
	if (!prefix)
		prefix = "linux.resources";
	root = json_loads(json ? json : "", JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ferry_error(err, 0, "%s: invalid JSON at line %d: %s", prefix, jerr.line,
				   jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return ferry_error(err, 0, "%s: must be an object", prefix);
	}
	r = parse_sections(root, prefix, out, err);
	json_decref(root);
	if (r < 0)
		lim_free(out);
	return r;
}

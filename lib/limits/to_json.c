// SPDX-License-Identifier: Apache-2.0
/* The model -> OCI linux.resources JSON text, in the runtime-spec's field order. */
#include <jansson.h>
#include <stdlib.h>

#include "limits/internal.h"

static void put_i64(json_t *o, const char *k, const struct lim_i64 *v)
{
	if (v->set)
		json_object_set_new(o, k, json_integer(v->v));
}

static void put_u64(json_t *o, const char *k, const struct lim_u64 *v)
{
	if (v->set)
		json_object_set_new(o, k, json_integer((json_int_t)v->v));
}

static void put_str(json_t *o, const char *k, const char *s)
{
	if (s)
		json_object_set_new(o, k, json_string(s));
}

/* Adds o under k when it has members, else drops it. */
static void put_obj(json_t *parent, const char *k, json_t *o, bool keep_empty)
{
	if (json_object_size(o) || keep_empty)
		json_object_set_new(parent, k, o);
	else
		json_decref(o);
}

static json_t *devices_json(const struct lim_resources *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_devices; i++) {
		const struct lim_device_rule *d = &r->devices[i];
		char type[2] = {d->type, 0};
		json_t *e = json_object();

		json_object_set_new(e, "allow", json_boolean(d->allow));
		json_object_set_new(e, "type", json_string(type));
		if (d->major >= 0)
			json_object_set_new(e, "major", json_integer(d->major));
		if (d->minor >= 0)
			json_object_set_new(e, "minor", json_integer(d->minor));
		json_object_set_new(e, "access", json_string(d->access));
		json_array_append_new(a, e);
	}
	return a;
}

static json_t *memory_json(const struct lim_memory *m)
{
	json_t *o = json_object();

	put_i64(o, "limit", &m->limit);
	put_i64(o, "reservation", &m->reservation);
	put_i64(o, "swap", &m->swap);
	put_i64(o, "kernel", &m->kernel);
	put_i64(o, "kernelTCP", &m->kernel_tcp);
	put_u64(o, "swappiness", &m->swappiness);
	if (m->disable_oom_killer_set)
		json_object_set_new(o, "disableOOMKiller", json_boolean(m->disable_oom_killer));
	if (m->use_hierarchy_set)
		json_object_set_new(o, "useHierarchy", json_boolean(m->use_hierarchy));
	if (m->check_before_update_set)
		json_object_set_new(o, "checkBeforeUpdate", json_boolean(m->check_before_update));
	return o;
}

static json_t *cpu_json(const struct lim_cpu *c)
{
	json_t *o = json_object();

	put_u64(o, "shares", &c->shares);
	put_i64(o, "quota", &c->quota);
	put_u64(o, "burst", &c->burst);
	put_u64(o, "period", &c->period);
	put_i64(o, "realtimeRuntime", &c->realtime_runtime);
	put_u64(o, "realtimePeriod", &c->realtime_period);
	put_str(o, "cpus", c->cpus);
	put_str(o, "mems", c->mems);
	put_i64(o, "idle", &c->idle);
	return o;
}

static json_t *dev_list_json(const struct lim_dev_value *l, size_t n, const char *vkey, bool weight)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "major", json_integer(l[i].major));
		json_object_set_new(e, "minor", json_integer(l[i].minor));
		if (!weight || l[i].value)
			json_object_set_new(e, vkey, json_integer((json_int_t)l[i].value));
		if (weight && l[i].leaf_set)
			json_object_set_new(e, "leafWeight",
					    json_integer((json_int_t)l[i].leaf_value));
		json_array_append_new(a, e);
	}
	return a;
}

static void put_list(json_t *o, const char *k, json_t *a)
{
	if (json_array_size(a))
		json_object_set_new(o, k, a);
	else
		json_decref(a);
}

static json_t *blkio_json(const struct lim_blkio *b)
{
	json_t *o = json_object();

	put_u64(o, "weight", &b->weight);
	put_u64(o, "leafWeight", &b->leaf_weight);
	put_list(o, "weightDevice",
		 dev_list_json(b->weight_device, b->n_weight_device, "weight", true));
	put_list(o, "throttleReadBpsDevice", dev_list_json(b->read_bps, b->n_read_bps, "rate", 0));
	put_list(o, "throttleWriteBpsDevice",
		 dev_list_json(b->write_bps, b->n_write_bps, "rate", false));
	put_list(o, "throttleReadIOPSDevice",
		 dev_list_json(b->read_iops, b->n_read_iops, "rate", false));
	put_list(o, "throttleWriteIOPSDevice",
		 dev_list_json(b->write_iops, b->n_write_iops, "rate", false));
	return o;
}

static json_t *network_json(const struct lim_resources *r)
{
	json_t *o = json_object(), *a = json_array();

	put_u64(o, "classID", &r->net_class_id);
	for (size_t i = 0; i < r->n_net_prios; i++)
		json_array_append_new(a,
				      json_pack("{s:s,s:I}", "name", r->net_prios[i].name,
						"priority", (json_int_t)r->net_prios[i].priority));
	put_list(o, "priorities", a);
	return o;
}

static json_t *resources_json(const struct lim_resources *r)
{
	json_t *o = json_object(), *h, *u;

	put_list(o, "devices", devices_json(r));
	put_obj(o, "memory", memory_json(&r->memory), r->has_memory);
	put_obj(o, "cpu", cpu_json(&r->cpu), r->has_cpu);
	if (r->pids_limit.set)
		json_object_set_new(o, "pids",
				    json_pack("{s:I}", "limit", (json_int_t)r->pids_limit.v));
	put_obj(o, "blockIO", blkio_json(&r->blkio), r->has_blkio);
	h = json_array();
	for (size_t i = 0; i < r->n_hugepages; i++)
		json_array_append_new(h,
				      json_pack("{s:s,s:I}", "pageSize", r->hugepages[i].page_size,
						"limit", (json_int_t)r->hugepages[i].limit));
	put_list(o, "hugepageLimits", h);
	put_obj(o, "network", network_json(r), r->has_network);
	u = json_object();
	for (size_t i = 0; i < r->n_unified; i++)
		json_object_set_new(u, r->unified[i].key, json_string(r->unified[i].value));
	put_obj(o, "unified", u, false);
	return o;
}

char *lim_to_json(const struct lim_resources *r)
{
	json_t *o = resources_json(r);
	char *s;

	if (!o)
		return NULL;
	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	return s;
}

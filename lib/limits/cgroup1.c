// SPDX-License-Identifier: Apache-2.0
/* The model -> cgroup v1 file writes, in the order runc writes them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "limits/internal.h"

#define W(ctl, file, ...)                                                \
	do {                                                             \
		if (lim_add_write(out, ctl, file, err, __VA_ARGS__) < 0) \
			return -1;                                       \
	} while (0)

/* memory+swap first when it is unlimited (the kernel refuses memory above memsw), else after. */
static int v1_memory(const struct lim_memory *m, struct lim_writes *out, struct lim_warnings *warn,
		     ferry_err_t *err)
{
	bool swap_first = m->swap.set && m->swap.v == -1;

	if (swap_first)
		W("memory", "memory.memsw.limit_in_bytes", "-1");
	if (m->limit.set)
		W("memory", "memory.limit_in_bytes", "%" PRId64, m->limit.v);
	if (m->swap.set && !swap_first)
		W("memory", "memory.memsw.limit_in_bytes", "%" PRId64, m->swap.v);
	if (m->reservation.set)
		W("memory", "memory.soft_limit_in_bytes", "%" PRId64, m->reservation.v);
	if (m->kernel_tcp.set)
		W("memory", "memory.kmem.tcp.limit_in_bytes", "%" PRId64, m->kernel_tcp.v);
	if (m->swappiness.set)
		W("memory", "memory.swappiness", "%" PRIu64, m->swappiness.v);
	if (m->disable_oom_killer_set && m->disable_oom_killer)
		W("memory", "memory.oom_control", "1");
	if (m->kernel.set &&
	    lim_warn(warn, err, "memory.kernel: kernel memory limits are deprecated; not set") < 0)
		return -1;
	if (m->use_hierarchy_set &&
	    lim_warn(warn, err,
		     "memory.useHierarchy: the kernel always uses the hierarchy; not set") < 0)
		return -1;
	return 0;
}

/* Realtime first, then shares, then the period before the quota (as runc). */
static int v1_cpu(const struct lim_cpu *c, struct lim_writes *out, ferry_err_t *err)
{
	if (c->realtime_period.set)
		W("cpu", "cpu.rt_period_us", "%" PRIu64, c->realtime_period.v);
	if (c->realtime_runtime.set)
		W("cpu", "cpu.rt_runtime_us", "%" PRId64, c->realtime_runtime.v);
	if (c->shares.set)
		W("cpu", "cpu.shares", "%" PRIu64, c->shares.v);
	if (c->period.set)
		W("cpu", "cpu.cfs_period_us", "%" PRIu64, c->period.v);
	if (c->quota.set)
		W("cpu", "cpu.cfs_quota_us", "%" PRId64, c->quota.v);
	if (c->burst.set)
		W("cpu", "cpu.cfs_burst_us", "%" PRIu64, c->burst.v);
	if (c->idle.set)
		W("cpu", "cpu.idle", "%" PRId64, c->idle.v);
	if (c->cpus)
		W("cpuset", "cpuset.cpus", "%s", c->cpus);
	if (c->mems)
		W("cpuset", "cpuset.mems", "%s", c->mems);
	return 0;
}

static int v1_dev_list(const struct lim_dev_value *l, size_t n, const char *file,
		       struct lim_writes *out, ferry_err_t *err)
{
	for (size_t i = 0; i < n; i++)
		W("blkio", file, "%" PRId64 ":%" PRId64 " %" PRIu64, l[i].major, l[i].minor,
		  l[i].value);
	return 0;
}

static int v1_blkio(const struct lim_blkio *b, struct lim_writes *out, ferry_err_t *err)
{
	if (b->weight.set)
		W("blkio", "blkio.weight", "%" PRIu64, b->weight.v);
	if (b->leaf_weight.set)
		W("blkio", "blkio.leaf_weight", "%" PRIu64, b->leaf_weight.v);
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct lim_dev_value *d = &b->weight_device[i];

		if (d->value)
			W("blkio", "blkio.weight_device", "%" PRId64 ":%" PRId64 " %" PRIu64,
			  d->major, d->minor, d->value);
		if (d->leaf_set)
			W("blkio", "blkio.leaf_weight_device", "%" PRId64 ":%" PRId64 " %" PRIu64,
			  d->major, d->minor, d->leaf_value);
	}
	if (v1_dev_list(b->read_bps, b->n_read_bps, "blkio.throttle.read_bps_device", out, err) ||
	    v1_dev_list(b->write_bps, b->n_write_bps, "blkio.throttle.write_bps_device", out,
			err) ||
	    v1_dev_list(b->read_iops, b->n_read_iops, "blkio.throttle.read_iops_device", out,
			err) ||
	    v1_dev_list(b->write_iops, b->n_write_iops, "blkio.throttle.write_iops_device", out,
			err))
		return -1;
	return 0;
}

/* "c 1:3 rwm", with * for any major or minor. */
static void device_rule_text(const struct lim_device_rule *d, char *buf, size_t size)
{
	char maj[24] = "*", min[24] = "*";

	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%" PRId64, d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%" PRId64, d->minor);
	snprintf(buf, size, "%c %s:%s %s", d->type, maj, min, d->access);
}

static int v1_devices(const struct lim_resources *r, struct lim_writes *out, ferry_err_t *err)
{
	if (!r->n_devices)
		return 0;
	W("devices", "devices.deny", "a");
	for (size_t i = 0; i < r->n_devices; i++) {
		char rule[64];

		device_rule_text(&r->devices[i], rule, sizeof(rule));
		W("devices", r->devices[i].allow ? "devices.allow" : "devices.deny", "%s", rule);
	}
	return 0;
}

static int v1_rest(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err)
{
	if (r->pids_limit.set) {
		if (r->pids_limit.v > 0)
			W("pids", "pids.max", "%" PRId64, r->pids_limit.v);
		else
			W("pids", "pids.max", "max");
	}
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char file[64];

		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes",
			 r->hugepages[i].page_size);
		W("hugetlb", file, "%" PRIu64, r->hugepages[i].limit);
	}
	if (r->net_class_id.set)
		W("net_cls", "net_cls.classid", "%" PRIu64, r->net_class_id.v);
	for (size_t i = 0; i < r->n_net_prios; i++)
		W("net_prio", "net_prio.ifpriomap", "%s %" PRIu32, r->net_prios[i].name,
		  r->net_prios[i].priority);
	for (size_t i = 0; i < r->n_unified; i++)
		if (lim_warn(warn, err, "unified.%s: cgroup v2 only; not set on cgroup v1",
			     r->unified[i].key) < 0)
			return -1;
	return 0;
}

int lim_to_cgroup1(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err)
{
	memset(out, 0, sizeof(*out));
	if (v1_devices(r, out, err) < 0 || v1_memory(&r->memory, out, warn, err) < 0 ||
	    v1_cpu(&r->cpu, out, err) < 0 || v1_blkio(&r->blkio, out, err) < 0 ||
	    v1_rest(r, out, warn, err) < 0) {
		lim_writes_free(out);
		return -1;
	}
	return 0;
}

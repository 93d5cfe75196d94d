// SPDX-License-Identifier: Apache-2.0
/* The model -> FreeBSD: RCTL rules for a jail, a cpuset list and devfs rules by device name. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

#define WARN(...)                                         \
	do {                                              \
		if (lim_warn(warn, err, __VA_ARGS__) < 0) \
			return -1;                        \
	} while (0)

/* Linux character device numbers -> the name of the same device in FreeBSD's devfs. */
static const struct {
	int64_t major, minor;
	const char *name;
} dev_names[] = {
    {1, 3, "null"}, {1, 5, "zero"},    {1, 7, "full"}, {1, 8, "random"}, {1, 9, "urandom"},
    {5, 0, "tty"},  {5, 1, "console"}, {5, 2, "ptmx"}, {136, -1, "pts"}, {10, 229, "fuse"},
};

/* pcpu = quota / period * 100, rounded up and at least 1, without overflow. */
static uint64_t pcpu_of(int64_t quota, uint64_t period)
{
	uint64_t q = (uint64_t)quota, whole = q / period * 100;
	uint64_t part = ((q % period) * 100 + period - 1) / period;

	return whole + part ? whole + part : 1;
}

static int rctl_rules(const struct lim_resources *r, const char *name, int64_t nofile,
		      struct lim_freebsd *out, ferry_err_t *err)
{
	const struct lim_cpu *c = &r->cpu;

	if (c->quota.set && c->quota.v > 0) {
		uint64_t period = c->period.set ? c->period.v : LIM_DEFAULT_PERIOD;

		if (lim_strv_addf(&out->rctl, &out->n_rctl, err, "jail:%s:pcpu:deny=%" PRIu64, name,
				  pcpu_of(c->quota.v, period)) < 0)
			return -1;
	}
	if (r->memory.limit.set && r->memory.limit.v > 0 &&
	    lim_strv_addf(&out->rctl, &out->n_rctl, err, "jail:%s:memoryuse:deny=%" PRId64, name,
			  r->memory.limit.v) < 0)
		return -1;
	if (r->memory.swap.set && r->memory.swap.v > 0 &&
	    lim_strv_addf(&out->rctl, &out->n_rctl, err, "jail:%s:vmemoryuse:deny=%" PRId64, name,
			  r->memory.swap.v) < 0)
		return -1;
	if (r->pids_limit.set && r->pids_limit.v > 0 &&
	    lim_strv_addf(&out->rctl, &out->n_rctl, err, "jail:%s:maxproc:deny=%" PRId64, name,
			  r->pids_limit.v) < 0)
		return -1;
	if (nofile >= 0 && lim_strv_addf(&out->rctl, &out->n_rctl, err,
					 "jail:%s:openfiles:deny=%" PRId64, name, nofile) < 0)
		return -1;
	return 0;
}

static int memory_warnings(const struct lim_memory *m, struct lim_warnings *warn, ferry_err_t *err)
{
	if (m->reservation.set)
		WARN(
		    "memory.reservation: no FreeBSD counterpart (RCTL has no soft limit); not set");
	if (m->kernel.set)
		WARN("memory.kernel: no FreeBSD counterpart; not set");
	if (m->kernel_tcp.set)
		WARN("memory.kernelTCP: no FreeBSD counterpart; not set");
	if (m->swappiness.set)
		WARN("memory.swappiness: no FreeBSD counterpart; not set");
	if (m->disable_oom_killer_set && m->disable_oom_killer)
		WARN("memory.disableOOMKiller: no FreeBSD counterpart; not set");
	return 0;
}

static int cpu_warnings(const struct lim_cpu *c, struct lim_warnings *warn, ferry_err_t *err)
{
	if (c->shares.set)
		WARN("cpu.shares: no FreeBSD counterpart; not set");
	if (c->period.set && !(c->quota.set && c->quota.v > 0))
		WARN("cpu.period: used only with a quota (pcpu = quota / period * 100); not set");
	if (c->burst.set)
		WARN("cpu.burst: no FreeBSD counterpart; not set");
	if (c->realtime_runtime.set)
		WARN("cpu.realtimeRuntime: no FreeBSD counterpart; not set");
	if (c->realtime_period.set)
		WARN("cpu.realtimePeriod: no FreeBSD counterpart; not set");
	if (c->idle.set)
		WARN("cpu.idle: no FreeBSD counterpart; not set");
	if (c->mems)
		WARN("cpu.mems: memory nodes are not mapped to FreeBSD memory domains; not set");
	return 0;
}

static int other_warnings(const struct lim_resources *r, struct lim_warnings *warn,
			  ferry_err_t *err)
{
	const struct lim_blkio *b = &r->blkio;

	if (b->weight.set || b->leaf_weight.set || b->n_weight_device)
		WARN("blockIO.weight: no FreeBSD counterpart; not set");
	if (b->n_read_bps || b->n_write_bps)
		WARN("blockIO.throttle*BpsDevice: no FreeBSD counterpart per device (RCTL "
		     "readbps/writebps are per jail); not set");
	if (b->n_read_iops || b->n_write_iops)
		WARN("blockIO.throttle*IOPSDevice: no FreeBSD counterpart per device (RCTL "
		     "readiops/writeiops are per jail); not set");
	for (size_t i = 0; i < r->n_hugepages; i++)
		WARN("hugepageLimits[%s]: no FreeBSD counterpart (superpages are not limited); "
		     "not set",
		     r->hugepages[i].page_size);
	if (r->net_class_id.set)
		WARN("network.classID: no FreeBSD counterpart; not set");
	for (size_t i = 0; i < r->n_net_prios; i++)
		WARN("network.priorities[%s]: no FreeBSD counterpart; not set",
		     r->net_prios[i].name);
	for (size_t i = 0; i < r->n_unified; i++)
		WARN("unified.%s: cgroup v2 only; not set", r->unified[i].key);
	return 0;
}

static int devfs_add(struct lim_freebsd *out, bool allow, const char *path, ferry_err_t *err)
{
	if (!path)
		return lim_strv_addf(&out->devfs, &out->n_devfs, err, "%s",
				     allow ? "unhide" : "hide");
	return lim_strv_addf(&out->devfs, &out->n_devfs, err, "path %s %s", path,
			     allow ? "unhide" : "hide");
}

/* The devfs rules for one named device; pts covers the directory and its nodes. */
static int devfs_named(struct lim_freebsd *out, bool allow, const char *name, int64_t minor,
		       ferry_err_t *err)
{
	char path[48];

	if (strcmp(name, "pts") != 0)
		return devfs_add(out, allow, name, err);
	if (minor >= 0) {
		snprintf(path, sizeof(path), "pts/%" PRId64, minor);
		return devfs_add(out, allow, path, err);
	}
	if (allow && devfs_add(out, allow, "pts", err) < 0)
		return -1;
	return devfs_add(out, allow, "pts/*", err);
}

static int devfs_rule(const struct lim_device_rule *d, size_t idx, struct lim_freebsd *out,
		      struct lim_warnings *warn, ferry_err_t *err)
{
	int found = 0;

	if (d->type == 'a' || (d->type == 'c' && d->major < 0 && d->minor < 0))
		return devfs_add(out, d->allow, NULL, err);
	if (d->type == 'b')
		WARN("devices[%zu]: FreeBSD has no block devices; rule dropped", idx);
	if (d->type == 'b')
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(dev_names); i++) {
		if ((d->major >= 0 && dev_names[i].major != d->major) ||
		    (d->minor >= 0 && dev_names[i].minor >= 0 && dev_names[i].minor != d->minor))
			continue;
		if (devfs_named(out, d->allow, dev_names[i].name,
				dev_names[i].minor < 0 ? d->minor : -1, err) < 0)
			return -1;
		found++;
	}
	if (!found)
		WARN("devices[%zu]: no FreeBSD device name for %" PRId64 ":%" PRId64
		     "; rule dropped",
		     idx, d->major, d->minor);
	else if (d->allow && (!strchr(d->access, 'r') || !strchr(d->access, 'w')))
		WARN("devices[%zu]: devfs cannot restrict access to \"%s\"; device unhidden", idx,
		     d->access);
	return 0;
}

int lim_to_freebsd(const struct lim_resources *r, const char *name, int64_t nofile,
		   struct lim_freebsd *out, struct lim_warnings *warn, ferry_err_t *err)
{
	memset(out, 0, sizeof(*out));
	if (!name || !*name || strpbrk(name, ": \t\n/"))
		return ferry_error(err, 0, "RCTL: \"%s\" is not a usable jail name",
				   name ? name : "");
	if (rctl_rules(r, name, nofile, out, err) < 0 ||
	    lim_dup(&out->cpuset, r->cpu.cpus, err) < 0)
		goto fail;
	for (size_t i = 0; i < r->n_devices; i++)
		if (devfs_rule(&r->devices[i], i, out, warn, err) < 0)
			goto fail;
	if (memory_warnings(&r->memory, warn, err) < 0 || cpu_warnings(&r->cpu, warn, err) < 0 ||
	    other_warnings(r, warn, err) < 0)
		goto fail;
	return 0;
fail:
	lim_freebsd_free(out);
	return -1;
}

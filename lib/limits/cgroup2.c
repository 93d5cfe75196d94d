// SPDX-License-Identifier: Apache-2.0
/* The model -> cgroup v2 file writes, converting as runc 1.1 does. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "limits/internal.h"

#define W(file, ...)                                                    \
	do {                                                            \
		if (lim_add_write(out, "", file, err, __VA_ARGS__) < 0) \
			return -1;                                      \
	} while (0)

#define WARN(...)                                         \
	do {                                              \
		if (lim_warn(warn, err, __VA_ARGS__) < 0) \
			return -1;                        \
	} while (0)

uint64_t lim_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio weight 10..1000 -> io.weight 1..10000, as runc. */
static uint64_t blkio_to_io_weight(uint64_t w)
{
	if (w < 10)
		w = 10;
	return 1 + (w - 10) * 9999 / 990;
}

static void num_or_max(char *buf, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(buf, size, "max");
	else
		snprintf(buf, size, "%" PRId64, v);
}

/* memory.swap.max = swap - limit: OCI swap counts memory+swap, v2 swap does not. */
static int v2_swap(const struct lim_memory *m, struct lim_writes *out, ferry_err_t *err)
{
	if (!m->swap.set)
		return 0;
	if (m->swap.v == -1 || (m->limit.set && m->limit.v == -1)) {
		W("memory.swap.max", "max");
		return 0;
	}
	if (!m->limit.set)
		return ferry_error(err, 0,
				   "memory.swap: cannot set a swap limit without a memory "
				   "limit on cgroup v2");
	if (m->swap.v < m->limit.v)
		return ferry_error(err, 0,
				   "memory.swap: %" PRId64 " is below memory.limit %" PRId64
				   " (swap is memory+swap)",
				   m->swap.v, m->limit.v);
	W("memory.swap.max", "%" PRId64, m->swap.v - m->limit.v);
	return 0;
}

static int v2_memory(const struct lim_memory *m, struct lim_writes *out, struct lim_warnings *warn,
		     ferry_err_t *err)
{
	char v[24];

	if (v2_swap(m, out, err) < 0)
		return -1;
	if (m->limit.set) {
		num_or_max(v, sizeof(v), m->limit.v);
		W("memory.max", "%s", v);
	}
	if (m->reservation.set) {
		num_or_max(v, sizeof(v), m->reservation.v);
		W("memory.low", "%s", v);
	}
	if (m->kernel.set)
		WARN("memory.kernel: no cgroup v2 counterpart (kernel memory is counted in "
		     "memory.max); not set");
	if (m->kernel_tcp.set)
		WARN("memory.kernelTCP: no cgroup v2 counterpart (TCP memory is counted in "
		     "memory.max); not set");
	if (m->swappiness.set)
		WARN("memory.swappiness: no cgroup v2 counterpart; not set");
	if (m->disable_oom_killer_set && m->disable_oom_killer)
		WARN("memory.disableOOMKiller: no cgroup v2 counterpart; not set");
	if (m->use_hierarchy_set && !m->use_hierarchy)
		WARN("memory.useHierarchy: cgroup v2 is always hierarchical; not set");
	return 0;
}

static int v2_cpu(const struct lim_cpu *c, struct lim_writes *out, struct lim_warnings *warn,
		  ferry_err_t *err)
{
	if (c->shares.set)
		W("cpu.weight", "%" PRIu64, lim_shares_to_weight(c->shares.v));
	if (c->quota.set || c->period.set) {
		char q[24] = "max", p[24] = "";

		if (c->quota.set && c->quota.v > 0)
			snprintf(q, sizeof(q), "%" PRId64, c->quota.v);
		if (c->period.set)
			snprintf(p, sizeof(p), " %" PRIu64, c->period.v);
		W("cpu.max", "%s%s", q, p);
	}
	if (c->burst.set)
		W("cpu.max.burst", "%" PRIu64, c->burst.v);
	if (c->idle.set)
		W("cpu.idle", "%" PRId64, c->idle.v);
	if (c->cpus)
		W("cpuset.cpus", "%s", c->cpus);
	if (c->mems)
		W("cpuset.mems", "%s", c->mems);
	if (c->realtime_runtime.set)
		WARN("cpu.realtimeRuntime: no cgroup v2 counterpart; not set");
	if (c->realtime_period.set)
		WARN("cpu.realtimePeriod: no cgroup v2 counterpart; not set");
	return 0;
}

/* One io.max line per device, with the keys set for it: "8:0 rbps=N wbps=N riops=N wiops=N". */
static int v2_io_max(const struct lim_blkio *b, struct lim_writes *out, ferry_err_t *err)
{
	const struct lim_dev_value *lists[4] = {b->read_bps, b->write_bps, b->read_iops,
						b->write_iops};
	const size_t ns[4] = {b->n_read_bps, b->n_write_bps, b->n_read_iops, b->n_write_iops};
	static const char *const keys[4] = {"rbps", "wbps", "riops", "wiops"};

	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; i < ns[l]; i++) {
			int64_t maj = lists[l][i].major, min = lists[l][i].minor;
			char line[256];
			int len, seen = 0;

			/* Skip a device an earlier list already wrote. */
			for (int pl = 0; pl < l && !seen; pl++)
				for (size_t j = 0; j < ns[pl] && !seen; j++)
					seen =
					    lists[pl][j].major == maj && lists[pl][j].minor == min;
			for (size_t j = 0; j < i && !seen; j++)
				seen = lists[l][j].major == maj && lists[l][j].minor == min;
			if (seen)
				continue;
			len = snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, maj, min);
			for (int k = l; k < 4; k++)
				for (size_t j = 0; j < ns[k]; j++)
					if (lists[k][j].major == maj && lists[k][j].minor == min) {
						len += snprintf(line + len, sizeof(line) - len,
								" %s=%" PRIu64, keys[k],
								lists[k][j].value);
						break;
					}
			W("io.max", "%s", line);
		}
	}
	return 0;
}

static int v2_io(const struct lim_blkio *b, struct lim_writes *out, struct lim_warnings *warn,
		 ferry_err_t *err)
{
	if (b->weight.set)
		W("io.weight", "default %" PRIu64, blkio_to_io_weight(b->weight.v));
	if (b->leaf_weight.set)
		WARN("blockIO.leafWeight: no cgroup v2 counterpart; not set");
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct lim_dev_value *d = &b->weight_device[i];

		if (d->value)
			W("io.bfq.weight", "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
			  d->value);
		if (d->leaf_set)
			WARN("blockIO.weightDevice[%zu].leafWeight: no cgroup v2 counterpart; not "
			     "set",
			     i);
	}
	return v2_io_max(b, out, err);
}

static int v2_rest(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err)
{
	if (r->pids_limit.set) {
		if (r->pids_limit.v > 0)
			W("pids.max", "%" PRId64, r->pids_limit.v);
		else
			W("pids.max", "max");
	}
	for (size_t i = 0; i < r->n_hugepages; i++) {
		char file[64];

		snprintf(file, sizeof(file), "hugetlb.%s.max", r->hugepages[i].page_size);
		W(file, "%" PRIu64, r->hugepages[i].limit);
	}
	if (r->net_class_id.set)
		WARN("network.classID: cgroup v2 has no net_cls; not set");
	for (size_t i = 0; i < r->n_net_prios; i++)
		WARN("network.priorities[%s]: cgroup v2 has no net_prio; not set",
		     r->net_prios[i].name);
	for (size_t i = 0; i < r->n_unified; i++)
		W(r->unified[i].key, "%s", r->unified[i].value);
	return 0;
}

int lim_to_cgroup2(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err)
{
	memset(out, 0, sizeof(*out));
	if (v2_memory(&r->memory, out, warn, err) < 0 || v2_cpu(&r->cpu, out, warn, err) < 0 ||
	    v2_io(&r->blkio, out, warn, err) < 0 || v2_rest(r, out, warn, err) < 0) {
		lim_writes_free(out);
		return -1;
	}
	return 0;
}

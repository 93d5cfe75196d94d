// SPDX-License-Identifier: Apache-2.0
/* The live values of a cgroup v1 container back into the model: the inverse of lim_to_cgroup1.
 * A file that does not exist is skipped; "max", -1 and the kernel's unlimited value mean -1. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

struct rd {
	lim_read_fn read;
	void *arg;
};

/* A signed value; v1 memory's PAGE_COUNTER_MAX (and above) is unlimited. Returns true if read. */
static bool rd_i64(const struct rd *rd, const char *ctl, const char *file, struct lim_i64 *out)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, ctl, file);
	int64_t v;

	if (!s || lim_parse_max(s, &v) < 0)
		return false;
	if (v >= LIM_V1_UNLIMITED)
		v = -1;
	out->set = true;
	out->v = v;
	return true;
}

static bool rd_u64(const struct rd *rd, const char *ctl, const char *file, struct lim_u64 *out)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, ctl, file);
	uint64_t v;

	if (!s || lim_parse_u64(s, &v) < 0)
		return false;
	out->set = true;
	out->v = v;
	return true;
}

/* A cpuset list; empty means none. */
static int rd_list(const struct rd *rd, const char *ctl, const char *file, char **out,
		   ferry_err_t *err)
{
	char *s = lim_read_trim(rd->read, rd->arg, ctl, file);

	if (s && !*s) {
		free(s);
		s = NULL;
	}
	free(*out);
	*out = s;
	return 0;
}

static void read_memory(const struct rd *rd, struct lim_resources *r)
{
	struct lim_memory *m = &r->memory;
	_cleanup_free_ char *oom = NULL;
	bool any = false;

	any |= rd_i64(rd, "memory", "memory.limit_in_bytes", &m->limit);
	any |= rd_i64(rd, "memory", "memory.soft_limit_in_bytes", &m->reservation);
	any |= rd_i64(rd, "memory", "memory.memsw.limit_in_bytes", &m->swap);
	any |= rd_i64(rd, "memory", "memory.kmem.tcp.limit_in_bytes", &m->kernel_tcp);
	any |= rd_u64(rd, "memory", "memory.swappiness", &m->swappiness);
	/* No soft limit and no TCP limit are the defaults, not limits to carry. */
	if (m->reservation.set && m->reservation.v == -1)
		m->reservation.set = false;
	if (m->kernel_tcp.set && m->kernel_tcp.v == -1)
		m->kernel_tcp.set = false;
	oom = lim_read_trim(rd->read, rd->arg, "memory", "memory.oom_control");
	if (oom) {
		const char *k = strstr(oom, "oom_kill_disable ");

		m->disable_oom_killer_set = true;
		m->disable_oom_killer = k && k[strlen("oom_kill_disable ")] == '1';
		any = true;
	}
	r->has_memory = any;
}

static int read_cpu(const struct rd *rd, struct lim_resources *r, ferry_err_t *err)
{
	struct lim_cpu *c = &r->cpu;
	bool any = false;

	any |= rd_u64(rd, "cpu", "cpu.shares", &c->shares);
	any |= rd_i64(rd, "cpu", "cpu.cfs_quota_us", &c->quota);
	any |= rd_u64(rd, "cpu", "cpu.cfs_period_us", &c->period);
	any |= rd_u64(rd, "cpu", "cpu.cfs_burst_us", &c->burst);
	any |= rd_i64(rd, "cpu", "cpu.rt_runtime_us", &c->realtime_runtime);
	any |= rd_u64(rd, "cpu", "cpu.rt_period_us", &c->realtime_period);
	any |= rd_i64(rd, "cpu", "cpu.idle", &c->idle);
	/* Defaults a new cgroup has are not carried: no burst, no realtime time, not idle. */
	if (c->burst.set && c->burst.v == 0)
		c->burst.set = false;
	if (!c->realtime_runtime.set || c->realtime_runtime.v == 0)
		c->realtime_runtime.set = c->realtime_period.set = false;
	if (c->idle.set && c->idle.v == 0)
		c->idle.set = false;
	if (rd_list(rd, "cpuset", "cpuset.cpus", &c->cpus, err) < 0 ||
	    rd_list(rd, "cpuset", "cpuset.mems", &c->mems, err) < 0)
		return -1;
	r->has_cpu = any || c->cpus || c->mems;
	return 0;
}

/* Lines "8:0 1048576" (other lines, like bfq's "default 100", are skipped). */
static int read_dev_lines(const struct rd *rd, const char *file, struct lim_dev_value **list,
			  size_t *n, ferry_err_t *err)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, "blkio", file);
	char *save = NULL;

	if (!s)
		return 0;
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct lim_dev_value d = {0};
		char *sp = strchr(line, ' ');

		if (!sp)
			continue;
		*sp = '\0';
		if (lim_parse_majmin(line, &d.major, &d.minor) < 0 || d.major < 0 || d.minor < 0 ||
		    lim_parse_u64(sp + 1, &d.value) < 0)
			continue;
		if (lim_dev_push(list, n, &d, err) < 0)
			return -1;
	}
	return 0;
}

static int read_blkio(const struct rd *rd, struct lim_resources *r, ferry_err_t *err)
{
	struct lim_blkio *b = &r->blkio;
	bool any = false;

	any |= rd_u64(rd, "blkio", "blkio.weight", &b->weight);
	any |= rd_u64(rd, "blkio", "blkio.leaf_weight", &b->leaf_weight);
	if (read_dev_lines(rd, "blkio.weight_device", &b->weight_device, &b->n_weight_device, err) <
		0 ||
	    read_dev_lines(rd, "blkio.throttle.read_bps_device", &b->read_bps, &b->n_read_bps,
			   err) < 0 ||
	    read_dev_lines(rd, "blkio.throttle.write_bps_device", &b->write_bps, &b->n_write_bps,
			   err) < 0 ||
	    read_dev_lines(rd, "blkio.throttle.read_iops_device", &b->read_iops, &b->n_read_iops,
			   err) < 0 ||
	    read_dev_lines(rd, "blkio.throttle.write_iops_device", &b->write_iops, &b->n_write_iops,
			   err) < 0)
		return -1;
	r->has_blkio = any || b->n_weight_device || b->n_read_bps || b->n_write_bps ||
		       b->n_read_iops || b->n_write_iops;
	return 0;
}

/* The huge page sizes Linux offers on the architectures it runs containers on. */
const char *const lim_hugepage_sizes[] = {"64KB",  "2MB", "16MB", "32MB",
					  "512MB", "1GB", "16GB", NULL};

static int add_hugepage(struct lim_resources *r, const char *size, uint64_t limit, ferry_err_t *err)
{
	struct lim_hugepage *n = realloc(r->hugepages, (r->n_hugepages + 1) * sizeof(*n));

	if (!n)
		return lim_oom(err);
	r->hugepages = n;
	n[r->n_hugepages].limit = limit;
	if (lim_dup(&n[r->n_hugepages].page_size, size, err) < 0)
		return -1;
	r->n_hugepages++;
	return 0;
}

/* hugetlb.<size>.limit_in_bytes (v1) or hugetlb.<size>.max (v2); unlimited sizes are skipped. */
int lim_read_hugepages(lim_read_fn read, void *arg, const char *ctl, const char *suffix,
		       struct lim_resources *r, ferry_err_t *err)
{
	for (const char *const *sz = lim_hugepage_sizes; *sz; sz++) {
		char file[64];
		_cleanup_free_ char *s = NULL;
		int64_t v;

		snprintf(file, sizeof(file), "hugetlb.%s.%s", *sz, suffix);
		s = lim_read_trim(read, arg, ctl, file);
		if (!s || lim_parse_max(s, &v) < 0 || v < 0 || v >= LIM_V1_UNLIMITED)
			continue;
		if (add_hugepage(r, *sz, (uint64_t)v, err) < 0)
			return -1;
	}
	return 0;
}

/* devices.list: "a *:* rwm" is everything allowed, else deny all and allow each line. */
static int read_devices(const struct rd *rd, struct lim_resources *r, ferry_err_t *err)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, "devices", "devices.list");
	char *save = NULL;
	size_t lines = 0;

	if (!s)
		return 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	r->devices = calloc(lines + 2, sizeof(*r->devices));
	if (!r->devices)
		return lim_oom(err);
	if (strcmp(s, "a *:* rwm") != 0)
		r->devices[r->n_devices++] = (struct lim_device_rule){false, 'a', -1, -1, "rwm"};
	for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct lim_device_rule d = {.allow = true};
		char num[48], acc[8];

		if (sscanf(line, "%c %47s %7s", &d.type, num, acc) != 3 || !strchr("acb", d.type) ||
		    strspn(acc, "rwm") != strlen(acc) || strlen(acc) > 3 ||
		    lim_parse_majmin(num, &d.major, &d.minor) < 0)
			continue;
		memcpy(d.access, acc, strlen(acc) + 1);
		r->devices[r->n_devices++] = d;
	}
	return 0;
}

static int read_network(const struct rd *rd, struct lim_resources *r, ferry_err_t *err)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, "net_prio", "net_prio.ifpriomap");
	char *save = NULL;

	if (rd_u64(rd, "net_cls", "net_cls.classid", &r->net_class_id) && !r->net_class_id.v)
		r->net_class_id.set = false;
	for (char *line = s ? strtok_r(s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		uint32_t prio;
		struct lim_net_prio *n;

		if (sscanf(line, "%63s %" SCNu32, name, &prio) != 2 || prio == 0)
			continue;
		n = realloc(r->net_prios, (r->n_net_prios + 1) * sizeof(*n));
		if (!n)
			return lim_oom(err);
		r->net_prios = n;
		n[r->n_net_prios].priority = prio;
		if (lim_dup(&n[r->n_net_prios].name, name, err) < 0)
			return -1;
		r->n_net_prios++;
	}
	r->has_network = r->net_class_id.set || r->n_net_prios;
	return 0;
}

int lim_from_cgroup1(lim_read_fn read, void *arg, struct lim_resources *out, ferry_err_t *err)
{
	struct rd rd = {read, arg};

	memset(out, 0, sizeof(*out));
	read_memory(&rd, out);
	if (read_cpu(&rd, out, err) < 0 || read_blkio(&rd, out, err) < 0 ||
	    lim_read_hugepages(read, arg, "hugetlb", "limit_in_bytes", out, err) < 0 ||
	    read_devices(&rd, out, err) < 0 || read_network(&rd, out, err) < 0)
		goto fail;
	out->has_pids = rd_i64(&rd, "pids", "pids.max", &out->pids_limit);
	return 0;
fail:
	lim_free(out);
	return ferry_error_wrap(err, "cgroup v1 limits");
}

// SPDX-License-Identifier: Apache-2.0
/* runc's `events --stats` "data" object from a cgroup's files (v1 or v2), with runc's keys and its
 * omitempty rules: zero values of omitempty fields are left out. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

/* USER_HZ: cpuacct.stat counts in these ticks per second (runc uses the same constant). */
#define CLOCK_TICKS 100ULL
#define NSEC 1000000000ULL

/* jansson integers are signed: larger values are strings marked with \u0001, unquoted at dump. */
static json_t *u64_json(uint64_t v)
{
	char buf[32];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), "\001%" PRIu64, v);
	return json_string(buf);
}

static void put(json_t *o, const char *k, uint64_t v, bool omitempty)
{
	if (v || !omitempty)
		json_object_set_new(o, k, u64_json(v));
}

struct src {
	lim_read_fn read;
	void *arg;
};

/* A number file; "max" is UINT64_MAX (as runc). Returns 0 when absent. */
static uint64_t num(const struct src *s, const char *ctl, const char *file, bool *found)
{
	_cleanup_free_ char *t = lim_read_trim(s->read, s->arg, ctl, file);
	uint64_t v = 0;

	if (found)
		*found = t != NULL;
	if (t && strcmp(t, "max") == 0)
		return UINT64_MAX;
	if (t && lim_parse_u64(t, &v) < 0)
		v = 0;
	return v;
}

/* Calls fn(key, value) for each "key value" line of a file (cpu.stat, memory.stat ...). */
static void each_kv(const struct src *s, const char *ctl, const char *file,
		    void (*fn)(void *ctx, const char *k, uint64_t v), void *ctx)
{
	_cleanup_free_ char *t = lim_read_trim(s->read, s->arg, ctl, file);
	char *save = NULL;

	for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[128];
		uint64_t v;

		if (sscanf(line, "%127s %" SCNu64, key, &v) == 2)
			fn(ctx, key, v);
	}
}

struct cpu_acc {
	uint64_t user, kernel, total, periods, throttled, throttled_time;
	bool v2;
};

static void cpu_kv(void *ctx, const char *k, uint64_t v)
{
	struct cpu_acc *a = ctx;

	if (strcmp(k, "user") == 0)
		a->user = v * NSEC / CLOCK_TICKS;
	else if (strcmp(k, "system") == 0)
		a->kernel = v * NSEC / CLOCK_TICKS;
	else if (strcmp(k, "usage_usec") == 0)
		a->total = v * 1000;
	else if (strcmp(k, "user_usec") == 0)
		a->user = v * 1000;
	else if (strcmp(k, "system_usec") == 0)
		a->kernel = v * 1000;
	else if (strcmp(k, "nr_periods") == 0)
		a->periods = v;
	else if (strcmp(k, "nr_throttled") == 0)
		a->throttled = v;
	else if (strcmp(k, "throttled_time") == 0)
		a->throttled_time = v;
	else if (strcmp(k, "throttled_usec") == 0)
		a->throttled_time = v * 1000;
}

/* cpuacct.usage_percpu: numbers separated by spaces. */
static json_t *percpu_json(const struct src *s, const char *file)
{
	_cleanup_free_ char *t = lim_read_trim(s->read, s->arg, "cpuacct", file);
	json_t *a = json_array();
	char *save = NULL;

	for (char *w = t ? strtok_r(t, " \n", &save) : NULL; w; w = strtok_r(NULL, " \n", &save)) {
		uint64_t v;

		if (lim_parse_u64(w, &v) == 0)
			json_array_append_new(a, u64_json(v));
	}
	return a;
}

/* cpuacct.usage_all: "cpu user system" then "N user_ns system_ns" lines. */
static void percpu_all(const struct src *s, json_t *usage)
{
	_cleanup_free_ char *t = lim_read_trim(s->read, s->arg, "cpuacct", "cpuacct.usage_all");
	json_t *k = json_array(), *u = json_array();
	char *save = NULL;

	for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned cpu;
		uint64_t us, sy;

		if (sscanf(line, "%u %" SCNu64 " %" SCNu64, &cpu, &us, &sy) != 3)
			continue;
		json_array_append_new(u, u64_json(us));
		json_array_append_new(k, u64_json(sy));
	}
	json_object_set_new(usage, "percpu_kernel", k);
	json_object_set_new(usage, "percpu_user", u);
}

static json_t *cpu_json(const struct src *s, bool v2)
{
	struct cpu_acc a = {.v2 = v2};
	json_t *o = json_object(), *usage = json_object(), *thr = json_object(), *pc;

	if (v2) {
		each_kv(s, "", "cpu.stat", cpu_kv, &a);
	} else {
		a.total = num(s, "cpuacct", "cpuacct.usage", NULL);
		each_kv(s, "cpuacct", "cpuacct.stat", cpu_kv, &a);
		each_kv(s, "cpu", "cpu.stat", cpu_kv, &a);
	}
	put(usage, "total", a.total, true);
	pc = v2 ? json_array() : percpu_json(s, "cpuacct.usage_percpu");
	if (json_array_size(pc))
		json_object_set_new(usage, "percpu", pc);
	else
		json_decref(pc);
	if (!v2)
		percpu_all(s, usage);
	put(usage, "kernel", a.kernel, false);
	put(usage, "user", a.user, false);
	/* percpu_kernel/percpu_user are omitempty lists. */
	if (!json_array_size(json_object_get(usage, "percpu_kernel")))
		json_object_del(usage, "percpu_kernel");
	if (!json_array_size(json_object_get(usage, "percpu_user")))
		json_object_del(usage, "percpu_user");
	json_object_set_new(o, "usage", usage);
	put(thr, "periods", a.periods, true);
	put(thr, "throttledPeriods", a.throttled, true);
	put(thr, "throttledTime", a.throttled_time, true);
	json_object_set_new(o, "throttling", thr);
	return o;
}

/* A runc MemoryEntry: limit and failcnt always, usage and max when not zero. */
static json_t *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
	json_t *o = json_object();

	put(o, "limit", limit, false);
	put(o, "usage", usage, true);
	put(o, "max", max, true);
	put(o, "failcnt", failcnt, false);
	return o;
}

static json_t *v1_mem_entry(const struct src *s, const char *prefix)
{
	char f[4][96];
	static const char *const names[4] = {"limit_in_bytes", "usage_in_bytes",
					     "max_usage_in_bytes", "failcnt"};
	uint64_t v[4];

	for (int i = 0; i < 4; i++) {
		snprintf(f[i], sizeof(f[i]), "%s%s", prefix, names[i]);
		v[i] = num(s, "memory", f[i], NULL);
	}
	return mem_entry(v[0], v[1], v[2], v[3]);
}

static void raw_kv(void *ctx, const char *k, uint64_t v)
{
	json_object_set_new(ctx, k, u64_json(v));
}

static json_t *memory_json(const struct src *s, bool v2)
{
	json_t *o = json_object(), *raw = json_object();
	json_t *cache;

	each_kv(s, v2 ? "" : "memory", "memory.stat", raw_kv, raw);
	cache = json_object_get(raw, v2 ? "file" : "cache");
	if (cache && json_integer_value(cache))
		json_object_set(o, "cache", cache);
	if (v2) {
		uint64_t usage = num(s, "", "memory.current", NULL);
		uint64_t limit = num(s, "", "memory.max", NULL);
		uint64_t swap = num(s, "", "memory.swap.current", NULL);
		uint64_t slimit = num(s, "", "memory.swap.max", NULL);

		/* As runc: v2 swap is reported as memory+swap, like v1's memsw. */
		if (slimit != UINT64_MAX)
			slimit = limit == UINT64_MAX ? UINT64_MAX : slimit + limit;
		json_object_set_new(o, "usage", mem_entry(limit, usage, 0, 0));
		json_object_set_new(o, "swap", mem_entry(slimit, swap + usage, 0, 0));
		json_object_set_new(o, "kernel", mem_entry(0, 0, 0, 0));
		json_object_set_new(o, "kernelTCP", mem_entry(0, 0, 0, 0));
	} else {
		json_object_set_new(o, "usage", v1_mem_entry(s, "memory."));
		json_object_set_new(o, "swap", v1_mem_entry(s, "memory.memsw."));
		json_object_set_new(o, "kernel", v1_mem_entry(s, "memory.kmem."));
		json_object_set_new(o, "kernelTCP", v1_mem_entry(s, "memory.kmem.tcp."));
	}
	if (json_object_size(raw))
		json_object_set_new(o, "raw", raw);
	else
		json_decref(raw);
	return o;
}

static json_t *pids_json(const struct src *s, bool v2)
{
	json_t *o = json_object();
	uint64_t max = num(s, v2 ? "" : "pids", "pids.max", NULL);

	put(o, "current", num(s, v2 ? "" : "pids", "pids.current", NULL), true);
	put(o, "limit", max == UINT64_MAX ? 0 : max, true);
	return o;
}

static void blk_entry(json_t *list, int64_t maj, int64_t min, const char *op, uint64_t v)
{
	json_t *e = json_object();

	put(e, "major", (uint64_t)maj, true);
	put(e, "minor", (uint64_t)min, true);
	if (*op)
		json_object_set_new(e, "op", json_string(op));
	put(e, "value", v, true);
	json_array_append_new(list, e);
}

/* v1 blkio lines "8:0 Read 123"; "Total N" lines are skipped (as runc). */
static void v1_blk_list(const struct src *s, json_t *o, const char *key, const char *file)
{
	char rec[96];
	_cleanup_free_ char *t = NULL;
	json_t *list = json_array();
	char *save = NULL;

	snprintf(rec, sizeof(rec), "%s_recursive", file);
	t = lim_read_trim(s->read, s->arg, "blkio", rec);
	if (!t || !*t) {
		free(t);
		t = lim_read_trim(s->read, s->arg, "blkio", file);
	}
	for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char dev[48], op[32];
		int64_t maj, min;
		uint64_t v;

		if (sscanf(line, "%47s %31s %" SCNu64, dev, op, &v) == 3 &&
		    lim_parse_majmin(dev, &maj, &min) == 0 && maj >= 0 && min >= 0)
			blk_entry(list, maj, min, op, v);
	}
	if (json_array_size(list))
		json_object_set_new(o, key, list);
	else
		json_decref(list);
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static void v2_io_stat(const struct src *s, json_t *o)
{
	_cleanup_free_ char *t = lim_read_trim(s->read, s->arg, "", "io.stat");
	json_t *bytes = json_array(), *ios = json_array();
	char *save = NULL;

	for (char *line = t ? strtok_r(t, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *save2 = NULL, *tok = strtok_r(line, " ", &save2);
		int64_t maj, min;
		uint64_t v;

		if (!tok || lim_parse_majmin(tok, &maj, &min) < 0 || maj < 0 || min < 0)
			continue;
		while ((tok = strtok_r(NULL, " ", &save2))) {
			char *eq = strchr(tok, '=');

			if (!eq || lim_parse_u64(eq + 1, &v) < 0)
				continue;
			*eq = '\0';
			if (strcmp(tok, "rbytes") == 0 || strcmp(tok, "wbytes") == 0)
				blk_entry(bytes, maj, min, *tok == 'r' ? "Read" : "Write", v);
			else if (strcmp(tok, "rios") == 0 || strcmp(tok, "wios") == 0)
				blk_entry(ios, maj, min, *tok == 'r' ? "Read" : "Write", v);
		}
	}
	if (json_array_size(bytes))
		json_object_set_new(o, "ioServiceBytesRecursive", bytes);
	else
		json_decref(bytes);
	if (json_array_size(ios))
		json_object_set_new(o, "ioServicedRecursive", ios);
	else
		json_decref(ios);
}

static json_t *blkio_json(const struct src *s, bool v2)
{
	json_t *o = json_object();

	if (v2) {
		v2_io_stat(s, o);
		return o;
	}
	v1_blk_list(s, o, "ioServiceBytesRecursive", "blkio.throttle.io_service_bytes");
	v1_blk_list(s, o, "ioServicedRecursive", "blkio.throttle.io_serviced");
	return o;
}

static void events_kv(void *ctx, const char *k, uint64_t v)
{
	if (strcmp(k, "max") == 0)
		*(uint64_t *)ctx = v;
}

static json_t *hugetlb_json(const struct src *s, bool v2)
{
	json_t *o = json_object();

	for (const char *const *sz = lim_hugepage_sizes; *sz; sz++) {
		char f[96];
		bool found;
		uint64_t usage, max = 0, failcnt = 0;
		json_t *e;

		snprintf(f, sizeof(f), "hugetlb.%s.%s", *sz, v2 ? "current" : "usage_in_bytes");
		usage = num(s, v2 ? "" : "hugetlb", f, &found);
		if (!found)
			continue;
		if (v2) {
			snprintf(f, sizeof(f), "hugetlb.%s.events", *sz);
			each_kv(s, "", f, events_kv, &failcnt);
		} else {
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", *sz);
			max = num(s, "hugetlb", f, NULL);
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", *sz);
			failcnt = num(s, "hugetlb", f, NULL);
		}
		e = json_object();
		put(e, "usage", usage, true);
		put(e, "max", max, true);
		put(e, "failcnt", failcnt, false);
		json_object_set_new(o, *sz, e);
	}
	return o;
}

/* Turns the "\u0001<digits>" strings back into bare numbers. */
static void unquote_big(char *s)
{
	char *p;

	while ((p = strstr(s, "\"\\u0001"))) {
		char *end = strchr(p + 7, '"');
		size_t n;

		if (!end)
			break;
		n = (size_t)(end - (p + 7));
		memmove(p, p + 7, n);
		memmove(p + n, end + 1, strlen(end + 1) + 1);
	}
}

char *lim_stats_json(lim_read_fn read, void *arg, bool v2)
{
	struct src s = {read, arg};
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "cpu", cpu_json(&s, v2));
	json_object_set_new(o, "cpuset", json_object());
	json_object_set_new(o, "memory", memory_json(&s, v2));
	json_object_set_new(o, "pids", pids_json(&s, v2));
	json_object_set_new(o, "blkio", blkio_json(&s, v2));
	json_object_set_new(o, "hugetlb", hugetlb_json(&s, v2));
	json_object_set_new(o, "intel_rdt", json_object());
	json_object_set_new(o, "network_interfaces", json_null());
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	if (text)
		unquote_big(text);
	return text;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The portable resource model: OCI linux.resources as values, and pure translators from it to
 * cgroup v1 files, cgroup v2 files and FreeBSD RCTL rules (plus cpuset and devfs rules), and back
 * from what a live host shows. No syscalls here: file contents come in through a callback.
 * What a target cannot express comes back as warnings naming the setting, never dropped silently.
 */
#ifndef FERRY_LIMITS_H
#define FERRY_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

/* An optional value: `set` says whether the config (or the host) gave it. */
struct lim_i64 {
	bool set;
	int64_t v;
};

struct lim_u64 {
	bool set;
	uint64_t v;
};

struct lim_memory {
	struct lim_i64 limit;       /* bytes; -1 unlimited */
	struct lim_i64 reservation; /* soft limit */
	struct lim_i64 swap;        /* memory+swap (v1 semantics, as OCI); -1 unlimited */
	struct lim_i64 kernel;      /* deprecated; warned about */
	struct lim_i64 kernel_tcp;
	struct lim_u64 swappiness;  /* 0..100 */
	bool disable_oom_killer_set;
	bool disable_oom_killer;
	bool use_hierarchy_set;
	bool use_hierarchy;
	bool check_before_update_set;
	bool check_before_update;
};

struct lim_cpu {
	struct lim_u64 shares;           /* 2..262144 */
	struct lim_i64 quota;            /* microseconds per period; -1 unlimited */
	struct lim_u64 period;           /* microseconds; default 100000 */
	struct lim_u64 burst;            /* microseconds */
	struct lim_i64 realtime_runtime; /* microseconds */
	struct lim_u64 realtime_period;
	char *cpus;                      /* "0-3,7" or NULL */
	char *mems;
	struct lim_i64 idle;             /* 0 or 1 */
};

struct lim_dev_value {
	int64_t major;
	int64_t minor;
	uint64_t value;      /* rate (bytes or ops per second) or weight */
	bool leaf_set;       /* weight devices: leafWeight given */
	uint64_t leaf_value;
};

struct lim_blkio {
	struct lim_u64 weight;      /* 10..1000 */
	struct lim_u64 leaf_weight;
	struct lim_dev_value *weight_device;
	size_t n_weight_device;
	struct lim_dev_value *read_bps;
	size_t n_read_bps;
	struct lim_dev_value *write_bps;
	size_t n_write_bps;
	struct lim_dev_value *read_iops;
	size_t n_read_iops;
	struct lim_dev_value *write_iops;
	size_t n_write_iops;
};

struct lim_hugepage {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;  /* bytes */
};

struct lim_device_rule {
	bool allow;
	char type;       /* 'a' (all), 'c', 'b' */
	int64_t major;   /* -1: any */
	int64_t minor;   /* -1: any */
	char access[4];  /* subset of "rwm", NUL-terminated */
};

struct lim_net_prio {
	char *name;
	uint32_t priority;
};

struct lim_kv {
	char *key;
	char *value;
};

struct lim_resources {
	bool has_memory, has_cpu, has_pids, has_blkio, has_network;
	struct lim_memory memory;
	struct lim_cpu cpu;
	struct lim_i64 pids_limit; /* -1 or 0: unlimited (as runc) */
	struct lim_blkio blkio;
	struct lim_hugepage *hugepages;
	size_t n_hugepages;
	struct lim_device_rule *devices;
	size_t n_devices;
	struct lim_u64 net_class_id;
	struct lim_net_prio *net_prios;
	size_t n_net_prios;
	struct lim_kv *unified; /* cgroup v2 raw key/values */
	size_t n_unified;
};

/* One setting a target could not express, e.g. "cpu.shares: no FreeBSD counterpart". */
struct lim_warnings {
	char **msgs;
	size_t n;
};

/* One file write: <hierarchy of controller>/<cgroup>/<file> = value. For v2, controller is "". */
struct lim_write {
	char *controller; /* v1: "memory", "cpu", "cpuset", ...; v2: "" */
	char *file;       /* "memory.limit_in_bytes", "cpu.max", ... */
	char *value;
};

struct lim_writes {
	struct lim_write *w;
	size_t n;
};

/* The FreeBSD side: RCTL rules ("jail:<name>:memoryuse:deny=536870912"), a cpuset list, devfs
 * rules ("path null unhide", ...). */
struct lim_freebsd {
	char **rctl;
	size_t n_rctl;
	char *cpuset; /* NULL when no cpus are given */
	char **devfs;
	size_t n_devfs;
};

/* Parses OCI linux.resources JSON text (as in config.json, or `update -r FILE`) into *out. Errors
 * name the field under `prefix` (e.g. "linux.resources.memory.limit: must be >= -1"). Refuses
 * negative or absurd values and unknown device types. Returns 0 or -1. */
int lim_parse_json(const char *json, const char *prefix, struct lim_resources *out,
		   ferry_err_t *err);

/* Returns the model as OCI linux.resources JSON text (new string), or NULL. */
char *lim_to_json(const struct lim_resources *r);

/* Copies every value set in `update` over `base` (runc update semantics); returns 0 or -1. */
int lim_merge(struct lim_resources *base, const struct lim_resources *update, ferry_err_t *err);

/* Frees what r owns and zeroes it. */
void lim_free(struct lim_resources *r);

/* cgroup v1 writes, in an order the kernel accepts (e.g. memory+swap after memory when raising,
 * before when lowering: both orders are emitted by the driver retrying; see lim_writes doc).
 * Device rules become devices.deny "a" then devices.allow/deny lines. Returns 0 or -1. */
int lim_to_cgroup1(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err);

/* cgroup v2 writes (cpu.weight from shares as runc/crun convert, cpu.max "quota period",
 * memory.max/low/swap.max, pids.max, io.max/io.weight, hugetlb.<size>.max, cpuset.cpus/mems,
 * unified as is). Device rules are not files on v2: the driver builds an eBPF program from
 * r->devices. Returns 0 or -1. */
int lim_to_cgroup2(const struct lim_resources *r, struct lim_writes *out, struct lim_warnings *warn,
		   ferry_err_t *err);

/* FreeBSD: RCTL rules for jail `name` (memoryuse, vmemoryuse from swap, pcpu = quota/period*100
 * rounded up and at least 1, cputime, maxproc from pids, openfiles from nofile when given >= 0),
 * a cpuset list and devfs rules by device name. Returns 0 or -1. */
int lim_to_freebsd(const struct lim_resources *r, const char *name, int64_t nofile,
		   struct lim_freebsd *out, struct lim_warnings *warn, ferry_err_t *err);

/* cgroup v2 shares -> weight, as runc and crun convert (2..262144 -> 1..10000). */
uint64_t lim_shares_to_weight(uint64_t shares);

/* Reads a file of the container's cgroup: returns a new string with its contents, or NULL when it
 * does not exist (not an error). controller: as in struct lim_write. */
typedef char *(*lim_read_fn)(void *arg, const char *controller, const char *file);

/* Live values of a container's cgroup (v1 or v2 files) into *out; returns 0 or -1. */
int lim_from_cgroup1(lim_read_fn read, void *arg, struct lim_resources *out, ferry_err_t *err);
int lim_from_cgroup2(lim_read_fn read, void *arg, struct lim_resources *out, ferry_err_t *err);

/* Parses RCTL rule text (one rule a line, as `rctl -h jail:name` prints) into *out. */
int lim_from_rctl(const char *text, struct lim_resources *out, ferry_err_t *err);

/* runc's `events --stats` JSON "data" object (cpu, memory, pids, blkio, hugetlb) from the
 * cgroup's files; v2: true for the unified layout. Returns a new string or NULL. */
char *lim_stats_json(lim_read_fn read, void *arg, bool v2);

void lim_writes_free(struct lim_writes *w);
void lim_warnings_free(struct lim_warnings *w);
void lim_freebsd_free(struct lim_freebsd *f);

#endif

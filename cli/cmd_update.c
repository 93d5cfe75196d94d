// SPDX-License-Identifier: Apache-2.0
/* update: changes the resource limits of a container live, as runc's flags or an OCI
 * linux.resources JSON file. A value of 0 leaves that setting unchanged, as in runc. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"

struct update_flags {
	const char *resources;
	const char *blkio_weight;
	const char *cpu_period;
	const char *cpu_quota;
	const char *cpu_share;
	const char *cpu_rt_period;
	const char *cpu_rt_runtime;
	const char *cpuset_cpus;
	const char *cpuset_mems;
	const char *memory;
	const char *memory_reservation;
	const char *memory_swap;
	const char *kernel_memory;
	const char *kernel_memory_tcp;
	const char *pids_limit;
	const char *l3_cache_schema;
	const char *mem_bw_schema;
};

static int bad_value(const char *flag, const char *value, const char *why)
{
	fprintf(stderr, "ferry update: --%s: invalid value \"%s\": %s\n", flag, value, why);
	return -1;
}

/* Parses a decimal integer (optionally signed) that fills the whole string; returns 0 or -1. */
static int parse_int(const char *s, long long *out)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* docker's RAMInBytes: "300m", "300M", "300MB", "300MiB", "1.5g", "300 m" or plain bytes, with
 * binary multiples; "-1" means unlimited. Returns 0 or -1. */
static int parse_size(const char *s, long long *out)
{
	static const char units[] = "kmgtp";
	const char *p = s, *u;
	char *end;
	double v, mul = 1;

	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1])))
		p++;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end != p)
		return -1;
	if (*p == ' ')
		p++;
	if (*p && (u = strchr(units, tolower((unsigned char)*p)))) {
		for (long k = 0; k <= u - units; k++)
			mul *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v * mul >= 9.2e18)
		return -1;
	*out = (long long)(v * mul);
	return 0;
}

/* A cpuset list: "0-3,7". Returns 0 or -1. */
static int valid_cpuset(const char *s)
{
	const char *p = s;

	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return p == s ? -1 : 0;
}

static json_t *section(json_t *res, const char *name)
{
	json_t *o = json_object_get(res, name);

	if (!o) {
		o = json_object();
		json_object_set_new(res, name, o);
	}
	return o;
}

/* A memory flag: a size or -1; 0 leaves it unchanged. Returns 0 or -1. */
static int add_size(json_t *res, const char *flag, const char *value, const char *key)
{
	long long v;

	if (!value)
		return 0;
	if (parse_size(value, &v) < 0)
		return bad_value(flag, value,
				 "expected bytes or a size like 300M, 1G (binary multiples), or -1 "
				 "for unlimited");
	if (v != 0)
		json_object_set_new(section(res, "memory"), key, json_integer(v));
	return 0;
}

/* An integer flag in [min, max]; -1 is also taken when minus_one. 0 leaves it unchanged. */
static int add_int(json_t *res, const char *sec, const char *flag, const char *value,
		   const char *key, long long min, long long max, bool minus_one)
{
	char why[128];
	long long v;

	if (!value)
		return 0;
	if (parse_int(value, &v) < 0)
		return bad_value(flag, value, "not an integer");
	if (v == 0)
		return 0;
	if ((v < min || v > max) && !(minus_one && v == -1)) {
		if (max == INT64_MAX)
			snprintf(why, sizeof(why), "expected %s%lld or more",
				 minus_one ? "-1 or " : "", min);
		else
			snprintf(why, sizeof(why), "expected %s%lld..%lld",
				 minus_one ? "-1 or " : "", min, max);
		return bad_value(flag, value, why);
	}
	json_object_set_new(section(res, sec), key, json_integer(v));
	return 0;
}

static int add_cpuset(json_t *res, const char *flag, const char *value, const char *key)
{
	if (!value)
		return 0;
	if (valid_cpuset(value) < 0)
		return bad_value(flag, value, "expected a list like 0-3,7");
	json_object_set_new(section(res, "cpu"), key, json_string(value));
	return 0;
}

static int check_swap(const json_t *res)
{
	json_t *mem = json_object_get(res, "memory");
	json_int_t limit = json_integer_value(json_object_get(mem, "limit"));
	json_int_t swap = json_integer_value(json_object_get(mem, "swap"));

	if (limit > 0 && swap > 0 && swap < limit) {
		fprintf(stderr,
			"ferry update: --memory-swap (%" JSON_INTEGER_FORMAT ") must be at least "
			"--memory (%" JSON_INTEGER_FORMAT "): it is memory plus swap\n",
			swap, limit);
		return -1;
	}
	return 0;
}

/* Builds linux.resources from the flags; returns a new JSON object or NULL (error printed). */
static json_t *resources_from_flags(const struct update_flags *f)
{
	json_t *res = json_object();
	const long long i64max = INT64_MAX;

	if (add_int(res, "blockIO", "blkio-weight", f->blkio_weight, "weight", 10, 1000, false) ||
	    add_int(res, "cpu", "cpu-period", f->cpu_period, "period", 1000, 1000000, false) ||
	    add_int(res, "cpu", "cpu-quota", f->cpu_quota, "quota", 1000, i64max, true) ||
	    add_int(res, "cpu", "cpu-share", f->cpu_share, "shares", 2, 262144, false) ||
	    add_int(res, "cpu", "cpu-rt-period", f->cpu_rt_period, "realtimePeriod", 1, i64max,
		    false) ||
	    add_int(res, "cpu", "cpu-rt-runtime", f->cpu_rt_runtime, "realtimeRuntime", 1, i64max,
		    true) ||
	    add_cpuset(res, "cpuset-cpus", f->cpuset_cpus, "cpus") ||
	    add_cpuset(res, "cpuset-mems", f->cpuset_mems, "mems") ||
	    add_size(res, "memory", f->memory, "limit") ||
	    add_size(res, "memory-reservation", f->memory_reservation, "reservation") ||
	    add_size(res, "memory-swap", f->memory_swap, "swap") ||
	    add_size(res, "kernel-memory", f->kernel_memory, "kernel") ||
	    add_size(res, "kernel-memory-tcp", f->kernel_memory_tcp, "kernelTCP") ||
	    add_int(res, "pids", "pids-limit", f->pids_limit, "limit", 1, i64max, true) ||
	    check_swap(res) < 0) {
		json_decref(res);
		return NULL;
	}
	return res;
}

/* Reads --resources FILE ("-": stdin) as a JSON object; returns it or NULL (error printed). */
static json_t *resources_from_file(const char *path)
{
	json_error_t jerr;
	json_t *res;
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;

	if (!f) {
		fprintf(stderr, "ferry update: --resources: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	res = json_loadf(f, 0, &jerr);
	if (f != stdin)
		fclose(f);
	if (!res) {
		fprintf(stderr, "ferry update: --resources: %s: not JSON: %s (line %d)\n",
			strcmp(path, "-") ? path : "stdin", jerr.text, jerr.line);
		return NULL;
	}
	if (!json_is_object(res)) {
		fprintf(stderr,
			"ferry update: --resources: %s: expected a JSON object (linux.resources)\n",
			strcmp(path, "-") ? path : "stdin");
		json_decref(res);
		return NULL;
	}
	return res;
}

static bool any_value_flag(const struct update_flags *f)
{
	const char *const v[] = {
	    f->blkio_weight,	   f->cpu_period,    f->cpu_quota,
	    f->cpu_share,	   f->cpu_rt_period, f->cpu_rt_runtime,
	    f->cpuset_cpus,	   f->cpuset_mems,   f->memory,
	    f->memory_reservation, f->memory_swap,   f->kernel_memory,
	    f->kernel_memory_tcp,  f->pids_limit,
	};

	for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
		if (v[k])
			return true;
	return false;
}

static void print_warnings(const char *warnings)
{
	const char *p = warnings;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		if (len > 0)
			fprintf(stderr, "ferry update: warning: %.*s\n", len, p);
		p = nl ? nl + 1 : NULL;
	}
}

static int apply(const struct ferry_ctx *ctx, const char *id, json_t *res)
{
	ferry_err_t err = NULL;
	char *text = json_dumps(res, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *warnings = NULL;
	int r;

	json_decref(res);
	if (!text) {
		fprintf(stderr, "ferry update: out of memory\n");
		return 1;
	}
	r = ferry_container_update(ctx, id, text, &warnings, &err);
	free(text);
	print_warnings(warnings);
	free(warnings);
	return r < 0 ? cli_fail(&err) : 0;
}

int cmd_update(const struct ferry_ctx *ctx, int argc, char **argv)
{
	struct update_flags f = {0};
	const struct opt opts[] = {
	    {"resources", 'r', OPT_STRING, &f.resources},
	    {"blkio-weight", 0, OPT_STRING, &f.blkio_weight},
	    {"cpu-period", 0, OPT_STRING, &f.cpu_period},
	    {"cpu-quota", 0, OPT_STRING, &f.cpu_quota},
	    {"cpu-share", 0, OPT_STRING, &f.cpu_share},
	    {"cpu-rt-period", 0, OPT_STRING, &f.cpu_rt_period},
	    {"cpu-rt-runtime", 0, OPT_STRING, &f.cpu_rt_runtime},
	    {"cpuset-cpus", 0, OPT_STRING, &f.cpuset_cpus},
	    {"cpuset-mems", 0, OPT_STRING, &f.cpuset_mems},
	    {"memory", 0, OPT_STRING, &f.memory},
	    {"memory-reservation", 0, OPT_STRING, &f.memory_reservation},
	    {"memory-swap", 0, OPT_STRING, &f.memory_swap},
	    {"kernel-memory", 0, OPT_STRING, &f.kernel_memory},
	    {"kernel-memory-tcp", 0, OPT_STRING, &f.kernel_memory_tcp},
	    {"pids-limit", 0, OPT_STRING, &f.pids_limit},
	    {"l3-cache-schema", 0, OPT_STRING, &f.l3_cache_schema},
	    {"mem-bw-schema", 0, OPT_STRING, &f.mem_bw_schema},
	    {NULL, 0, 0, NULL},
	};
	json_t *res;
	int i = 1, r = opts_parse("update", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("update") : 1;
	if (i != argc - 1)
		return cli_usage_error("update", "expects exactly one container id");
	if (f.l3_cache_schema || f.mem_bw_schema) {
		fprintf(stderr, "ferry update: --%s: Intel RDT is not supported by ferry\n",
			f.l3_cache_schema ? "l3-cache-schema" : "mem-bw-schema");
		return 1;
	}
	if (f.resources && any_value_flag(&f))
		return cli_usage_error("update", "--resources cannot be combined with value flags");
	res = f.resources ? resources_from_file(f.resources) : resources_from_flags(&f);
	if (!res)
		return 1;
	return apply(ctx, argv[i], res);
}

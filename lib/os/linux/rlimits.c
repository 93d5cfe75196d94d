// SPDX-License-Identifier: Apache-2.0
/* process.rlimits: names, validation and setrlimit, with a clear error for a refused raise. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"


static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, or -1 (names are exact, as runc takes them). */
static int rlimit_resource(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(rlimit_names); i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

/* Formats a limit for messages: a number, or "unlimited". */
static const char *rlim_str(rlim_t v, char buf[static 24])
{
	if (v == RLIM_INFINITY)
		return "unlimited";
	snprintf(buf, 24, "%" PRIu64, (uint64_t)v);
	return buf;
}

/* Checks every process.rlimits entry: known type, soft <= hard. Returns 0 or -1. */
int lx_rlimits_validate(const struct ferry_process *proc, ferry_err_t *err)
{
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		const struct ferry_rlimit *r = &proc->rlimits[i];

		if (rlimit_resource(r->type) < 0)
			return ferry_error(err, 0,
					   "process.rlimits[%zu].type: unknown rlimit \"%s\"", i,
					   r->type ? r->type : "");
		if (r->soft > r->hard)
			return ferry_error(err, 0,
					   "process.rlimits[%zu] %s: soft limit %" PRIu64
					   " is greater than hard limit %" PRIu64,
					   i, r->type, r->soft, r->hard);
	}
	return 0;
}

/* True when the calling process holds CAP_SYS_RESOURCE in its effective set. */
static bool has_sys_resource(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, CAP_SYS_RESOURCE, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	return v == CAP_SET;
}

/* Reads fs.nr_open, the ceiling of RLIMIT_NOFILE even for a privileged process; 0 if unknown. */
static uint64_t nr_open(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	uint64_t v = 0;

	if (!f || fscanf(f, "%" SCNu64, &v) != 1)
		return 0;
	return v;
}

/* Explains why setrlimit refused entry i with EPERM. Returns -1. */
static int rlimit_eperm(size_t i, const struct ferry_rlimit *r, int resource, ferry_err_t *err)
{
	struct rlimit cur;
	char from[24], to[24];
	uint64_t ceiling = nr_open();

	if (resource == RLIMIT_NOFILE && ceiling && r->hard > ceiling)
		return ferry_error(
		    err, 0,
		    "process.rlimits[%zu] %s: hard limit %s is above fs.nr_open (%" PRIu64 ")", i,
		    r->type, rlim_str(r->hard, to), ceiling);
	if (getrlimit(resource, &cur) < 0 || r->hard <= cur.rlim_max || has_sys_resource())
		return ferry_error(err, EPERM, "process.rlimits[%zu] %s: setrlimit", i, r->type);
	return ferry_error(
	    err, 0, "process.rlimits[%zu] %s: cannot raise the hard limit from %s to %s: %s", i,
	    r->type, rlim_str(cur.rlim_max, from), rlim_str(r->hard, to),
	    cap_get_bound(CAP_SYS_RESOURCE) > 0 ? "the process does not hold CAP_SYS_RESOURCE"
						: "this host withholds CAP_SYS_RESOURCE");
}

int lx_rlimits_apply(const struct ferry_process *proc, ferry_err_t *err)
{
	if (lx_rlimits_validate(proc, err) < 0)
		return -1;
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		const struct ferry_rlimit *r = &proc->rlimits[i];
		int resource = rlimit_resource(r->type);
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};

		if (setrlimit(resource, &rl) == 0)
			continue;
		if (errno == EPERM)
			return rlimit_eperm(i, r, resource, err);
		return ferry_error_errno(err, "process.rlimits[%zu] %s: setrlimit", i, r->type);
	}
	return 0;
}

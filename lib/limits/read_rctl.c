// SPDX-License-Identifier: Apache-2.0
/* RCTL rule text (as `rctl` or `rctl -h` prints it) back into the model: the inverse of
 * lim_to_freebsd's rules. Only deny rules are limits; other actions are skipped. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

/* "536870912", "512m", "1G" (expand_number(3): powers of 1024); returns 0 or -1. */
static int parse_amount(const char *s, int64_t *out)
{
	static const char units[] = "kmgtpe";
	char *end;
	unsigned long long v;
	const char *u;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == '\0')
		shift = 0;
	else if (end[1] == '\0' && (u = strchr(units, tolower((unsigned char)*end))))
		shift = 10 * (int)(u - units + 1);
	else
		return -1;
	if (shift && v > (unsigned long long)INT64_MAX >> shift)
		return -1;
	if (v << shift > INT64_MAX)
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

/* Applies one "subject:id:resource:action=amount[/per]" rule; returns 0 or -1. */
static int apply_rule(char *rule, size_t lineno, struct lim_resources *r, ferry_err_t *err)
{
	char *f[4], *save = NULL, *eq, *slash;
	int64_t amount;

	for (int i = 0; i < 4; i++) {
		f[i] = strtok_r(i ? NULL : rule, ":", &save);
		if (!f[i])
			return ferry_error(
			    err, 0, "RCTL line %zu: not subject:id:resource:action=amount", lineno);
	}
	eq = strchr(f[3], '=');
	if (!eq)
		return ferry_error(err, 0, "RCTL line %zu: no amount in \"%s\"", lineno, f[3]);
	*eq = '\0';
	if ((slash = strchr(eq + 1, '/')))
		*slash = '\0';
	if (parse_amount(eq + 1, &amount) < 0)
		return ferry_error(err, 0, "RCTL line %zu: bad amount \"%s\"", lineno, eq + 1);
	if (strcmp(f[3], "deny") != 0)
		return 0;
	if (strcmp(f[2], "memoryuse") == 0) {
		r->has_memory = r->memory.limit.set = true;
		r->memory.limit.v = amount;
	} else if (strcmp(f[2], "vmemoryuse") == 0) {
		r->has_memory = r->memory.swap.set = true;
		r->memory.swap.v = amount;
	} else if (strcmp(f[2], "pcpu") == 0) {
		/* pcpu = quota / period * 100, with the default period. */
		if (amount < 1 || amount > INT64_MAX / 1000)
			return ferry_error(err, 0, "RCTL line %zu: pcpu %" PRId64 " out of range",
					   lineno, amount);
		r->has_cpu = r->cpu.quota.set = r->cpu.period.set = true;
		r->cpu.period.v = LIM_DEFAULT_PERIOD;
		r->cpu.quota.v = amount * (int64_t)(LIM_DEFAULT_PERIOD / 100);
	} else if (strcmp(f[2], "maxproc") == 0) {
		r->has_pids = r->pids_limit.set = true;
		r->pids_limit.v = amount;
	}
	return 0;
}

int lim_from_rctl(const char *text, struct lim_resources *out, ferry_err_t *err)
{
	_cleanup_free_ char *copy = strdup(text ? text : "");
	char *save = NULL;
	size_t lineno = 0;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return lim_oom(err);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		_cleanup_free_ char *t = lim_strdup_trim(line);

		lineno++;
		if (!t)
			return lim_oom(err);
		for (p = t; *p && !isspace((unsigned char)*p); p++)
			;
		if (!*t || *t == '#')
			continue;
		if (*p) {
			lim_free(out);
			return ferry_error(err, 0, "RCTL line %zu: unexpected space in \"%s\"",
					   lineno, t);
		}
		if (apply_rule(t, lineno, out, err) < 0) {
			lim_free(out);
			return -1;
		}
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* `ferry limits`: linux.resources JSON shown as OCI JSON, cgroup v1 or v2 writes, or FreeBSD RCTL
 * rules with cpuset and devfs lines; warnings follow as "# warning: ..." lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/container.h"
#include "limits/internal.h"

static void print_writes(FILE *f, const struct lim_writes *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (*w->w[i].controller)
			fprintf(f, "%s/", w->w[i].controller);
		fprintf(f, "%s %s\n", w->w[i].file, w->w[i].value);
	}
}

static void print_freebsd(FILE *f, const struct lim_freebsd *fb)
{
	for (size_t i = 0; i < fb->n_rctl; i++)
		fprintf(f, "%s\n", fb->rctl[i]);
	if (fb->cpuset)
		fprintf(f, "cpuset: %s\n", fb->cpuset);
	for (size_t i = 0; i < fb->n_devfs; i++)
		fprintf(f, "devfs: %s\n", fb->devfs[i]);
}

/* Writes the translation of r into f; returns 0 or -1. */
static int format_into(FILE *f, const struct lim_resources *r, const char *format, const char *name,
		       long long nofile, ferry_err_t *err)
{
	struct lim_writes w = {0};
	struct lim_freebsd fb = {0};
	struct lim_warnings warn = {0};
	int rc;

	if (strcmp(format, "json") == 0) {
		char *j = lim_to_json(r);

		if (!j)
			return lim_oom(err);
		fprintf(f, "%s\n", j);
		free(j);
		return 0;
	}
	if (strcmp(format, "cgroup1") == 0)
		rc = lim_to_cgroup1(r, &w, &warn, err);
	else if (strcmp(format, "cgroup2") == 0)
		rc = lim_to_cgroup2(r, &w, &warn, err);
	else if (strcmp(format, "rctl") == 0)
		rc = lim_to_freebsd(r, name ? name : "", nofile < 0 ? -1 : (int64_t)nofile, &fb,
				    &warn, err);
	else
		return ferry_error(err, 0, "unknown format \"%s\" (json, cgroup1, cgroup2, rctl)",
				   format);
	if (rc == 0) {
		print_writes(f, &w);
		print_freebsd(f, &fb);
		for (size_t i = 0; i < warn.n; i++)
			fprintf(f, "# warning: %s\n", warn.msgs[i]);
	}
	lim_writes_free(&w);
	lim_freebsd_free(&fb);
	lim_warnings_free(&warn);
	return rc;
}

char *ferry_limits_format(const char *resources_json, const char *format, const char *name,
			  long long nofile, ferry_err_t *err)
{
	struct lim_resources r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (!format)
		format = "json";
	if (lim_parse_json(resources_json, "linux.resources", &r, err) < 0)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f) {
		lim_free(&r);
		ferry_error_errno(err, "limits");
		return NULL;
	}
	rc = format_into(f, &r, format, name, nofile, err);
	lim_free(&r);
	if (fclose(f) != 0 && rc == 0)
		rc = lim_oom(err);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

// SPDX-License-Identifier: Apache-2.0
/* Growing lists (writes, warnings, strings, device values) and number parsing for cgroup files. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

int lim_oom(ferry_err_t *err)
{
	return ferry_error(err, ENOMEM, "limits");
}

int lim_dup(char **out, const char *s, ferry_err_t *err)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : lim_oom(err);
}

static int strv_push(char ***v, size_t *n, char *s, ferry_err_t *err)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv) {
		free(s);
		return lim_oom(err);
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int lim_strv_addf(char ***v, size_t *n, ferry_err_t *err, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return lim_oom(err);
	return strv_push(v, n, s, err);
}

int lim_warn(struct lim_warnings *w, ferry_err_t *err, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int r;

	if (!w)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return lim_oom(err);
	return strv_push(&w->msgs, &w->n, s, err);
}

int lim_add_write(struct lim_writes *out, const char *controller, const char *file,
		  ferry_err_t *err, const char *fmt, ...)
{
	struct lim_write w = {0}, *nw;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&w.value, fmt, ap);
	va_end(ap);
	if (r < 0)
		return lim_oom(err);
	w.controller = strdup(controller);
	w.file = strdup(file);
	nw = w.controller && w.file ? realloc(out->w, (out->n + 1) * sizeof(*nw)) : NULL;
	if (!nw) {
		free(w.controller);
		free(w.file);
		free(w.value);
		return lim_oom(err);
	}
	nw[out->n++] = w;
	out->w = nw;
	return 0;
}

int lim_dev_push(struct lim_dev_value **list, size_t *n, const struct lim_dev_value *v,
		 ferry_err_t *err)
{
	struct lim_dev_value *nl = realloc(*list, (*n + 1) * sizeof(*nl));

	if (!nl)
		return lim_oom(err);
	nl[(*n)++] = *v;
	*list = nl;
	return 0;
}

char *lim_strdup_trim(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

int lim_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int lim_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

int lim_parse_max(const char *s, int64_t *out)
{
	_cleanup_free_ char *t = s ? lim_strdup_trim(s) : NULL;

	if (!t)
		return -1;
	if (strcmp(t, "max") == 0) {
		*out = -1;
		return 0;
	}
	return lim_parse_i64(t, out);
}

static int parse_dev_num(const char *s, size_t len, int64_t *out)
{
	char buf[24];
	uint64_t v;

	if (len == 1 && *s == '*') {
		*out = -1;
		return 0;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (lim_parse_u64(buf, &v) < 0 || v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int lim_parse_majmin(const char *s, int64_t *major, int64_t *minor)
{
	const char *colon = strchr(s, ':');

	if (!colon)
		return -1;
	if (parse_dev_num(s, (size_t)(colon - s), major) < 0)
		return -1;
	return parse_dev_num(colon + 1, strlen(colon + 1), minor);
}

char *lim_read_trim(lim_read_fn read, void *arg, const char *controller, const char *file)
{
	_cleanup_free_ char *raw = read(arg, controller, file);

	return raw ? lim_strdup_trim(raw) : NULL;
}

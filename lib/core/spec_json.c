// SPDX-License-Identifier: Apache-2.0
/* Typed access to decoded JSON for the config.json parser, with the JSON path in every error. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/spec_internal.h"

/* Shortest integer literal above INT64_MAX: 9223372036854775808. */
#define BIGINT_MIN_DIGITS 19

size_t spec_push(struct spec_ctx *c, const char *key)
{
	size_t old = c->len;
	int n =
	    snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "", key);

	if (n > 0)
		c->len +=
		    (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - 1 - c->len;
	return old;
}

size_t spec_push_index(struct spec_ctx *c, size_t i)
{
	size_t old = c->len;
	int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);

	if (n > 0)
		c->len +=
		    (size_t)n < sizeof(c->path) - c->len ? (size_t)n : sizeof(c->path) - 1 - c->len;
	return old;
}

void spec_pop(struct spec_ctx *c, size_t len)
{
	c->len = len;
	c->path[len] = '\0';
}

static int spec_vfail(struct spec_ctx *c, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		return ferry_error(c->err, ENOMEM, "%s", c->file);
	if (c->len)
		return ferry_error(c->err, 0, "%s: %s: %s", c->file, c->path, msg);
	return ferry_error(c->err, 0, "%s: %s", c->file, msg);
}

int spec_fail(struct spec_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spec_vfail(c, fmt, ap);
	va_end(ap);
	return -1;
}

int spec_fail_at(struct spec_ctx *c, const char *key, const char *fmt, ...)
{
	size_t old = spec_push(c, key);
	va_list ap;

	va_start(ap, fmt);
	spec_vfail(c, fmt, ap);
	va_end(ap);
	spec_pop(c, old);
	return -1;
}

/* Parses a decimal literal of digits; returns false when it does not fit in 64 bits. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Remembers value and writes a same-length placeholder string "\u0000<index>" over the literal
 * at text[0..n), so line and column numbers of later errors stay right. */
static int bigint_replace(struct spec_ctx *c, char *text, size_t n, uint64_t value)
{
	uint64_t *t = realloc(c->bigints, (c->n_bigints + 1) * sizeof(*t));
	char buf[32];
	int w;

	if (!t)
		return -1;
	c->bigints = t;
	w = snprintf(buf, sizeof(buf), "\"\\u0000%zu\"", c->n_bigints);
	if (w < 0 || (size_t)w > n)
		return -1;
	t[c->n_bigints++] = value;
	memset(text, ' ', n);
	memcpy(text, buf, (size_t)w);
	return 0;
}

/* Length of the unsigned integer literal at text[i] that jansson cannot hold (above INT64_MAX,
 * at most UINT64_MAX), or 0. */
static size_t bigint_at(const char *text, size_t len, size_t i, uint64_t *value)
{
	size_t j = i;

	if (text[i] < '1' || text[i] > '9')
		return 0;
	if (i > 0 && text[i - 1] && strchr("-+.eE0123456789", text[i - 1]))
		return 0;
	while (j < len && text[j] >= '0' && text[j] <= '9')
		j++;
	if (j - i < BIGINT_MIN_DIGITS)
		return 0;
	if (j < len && text[j] && strchr(".eE", text[j]))
		return 0;
	if (!parse_u64(text + i, j - i, value) || *value <= INT64_MAX)
		return 0;
	return j - i;
}

/* jansson keeps integers as int64: returns a copy of text with the literals above INT64_MAX
 * replaced (see bigint_replace); NULL when there are none, or with *nomem set. */
static char *bigints_rewrite(struct spec_ctx *c, const char *text, size_t len, bool *nomem)
{
	_cleanup_free_ char *copy = NULL;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		uint64_t value;
		size_t n;

		if (in_str) {
			if (text[i] == '\\')
				i++;
			else if (text[i] == '"')
				in_str = false;
			continue;
		}
		if (text[i] == '"') {
			in_str = true;
			continue;
		}
		n = bigint_at(text, len, i, &value);
		if (!n)
			continue;
		if (!copy) {
			copy = malloc(len);
			if (!copy)
				goto nomem;
			memcpy(copy, text, len);
		}
		if (bigint_replace(c, copy + i, n, value) < 0)
			goto nomem;
		i += n - 1;
	}
	return steal_ptr(copy);
nomem:
	*nomem = true;
	return NULL;
}

json_t *spec_json_load(struct spec_ctx *c, const char *text, size_t len)
{
	_cleanup_free_ char *copy = NULL;
	json_error_t jerr;
	bool nomem = false;
	json_t *root;

	copy = bigints_rewrite(c, text, len, &nomem);
	if (nomem) {
		ferry_error(c->err, ENOMEM, "%s", c->file);
		return NULL;
	}
	root = json_loadb(copy ? copy : text, len, copy ? JSON_ALLOW_NUL : 0, &jerr);
	if (!root) {
		ferry_error(c->err, 0, "%s: line %d, column %d: %s", c->file, jerr.line,
			    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		spec_fail(c, "expected an object, got %s", spec_type_name(c, root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Length of a placeholder `"\u0000<index>"` at s in dumped text, with its value, or 0. */
static size_t placeholder_at(const struct spec_ctx *c, const char *s, uint64_t *value)
{
	static const char head[] = "\"\\u0000";
	size_t n = sizeof(head) - 1, idx = 0;

	if (strncmp(s, head, n) != 0 || s[n] < '0' || s[n] > '9')
		return 0;
	for (; s[n] >= '0' && s[n] <= '9' && idx < c->n_bigints; n++)
		idx = idx * 10 + (size_t)(s[n] - '0');
	if (s[n] != '"' || idx >= c->n_bigints)
		return 0;
	*value = c->bigints[idx];
	return n + 1;
}

char *spec_json_dump(struct spec_ctx *c, const json_t *v)
{
	_cleanup_free_ char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *out, *o;

	if (!text || c->n_bigints == 0)
		return steal_ptr(text);
	/* a placeholder (at least 9 bytes) stands for at most 20 digits */
	out = malloc(strlen(text) * 3 + 1);
	if (!out)
		return NULL;
	o = out;
	for (const char *s = text; *s;) {
		uint64_t value;
		size_t n = placeholder_at(c, s, &value);

		if (n) {
			o += sprintf(o, "%" PRIu64, value);
			s += n;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

void spec_ctx_done(struct spec_ctx *c)
{
	free(c->bigints);
	c->bigints = NULL;
	c->n_bigints = 0;
}

/* Returns true when v is a placeholder left by bigints_rewrite(), with its value in *out. */
static bool spec_bigint(const struct spec_ctx *c, const json_t *v, uint64_t *out)
{
	const char *s;
	size_t n, idx = 0;

	if (!json_is_string(v) || c->n_bigints == 0)
		return false;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n < 2 || n > 12 || s[0] != '\0')
		return false;
	for (size_t i = 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		idx = idx * 10 + (size_t)(s[i] - '0');
	}
	if (idx >= c->n_bigints)
		return false;
	*out = c->bigints[idx];
	return true;
}

json_t *spec_member(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

const char *spec_type_name(struct spec_ctx *c, const json_t *v)
{
	uint64_t big;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return spec_bigint(c, v, &big) ? "integer" : "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

int spec_val_object(struct spec_ctx *c, const json_t *v)
{
	if (!json_is_object(v))
		return spec_fail(c, "expected an object, got %s", spec_type_name(c, v));
	return 0;
}

int spec_val_str(struct spec_ctx *c, const json_t *v, char **out)
{
	uint64_t big;

	if (!json_is_string(v) || spec_bigint(c, v, &big))
		return spec_fail(c, "expected a string, got %s", spec_type_name(c, v));
	if (strlen(json_string_value(v)) != json_string_length(v))
		return spec_fail(c, "must not contain a NUL character");
	*out = strdup(json_string_value(v));
	if (!*out)
		return spec_fail(c, "out of memory");
	return 0;
}

int spec_val_u64(struct spec_ctx *c, const json_t *v, uint64_t *out)
{
	if (spec_bigint(c, v, out))
		return 0;
	if (!json_is_integer(v))
		return spec_fail(c, "expected an unsigned integer, got %s", spec_type_name(c, v));
	if (json_integer_value(v) < 0)
		return spec_fail(c, "%" JSON_INTEGER_FORMAT " is out of range (0 to %" PRIu64 ")",
				 json_integer_value(v), UINT64_MAX);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int spec_val_u32(struct spec_ctx *c, const json_t *v, uint32_t *out)
{
	uint64_t big;

	if (spec_bigint(c, v, &big))
		return spec_fail(c, "%" PRIu64 " is out of range (0 to %" PRIu32 ")", big,
				 UINT32_MAX);
	if (!json_is_integer(v))
		return spec_fail(c, "expected an unsigned integer, got %s", spec_type_name(c, v));
	if (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return spec_fail(c, "%" JSON_INTEGER_FORMAT " is out of range (0 to %" PRIu32 ")",
				 json_integer_value(v), UINT32_MAX);
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

int spec_val_i64(struct spec_ctx *c, const json_t *v, int64_t min, int64_t max, int64_t *out)
{
	uint64_t big;

	if (spec_bigint(c, v, &big))
		return spec_fail(c, "%" PRIu64 " is out of range (%" PRId64 " to %" PRId64 ")", big,
				 min, max);
	if (!json_is_integer(v))
		return spec_fail(c, "expected an integer, got %s", spec_type_name(c, v));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return spec_fail(
		    c, "%" JSON_INTEGER_FORMAT " is out of range (%" PRId64 " to %" PRId64 ")",
		    json_integer_value(v), min, max);
	*out = json_integer_value(v);
	return 0;
}

/* Pushes key and returns the member, or NULL (with the "missing" error when required). */
static json_t *spec_enter(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
			  bool *has, size_t *old, int *rc)
{
	json_t *v = spec_member(obj, key);

	*old = spec_push(c, key);
	*rc = 0;
	if (has)
		*has = v != NULL;
	if (!v && required)
		*rc = spec_fail(c, "missing");
	return v;
}

int spec_get_str(struct spec_ctx *c, const json_t *obj, const char *key, bool required, char **out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, required, NULL, &old, &rc);

	if (v)
		rc = spec_val_str(c, v, out);
	spec_pop(c, old);
	return rc;
}

int spec_get_bool(struct spec_ctx *c, const json_t *obj, const char *key, bool *out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, false, NULL, &old, &rc);

	if (v && !json_is_boolean(v))
		rc = spec_fail(c, "expected a boolean, got %s", spec_type_name(c, v));
	else if (v)
		*out = json_is_true(v);
	spec_pop(c, old);
	return rc;
}

int spec_get_u32(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 uint32_t *out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, required, has, &old, &rc);

	if (v)
		rc = spec_val_u32(c, v, out);
	spec_pop(c, old);
	return rc;
}

int spec_get_u64(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 uint64_t *out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, required, has, &old, &rc);

	if (v)
		rc = spec_val_u64(c, v, out);
	spec_pop(c, old);
	return rc;
}

int spec_get_i64(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 int64_t min, int64_t max, int64_t *out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, required, has, &old, &rc);

	if (v)
		rc = spec_val_i64(c, v, min, max, out);
	spec_pop(c, old);
	return rc;
}

int spec_get_object(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
		    json_t **out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, required, NULL, &old, &rc);

	*out = NULL;
	if (v && !json_is_object(v))
		rc = spec_fail(c, "expected an object, got %s", spec_type_name(c, v));
	else
		*out = v;
	spec_pop(c, old);
	return rc;
}

int spec_get_array(struct spec_ctx *c, const json_t *obj, const char *key, json_t **out)
{
	size_t old;
	int rc;
	json_t *v = spec_enter(c, obj, key, false, NULL, &old, &rc);

	*out = NULL;
	if (v && !json_is_array(v))
		rc = spec_fail(c, "expected an array, got %s", spec_type_name(c, v));
	else
		*out = v;
	spec_pop(c, old);
	return rc;
}

int spec_get_strv(struct spec_ctx *c, const json_t *obj, const char *key, char ***out, size_t *n)
{
	json_t *arr;
	size_t count;

	if (spec_get_array(c, obj, key, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	count = json_array_size(arr);
	*out = calloc(count + 1, sizeof(**out));
	if (!*out)
		return spec_fail_at(c, key, "out of memory");
	*n = count;
	for (size_t i = 0; i < count; i++) {
		size_t old = spec_push(c, key);
		int rc;

		spec_push_index(c, i);
		rc = spec_val_str(c, json_array_get(arr, i), &(*out)[i]);
		spec_pop(c, old);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int spec_get_kv(struct spec_ctx *c, const json_t *obj, const char *key, struct ferry_kv **out,
		size_t *n)
{
	json_t *o, *v;
	const char *k;
	size_t i = 0, old;
	int rc = 0;

	if (spec_get_object(c, obj, key, false, &o) < 0)
		return -1;
	if (!o)
		return 0;
	*out = calloc(json_object_size(o) + 1, sizeof(**out));
	if (!*out)
		return spec_fail_at(c, key, "out of memory");
	old = spec_push(c, key);
	json_object_foreach(o, k, v)
	{
		size_t kold = spec_push(c, k);

		(*out)[i].key = strdup(k);
		*n = ++i;
		if (!(*out)[i - 1].key)
			rc = spec_fail(c, "out of memory");
		else
			rc = spec_val_str(c, v, &(*out)[i - 1].value);
		spec_pop(c, kold);
		if (rc < 0)
			break;
	}
	spec_pop(c, old);
	return rc;
}

int spec_get_list(struct spec_ctx *c, const json_t *obj, const char *key, size_t elem_size,
		  void **out, size_t *n, spec_elem_fn fn, void *data)
{
	json_t *arr;
	size_t count, old, key_len;
	int rc = 0;

	if (spec_get_array(c, obj, key, &arr) < 0)
		return -1;
	if (!arr || json_array_size(arr) == 0)
		return 0;
	count = json_array_size(arr);
	*out = calloc(count, elem_size);
	if (!*out)
		return spec_fail_at(c, key, "out of memory");
	*n = count;
	old = spec_push(c, key);
	key_len = c->len;
	for (size_t i = 0; i < count && rc == 0; i++) {
		json_t *v = json_array_get(arr, i);

		spec_push_index(c, i);
		rc = spec_val_object(c, v);
		if (rc == 0)
			rc = fn(c, v, (char *)*out + i * elem_size, data);
		spec_pop(c, key_len);
	}
	spec_pop(c, old);
	return rc;
}

void spec_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void spec_kv_free(struct ferry_kv *kv, size_t n)
{
	if (!kv)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

bool spec_is_abs(const char *s)
{
	return s && s[0] == '/';
}

/* Appends the component s[0..n) to out (at *len), handling "." and "..". */
static void clean_component(char *out, size_t *len, bool abs, const char *s, size_t n)
{
	if (n == 0 || (n == 1 && s[0] == '.'))
		return;
	if (n == 2 && s[0] == '.' && s[1] == '.') {
		size_t base = abs ? 1 : 0;

		if (*len > base) {
			char *slash, *last;

			out[*len] = '\0';
			slash = strrchr(out + base, '/');
			last = slash ? slash + 1 : out + base;
			if (strcmp(last, "..") != 0) {
				*len = slash ? (size_t)(slash - out) : base;
				return;
			}
		} else if (abs) {
			return;
		}
	}
	if (*len > 0 && out[*len - 1] != '/')
		out[(*len)++] = '/';
	memcpy(out + *len, s, n);
	*len += n;
}

char *spec_path_clean(const char *path)
{
	bool abs = path[0] == '/';
	size_t len = 0;
	char *out = malloc(strlen(path) + 2);

	if (!out)
		return NULL;
	if (abs)
		out[len++] = '/';
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, '/');

		clean_component(out, &len, abs, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
	if (len == 0)
		out[len++] = '.';
	out[len] = '\0';
	return out;
}

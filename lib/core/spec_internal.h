/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers of the config.json parser: typed getters that name the JSON path on error. */
#ifndef FERRY_SPEC_INTERNAL_H
#define FERRY_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gnu11 predefines `linux` as 1, which would rename the spec member `linux`. */
#undef linux
#include "ferry/spec.h"

#define SPEC_PATH_MAX 256

/* Parse state: the file label, the JSON path being read, and the error to fill. */
struct spec_ctx {
	const char *file; /* "config.json", "process" */
	char path[SPEC_PATH_MAX];
	size_t len;
	ferry_err_t *err;
	uint64_t *bigints; /* integer literals above INT64_MAX, see spec_json_load() */
	size_t n_bigints;
};

/* Decodes text into an object; returns it or NULL with "<file>: line L, column C: ..." set. */
json_t *spec_json_load(struct spec_ctx *c, const char *text, size_t len);

/* Returns v as compact JSON text with the literals spec_json_load() held aside restored, or NULL
 * when out of memory. */
char *spec_json_dump(struct spec_ctx *c, const json_t *v);

/* Releases what the context owns (not the error). */
void spec_ctx_done(struct spec_ctx *c);

/* Appends ".key" to the path; returns the previous length for spec_pop(). */
size_t spec_push(struct spec_ctx *c, const char *key);

/* Appends "[i]" to the path; returns the previous length for spec_pop(). */
size_t spec_push_index(struct spec_ctx *c, size_t i);

/* Restores the path to a length returned by spec_push*(). */
void spec_pop(struct spec_ctx *c, size_t len);

/* Sets "<file>: <path>: <message>"; returns -1. */
int spec_fail(struct spec_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets "<file>: <path>.<key>: <message>"; returns -1. */
int spec_fail_at(struct spec_ctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns the member `key` of obj, or NULL when it is absent or JSON null. */
json_t *spec_member(const json_t *obj, const char *key);

/* Returns a short name of the JSON type of v ("string", "integer", ...). */
const char *spec_type_name(struct spec_ctx *c, const json_t *v);

/* Value getters at the current path: return 0, or -1 with the error set. */
int spec_val_object(struct spec_ctx *c, const json_t *v);
int spec_val_str(struct spec_ctx *c, const json_t *v, char **out);
int spec_val_u32(struct spec_ctx *c, const json_t *v, uint32_t *out);
int spec_val_u64(struct spec_ctx *c, const json_t *v, uint64_t *out);
int spec_val_i64(struct spec_ctx *c, const json_t *v, int64_t min, int64_t max, int64_t *out);

/* Member getters: push `key`, read, pop. An absent member is an error only when `required`;
 * `has` (may be NULL) tells whether it was present. Return 0, or -1 with the error set. */
int spec_get_str(struct spec_ctx *c, const json_t *obj, const char *key, bool required, char **out);
int spec_get_bool(struct spec_ctx *c, const json_t *obj, const char *key, bool *out);
int spec_get_u32(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 uint32_t *out);
int spec_get_u64(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 uint64_t *out);
int spec_get_i64(struct spec_ctx *c, const json_t *obj, const char *key, bool required, bool *has,
		 int64_t min, int64_t max, int64_t *out);
/* *out is NULL when absent. */
int spec_get_object(struct spec_ctx *c, const json_t *obj, const char *key, bool required,
		    json_t **out);
int spec_get_array(struct spec_ctx *c, const json_t *obj, const char *key, json_t **out);
/* An array of strings, NULL-terminated; *out stays NULL when absent. */
int spec_get_strv(struct spec_ctx *c, const json_t *obj, const char *key, char ***out, size_t *n);
/* An object whose values are strings. */
int spec_get_kv(struct spec_ctx *c, const json_t *obj, const char *key, struct ferry_kv **out,
		size_t *n);

/* Parses one element of a list (at the path "key[i]") into elem; returns 0 or -1. */
typedef int (*spec_elem_fn)(struct spec_ctx *c, const json_t *v, void *elem, void *data);

/* Parses the array `key` of objects into a new zeroed array of elem_size elements, stored in
 * *out and *n before the elements are read (so a partial result can be freed). Returns 0 or -1. */
int spec_get_list(struct spec_ctx *c, const json_t *obj, const char *key, size_t elem_size,
		  void **out, size_t *n, spec_elem_fn fn, void *data);

/* Frees n strings and the array. */
void spec_strv_free(char **v, size_t n);
void spec_kv_free(struct ferry_kv *kv, size_t n);

/* Returns true when s is an absolute path. */
bool spec_is_abs(const char *s);

/* Returns a new string: path normalised lexically ("." and ".." removed, no repeated '/'). */
char *spec_path_clean(const char *path);

/* Section parsers (spec_process.c, spec_linux.c). */
int spec_parse_process_obj(struct spec_ctx *c, const json_t *obj, struct ferry_process *p);
int spec_parse_linux(struct spec_ctx *c, const json_t *obj, struct ferry_linux *l);
void spec_linux_clear(struct ferry_linux *l);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Error objects: every function that can fail takes `ferry_err_t *err` last. */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#include <stdarg.h>
#include <stddef.h>

struct ferry_err {
	int errnum;  /* errno of the cause, or 0 */
	char *msg;   /* full message, context first: "create abc: mount /proc: Permission denied" */
};
typedef struct ferry_err *ferry_err_t;

/* Sets *err (if not already set) to a new error; returns -1. Adds strerror(errnum) when errnum != 0. */
int ferry_error(ferry_err_t *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like ferry_error with errno as errnum; returns -1. */
#define ferry_error_errno(err, ...) ferry_error((err), errno, __VA_ARGS__)

/* Prefixes "<context>: " to an existing error; returns -1. */
int ferry_error_wrap(ferry_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees *err and sets it to NULL; accepts NULL. */
void ferry_error_free(ferry_err_t *err);

/* Moves an error out: returns *err and sets *err to NULL. */
ferry_err_t ferry_error_steal(ferry_err_t *err);

/* Encodes an error (errno + text, cut to fit) into buf for another process; returns the length. */
size_t ferry_error_to_wire(const struct ferry_err *e, void *buf, size_t size);

/* Builds an error from ferry_error_to_wire's bytes; returns -1 with *err set. */
int ferry_error_from_wire(ferry_err_t *err, const void *buf, size_t len);

#endif

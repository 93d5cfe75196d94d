// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/error.h"

static struct ferry_err *err_new(int errnum, char *msg)
{
	struct ferry_err *e = calloc(1, sizeof(*e));

	if (!e) {
		free(msg);
		return NULL;
	}
	e->errnum = errnum;
	e->msg = msg;
	return e;
}

int ferry_error(ferry_err_t *err, int errnum, const char *fmt, ...)
{
	char *text = NULL, *msg = NULL;
	va_list ap;

	if (!err || *err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return -1;
	if (errnum) {
		if (asprintf(&msg, "%s: %s", text, strerror(errnum)) < 0)
			msg = NULL;
		free(text);
	} else {
		msg = text;
	}
	if (msg)
		*err = err_new(errnum, msg);
	return -1;
}

int ferry_error_wrap(ferry_err_t *err, const char *fmt, ...)
{
	char *ctx = NULL, *msg = NULL;
	va_list ap;

	if (!err || !*err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = NULL;
	va_end(ap);
	if (!ctx)
		return -1;
	if (asprintf(&msg, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = msg;
	}
	free(ctx);
	return -1;
}

void ferry_error_free(ferry_err_t *err)
{
	if (!err || !*err)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

ferry_err_t ferry_error_steal(ferry_err_t *err)
{
	ferry_err_t e = *err;

	*err = NULL;
	return e;
}

/* Wire form: int32 errnum, then the message bytes (no terminator). */
size_t ferry_error_to_wire(const struct ferry_err *e, void *buf, size_t size)
{
	int32_t num = e ? e->errnum : 0;
	const char *msg = e && e->msg ? e->msg : "unknown error";
	size_t len = strlen(msg);

	if (size < sizeof(num))
		return 0;
	if (len > size - sizeof(num))
		len = size - sizeof(num);
	memcpy(buf, &num, sizeof(num));
	memcpy((char *)buf + sizeof(num), msg, len);
	return sizeof(num) + len;
}

int ferry_error_from_wire(ferry_err_t *err, const void *buf, size_t len)
{
	int32_t num = 0;
	char *msg;

	if (len < sizeof(num))
		return ferry_error(err, EPROTO, "malformed error message from child");
	memcpy(&num, buf, sizeof(num));
	msg = strndup((const char *)buf + sizeof(num), len - sizeof(num));
	if (!msg)
		return ferry_error(err, ENOMEM, "error message");
	if (err && !*err)
		*err = err_new(num, msg);
	else
		free(msg);
	return -1;
}

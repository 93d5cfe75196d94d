/* SPDX-License-Identifier: Apache-2.0 */
/* Messages between the runtime and the processes it forks (a SOCK_SEQPACKET pair): each
 * message is a type, a value, an optional payload and an optional file descriptor. Errors cross
 * as LX_SYNC_ERROR with the error object as payload. */
#ifndef LX_SYNC_H
#define LX_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

enum lx_sync_type {
	LX_SYNC_GO = 1,     /* runtime -> child: carry on */
	LX_SYNC_USERMAP,    /* child -> runtime: write my uid/gid maps */
	LX_SYNC_PID,        /* stage 1 -> runtime: value is the init's pid */
	LX_SYNC_HOOKS,      /* init -> runtime: run prestart/createRuntime hooks */
	LX_SYNC_HOOKS_DONE, /* runtime -> init: payload is the state JSON */
	LX_SYNC_CONSOLE,    /* init -> runtime: the pty master as fd, payload its name */
	LX_SYNC_READY,      /* init -> runtime: set up, waiting for start */
	LX_SYNC_ERROR,      /* either way: the payload is an error */
};

struct lx_sync_msg {
	uint32_t type;
	int32_t value;
	char *data; /* NUL-terminated payload (malloc'd) or NULL */
	size_t len;
	int fd; /* received descriptor or -1 */
};

/* Sends one message (fd < 0: none); returns 0 or -1. */
int lx_sync_send(int sock, uint32_t type, int32_t value, const void *data, size_t len, int fd,
		 ferry_err_t *err);

/* Sends an error object; best effort. */
void lx_sync_send_error(int sock, const struct ferry_err *e);

/* Receives one message and checks it has type `want`; an LX_SYNC_ERROR becomes *err, EOF becomes
 * "child exited". Returns 0 or -1. Free with lx_sync_msg_clear. */
int lx_sync_expect(int sock, uint32_t want, struct lx_sync_msg *msg, ferry_err_t *err);

/* Frees the payload and closes an unclaimed fd. */
void lx_sync_msg_clear(struct lx_sync_msg *msg);

#endif

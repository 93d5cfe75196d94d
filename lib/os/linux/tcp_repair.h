/* SPDX-License-Identifier: Apache-2.0 */
/* One TCP socket in and out of the process model with TCP_REPAIR: an ESTABLISHED connection is
 * read in repair mode (sequence numbers, both queues, negotiated options, window) and made again
 * without a handshake; a LISTEN socket is bound and listens again. Works on ferry's own copy of
 * the socket (pidfd_getfd on dump; the tracee takes ferry's socket on restore). */
#ifndef LX_TCP_REPAIR_H
#define LX_TCP_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cr/model.h"
#include "ferry/error.h"

#define LX_TCP_MAX_QUEUE (16u << 20) /* largest queue carried, each way */

/* Fills family, state, addresses and ports of t from socket sk; returns 0 or -1 (not TCP). */
int lx_tcp_identify(int sk, uint64_t ino, struct cr_tcp *t, ferry_err_t *err);

/* Writes "socket:[ino] A:P -> B:P" (or "socket:[ino] A:P" for a listener) into buf; returns buf. */
const char *lx_tcp_name(uint64_t ino, const struct cr_tcp *t, char *buf, size_t size);

/* Returns the kernel's name of TCP state s ("FIN_WAIT1", ...). */
const char *lx_tcp_state_name(uint32_t s);

/* Fills the rest of t (identified) from sk: options of the user, and for an ESTABLISHED socket
 * (its traffic locked) the repair state, read in repair mode, which is turned off again without a
 * window probe. Refuses the other states with an error naming the socket. Returns 0 or -1. */
int lx_tcp_dump(int sk, uint64_t ino, struct cr_tcp *t, ferry_err_t *err);

/* Closes ferry's last reference to a connection in repair mode: the kernel drops it without
 * sending FIN or RST. */
void lx_tcp_close_silently(int sk);

/* Turns repair mode off (with a window probe) and puts SO_REUSEADDR back as t has it; returns 0
 * or -1. */
int lx_tcp_repair_off(int sk, const struct cr_tcp *t, ferry_err_t *err);

/* Makes the socket of t (ino: its id in the image, for errors) in the calling thread's network
 * namespace: a listener bound and listening, or a connection put back in repair mode, then out of
 * it with its never-sent bytes queued normally. Returns the socket (close-on-exec) or -1. */
int lx_tcp_restore(const struct cr_tcp *t, uint64_t ino, ferry_err_t *err);

#endif

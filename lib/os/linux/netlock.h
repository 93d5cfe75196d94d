/* SPDX-License-Identifier: Apache-2.0 */
/* The network lock: nftables tables of family inet that drop a tree's traffic while its TCP
 * connections are carried. Two kinds: a whole network namespace (input and output chains whose
 * policy is drop), or, in a namespace others use too, drop rules matching each connection's
 * addresses and ports in both directions. A table made with owner set belongs to the lock's
 * netlink socket: the kernel removes it when that socket closes, so a killed ferry leaves no
 * lock behind; a table without it stays until deleted (from checkpoint to restore).
 *
 * Spoken in raw nfnetlink (the batch of NEWTABLE, NEWCHAIN, NEWRULE messages nft sends): Debian
 * ships no static libnftables, and ferry is a static binary. */
#ifndef LX_NETLOCK_H
#define LX_NETLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "ferry/error.h"

#define LX_NETLOCK_TABLE "ferry-lock"		      /* held while ferry runs (owner) */
#define LX_NETLOCK_RESTORE_TABLE "ferry-restore-lock" /* from a checkpoint to its restore */

/* One TCP connection, as seen from its socket (addresses in network byte order, ports in host
 * order). */
struct lx_netlock_conn {
	uint32_t family; /* AF_INET or AF_INET6 (a v4-mapped IPv6 address is matched as IPv4) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

struct lx_netlock;

/* A netlink socket in the network namespace netns_fd (an fd of /proc/PID/ns/net; -1: the
 * caller's); returns a new lock or NULL. */
struct lx_netlock *lx_netlock_open(int netns_fd, ferry_err_t *err);

/* Closes the socket (the kernel drops the tables it owns) and frees l; accepts NULL. */
void lx_netlock_close(struct lx_netlock *l);

/* Makes table `inet name` with input and output chains, their policy drop when whole (nothing
 * passes) else accept, owned by l's socket when owner (then it must not exist yet; one without
 * owner is added to), with the drop rules of conns[0..n). Returns 0 or -1 (nothing made). */
int lx_netlock_table(struct lx_netlock *l, const char *name, bool owner, bool whole,
		     const struct lx_netlock_conn *conns, size_t n, ferry_err_t *err);

/* In one transaction: table `inet to` without owner (added to when it exists), as
 * lx_netlock_table makes it, and table from deleted; the traffic stays locked throughout.
 * Returns 0 or -1 (nothing changed). */
int lx_netlock_handover(struct lx_netlock *l, const char *from, const char *to, bool whole,
			const struct lx_netlock_conn *conns, size_t n, ferry_err_t *err);

/* Adds the drop rules of one connection to table name; returns 0 or -1. */
int lx_netlock_add(struct lx_netlock *l, const char *name, const struct lx_netlock_conn *c,
		   ferry_err_t *err);

/* Deletes table name; a missing table is no error. Returns 0 or -1. */
int lx_netlock_delete(struct lx_netlock *l, const char *name, ferry_err_t *err);

/* Whether table name exists in l's namespace; returns 1, 0, or -1. */
int lx_netlock_exists(struct lx_netlock *l, const char *name, ferry_err_t *err);

#endif

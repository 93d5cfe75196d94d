/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI mount options as runc 1.1 reads them: flags for mount(2), propagation changes applied one
 * by one afterwards, recursive attributes for mount_setattr(2), and every other word passed to the
 * filesystem as data ("mode=755", "newinstance", ...).
 */
#ifndef LX_MOUNT_OPTIONS_H
#define LX_MOUNT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

#define LX_MOUNT_MAX_PROPAGATION 16

struct lx_mount_opts {
	unsigned long flags;				     /* MS_* for mount(2) */
	unsigned long propagation[LX_MOUNT_MAX_PROPAGATION]; /* MS_SHARED, MS_SLAVE|MS_REC, ... */
	size_t n_propagation;
	uint64_t attr_set; /* MOUNT_ATTR_* set recursively (rro, rnosuid, ...) */
	uint64_t attr_clr; /* MOUNT_ATTR_* cleared recursively (rrw, rsuid, ...) */
	char *data;	   /* the other options joined by ",", or NULL when there are none */
};

/* Parses options[0..n) into *out (zeroed first); returns 0, or -1 with *err naming the option
 * ("options[2]: ...") for the ones refused (idmap, tmpcopyup). */
int lx_mount_options_parse(char *const *options, size_t n, struct lx_mount_opts *out,
			   ferry_err_t *err);

/* Frees what *o owns and zeroes it; accepts NULL. */
void lx_mount_opts_clear(struct lx_mount_opts *o);

/* Sets *flag to the MS_* propagation of a name ("rslave", "private", ...); returns 0, or -1 when
 * the name is not a propagation. */
int lx_mount_propagation(const char *name, unsigned long *flag);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Reading /proc/self/mountinfo. */
#ifndef LX_ROOTFS_MOUNTINFO_H
#define LX_ROOTFS_MOUNTINFO_H

#include <stdbool.h>

#include "ferry/error.h"

struct lx_mountinfo {
	char *root;	  /* the mounted directory inside its filesystem */
	char *mountpoint; /* unescaped */
	char *optional;	  /* optional fields, space-separated ("shared:1 master:2"), maybe "" */
	char *fstype;
	char *source;
	char *superopts; /* "rw,cpu,cpuacct" */
};

/* Calls fn for each line of /proc/self/mountinfo in order; fn returns 0 to go on, 1 to stop, or
 * -1 (with *err set) to fail. Returns 0, or -1 with *err. */
int lx_mountinfo_foreach(int (*fn)(const struct lx_mountinfo *mi, void *arg, ferry_err_t *err),
			 void *arg, ferry_err_t *err);

/* Returns whether word is one of the comma-separated items of list. */
bool lx_list_has(const char *list, const char *word, size_t len);

#endif

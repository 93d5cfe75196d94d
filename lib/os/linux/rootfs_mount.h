/* SPDX-License-Identifier: Apache-2.0 */
/* One config mount into the container's rootfs (used by rootfs.c). */
#ifndef LX_ROOTFS_MOUNT_H
#define LX_ROOTFS_MOUNT_H

#include <stdbool.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* Mounts spec->mounts[i] under the rootfs rootfd (opened on the rootfs' own bind mount).
 * in_userns: sysfs may fall back to a bind of /sys. Returns 0 or -1 with *err, e.g.
 * "mount proc: Operation not permitted" (the caller names the mount). */
int lx_rootfs_mount(int rootfd, const struct ferry_spec *spec, size_t i, bool in_userns,
		    ferry_err_t *err);

/* Returns whether a mount is mounted read-write at first and made read-only by
 * lx_rootfs_finalize (tmpfs, and anything on /dev), as runc does. */
bool lx_rootfs_mount_delays_ro(const struct ferry_mount *m);

/* Remounts the mount at target (a path) with flags | MS_REMOUNT | MS_BIND; when the kernel
 * refuses (flags locked by a user namespace), retries keeping the mount's locked flags.
 * Returns 0 or -1 with errno set. */
int lx_remount_bind(const char *target, unsigned long flags);

#endif

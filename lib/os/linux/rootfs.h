/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's filesystem, built inside its new mount namespace by the container's init:
 *   lx_rootfs_prepare()  propagation, rootfs bind, every config mount, default and config devices,
 *                        /dev links; (createContainer hooks run after this, before the pivot)
 *   lx_rootfs_pivot()    pivot_root (or MS_MOVE + chroot with no_pivot), chdir("/")
 *   lx_rootfs_finalize() maskedPaths, readonlyPaths, root.readonly, linux.sysctl
 */
#ifndef LX_ROOTFS_H
#define LX_ROOTFS_H

#include <stdbool.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* Checks every mount (destination absolute, known type, every option known) and device of the
 * spec, and that the rootfs exists and is a directory. Errors name the field, e.g.
 * "mounts[3].options[1]: unknown mount option \"foo\"". Returns 0 or -1. */
int lx_rootfs_validate(const struct ferry_spec *spec, ferry_err_t *err);

/* Runs in the init, in its new mount namespace, before the pivot. in_userns: the init is in a
 * new user namespace (devices are then bind-mounted from the host instead of mknod'ed).
 * Returns 0 or -1 with an error naming the mount that failed. */
int lx_rootfs_prepare(const struct ferry_spec *spec, bool in_userns, ferry_err_t *err);

/* Makes spec->rootfs the root; returns 0 or -1. */
int lx_rootfs_pivot(const struct ferry_spec *spec, bool no_pivot, ferry_err_t *err);

/* After the pivot: masked and read-only paths, read-only root, sysctls. Returns 0 or -1. */
int lx_rootfs_finalize(const struct ferry_spec *spec, ferry_err_t *err);

#endif

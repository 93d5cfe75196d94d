/* SPDX-License-Identifier: Apache-2.0 */
/* Device nodes and links of a container's /dev, as runc 1.1 makes them. */
#ifndef LX_DEVICES_H
#define LX_DEVICES_H

#include <stdbool.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* Returns whether /dev gets devices and links: true unless a config mount binds over /dev. */
bool lx_devices_needed(const struct ferry_spec *spec);

/* Checks linux.devices[i] (absolute path, known type); returns 0 or -1 with *err naming it. */
int lx_devices_validate(const struct ferry_spec *spec, ferry_err_t *err);

/* In the rootfs rootfd: the default devices (null, zero, full, random, urandom, tty) unless the
 * config lists the same path, then linux.devices, each by mknod or (bind, or mknod refused) by a
 * bind mount of the host's node; /dev/ptmx -> pts/ptmx; /dev/fd, stdin, stdout, stderr, core.
 * Returns 0 or -1 with *err naming the device. */
int lx_devices_setup(int rootfd, const struct ferry_spec *spec, bool bind, ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* The files of a container's tmpfs mounts: read into the image at checkpoint, put back at
 * restore, without following a link or crossing into another mount on the way. */
#ifndef LX_CONTAINER_TMPFS_H
#define LX_CONTAINER_TMPFS_H

#include <stdint.h>

#include "cr/model.h"
#include "ferry/error.h"

#define LX_TMPFS_MAX_BYTES (1ull << 30) /* the data of all the tmpfs files of a container */

/* Opens the directory of the tmpfs mounted at dest inside rootfd (resolved in that root) and
 * checks it is the root of a tmpfs mount; returns the fd or -1. */
int lx_tmpfs_open(int rootfd, const char *dest, ferry_err_t *err);

/* Appends the mount's own directory (path ".") and every regular file, directory and symbolic
 * link under the mount mntfd to m (parents before children); *budget is the number of data
 * bytes still allowed (start with LX_TMPFS_MAX_BYTES) and is decreased. Returns 0 or -1. */
int lx_tmpfs_collect(int mntfd, struct cr_mount_files *m, uint64_t *budget, ferry_err_t *err);

/* Creates m's files under mntfd with their contents, modes, owners and times; an existing
 * entry other than a directory, or a link on the way, is an error. Returns 0 or -1. */
int lx_tmpfs_restore(int mntfd, const struct cr_mount_files *m, ferry_err_t *err);

#endif

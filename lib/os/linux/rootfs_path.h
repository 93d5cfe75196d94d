/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Paths inside a container's rootfs, resolved as if the rootfs were "/" (openat2 with
 * RESOLVE_IN_ROOT): symlinks and ".." never lead out of it.
 */
#ifndef LX_ROOTFS_PATH_H
#define LX_ROOTFS_PATH_H

#include <stdbool.h>

#include "ferry/error.h"

/* Opens path inside the root directory rootfd (flags as openat, plus O_CLOEXEC); returns an fd,
 * or -1 with errno set. */
int lx_inroot_open(int rootfd, const char *path, int flags);

/* Makes path exist inside rootfd: missing directories are created (0755) and, when file is true,
 * a missing last component is created as an empty file (0644). Returns an O_PATH fd of it, or -1
 * with *err naming the path. */
int lx_inroot_mkpath(int rootfd, const char *path, bool file, ferry_err_t *err);

/* Like lx_inroot_mkpath for the parent directory of path; stores the last component in *name
 * (pointing into path). Returns an O_PATH fd of the directory, or -1 with *err. */
int lx_inroot_mkparent(int rootfd, const char *path, const char **name, ferry_err_t *err);

/* Returns whether two absolute paths are the same once "." components and repeated or trailing
 * slashes are dropped ("/dev/./null/" equals "/dev/null"). */
bool lx_path_equal(const char *a, const char *b);

/* Writes "/proc/self/fd/<fd>" into buf (at least 32 bytes); returns buf. */
char *lx_fd_path(char *buf, int fd);

#endif

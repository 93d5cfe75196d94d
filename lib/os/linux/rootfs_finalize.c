// SPDX-License-Identifier: Apache-2.0
/* lx_rootfs_finalize: after the pivot, in runc's order. */
/* gnu11 predefines `linux`, the name of a member of struct ferry_spec. */
#undef linux
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/mount_options.h"
#include "os/linux/rootfs.h"
#include "os/linux/rootfs_mount.h"

/* tmpfs mounts and /dev were mounted read-write so they could be filled; "ro" applies now. */
static int remount_delayed_ro(const struct ferry_spec *spec, ferry_err_t *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct ferry_mount *m = &spec->mounts[i];
		struct lx_mount_opts o;
		int r = -1;

		if (!lx_rootfs_mount_delays_ro(m))
			continue;
		if (lx_mount_options_parse(m->options, m->n_options, &o, err) < 0)
			return ferry_error_wrap(err, "mounts[%zu] (%s)", i, m->destination);
		if (!(o.flags & MS_RDONLY)) {
			lx_mount_opts_clear(&o);
			continue;
		}
		for (int try = 0; try < 5; try++) {
			r = lx_remount_bind(m->destination, (o.flags & ~MS_REC) | MS_RDONLY);
			if (r == 0 || errno != EBUSY)
				break;
			nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
		}
		lx_mount_opts_clear(&o);
		if (r < 0)
			return ferry_error_errno(err, "mounts[%zu] (%s): remount read-only", i,
						 m->destination);
	}
	return 0;
}

static int write_sysctl(const char *key, const char *value, ferry_err_t *err)
{
	char path[4096];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	int n = snprintf(path, sizeof(path), "/proc/sys/%s", key);

	if (n < 0 || (size_t)n >= sizeof(path) || strchr(key, '/'))
		return ferry_error(err, EINVAL, "sysctl \"%s\"", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "sysctl \"%s\": open %s", key, path);
	if (write(fd, value, len) != (ssize_t)len)
		return ferry_error_errno(err, "sysctl \"%s\": write %s", key, path);
	return 0;
}

/* Binds path onto itself and makes that read-only, keeping nosuid/nodev/noexec; a missing path
 * is fine. */
static int readonly_path(const char *path, ferry_err_t *err)
{
	struct statvfs st;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		return ferry_error_errno(err, "bind");
	}
	if (statvfs(path, &st) < 0)
		return ferry_error_errno(err, "statfs");
	if (lx_remount_bind(path, MS_RDONLY | (st.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC))) < 0)
		return ferry_error_errno(err, "remount read-only");
	return 0;
}

/* /dev/null over a file, an empty read-only tmpfs over a directory; a missing path is fine. */
static int mask_path(const char *path, ferry_err_t *err)
{
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
		return 0;
	if (errno != ENOTDIR)
		return ferry_error_errno(err, "bind /dev/null");
	if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
		return ferry_error_errno(err, "mount tmpfs");
	return 0;
}

int lx_rootfs_finalize(const struct ferry_spec *spec, ferry_err_t *err)
{
	const struct ferry_linux *lx = &spec->linux;

	if (remount_delayed_ro(spec, err) < 0)
		return -1;
	if (spec->root_readonly && lx_remount_bind("/", MS_RDONLY) < 0)
		return ferry_error_errno(err, "root.readonly: remount / read-only");
	umask(spec->process.user.has_umask ? spec->process.user.umask : 022);
	for (size_t i = 0; i < lx->n_sysctl; i++)
		if (write_sysctl(lx->sysctl[i].key, lx->sysctl[i].value, err) < 0)
			return ferry_error_wrap(err, "linux.sysctl");
	for (size_t i = 0; i < lx->n_readonly_paths; i++)
		if (readonly_path(lx->readonly_paths[i], err) < 0)
			return ferry_error_wrap(err, "readonlyPaths[%zu] (%s)", i,
						lx->readonly_paths[i]);
	for (size_t i = 0; i < lx->n_masked_paths; i++)
		if (mask_path(lx->masked_paths[i], err) < 0)
			return ferry_error_wrap(err, "maskedPaths[%zu] (%s)", i,
						lx->masked_paths[i]);
	return 0;
}

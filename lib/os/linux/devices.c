// SPDX-License-Identifier: Apache-2.0
/* gnu11 predefines `linux`, the name of a member of struct ferry_spec. */
#undef linux
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/devices.h"
#include "os/linux/mount_options.h"
#include "os/linux/rootfs_path.h"

struct dev_node {
	const char *path;
	char type;
	unsigned int major, minor;
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

static const struct dev_node default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0}, {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0}, {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
    {"/dev/zero", 'c', 1, 5, 0666, 0, 0}, {"/dev/urandom", 'c', 1, 9, 0666, 0, 0},
};

bool lx_devices_needed(const struct ferry_spec *spec)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct ferry_mount *m = &spec->mounts[i];
		struct lx_mount_opts o;
		bool bind;

		if (!m->destination || !lx_path_equal(m->destination, "/dev"))
			continue;
		if (lx_mount_options_parse(m->options, m->n_options, &o, NULL) < 0)
			continue;
		bind = (o.flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
		lx_mount_opts_clear(&o);
		if (bind)
			return false;
	}
	return true;
}

int lx_devices_validate(const struct ferry_spec *spec, ferry_err_t *err)
{
	for (size_t i = 0; i < spec->linux.n_devices; i++) {
		const struct ferry_device *d = &spec->linux.devices[i];

		if (!d->path || d->path[0] != '/')
			return ferry_error(err, 0,
					   "linux.devices[%zu].path: \"%s\" is not absolute", i,
					   d->path ? d->path : "");
		if (!strchr("cbup", d->type) || !d->type)
			return ferry_error(err, 0,
					   "linux.devices[%zu].type: invalid device type '%c'", i,
					   d->type ? d->type : '?');
		if (d->major < 0 || d->minor < 0)
			return ferry_error(err, 0, "linux.devices[%zu]: negative major or minor",
					   i);
	}
	return 0;
}

/* Creates an empty file at the node's path and binds the host's node of that path over it. */
static int bind_node(int rootfd, const struct dev_node *d, ferry_err_t *err)
{
	_cleanup_close_ int fd = lx_inroot_mkpath(rootfd, d->path, true, err);
	char p[32];

	if (fd < 0)
		return -1;
	if (mount(d->path, lx_fd_path(p, fd), NULL, MS_BIND, NULL) < 0)
		return ferry_error_errno(err, "bind %s", d->path);
	return 0;
}

static int mknod_node(int rootfd, const struct dev_node *d, ferry_err_t *err)
{
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	_cleanup_close_ int dir = -1, fd = -1;
	const char *name;
	char p[32];

	dir = lx_inroot_mkparent(rootfd, d->path, &name, err);
	if (dir < 0)
		return -1;
	if (mknodat(dir, name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
		if (errno == EEXIST)
			return 0;
		if (errno == EPERM)
			return bind_node(rootfd, d, err);
		return ferry_error_errno(err, "mknod %s", d->path);
	}
	fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", d->path);
	/* The umask may have taken bits away. */
	if (chmod(lx_fd_path(p, fd), d->mode & 07777) < 0)
		return ferry_error_errno(err, "chmod %s", d->path);
	if (fchownat(fd, "", d->uid, d->gid, AT_EMPTY_PATH) < 0)
		return ferry_error_errno(err, "chown %s", d->path);
	return 0;
}

static int create_node(int rootfd, const struct dev_node *d, bool bind, ferry_err_t *err)
{
	/* /dev/ptmx is the link to pts/ptmx made below. */
	if (lx_path_equal(d->path, "/dev/ptmx"))
		return 0;
	return bind ? bind_node(rootfd, d, err) : mknod_node(rootfd, d, err);
}

static bool listed(const struct ferry_spec *spec, const char *path)
{
	for (size_t i = 0; i < spec->linux.n_devices; i++)
		if (spec->linux.devices[i].path && lx_path_equal(spec->linux.devices[i].path, path))
			return true;
	return false;
}

static int create_nodes(int rootfd, const struct ferry_spec *spec, bool bind, ferry_err_t *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		if (listed(spec, default_devices[i].path))
			continue;
		if (create_node(rootfd, &default_devices[i], bind, err) < 0)
			return ferry_error_wrap(err, "device %s", default_devices[i].path);
	}
	for (size_t i = 0; i < spec->linux.n_devices; i++) {
		const struct ferry_device *c = &spec->linux.devices[i];
		struct dev_node d = {
		    .path = c->path,
		    .type = c->type,
		    .major = (unsigned int)c->major,
		    .minor = (unsigned int)c->minor,
		    .mode = c->has_file_mode ? (c->file_mode & 07777) : 0666,
		    .uid = c->has_uid ? c->uid : 0,
		    .gid = c->has_gid ? c->gid : 0,
		};
		if (create_node(rootfd, &d, bind, err) < 0)
			return ferry_error_wrap(err, "linux.devices[%zu] (%s)", i, c->path);
	}
	return 0;
}

static int create_links(int devfd, ferry_err_t *err)
{
	static const char *const links[][2] = {
	    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"},
	    {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
	    {"/proc/kcore", "core"},
	};

	if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
		return ferry_error_errno(err, "remove /dev/ptmx");
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return ferry_error_errno(err, "symlink /dev/ptmx");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		/* kcore exists only with CONFIG_PROC_KCORE. */
		if (i == ARRAY_SIZE(links) - 1 && access(links[i][0], F_OK) < 0)
			continue;
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return ferry_error_errno(err, "symlink /dev/%s", links[i][1]);
	}
	return 0;
}

int lx_devices_setup(int rootfd, const struct ferry_spec *spec, bool bind, ferry_err_t *err)
{
	_cleanup_close_ int devfd = -1;

	if (create_nodes(rootfd, spec, bind, err) < 0)
		return -1;
	devfd = lx_inroot_mkpath(rootfd, "/dev", false, err);
	if (devfd < 0)
		return ferry_error_wrap(err, "/dev");
	return create_links(devfd, err);
}

// SPDX-License-Identifier: Apache-2.0
/* gnu11 predefines `linux`, the name of a member of struct ferry_spec. */
#undef linux
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/devices.h"
#include "os/linux/mount_options.h"
#include "os/linux/rootfs.h"
#include "os/linux/rootfs_mount.h"
#include "os/linux/rootfs_mountinfo.h"
#include "os/linux/rootfs_path.h"

/* Returns whether path has a ".." that climbs above its start ("/a/../../b"). */
static bool escapes(const char *path)
{
	long depth = 0;

	for (const char *p = path; *p;) {
		size_t n;

		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
	}
	return false;
}

static int validate_mount(const struct ferry_spec *spec, size_t i, ferry_err_t *err)
{
	const struct ferry_mount *m = &spec->mounts[i];
	_cleanup_free_ char *src = NULL;
	struct lx_mount_opts o;
	struct stat st;
	bool bind;

	if (!m->destination || m->destination[0] != '/')
		return ferry_error(err, 0, "mounts[%zu].destination: \"%s\" is not absolute", i,
				   m->destination ? m->destination : "");
	if (escapes(m->destination))
		return ferry_error(err, 0, "mounts[%zu].destination: \"%s\" leaves the rootfs", i,
				   m->destination);
	if (lx_mount_options_parse(m->options, m->n_options, &o, err) < 0)
		return ferry_error_wrap(err, "mounts[%zu]", i);
	bind = (o.flags & MS_BIND) || (m->type && strcmp(m->type, "bind") == 0);
	lx_mount_opts_clear(&o);
	if (!bind)
		return 0;
	if (!m->source || !*m->source)
		return ferry_error(err, 0, "mounts[%zu].source: a bind mount needs a source", i);
	if (m->source[0] != '/' && spec->bundle) {
		if (asprintf(&src, "%s/%s", spec->bundle, m->source) < 0)
			return ferry_error(err, ENOMEM, "mounts[%zu]", i);
	}
	if (stat(src ? src : m->source, &st) < 0)
		return ferry_error_errno(err, "mounts[%zu].source: %s", i, m->source);
	return 0;
}

/* runc's rules: a sysctl must belong to a namespace the container has of its own. */
static int validate_sysctl(const struct ferry_spec *spec, const char *key, ferry_err_t *err)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb",	    "kernel.msgmni",
					  "kernel.sem",	   "kernel.shmall",	    "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};
	const struct ferry_namespace *ns;
	bool is_ipc = strncmp(key, "fs.mqueue.", 10) == 0;
	struct stat a, b;

	if (!*key || strchr(key, '/') || escapes(key))
		return ferry_error(err, 0, "linux.sysctl: invalid key \"%s\"", key);
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		is_ipc = is_ipc || strcmp(key, ipc[i]) == 0;
	if (is_ipc) {
		if (ferry_spec_namespace(spec, FERRY_NS_IPC))
			return 0;
		return ferry_error(err, 0,
				   "sysctl \"%s\" is not allowed in the hosts ipc namespace", key);
	}
	if (strncmp(key, "net.", 4) == 0) {
		ns = ferry_spec_namespace(spec, FERRY_NS_NETWORK);
		if (ns &&
		    (!ns->path || stat(ns->path, &a) < 0 || stat("/proc/self/ns/net", &b) < 0 ||
		     a.st_dev != b.st_dev || a.st_ino != b.st_ino))
			return 0;
		return ferry_error(err, 0, "sysctl \"%s\" not allowed in host network namespace",
				   key);
	}
	if (ferry_spec_namespace(spec, FERRY_NS_UTS)) {
		if (strcmp(key, "kernel.domainname") == 0)
			return 0;
		if (strcmp(key, "kernel.hostname") == 0)
			return ferry_error(err, 0,
					   "sysctl \"%s\" is not allowed as it conflicts with the "
					   "OCI \"hostname\" field",
					   key);
	}
	return ferry_error(err, 0, "sysctl \"%s\" is not in a separate kernel namespace", key);
}

int lx_rootfs_validate(const struct ferry_spec *spec, ferry_err_t *err)
{
	const char *prop = spec->linux.rootfs_propagation;
	unsigned long flag;
	struct stat st;

	if (!spec->rootfs || stat(spec->rootfs, &st) < 0)
		return ferry_error_errno(err, "root.path: %s", spec->rootfs ? spec->rootfs : "");
	if (!S_ISDIR(st.st_mode))
		return ferry_error(err, ENOTDIR, "root.path: %s", spec->rootfs);
	if (prop && *prop && lx_mount_propagation(prop, &flag) < 0)
		return ferry_error(err, 0, "linux.rootfsPropagation: \"%s\" is not supported",
				   prop);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (validate_mount(spec, i, err) < 0)
			return -1;
	if (lx_devices_validate(spec, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->linux.n_sysctl; i++)
		if (validate_sysctl(spec, spec->linux.sysctl[i].key, err) < 0)
			return -1;
	return 0;
}

static int root_propagation(const struct ferry_spec *spec, unsigned long *flag, ferry_err_t *err)
{
	const char *prop = spec->linux.rootfs_propagation;

	*flag = 0;
	if (prop && *prop && lx_mount_propagation(prop, flag) < 0)
		return ferry_error(err, 0, "linux.rootfsPropagation: \"%s\" is not supported",
				   prop);
	return 0;
}

struct parent_mount {
	const char *path;
	size_t best;
	bool shared;
	char mountpoint[PATH_MAX];
};

static int find_parent(const struct lx_mountinfo *mi, void *arg, ferry_err_t *err)
{
	struct parent_mount *p = arg;
	size_t n = strlen(mi->mountpoint);

	if (strcmp(mi->mountpoint, "/") == 0)
		n = 0;
	else if (strncmp(p->path, mi->mountpoint, n) != 0 || (p->path[n] && p->path[n] != '/'))
		return 0;
	/* Later lines are mounted over earlier ones at the same place. */
	if (n >= p->best || p->best == (size_t)-1) {
		p->best = n;
		p->shared = strstr(mi->optional, "shared:") != NULL;
		snprintf(p->mountpoint, sizeof(p->mountpoint), "%s", mi->mountpoint);
	}
	return 0;
}

/* The mount holding the rootfs is made private when shared, so that the rootfs bind does not
 * propagate and pivot_root accepts it. */
static int make_parent_private(const char *root, ferry_err_t *err)
{
	struct parent_mount p = {.path = root, .best = (size_t)-1};

	if (lx_mountinfo_foreach(find_parent, &p, err) < 0)
		return -1;
	if (p.best == (size_t)-1 || !p.shared)
		return 0;
	if (mount(NULL, p.mountpoint, NULL, MS_PRIVATE, NULL) < 0)
		return ferry_error_errno(err, "make %s private", p.mountpoint);
	return 0;
}

int lx_rootfs_prepare(const struct ferry_spec *spec, bool in_userns, ferry_err_t *err)
{
	_cleanup_free_ char *root = realpath(spec->rootfs, NULL);
	_cleanup_close_ int rootfd = -1;
	unsigned long prop;

	if (!root)
		return ferry_error_errno(err, "root.path: %s", spec->rootfs);
	if (root_propagation(spec, &prop, err) < 0)
		return -1;
	if (mount(NULL, "/", NULL, prop ? prop : MS_SLAVE | MS_REC, NULL) < 0)
		return ferry_error_errno(err, "set propagation of /");
	if (make_parent_private(root, err) < 0)
		return -1;
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ferry_error_errno(err, "bind %s", root);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ferry_error_errno(err, "open %s", root);
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (lx_rootfs_mount(rootfd, spec, i, in_userns, err) < 0)
			return ferry_error_wrap(err, "mounts[%zu] (%s)", i,
						spec->mounts[i].destination);
	if (lx_devices_needed(spec) && lx_devices_setup(rootfd, spec, in_userns, err) < 0)
		return -1;
	return 0;
}

/* runc's pivot_root(".", "."): the old root ends up on top of the new one, is made a slave (so
 * the unmount does not reach the host) and detached. */
static int pivot_dot(const char *root, ferry_err_t *err)
{
	_cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (oldroot < 0 || newroot < 0)
		return ferry_error_errno(err, "open %s", oldroot < 0 ? "/" : root);
	if (fchdir(newroot) < 0)
		return ferry_error_errno(err, "chdir %s", root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return ferry_error_errno(err, "pivot_root %s", root);
	if (fchdir(oldroot) < 0)
		return ferry_error_errno(err, "chdir to the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return ferry_error_errno(err, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return ferry_error_errno(err, "unmount the old root");
	return 0;
}

struct host_kernfs {
	const char *root;
	char **paths;
	size_t n;
};

static int collect_kernfs(const struct lx_mountinfo *mi, void *arg, ferry_err_t *err)
{
	struct host_kernfs *h = arg;
	size_t rl = strlen(h->root);
	char **v;

	if (strcmp(mi->root, "/") != 0 ||
	    (strcmp(mi->fstype, "proc") != 0 && strcmp(mi->fstype, "sysfs") != 0) ||
	    strncmp(mi->mountpoint, h->root, rl) == 0)
		return 0;
	v = realloc(h->paths, (h->n + 2) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "mounts");
	h->paths = v;
	if (!(v[h->n] = strdup(mi->mountpoint)))
		return ferry_error(err, ENOMEM, "mounts");
	v[++h->n] = NULL;
	return 0;
}

/* no_pivot: the host's full proc and sysfs mounts are taken away first (the kernel looks at every
 * mount of the namespace before it allows a new procfs), then the rootfs moves onto "/". */
static int move_root(const char *root, ferry_err_t *err)
{
	struct host_kernfs h = {.root = root};
	_cleanup_strv_ char **paths = NULL;
	int r = lx_mountinfo_foreach(collect_kernfs, &h, err);

	paths = h.paths;
	if (r < 0)
		return -1;
	for (size_t i = 0; i < h.n; i++) {
		if (mount(NULL, paths[i], NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return ferry_error_errno(err, "make %s a slave", paths[i]);
		}
		if (umount2(paths[i], MNT_DETACH) == 0)
			continue;
		if (errno != EINVAL && errno != EPERM)
			return ferry_error_errno(err, "unmount %s", paths[i]);
		if (mount("tmpfs", paths[i], "tmpfs", 0, NULL) < 0)
			return ferry_error_errno(err, "cover %s", paths[i]);
	}
	if (mount(root, "/", NULL, MS_MOVE, NULL) < 0)
		return ferry_error_errno(err, "move %s to /", root);
	if (chroot(".") < 0)
		return ferry_error_errno(err, "chroot %s", root);
	return 0;
}

/* Standard streams left on the host's /dev/null are moved to the container's. */
static int reopen_dev_null(ferry_err_t *err)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stat null, st;

	if (fd < 0 || fstat(fd, &null) < 0)
		return ferry_error_errno(err, "open /dev/null");
	for (int i = 0; i < 3; i++) {
		if (fstat(i, &st) < 0)
			continue;
		if (S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev && dup3(fd, i, 0) < 0)
			return ferry_error_errno(err, "reopen fd %d on /dev/null", i);
	}
	return 0;
}

int lx_rootfs_pivot(const struct ferry_spec *spec, bool no_pivot, ferry_err_t *err)
{
	_cleanup_free_ char *root = realpath(spec->rootfs, NULL);
	unsigned long prop;
	int r;

	if (!root)
		return ferry_error_errno(err, "root.path: %s", spec->rootfs);
	if (root_propagation(spec, &prop, err) < 0)
		return -1;
	if (chdir(root) < 0)
		return ferry_error_errno(err, "chdir %s", root);
	if (no_pivot)
		r = move_root(root, err);
	else if (ferry_spec_namespace(spec, FERRY_NS_MOUNT))
		r = pivot_dot(root, err);
	else
		r = chroot(".") < 0 ? ferry_error_errno(err, "chroot %s", root) : 0;
	if (r < 0)
		return -1;
	if (chdir("/") < 0)
		return ferry_error_errno(err, "chdir /");
	if (lx_devices_needed(spec) && reopen_dev_null(err) < 0)
		return -1;
	/* Only now: on the old path the change could have reached the host through a shared root.
	 */
	if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
		return ferry_error_errno(err, "apply rootfsPropagation");
	return 0;
}

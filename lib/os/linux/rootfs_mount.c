// SPDX-License-Identifier: Apache-2.0
/* gnu11 predefines `linux`, the name of a member of struct ferry_spec. */
#undef linux
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/mount_options.h"
#include "os/linux/rootfs_mount.h"
#include "os/linux/rootfs_mountinfo.h"
#include "os/linux/rootfs_path.h"

/* mount_setattr (Linux 5.12); declared here for headers that lack it. */
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct lx_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};

#define DEFAULT_FLAGS (MS_NOEXEC | MS_NOSUID | MS_NODEV)

/* One mount being made: the config entry, its parsed options and its source. */
struct mnt {
	int rootfd;
	const struct ferry_spec *spec;
	const struct ferry_mount *m;
	const char *dest;
	struct lx_mount_opts o;
	char *source; /* bind: resolved against the bundle */
	bool in_userns;
};

bool lx_rootfs_mount_delays_ro(const struct ferry_mount *m)
{
	return (m->type && strcmp(m->type, "tmpfs") == 0) ||
	       (m->destination && lx_path_equal(m->destination, "/dev"));
}

int lx_remount_bind(const char *target, unsigned long flags)
{
	const unsigned long locked =
	    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
	struct statvfs st;

	flags |= MS_REMOUNT | MS_BIND;
	if (mount(NULL, target, NULL, flags, NULL) == 0)
		return 0;
	if (errno != EPERM || statvfs(target, &st) < 0)
		return -1;
	/* In a user namespace the flags the mount came with are locked: keep them. */
	if (mount(NULL, target, NULL, flags | (st.f_flag & locked), NULL) == 0)
		return 0;
	errno = EPERM;
	return -1;
}

/* Applies the propagation changes and recursive attributes of the options to the mount now at
 * dest (opened again: an fd taken before the mount names what is under it). */
static int finish_mount(int rootfd, const char *dest, const struct lx_mount_opts *o,
			ferry_err_t *err)
{
	_cleanup_close_ int fd = -1;
	char p[32];

	if (!o->n_propagation && !o->attr_set && !o->attr_clr)
		return 0;
	fd = lx_inroot_open(rootfd, dest, O_PATH);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", dest);
	for (size_t i = 0; i < o->n_propagation; i++)
		if (mount(NULL, lx_fd_path(p, fd), NULL, o->propagation[i], NULL) < 0)
			return ferry_error_errno(err, "change mount propagation");
	if (o->attr_set || o->attr_clr) {
		struct lx_mount_attr a = {.attr_set = o->attr_set, .attr_clr = o->attr_clr};

		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a,
			    sizeof(a)) < 0)
			return ferry_error_errno(err, "set recursive mount attributes");
	}
	return 0;
}

/* The target is made to exist (a directory, or a file when file is true) and mounted on. */
static int mount_on(struct mnt *x, const char *src, const char *type, unsigned long flags,
		    const char *data, bool file, ferry_err_t *err)
{
	_cleanup_close_ int fd = lx_inroot_mkpath(x->rootfd, x->dest, file, err);
	char p[32];

	if (fd < 0)
		return -1;
	if (mount(src, lx_fd_path(p, fd), type, flags, data) < 0) {
		if (flags & MS_BIND)
			return ferry_error_errno(err, "bind %s", src);
		return ferry_error_errno(err, "mount %s", type);
	}
	return 0;
}

/* Applies the per-mount flags a bind mount ignores, with a second (remount) call. */
static int remount_flags(struct mnt *x, unsigned long flags, ferry_err_t *err)
{
	_cleanup_close_ int fd = -1;
	char p[32];

	if (!(flags & ~(MS_REC | MS_REMOUNT | MS_BIND)))
		return 0;
	fd = lx_inroot_open(x->rootfd, x->dest, O_PATH);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", x->dest);
	if (lx_remount_bind(lx_fd_path(p, fd), flags & ~MS_REC) < 0)
		return ferry_error_errno(err, "remount %s", x->dest);
	return 0;
}

/* As runc: nothing may be mounted inside /proc but a few files lxcfs emulates, and /proc itself
 * only from a procfs. */
static int check_proc_dest(const char *dest, const char *source, ferry_err_t *err)
{
	static const char *const allowed[] = {
	    "/proc/cpuinfo", "/proc/diskstats",
	    "/proc/meminfo", "/proc/stat",
	    "/proc/swaps",   "/proc/uptime",
	    "/proc/loadavg", "/proc/slabinfo",
	    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
	};
	struct statfs st;

	if (lx_path_equal(dest, "/proc")) {
		if (!source || !*source)
			return 0;
		if (statfs(source, &st) < 0)
			return ferry_error_errno(err, "statfs %s", source);
		if (st.f_type == PROC_SUPER_MAGIC)
			return 0;
		return ferry_error(err, 0, "%s cannot be mounted because it is not of type proc",
				   dest);
	}
	if (strncmp(dest, "/proc/", 6) != 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		if (lx_path_equal(dest, allowed[i]))
			return 0;
	return ferry_error(err, 0, "%s cannot be mounted because it is inside /proc", dest);
}

static int mount_bind(struct mnt *x, ferry_err_t *err)
{
	unsigned long flags = x->o.flags;
	struct stat st;

	if (stat(x->source, &st) < 0)
		return ferry_error_errno(err, "bind source %s", x->source);
	if (check_proc_dest(x->dest, x->source, err) < 0)
		return -1;
	if (lx_rootfs_mount_delays_ro(x->m))
		flags &= ~MS_RDONLY;
	if (mount_on(x, x->source, NULL, flags, NULL, !S_ISDIR(st.st_mode), err) < 0)
		return -1;
	return remount_flags(x, flags, err);
}

/* proc and sysfs go only on a real directory, never through a symlink. */
static int mount_kernfs(struct mnt *x, ferry_err_t *err)
{
	const char *type = x->m->type;
	_cleanup_close_ int fd = lx_inroot_open(x->rootfd, x->dest, O_PATH | O_NOFOLLOW);
	const char *src = x->m->source ? x->m->source : type;
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)))
		return ferry_error(err, 0,
				   "filesystem \"%s\" must be mounted on ordinary directory", type);
	if (mount_on(x, src, type, x->o.flags, x->o.data, false, err) == 0)
		return 0;
	/* sysfs needs a network namespace owned by the user namespace: bind the host's. */
	if (strcmp(type, "sysfs") != 0 || !x->in_userns || !*err || (*err)->errnum != EPERM)
		return -1;
	ferry_error_free(err);
	if (mount_on(x, "/sys", NULL, MS_BIND | MS_REC, NULL, false, err) < 0)
		return -1;
	return remount_flags(x, MS_BIND | x->o.flags, err);
}

/* As runc: a tmpfs on an existing directory gets that directory's mode back. */
static int mount_tmpfs(struct mnt *x, ferry_err_t *err)
{
	_cleanup_close_ int old = lx_inroot_open(x->rootfd, x->dest, O_PATH);
	_cleanup_close_ int fd = -1;
	struct stat st;
	char p[32];

	if (old >= 0 && fstat(old, &st) < 0)
		return ferry_error_errno(err, "stat %s", x->dest);
	if (mount_on(x, x->m->source ? x->m->source : "tmpfs", "tmpfs", x->o.flags & ~MS_RDONLY,
		     x->o.data, false, err) < 0)
		return -1;
	if (old < 0)
		return 0;
	fd = lx_inroot_open(x->rootfd, x->dest, O_PATH);
	if (fd < 0 || chmod(lx_fd_path(p, fd), st.st_mode & 07777) < 0)
		return ferry_error_errno(err, "chmod %s", x->dest);
	return 0;
}

static int mount_other(struct mnt *x, ferry_err_t *err)
{
	unsigned long flags = x->o.flags;
	const char *src = x->m->source ? x->m->source : x->m->type;

	if (check_proc_dest(x->dest, x->m->source, err) < 0)
		return -1;
	if (lx_rootfs_mount_delays_ro(x->m))
		flags &= ~MS_RDONLY;
	return mount_on(x, src, x->m->type, flags, x->o.data, false, err);
}

/* The container's cgroup path in the v1 hierarchy whose super options are opts, from
 * /proc/self/cgroup (the init is already in its cgroup). Returns a new string or NULL. */
static char *own_cgroup(const char *opts)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		char *ctl = strchr(line, ':'), *path;
		bool all = true;

		if (!ctl || !(path = strchr(++ctl, ':')) || path == ctl)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		for (char *c = ctl; *c;) {
			size_t n = strcspn(c, ",");

			all = all && lx_list_has(opts, c, n);
			c += n + (c[n] == ',');
		}
		if (all)
			return strdup(path);
	}
	return NULL;
}

/* Binds (or with a cgroup namespace, mounts) one host v1 hierarchy under the cgroup tmpfs. */
static int cgroup_v1_one(struct mnt *x, const struct lx_mountinfo *mi, ferry_err_t *err)
{
	const char *name = strrchr(mi->mountpoint, '/');
	_cleanup_free_ char *dest = NULL, *src = NULL, *own = NULL;
	_cleanup_close_ int dir = -1;
	struct mnt sub = *x;

	if (!name || !name[1])
		return 0;
	name++;
	if (asprintf(&dest, "%s/%s", x->dest, name) < 0)
		return ferry_error(err, ENOMEM, "cgroup");
	sub.dest = dest;
	if (ferry_spec_namespace(x->spec, FERRY_NS_CGROUP)) {
		bool systemd = strcmp(name, "systemd") == 0;

		if (mount_on(&sub, systemd ? "systemd" : "cgroup", "cgroup",
			     DEFAULT_FLAGS | (x->o.flags & MS_RDONLY),
			     systemd ? "name=systemd" : name, false, err) < 0)
			return ferry_error_wrap(err, "%s", name);
	} else {
		size_t rl = strlen(mi->root);

		own = own_cgroup(mi->superopts);
		if (!own)
			return 0;
		if (strcmp(mi->root, "/") == 0)
			rl = 0;
		else if (strncmp(own, mi->root, rl) != 0)
			return 0; /* the container's cgroup is not visible through this mount */
		if (asprintf(&src, "%s%s", mi->mountpoint, own + rl) < 0)
			return ferry_error(err, ENOMEM, "cgroup");
		if (mount_on(&sub, src, NULL, MS_BIND | MS_REC | x->o.flags, NULL, false, err) <
			0 ||
		    remount_flags(&sub, MS_BIND | x->o.flags, err) < 0)
			return ferry_error_wrap(err, "%s", name);
	}
	/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
	if (!strchr(name, ','))
		return 0;
	dir = lx_inroot_open(x->rootfd, x->dest, O_PATH | O_DIRECTORY);
	if (dir < 0)
		return ferry_error_errno(err, "open %s", x->dest);
	for (const char *c = name; *c;) {
		size_t n = strcspn(c, ",");
		char link[NAME_MAX + 1];

		snprintf(link, sizeof(link), "%.*s", (int)n, c);
		if (symlinkat(name, dir, link) < 0 && errno != EEXIST)
			return ferry_error_errno(err, "symlink %s/%s", x->dest, link);
		c += n + (c[n] == ',');
	}
	return 0;
}

struct v1_hierarchies {
	struct lx_mountinfo *v;
	size_t n;
};

/* Lists the host's v1 hierarchies first: the binds made below appear in mountinfo too. */
static int collect_v1(const struct lx_mountinfo *mi, void *arg, ferry_err_t *err)
{
	struct v1_hierarchies *h = arg;
	struct lx_mountinfo *v, *e;

	if (strcmp(mi->fstype, "cgroup") != 0)
		return 0;
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return ferry_error(err, ENOMEM, "cgroup");
	h->v = v;
	e = &v[h->n++];
	memset(e, 0, sizeof(*e));
	e->mountpoint = strdup(mi->mountpoint);
	e->root = strdup(mi->root);
	e->superopts = strdup(mi->superopts);
	if (!e->mountpoint || !e->root || !e->superopts)
		return ferry_error(err, ENOMEM, "cgroup");
	return 0;
}

/* runc's cgroup mount: v2 mounts cgroup2 (or binds the host's when refused); v1 mounts a tmpfs
 * and binds the container's cgroup of each hierarchy into it. */
static int mount_cgroup(struct mnt *x, ferry_err_t *err)
{
	struct v1_hierarchies h = {0};
	struct statfs st;
	int r = 0;

	if (statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) {
		if (mount_on(x, x->m->source ? x->m->source : "cgroup2", "cgroup2", x->o.flags,
			     x->o.data, false, err) == 0)
			return 0;
		if (!*err || ((*err)->errnum != EPERM && (*err)->errnum != EBUSY))
			return -1;
		ferry_error_free(err);
		if (mount_on(x, "/sys/fs/cgroup", NULL, MS_BIND | MS_REC, NULL, false, err) < 0)
			return -1;
		return remount_flags(x, MS_BIND | x->o.flags, err);
	}
	if (lx_mountinfo_foreach(collect_v1, &h, err) < 0 ||
	    mount_on(x, "tmpfs", "tmpfs", DEFAULT_FLAGS, "mode=755", false, err) < 0)
		r = -1;
	for (size_t i = 0; i < h.n; i++) {
		if (r == 0)
			r = cgroup_v1_one(x, &h.v[i], err);
		free(h.v[i].mountpoint);
		free(h.v[i].root);
		free(h.v[i].superopts);
	}
	free(h.v);
	return r;
}

static int resolve_source(struct mnt *x, ferry_err_t *err)
{
	const char *s = x->m->source;

	if (!s)
		return ferry_error(err, 0, "bind mount without a source");
	if (s[0] == '/' || !x->spec->bundle)
		x->source = strdup(s);
	else if (asprintf(&x->source, "%s/%s", x->spec->bundle, s) < 0)
		x->source = NULL;
	return x->source ? 0 : ferry_error(err, ENOMEM, "mount source");
}

int lx_rootfs_mount(int rootfd, const struct ferry_spec *spec, size_t i, bool in_userns,
		    ferry_err_t *err)
{
	struct mnt x = {.rootfd = rootfd, .spec = spec, .m = &spec->mounts[i]};
	const char *type = x.m->type ? x.m->type : "";
	int r;

	x.dest = x.m->destination;
	x.in_userns = in_userns;
	if (!x.dest || x.dest[0] != '/')
		return ferry_error(err, 0, "destination is not absolute");
	if (lx_mount_options_parse(x.m->options, x.m->n_options, &x.o, err) < 0)
		return -1;
	if (strcmp(type, "bind") == 0)
		x.o.flags |= MS_BIND;
	if (x.o.flags & MS_BIND) {
		r = resolve_source(&x, err);
		if (r == 0)
			r = mount_bind(&x, err);
	} else if (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) {
		r = mount_kernfs(&x, err);
	} else if (strcmp(type, "tmpfs") == 0) {
		r = mount_tmpfs(&x, err);
	} else if (strcmp(type, "cgroup") == 0) {
		r = mount_cgroup(&x, err);
	} else {
		r = mount_other(&x, err);
	}
	if (r == 0)
		r = finish_mount(rootfd, x.dest, &x.o, err);
	free(x.source);
	lx_mount_opts_clear(&x.o);
	return r;
}

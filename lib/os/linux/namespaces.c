// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "core/cleanup.h"
#include "os/linux/namespaces.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
	int flag;
	const char *proc;
} ns_table[FERRY_NS__COUNT] = {
	[FERRY_NS_PID] = {CLONE_NEWPID, "pid"},       [FERRY_NS_NETWORK] = {CLONE_NEWNET, "net"},
	[FERRY_NS_MOUNT] = {CLONE_NEWNS, "mnt"},      [FERRY_NS_IPC] = {CLONE_NEWIPC, "ipc"},
	[FERRY_NS_UTS] = {CLONE_NEWUTS, "uts"},       [FERRY_NS_USER] = {CLONE_NEWUSER, "user"},
	[FERRY_NS_CGROUP] = {CLONE_NEWCGROUP, "cgroup"}, [FERRY_NS_TIME] = {CLONE_NEWTIME, "time"},
};

int lx_ns_flag(enum ferry_ns_type type)
{
	return ns_table[type].flag;
}

const char *lx_ns_proc_name(enum ferry_ns_type type)
{
	return ns_table[type].proc;
}

int lx_ns_new_flags(const struct ferry_spec *spec)
{
	int flags = 0;

	for (size_t i = 0; i < spec->linux.n_namespaces; i++)
		if (!spec->linux.namespaces[i].path)
			flags |= lx_ns_flag(spec->linux.namespaces[i].type);
	return flags;
}

static int check_ns_path(const struct ferry_namespace *ns, size_t i, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
	int type;

	if (fd < 0)
		return ferry_error_errno(err, "config.json: linux.namespaces[%zu].path: %s", i,
					 ns->path);
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		return ferry_error(err, 0,
				   "config.json: linux.namespaces[%zu].path: %s is not a namespace", i,
				   ns->path);
	if (type != lx_ns_flag(ns->type))
		return ferry_error(err, 0,
				   "config.json: linux.namespaces[%zu].path: %s is not a %s namespace",
				   i, ns->path, ferry_ns_name(ns->type));
	return 0;
}

int lx_ns_validate(const struct ferry_spec *spec, ferry_err_t *err)
{
	const struct ferry_namespace *user = ferry_spec_namespace(spec, FERRY_NS_USER);

	if (!ferry_spec_namespace(spec, FERRY_NS_MOUNT))
		return ferry_error(err, 0,
				   "config.json: linux.namespaces: a mount namespace is required");
	for (size_t i = 0; i < spec->linux.n_namespaces; i++)
		if (spec->linux.namespaces[i].path &&
		    check_ns_path(&spec->linux.namespaces[i], i, err) < 0)
			return -1;
	if (user && !user->path && (!spec->linux.n_uid_mappings || !spec->linux.n_gid_mappings))
		return ferry_error(err, 0,
				   "config.json: linux.uidMappings/gidMappings: a new user namespace "
				   "needs both");
	if (!(user && !user->path) && (spec->linux.n_uid_mappings || spec->linux.n_gid_mappings))
		return ferry_error(err, 0,
				   "config.json: linux.uidMappings: given without a new user namespace");
	if ((spec->linux.time_boottime.set || spec->linux.time_monotonic.set) &&
	    !(ferry_spec_namespace(spec, FERRY_NS_TIME) &&
	      !ferry_spec_namespace(spec, FERRY_NS_TIME)->path))
		return ferry_error(err, 0,
				   "config.json: linux.timeOffsets: needs a new time namespace");
	return 0;
}

static int join_one(const struct ferry_namespace *ns, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(ns->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ferry_error_errno(err, "open namespace %s", ns->path);
	if (setns(fd, lx_ns_flag(ns->type)) < 0)
		return ferry_error_errno(err, "join %s namespace %s", ferry_ns_name(ns->type),
					 ns->path);
	return 0;
}

int lx_ns_join_paths(const struct ferry_spec *spec, ferry_err_t *err)
{
	const struct ferry_namespace *user = ferry_spec_namespace(spec, FERRY_NS_USER);

	if (user && user->path && join_one(user, err) < 0)
		return -1;
	for (size_t i = 0; i < spec->linux.n_namespaces; i++) {
		const struct ferry_namespace *ns = &spec->linux.namespaces[i];

		if (ns->path && ns->type != FERRY_NS_USER && join_one(ns, err) < 0)
			return -1;
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct ferry_id_map *m, size_t n,
		     ferry_err_t *err)
{
	char path[64], buf[4096];
	size_t len = 0;
	_cleanup_close_ int fd = -1;

	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
				m[i].host_id, m[i].size);
	if (len >= sizeof(buf))
		return ferry_error(err, 0, "%s: too many mappings", file);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return ferry_error_errno(err, "write %s", file);
	return 0;
}

int lx_ns_write_idmaps(pid_t pid, const struct ferry_spec *spec, ferry_err_t *err)
{
	if (write_map(pid, "uid_map", spec->linux.uid_mappings, spec->linux.n_uid_mappings, err) <
	    0)
		return -1;
	return write_map(pid, "gid_map", spec->linux.gid_mappings, spec->linux.n_gid_mappings, err);
}

int lx_ns_write_time_offsets(const struct ferry_spec *spec, ferry_err_t *err)
{
	const struct ferry_time_offset *b = &spec->linux.time_boottime;
	const struct ferry_time_offset *m = &spec->linux.time_monotonic;
	char buf[256];
	size_t len = 0;
	_cleanup_close_ int fd = -1;

	if (!b->set && !m->set)
		return 0;
	if (m->set)
		len += snprintf(buf + len, sizeof(buf) - len, "monotonic %lld %u\n",
				(long long)m->secs, m->nanosecs);
	if (b->set)
		len += snprintf(buf + len, sizeof(buf) - len, "boottime %lld %u\n",
				(long long)b->secs, b->nanosecs);
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return ferry_error_errno(err, "linux.timeOffsets: write timens_offsets");
	return 0;
}

static bool same_ns(pid_t pid, const char *name)
{
	char a[64], b[64];
	struct stat sa, sb;

	snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, name);
	snprintf(b, sizeof(b), "/proc/self/ns/%s", name);
	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return true;
	return sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int lx_ns_join_process(pid_t pid, ferry_err_t *err)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int flags = 0;

	if (pidfd < 0)
		return ferry_error_errno(err, "open the container's init %d", pid);
	for (int t = 0; t < FERRY_NS__COUNT; t++)
		if (!same_ns(pid, ns_table[t].proc))
			flags |= ns_table[t].flag;
	if (flags && setns(pidfd, flags) < 0)
		return ferry_error_errno(err, "join the namespaces of %d", pid);
	return 0;
}

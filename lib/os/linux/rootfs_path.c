// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/rootfs_path.h"

/* openat2 (Linux 5.6); declared here for C libraries and headers that lack it. */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif

struct lx_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

int lx_inroot_open(int rootfd, const char *path, int flags)
{
	struct lx_open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	/* EAGAIN: a rename or mount raced with ".." resolution; the kernel asks to retry. */
	for (int i = 0; i < 16; i++) {
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

char *lx_fd_path(char *buf, int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

/* Advances *p past slashes and "." components; returns the length of the next component. */
static size_t next_component(const char **p)
{
	for (;;) {
		while (**p == '/')
			(*p)++;
		if ((*p)[0] == '.' && ((*p)[1] == '/' || !(*p)[1]))
			(*p)++;
		else
			return strcspn(*p, "/");
	}
}

bool lx_path_equal(const char *a, const char *b)
{
	for (;;) {
		size_t na = next_component(&a), nb = next_component(&b);

		if (na != nb || strncmp(a, b, na) != 0)
			return false;
		if (na == 0)
			return true;
		a += na;
		b += nb;
	}
}

/* Creates comp (a directory, or an empty file) inside the directory parent; EEXIST is fine. */
static int create_component(int parent, const char *comp, bool file)
{
	if (file) {
		int fd = openat(parent, comp, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC,
				0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -1;
		close(fd);
		return 0;
	}
	if (mkdirat(parent, comp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int mkpath(int rootfd, const char *path, bool file, int depth, ferry_err_t *err);

/* comp (at path[start]) in parent may be a symlink to nothing yet: as "mkdir -p" through a
 * symlink does, its target is created (inside the root). Returns 1 when it was a symlink, 0 when
 * not, -1 on error. */
static int create_link_target(int rootfd, int parent, const char *path, size_t start,
			      const char *comp, bool file, int depth, ferry_err_t *err)
{
	char target[PATH_MAX], next[PATH_MAX];
	ssize_t n = readlinkat(parent, comp, target, sizeof(target) - 1);
	int fd;

	if (n < 0)
		return 0;
	target[n] = '\0';
	if (depth >= 40)
		return ferry_error(err, ELOOP, "create %s", path);
	if (target[0] == '/')
		snprintf(next, sizeof(next), "%s", target);
	else if (snprintf(next, sizeof(next), "%.*s%s", (int)start, path, target) >=
		 (int)sizeof(next))
		return ferry_error(err, ENAMETOOLONG, "create %s", path);
	fd = mkpath(rootfd, next, file, depth + 1, err);
	if (fd < 0)
		return -1;
	close(fd);
	return 1;
}

int lx_inroot_mkpath(int rootfd, const char *path, bool file, ferry_err_t *err)
{
	return mkpath(rootfd, path, file, 0, err);
}

static int mkpath(int rootfd, const char *path, bool file, int depth, ferry_err_t *err)
{
	char prefix[PATH_MAX], comp[PATH_MAX];
	size_t len = strlen(path), i = 0;
	_cleanup_close_ int parent = -1;
	int fd;

	if (len >= sizeof(prefix))
		return ferry_error(err, ENAMETOOLONG, "%s", path);
	fd = lx_inroot_open(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : ferry_error_errno(err, "open %s", path);
	parent = lx_inroot_open(rootfd, "/", O_PATH | O_DIRECTORY);
	if (parent < 0)
		return ferry_error_errno(err, "open rootfs");
	while (i < len) {
		size_t start, n;
		bool last;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		n = i - start;
		if (n == 0)
			break;
		memcpy(comp, path + start, n);
		comp[n] = '\0';
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		last = path[i + strspn(path + i, "/")] == '\0';
		fd = lx_inroot_open(rootfd, prefix, O_PATH);
		if (fd < 0 && errno == ENOENT) {
			int r = create_link_target(rootfd, parent, prefix, start, comp,
						   file && last, depth, err);

			if (r < 0)
				return -1;
			if (r == 0 && create_component(parent, comp, file && last) < 0)
				return ferry_error_errno(err, "create %s", prefix);
			fd = lx_inroot_open(rootfd, prefix, O_PATH);
		}
		if (fd < 0)
			return ferry_error_errno(err, "open %s", prefix);
		if (last)
			return fd;
		close(parent);
		parent = fd;
	}
	return steal_fd(parent);
}

int lx_inroot_mkparent(int rootfd, const char *path, const char **name, ferry_err_t *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash || !slash[1])
		return ferry_error(err, EINVAL, "%s: not a path to a file", path);
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return ferry_error(err, ENAMETOOLONG, "%s", path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	*name = slash + 1;
	return lx_inroot_mkpath(rootfd, n ? dir : "/", false, err);
}

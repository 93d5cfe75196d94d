// SPDX-License-Identifier: Apache-2.0
/*
 * The files of a container's tmpfs mounts. Every path below a mount is resolved from the mount's
 * directory with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV): a link or a
 * mount on the way is an error, never a way out. Sockets, fifos and device nodes are left out
 * (logged); so is whatever another mount covers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "os/linux/container_tmpfs.h"
#include "os/linux/rootfs_path.h"

#define MAX_FILES (1u << 20) /* per mount, as the image reader allows */
#define MAX_PATH_LEN 4095
#define MAX_DEPTH 1024

struct walk {
	int mntfd;
	dev_t dev;
	struct cr_mount_files *m;
	size_t cap;
	uint64_t *budget;
};

/* Opens path below dirfd without following a link or leaving the mount; returns an fd or -1
 * with errno set. */
static int open_beneath(int dirfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int fd;

	for (int i = 0; i < 16; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

int lx_tmpfs_open(int rootfd, const char *dest, ferry_err_t *err)
{
	_cleanup_close_ int fd = lx_inroot_open(rootfd, dest, O_RDONLY | O_DIRECTORY);
	struct statfs sfs;
	struct statx stx;

	if (fd < 0)
		return ferry_error_errno(err, "tmpfs %s", dest);
	if (fstatfs(fd, &sfs) < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_INO, &stx) < 0)
		return ferry_error_errno(err, "tmpfs %s", dest);
	if (sfs.f_type != TMPFS_MAGIC)
		return ferry_error(err, 0, "tmpfs %s: it is not a tmpfs", dest);
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return ferry_error(err, 0, "tmpfs %s: it is not a mount point", dest);
	return steal_fd(fd);
}

static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv) {
		free(s);
		return -1;
	}
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory fd (without "." and ".."), sorted, as a NULL-terminated array;
 * returns 0 or -1. */
static int list_dir(int fd, char ***names, size_t *n)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;
	int saved;

	if (!d) {
		saved = errno;
		if (dup_fd >= 0)
			close(dup_fd);
		errno = saved;
		return -1;
	}
	*names = NULL;
	*n = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *s = strdup(de->d_name);

		if (!s || strv_push(names, n, s) < 0) {
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		errno = 0;
	}
	saved = errno;
	closedir(d);
	if (saved)
		return errno = saved, -1;
	if (*n)
		qsort(*names, *n, sizeof(char *), cmp_str);
	return 0;
}

/* Appends an entry for rel with st's metadata; returns it or NULL. */
static struct cr_mount_file *add_entry(struct walk *w, const char *rel, const struct stat *st,
				       ferry_err_t *err)
{
	struct cr_mount_files *m = w->m;
	struct cr_mount_file *f;

	if (m->n_files >= MAX_FILES)
		return ferry_error(err, 0, "more than %u files", MAX_FILES), NULL;
	if (m->n_files == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct cr_mount_file *nf = realloc(m->files, cap * sizeof(*nf));

		if (!nf)
			return ferry_error(err, ENOMEM, "%s", rel), NULL;
		m->files = nf;
		w->cap = cap;
	}
	f = &m->files[m->n_files];
	*f = (struct cr_mount_file){
	    .mode = st->st_mode,
	    .uid = st->st_uid,
	    .gid = st->st_gid,
	    .mtime_ns =
		(uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec,
	};
	f->path = strdup(rel);
	if (!f->path)
		return ferry_error(err, ENOMEM, "%s", rel), NULL;
	m->n_files++;
	return f;
}

/* Reads the regular file name of dirfd (the one st describes) into f->data; returns 0 or -1. */
static int read_data(struct walk *w, int dirfd, const char *name, const struct stat *st,
		     struct cr_mount_file *f, ferry_err_t *err)
{
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	size_t size = (size_t)st->st_size, got = 0;
	struct stat now;

	if (fd < 0 || fstat(fd, &now) < 0)
		return ferry_error_errno(err, "open %s", f->path);
	if (now.st_ino != st->st_ino || !S_ISREG(now.st_mode))
		return ferry_error(err, EAGAIN, "%s changed while it was read", f->path);
	if (size > *w->budget)
		return ferry_error(
		    err, 0, "%s: the files of the container's tmpfs mounts exceed %llu MiB in all",
		    f->path, LX_TMPFS_MAX_BYTES >> 20);
	if (!size)
		return 0;
	f->data.data = malloc(size);
	if (!f->data.data)
		return ferry_error(err, ENOMEM, "%s", f->path);
	while (got < size) {
		ssize_t r = pread(fd, f->data.data + got, size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ferry_error_errno(err, "read %s", f->path);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	f->data.len = got;
	*w->budget -= got;
	return 0;
}

/* Whether the entry name of dirfd is the root of a mount (a bind mount of this very tmpfs
 * included). */
static bool is_mount_root(int dirfd, const char *name)
{
	struct statx stx;

	return statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_INO, &stx) == 0 &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Records the entry name of dirfd (rel is its path in the mount); a directory's path is pushed
 * onto *subdirs. Returns 0 or -1. */
static int collect_entry(struct walk *w, int dirfd, const char *name, char *rel, char ***subdirs,
			 size_t *n_subdirs, ferry_err_t *err)
{
	struct cr_mount_file *f;
	struct stat st;
	char target[MAX_PATH_LEN + 1];
	ssize_t n;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ferry_error_errno(err, "stat %s", rel);
	if (st.st_dev != w->dev || is_mount_root(dirfd, name)) {
		ferry_log(FERRY_LOG_DEBUG, "tmpfs %s: %s is another mount, left out",
			  w->m->destination, rel);
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
		ferry_log(FERRY_LOG_DEBUG, "tmpfs %s: %s (mode 0%o) is not a file, left out",
			  w->m->destination, rel, (unsigned)st.st_mode);
		return 0;
	}
	f = add_entry(w, rel, &st, err);
	if (!f)
		return -1;
	if (S_ISREG(st.st_mode))
		return read_data(w, dirfd, name, &st, f, err);
	if (S_ISDIR(st.st_mode)) {
		char *dup = strdup(rel);

		return dup && strv_push(subdirs, n_subdirs, dup) == 0
			   ? 0
			   : ferry_error(err, ENOMEM, "%s", rel);
	}
	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return ferry_error_errno(err, "readlink %s", rel);
	target[n] = '\0';
	f->target = strdup(target);
	return f->target ? 0 : ferry_error(err, ENOMEM, "%s", rel);
}

static int walk_dir(struct walk *w, const char *rel, int depth, ferry_err_t *err)
{
	_cleanup_strv_ char **names = NULL, **subdirs = NULL;
	_cleanup_close_ int fd = -1;
	size_t n_names = 0, n_subdirs = 0;
	char path[MAX_PATH_LEN + 2];

	if (depth > MAX_DEPTH)
		return ferry_error(err, ELOOP, "%s: more than %d levels of directories", rel,
				   MAX_DEPTH);
	fd = open_beneath(w->mntfd, rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || list_dir(fd, &names, &n_names) < 0)
		return ferry_error_errno(err, "read directory %s", *rel ? rel : "/");
	for (size_t i = 0; i < n_names; i++) {
		int len = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", names[i]);

		if (len < 0 || len > MAX_PATH_LEN)
			return ferry_error(err, ENAMETOOLONG, "%s/%s", rel, names[i]);
		if (collect_entry(w, fd, names[i], path, &subdirs, &n_subdirs, err) < 0)
			return -1;
	}
	close(steal_fd(fd));
	for (size_t i = 0; i < n_subdirs; i++)
		if (walk_dir(w, subdirs[i], depth + 1, err) < 0)
			return -1;
	return 0;
}

int lx_tmpfs_collect(int mntfd, struct cr_mount_files *m, uint64_t *budget, ferry_err_t *err)
{
	struct walk w = {.mntfd = mntfd, .m = m, .cap = m->n_files, .budget = budget};
	struct stat st;

	if (fstat(mntfd, &st) < 0)
		return ferry_error_errno(err, "tmpfs %s", m->destination);
	w.dev = st.st_dev;
	/* "." is the mount's own directory: its owner and mode may have changed since the mount. */
	if (!add_entry(&w, ".", &st, err) || walk_dir(&w, "", 0, err) < 0)
		return ferry_error_wrap(err, "tmpfs %s", m->destination);
	return 0;
}

/* Opens the parent directory of path (below mntfd, no link, no other mount) as O_PATH and points
 * *leaf at the last component; returns the fd or -1. */
static int open_parent(int mntfd, const char *path, const char **leaf, ferry_err_t *err)
{
	const char *slash = strrchr(path, '/');
	char dir[MAX_PATH_LEN + 1];
	size_t n = slash ? (size_t)(slash - path) : 0;
	int fd;

	*leaf = slash ? slash + 1 : path;
	if (n > MAX_PATH_LEN || !**leaf || !strcmp(*leaf, ".") || !strcmp(*leaf, ".."))
		return ferry_error(err, EINVAL, "%s: not a path to a file", path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	fd = open_beneath(mntfd, dir, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return ferry_error_errno(err, "%s: open its directory", path);
	return fd;
}

static struct timespec mtime_of(const struct cr_mount_file *f)
{
	return (struct timespec){.tv_sec = (time_t)(f->mtime_ns / 1000000000ull),
				 .tv_nsec = (long)(f->mtime_ns % 1000000000ull)};
}

static int write_all(int fd, const struct cr_bytes *b)
{
	for (size_t off = 0; off < b->len;) {
		ssize_t r = write(fd, b->data + off, b->len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static int put_reg(int pfd, const char *leaf, const struct cr_mount_file *f, ferry_err_t *err)
{
	_cleanup_close_ int fd =
	    openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_of(f)};

	if (fd < 0)
		return ferry_error_errno(err, "create %s", f->path);
	if (write_all(fd, &f->data) < 0)
		return ferry_error_errno(err, "write %s", f->path);
	/* chown before chmod: chown drops the set-user-ID and set-group-ID bits. */
	if (fchown(fd, f->uid, f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0)
		return ferry_error_errno(err, "owner and mode of %s", f->path);
	if (futimens(fd, ts) < 0)
		return ferry_error_errno(err, "times of %s", f->path);
	return 0;
}

/* A directory, or the one already there (made for a mount point below it). */
static int put_dir(int pfd, const char *leaf, dev_t dev, const struct cr_mount_file *f,
		   ferry_err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	if (mkdirat(pfd, leaf, 0700) < 0 && errno != EEXIST)
		return ferry_error_errno(err, "create %s", f->path);
	fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return ferry_error(err, 0, "create %s: something other than a directory is there",
				   f->path);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ferry_error_errno(err, "open %s", f->path);
	if (st.st_dev != dev)
		return ferry_error(err, EBUSY, "%s: another mount is there", f->path);
	if (fchown(fd, f->uid, f->gid) < 0 || fchmod(fd, f->mode & 07777) < 0)
		return ferry_error_errno(err, "owner and mode of %s", f->path);
	return 0;
}

static int put_link(int pfd, const char *leaf, const struct cr_mount_file *f, ferry_err_t *err)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_of(f)};

	if (!f->target)
		return ferry_error(err, EINVAL, "%s: a link without a target", f->path);
	if (symlinkat(f->target, pfd, leaf) < 0)
		return ferry_error_errno(err, "create %s", f->path);
	if (fchownat(pfd, leaf, f->uid, f->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return ferry_error_errno(err, "owner of %s", f->path);
	if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ferry_error_errno(err, "times of %s", f->path);
	return 0;
}

static int put_file(int mntfd, dev_t dev, const struct cr_mount_file *f, ferry_err_t *err)
{
	const char *leaf;
	_cleanup_close_ int pfd = -1;

	if (strcmp(f->path, ".") == 0) {
		if (!S_ISDIR(f->mode))
			return ferry_error(err, 0, "the mount's directory is not a directory");
		if (fchown(mntfd, f->uid, f->gid) < 0 || fchmod(mntfd, f->mode & 07777) < 0)
			return ferry_error_errno(err, "owner and mode of the mount's directory");
		return 0;
	}
	pfd = open_parent(mntfd, f->path, &leaf, err);
	if (pfd < 0)
		return -1;
	if (S_ISREG(f->mode))
		return put_reg(pfd, leaf, f, err);
	if (S_ISDIR(f->mode))
		return put_dir(pfd, leaf, dev, f, err);
	if (S_ISLNK(f->mode))
		return put_link(pfd, leaf, f, err);
	return ferry_error(err, EINVAL, "%s: mode 0%o is not a file, directory or link", f->path,
			   (unsigned)f->mode);
}

/* A directory's time is set once nothing more is made in it. */
static int put_dir_time(int mntfd, const struct cr_mount_file *f, ferry_err_t *err)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, mtime_of(f)};
	const char *leaf;
	_cleanup_close_ int pfd = -1;

	if (strcmp(f->path, ".") == 0)
		return futimens(mntfd, ts) < 0 ? ferry_error_errno(err, "times of %s", f->path) : 0;
	pfd = open_parent(mntfd, f->path, &leaf, err);
	if (pfd < 0)
		return -1;
	if (utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ferry_error_errno(err, "times of %s", f->path);
	return 0;
}

int lx_tmpfs_restore(int mntfd, const struct cr_mount_files *m, ferry_err_t *err)
{
	struct stat st;

	if (fstat(mntfd, &st) < 0)
		return ferry_error_errno(err, "tmpfs %s", m->destination);
	for (size_t i = 0; i < m->n_files; i++)
		if (put_file(mntfd, st.st_dev, &m->files[i], err) < 0)
			return ferry_error_wrap(err, "tmpfs %s", m->destination);
	for (size_t i = m->n_files; i-- > 0;)
		if (S_ISDIR(m->files[i].mode) && put_dir_time(mntfd, &m->files[i], err) < 0)
			return ferry_error_wrap(err, "tmpfs %s", m->destination);
	return 0;
}

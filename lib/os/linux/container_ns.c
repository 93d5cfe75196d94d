// SPDX-License-Identifier: Apache-2.0
/*
 * What a container's namespaces hold beyond its processes: names, sysctls, tmpfs files. Names
 * and sysctls are read and written by a forked child that joins the container's network, IPC
 * and UTS namespaces (not its mount namespace: the host's /proc/sys then shows the joined
 * namespaces' values); files go through /proc/<init>/root, resolved inside that root.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "os/linux/container_ns.h"
#include "os/linux/container_sysv.h"
#include "os/linux/container_tmpfs.h"
#include "os/linux/rootfs_path.h"
#include "os/linux/sync.h"

#define SYSCTL_MAX 65536

enum { JOINED_NET = 1, JOINED_IPC = 2, JOINED_UTS = 4 };

/* What a child in the namespaces sends back: records of a tag byte and a NUL-ended string. */
struct recs {
	char *data;
	size_t len;
};

typedef int (*ns_fn)(void *arg, unsigned joined, struct recs *out, ferry_err_t *err);

static int recs_add(struct recs *r, char tag, const char *a, const char *b, ferry_err_t *err)
{
	size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
	char *n = realloc(r->data, r->len + la + lb + 2);

	if (!n)
		return ferry_error(err, ENOMEM, "namespace facts");
	r->data = n;
	n += r->len;
	*n++ = tag;
	memcpy(n, a, la);
	if (b) {
		n[la] = '=';
		memcpy(n + la + 1, b, lb - 1);
	}
	n[la + lb] = '\0';
	r->len += la + lb + 2;
	return 0;
}

/* Joins init's network, IPC and UTS namespaces where they differ from ours; *joined tells
 * which. Returns 0 or -1. */
static int join_namespaces(pid_t init, unsigned *joined, ferry_err_t *err)
{
	static const char *const names[] = {"net", "ipc", "uts"};
	static const int types[] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS};

	*joined = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char path[64];
		struct stat a, b;
		_cleanup_close_ int fd = -1;

		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, names[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &a) < 0)
			return ferry_error_errno(err, "open %s", path);
		snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
		if (stat(path, &b) < 0)
			return ferry_error_errno(err, "stat %s", path);
		if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			continue;
		if (setns(fd, types[i]) < 0)
			return ferry_error_errno(err, "join the %s namespace of %d", names[i],
						 (int)init);
		*joined |= 1u << i;
	}
	return 0;
}

/* Runs fn in a child inside init's network, IPC and UTS namespaces; *out gets what it
 * recorded (free out->data). Returns 0 or -1 (fn's error). */
static int in_namespaces(pid_t init, ns_fn fn, void *arg, struct recs *out, ferry_err_t *err)
{
	_cleanup_close_ int parent = -1, child = -1;
	struct lx_sync_msg msg;
	int sv[2], status, r;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ferry_error_errno(err, "socketpair");
	parent = sv[0], child = sv[1];
	pid = fork();
	if (pid < 0)
		return ferry_error_errno(err, "fork");
	if (pid == 0) {
		ferry_err_t e = NULL;
		struct recs rec = {0};
		unsigned joined;

		if (join_namespaces(init, &joined, &e) < 0 || fn(arg, joined, &rec, &e) < 0 ||
		    lx_sync_send(child, LX_SYNC_GO, 0, rec.data, rec.len, -1, &e) < 0)
			lx_sync_send_error(child, e);
		_exit(0);
	}
	close(steal_fd(child));
	r = lx_sync_expect(parent, LX_SYNC_GO, &msg, err);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -1;
	out->data = steal_ptr(msg.data);
	out->len = msg.len;
	lx_sync_msg_clear(&msg);
	return 0;
}

/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; returns 0 or -1. */
static int sysctl_path(const char *key, char *buf, size_t size, ferry_err_t *err)
{
	size_t len = strlen(key);

	if (!len || key[0] == '.' || key[len - 1] == '.' || strstr(key, "..") || strchr(key, '/') ||
	    len + 11 > size)
		return ferry_error(err, EINVAL, "sysctl \"%s\": not a valid key", key);
	snprintf(buf, size, "/proc/sys/%s", key);
	for (char *p = buf + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

/* Reads a sysctl's value (without the final newline) into buf; returns 1, 0 when it cannot be
 * read (a write-only key), or -1. */
static int read_sysctl(const char *key, char *buf, size_t size, ferry_err_t *err)
{
	char path[4096];
	_cleanup_close_ int fd = -1;
	size_t got = 0;

	if (sysctl_path(key, path, sizeof(path), err) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return 0;
	if (fd < 0)
		return ferry_error_errno(err, "sysctl \"%s\": open %s", key, path);
	for (;;) {
		ssize_t n = read(fd, buf + got, size - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ferry_error_errno(err, "sysctl \"%s\": read %s", key, path);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == size - 1)
			return ferry_error(err, 0, "sysctl \"%s\": value too long", key);
	}
	while (got && buf[got - 1] == '\n')
		got--;
	buf[got] = '\0';
	return 1;
}

static int write_sysctl(const char *key, const char *value, ferry_err_t *err)
{
	char path[4096];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);

	if (sysctl_path(key, path, sizeof(path), err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "sysctl \"%s\": open %s", key, path);
	if (write(fd, value, len) != (ssize_t)len)
		return ferry_error_errno(err, "sysctl \"%s\": write %s", key, path);
	return 0;
}

/* A segment no process attaches would be lost: segments go with the processes that attach
 * them. Returns 0 or -1. */
static int check_unattached_shm(ferry_err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];
	int key, shmid;
	unsigned long nattch;

	if (!f || !fgets(line, sizeof(line), f)) /* the header */
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %d %*o %*u %*d %*d %lu", &key, &shmid, &nattch) == 3 &&
		    nattch == 0)
			return ferry_error(
			    err, 0,
			    "SysV shared memory segment %d (key 0x%x) is attached by "
			    "no process: not supported yet",
			    shmid, (unsigned)key);
	return 0;
}

struct collect_arg {
	const struct ferry_spec *spec;
	bool uts, sysv;
};

/* In the namespaces: 'h' hostname, 'd' domainname, 's' key=value records. */
static int collect_in_ns(void *arg, unsigned joined, struct recs *out, ferry_err_t *err)
{
	const struct collect_arg *a = arg;
	_cleanup_free_ char *val = malloc(SYSCTL_MAX);
	struct utsname u;

	if (!val)
		return ferry_error(err, ENOMEM, "sysctl");
	/* in init's IPC namespace: joined, or ferry's already (a dump works in it) */
	if (a->sysv && check_unattached_shm(err) < 0)
		return -1;
	if (a->uts) {
		if (uname(&u) < 0)
			return ferry_error_errno(err, "uname");
		if (recs_add(out, 'h', u.nodename, NULL, err) < 0 ||
		    recs_add(out, 'd', u.domainname, NULL, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < a->spec->linux.n_sysctl; i++) {
		const char *key = a->spec->linux.sysctl[i].key;
		int r = read_sysctl(key, val, SYSCTL_MAX, err);

		if (r < 0)
			return -1;
		if (r == 0)
			ferry_log(FERRY_LOG_DEBUG, "sysctl %s cannot be read: not saved", key);
		else if (recs_add(out, 's', key, val, err) < 0)
			return -1;
	}
	return 0;
}

/* Stores the child's records into c; returns 0 or -1. */
static int store_recs(const struct recs *r, struct cr_container *c, ferry_err_t *err)
{
	for (size_t off = 0; off < r->len;) {
		const char *s = r->data + off + 1;
		char tag = r->data[off];
		char *dup = strdup(s);
		char **v;

		off += strlen(s) + 2;
		if (!dup)
			return ferry_error(err, ENOMEM, "namespace facts");
		if (tag == 'h') {
			free(c->hostname);
			c->hostname = dup;
		} else if (tag == 'd') {
			free(c->domainname);
			c->domainname = dup;
		} else {
			v = realloc(c->sysctls, (c->n_sysctls + 1) * sizeof(*v));
			if (!v) {
				free(dup);
				return ferry_error(err, ENOMEM, "sysctls");
			}
			c->sysctls = v;
			v[c->n_sysctls++] = dup;
		}
	}
	return 0;
}

/* Whether a mount destination is /dev itself (ferry fills it with device nodes and links; the
 * tmpfs mounts below it, /dev/shm's POSIX shared memory among them, are saved). */
static bool is_dev(const char *dest)
{
	while (*dest == '/')
		dest++;
	return strncmp(dest, "dev", 3) == 0 && (dest[3] == '\0' || !strcmp(dest + 3, "/"));
}

static bool is_tmpfs(const struct ferry_mount *m)
{
	return m->type && strcmp(m->type, "tmpfs") == 0 && m->destination &&
	       !is_dev(m->destination);
}

static int open_root(pid_t init, ferry_err_t *err)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)init);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "open %s", path);
	return fd;
}

static int collect_tmpfs(pid_t init, const struct ferry_spec *spec, struct cr_container *c,
			 ferry_err_t *err)
{
	_cleanup_close_ int rootfd = -1;
	uint64_t budget = LX_TMPFS_MAX_BYTES;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct ferry_mount *sm = &spec->mounts[i];
		struct cr_mount_files *m;
		_cleanup_close_ int mntfd = -1;

		if (!is_tmpfs(sm))
			continue;
		if (rootfd < 0 && (rootfd = open_root(init, err)) < 0)
			return -1;
		m = realloc(c->mounts, (c->n_mounts + 1) * sizeof(*m));
		if (!m)
			return ferry_error(err, ENOMEM, "tmpfs mounts");
		c->mounts = m;
		m = &c->mounts[c->n_mounts];
		*m = (struct cr_mount_files){0};
		if (asprintf(&m->destination, "%s%s", sm->destination[0] == '/' ? "" : "/",
			     sm->destination) < 0)
			return ferry_error(err, ENOMEM, "tmpfs mounts");
		c->n_mounts++;
		mntfd = lx_tmpfs_open(rootfd, m->destination, err);
		if (mntfd < 0 || lx_tmpfs_collect(mntfd, m, &budget, err) < 0)
			return -1;
	}
	return 0;
}

int lx_ct_collect(pid_t init, const struct ferry_spec *spec, struct cr_container *c,
		  ferry_err_t *err)
{
	const struct ferry_namespace *ipc = ferry_spec_namespace(spec, FERRY_NS_IPC);
	struct collect_arg a = {
	    .spec = spec,
	    .uts = ferry_spec_namespace(spec, FERRY_NS_UTS) != NULL,
	    .sysv = ipc && !ipc->path,
	};
	struct recs out = {0};
	int r;

	r = in_namespaces(init, collect_in_ns, &a, &out, err);
	if (r == 0)
		r = store_recs(&out, c, err);
	free(out.data);
	if (r < 0 || (a.sysv && lx_sysv_collect(init, c, err) < 0))
		return -1;
	return collect_tmpfs(init, spec, c, err);
}

/* In the namespaces: the saved names and sysctl values. */
static int prepare_in_ns(void *arg, unsigned joined, struct recs *out, ferry_err_t *err)
{
	const struct cr_container *c = arg;

	if ((c->hostname || c->domainname) && !(joined & JOINED_UTS))
		return ferry_error(err, 0,
				   "the container shares ferry's UTS namespace: its hostname is "
				   "not set");
	if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
		return ferry_error_errno(err, "hostname \"%s\"", c->hostname);
	if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
		return ferry_error_errno(err, "domainname \"%s\"", c->domainname);
	for (size_t i = 0; i < c->n_sysctls; i++) {
		_cleanup_free_ char *key = strdup(c->sysctls[i]);
		char *eq = key ? strchr(key, '=') : NULL;

		if (!eq)
			return ferry_error(err, EINVAL, "sysctl \"%s\"", c->sysctls[i]);
		*eq = '\0';
		if (write_sysctl(key, eq + 1, err) < 0)
			return -1;
	}
	return 0;
}

static bool own_ipc_ns(const struct ferry_spec *spec)
{
	const struct ferry_namespace *ipc = ferry_spec_namespace(spec, FERRY_NS_IPC);

	return ipc && !ipc->path;
}

/* Everything in c must be something the spec's container has: its tmpfs mounts, its sysctl
 * keys (checked against the namespaces it owns when it was made), a UTS namespace for names. */
static int check_against_spec(const struct ferry_spec *spec, const struct cr_container *c,
			      ferry_err_t *err)
{
	for (size_t i = 0; i < c->n_mounts; i++) {
		bool found = false;

		for (size_t k = 0; k < spec->n_mounts && !found; k++)
			found =
			    is_tmpfs(&spec->mounts[k]) &&
			    lx_path_equal(spec->mounts[k].destination, c->mounts[i].destination);
		if (!found)
			return ferry_error(err, 0,
					   "the image has files of a tmpfs at %s, which the "
					   "config does not mount as a tmpfs",
					   c->mounts[i].destination);
	}
	for (size_t i = 0; i < c->n_sysctls; i++) {
		size_t len = strcspn(c->sysctls[i], "=");
		bool found = false;

		for (size_t k = 0; k < spec->linux.n_sysctl && !found; k++)
			found = strlen(spec->linux.sysctl[k].key) == len &&
				strncmp(spec->linux.sysctl[k].key, c->sysctls[i], len) == 0;
		if (!found || !c->sysctls[i][len])
			return ferry_error(err, 0,
					   "the image has sysctl \"%s\", which is not in the "
					   "config's linux.sysctl",
					   c->sysctls[i]);
	}
	if ((c->hostname || c->domainname) && !ferry_spec_namespace(spec, FERRY_NS_UTS))
		return ferry_error(err, 0,
				   "the image has a hostname, but the config has no UTS namespace");
	if ((c->n_sems || c->n_queues) && !own_ipc_ns(spec))
		return ferry_error(err, 0,
				   "the image has SysV semaphore sets or message queues, but the "
				   "config makes no IPC namespace of its own");
	return 0;
}

/* An error naming what a process holds that the root does not have; returns -1. */
static int missing(const struct cr_process *p, const char *path, const char *what, ferry_err_t *err)
{
	return ferry_error(err, 0,
			   "process %d (%s) holds %s (%s), which the container's root filesystem "
			   "does not have",
			   (int)p->pid, p->comm ? p->comm : "?", path, what);
}

/* Returns 0 when path exists in rootfd, else -1 with the error for process p. */
static int check_held(int rootfd, const struct cr_process *p, const char *path, const char *what,
		      ferry_err_t *err)
{
	int fd;

	if (!path || path[0] != '/')
		return 0;
	fd = lx_inroot_open(rootfd, path, O_PATH);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT || errno == ENOTDIR)
		return missing(p, path, what, err);
	return ferry_error_errno(err, "process %d (%s): %s (%s)", (int)p->pid,
				 p->comm ? p->comm : "?", path, what);
}

static int check_fd(int rootfd, const struct cr_process *p, const struct cr_fd *f, ferry_err_t *err)
{
	char what[64], dir[4096];
	const char *slash;

	switch (f->kind) {
	case CR_FD_CHR:
		if (f->termios.len) /* a terminal: the restore gives it one, not by path */
			return 0;
		/* fall through */
	case CR_FD_REG:
	case CR_FD_DIR:
	case CR_FD_FIFO:
		if (f->inherit)
			return 0;
		snprintf(what, sizeof(what), "fd %d", (int)f->fd);
		return check_held(rootfd, p, f->path, what, err);
	case CR_FD_DELETED:
		slash = f->path ? strrchr(f->path, '/') : NULL;
		if (!slash || (size_t)(slash - f->path) >= sizeof(dir))
			return 0;
		snprintf(dir, sizeof(dir), "%.*s", slash == f->path ? 1 : (int)(slash - f->path),
			 f->path);
		snprintf(what, sizeof(what), "the directory of deleted fd %d", (int)f->fd);
		return check_held(rootfd, p, dir, what, err);
	default:
		return 0;
	}
}

static int check_process(int rootfd, const struct cr_process *p, ferry_err_t *err)
{
	const char *last = NULL;
	char what[64];

	if (check_held(rootfd, p, p->mm.exe, "its executable", err) < 0 ||
	    check_held(rootfd, p, p->cwd, "its working directory", err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_vmas; i++) {
		const struct cr_vma *v = &p->vmas[i];

		if (!v->path || v->shm_id || (v->flags & CR_VMA_ANON) ||
		    (last && strcmp(last, v->path) == 0))
			continue;
		last = v->path;
		snprintf(what, sizeof(what), "mapped at 0x%" PRIx64, v->start);
		if (check_held(rootfd, p, v->path, what, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < p->n_fds; i++)
		if (check_fd(rootfd, p, &p->fds[i], err) < 0)
			return -1;
	return 0;
}

/* Whether the pipe of f has another end in the image. */
static bool pipe_in_image(const struct cr_image *img, const struct cr_fd *f)
{
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t k = 0; k < img->procs[i].n_fds; k++) {
			const struct cr_fd *g = &img->procs[i].fds[k];

			if (g != f && g->kind == CR_FD_PIPE && g->id == f->id &&
			    g->write_end != f->write_end)
				return true;
		}
	return false;
}

/* Whether g is the same outside file as f (a pipe by id, a file by path). */
static bool same_outside(const struct cr_fd *f, const struct cr_fd *g)
{
	if (f->kind != g->kind)
		return false;
	if (f->kind == CR_FD_PIPE)
		return f->id == g->id && f->write_end == g->write_end;
	return f->path && g->path && !strcmp(f->path, g->path);
}

/* The first process's stdio that came from outside the container (a pipe to the runtime's
 * caller, a file of the host) comes from the restore's caller, as a runtime's stdio does; so
 * does every fd of the tree on the same file (inherited by the children). */
static void inherit_stdio(int rootfd, struct cr_image *img)
{
	struct cr_process *p = img->n_procs ? &img->procs[0] : NULL;

	for (size_t k = 0; p && k < p->n_fds && p->fds[k].fd <= 2; k++) {
		struct cr_fd *f = &p->fds[k];
		int fd;

		switch (f->kind) {
		case CR_FD_PIPE:
			f->inherit = !pipe_in_image(img, f);
			break;
		case CR_FD_REG:
		case CR_FD_CHR:
		case CR_FD_FIFO:
			if (f->termios.len || !f->path)
				break;
			fd = lx_inroot_open(rootfd, f->path, O_PATH);
			f->inherit = fd < 0;
			if (fd >= 0)
				close(fd);
			break;
		default:
			break;
		}
		f->inherit_fd = f->fd;
		for (size_t i = 0; f->inherit && i < img->n_procs; i++)
			for (size_t j = 0; j < img->procs[i].n_fds; j++) {
				struct cr_fd *g = &img->procs[i].fds[j];

				if (g != f && !g->inherit && same_outside(f, g)) {
					g->inherit = true;
					g->inherit_fd = f->fd;
				}
			}
	}
}

int lx_ct_prepare(pid_t init, const struct ferry_spec *spec, struct cr_image *img, ferry_err_t *err)
{
	const struct cr_container *c = img->container;
	_cleanup_close_ int rootfd = -1;
	struct recs out = {0};

	if (c && check_against_spec(spec, c, err) < 0)
		return -1;
	rootfd = open_root(init, err);
	if (rootfd < 0)
		return -1;
	for (size_t i = 0; c && i < c->n_mounts; i++) {
		_cleanup_close_ int mntfd = lx_tmpfs_open(rootfd, c->mounts[i].destination, err);

		if (mntfd < 0 || lx_tmpfs_restore(mntfd, &c->mounts[i], err) < 0)
			return -1;
	}
	if (c && (c->hostname || c->domainname || c->n_sysctls)) {
		if (in_namespaces(init, prepare_in_ns, (void *)c, &out, err) < 0)
			return -1;
		free(out.data);
	}
	if (c && lx_sysv_prepare(init, c, err) < 0) /* after the sysctls: it keeps msgmnb */
		return -1;
	inherit_stdio(rootfd, img);
	for (size_t i = 0; i < img->n_procs; i++)
		if (check_process(rootfd, &img->procs[i], err) < 0)
			return -1;
	return 0;
}

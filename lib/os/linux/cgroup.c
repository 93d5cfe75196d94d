// SPDX-License-Identifier: Apache-2.0
/* Container cgroups over every mounted hierarchy: discovery, path resolution and operations. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/cgroup_internal.h"

#define DESTROY_RETRY_MS 1000
#define KILL_ROUNDS 10

static const char *const v1_controllers[] = {
    "cpu",   "cpuacct",	   "cpuset",  "memory", "devices", "freezer", "net_cls", "net_prio",
    "blkio", "perf_event", "hugetlb", "pids",	"rdma",	   "misc",    "debug",
};

long long lx_cg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- files ---- */

static char *read_file(const char *dir, const char *file, int *errnum)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0, cap = 4096;
	ssize_t r;

	if (asprintf(&path, "%s/%s", dir, file) < 0 || !(buf = malloc(cap))) {
		*errnum = ENOMEM;
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		return NULL;
	}
	while ((r = read(fd, buf + len, cap - len - 1)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*errnum = errno;
			return NULL;
		}
		len += r;
		if (cap - len < 2) {
			char *n = realloc(buf, cap * 2);

			if (!n) {
				*errnum = ENOMEM;
				return NULL;
			}
			buf = n;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	return steal_ptr(buf);
}

char *lx_cg_read(const char *dir, const char *file, ferry_err_t *err)
{
	int errnum = 0;
	char *s = read_file(dir, file, &errnum);

	if (!s)
		ferry_error(err, errnum, "read %s/%s", dir, file);
	return s;
}

char *lx_cg_read_opt(const char *dir, const char *file, bool *missing, ferry_err_t *err)
{
	int errnum = 0;
	char *s = read_file(dir, file, &errnum);

	*missing = !s && (errnum == ENOENT || errnum == ENODEV);
	if (!s && !*missing)
		ferry_error(err, errnum, "read %s/%s", dir, file);
	return s;
}

int lx_cg_write(const char *dir, const char *file, const char *value, ferry_err_t *err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t r;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		return ferry_error(err, ENOMEM, "write %s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ferry_error_errno(err, "write %s to %s", value, path);
	do
		r = write(fd, value, len);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ferry_error_errno(err, "write %s to %s", value, path);
	if ((size_t)r != len)
		return ferry_error(err, EIO, "write %s to %s: short write", value, path);
	return 0;
}

/* ---- discovery ---- */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static void hier_free(struct lx_cg_hier *h)
{
	free(h->mnt);
	free(h->root);
	free(h->opts);
}

void lx_cg_hiers_free(struct lx_cg_hiers *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		hier_free(&hs->h[i]);
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

/* Adds h to hs, or keeps one entry per hierarchy (preferring a mount of its root). */
static int hiers_add(struct lx_cg_hiers *hs, struct lx_cg_hier *h)
{
	struct lx_cg_hier *n;

	for (size_t i = 0; i < hs->n; i++) {
		if (hs->h[i].dev != h->dev)
			continue;
		if (strcmp(hs->h[i].root, "/") != 0 && strcmp(h->root, "/") == 0) {
			hier_free(&hs->h[i]);
			hs->h[i] = *h;
		} else {
			hier_free(h);
		}
		return 0;
	}
	n = realloc(hs->h, (hs->n + 1) * sizeof(*n));
	if (!n)
		return -1;
	hs->h = n;
	hs->h[hs->n++] = *h;
	return 0;
}

/* Parses one mountinfo line; returns 1 with *h filled for a cgroup mount, 0 if not, -1 ENOMEM. */
static int parse_line(char *line, struct lx_cg_hier *h)
{
	char *sep = strstr(line, " - "), *save = NULL, *fstype, *opts;
	unsigned int maj, min;

	if (!sep)
		return 0;
	*sep = '\0';
	fstype = strtok_r(sep + 3, " \n", &save);
	if (!fstype || (strcmp(fstype, "cgroup") != 0 && strcmp(fstype, "cgroup2") != 0))
		return 0;
	if (!strtok_r(NULL, " \n", &save))
		return 0;
	opts = strtok_r(NULL, " \n", &save);
	memset(h, 0, sizeof(*h));
	if (sscanf(line, "%*d %*d %u:%u %ms %ms", &maj, &min, &h->root, &h->mnt) != 4) {
		hier_free(h);
		return 0;
	}
	h->opts = strdup(opts ? opts : "");
	if (!h->opts) {
		hier_free(h);
		return -1;
	}
	unescape(h->root);
	unescape(h->mnt);
	h->dev = makedev(maj, min);
	h->v2 = strcmp(fstype, "cgroup2") == 0;
	return 1;
}

int lx_cg_parse_mountinfo(FILE *f, struct lx_cg_hiers *out, ferry_err_t *err)
{
	_cleanup_free_ char *line = NULL;
	struct lx_cg_hiers hs = {0};
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		struct lx_cg_hier h;
		int r = parse_line(line, &h);

		if (r == 0)
			continue;
		if (r < 0 || hiers_add(&hs, &h) < 0) {
			if (r > 0)
				hier_free(&h);
			lx_cg_hiers_free(&hs);
			return ferry_error(err, ENOMEM, "parse mountinfo");
		}
	}
	if (hs.n == 0)
		return ferry_error(err, ENOENT, "no cgroup filesystem is mounted");
	*out = hs;
	return 0;
}

int lx_cg_discover(struct lx_cg_hiers *out, ferry_err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return ferry_error_errno(err, "open /proc/self/mountinfo");
	return lx_cg_parse_mountinfo(f, out, err);
}

bool lx_cg_has_option(const struct lx_cg_hier *h, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = h->opts; p && *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == len && strncmp(p, name, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

static bool has_v1_controller(const struct lx_cg_hier *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(v1_controllers); i++)
		if (lx_cg_has_option(h, v1_controllers[i]))
			return true;
	return false;
}

int lx_cg_layout_of(const struct lx_cg_hiers *hs)
{
	bool v1 = false, v1_ctl = false, v2 = false;

	for (size_t i = 0; i < hs->n; i++) {
		if (hs->h[i].v2) {
			v2 = true;
		} else {
			v1 = true;
			v1_ctl = v1_ctl || has_v1_controller(&hs->h[i]);
		}
	}
	if (v1_ctl)
		return v2 ? LX_CGROUP_HYBRID : LX_CGROUP_V1;
	if (v2)
		return LX_CGROUP_V2;
	return v1 ? LX_CGROUP_V1 : -1;
}

int lx_cgroup_layout(ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	int layout;

	if (lx_cg_discover(&hs, err) < 0)
		return -1;
	layout = lx_cg_layout_of(&hs);
	lx_cg_hiers_free(&hs);
	return layout;
}

char *lx_cg_dir(const struct lx_cg_hier *h, const char *path)
{
	size_t rl = strlen(h->root);
	char *dir = NULL;

	/* A mount of a subtree ("/docker/x" at /sys/fs/cgroup/cpu) reaches paths below it. */
	if (strcmp(h->root, "/") != 0 && strncmp(path, h->root, rl) == 0 &&
	    (path[rl] == '/' || path[rl] == '\0'))
		path += rl;
	if (asprintf(&dir, "%s%s", h->mnt, path) < 0)
		return NULL;
	return dir;
}

/* Returns the hierarchy whose v1 options include name, or NULL. */
static const struct lx_cg_hier *find_v1(const struct lx_cg_hiers *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (!hs->h[i].v2 && lx_cg_has_option(&hs->h[i], name))
			return &hs->h[i];
	return NULL;
}

static const struct lx_cg_hier *find_v2(const struct lx_cg_hiers *hs)
{
	for (size_t i = 0; i < hs->n; i++)
		if (hs->h[i].v2)
			return &hs->h[i];
	return NULL;
}

/* ---- paths ---- */

/* Builds "/a/b" from the components of in (skipping empty ones); "" when there are none.
 * Returns a new string, or NULL with errno EINVAL for a "." or ".." component (ENOMEM else). */
static char *normalise(const char *in)
{
	_cleanup_free_ char *out = malloc(strlen(in) + 2);
	size_t len = 0;

	if (!out)
		return NULL;
	for (const char *p = in; *p;) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			errno = EINVAL;
			return NULL;
		}
		if (n > 0) {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
		p += *p == '/';
	}
	out[len] = '\0';
	return steal_ptr(out);
}

/* Checks that path is an absolute, normalised path below the root; returns 0 or -1. */
static int check_path(const char *path, ferry_err_t *err)
{
	_cleanup_free_ char *norm = NULL;

	if (!path || path[0] != '/')
		return ferry_error(err, EINVAL, "cgroup path %s is not absolute", path ? path : "");
	norm = normalise(path);
	if (!norm)
		return ferry_error_errno(err, "cgroup path %s", path);
	if (!*norm)
		return ferry_error(err, EINVAL, "cgroup path %s is the root cgroup", path);
	if (strcmp(norm, path) != 0)
		return ferry_error(err, EINVAL, "cgroup path %s is not normalised", path);
	return 0;
}

char *lx_cg_parse_self(const char *text, bool v2_only, ferry_err_t *err)
{
	const char *first = NULL, *found = NULL;

	for (const char *line = text; line && *line; line = strchr(line, '\n')) {
		const char *c1, *c2;

		line += *line == '\n';
		c1 = strchr(line, ':');
		c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		if (v2_only) {
			if (strncmp(line, "0::", 3) == 0)
				found = c2 + 1;
		} else if (strncmp(line, "0:", 2) != 0) {
			_cleanup_free_ char *ctl = strndup(c1 + 1, c2 - c1 - 1);
			struct lx_cg_hier h = {.opts = ctl};

			if (!first)
				first = c2 + 1;
			if (ctl && lx_cg_has_option(&h, "memory"))
				found = c2 + 1;
		}
		if (found)
			break;
	}
	found = found ? found : first;
	if (!found)
		return ferry_error(err, ENOENT, "no %s entry in /proc/self/cgroup",
				   v2_only ? "cgroup v2" : "cgroup v1"),
		       NULL;
	return strndup(found, strcspn(found, "\n"));
}

/* Returns the calling process's own cgroup path (new string) or NULL. */
static char *self_cgroup(ferry_err_t *err)
{
	_cleanup_free_ char *text = lx_cg_read("/proc/self", "cgroup", err);
	int layout = lx_cgroup_layout(err);

	if (!text || layout < 0)
		return NULL;
	return lx_cg_parse_self(text, layout == LX_CGROUP_V2, err);
}

/* runc's systemd driver form "slice:prefix:name": two colons and no slash. */
static bool is_systemd_form(const char *p)
{
	const char *c = strchr(p, ':');

	return !strchr(p, '/') && c && strchr(c + 1, ':') && !strchr(strchr(c + 1, ':') + 1, ':');
}

char *lx_cgroup_resolve(const char *cgroups_path, const char *id, ferry_err_t *err)
{
	_cleanup_free_ char *norm = NULL, *self = NULL, *joined = NULL;
	char *out = NULL;

	if (!cgroups_path || !*cgroups_path) {
		if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
			return ferry_error(err, EINVAL, "invalid container id '%s' for a cgroup",
					   id ? id : ""),
			       NULL;
		if (asprintf(&out, "/ferry/%s", id) < 0)
			return ferry_error(err, ENOMEM, "cgroup path"), NULL;
		return out;
	}
	if (is_systemd_form(cgroups_path))
		return ferry_error(err, EINVAL,
				   "linux.cgroupsPath %s: systemd cgroup paths (slice:prefix:name) "
				   "are not supported",
				   cgroups_path),
		       NULL;
	norm = normalise(cgroups_path);
	if (!norm && errno == EINVAL)
		return ferry_error(
			   err, EINVAL,
			   "linux.cgroupsPath %s: \".\" and \"..\" components are not allowed",
			   cgroups_path),
		       NULL;
	if (!norm)
		return ferry_error(err, ENOMEM, "linux.cgroupsPath"), NULL;
	if (!*norm)
		return ferry_error(err, EINVAL, "linux.cgroupsPath %s names the root cgroup",
				   cgroups_path),
		       NULL;
	if (cgroups_path[0] == '/')
		return steal_ptr(norm);
	self = self_cgroup(err);
	if (!self)
		return ferry_error_wrap(err, "linux.cgroupsPath %s", cgroups_path), NULL;
	if (asprintf(&joined, "%s%s", self, norm) < 0)
		return ferry_error(err, ENOMEM, "linux.cgroupsPath"), NULL;
	out = normalise(joined);
	if (!out)
		return ferry_error_errno(err, "linux.cgroupsPath %s: own cgroup %s", cgroups_path,
					 self),
		       NULL;
	return out;
}

/* ---- create and enter ---- */

/* Removes dir and its parents up to and including top (a chain this module created). */
static void remove_chain(char *dir, const char *top)
{
	for (;;) {
		char *slash;

		rmdir(dir);
		if (strcmp(dir, top) == 0)
			return;
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return;
		*slash = '\0';
	}
}

/* Prepares an existing directory of the chain for a child or a task. */
static int prepare_dir(const struct lx_cg_hier *h, const char *dir, bool leaf, int layout,
		       ferry_err_t *err)
{
	if (!h->v2 && lx_cg_has_option(h, "cpuset"))
		return lx_cgv1_copy_cpuset(dir, lx_cg_has_option(h, "noprefix"), err);
	if (h->v2 && layout == LX_CGROUP_V2 && !leaf)
		lx_cgv2_enable_controllers(dir);
	return 0;
}

/* mkdir -p of path in h; *top gets the first directory it made (NULL if none). Returns 0 or -1. */
static int create_in(const struct lx_cg_hier *h, const char *path, int layout, char **top,
		     ferry_err_t *err)
{
	_cleanup_free_ char *dir = lx_cg_dir(h, path);
	size_t base;

	if (!dir)
		return ferry_error(err, ENOMEM, "cgroup %s", path);
	base = strlen(h->mnt);
	if (h->v2 && prepare_dir(h, h->mnt, false, layout, err) < 0)
		return -1;
	for (size_t i = base + 1; dir[i - 1]; i++) {
		char saved = dir[i];

		if (saved != '/' && saved != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (!*top && !(*top = strdup(dir)))
				return ferry_error(err, ENOMEM, "cgroup %s", path);
		} else if (errno != EEXIST) {
			return ferry_error_errno(err, "mkdir %s", dir);
		}
		if (prepare_dir(h, dir, saved == '\0', layout, err) < 0)
			return -1;
		dir[i] = saved;
	}
	return 0;
}

int lx_cgroup_create(const char *path, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	char **tops = NULL;
	int layout, r = 0;

	if (check_path(path, err) < 0 || lx_cg_discover(&hs, err) < 0)
		return ferry_error_wrap(err, "create cgroup");
	layout = lx_cg_layout_of(&hs);
	tops = calloc(hs.n, sizeof(*tops));
	if (!tops)
		r = ferry_error(err, ENOMEM, "cgroup %s", path);
	for (size_t i = 0; r == 0 && i < hs.n; i++)
		r = create_in(&hs.h[i], path, layout, &tops[i], err);
	for (size_t i = 0; tops && i < hs.n; i++) {
		char *dir = r < 0 && tops[i] ? lx_cg_dir(&hs.h[i], path) : NULL;

		if (dir)
			remove_chain(dir, tops[i]);
		free(dir);
		free(tops[i]);
	}
	free(tops);
	lx_cg_hiers_free(&hs);
	return r < 0 ? ferry_error_wrap(err, "create cgroup %s", path) : 0;
}

int lx_cgroup_enter(const char *path, pid_t pid, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	char buf[32];
	int r = 0;

	if (check_path(path, err) < 0 || lx_cg_discover(&hs, err) < 0)
		return ferry_error_wrap(err, "enter cgroup");
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t i = 0; r == 0 && i < hs.n; i++) {
		_cleanup_free_ char *dir = lx_cg_dir(&hs.h[i], path);

		r = dir ? lx_cg_write(dir, "cgroup.procs", buf, err)
			: ferry_error(err, ENOMEM, "cgroup %s", path);
	}
	lx_cg_hiers_free(&hs);
	return r < 0 ? ferry_error_wrap(err, "enter cgroup %s", path) : 0;
}

/* ---- pids ---- */

struct pidv {
	pid_t *v;
	size_t n, cap;
};

static int pidv_add(struct pidv *pv, pid_t pid)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 64;
		pid_t *v = realloc(pv->v, cap * sizeof(*v));

		if (!v)
			return -1;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = pid;
	return 0;
}

/* Adds the pids of dir and its descendants; a child cgroup that vanished is skipped. */
static int collect_pids(const char *dir, bool top, struct pidv *pv, ferry_err_t *err)
{
	bool missing = false;
	_cleanup_free_ char *procs = lx_cg_read_opt(dir, "cgroup.procs", &missing, err);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!procs && missing && !top)
		return 0;
	if (!procs)
		return missing ? ferry_error(err, ENOENT, "cgroup %s", dir) : -1;
	for (char *p = procs, *end; *p; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v > 0 && pidv_add(pv, (pid_t)v) < 0)
			return ferry_error(err, ENOMEM, "cgroup %s", dir);
	}
	d = opendir(dir);
	if (!d)
		return errno == ENOENT && !top ? 0 : ferry_error_errno(err, "open %s", dir);
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			r = ferry_error(err, ENOMEM, "cgroup %s", dir);
		else
			r = collect_pids(sub, false, pv, err);
	}
	closedir(d);
	return r;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The hierarchy that lists a cgroup's processes: cgroup2 when mounted, else freezer/pids/first. */
static const struct lx_cg_hier *procs_hier(const struct lx_cg_hiers *hs)
{
	const struct lx_cg_hier *h = find_v2(hs);

	if (!h)
		h = find_v1(hs, "freezer");
	if (!h)
		h = find_v1(hs, "pids");
	return h ? h : &hs->h[0];
}

int lx_cgroup_pids(const char *path, pid_t **pids, size_t *n, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	struct pidv pv = {0};
	_cleanup_free_ char *dir = NULL;
	size_t u = 0;
	int r;

	if (check_path(path, err) < 0 || lx_cg_discover(&hs, err) < 0)
		return ferry_error_wrap(err, "list cgroup");
	dir = lx_cg_dir(procs_hier(&hs), path);
	lx_cg_hiers_free(&hs);
	r = dir ? collect_pids(dir, true, &pv, err) : ferry_error(err, ENOMEM, "cgroup");
	if (r < 0) {
		free(pv.v);
		return ferry_error_wrap(err, "list cgroup %s", path);
	}
	if (pv.n)
		qsort(pv.v, pv.n, sizeof(*pv.v), cmp_pid);
	for (size_t i = 0; i < pv.n; i++)
		if (u == 0 || pv.v[u - 1] != pv.v[i])
			pv.v[u++] = pv.v[i];
	*pids = pv.v ? pv.v : calloc(1, sizeof(pid_t));
	*n = u;
	if (!*pids)
		return ferry_error(err, ENOMEM, "list cgroup %s", path);
	return 0;
}

/* ---- freezer ---- */

/* Finds the freezer: the v1 freezer hierarchy, else cgroup2. *dir is malloc'd. Returns 0 or -1. */
static int freezer_dir(const char *path, char **dir, bool *v2, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	const struct lx_cg_hier *h;

	if (check_path(path, err) < 0 || lx_cg_discover(&hs, err) < 0)
		return -1;
	h = find_v1(&hs, "freezer");
	if (!h)
		h = find_v2(&hs);
	if (!h) {
		lx_cg_hiers_free(&hs);
		return ferry_error(err, ENOTSUP, "no freezer: neither a v1 freezer nor cgroup2");
	}
	*v2 = h->v2;
	*dir = lx_cg_dir(h, path);
	lx_cg_hiers_free(&hs);
	return *dir ? 0 : ferry_error(err, ENOMEM, "freezer");
}

int lx_cgroup_freeze(const char *path, bool frozen, ferry_err_t *err)
{
	_cleanup_free_ char *dir = NULL;
	bool v2 = false;
	int r;

	if (freezer_dir(path, &dir, &v2, err) < 0)
		return ferry_error_wrap(err, "%s cgroup", frozen ? "freeze" : "thaw");
	r = v2 ? lx_cgv2_freeze(dir, frozen, err) : lx_cgv1_freeze(dir, frozen, err);
	if (r < 0)
		return ferry_error_wrap(err, "%s cgroup %s", frozen ? "freeze" : "thaw", path);
	return 0;
}

int lx_cgroup_frozen(const char *path, bool *frozen, ferry_err_t *err)
{
	_cleanup_free_ char *dir = NULL;
	bool v2 = false;
	int r;

	if (freezer_dir(path, &dir, &v2, err) < 0)
		return ferry_error_wrap(err, "freezer state");
	r = v2 ? lx_cgv2_frozen(dir, frozen, err) : lx_cgv1_frozen(dir, frozen, err);
	if (r < 0)
		return ferry_error_wrap(err, "freezer state of %s", path);
	return 0;
}

/* ---- kill ---- */

static bool pid_in(const pid_t *v, size_t n, pid_t pid)
{
	return bsearch(&pid, v, n, sizeof(*v), cmp_pid) != NULL;
}

/* Signals every listed pid not in done; *sent counts them. Returns 0 or -1. */
static int signal_round(const char *path, int sig, struct pidv *done, size_t *sent,
			ferry_err_t *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0, before = done->n;

	*sent = 0;
	if (lx_cgroup_pids(path, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (pid_in(done->v, before, pids[i]))
			continue;
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return ferry_error_errno(err, "kill %d", (int)pids[i]);
		if (pidv_add(done, pids[i]) < 0)
			return ferry_error(err, ENOMEM, "kill");
		(*sent)++;
	}
	if (done->n)
		qsort(done->v, done->n, sizeof(*done->v), cmp_pid);
	return 0;
}

/* SIGKILL through cgroup.kill where cgroup2 has it; returns 1 done, 0 unavailable, -1 error. */
static int kill_v2(const char *path, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	const struct lx_cg_hier *h;
	_cleanup_free_ char *dir = NULL;

	if (lx_cg_discover(&hs, err) < 0)
		return -1;
	h = find_v2(&hs);
	dir = h ? lx_cg_dir(h, path) : NULL;
	lx_cg_hiers_free(&hs);
	return dir ? lx_cgv2_kill(dir, err) : 0;
}

int lx_cgroup_kill(const char *path, int sig, ferry_err_t *err)
{
	struct pidv done = {0};
	size_t sent = 0;
	int r = 0;

	if (check_path(path, err) < 0)
		return ferry_error_wrap(err, "kill cgroup");
	if (sig == SIGKILL) {
		r = kill_v2(path, err);
		if (r != 0)
			return r < 0 ? ferry_error_wrap(err, "kill cgroup %s", path) : 0;
	}
	/* A process may fork while it is signalled: SIGKILL repeats until no new pid shows up. */
	for (int round = 0; r == 0 && round < (sig == SIGKILL ? KILL_ROUNDS : 1); round++) {
		r = signal_round(path, sig, &done, &sent, err);
		if (sent == 0)
			break;
	}
	free(done.v);
	return r < 0 ? ferry_error_wrap(err, "kill cgroup %s", path) : 0;
}

/* ---- destroy ---- */

/* rmdir of dir's subtree, deepest first; returns 0 (also when gone) or -errno. */
static int remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && (de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			r = -ENOMEM;
		else
			r = remove_tree(sub);
	}
	closedir(d);
	if (r == 0 && rmdir(dir) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Removes dir's subtree, retrying while it is busy (its processes are still exiting). */
static int remove_retrying(const char *dir, ferry_err_t *err)
{
	long long deadline = lx_cg_now_ms() + DESTROY_RETRY_MS;
	int r;

	while ((r = remove_tree(dir)) == -EBUSY && lx_cg_now_ms() < deadline)
		usleep(10000);
	return r < 0 ? ferry_error(err, -r, "rmdir %s", dir) : 0;
}

int lx_cgroup_destroy(const char *path, ferry_err_t *err)
{
	struct lx_cg_hiers hs = {0};
	bool frozen = false;
	int r = 0;

	if (check_path(path, err) < 0 || lx_cg_discover(&hs, err) < 0)
		return ferry_error_wrap(err, "destroy cgroup");
	/* Frozen processes cannot exit, and the cgroup stays busy until they do. */
	if (lx_cgroup_frozen(path, &frozen, NULL) == 0 && frozen)
		lx_cgroup_freeze(path, false, NULL);
	for (size_t i = 0; i < hs.n; i++) {
		_cleanup_free_ char *dir = lx_cg_dir(&hs.h[i], path);

		if (!dir)
			r = ferry_error(err, ENOMEM, "cgroup %s", path);
		else if (remove_retrying(dir, err) < 0)
			r = -1;
	}
	lx_cg_hiers_free(&hs);
	return r < 0 ? ferry_error_wrap(err, "destroy cgroup %s", path) : 0;
}

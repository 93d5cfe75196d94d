// SPDX-License-Identifier: Apache-2.0
/* The pids of a dumped tree as its own pid namespace sees them (a container's init is 1 there):
 * ferry seizes by host pid, the image records the namespace's pids, which a restore re-creates
 * inside a new pid namespace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"

struct pid_pair {
	pid_t host, ns;
};

struct pid_table {
	struct pid_pair *v;
	size_t n, cap;
};

/* The last number of a "KEY:\t1234\t5" line of a status file: the innermost namespace's value
 * (0 when that namespace does not see it). Returns 0 or -1. */
static int status_last(const char *path, const char *key, pid_t *out, ferry_err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	size_t klen = strlen(key);
	char line[512];

	if (!f)
		return ferry_error_errno(err, "%s", path);
	while (fgets(line, sizeof(line), f)) {
		char *s, *end;
		long v = -1;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		for (s = line + klen + 1;; s = end) {
			long x = strtol(s, &end, 10);

			if (end == s)
				break;
			v = x;
		}
		if (v < 0)
			break;
		*out = (pid_t)v;
		return 0;
	}
	return ferry_error(err, EPROTO, "%s: no %s line", path, key);
}

static int same_pid_ns(pid_t pid, bool *same, ferry_err_t *err)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat("/proc/self/ns/pid", &a) < 0 || stat(path, &b) < 0)
		return ferry_error_errno(err, "pid namespace of %d", pid);
	*same = a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	return 0;
}

static int table_add(struct pid_table *t, pid_t host, pid_t ns, ferry_err_t *err)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct pid_pair *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "pid table");
		t->v = v, t->cap = cap;
	}
	t->v[t->n++] = (struct pid_pair){host, ns};
	return 0;
}

/* The namespace's pid of host pid h; 0 when h is not in the tree. */
static pid_t table_ns(const struct pid_table *t, pid_t h)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].host == h)
			return t->v[i].ns;
	return 0;
}

/* Every thread of the tree, host tid to namespace tid. */
static int fill_table(const struct lx_tree *tree, struct pid_table *t, ferry_err_t *err)
{
	char path[96];

	for (size_t i = 0; i < tree->n; i++) {
		const struct lx_proc *lx = &tree->procs[i];

		for (size_t k = 0; k < lx->ntids; k++) {
			pid_t ns;

			snprintf(path, sizeof(path), "/proc/%d/task/%d/status", lx->pid,
				 lx->tids[k]);
			if (status_last(path, "NSpid", &ns, err) < 0 ||
			    table_add(t, lx->tids[k], ns, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int map_process(const struct pid_table *t, struct cr_process *p, ferry_err_t *err)
{
	pid_t host = p->pid;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", host);
	if (status_last(path, "NSpgid", &p->pgid, err) < 0 ||
	    status_last(path, "NSsid", &p->sid, err) < 0)
		return -1;
	p->pid = table_ns(t, host);
	p->ppid = table_ns(t, p->ppid);
	for (size_t k = 0; k < p->n_threads; k++)
		p->threads[k].tid = table_ns(t, p->threads[k].tid);
	for (size_t k = 0; k < p->n_timers; k++)
		if (p->timers[k].notify_tid)
			p->timers[k].notify_tid = table_ns(t, p->timers[k].notify_tid);
	return 0;
}

int lx_dump_ns_pids(const struct lx_tree *tree, struct cr_image *img, ferry_err_t *err)
{
	struct pid_table t = {0};
	bool same;
	int r = 0;

	if (tree->n == 0 || same_pid_ns(tree->procs[0].pid, &same, err) < 0)
		return -1;
	if (same)
		return 0;
	r = fill_table(tree, &t, err);
	for (size_t i = 0; r == 0 && i < img->n_procs; i++)
		r = map_process(&t, &img->procs[i], err);
	if (r == 0)
		img->root_pid = table_ns(&t, img->root_pid);
	free(t.v);
	return r;
}

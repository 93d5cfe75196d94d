// SPDX-License-Identifier: Apache-2.0
/* Credentials of a dumped tree as its own user namespace sees them: ferry reads them from /proc
 * as the host sees them (a container's root is 100000 there), a restore sets them from inside
 * the new container's user namespace. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"

#define OVERFLOW_ID 65534u /* what the kernel shows for an id with no mapping */

struct id_map {
	uint32_t inside[340], outside[340], count[340]; /* the kernel allows 340 lines */
	size_t n;
};

static int read_map(pid_t pid, const char *which, struct id_map *m, ferry_err_t *err)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long in, out, cnt;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, which);
	f = fopen(path, "re");
	if (!f)
		return ferry_error_errno(err, "%s", path);
	m->n = 0;
	while (m->n < 340 && fscanf(f, "%lu %lu %lu", &in, &out, &cnt) == 3) {
		m->inside[m->n] = (uint32_t)in, m->outside[m->n] = (uint32_t)out;
		m->count[m->n++] = (uint32_t)cnt;
	}
	return 0;
}

/* Whether m maps every id to itself (the host's own namespace). */
static bool identity(const struct id_map *m)
{
	return m->n == 1 && m->inside[0] == 0 && m->outside[0] == 0 && m->count[0] == UINT32_MAX;
}

static uint32_t inside(const struct id_map *m, uint32_t host)
{
	for (size_t i = 0; i < m->n; i++)
		if (host >= m->outside[i] && host - m->outside[i] < m->count[i])
			return m->inside[i] + (host - m->outside[i]);
	return OVERFLOW_ID;
}

static void map_creds(struct cr_creds *c, const struct id_map *u, const struct id_map *g)
{
	c->uid = inside(u, c->uid), c->euid = inside(u, c->euid);
	c->suid = inside(u, c->suid), c->fsuid = inside(u, c->fsuid);
	c->gid = inside(g, c->gid), c->egid = inside(g, c->egid);
	c->sgid = inside(g, c->sgid), c->fsgid = inside(g, c->fsgid);
	for (size_t i = 0; i < c->n_groups; i++)
		c->groups[i] = inside(g, c->groups[i]);
}

int lx_dump_ns_ids(const struct lx_tree *tree, struct cr_image *img, ferry_err_t *err)
{
	struct id_map *u = calloc(2, sizeof(*u)), *g = u ? u + 1 : NULL;
	int r = 0;

	if (!u)
		return ferry_error(err, ENOMEM, "id maps");
	for (size_t i = 0; r == 0 && i < img->n_procs && i < tree->n; i++) {
		r = read_map(tree->procs[i].pid, "uid_map", u, err);
		if (r == 0)
			r = read_map(tree->procs[i].pid, "gid_map", g, err);
		if (r == 0 && !(identity(u) && identity(g)))
			map_creds(&img->procs[i].creds, u, g);
	}
	free(u);
	return r;
}

// SPDX-License-Identifier: Apache-2.0
/* Freeing the model and the translators' outputs. */
#include <stdlib.h>
#include <string.h>

#include "limits/limits.h"

void lim_free(struct lim_resources *r)
{
	if (!r)
		return;
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_device);
	free(r->blkio.read_bps);
	free(r->blkio.write_bps);
	free(r->blkio.read_iops);
	free(r->blkio.write_iops);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	free(r->devices);
	for (size_t i = 0; i < r->n_net_prios; i++)
		free(r->net_prios[i].name);
	free(r->net_prios);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	memset(r, 0, sizeof(*r));
}

void lim_writes_free(struct lim_writes *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++) {
		free(w->w[i].controller);
		free(w->w[i].file);
		free(w->w[i].value);
	}
	free(w->w);
	memset(w, 0, sizeof(*w));
}

static void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void lim_warnings_free(struct lim_warnings *w)
{
	if (!w)
		return;
	strv_free_n(w->msgs, w->n);
	memset(w, 0, sizeof(*w));
}

void lim_freebsd_free(struct lim_freebsd *f)
{
	if (!f)
		return;
	strv_free_n(f->rctl, f->n_rctl);
	free(f->cpuset);
	strv_free_n(f->devfs, f->n_devfs);
	memset(f, 0, sizeof(*f));
}

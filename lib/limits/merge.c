// SPDX-License-Identifier: Apache-2.0
/* runc update semantics: every value an update sets replaces the base's; device-keyed lists merge
 * by device, hugepages by size, priorities by interface, unified by key; device rules (ordered)
 * are replaced as a whole. */
#include <stdlib.h>
#include <string.h>

#include "limits/internal.h"

#define TAKE(field)                          \
	do {                                 \
		if (u->field.set)            \
			b->field = u->field; \
	} while (0)

#define TAKE_BOOL(field)                       \
	do {                                   \
		if (u->field##_set) {          \
			b->field##_set = true; \
			b->field = u->field;   \
		}                              \
	} while (0)

static void merge_memory(struct lim_memory *b, const struct lim_memory *u)
{
	TAKE(limit);
	TAKE(reservation);
	TAKE(swap);
	TAKE(kernel);
	TAKE(kernel_tcp);
	TAKE(swappiness);
	TAKE_BOOL(disable_oom_killer);
	TAKE_BOOL(use_hierarchy);
	TAKE_BOOL(check_before_update);
}

static int take_str(char **b, const char *u, ferry_err_t *err)
{
	char *n;

	if (!u)
		return 0;
	if (lim_dup(&n, u, err) < 0)
		return -1;
	free(*b);
	*b = n;
	return 0;
}

static int merge_cpu(struct lim_cpu *b, const struct lim_cpu *u, ferry_err_t *err)
{
	TAKE(shares);
	TAKE(quota);
	TAKE(period);
	TAKE(burst);
	TAKE(realtime_runtime);
	TAKE(realtime_period);
	TAKE(idle);
	if (take_str(&b->cpus, u->cpus, err) < 0 || take_str(&b->mems, u->mems, err) < 0)
		return -1;
	return 0;
}

static int merge_devs(struct lim_dev_value **b, size_t *nb, const struct lim_dev_value *u,
		      size_t nu, ferry_err_t *err)
{
	for (size_t i = 0; i < nu; i++) {
		size_t j;

		for (j = 0; j < *nb; j++)
			if ((*b)[j].major == u[i].major && (*b)[j].minor == u[i].minor)
				break;
		if (j < *nb)
			(*b)[j] = u[i];
		else if (lim_dev_push(b, nb, &u[i], err) < 0)
			return -1;
	}
	return 0;
}

static int merge_blkio(struct lim_blkio *b, const struct lim_blkio *u, ferry_err_t *err)
{
	TAKE(weight);
	TAKE(leaf_weight);
	if (merge_devs(&b->weight_device, &b->n_weight_device, u->weight_device, u->n_weight_device,
		       err) < 0 ||
	    merge_devs(&b->read_bps, &b->n_read_bps, u->read_bps, u->n_read_bps, err) < 0 ||
	    merge_devs(&b->write_bps, &b->n_write_bps, u->write_bps, u->n_write_bps, err) < 0 ||
	    merge_devs(&b->read_iops, &b->n_read_iops, u->read_iops, u->n_read_iops, err) < 0 ||
	    merge_devs(&b->write_iops, &b->n_write_iops, u->write_iops, u->n_write_iops, err) < 0)
		return -1;
	return 0;
}

static int merge_hugepages(struct lim_resources *b, const struct lim_resources *u, ferry_err_t *err)
{
	for (size_t i = 0; i < u->n_hugepages; i++) {
		size_t j;
		struct lim_hugepage *n;

		for (j = 0; j < b->n_hugepages; j++)
			if (strcmp(b->hugepages[j].page_size, u->hugepages[i].page_size) == 0)
				break;
		if (j < b->n_hugepages) {
			b->hugepages[j].limit = u->hugepages[i].limit;
			continue;
		}
		n = realloc(b->hugepages, (b->n_hugepages + 1) * sizeof(*n));
		if (!n)
			return lim_oom(err);
		b->hugepages = n;
		n[j].limit = u->hugepages[i].limit;
		if (lim_dup(&n[j].page_size, u->hugepages[i].page_size, err) < 0)
			return -1;
		b->n_hugepages++;
	}
	return 0;
}

static int merge_prios(struct lim_resources *b, const struct lim_resources *u, ferry_err_t *err)
{
	if (u->net_class_id.set)
		b->net_class_id = u->net_class_id;
	for (size_t i = 0; i < u->n_net_prios; i++) {
		size_t j;
		struct lim_net_prio *n;

		for (j = 0; j < b->n_net_prios; j++)
			if (strcmp(b->net_prios[j].name, u->net_prios[i].name) == 0)
				break;
		if (j < b->n_net_prios) {
			b->net_prios[j].priority = u->net_prios[i].priority;
			continue;
		}
		n = realloc(b->net_prios, (b->n_net_prios + 1) * sizeof(*n));
		if (!n)
			return lim_oom(err);
		b->net_prios = n;
		n[j].priority = u->net_prios[i].priority;
		if (lim_dup(&n[j].name, u->net_prios[i].name, err) < 0)
			return -1;
		b->n_net_prios++;
	}
	return 0;
}

static int merge_unified(struct lim_resources *b, const struct lim_resources *u, ferry_err_t *err)
{
	for (size_t i = 0; i < u->n_unified; i++) {
		size_t j;
		struct lim_kv *n;

		for (j = 0; j < b->n_unified; j++)
			if (strcmp(b->unified[j].key, u->unified[i].key) == 0)
				break;
		if (j < b->n_unified) {
			if (take_str(&b->unified[j].value, u->unified[i].value, err) < 0)
				return -1;
			continue;
		}
		n = realloc(b->unified, (b->n_unified + 1) * sizeof(*n));
		if (!n)
			return lim_oom(err);
		b->unified = n;
		n[j].key = n[j].value = NULL;
		b->n_unified++;
		if (lim_dup(&n[j].key, u->unified[i].key, err) < 0 ||
		    lim_dup(&n[j].value, u->unified[i].value, err) < 0)
			return -1;
	}
	return 0;
}

static int merge_devices(struct lim_resources *b, const struct lim_resources *u, ferry_err_t *err)
{
	struct lim_device_rule *n;

	if (!u->n_devices)
		return 0;
	n = calloc(u->n_devices, sizeof(*n));
	if (!n)
		return lim_oom(err);
	memcpy(n, u->devices, u->n_devices * sizeof(*n));
	free(b->devices);
	b->devices = n;
	b->n_devices = u->n_devices;
	return 0;
}

int lim_merge(struct lim_resources *base, const struct lim_resources *update, ferry_err_t *err)
{
	const struct lim_resources *u = update;
	struct lim_resources *b = base;

	merge_memory(&b->memory, &u->memory);
	if (u->pids_limit.set)
		b->pids_limit = u->pids_limit;
	b->has_memory |= u->has_memory;
	b->has_cpu |= u->has_cpu;
	b->has_pids |= u->has_pids;
	b->has_blkio |= u->has_blkio;
	b->has_network |= u->has_network;
	if (merge_cpu(&b->cpu, &u->cpu, err) < 0 || merge_blkio(&b->blkio, &u->blkio, err) < 0 ||
	    merge_hugepages(b, u, err) < 0 || merge_prios(b, u, err) < 0 ||
	    merge_unified(b, u, err) < 0 || merge_devices(b, u, err) < 0)
		return -1;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* The live values of a cgroup v2 container back into the model: the inverse of lim_to_cgroup2.
 * A file that does not exist is skipped; "max" means -1. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "limits/internal.h"

struct rd {
	lim_read_fn read;
	void *arg;
};

static bool rd_max(const struct rd *rd, const char *file, struct lim_i64 *out)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, "", file);
	int64_t v;

	if (!s || lim_parse_max(s, &v) < 0)
		return false;
	out->set = true;
	out->v = v;
	return true;
}

/* The smallest shares that lim_shares_to_weight maps to weight (the conversion loses detail). */
static uint64_t weight_to_shares(uint64_t w)
{
	if (w < 1)
		w = 1;
	if (w > 10000)
		w = 10000;
	return 2 + ((w - 1) * 262142 + 9998) / 9999;
}

/* io.weight 1..10000 -> blkio weight 10..1000, the smallest that converts back to it. */
static uint64_t io_weight_to_blkio(uint64_t w)
{
	if (w < 1)
		w = 1;
	if (w > 10000)
		w = 10000;
	return 10 + ((w - 1) * 990 + 9998) / 9999;
}

static void read_memory(const struct rd *rd, struct lim_resources *r)
{
	struct lim_memory *m = &r->memory;
	struct lim_i64 swap = {0};

	rd_max(rd, "memory.max", &m->limit);
	if (rd_max(rd, "memory.low", &m->reservation) && m->reservation.v == 0)
		m->reservation.set = false;
	/* OCI swap is memory+swap: add the memory limit back. */
	if (rd_max(rd, "memory.swap.max", &swap)) {
		m->swap.set = swap.v == -1 || (m->limit.set && m->limit.v >= 0);
		m->swap.v = swap.v == -1 ? -1 : swap.v + m->limit.v;
	}
	r->has_memory = m->limit.set || m->reservation.set || m->swap.set;
}

static int read_cpu(const struct rd *rd, struct lim_resources *r, ferry_err_t *err)
{
	struct lim_cpu *c = &r->cpu;
	_cleanup_free_ char *max = lim_read_trim(rd->read, rd->arg, "", "cpu.max");
	struct lim_i64 v = {0};
	char q[24];
	uint64_t period;

	if (rd_max(rd, "cpu.weight", &v) && v.v > 0) {
		c->shares.set = true;
		c->shares.v = weight_to_shares((uint64_t)v.v);
	}
	if (max && sscanf(max, "%23s %" SCNu64, q, &period) == 2 &&
	    lim_parse_max(q, &c->quota.v) == 0) {
		c->quota.set = c->period.set = true;
		c->period.v = period;
	}
	if (rd_max(rd, "cpu.max.burst", &v) && v.v > 0) {
		c->burst.set = true;
		c->burst.v = (uint64_t)v.v;
	}
	if (rd_max(rd, "cpu.idle", &c->idle) && c->idle.v == 0)
		c->idle.set = false;
	free(c->cpus);
	free(c->mems);
	c->cpus = lim_read_trim(rd->read, rd->arg, "", "cpuset.cpus");
	c->mems = lim_read_trim(rd->read, rd->arg, "", "cpuset.mems");
	if (c->cpus && !*c->cpus)
		c->cpus = (free(c->cpus), NULL);
	if (c->mems && !*c->mems)
		c->mems = (free(c->mems), NULL);
	r->has_cpu =
	    c->shares.set || c->quota.set || c->burst.set || c->idle.set || c->cpus || c->mems;
	return 0;
}

/* io.max lines "8:0 rbps=N wbps=max riops=N wiops=max": every key that is not max. */
static int read_io_max(const struct rd *rd, struct lim_blkio *b, ferry_err_t *err)
{
	_cleanup_free_ char *s = lim_read_trim(rd->read, rd->arg, "", "io.max");
	struct lim_dev_value **lists[4] = {&b->read_bps, &b->write_bps, &b->read_iops,
					   &b->write_iops};
	size_t *ns[4] = {&b->n_read_bps, &b->n_write_bps, &b->n_read_iops, &b->n_write_iops};
	static const char *const keys[4] = {"rbps=", "wbps=", "riops=", "wiops="};
	char *save = NULL;

	for (char *line = s ? strtok_r(s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *save2 = NULL, *tok = strtok_r(line, " ", &save2);
		struct lim_dev_value d = {0};

		if (!tok || lim_parse_majmin(tok, &d.major, &d.minor) < 0 || d.major < 0 ||
		    d.minor < 0)
			continue;
		while ((tok = strtok_r(NULL, " ", &save2))) {
			for (int k = 0; k < 4; k++) {
				size_t kl = strlen(keys[k]);

				if (strncmp(tok, keys[k], kl) != 0 ||
				    lim_parse_u64(tok + kl, &d.value) < 0)
					continue;
				if (lim_dev_push(lists[k], ns[k], &d, err) < 0)
					return -1;
			}
		}
	}
	return 0;
}

/* io.bfq.weight ("default 100" and "8:0 200" lines) has blkio's scale; io.weight is converted. */
static int read_io_weight(const struct rd *rd, struct lim_blkio *b, ferry_err_t *err)
{
	_cleanup_free_ char *bfq = lim_read_trim(rd->read, rd->arg, "", "io.bfq.weight");
	_cleanup_free_ char *iow = bfq ? NULL : lim_read_trim(rd->read, rd->arg, "", "io.weight");
	char *s = bfq ? bfq : iow, *save = NULL;

	for (char *line = s ? strtok_r(s, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char key[48];
		uint64_t w;
		struct lim_dev_value d = {0};

		if (sscanf(line, "%47s %" SCNu64, key, &w) != 2)
			continue;
		if (!bfq)
			w = io_weight_to_blkio(w);
		if (strcmp(key, "default") == 0) {
			b->weight.set = true;
			b->weight.v = w;
		} else if (bfq && lim_parse_majmin(key, &d.major, &d.minor) == 0 && d.major >= 0 &&
			   d.minor >= 0) {
			d.value = w;
			if (lim_dev_push(&b->weight_device, &b->n_weight_device, &d, err) < 0)
				return -1;
		}
	}
	return 0;
}

int lim_from_cgroup2(lim_read_fn read, void *arg, struct lim_resources *out, ferry_err_t *err)
{
	struct rd rd = {read, arg};
	struct lim_blkio *b = &out->blkio;

	memset(out, 0, sizeof(*out));
	read_memory(&rd, out);
	if (read_cpu(&rd, out, err) < 0 || read_io_weight(&rd, b, err) < 0 ||
	    read_io_max(&rd, b, err) < 0 ||
	    lim_read_hugepages(read, arg, "", "max", out, err) < 0) {
		lim_free(out);
		return ferry_error_wrap(err, "cgroup v2 limits");
	}
	out->has_blkio = b->weight.set || b->n_weight_device || b->n_read_bps || b->n_write_bps ||
			 b->n_read_iops || b->n_write_iops;
	out->has_pids = rd_max(&rd, "pids.max", &out->pids_limit);
	return 0;
}

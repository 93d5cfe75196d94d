// SPDX-License-Identifier: Apache-2.0
/* container.img: what an image of a whole container adds to its process tree (the config, live
 * limits and names, and the files of its tmpfs mounts). */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container.pb-c.h"
#include "core/cleanup.h"
#include "image/internal.h"

#define NOMEM(in, err) img_in_error((in), (err), "out of memory")
#define MAX_MOUNTS 1024
#define MAX_MOUNT_FILES (1u << 20)
#define MAX_SYSCTLS 4096
#define MAX_TEXT (16u << 20)
#define CHUNK (16u << 20) /* file contents per record */
#define MAX_FILE (1ull << 30)
#define MAX_SYSV 32768		    /* semaphore sets, message queues (IPCMNI) */
#define MAX_NSEMS 65536		    /* semaphores per set */
#define MAX_MSGS (1u << 20)	    /* messages per queue */
#define MAX_QUEUE_BYTES (32u << 20) /* message bytes per queue: one record */

/* The contents of a file past its first CHUNK bytes, a record per CHUNK. */
static int enc_chunks(struct img_out *o, const struct cr_bytes *b, ferry_err_t *err)
{
	for (size_t off = CHUNK; off < b->len; off += CHUNK) {
		FerryImg__MountFileChunk c = FERRY_IMG__MOUNT_FILE_CHUNK__INIT;

		c.data.data = b->data + off;
		c.data.len = b->len - off < CHUNK ? b->len - off : CHUNK;
		if (img_out_record(o, &c.base, err) < 0)
			return -1;
	}
	return 0;
}

static int enc_mount(struct img_out *o, const struct cr_mount_files *m, ferry_err_t *err)
{
	FerryImg__MountFiles h = FERRY_IMG__MOUNT_FILES__INIT;

	h.destination = m->destination;
	h.n_files = (uint32_t)m->n_files;
	if (img_out_record(o, &h.base, err) < 0)
		return -1;
	for (size_t i = 0; i < m->n_files; i++) {
		const struct cr_mount_file *f = &m->files[i];
		FerryImg__MountFile e = FERRY_IMG__MOUNT_FILE__INIT;

		e.path = f->path;
		e.mode = f->mode, e.uid = f->uid, e.gid = f->gid;
		e.has_data = S_ISREG(f->mode);
		e.data.data = f->data.data;
		e.data.len = f->data.len < CHUNK ? f->data.len : CHUNK;
		e.has_size = f->data.len > CHUNK;
		e.size = f->data.len;
		e.target = f->target;
		e.has_mtime_ns = true, e.mtime_ns = f->mtime_ns;
		if (img_out_record(o, &e.base, err) < 0 || enc_chunks(o, &f->data, err) < 0)
			return -1;
	}
	return 0;
}

static int enc_sem(struct img_out *o, const struct cr_sysv_sem *m, ferry_err_t *err)
{
	FerryImg__SysvSem e = FERRY_IMG__SYSV_SEM__INIT;
	_cleanup_free_ uint32_t *v = calloc(m->nsems + 1, sizeof(*v));

	if (!v)
		return ferry_error(err, ENOMEM, "semaphore values");
	for (size_t i = 0; i < m->nsems; i++)
		v[i] = m->values[i];
	e.key = m->key, e.id = m->id, e.mode = m->mode;
	e.uid = m->uid, e.gid = m->gid, e.cuid = m->cuid, e.cgid = m->cgid;
	e.values = v, e.n_values = m->nsems;
	return img_out_record(o, &e.base, err);
}

static int enc_queue(struct img_out *o, const struct cr_sysv_queue *q, ferry_err_t *err)
{
	FerryImg__SysvMsgQueue e = FERRY_IMG__SYSV_MSG_QUEUE__INIT;
	_cleanup_free_ FerryImg__SysvMsg *msgs = calloc(q->n_msgs + 1, sizeof(*msgs));
	_cleanup_free_ FerryImg__SysvMsg **ptrs = calloc(q->n_msgs + 1, sizeof(*ptrs));
	uint64_t bytes = 0;

	if (!msgs || !ptrs)
		return ferry_error(err, ENOMEM, "message queue");
	for (size_t i = 0; i < q->n_msgs; i++) {
		ferry_img__sysv_msg__init(&msgs[i]);
		msgs[i].type = q->msgs[i].type;
		msgs[i].data.data = q->msgs[i].data.data;
		msgs[i].data.len = q->msgs[i].data.len;
		ptrs[i] = &msgs[i];
		bytes += q->msgs[i].data.len;
	}
	if (bytes > MAX_QUEUE_BYTES || q->n_msgs > MAX_MSGS)
		return ferry_error(err, EFBIG,
				   "SysV message queue %d holds %llu bytes in %zu messages: more "
				   "than an image carries (%u bytes, %u messages)",
				   q->id, (unsigned long long)bytes, q->n_msgs, MAX_QUEUE_BYTES,
				   MAX_MSGS);
	e.key = q->key, e.id = q->id, e.mode = q->mode;
	e.uid = q->uid, e.gid = q->gid, e.cuid = q->cuid, e.cgid = q->cgid;
	e.qbytes = q->qbytes;
	e.msgs = ptrs, e.n_msgs = q->n_msgs;
	return img_out_record(o, &e.base, err);
}

int enc_container(struct img_out *o, const struct cr_container *c, ferry_err_t *err)
{
	FerryImg__Container e = FERRY_IMG__CONTAINER__INIT;

	e.id = c->id;
	e.config = c->config;
	e.limits = c->limits;
	e.hostname = c->hostname;
	e.domainname = c->domainname;
	e.namespaces = c->namespaces;
	e.netns_locked = c->netns_locked;
	e.sysctls = c->sysctls;
	e.n_sysctls = c->n_sysctls;
	e.has_n_sems = c->n_sems > 0, e.n_sems = (uint32_t)c->n_sems;
	e.has_n_queues = c->n_queues > 0, e.n_queues = (uint32_t)c->n_queues;
	if (c->n_sems > MAX_SYSV || c->n_queues > MAX_SYSV)
		return ferry_error(err, 0, "too many SysV objects");
	if (img_out_record(o, &e.base, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_sems; i++)
		if (enc_sem(o, &c->sems[i], err) < 0)
			return -1;
	for (size_t i = 0; i < c->n_queues; i++)
		if (enc_queue(o, &c->queues[i], err) < 0)
			return -1;
	for (size_t i = 0; i < c->n_mounts; i++)
		if (enc_mount(o, &c->mounts[i], err) < 0)
			return -1;
	return 0;
}

/* A path inside a mount: relative, no "..", no empty component. */
static bool rel_path_ok(const char *p)
{
	char buf[IMG_MAX_PATH + 2];

	if (!p[0] || p[0] == '/' || strlen(p) > IMG_MAX_PATH)
		return false;
	buf[0] = '/';
	strcpy(buf + 1, p);
	return img_path_problem(buf) == NULL;
}

/* The rest of f's contents (size bytes in all), from MountFileChunk records. */
static int dec_chunks(struct img_in *in, struct cr_mount_file *f, uint64_t size, ferry_err_t *err)
{
	while (f->data.len < size) {
		_cleanup_pb_ FerryImg__MountFileChunk *c = NULL;
		int r = img_in_next(in, &ferry_img__mount_file_chunk__descriptor, (void *)&c, err);

		if (r == 0)
			return ferry_error(err, 0, "%s: %s: %zu of %llu bytes", in->name, f->path,
					   f->data.len, (unsigned long long)size);
		if (r < 0)
			return -1;
		if (c->data.len == 0 || c->data.len > size - f->data.len)
			return img_in_error(in, err,
					    "%s: more contents than the %llu bytes announced",
					    f->path, (unsigned long long)size);
		memcpy(f->data.data + f->data.len, c->data.data, c->data.len);
		f->data.len += c->data.len;
	}
	return 0;
}

static int dec_mount_file(struct img_in *in, struct cr_mount_file *f, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__MountFile *e = NULL;
	uint64_t size;
	int r = img_in_next(in, &ferry_img__mount_file__descriptor, (void *)&e, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: fewer files than announced", in->name);
	if (r < 0)
		return -1;
	if (!rel_path_ok(e->path))
		return img_in_error(in, err, "file path \"%s\" is not inside its mount", e->path);
	if (!S_ISREG(e->mode) && !S_ISDIR(e->mode) && !(S_ISLNK(e->mode) && e->target))
		return img_in_error(in, err, "%s: mode 0%o is not a file, directory or link",
				    e->path, e->mode);
	f->path = strdup(e->path);
	f->mode = e->mode, f->uid = e->uid, f->gid = e->gid, f->mtime_ns = e->mtime_ns;
	f->target = img_strdup(e->target);
	size = e->has_size ? e->size : e->data.len;
	if (size < e->data.len || size > MAX_FILE || (e->has_size && !S_ISREG(e->mode)))
		return img_in_error(in, err, "%s: %llu bytes in all, %zu in its record", e->path,
				    (unsigned long long)size, e->data.len);
	if (S_ISREG(e->mode) && size) {
		f->data.data = malloc(size);
		if (f->data.data)
			memcpy(f->data.data, e->data.data, e->data.len);
		f->data.len = e->data.len;
	}
	if (!f->path || (e->target && !f->target) || (size && !f->data.data))
		return NOMEM(in, err);
	return dec_chunks(in, f, size, err);
}

static int dec_mount(struct img_in *in, struct cr_container *c, FerryImg__MountFiles *h,
		     ferry_err_t *err)
{
	struct cr_mount_files *m;

	if (c->n_mounts >= MAX_MOUNTS || h->n_files > MAX_MOUNT_FILES)
		return img_in_error(in, err, "too many mounts or files");
	if (img_path_problem(h->destination))
		return img_in_error(in, err, "mount destination \"%s\": %s", h->destination,
				    img_path_problem(h->destination));
	m = realloc(c->mounts, (c->n_mounts + 1) * sizeof(*m));
	if (!m)
		return NOMEM(in, err);
	c->mounts = m;
	m = &c->mounts[c->n_mounts++];
	*m = (struct cr_mount_files){.destination = strdup(h->destination)};
	m->files = calloc(h->n_files + 1, sizeof(*m->files));
	if (!m->destination || !m->files)
		return NOMEM(in, err);
	for (uint32_t i = 0; i < h->n_files; i++) {
		m->n_files = i + 1;
		if (dec_mount_file(in, &m->files[i], err) < 0)
			return -1;
	}
	return 0;
}

static int take_container(struct img_in *in, struct cr_container *c, FerryImg__Container *e,
			  ferry_err_t *err)
{
	if (!e->id[0] || strlen(e->id) > 1024 || strlen(e->config) > MAX_TEXT ||
	    (e->limits && strlen(e->limits) > MAX_TEXT) || e->n_sysctls > MAX_SYSCTLS)
		return img_in_error(in, err, "container record out of bounds");
	c->id = strdup(e->id);
	c->config = strdup(e->config);
	c->limits = img_strdup(e->limits);
	c->hostname = img_strdup(e->hostname);
	c->domainname = img_strdup(e->domainname);
	c->namespaces = e->namespaces;
	c->netns_locked = e->netns_locked;
	c->sysctls = calloc(e->n_sysctls + 1, sizeof(char *));
	if (!c->id || !c->config || !c->sysctls)
		return NOMEM(in, err);
	for (size_t i = 0; i < e->n_sysctls; i++) {
		if (!strchr(e->sysctls[i], '='))
			return img_in_error(in, err, "sysctl \"%s\" is not key=value",
					    e->sysctls[i]);
		c->sysctls[i] = strdup(e->sysctls[i]);
		if (!c->sysctls[i])
			return NOMEM(in, err);
		c->n_sysctls = i + 1;
	}
	return 0;
}

static int dec_sem(struct img_in *in, struct cr_sysv_sem *m, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__SysvSem *e = NULL;
	int r = img_in_next(in, &ferry_img__sysv_sem__descriptor, (void *)&e, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: fewer semaphore sets than announced", in->name);
	if (r < 0)
		return -1;
	if (e->id < 0 || e->n_values == 0 || e->n_values > MAX_NSEMS || e->mode > 0777)
		return img_in_error(in, err, "semaphore set %d: %zu semaphores, mode 0%o", e->id,
				    e->n_values, e->mode);
	m->key = e->key, m->id = e->id, m->mode = e->mode;
	m->uid = e->uid, m->gid = e->gid, m->cuid = e->cuid, m->cgid = e->cgid;
	m->values = calloc(e->n_values, sizeof(*m->values));
	if (!m->values)
		return NOMEM(in, err);
	for (size_t i = 0; i < e->n_values; i++) {
		if (e->values[i] > 32767) /* SEMVMX */
			return img_in_error(in, err, "semaphore set %d: value %u", e->id,
					    e->values[i]);
		m->values[i] = (uint16_t)e->values[i];
	}
	m->nsems = e->n_values;
	return 0;
}

static int dec_queue(struct img_in *in, struct cr_sysv_queue *q, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__SysvMsgQueue *e = NULL;
	uint64_t bytes = 0;
	int r = img_in_next(in, &ferry_img__sysv_msg_queue__descriptor, (void *)&e, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: fewer message queues than announced", in->name);
	if (r < 0)
		return -1;
	if (e->id < 0 || e->mode > 0777 || e->n_msgs > MAX_MSGS || e->qbytes > INT32_MAX)
		return img_in_error(in, err, "message queue %d out of bounds", e->id);
	q->key = e->key, q->id = e->id, q->mode = e->mode;
	q->uid = e->uid, q->gid = e->gid, q->cuid = e->cuid, q->cgid = e->cgid;
	q->qbytes = e->qbytes;
	q->msgs = calloc(e->n_msgs + 1, sizeof(*q->msgs));
	if (!q->msgs)
		return NOMEM(in, err);
	for (size_t i = 0; i < e->n_msgs; i++) {
		const FerryImg__SysvMsg *m = e->msgs[i];

		bytes += m->data.len;
		if (m->type <= 0 || bytes > MAX_QUEUE_BYTES)
			return img_in_error(in, err, "message queue %d: message %zu of type %lld",
					    e->id, i, (long long)m->type);
		q->msgs[i].type = m->type;
		q->msgs[i].data.data = malloc(m->data.len + 1);
		if (!q->msgs[i].data.data)
			return NOMEM(in, err);
		memcpy(q->msgs[i].data.data, m->data.data, m->data.len);
		q->msgs[i].data.len = m->data.len;
		q->n_msgs = i + 1;
	}
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* An id twice among n objects of size bytes, each with its id at offset off; returns 0 or -1. */
static int twice(struct img_in *in, const void *objs, size_t n, size_t size, size_t off,
		 ferry_err_t *err)
{
	_cleanup_free_ int32_t *ids = calloc(n + 1, sizeof(*ids));

	if (!ids)
		return NOMEM(in, err);
	for (size_t i = 0; i < n; i++)
		memcpy(&ids[i], (const char *)objs + i * size + off, sizeof(int32_t));
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return img_in_error(in, err, "SysV id %d twice", ids[i]);
	return 0;
}

/* The SysvSem and SysvMsgQueue records the Container record announces. */
static int dec_sysv(struct img_in *in, struct cr_container *c, const FerryImg__Container *e,
		    ferry_err_t *err)
{
	if (e->n_sems > MAX_SYSV || e->n_queues > MAX_SYSV)
		return img_in_error(in, err, "%u semaphore sets, %u message queues", e->n_sems,
				    e->n_queues);
	c->sems = calloc(e->n_sems + 1, sizeof(*c->sems));
	c->queues = calloc(e->n_queues + 1, sizeof(*c->queues));
	if (!c->sems || !c->queues)
		return NOMEM(in, err);
	for (uint32_t i = 0; i < e->n_sems; i++) {
		c->n_sems = i + 1;
		if (dec_sem(in, &c->sems[i], err) < 0)
			return -1;
	}
	for (uint32_t i = 0; i < e->n_queues; i++) {
		c->n_queues = i + 1;
		if (dec_queue(in, &c->queues[i], err) < 0)
			return -1;
	}
	if (twice(in, c->sems, c->n_sems, sizeof(*c->sems), offsetof(struct cr_sysv_sem, id), err) <
		0 ||
	    twice(in, c->queues, c->n_queues, sizeof(*c->queues),
		  offsetof(struct cr_sysv_queue, id), err) < 0)
		return -1;
	return 0;
}

int dec_container(struct img_in *in, struct cr_image *img, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__Container *e = NULL;
	struct cr_container *c;
	int r = img_in_next(in, &ferry_img__container__descriptor, (void *)&e, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: no Container record", in->name);
	if (r < 0)
		return -1;
	c = img->container = calloc(1, sizeof(*c));
	if (!c)
		return NOMEM(in, err);
	if (take_container(in, c, e, err) < 0 || dec_sysv(in, c, e, err) < 0)
		return -1;
	for (;;) {
		_cleanup_pb_ FerryImg__MountFiles *h = NULL;

		r = img_in_next(in, &ferry_img__mount_files__descriptor, (void *)&h, err);
		if (r <= 0)
			return r;
		if (dec_mount(in, c, h, err) < 0)
			return -1;
	}
}

static json_t *text(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *sysv_json(const struct cr_container *c)
{
	json_t *sems = json_array(), *queues = json_array();

	for (size_t i = 0; i < c->n_sems; i++) {
		const struct cr_sysv_sem *m = &c->sems[i];
		json_t *v = json_array();

		for (size_t k = 0; k < m->nsems; k++)
			json_array_append_new(v, json_integer(m->values[k]));
		json_array_append_new(sems,
				      json_pack("{s:i,s:i,s:i,s:i,s:i,s:o}", "key", m->key, "id",
						m->id, "mode", (int)m->mode, "uid", (int)m->uid,
						"gid", (int)m->gid, "values", v));
	}
	for (size_t i = 0; i < c->n_queues; i++) {
		const struct cr_sysv_queue *q = &c->queues[i];
		json_int_t bytes = 0;

		for (size_t k = 0; k < q->n_msgs; k++)
			bytes += (json_int_t)q->msgs[k].data.len;
		json_array_append_new(queues, json_pack("{s:i,s:i,s:i,s:i,s:i,s:I,s:I,s:I}", "key",
							q->key, "id", q->id, "mode", (int)q->mode,
							"uid", (int)q->uid, "gid", (int)q->gid,
							"qbytes", (json_int_t)q->qbytes, "messages",
							(json_int_t)q->n_msgs, "bytes", bytes));
	}
	return json_pack("{s:o,s:o}", "semaphore_sets", sems, "message_queues", queues);
}

json_t *img_container_json(const struct cr_container *c)
{
	json_t *sysctls = json_array(), *mounts = json_array(), *limits = NULL;

	if (!c)
		return json_null();
	for (size_t i = 0; i < c->n_sysctls; i++)
		json_array_append_new(sysctls, json_string(c->sysctls[i]));
	for (size_t i = 0; i < c->n_mounts; i++) {
		uint64_t bytes = 0;

		for (size_t k = 0; k < c->mounts[i].n_files; k++)
			bytes += c->mounts[i].files[k].data.len;
		json_array_append_new(mounts, json_pack("{s:s,s:I,s:I}", "destination",
							c->mounts[i].destination, "files",
							(json_int_t)c->mounts[i].n_files, "bytes",
							(json_int_t)bytes));
	}
	if (c->limits)
		limits = json_loads(c->limits, 0, NULL);
	return json_pack("{s:s,s:o,s:o,s:o,s:i,s:b,s:o,s:o,s:o}", "id", c->id, "limits",
			 limits ? limits : text(c->limits), "hostname", text(c->hostname),
			 "domainname", text(c->domainname), "namespaces", (int)c->namespaces,
			 "netns_locked", c->netns_locked, "sysctls", sysctls, "tmpfs", mounts,
			 "sysv", sysv_json(c));
}

// SPDX-License-Identifier: Apache-2.0
/* container.img: what an image of a whole container adds to its process tree (the config, live
 * limits and names, and the files of its tmpfs mounts). */
#include <errno.h>
#include <jansson.h>
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
	if (img_out_record(o, &e.base, err) < 0)
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
	if (take_container(in, c, e, err) < 0)
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
	return json_pack("{s:s,s:o,s:o,s:o,s:i,s:b,s:o,s:o}", "id", c->id, "limits",
			 limits ? limits : text(c->limits), "hostname", text(c->hostname),
			 "domainname", text(c->domainname), "namespaces", (int)c->namespaces,
			 "netns_locked", c->netns_locked, "sysctls", sysctls, "tmpfs", mounts);
}

// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "core/cleanup.h"
#include "core/state.h"
#include "os/os.h"

int ferry_id_validate(const char *id, ferry_err_t *err)
{
	size_t len;

	if (!id || !*id)
		return ferry_error(err, 0, "container id must not be empty");
	len = strlen(id);
	if (len > FERRY_ID_MAX)
		return ferry_error(err, 0, "container id is too long (%zu bytes, at most %d)", len,
				   FERRY_ID_MAX);
	if (!strcmp(id, ".") || !strcmp(id, ".."))
		return ferry_error(err, 0, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/' || !isgraph(c))
			return ferry_error(err, 0,
					   "invalid container id \"%.64s\": it may not contain '/', "
					   "spaces or control characters",
					   id);
	}
	return 0;
}

char *state_dir(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	char *path = NULL;

	if (ferry_id_validate(id, err) < 0)
		return NULL;
	if (asprintf(&path, "%s/%s", ctx->root, id) < 0) {
		ferry_error(err, ENOMEM, "state path");
		return NULL;
	}
	return path;
}

static int mkdir_p(const char *path, mode_t mode, ferry_err_t *err)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return ferry_error(err, ENOMEM, "mkdir %s", path);
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return ferry_error_errno(err, "mkdir %s", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return ferry_error_errno(err, "mkdir %s", copy);
	return 0;
}

static int lock_dir(const char *path, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return ferry_error_errno(err, "open %s", path);
	if (flock(fd, LOCK_EX) < 0)
		return ferry_error_errno(err, "lock %s", path);
	return steal_fd(fd);
}

int state_dir_create(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_free_ char *dir = state_dir(ctx, id, err);

	if (!dir)
		return -1;
	if (mkdir_p(ctx->root, 0711, err) < 0)
		return ferry_error_wrap(err, "state root");
	if (mkdir(dir, 0711) < 0) {
		if (errno == EEXIST)
			return ferry_error(err, 0, "container \"%s\" already exists", id);
		return ferry_error_errno(err, "mkdir %s", dir);
	}
	return lock_dir(dir, err);
}

int state_dir_lock(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_free_ char *dir = state_dir(ctx, id, err);
	struct stat st;

	if (!dir)
		return -1;
	if (stat(dir, &st) < 0)
		return ferry_error(err, 0, "container \"%s\" does not exist", id);
	return lock_dir(dir, err);
}

int state_write_file(int dirfd, const char *name, const char *data, size_t len, ferry_err_t *err)
{
	char tmp[256];
	_cleanup_close_ int fd = -1;
	size_t off = 0;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ferry_error_errno(err, "write %s", name);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			unlinkat(dirfd, tmp, 0);
			return ferry_error_errno(err, "write %s", name);
		}
		off += n;
	}
	/* The rename is the atomic step; --root lives on a tmpfs (/run), so no fsync. */
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		unlinkat(dirfd, tmp, 0);
		return ferry_error_errno(err, "write %s", name);
	}
	return 0;
}

int state_write(int dirfd, const struct state_rec *rec, ferry_err_t *err)
{
	const struct ferry_state *s = &rec->pub;
	json_t *ann = json_object();
	json_t *o;
	_cleanup_free_ char *text = NULL;

	for (size_t i = 0; i < s->n_annotations; i++)
		json_object_set_new(ann, s->annotations[i].key,
				    json_string(s->annotations[i].value));
	o = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s*, s:o}", "id", s->id, "pid",
		      (json_int_t)s->pid, "start_time", (json_int_t)rec->start_time, "bundle",
		      s->bundle, "rootfs", s->rootfs, "created", s->created, "cgroup", s->cgroup,
		      "annotations", ann);
	if (!o)
		return ferry_error(err, ENOMEM, "state.json");
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return ferry_error(err, ENOMEM, "state.json");
	return state_write_file(dirfd, "state.json", text, strlen(text), err);
}

/* The user name of uid from /etc/passwd (the binary is static: no NSS). */
static char *user_name(uid_t uid)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		char *name = line, *colon = strchr(line, ':'), *pw, *id;

		if (!colon)
			continue;
		*colon = '\0';
		pw = colon + 1;
		id = strchr(pw, ':');
		if (id && strtoul(id + 1, NULL, 10) == uid && id[1] != ':')
			return strdup(name);
	}
	return NULL;
}

char *state_owner(const struct ferry_ctx *ctx, const char *id)
{
	_cleanup_free_ char *dir = state_dir(ctx, id, NULL);
	struct stat st;
	char *name, buf[32];

	if (!dir || stat(dir, &st) < 0)
		return strdup("");
	name = user_name(st.st_uid);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "#%u", (unsigned)st.st_uid);
	return strdup(buf);
}

static char *dup_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? strdup(s) : NULL;
}

static int parse_state(json_t *o, struct state_rec *rec, ferry_err_t *err)
{
	struct ferry_state *s = &rec->pub;
	json_t *ann = json_object_get(o, "annotations");
	const char *k;
	json_t *v;

	s->id = dup_str(o, "id");
	s->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	rec->start_time = (unsigned long long)json_integer_value(json_object_get(o, "start_time"));
	s->bundle = dup_str(o, "bundle");
	s->rootfs = dup_str(o, "rootfs");
	s->created = dup_str(o, "created");
	s->cgroup = dup_str(o, "cgroup");
	if (!s->id || !s->bundle || !s->rootfs || !s->created)
		return ferry_error(err, 0, "state.json: missing fields");
	if (json_is_object(ann) && json_object_size(ann)) {
		s->annotations = calloc(json_object_size(ann), sizeof(*s->annotations));
		if (!s->annotations)
			return ferry_error(err, ENOMEM, "state.json");
		json_object_foreach(ann, k, v)
		{
			struct ferry_kv *kv = &s->annotations[s->n_annotations++];

			kv->key = strdup(k);
			kv->value = strdup(json_string_value(v) ? json_string_value(v) : "");
		}
	}
	return 0;
}

static enum ferry_status derive_status(const char *dir, const struct state_rec *rec)
{
	char fifo[4096];
	bool frozen = false;
	ferry_err_t ignored = NULL;

	if (rec->pub.pid <= 0 || os_ops.proc_start_time(rec->pub.pid) != rec->start_time)
		return FERRY_STATUS_STOPPED;
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	if (access(fifo, F_OK) == 0)
		return FERRY_STATUS_CREATED;
	if (rec->pub.cgroup && os_ops.cgroup_frozen(rec->pub.cgroup, &frozen, &ignored) == 0 &&
	    frozen)
		return FERRY_STATUS_PAUSED;
	ferry_error_free(&ignored);
	return FERRY_STATUS_RUNNING;
}

int state_read(const struct ferry_ctx *ctx, const char *id, struct state_rec *rec,
	       ferry_err_t *err)
{
	_cleanup_free_ char *dir = state_dir(ctx, id, err);
	_cleanup_free_ char *path = NULL;
	json_error_t jerr;
	json_t *o;
	int ret;

	memset(rec, 0, sizeof(*rec));
	if (!dir)
		return -1;
	if (asprintf(&path, "%s/state.json", dir) < 0)
		return ferry_error(err, ENOMEM, "state path");
	o = json_load_file(path, 0, &jerr);
	if (!o) {
		if (access(dir, F_OK) < 0)
			return ferry_error(err, 0, "container \"%s\" does not exist", id);
		/* A directory without state: a create that did not finish. */
		rec->pub.id = strdup(id);
		rec->pub.bundle = strdup("");
		rec->pub.rootfs = strdup("");
		rec->pub.created = strdup("");
		rec->pub.status = FERRY_STATUS_STOPPED;
		return 0;
	}
	ret = parse_state(o, rec, err);
	json_decref(o);
	if (ret < 0) {
		ferry_state_clear(&rec->pub);
		return ferry_error_wrap(err, "container \"%s\"", id);
	}
	rec->pub.status = derive_status(dir, rec);
	if (rec->pub.status == FERRY_STATUS_STOPPED)
		rec->pub.pid = 0;
	return 0;
}

static int remove_tree_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0)
		return unlinkat(parent, name, 0);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			remove_tree_at(dirfd(d), de->d_name);
		else
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int state_dir_remove(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	_cleanup_close_ int rootfd = -1;

	if (ferry_id_validate(id, err) < 0)
		return -1;
	rootfd = open(ctx->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return ferry_error_errno(err, "open %s", ctx->root);
	if (remove_tree_at(rootfd, id) < 0 && errno != ENOENT)
		return ferry_error_errno(err, "remove state of \"%s\"", id);
	return 0;
}

void ferry_state_clear(struct ferry_state *st)
{
	if (!st)
		return;
	free(st->id);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	free(st->cgroup);
	for (size_t i = 0; i < st->n_annotations; i++) {
		free(st->annotations[i].key);
		free(st->annotations[i].value);
	}
	free(st->annotations);
	memset(st, 0, sizeof(*st));
}

const char *ferry_status_name(enum ferry_status s)
{
	static const char *const names[] = {"creating", "created", "running", "paused", "stopped"};

	return names[s];
}

char *ferry_state_to_json(const struct ferry_state *st, bool pretty)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "ociVersion", "1.0.2",
			      "id", st->id, "pid", (json_int_t)st->pid, "status",
			      ferry_status_name(st->status), "bundle", st->bundle, "rootfs",
			      st->rootfs, "created", st->created, "owner", st->owner ? st->owner : "");
	char *text;

	if (!o)
		return NULL;
	if (st->n_annotations) {
		json_t *ann = json_object();

		for (size_t i = 0; i < st->n_annotations; i++)
			json_object_set_new(ann, st->annotations[i].key,
					    json_string(st->annotations[i].value));
		json_object_set_new(o, "annotations", ann);
	}
	text = json_dumps(o, pretty ? JSON_INDENT(2) | JSON_PRESERVE_ORDER
				    : JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

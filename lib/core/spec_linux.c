// SPDX-License-Identifier: Apache-2.0
/* The "linux" object of config.json: namespaces, id mappings, devices, seccomp and the rest. */
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/spec_internal.h"

static const char *const ns_names[FERRY_NS__COUNT] = {
    [FERRY_NS_PID] = "pid",	  [FERRY_NS_NETWORK] = "network", [FERRY_NS_MOUNT] = "mount",
    [FERRY_NS_IPC] = "ipc",	  [FERRY_NS_UTS] = "uts",	  [FERRY_NS_USER] = "user",
    [FERRY_NS_CGROUP] = "cgroup", [FERRY_NS_TIME] = "time",
};

const char *ferry_ns_name(enum ferry_ns_type type)
{
	if ((unsigned)type >= FERRY_NS__COUNT)
		return NULL;
	return ns_names[type];
}

const struct ferry_namespace *ferry_spec_namespace(const struct ferry_spec *spec,
						   enum ferry_ns_type type)
{
	for (size_t i = 0; spec && i < spec->linux.n_namespaces; i++)
		if (spec->linux.namespaces[i].type == type)
			return &spec->linux.namespaces[i];
	return NULL;
}

static int parse_namespace(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_namespace *ns = elem;
	const struct ferry_linux *l = data;
	_cleanup_free_ char *type = NULL;
	int t;

	if (spec_get_str(c, v, "type", true, &type) < 0)
		return -1;
	for (t = 0; t < FERRY_NS__COUNT; t++)
		if (strcmp(type, ns_names[t]) == 0)
			break;
	if (t == FERRY_NS__COUNT)
		return spec_fail_at(c, "type", "unknown namespace type \"%s\"", type);
	for (const struct ferry_namespace *o = l->namespaces; o < ns; o++)
		if ((int)o->type == t)
			return spec_fail_at(c, "type", "duplicate namespace \"%s\"", type);
	ns->type = (enum ferry_ns_type)t;
	if (spec_get_str(c, v, "path", false, &ns->path) < 0)
		return -1;
	if (ns->path && !ns->path[0]) {
		free(ns->path);
		ns->path = NULL;
	}
	return 0;
}

static int parse_id_map(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_id_map *m = elem;

	if (spec_get_u32(c, v, "containerID", true, NULL, &m->container_id) < 0 ||
	    spec_get_u32(c, v, "hostID", true, NULL, &m->host_id) < 0 ||
	    spec_get_u32(c, v, "size", true, NULL, &m->size) < 0)
		return -1;
	if (m->size == 0)
		return spec_fail_at(c, "size", "must be greater than zero");
	return 0;
}

static int parse_device(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_device *d = elem;
	_cleanup_free_ char *type = NULL;
	bool need_numbers;

	if (spec_get_str(c, v, "path", true, &d->path) < 0)
		return -1;
	if (!spec_is_abs(d->path))
		return spec_fail_at(c, "path", "must be an absolute path");
	if (spec_get_str(c, v, "type", true, &type) < 0)
		return -1;
	if (strlen(type) != 1 || !strchr("cbup", type[0]))
		return spec_fail_at(c, "type", "unknown device type \"%s\" (want c, b, u or p)",
				    type);
	d->type = type[0];
	need_numbers = d->type != 'p';
	if (spec_get_i64(c, v, "major", need_numbers, NULL, INT64_MIN, INT64_MAX, &d->major) < 0 ||
	    spec_get_i64(c, v, "minor", need_numbers, NULL, INT64_MIN, INT64_MAX, &d->minor) < 0 ||
	    spec_get_u32(c, v, "fileMode", false, &d->has_file_mode, &d->file_mode) < 0 ||
	    spec_get_u32(c, v, "uid", false, &d->has_uid, &d->uid) < 0 ||
	    spec_get_u32(c, v, "gid", false, &d->has_gid, &d->gid) < 0)
		return -1;
	return 0;
}

static int parse_seccomp_arg(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_seccomp_arg *a = elem;

	if (spec_get_u32(c, v, "index", true, NULL, &a->index) < 0 ||
	    spec_get_u64(c, v, "value", true, NULL, &a->value) < 0 ||
	    spec_get_u64(c, v, "valueTwo", false, NULL, &a->value_two) < 0 ||
	    spec_get_str(c, v, "op", true, &a->op) < 0)
		return -1;
	return 0;
}

static int parse_seccomp_rule(struct spec_ctx *c, const json_t *v, void *elem, void *data)
{
	struct ferry_seccomp_rule *r = elem;

	if (!spec_member(v, "names"))
		return spec_fail_at(c, "names", "missing");
	if (spec_get_strv(c, v, "names", &r->names, &r->n_names) < 0)
		return -1;
	if (r->n_names == 0)
		return spec_fail_at(c, "names", "must not be empty");
	if (spec_get_str(c, v, "action", true, &r->action) < 0 ||
	    spec_get_u32(c, v, "errnoRet", false, &r->has_errno_ret, &r->errno_ret) < 0)
		return -1;
	return spec_get_list(c, v, "args", sizeof(*r->args), (void **)&r->args, &r->n_args,
			     parse_seccomp_arg, NULL);
}

static int parse_seccomp(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	struct ferry_seccomp *s;
	json_t *obj;
	size_t old;
	int rc = -1;

	if (spec_get_object(c, lx, "seccomp", false, &obj) < 0)
		return -1;
	if (!obj)
		return 0;
	s = l->seccomp = calloc(1, sizeof(*l->seccomp));
	if (!s)
		return spec_fail_at(c, "seccomp", "out of memory");
	old = spec_push(c, "seccomp");
	if (spec_get_str(c, obj, "defaultAction", true, &s->default_action) < 0 ||
	    spec_get_u32(c, obj, "defaultErrnoRet", false, &s->has_default_errno_ret,
			 &s->default_errno_ret) < 0 ||
	    spec_get_strv(c, obj, "architectures", &s->architectures, &s->n_architectures) < 0 ||
	    spec_get_strv(c, obj, "flags", &s->flags, &s->n_flags) < 0 ||
	    spec_get_str(c, obj, "listenerPath", false, &s->listener_path) < 0)
		goto out;
	rc = spec_get_list(c, obj, "syscalls", sizeof(*s->rules), (void **)&s->rules, &s->n_rules,
			   parse_seccomp_rule, NULL);
out:
	spec_pop(c, old);
	return rc;
}

static void seccomp_free(struct ferry_seccomp *s)
{
	if (!s)
		return;
	free(s->default_action);
	spec_strv_free(s->architectures, s->n_architectures);
	spec_strv_free(s->flags, s->n_flags);
	free(s->listener_path);
	for (size_t i = 0; i < s->n_rules; i++) {
		struct ferry_seccomp_rule *r = &s->rules[i];

		spec_strv_free(r->names, r->n_names);
		free(r->action);
		for (size_t j = 0; j < r->n_args; j++)
			free(r->args[j].op);
		free(r->args);
	}
	free(s->rules);
	free(s);
}

static int parse_time_offset(struct spec_ctx *c, const json_t *offsets, const char *clock,
			     struct ferry_time_offset *t)
{
	json_t *obj;
	size_t old;
	int64_t secs = 0;
	int rc = 0;

	if (spec_get_object(c, offsets, clock, false, &obj) < 0)
		return -1;
	if (!obj)
		return 0;
	t->set = true;
	old = spec_push(c, clock);
	if (spec_get_i64(c, obj, "secs", false, NULL, INT64_MIN, INT64_MAX, &secs) < 0 ||
	    spec_get_u32(c, obj, "nanosecs", false, NULL, &t->nanosecs) < 0)
		rc = -1;
	else if (t->nanosecs >= 1000000000)
		rc = spec_fail_at(c, "nanosecs", "must be less than 1000000000");
	t->secs = secs;
	spec_pop(c, old);
	return rc;
}

static int parse_time_offsets(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	json_t *obj, *v;
	const char *key;
	size_t old;
	int rc = 0;

	if (spec_get_object(c, lx, "timeOffsets", false, &obj) < 0)
		return -1;
	if (!obj)
		return 0;
	old = spec_push(c, "timeOffsets");
	json_object_foreach(obj, key, v)
	{
		if (strcmp(key, "boottime") != 0 && strcmp(key, "monotonic") != 0) {
			rc = spec_fail_at(c, key, "unknown clock (want boottime or monotonic)");
			break;
		}
	}
	if (rc == 0 && (parse_time_offset(c, obj, "boottime", &l->time_boottime) < 0 ||
			parse_time_offset(c, obj, "monotonic", &l->time_monotonic) < 0))
		rc = -1;
	spec_pop(c, old);
	return rc;
}

static int parse_personality(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	json_t *obj;
	size_t old;
	int rc = 0;

	if (spec_get_object(c, lx, "personality", false, &obj) < 0)
		return -1;
	if (!obj)
		return 0;
	old = spec_push(c, "personality");
	if (spec_get_str(c, obj, "domain", true, &l->personality_domain) < 0)
		rc = -1;
	else if (strcmp(l->personality_domain, "LINUX") != 0 &&
		 strcmp(l->personality_domain, "LINUX32") != 0)
		rc = spec_fail_at(c, "domain", "unknown domain \"%s\" (want LINUX or LINUX32)",
				  l->personality_domain);
	spec_pop(c, old);
	return rc;
}

static int parse_resources(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	json_t *obj;

	if (spec_get_object(c, lx, "resources", false, &obj) < 0)
		return -1;
	if (!obj)
		return 0;
	l->resources_json = spec_json_dump(c, obj);
	if (!l->resources_json)
		return spec_fail_at(c, "resources", "out of memory");
	return 0;
}

static int parse_propagation(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	static const char *const known[] = {"",	       "shared",     "slave",
					    "private", "unbindable", "rshared",
					    "rslave",  "rprivate",   "runbindable"};

	if (spec_get_str(c, lx, "rootfsPropagation", false, &l->rootfs_propagation) < 0)
		return -1;
	if (!l->rootfs_propagation)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(l->rootfs_propagation, known[i]) == 0)
			return 0;
	return spec_fail_at(c, "rootfsPropagation", "unknown propagation \"%s\"",
			    l->rootfs_propagation);
}

/* Parses the linux object at the current path into *l (zeroed by the caller). */
int spec_parse_linux(struct spec_ctx *c, const json_t *lx, struct ferry_linux *l)
{
	if (spec_get_list(c, lx, "namespaces", sizeof(*l->namespaces), (void **)&l->namespaces,
			  &l->n_namespaces, parse_namespace, l) < 0 ||
	    spec_get_list(c, lx, "uidMappings", sizeof(*l->uid_mappings), (void **)&l->uid_mappings,
			  &l->n_uid_mappings, parse_id_map, NULL) < 0 ||
	    spec_get_list(c, lx, "gidMappings", sizeof(*l->gid_mappings), (void **)&l->gid_mappings,
			  &l->n_gid_mappings, parse_id_map, NULL) < 0 ||
	    spec_get_list(c, lx, "devices", sizeof(*l->devices), (void **)&l->devices,
			  &l->n_devices, parse_device, NULL) < 0)
		return -1;
	if (spec_get_str(c, lx, "cgroupsPath", false, &l->cgroups_path) < 0 ||
	    parse_resources(c, lx, l) < 0 || parse_propagation(c, lx, l) < 0 ||
	    spec_get_strv(c, lx, "maskedPaths", &l->masked_paths, &l->n_masked_paths) < 0 ||
	    spec_get_strv(c, lx, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths) < 0 ||
	    spec_get_str(c, lx, "mountLabel", false, &l->mount_label) < 0 ||
	    spec_get_kv(c, lx, "sysctl", &l->sysctl, &l->n_sysctl) < 0 ||
	    parse_seccomp(c, lx, l) < 0 || parse_time_offsets(c, lx, l) < 0 ||
	    parse_personality(c, lx, l) < 0)
		return -1;
	return 0;
}

void spec_linux_clear(struct ferry_linux *l)
{
	for (size_t i = 0; i < l->n_namespaces; i++)
		free(l->namespaces[i].path);
	free(l->namespaces);
	free(l->uid_mappings);
	free(l->gid_mappings);
	for (size_t i = 0; i < l->n_devices; i++)
		free(l->devices[i].path);
	free(l->devices);
	free(l->cgroups_path);
	free(l->resources_json);
	free(l->rootfs_propagation);
	spec_strv_free(l->masked_paths, l->n_masked_paths);
	spec_strv_free(l->readonly_paths, l->n_readonly_paths);
	free(l->mount_label);
	spec_kv_free(l->sysctl, l->n_sysctl);
	seccomp_free(l->seccomp);
	free(l->personality_domain);
	memset(l, 0, sizeof(*l));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI runtime-spec (1.1) model of a bundle's config.json. Strings are owned by the model;
 * arrays come as (pointer, count). Values the OS must interpret (mount options, capability,
 * rlimit and syscall names) are kept as text here and validated by the OS backend.
 */
#ifndef FERRY_SPEC_H
#define FERRY_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/error.h"

enum ferry_ns_type {
	FERRY_NS_PID,
	FERRY_NS_NETWORK,
	FERRY_NS_MOUNT,
	FERRY_NS_IPC,
	FERRY_NS_UTS,
	FERRY_NS_USER,
	FERRY_NS_CGROUP,
	FERRY_NS_TIME,
	FERRY_NS__COUNT,
};

struct ferry_namespace {
	enum ferry_ns_type type;
	char *path; /* NULL: create a new one; else join this one */
};

struct ferry_id_map {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

struct ferry_rlimit {
	char *type; /* "RLIMIT_NOFILE" */
	uint64_t soft;
	uint64_t hard;
};

enum ferry_cap_set {
	FERRY_CAP_BOUNDING,
	FERRY_CAP_EFFECTIVE,
	FERRY_CAP_INHERITABLE,
	FERRY_CAP_PERMITTED,
	FERRY_CAP_AMBIENT,
	FERRY_CAP__COUNT,
};

struct ferry_caps {
	char **names[FERRY_CAP__COUNT]; /* "CAP_KILL", ... */
	size_t n[FERRY_CAP__COUNT];
};

struct ferry_user {
	uint32_t uid;
	uint32_t gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
};

struct ferry_process {
	bool terminal;
	bool has_console_size;
	uint32_t console_height;
	uint32_t console_width;
	struct ferry_user user;
	char **args; /* NULL-terminated too */
	size_t n_args;
	char **env; /* NULL-terminated too */
	size_t n_env;
	char *cwd;
	bool has_caps;
	struct ferry_caps caps;
	struct ferry_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile; /* kept only to refuse it clearly */
	char *selinux_label;
};

struct ferry_mount {
	char *destination;
	char *type;   /* may be NULL (bind mounts) */
	char *source; /* may be NULL */
	char **options;
	size_t n_options;
};

enum ferry_hook_kind {
	FERRY_HOOK_PRESTART,
	FERRY_HOOK_CREATE_RUNTIME,
	FERRY_HOOK_CREATE_CONTAINER,
	FERRY_HOOK_START_CONTAINER,
	FERRY_HOOK_POSTSTART,
	FERRY_HOOK_POSTSTOP,
	FERRY_HOOK__COUNT,
};

struct ferry_hook {
	char *path;
	char **args; /* NULL-terminated too; may be NULL */
	size_t n_args;
	char **env; /* NULL-terminated too; may be NULL */
	size_t n_env;
	int timeout; /* seconds; 0 = none */
};

struct ferry_kv {
	char *key;
	char *value;
};

struct ferry_device {
	char *path;
	char type; /* 'c', 'b', 'u' or 'p' */
	int64_t major;
	int64_t minor;
	bool has_file_mode;
	uint32_t file_mode;
	bool has_uid;
	uint32_t uid;
	bool has_gid;
	uint32_t gid;
};

struct ferry_seccomp_arg {
	uint32_t index;
	uint64_t value;
	uint64_t value_two;
	char *op; /* "SCMP_CMP_EQ", ... */
};

struct ferry_seccomp_rule {
	char **names;
	size_t n_names;
	char *action; /* "SCMP_ACT_ERRNO", ... */
	bool has_errno_ret;
	uint32_t errno_ret;
	struct ferry_seccomp_arg *args;
	size_t n_args;
};

struct ferry_seccomp {
	char *default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	size_t n_architectures;
	char **flags; /* "SECCOMP_FILTER_FLAG_LOG", ... */
	size_t n_flags;
	char *listener_path;
	struct ferry_seccomp_rule *rules;
	size_t n_rules;
};

struct ferry_time_offset {
	bool set;
	int64_t secs;
	uint32_t nanosecs;
};

struct ferry_linux {
	struct ferry_namespace *namespaces;
	size_t n_namespaces;
	struct ferry_id_map *uid_mappings;
	size_t n_uid_mappings;
	struct ferry_id_map *gid_mappings;
	size_t n_gid_mappings;
	struct ferry_device *devices;
	size_t n_devices;
	char *cgroups_path;    /* may be NULL */
	char *resources_json;  /* linux.resources as compact JSON text, or NULL */
	char *rootfs_propagation; /* "shared", "slave", "private", "unbindable", ... or NULL */
	char **masked_paths;
	size_t n_masked_paths;
	char **readonly_paths;
	size_t n_readonly_paths;
	char *mount_label;
	struct ferry_kv *sysctl;
	size_t n_sysctl;
	struct ferry_seccomp *seccomp; /* NULL when absent */
	struct ferry_time_offset time_boottime;
	struct ferry_time_offset time_monotonic;
	char *personality_domain; /* "LINUX" or "LINUX32", or NULL */
};

struct ferry_spec {
	char *oci_version;
	char *bundle;    /* absolute path of the bundle directory */
	char *root_path; /* as written in config.json */
	char *rootfs;    /* absolute: root_path resolved against bundle */
	bool root_readonly;
	bool has_process;
	struct ferry_process process;
	char *hostname;
	char *domainname;
	struct ferry_mount *mounts;
	size_t n_mounts;
	struct ferry_hook *hooks[FERRY_HOOK__COUNT];
	size_t n_hooks[FERRY_HOOK__COUNT];
	struct ferry_kv *annotations;
	size_t n_annotations;
	bool has_linux;
	struct ferry_linux linux;
};

/* Loads <bundle>/config.json; returns a new model or NULL with *err naming the field. */
struct ferry_spec *ferry_spec_load(const char *bundle, ferry_err_t *err);

/* Parses config.json text; `bundle` (absolute) resolves root.path. Returns NULL on error. */
struct ferry_spec *ferry_spec_parse(const char *json, size_t len, const char *bundle,
				    ferry_err_t *err);

/* Parses a process object (as `exec --process FILE` takes) into *out; returns 0 or -1. */
int ferry_spec_parse_process(const char *json, size_t len, struct ferry_process *out,
			     ferry_err_t *err);

/* Frees the model; accepts NULL. */
void ferry_spec_free(struct ferry_spec *spec);

/* Frees what *p owns and zeroes it; accepts NULL. */
void ferry_process_clear(struct ferry_process *p);

/* Returns a new string: the default config.json that `ferry spec` writes (runc's defaults). */
char *ferry_spec_default_json(void);

/* Returns the OCI name of a namespace type ("pid", "network", ...). */
const char *ferry_ns_name(enum ferry_ns_type type);

/* Returns the namespace entry of this type, or NULL when the config does not list it. */
const struct ferry_namespace *ferry_spec_namespace(const struct ferry_spec *spec,
						   enum ferry_ns_type type);

#endif

// SPDX-License-Identifier: Apache-2.0
/* The Linux backend's table of operations. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/capability.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/cgroup_limits.h"
#include "os/linux/container_ns.h"
#include "os/linux/dump.h"
#include "os/linux/limits_ops.h"
#include "os/linux/namespaces.h"
#include "os/linux/proc.h"
#include "os/linux/restore.h"
#include "os/linux/rootfs.h"
#include "os/linux/security.h"
#include "os/linux/spawn.h"
#include "os/os.h"

static int linux_validate(const struct ferry_spec *spec, ferry_err_t *err)
{
	if (!spec->has_linux)
		return ferry_error(err, EINVAL, "config.json: linux: missing");
	if (lx_ns_validate(spec, err) < 0 || lx_rootfs_validate(spec, err) < 0)
		return -1;
	if (lx_process_validate(&spec->process, err) < 0)
		return ferry_error_wrap(err, "config.json");
	if (spec->linux.seccomp && lx_seccomp_validate(spec->linux.seccomp, err) < 0)
		return ferry_error_wrap(err, "config.json");
	if (spec->linux.personality_domain && strcmp(spec->linux.personality_domain, "LINUX"))
		return ferry_error(err, EINVAL,
				   "config.json: linux.personality.domain: \"%s\" is not supported "
				   "(this host runs 64-bit code only)",
				   spec->linux.personality_domain);
	return 0;
}

static int linux_validate_process(const struct ferry_process *proc, ferry_err_t *err)
{
	return lx_process_validate(proc, err);
}

static char *linux_features(void)
{
	static const char *const ns[] = {"cgroup", "ipc", "mount", "network", "pid",
					 "user",   "uts", "time"};
	json_t *o = json_object(), *a = json_array(), *caps = json_array();
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		json_array_append_new(a, json_string(ns[i]));
	json_object_set_new(o, "namespaces", a);
	for (int c = 0; c <= (int)cap_max_bits() - 1; c++) {
		char *name = cap_to_name(c);

		if (name) {
			for (char *p = name; *p; p++)
				*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
			json_array_append_new(caps, json_string(name));
			cap_free(name);
		}
	}
	json_object_set_new(o, "capabilities", caps);
	json_object_set_new(o, "cgroup", json_pack("{s:b, s:b, s:b}", "v1", 1, "v2", 1,
						   "systemd", 0));
	json_object_set_new(
		o, "seccomp",
		json_pack("{s:b, s:[sssssssss], s:[sssssss], s:[sss]}", "enabled", 1, "actions",
			  "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL",
			  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
			  "SCMP_ACT_TRACE", "SCMP_ACT_TRAP", "SCMP_ACT_NOTIFY", "operators",
			  "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
			  "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", "archs", "SCMP_ARCH_X86",
			  "SCMP_ARCH_X86_64", "SCMP_ARCH_X32"));
	json_object_set_new(o, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(o, "selinux", json_pack("{s:b}", "enabled", 0));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

const struct os_ops os_ops = {
	.validate = linux_validate,
	.validate_process = linux_validate_process,
	.cgroup_resolve = lx_cgroup_resolve,
	.cgroup_create = lx_cgroup_create,
	.create = lx_create,
	.exec = lx_exec,
	.proc_start_time = lx_proc_start_time,
	.cgroup_pids = lx_cgroup_pids,
	.cgroup_freeze = lx_cgroup_freeze,
	.cgroup_frozen = lx_cgroup_frozen,
	.cgroup_kill = lx_cgroup_kill,
	.cgroup_destroy = lx_cgroup_destroy,
	.limits_apply = lx_ops_limits_apply,
	.limits_read = lx_ops_limits_read,
	.stats = lx_limits_stats,
	.oom_count = lx_ops_oom_count,
	.dump = lx_dump,
	.host_facts = lx_host_facts,
	.restore = lx_restore,
	.ct_collect = lx_ct_collect,
	.ct_prepare = lx_ct_prepare,
	.features_json = linux_features,
};

// SPDX-License-Identifier: Apache-2.0
/* config.json parser: every field of a full config, every validation error, defaults, process. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#undef linux /* gnu11 predefines it; the spec model has a member of that name */
#include "ferry/spec.h"
#include "tap.h"

#define BUNDLE "/tmp/bundle"

/* A config with every field of the model set. Single quotes stand for double quotes and @BIG@ for
 * an integer literal (jansson in this test cannot hold UINT64_MAX, the parser must). */
static const char full_config_text[] =
    "{'ociVersion': '1.1.0',"
    " 'process': {'terminal': true, 'consoleSize': {'height': 25, 'width': 80},"
    "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 4294967295],"
    "           'username': 'ignored'},"
    "  'args': ['/bin/sh', '-c', 'echo hi'], 'env': ['PATH=/bin', 'TERM=xterm'], 'cwd': '/work',"
    "  'capabilities': {'bounding': ['CAP_KILL', 'CAP_CHOWN'], 'effective': ['CAP_KILL'],"
    "    'inheritable': [], 'permitted': ['CAP_KILL', 'CAP_CHOWN', 'CAP_SETUID'],"
    "    'ambient': ['CAP_CHOWN']},"
    "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 4096},"
    "              {'type': 'RLIMIT_CORE', 'soft': @BIG@, 'hard': @BIG@}],"
    "  'noNewPrivileges': true, 'oomScoreAdj': -500, 'apparmorProfile': 'unconfined',"
    "  'selinuxLabel': 'system_u:system_r:container_t:s0', 'unknownField': {'x': 1}},"
    " 'root': {'path': 'rootfs/./sub/../', 'readonly': true},"
    " 'hostname': 'box', 'domainname': 'example.org',"
    " 'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
    "            {'destination': '/data', 'source': '/srv/data', 'options': ['rbind', 'ro']}],"
    " 'hooks': {"
    "  'prestart': [{'path': '/usr/bin/pre', 'args': ['pre', '-x'], 'env': ['A=1'], 'timeout': 5}],"
    "  'createRuntime': [{'path': '/bin/cr'}],"
    "  'createContainer': [{'path': '/bin/cc'}, {'path': '/bin/cc2'}],"
    "  'startContainer': [{'path': '/bin/sc'}], 'poststart': [{'path': '/bin/ps'}],"
    "  'poststop': [{'path': '/bin/pst', 'timeout': 1}]},"
    " 'annotations': {'org.example.key': 'value', 'second': ''},"
    " 'linux': {"
    "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/proc/1/ns/net'},"
    "    {'type': 'mount'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'},"
    "    {'type': 'cgroup'}, {'type': 'time', 'path': ''}],"
    "  'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
    "  'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 1},"
    "                  {'containerID': 1, 'hostID': 300000, 'size': 10}],"
    "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
    "               'fileMode': 438, 'uid': 0, 'gid': 5}, {'path': '/dev/fifo', 'type': 'p'}],"
    "  'cgroupsPath': '/ferry/box',"
    "  'resources': {'memory': {'limit': 536870912, 'swap': @BIG@}, 'pids': {'limit': 64}},"
    "  'rootfsPropagation': 'rslave', 'maskedPaths': ['/proc/kcore'],"
    "  'readonlyPaths': ['/proc/sys', '/proc/bus'],"
    "  'mountLabel': 'system_u:object_r:container_file_t:s0',"
    "  'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.shmmax': '4096'},"
    "  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
    "    'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
    "    'flags': ['SECCOMP_FILTER_FLAG_LOG'], 'listenerPath': '/run/seccomp.sock',"
    "    'listenerMetadata': 'meta',"
    "    'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
    "      {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1, 'args': ["
    "        {'index': 0, 'value': 8, 'valueTwo': 0, 'op': 'SCMP_CMP_EQ'},"
    "        {'index': 1, 'value': @BIG@, 'valueTwo': 255, 'op': 'SCMP_CMP_MASKED_EQ'}]}]},"
    "  'timeOffsets': {'boottime': {'secs': -3600, 'nanosecs': 500},"
    "                  'monotonic': {'secs': 86400}},"
    "  'personality': {'domain': 'LINUX32', 'flags': []}, 'intelRdt': {'closID': 'x'}}}";

/* Returns a new string: s with ' turned into " and every @BIG@ into big. */
static char *config_with(const char *s, const char *big)
{
	size_t blen = strlen(big);
	char *out = malloc(strlen(s) * 2 + 64 * blen), *o = out;

	for (; *s; s++) {
		if (strncmp(s, "@BIG@", 5) == 0) {
			memcpy(o, big, blen);
			o += blen;
			s += 4;
		} else {
			*o++ = *s == '\'' ? '"' : *s;
		}
	}
	*o = '\0';
	return out;
}

static struct ferry_spec *parse_text(const char *text, ferry_err_t *err)
{
	return ferry_spec_parse(text, strlen(text), BUNDLE, err);
}

static void test_full_process(const struct ferry_process *p)
{
	const struct ferry_caps *c = &p->caps;

	ok(p->terminal, "process.terminal");
	ok(p->has_console_size && p->console_height == 25 && p->console_width == 80,
	   "process.consoleSize");
	ok(p->user.uid == 1000 && p->user.gid == 1001, "process.user uid/gid");
	ok(p->user.has_umask && p->user.umask == 18, "process.user.umask");
	ok(p->user.n_additional_gids == 2 && p->user.additional_gids[0] == 5 &&
	       p->user.additional_gids[1] == UINT32_MAX,
	   "process.user.additionalGids, up to UINT32_MAX");
	ok(p->n_args == 3 && !p->args[3], "process.args: 3, NULL-terminated");
	is_str(p->args[0], "/bin/sh", "process.args[0]");
	is_str(p->args[2], "echo hi", "process.args[2]");
	ok(p->n_env == 2 && !p->env[2], "process.env: 2, NULL-terminated");
	is_str(p->env[1], "TERM=xterm", "process.env[1]");
	is_str(p->cwd, "/work", "process.cwd");
	ok(p->has_caps, "process.capabilities present");
	ok(c->n[FERRY_CAP_BOUNDING] == 2, "bounding set size");
	is_str(c->names[FERRY_CAP_BOUNDING][1], "CAP_CHOWN", "bounding[1]");
	ok(c->n[FERRY_CAP_EFFECTIVE] == 1, "effective set size");
	is_str(c->names[FERRY_CAP_EFFECTIVE][0], "CAP_KILL", "effective[0]");
	ok(c->n[FERRY_CAP_INHERITABLE] == 0 && c->names[FERRY_CAP_INHERITABLE] &&
	       !c->names[FERRY_CAP_INHERITABLE][0],
	   "inheritable: present and empty");
	ok(c->n[FERRY_CAP_PERMITTED] == 3, "permitted set size");
	is_str(c->names[FERRY_CAP_PERMITTED][2], "CAP_SETUID", "permitted[2]");
	ok(c->n[FERRY_CAP_AMBIENT] == 1, "ambient set size");
	is_str(c->names[FERRY_CAP_AMBIENT][0], "CAP_CHOWN", "ambient[0]");
	ok(p->n_rlimits == 2, "2 rlimits");
	is_str(p->rlimits[0].type, "RLIMIT_NOFILE", "rlimits[0].type");
	ok(p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096, "rlimits[0] soft/hard");
	ok(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX,
	   "rlimits[1]: 18446744073709551615 read as UINT64_MAX");
	ok(p->no_new_privileges, "noNewPrivileges");
	ok(p->has_oom_score_adj && p->oom_score_adj == -500, "oomScoreAdj");
	is_str(p->apparmor_profile, "unconfined", "apparmorProfile");
	is_str(p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
}

static void test_full_top(const struct ferry_spec *s)
{
	is_str(s->oci_version, "1.1.0", "ociVersion");
	is_str(s->bundle, BUNDLE, "bundle");
	is_str(s->root_path, "rootfs/./sub/../", "root.path as written");
	is_str(s->rootfs, BUNDLE "/rootfs", "rootfs resolved and normalised");
	ok(s->root_readonly, "root.readonly");
	is_str(s->hostname, "box", "hostname");
	is_str(s->domainname, "example.org", "domainname");
	ok(s->n_mounts == 2, "2 mounts");
	is_str(s->mounts[0].destination, "/proc", "mounts[0].destination");
	is_str(s->mounts[0].type, "proc", "mounts[0].type");
	is_str(s->mounts[0].source, "proc", "mounts[0].source");
	ok(s->mounts[0].n_options == 0 && !s->mounts[0].options, "mounts[0] without options");
	ok(!s->mounts[1].type, "mounts[1].type absent");
	is_str(s->mounts[1].source, "/srv/data", "mounts[1].source");
	ok(s->mounts[1].n_options == 2 && !s->mounts[1].options[2], "mounts[1]: 2 options");
	is_str(s->mounts[1].options[1], "ro", "mounts[1].options[1]");
	ok(s->n_annotations == 2, "2 annotations");
	is_str(s->annotations[0].key, "org.example.key", "annotations[0] key");
	is_str(s->annotations[0].value, "value", "annotations[0] value");
	is_str(s->annotations[1].value, "", "annotations[1] empty value");
}

static void test_full_hooks(const struct ferry_spec *s)
{
	const struct ferry_hook *h = s->hooks[FERRY_HOOK_PRESTART];

	ok(s->n_hooks[FERRY_HOOK_PRESTART] == 1, "1 prestart hook");
	is_str(h->path, "/usr/bin/pre", "prestart path");
	ok(h->n_args == 2 && !h->args[2], "prestart args NULL-terminated");
	is_str(h->args[1], "-x", "prestart args[1]");
	ok(h->n_env == 1 && !h->env[1], "prestart env NULL-terminated");
	is_str(h->env[0], "A=1", "prestart env[0]");
	ok(h->timeout == 5, "prestart timeout");
	h = s->hooks[FERRY_HOOK_CREATE_RUNTIME];
	ok(s->n_hooks[FERRY_HOOK_CREATE_RUNTIME] == 1 && !h->args && !h->env && h->timeout == 0,
	   "createRuntime: no args, env or timeout");
	is_str(h->path, "/bin/cr", "createRuntime path");
	ok(s->n_hooks[FERRY_HOOK_CREATE_CONTAINER] == 2, "2 createContainer hooks");
	is_str(s->hooks[FERRY_HOOK_CREATE_CONTAINER][1].path, "/bin/cc2", "createContainer[1]");
	is_str(s->hooks[FERRY_HOOK_START_CONTAINER][0].path, "/bin/sc", "startContainer");
	is_str(s->hooks[FERRY_HOOK_POSTSTART][0].path, "/bin/ps", "poststart");
	is_str(s->hooks[FERRY_HOOK_POSTSTOP][0].path, "/bin/pst", "poststop");
	ok(s->hooks[FERRY_HOOK_POSTSTOP][0].timeout == 1, "poststop timeout");
}

static void test_full_linux_ids(const struct ferry_linux *l)
{
	ok(l->n_namespaces == 8, "8 namespaces");
	for (int t = 0; t < FERRY_NS__COUNT; t++)
		ok(l->namespaces[t].type == (enum ferry_ns_type)t, "namespaces[%d] is %s", t,
		   ferry_ns_name((enum ferry_ns_type)t));
	is_str(l->namespaces[1].path, "/proc/1/ns/net", "network namespace path");
	ok(!l->namespaces[0].path, "pid namespace: no path");
	ok(!l->namespaces[7].path, "time namespace: empty path read as none");
	ok(l->n_uid_mappings == 1 && l->uid_mappings[0].container_id == 0 &&
	       l->uid_mappings[0].host_id == 100000 && l->uid_mappings[0].size == 65536,
	   "uidMappings");
	ok(l->n_gid_mappings == 2 && l->gid_mappings[1].container_id == 1 &&
	       l->gid_mappings[1].host_id == 300000 && l->gid_mappings[1].size == 10,
	   "gidMappings");
	ok(l->n_devices == 2, "2 devices");
	is_str(l->devices[0].path, "/dev/fuse", "devices[0].path");
	ok(l->devices[0].type == 'c' && l->devices[0].major == 10 && l->devices[0].minor == 229,
	   "devices[0] type/major/minor");
	ok(l->devices[0].has_file_mode && l->devices[0].file_mode == 0666, "devices[0].fileMode");
	ok(l->devices[0].has_uid && l->devices[0].uid == 0 && l->devices[0].has_gid &&
	       l->devices[0].gid == 5,
	   "devices[0] uid/gid");
	ok(l->devices[1].type == 'p' && !l->devices[1].has_file_mode && !l->devices[1].has_uid &&
	       !l->devices[1].has_gid,
	   "devices[1]: fifo without numbers");
}

static void test_full_linux_rest(const struct ferry_linux *l)
{
	is_str(l->cgroups_path, "/ferry/box", "cgroupsPath");
	is_str(l->resources_json,
	       "{\"memory\":{\"limit\":536870912,\"swap\":18446744073709551615},"
	       "\"pids\":{\"limit\":64}}",
	       "resources kept as compact JSON, integers above INT64_MAX included");
	is_str(l->rootfs_propagation, "rslave", "rootfsPropagation");
	ok(l->n_masked_paths == 1 && !l->masked_paths[1], "maskedPaths");
	is_str(l->masked_paths[0], "/proc/kcore", "maskedPaths[0]");
	ok(l->n_readonly_paths == 2, "readonlyPaths");
	is_str(l->readonly_paths[1], "/proc/bus", "readonlyPaths[1]");
	is_str(l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
	ok(l->n_sysctl == 2, "2 sysctls");
	is_str(l->sysctl[0].key, "net.ipv4.ip_forward", "sysctl[0] key");
	is_str(l->sysctl[0].value, "1", "sysctl[0] value");
	is_str(l->sysctl[1].value, "4096", "sysctl[1] value");
	ok(l->time_boottime.set && l->time_boottime.secs == -3600 &&
	       l->time_boottime.nanosecs == 500,
	   "timeOffsets.boottime");
	ok(l->time_monotonic.set && l->time_monotonic.secs == 86400 &&
	       l->time_monotonic.nanosecs == 0,
	   "timeOffsets.monotonic");
	is_str(l->personality_domain, "LINUX32", "personality.domain");
}

static void test_full_seccomp(const struct ferry_seccomp *sc)
{
	const struct ferry_seccomp_rule *r;

	ok(sc != NULL, "seccomp present");
	if (!sc)
		return;
	is_str(sc->default_action, "SCMP_ACT_ERRNO", "seccomp.defaultAction");
	ok(sc->has_default_errno_ret && sc->default_errno_ret == 38, "seccomp.defaultErrnoRet");
	ok(sc->n_architectures == 2 && !sc->architectures[2], "seccomp.architectures");
	is_str(sc->architectures[1], "SCMP_ARCH_X86", "architectures[1]");
	ok(sc->n_flags == 1, "seccomp.flags");
	is_str(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG", "flags[0]");
	is_str(sc->listener_path, "/run/seccomp.sock", "seccomp.listenerPath");
	ok(sc->n_rules == 2, "2 syscall rules");
	r = &sc->rules[0];
	ok(r->n_names == 2 && !r->has_errno_ret && r->n_args == 0, "syscalls[0] shape");
	is_str(r->names[1], "write", "syscalls[0].names[1]");
	is_str(r->action, "SCMP_ACT_ALLOW", "syscalls[0].action");
	r = &sc->rules[1];
	ok(r->has_errno_ret && r->errno_ret == 1, "syscalls[1].errnoRet");
	ok(r->n_args == 2, "syscalls[1]: 2 args");
	ok(r->args[0].index == 0 && r->args[0].value == 8 && r->args[0].value_two == 0,
	   "args[0] index/value/valueTwo");
	is_str(r->args[0].op, "SCMP_CMP_EQ", "args[0].op");
	ok(r->args[1].index == 1 && r->args[1].value == UINT64_MAX && r->args[1].value_two == 255,
	   "args[1]: value UINT64_MAX");
	is_str(r->args[1].op, "SCMP_CMP_MASKED_EQ", "args[1].op");
}

static void test_full(void)
{
	char *text = config_with(full_config_text, "18446744073709551615");
	ferry_err_t err = NULL;
	struct ferry_spec *s = parse_text(text, &err);

	ok(s != NULL, "full config parses%s%s", err ? ": " : "", err ? err->msg : "");
	if (s) {
		test_full_top(s);
		ok(s->has_process, "has_process");
		test_full_process(&s->process);
		test_full_hooks(s);
		ok(s->has_linux, "has_linux");
		test_full_linux_ids(&s->linux);
		test_full_linux_rest(&s->linux);
		test_full_seccomp(s->linux.seccomp);
		ok(ferry_spec_namespace(s, FERRY_NS_NETWORK) == &s->linux.namespaces[1],
		   "ferry_spec_namespace finds network");
	}
	ferry_spec_free(s);
	ferry_error_free(&err);
	free(text);
}

/* Sets (or deletes, when value is NULL) the member at path "a.b[2].c" of root. */
static int set_path(json_t *root, const char *path, json_t *value)
{
	char buf[256], *tok, *save = NULL, *next;
	json_t *node = root;
	char *o = buf;

	for (const char *p = path; *p && o < buf + sizeof(buf) - 3; p++) {
		if (*p == '[') {
			*o++ = '.';
			*o++ = '#';
		} else if (*p != ']') {
			*o++ = *p;
		}
	}
	*o = '\0';
	for (tok = strtok_r(buf, ".", &save); tok; tok = next) {
		bool idx = tok[0] == '#';
		size_t i = idx ? strtoul(tok + 1, NULL, 10) : 0;

		next = strtok_r(NULL, ".", &save);
		if (next) {
			node = idx ? json_array_get(node, i) : json_object_get(node, tok);
			if (!node)
				return -1;
			continue;
		}
		if (idx)
			return value ? json_array_set_new(node, i, value)
				     : json_array_remove(node, i);
		return value ? json_object_set_new(node, tok, value) : json_object_del(node, tok);
	}
	return -1;
}

struct error_case {
	const char *path;  /* member to change */
	const char *value; /* its new JSON value, or NULL to delete it */
	const char *want;  /* expected start of the error message */
};

static const struct error_case error_cases[] = {
    {"ociVersion", NULL, "config.json: ociVersion: missing"},
    {"ociVersion", "1", "config.json: ociVersion: expected a string, got integer"},
    {"root", NULL, "config.json: root: missing"},
    {"root", "[]", "config.json: root: expected an object, got array"},
    {"root.path", NULL, "config.json: root.path: missing"},
    {"root.path", "\"\"", "config.json: root.path: must not be empty"},
    {"root.readonly", "\"yes\"", "config.json: root.readonly: expected a boolean, got string"},
    {"process", "\"sh\"", "config.json: process: expected an object, got string"},
    {"process.user", "0", "config.json: process.user: expected an object, got integer"},
    {"process.user.uid", "\"0\"",
     "config.json: process.user.uid: expected an unsigned integer, got string"},
    {"process.user.uid", "-1",
     "config.json: process.user.uid: -1 is out of range (0 to 4294967295)"},
    {"process.user.gid", "4294967296", "config.json: process.user.gid: 4294967296 is out of range"},
    {"process.user.uid", "1.5",
     "config.json: process.user.uid: expected an unsigned integer, got real number"},
    {"process.user.umask", "true",
     "config.json: process.user.umask: expected an unsigned integer, got boolean"},
    {"process.user.additionalGids", "{}",
     "config.json: process.user.additionalGids: expected an array, got object"},
    {"process.user.additionalGids[1]", "-3",
     "config.json: process.user.additionalGids[1]: -3 is out of range"},
    {"process.terminal", "1", "config.json: process.terminal: expected a boolean, got integer"},
    {"process.consoleSize.width", NULL, "config.json: process.consoleSize.width: missing"},
    {"process.consoleSize.height", "-1", "config.json: process.consoleSize.height: -1 is out"},
    {"process.args", NULL, "config.json: process.args: missing"},
    {"process.args", "[]", "config.json: process.args: must not be empty"},
    {"process.args[1]", "7", "config.json: process.args[1]: expected a string, got integer"},
    {"process.env", "{}", "config.json: process.env: expected an array, got object"},
    {"process.env[0]", "[]", "config.json: process.env[0]: expected a string, got array"},
    {"process.cwd", NULL, "config.json: process.cwd: missing"},
    {"process.cwd", "\"work\"", "config.json: process.cwd: must be an absolute path"},
    {"process.capabilities", "[]",
     "config.json: process.capabilities: expected an object, got array"},
    {"process.capabilities.effective[0]", "null",
     "config.json: process.capabilities.effective[0]: expected a string, got null"},
    {"process.capabilities.ambient", "\"CAP_KILL\"",
     "config.json: process.capabilities.ambient: expected an array, got string"},
    {"process.rlimits", "{}", "config.json: process.rlimits: expected an array, got object"},
    {"process.rlimits[0]", "\"x\"", "config.json: process.rlimits[0]: expected an object, got"},
    {"process.rlimits[1].type", "\"RLIMIT_NOFILE\"",
     "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\""},
    {"process.rlimits[0].type", NULL, "config.json: process.rlimits[0].type: missing"},
    {"process.rlimits[0].soft", "-1", "config.json: process.rlimits[0].soft: -1 is out of range"},
    {"process.rlimits[0].hard", NULL, "config.json: process.rlimits[0].hard: missing"},
    {"process.rlimits[1].hard", "\"unlimited\"",
     "config.json: process.rlimits[1].hard: expected an unsigned integer, got string"},
    {"process.noNewPrivileges", "\"true\"",
     "config.json: process.noNewPrivileges: expected a boolean, got string"},
    {"process.oomScoreAdj", "1001",
     "config.json: process.oomScoreAdj: 1001 is out of range (-1000 to 1000)"},
    {"process.oomScoreAdj", "\"1\"",
     "config.json: process.oomScoreAdj: expected an integer, got string"},
    {"process.apparmorProfile", "5", "config.json: process.apparmorProfile: expected a string"},
    {"process.selinuxLabel", "[]", "config.json: process.selinuxLabel: expected a string"},
    {"hostname", "5", "config.json: hostname: expected a string, got integer"},
    {"domainname", "{}", "config.json: domainname: expected a string, got object"},
    {"mounts", "{}", "config.json: mounts: expected an array, got object"},
    {"mounts[1]", "[]", "config.json: mounts[1]: expected an object, got array"},
    {"mounts[1].destination", "\"data\"",
     "config.json: mounts[1].destination: must be an absolute path"},
    {"mounts[0].destination", NULL, "config.json: mounts[0].destination: missing"},
    {"mounts[0].type", "1", "config.json: mounts[0].type: expected a string, got integer"},
    {"mounts[0].source", "true", "config.json: mounts[0].source: expected a string"},
    {"mounts[1].options[1]", "false",
     "config.json: mounts[1].options[1]: expected a string, got boolean"},
    {"hooks", "[]", "config.json: hooks: expected an object, got array"},
    {"hooks.prestart", "{}", "config.json: hooks.prestart: expected an array, got object"},
    {"hooks.prestart[0].path", "\"pre\"",
     "config.json: hooks.prestart[0].path: must be an absolute path"},
    {"hooks.createContainer[1].path", NULL, "config.json: hooks.createContainer[1].path: missing"},
    {"hooks.poststop[0].timeout", "0",
     "config.json: hooks.poststop[0].timeout: must be greater than zero"},
    {"hooks.createRuntime[0].timeout", "-5",
     "config.json: hooks.createRuntime[0].timeout: must be greater than zero"},
    {"hooks.poststart[0].timeout", "\"5\"",
     "config.json: hooks.poststart[0].timeout: expected an integer, got string"},
    {"hooks.startContainer[0].args", "\"x\"",
     "config.json: hooks.startContainer[0].args: expected an array, got string"},
    {"hooks.prestart[0].env[0]", "1",
     "config.json: hooks.prestart[0].env[0]: expected a string, got integer"},
    {"annotations", "[]", "config.json: annotations: expected an object, got array"},
    {"annotations.second", "2", "config.json: annotations.second: expected a string, got integer"},
    {"linux", "[]", "config.json: linux: expected an object, got array"},
    {"linux.namespaces", "{}", "config.json: linux.namespaces: expected an array, got object"},
    {"linux.namespaces[2].type", "\"foo\"",
     "config.json: linux.namespaces[2].type: unknown namespace type \"foo\""},
    {"linux.namespaces[3].type", "\"pid\"",
     "config.json: linux.namespaces[3].type: duplicate namespace \"pid\""},
    {"linux.namespaces[0].type", NULL, "config.json: linux.namespaces[0].type: missing"},
    {"linux.namespaces[1].path", "3",
     "config.json: linux.namespaces[1].path: expected a string, got integer"},
    {"linux.uidMappings[0].size", "0",
     "config.json: linux.uidMappings[0].size: must be greater than zero"},
    {"linux.uidMappings[0].hostID", "\"1\"",
     "config.json: linux.uidMappings[0].hostID: expected an unsigned integer, got string"},
    {"linux.gidMappings[1].hostID", "-1",
     "config.json: linux.gidMappings[1].hostID: -1 is out of range"},
    {"linux.gidMappings[0].containerID", NULL,
     "config.json: linux.gidMappings[0].containerID: missing"},
    {"linux.gidMappings[1].size", NULL, "config.json: linux.gidMappings[1].size: missing"},
    {"linux.devices[0].type", "\"x\"",
     "config.json: linux.devices[0].type: unknown device type \"x\""},
    {"linux.devices[0].type", "\"cc\"",
     "config.json: linux.devices[0].type: unknown device type \"cc\""},
    {"linux.devices[0].type", NULL, "config.json: linux.devices[0].type: missing"},
    {"linux.devices[0].major", NULL, "config.json: linux.devices[0].major: missing"},
    {"linux.devices[0].minor", NULL, "config.json: linux.devices[0].minor: missing"},
    {"linux.devices[0].major", "\"10\"",
     "config.json: linux.devices[0].major: expected an integer, got string"},
    {"linux.devices[0].path", "\"dev/fuse\"",
     "config.json: linux.devices[0].path: must be an absolute path"},
    {"linux.devices[1].path", NULL, "config.json: linux.devices[1].path: missing"},
    {"linux.devices[0].fileMode", "\"0666\"",
     "config.json: linux.devices[0].fileMode: expected an unsigned integer, got string"},
    {"linux.devices[0].uid", "-1", "config.json: linux.devices[0].uid: -1 is out of range"},
    {"linux.devices[0].gid", "4294967296",
     "config.json: linux.devices[0].gid: 4294967296 is out of range"},
    {"linux.cgroupsPath", "1", "config.json: linux.cgroupsPath: expected a string, got integer"},
    {"linux.resources", "[]", "config.json: linux.resources: expected an object, got array"},
    {"linux.rootfsPropagation", "\"bogus\"",
     "config.json: linux.rootfsPropagation: unknown propagation \"bogus\""},
    {"linux.maskedPaths[0]", "{}",
     "config.json: linux.maskedPaths[0]: expected a string, got object"},
    {"linux.readonlyPaths", "\"/proc\"",
     "config.json: linux.readonlyPaths: expected an array, got string"},
    {"linux.mountLabel", "1", "config.json: linux.mountLabel: expected a string, got integer"},
    {"linux.sysctl", "[]", "config.json: linux.sysctl: expected an object, got array"},
    {"linux.sysctl", "{\"kernel.a\": 1}",
     "config.json: linux.sysctl.kernel.a: expected a string, got integer"},
    {"linux.seccomp", "\"unconfined\"",
     "config.json: linux.seccomp: expected an object, got string"},
    {"linux.seccomp.defaultAction", NULL, "config.json: linux.seccomp.defaultAction: missing"},
    {"linux.seccomp.defaultErrnoRet", "-1",
     "config.json: linux.seccomp.defaultErrnoRet: -1 is out of range"},
    {"linux.seccomp.architectures[1]", "1",
     "config.json: linux.seccomp.architectures[1]: expected a string, got integer"},
    {"linux.seccomp.flags", "{}", "config.json: linux.seccomp.flags: expected an array"},
    {"linux.seccomp.listenerPath", "1",
     "config.json: linux.seccomp.listenerPath: expected a string, got integer"},
    {"linux.seccomp.syscalls", "{}", "config.json: linux.seccomp.syscalls: expected an array"},
    {"linux.seccomp.syscalls[0]", "1",
     "config.json: linux.seccomp.syscalls[0]: expected an object, got integer"},
    {"linux.seccomp.syscalls[0].names", "[]",
     "config.json: linux.seccomp.syscalls[0].names: must not be empty"},
    {"linux.seccomp.syscalls[0].names", NULL,
     "config.json: linux.seccomp.syscalls[0].names: missing"},
    {"linux.seccomp.syscalls[0].names[0]", "0",
     "config.json: linux.seccomp.syscalls[0].names[0]: expected a string, got integer"},
    {"linux.seccomp.syscalls[1].action", NULL,
     "config.json: linux.seccomp.syscalls[1].action: missing"},
    {"linux.seccomp.syscalls[1].errnoRet", "\"EPERM\"",
     "config.json: linux.seccomp.syscalls[1].errnoRet: expected an unsigned integer, got string"},
    {"linux.seccomp.syscalls[1].args", "{}",
     "config.json: linux.seccomp.syscalls[1].args: expected an array, got object"},
    {"linux.seccomp.syscalls[1].args[1].index", "-1",
     "config.json: linux.seccomp.syscalls[1].args[1].index: -1 is out of range"},
    {"linux.seccomp.syscalls[1].args[1].index", NULL,
     "config.json: linux.seccomp.syscalls[1].args[1].index: missing"},
    {"linux.seccomp.syscalls[1].args[0].value", NULL,
     "config.json: linux.seccomp.syscalls[1].args[0].value: missing"},
    {"linux.seccomp.syscalls[1].args[0].op", NULL,
     "config.json: linux.seccomp.syscalls[1].args[0].op: missing"},
    {"linux.seccomp.syscalls[1].args[1].valueTwo", "-2",
     "config.json: linux.seccomp.syscalls[1].args[1].valueTwo: -2 is out of range"},
    {"linux.timeOffsets", "[]", "config.json: linux.timeOffsets: expected an object, got array"},
    {"linux.timeOffsets.boottime.nanosecs", "1000000000",
     "config.json: linux.timeOffsets.boottime.nanosecs: must be less than 1000000000"},
    {"linux.timeOffsets.monotonic.secs", "\"1\"",
     "config.json: linux.timeOffsets.monotonic.secs: expected an integer, got string"},
    {"linux.timeOffsets.monotonic", "5",
     "config.json: linux.timeOffsets.monotonic: expected an object, got integer"},
    {"linux.timeOffsets.realtime", "{}", "config.json: linux.timeOffsets.realtime: unknown clock"},
    {"linux.personality", "1", "config.json: linux.personality: expected an object, got integer"},
    {"linux.personality.domain", "\"LINUX64\"",
     "config.json: linux.personality.domain: unknown domain \"LINUX64\""},
    {"linux.personality.domain", NULL, "config.json: linux.personality.domain: missing"},
};

static void test_error_cases(void)
{
	char *base = config_with(full_config_text, "1");

	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		const struct error_case *ec = &error_cases[i];
		json_t *root = json_loads(base, 0, NULL);
		json_t *v = ec->value ? json_loads(ec->value, JSON_DECODE_ANY, NULL) : NULL;
		ferry_err_t err = NULL;
		struct ferry_spec *s = NULL;
		char *text = NULL;
		int set = set_path(root, ec->path, v);

		if (set == 0) {
			text = json_dumps(root, 0);
			s = parse_text(text, &err);
		}
		ok(set == 0 && !s && err && strncmp(err->msg, ec->want, strlen(ec->want)) == 0,
		   "%s = %s: error \"%s\"", ec->path, ec->value ? ec->value : "(deleted)",
		   ec->want);
		if (err && strncmp(err->msg, ec->want, strlen(ec->want)) != 0)
			diag("got: %s", err->msg);
		ferry_spec_free(s);
		ferry_error_free(&err);
		free(text);
		json_decref(root);
	}
	free(base);
}

/* Parses text and checks the error message starts with want. */
static void expect_error(const char *text, const char *want, const char *what)
{
	ferry_err_t err = NULL;
	struct ferry_spec *s = parse_text(text, &err);
	int good = !s && err && strncmp(err->msg, want, strlen(want)) == 0;

	ok(good, "%s: \"%s\"", what, want);
	if (!good)
		diag("got: %s", err ? err->msg : s ? "(parsed)" : "(no error)");
	ferry_spec_free(s);
	ferry_error_free(&err);
}

static void test_syntax(void)
{
	expect_error("{\n  \"ociVersion\": \"1\",\n    x\n}",
		     "config.json: line 3, column 5: string or '}' expected near 'x'",
		     "syntax error names line and column");
	expect_error("", "config.json: line 1, column 0: ", "empty input");
	expect_error("[1]", "config.json: expected an object, got array", "top level is an array");
	expect_error("{\"ociVersion\": \"1\"} x", "config.json: line 1, column ",
		     "trailing garbage");
	expect_error(
	    "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, \"hostname\": \"a\\u0000b\"}",
	    "config.json: line 1, column ", "NUL in a string refused by the decoder");
	expect_error("{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"},"
		     " \"process\": {\"args\": [\"a\"], \"cwd\": \"/\","
		     " \"rlimits\": [{\"type\": \"RLIMIT_CPU\", \"soft\": 18446744073709551616,"
		     " \"hard\": 1}]}}",
		     "config.json: line 1, column ", "integer above UINT64_MAX is a syntax error");
}

/* Integer literals above INT64_MAX: the decoder holds them aside, the typed getters judge. */
static void test_big_integers(void)
{
	const char *head = "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, ";
	char buf[512];
	ferry_err_t err = NULL, err2 = NULL;
	struct ferry_spec *s;

	snprintf(buf, sizeof(buf),
		 "%s\"process\": {\"args\": [\"a\"], \"cwd\": \"/\", \"user\": "
		 "{\"uid\": 9223372036854775808}}}",
		 head);
	expect_error(buf,
		     "config.json: process.user.uid: 9223372036854775808 is out of range (0 to "
		     "4294967295)",
		     "uid above INT64_MAX");
	snprintf(buf, sizeof(buf), "%s\"hostname\": 9223372036854775808}", head);
	expect_error(buf, "config.json: hostname: expected a string, got integer",
		     "big integer where a string is expected");
	snprintf(buf, sizeof(buf),
		 "%s\"hooks\": {\"prestart\": [{\"path\": \"/x\", \"timeout\": "
		 "18446744073709551615}]}}",
		 head);
	expect_error(buf, "config.json: hooks.prestart[0].timeout: 18446744073709551615 is out of",
		     "hook timeout above INT64_MAX");
	snprintf(buf, sizeof(buf),
		 "%s\"hostname\": \"a\\u0000b\", \"annotations\": {\"n\": 9223372036854775808}}",
		 head);
	expect_error(buf, "config.json: hostname: must not contain a NUL character",
		     "NUL in a string refused next to a big integer");
	snprintf(buf, sizeof(buf),
		 "%s\"hostname\": \"18446744073709551615\", \"domainname\": "
		 "\"x\\\"9223372036854775808\"}",
		 head);
	s = parse_text(buf, &err);
	ok(s && strcmp(s->hostname, "18446744073709551615") == 0 &&
	       strcmp(s->domainname, "x\"9223372036854775808") == 0,
	   "digits inside strings are left alone");
	ferry_spec_free(s);
	ferry_error_free(&err);
	/* columns of a later syntax error are those of the original text */
	s = parse_text("{\"a\": 9223372036854775808, x}", &err);
	ferry_spec_free(parse_text("{\"a\": 1000000000000000000, x}", &err2));
	ok(!s && err && err2 && strcmp(err->msg, err2->msg) == 0,
	   "syntax error after a big integer keeps its column");
	if (err && err2 && strcmp(err->msg, err2->msg) != 0)
		diag("got: %s / %s", err->msg, err2->msg);
	ferry_error_free(&err);
	ferry_error_free(&err2);
}

static void test_minimal(void)
{
	const char *text =
	    "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"/srv/c/../rootfs//\"},"
	    " \"hostname\": null, \"unknown\": [1, 2], \"mounts\": []}";
	ferry_err_t err = NULL;
	struct ferry_spec *s = parse_text(text, &err);

	ok(s != NULL, "minimal config parses");
	if (!s) {
		diag("%s", err ? err->msg : "");
		ferry_error_free(&err);
		return;
	}
	is_str(s->rootfs, "/srv/rootfs", "absolute root.path normalised");
	ok(!s->root_readonly && !s->has_process && !s->has_linux, "no process, no linux");
	ok(!s->hostname && !s->domainname, "null hostname read as absent");
	ok(s->n_mounts == 0 && !s->mounts && s->n_annotations == 0, "no mounts, no annotations");
	for (int k = 0; k < FERRY_HOOK__COUNT; k++)
		ok(s->n_hooks[k] == 0 && !s->hooks[k], "no hooks of kind %d", k);
	ok(!s->linux.seccomp && !s->linux.resources_json && s->linux.n_namespaces == 0,
	   "empty linux section");
	ok(!ferry_spec_namespace(s, FERRY_NS_PID), "ferry_spec_namespace: NULL when not listed");
	ferry_spec_free(s);
}

/* root.path against the bundle: the resolved rootfs for a few spellings. */
static void test_rootfs_paths(void)
{
	static const struct {
		const char *bundle, *root, *want;
	} cases[] = {
	    {"/b", "rootfs", "/b/rootfs"},
	    {"/b/./x/", "rootfs", "/b/x/rootfs"},
	    {"/b", "../../../r", "/r"},
	    {"/b", "a//b/./c/..", "/b/a/b"},
	    {"/b", ".", "/b"},
	    {"/", "rootfs", "/rootfs"},
	    {"/b", "/", "/"},
	    {"/b", "/x/../../y", "/y"},
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ferry_err_t err = NULL;
		struct ferry_spec *s;

		snprintf(buf, sizeof(buf), "{\"ociVersion\": \"1\", \"root\": {\"path\": \"%s\"}}",
			 cases[i].root);
		s = ferry_spec_parse(buf, strlen(buf), cases[i].bundle, &err);
		is_str(s ? s->rootfs : NULL, cases[i].want, "bundle %s, root.path %s",
		       cases[i].bundle, cases[i].root);
		ferry_spec_free(s);
		ferry_error_free(&err);
	}
	{
		ferry_err_t err = NULL;
		struct ferry_spec *s = ferry_spec_parse(buf, strlen(buf), "rel", &err);

		ok(!s && err && strstr(err->msg, "not absolute"),
		   "relative bundle refused by parse");
		ferry_spec_free(s);
		ferry_error_free(&err);
	}
}

static void test_default(void)
{
	char *text = ferry_spec_default_json();
	ferry_err_t err = NULL;
	struct ferry_spec *s = text ? parse_text(text, &err) : NULL;

	ok(s != NULL, "default config parses");
	if (s) {
		ok(s->has_process && s->process.terminal, "default: terminal");
		ok(s->process.n_args == 1 && strcmp(s->process.args[0], "sh") == 0,
		   "default: args [sh]");
		is_str(s->rootfs, BUNDLE "/rootfs", "default: rootfs");
		ok(s->root_readonly, "default: readonly root");
		ok(s->n_mounts == 7 && s->linux.n_namespaces == 5,
		   "default: 7 mounts, 5 namespaces");
		is_str(s->linux.resources_json,
		       "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}",
		       "default: resources");
		ok(s->process.n_rlimits == 1 && s->process.rlimits[0].soft == 1024,
		   "default: RLIMIT_NOFILE 1024");
	}
	ferry_spec_free(s);
	ferry_error_free(&err);
	free(text);
}

/* The default equals, byte for byte, what `runc spec` writes (when runc is installed). */
static void test_default_like_runc(void)
{
	char dir[] = "/tmp/ferry-spec-test.XXXXXX", cmd[256], path[300];
	char *text = ferry_spec_default_json(), *got = NULL;
	size_t len = 0;
	FILE *f;

	if (access("/usr/sbin/runc", X_OK) != 0 || !mkdtemp(dir)) {
		ok(1, "# SKIP runc not installed");
		free(text);
		return;
	}
	snprintf(cmd, sizeof(cmd), "cd %s && /usr/sbin/runc spec", dir);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (system(cmd) == 0 && (f = fopen(path, "r"))) {
		got = calloc(1, 65536);
		len = fread(got, 1, 65535, f);
		fclose(f);
	}
	ok(got && len == strlen(text) && memcmp(got, text, len) == 0,
	   "default config equals `runc spec` output");
	unlink(path);
	rmdir(dir);
	free(got);
	free(text);
}

static void test_load(void)
{
	char dir[] = "/tmp/ferry-spec-test.XXXXXX", path[300], *text, old[4096];
	ferry_err_t err = NULL;
	struct ferry_spec *s;
	FILE *f;

	if (!mkdtemp(dir) || !getcwd(old, sizeof(old))) {
		ok(0, "temp dir");
		return;
	}
	snprintf(path, sizeof(path), "%s/config.json", dir);
	s = ferry_spec_load(dir, &err);
	ok(!s && err && err->errnum == ENOENT && strstr(err->msg, "config.json"),
	   "load without config.json: ENOENT naming the file");
	ferry_error_free(&err);
	text = ferry_spec_default_json();
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(text);
	s = ferry_spec_load(dir, &err);
	ok(s && strcmp(s->bundle, dir) == 0, "load with an absolute bundle");
	if (s) {
		snprintf(path, sizeof(path), "%s/rootfs", dir);
		is_str(s->rootfs, path, "rootfs under the bundle");
	}
	ferry_spec_free(s);
	if (chdir("/tmp") == 0) {
		s = ferry_spec_load(dir + strlen("/tmp/"), &err);
		ok(s && strcmp(s->bundle, dir) == 0, "relative bundle made absolute with the cwd");
		ferry_spec_free(s);
		s = ferry_spec_load("./", &err);
		ok(!s && err && err->errnum == ENOENT, "no config.json in the cwd");
		ferry_error_free(&err);
		if (chdir(old) != 0)
			diag("chdir back failed");
	}
	s = ferry_spec_load(dir, &err);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	mkdir(path, 0700);
	ferry_spec_free(s);
	s = ferry_spec_load(dir, &err);
	ok(!s && err, "config.json that is a directory refused");
	ferry_error_free(&err);
	rmdir(path);
	rmdir(dir);
}

static void test_process(void)
{
	const char *good = "{\"args\": [\"/bin/ls\", \"-l\"], \"cwd\": \"/tmp\","
			   " \"user\": {\"uid\": 5, \"gid\": 6}, \"terminal\": false}";
	struct ferry_process p;
	ferry_err_t err = NULL;
	int rc = ferry_spec_parse_process(good, strlen(good), &p, &err);

	ok(rc == 0, "process file parses");
	ok(p.n_args == 2 && !p.args[2] && strcmp(p.args[1], "-l") == 0, "process args");
	ok(p.env && p.n_env == 0 && !p.env[0], "absent env is an empty NULL-terminated array");
	ok(p.user.uid == 5 && p.user.gid == 6 && !p.has_caps && !p.has_oom_score_adj,
	   "process user, no caps");
	is_str(p.cwd, "/tmp", "process cwd");
	ferry_process_clear(&p);
	ok(!p.args && !p.cwd && p.n_args == 0, "ferry_process_clear zeroes");
	ferry_process_clear(NULL);

	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"{\"args\": [\"a\"], \"cwd\": \"/\", \"user\": {\"uid\": \"0\"}}",
	     "process: user.uid: expected an unsigned integer, got string"},
	    {"{\"args\": [], \"cwd\": \"/\"}", "process: args: must not be empty"},
	    {"{\"cwd\": \"/\"}", "process: args: missing"},
	    {"{\"args\": [\"a\"]}", "process: cwd: missing"},
	    {"{\"args\": [\"a\"], \"cwd\": \"x\"}", "process: cwd: must be an absolute path"},
	    {"{\"args\": [\"a\"], \"cwd\": \"/\", \"rlimits\": [{\"type\": \"RLIMIT_AS\","
	     " \"soft\": 1, \"hard\": -1}]}",
	     "process: rlimits[0].hard: -1 is out of range"},
	    {"[]", "process: expected an object, got array"},
	    {"{\"args\": ", "process: line 1, column "},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = ferry_spec_parse_process(bad[i].text, strlen(bad[i].text), &p, &err);
		ok(rc < 0 && err && strncmp(err->msg, bad[i].want, strlen(bad[i].want)) == 0 &&
		       !p.args && !p.cwd,
		   "process error \"%s\"", bad[i].want);
		if (err && strncmp(err->msg, bad[i].want, strlen(bad[i].want)) != 0)
			diag("got: %s", err->msg);
		ferry_error_free(&err);
	}
}

static void test_ns_names(void)
{
	static const char *const want[] = {"pid", "network", "mount",  "ipc",
					   "uts", "user",    "cgroup", "time"};

	for (int t = 0; t < FERRY_NS__COUNT; t++)
		is_str(ferry_ns_name((enum ferry_ns_type)t), want[t], "ferry_ns_name(%d)", t);
	ok(ferry_ns_name(FERRY_NS__COUNT) == NULL, "ferry_ns_name: NULL out of range");
	ferry_spec_free(NULL);
}

int main(void)
{
	test_full();
	test_error_cases();
	test_syntax();
	test_big_integers();
	test_minimal();
	test_rootfs_paths();
	test_default();
	test_default_like_runc();
	test_load();
	test_process();
	test_ns_names();
	return done_testing();
}

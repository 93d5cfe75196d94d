// SPDX-License-Identifier: Apache-2.0
#include <jansson.h>
#include <stdlib.h>

#include "core/hooks.h"
#include "ferry/container.h"
#include "os/os.h"

static const char *const mount_options[] = {
	"async",     "atime",     "bind",       "defaults",  "dev",        "diratime",
	"dirsync",   "exec",      "mand",       "noatime",   "nodev",      "nodiratime",
	"noexec",    "nomand",    "norelatime", "nostrictatime", "nosuid", "private",
	"rbind",     "relatime",  "remount",    "ro",        "rprivate",   "rshared",
	"rslave",    "runbindable", "rw",       "shared",    "slave",      "strictatime",
	"suid",      "sync",      "unbindable",
};

char *ferry_features_json(void)
{
	json_t *o = json_object(), *hooks = json_array(), *opts = json_array(), *linux_o;
	char *linux_text = os_ops.features_json(), *text;

	for (int k = 0; k < FERRY_HOOK__COUNT; k++)
		json_array_append_new(hooks, json_string(hooks_kind_name(k)));
	for (size_t i = 0; i < sizeof(mount_options) / sizeof(mount_options[0]); i++)
		json_array_append_new(opts, json_string(mount_options[i]));
	json_object_set_new(o, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(o, "ociVersionMax", json_string("1.1.0"));
	json_object_set_new(o, "hooks", hooks);
	json_object_set_new(o, "mountOptions", opts);
	linux_o = linux_text ? json_loads(linux_text, 0, NULL) : NULL;
	free(linux_text);
	if (linux_o)
		json_object_set_new(o, "linux", linux_o);
	json_object_set_new(o, "annotations",
			    json_pack("{s:s}", "org.opencontainers.runc.checkpoint.enabled", "true"));
	text = json_dumps(o, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
}

// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "core/cleanup.h"
#include "os/linux/mount_options.h"

/* The recursive attributes (Linux 5.12); older C library headers lack some of them. */
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x00000002
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x00000004
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
#ifndef MOUNT_ATTR__ATIME
#define MOUNT_ATTR__ATIME 0x00000070
#endif
#ifndef MOUNT_ATTR_RELATIME
#define MOUNT_ATTR_RELATIME 0x00000000
#endif
#ifndef MOUNT_ATTR_NOATIME
#define MOUNT_ATTR_NOATIME 0x00000010
#endif
#ifndef MOUNT_ATTR_STRICTATIME
#define MOUNT_ATTR_STRICTATIME 0x00000020
#endif
#ifndef MOUNT_ATTR_NODIRATIME
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

struct flag_opt {
	const char *name;
	bool clear;
	unsigned long flag;
};

/* runc 1.1's table (libcontainer/specconv). */
static const struct flag_opt mount_flags[] = {
    {"acl", false, MS_POSIXACL},
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noacl", true, MS_POSIXACL},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

static const struct flag_opt propagations[] = {
    {"private", false, MS_PRIVATE},
    {"shared", false, MS_SHARED},
    {"slave", false, MS_SLAVE},
    {"unbindable", false, MS_UNBINDABLE},
    {"rprivate", false, MS_PRIVATE | MS_REC},
    {"rshared", false, MS_SHARED | MS_REC},
    {"rslave", false, MS_SLAVE | MS_REC},
    {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

static const struct flag_opt rec_attrs[] = {
    {"rro", false, MOUNT_ATTR_RDONLY},
    {"rrw", true, MOUNT_ATTR_RDONLY},
    {"rnosuid", false, MOUNT_ATTR_NOSUID},
    {"rsuid", true, MOUNT_ATTR_NOSUID},
    {"rnodev", false, MOUNT_ATTR_NODEV},
    {"rdev", true, MOUNT_ATTR_NODEV},
    {"rnoexec", false, MOUNT_ATTR_NOEXEC},
    {"rexec", true, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", false, MOUNT_ATTR_RELATIME},
    {"rnorelatime", true, MOUNT_ATTR_RELATIME},
    {"rnoatime", false, MOUNT_ATTR_NOATIME},
    {"ratime", true, MOUNT_ATTR_NOATIME},
    {"rstrictatime", false, MOUNT_ATTR_STRICTATIME},
    {"rnostrictatime", true, MOUNT_ATTR_STRICTATIME},
    {"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct flag_opt *lookup(const struct flag_opt *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

int lx_mount_propagation(const char *name, unsigned long *flag)
{
	const struct flag_opt *p = lookup(propagations, ARRAY_SIZE(propagations), name);

	if (!p)
		return -1;
	*flag = p->flag;
	return 0;
}

static void add_rec_attr(struct lx_mount_opts *o, const struct flag_opt *f)
{
	if (f->clear) {
		o->attr_clr |= f->flag;
		return;
	}
	o->attr_set |= f->flag;
	/* An access-time mode is a field: setting one needs the whole field in attr_clr. */
	if ((f->flag & MOUNT_ATTR__ATIME) == f->flag)
		o->attr_clr |= MOUNT_ATTR__ATIME;
}

static int append_data(struct lx_mount_opts *o, const char *word, ferry_err_t *err)
{
	size_t old = o->data ? strlen(o->data) : 0, len = strlen(word);
	char *d = realloc(o->data, old + len + 2);

	if (!d)
		return ferry_error(err, ENOMEM, "mount data");
	if (old)
		d[old++] = ',';
	memcpy(d + old, word, len + 1);
	o->data = d;
	return 0;
}

static int parse_one(const char *o, struct lx_mount_opts *out, ferry_err_t *err)
{
	const struct flag_opt *f;

	if ((f = lookup(mount_flags, ARRAY_SIZE(mount_flags), o))) {
		if (f->clear)
			out->flags &= ~f->flag;
		else
			out->flags |= f->flag;
	} else if ((f = lookup(propagations, ARRAY_SIZE(propagations), o))) {
		if (out->n_propagation == LX_MOUNT_MAX_PROPAGATION)
			return ferry_error(err, 0, "too many propagation options");
		out->propagation[out->n_propagation++] = f->flag;
	} else if ((f = lookup(rec_attrs, ARRAY_SIZE(rec_attrs), o))) {
		add_rec_attr(out, f);
	} else if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
		return ferry_error(err, 0, "\"%s\": idmapped mounts are not supported yet", o);
	} else if (strcmp(o, "tmpcopyup") == 0) {
		return ferry_error(err, 0, "\"%s\": copying up into a tmpfs is not supported yet",
				   o);
	} else if (*o) {
		return append_data(out, o, err);
	}
	return 0;
}

int lx_mount_options_parse(char *const *options, size_t n, struct lx_mount_opts *out,
			   ferry_err_t *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!options[i])
			continue;
		if (parse_one(options[i], out, err) < 0) {
			lx_mount_opts_clear(out);
			return ferry_error_wrap(err, "options[%zu]", i);
		}
	}
	return 0;
}

void lx_mount_opts_clear(struct lx_mount_opts *o)
{
	if (!o)
		return;
	free(o->data);
	memset(o, 0, sizeof(*o));
}

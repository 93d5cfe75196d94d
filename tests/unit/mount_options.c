// SPDX-License-Identifier: Apache-2.0
/* Mount option strings -> mount(2) flags, propagation, recursive attributes and data. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "core/cleanup.h"
#include "os/linux/mount_options.h"
#include "tap.h"

#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif

/* Parses a comma-separated list (each item one option); returns 0 or -1 with *err. */
static int parse(const char *list, struct lx_mount_opts *o, ferry_err_t *err)
{
	_cleanup_free_ char *copy = strdup(list);
	char *opts[32], *save = NULL;
	size_t n = 0;

	for (char *t = strtok_r(copy, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save))
		opts[n++] = t;
	return lx_mount_options_parse(opts, n, o, err);
}

struct flag_case {
	const char *opts;
	unsigned long flags;
	const char *data;
};

static const struct flag_case cases[] = {
    {"ro", MS_RDONLY, NULL},
    {"ro,rw", 0, NULL},
    {"rw,ro", MS_RDONLY, NULL},
    {"nosuid,suid", 0, NULL},
    {"nosuid,nodev,noexec", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"noexec,exec,dev", 0, NULL},
    {"sync", MS_SYNCHRONOUS, NULL},
    {"sync,async", 0, NULL},
    {"dirsync", MS_DIRSYNC, NULL},
    {"remount", MS_REMOUNT, NULL},
    {"mand", MS_MANDLOCK, NULL},
    {"mand,nomand", 0, NULL},
    {"noatime", MS_NOATIME, NULL},
    {"noatime,atime", 0, NULL},
    {"nodiratime", MS_NODIRATIME, NULL},
    {"nodiratime,diratime", 0, NULL},
    {"relatime", MS_RELATIME, NULL},
    {"relatime,norelatime", 0, NULL},
    {"strictatime", MS_STRICTATIME, NULL},
    {"strictatime,nostrictatime", 0, NULL},
    {"bind", MS_BIND, NULL},
    {"rbind", MS_BIND | MS_REC, NULL},
    {"rbind,ro", MS_BIND | MS_REC | MS_RDONLY, NULL},
    {"defaults", 0, NULL},
    {"acl", MS_POSIXACL, NULL},
    {"acl,noacl", 0, NULL},
    {"iversion", MS_I_VERSION, NULL},
    {"lazytime", MS_LAZYTIME, NULL},
    {"silent", MS_SILENT, NULL},
    {"silent,loud", 0, NULL},
    {"nosuid,strictatime,mode=755,size=65536k", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
    {"nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5", MS_NOSUID | MS_NOEXEC,
     "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"nosuid,noexec,nodev,relatime,ro", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
     NULL},
    {"lowerdir=/a:/b,upperdir=/u,workdir=/w", 0, "lowerdir=/a:/b,upperdir=/u,workdir=/w"},
};

static void test_flags(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_err_ ferry_err_t err = NULL;
		struct lx_mount_opts o;

		ok(parse(cases[i].opts, &o, &err) == 0, "%s: parses", cases[i].opts);
		ok(o.flags == cases[i].flags, "%s: flags %#lx", cases[i].opts, o.flags);
		is_str(o.data, cases[i].data, "%s: data", cases[i].opts);
		ok(o.n_propagation == 0 && !o.attr_set && !o.attr_clr, "%s: nothing else",
		   cases[i].opts);
		lx_mount_opts_clear(&o);
	}
}

static void test_propagation(void)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} props[] = {
	    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
	    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
	    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
	    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
	};
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_mount_opts o;
	unsigned long f = 0;

	for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
		ok(parse(props[i].name, &o, &err) == 0 && o.n_propagation == 1 &&
		       o.propagation[0] == props[i].flag && o.flags == 0,
		   "%s: one propagation change %#lx", props[i].name, props[i].flag);
		lx_mount_opts_clear(&o);
		ok(lx_mount_propagation(props[i].name, &f) == 0 && f == props[i].flag,
		   "rootfsPropagation %s", props[i].name);
	}
	ok(parse("rbind,rprivate,ro,shared", &o, &err) == 0 && o.n_propagation == 2 &&
	       o.propagation[0] == (MS_PRIVATE | MS_REC) && o.propagation[1] == MS_SHARED &&
	       o.flags == (MS_BIND | MS_REC | MS_RDONLY),
	   "propagation changes kept in order, apart from the flags");
	lx_mount_opts_clear(&o);
	ok(lx_mount_propagation("rbind", &f) < 0, "rbind is not a propagation");
	ok(lx_mount_propagation("", &f) < 0, "empty is not a propagation");
}

static void test_rec_attrs(void)
{
	_cleanup_err_ ferry_err_t err = NULL;
	struct lx_mount_opts o;

	ok(parse("rbind,rro,rnosuid,rnodev,rnoexec", &o, &err) == 0 &&
	       o.attr_set ==
		   (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) &&
	       o.attr_clr == 0 && o.flags == (MS_BIND | MS_REC),
	   "rro,rnosuid,rnodev,rnoexec set recursive attributes, not flags");
	lx_mount_opts_clear(&o);
	ok(parse("rrw,rsuid,rdev,rexec,rsymfollow", &o, &err) == 0 && o.attr_set == 0 &&
	       o.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			      MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW),
	   "rrw,rsuid,rdev,rexec,rsymfollow clear them");
	lx_mount_opts_clear(&o);
	ok(parse("rnoatime", &o, &err) == 0 && o.attr_set == MOUNT_ATTR_NOATIME &&
	       o.attr_clr == MOUNT_ATTR__ATIME,
	   "rnoatime: set noatime, clear the whole atime field");
	lx_mount_opts_clear(&o);
	ok(parse("rrelatime", &o, &err) == 0 && o.attr_set == MOUNT_ATTR_RELATIME &&
	       o.attr_clr == MOUNT_ATTR__ATIME,
	   "rrelatime clears the atime field");
	lx_mount_opts_clear(&o);
	ok(parse("rnodiratime,rnosymfollow", &o, &err) == 0 &&
	       o.attr_set == (MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW) && o.attr_clr == 0,
	   "rnodiratime is not part of the atime field");
	lx_mount_opts_clear(&o);
}

static void test_refused(void)
{
	static const char *const refused[] = {"idmap", "ridmap", "tmpcopyup"};

	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		_cleanup_err_ ferry_err_t err = NULL;
		_cleanup_free_ char *list = NULL;
		_cleanup_free_ char *want = NULL;
		struct lx_mount_opts o;

		if (asprintf(&list, "rbind,ro,%s", refused[i]) < 0 ||
		    asprintf(&want, "options[2]: \"%s\"", refused[i]) < 0)
			abort();
		ok(parse(list, &o, &err) < 0 && err && strncmp(err->msg, want, strlen(want)) == 0,
		   "%s refused, naming the option", refused[i]);
		if (err)
			diag("%s", err->msg);
		ok(o.data == NULL && o.flags == 0, "%s: nothing left behind", refused[i]);
	}
}

int main(void)
{
	test_flags();
	test_propagation();
	test_rec_attrs();
	test_refused();
	return done_testing();
}

// SPDX-License-Identifier: Apache-2.0
/* process.user: supplementary groups, gid, uid (keeping capabilities across the change), umask. */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"

/* True when /proc/self/setgroups says "deny" (a user namespace that forbids setgroups). */
static bool setgroups_denied(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/setgroups", "re");
	char buf[16] = "";

	if (!f || !fgets(buf, sizeof(buf), f))
		return false;
	return strncmp(buf, "deny", 4) == 0;
}

/* Sets exactly process.user.additionalGids as the supplementary groups. Returns 0 or -1. */
static int user_set_groups(const struct ferry_user *u, ferry_err_t *err)
{
	gid_t *gids = (gid_t *)u->additional_gids;

	_Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is 32 bits");
	if (setgroups(u->n_additional_gids, u->n_additional_gids ? gids : NULL) == 0)
		return 0;
	if (errno == EPERM && setgroups_denied()) {
		if (u->n_additional_gids == 0)
			return 0;
		return ferry_error(err, 0,
				   "process.user.additionalGids: setgroups is denied in this user "
				   "namespace");
	}
	return ferry_error_errno(err, "process.user.additionalGids: setgroups");
}

int lx_user_apply(const struct ferry_process *proc, ferry_err_t *err)
{
	const struct ferry_user *u = &proc->user;

	if (user_set_groups(u, err) < 0)
		return -1;
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return ferry_error_errno(err, "process.user.gid: setresgid %u", u->gid);
	/* Keep the permitted set across the uid change; lx_caps_apply clears the flag again. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return ferry_error_errno(err, "set PR_SET_KEEPCAPS");
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return ferry_error_errno(err, "process.user.uid: setresuid %u", u->uid);
	umask(u->has_umask ? (mode_t)(u->umask & 07777) : 0022);
	return 0;
}

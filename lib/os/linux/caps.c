// SPDX-License-Identifier: Apache-2.0
/*
 * Capabilities (libcap): validation of process.capabilities and of the rest of the process's
 * privileges, the bounding set drop, and the final E/P/I/ambient sets.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/prctl.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"

/* Defined in rlimits.c: checks process.rlimits (names, soft <= hard). Returns 0 or -1. */

static const char *const cap_set_names[FERRY_CAP__COUNT] = {
    [FERRY_CAP_BOUNDING] = "bounding",	     [FERRY_CAP_EFFECTIVE] = "effective",
    [FERRY_CAP_INHERITABLE] = "inheritable", [FERRY_CAP_PERMITTED] = "permitted",
    [FERRY_CAP_AMBIENT] = "ambient",
};

static void cap_freep(cap_t *c)
{
	if (*c)
		cap_free(*c);
}
#define _cleanup_cap_ __attribute__((cleanup(cap_freep)))

/* "CAP_KILL" (any case) -> 5; numbers and names without the CAP_ prefix are refused. */
static int cap_parse(const char *name, cap_value_t *out)
{
	if (!name || strncasecmp(name, "CAP_", 4) != 0 || !name[4])
		return -1;
	for (const char *p = name + 4; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return -1;
	return cap_from_name(name, out);
}

/* True when the running kernel knows the capability (libcap may know more than the kernel). */
static bool cap_kernel_knows(cap_value_t c)
{
	return c >= 0 && (unsigned)c < (unsigned)cap_max_bits();
}

/* Writes the upper-case name of c ("CAP_KILL") into buf; returns buf. */
static const char *cap_name(cap_value_t c, char buf[static 32])
{
	char *name = cap_to_name(c);

	snprintf(buf, 32, "%s", name ? name : "capability");
	for (char *p = buf; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	cap_free(name);
	return buf;
}

/* Sets bit c of mask for every name of one set the kernel knows. Returns 0 or -1. */
static int cap_set_mask(const struct ferry_process *proc, enum ferry_cap_set set, uint64_t *mask,
			ferry_err_t *err)
{
	*mask = 0;
	for (size_t i = 0; i < proc->caps.n[set]; i++) {
		const char *name = proc->caps.names[set][i];
		cap_value_t c;

		if (cap_parse(name, &c) < 0)
			return ferry_error(
			    err, 0, "process.capabilities.%s[%zu]: unknown capability \"%s\"",
			    cap_set_names[set], i, name ? name : "");
		if (cap_kernel_knows(c) && c < 64)
			*mask |= UINT64_C(1) << c;
	}
	return 0;
}

/* Checks one set's names and that the host's bounding set holds each. Returns 0 or -1. */
static int caps_validate_set(const struct ferry_process *proc, enum ferry_cap_set set,
			     ferry_err_t *err)
{
	uint64_t mask;

	if (cap_set_mask(proc, set, &mask, err) < 0)
		return -1;
	for (size_t i = 0; i < proc->caps.n[set]; i++) {
		const char *name = proc->caps.names[set][i];
		cap_value_t c;
		char canon[32];

		cap_parse(name, &c);
		/* Listing it in the bounding set only keeps what is there: harmless. */
		if (set == FERRY_CAP_BOUNDING || !cap_kernel_knows(c) || cap_get_bound(c) > 0)
			continue;
		return ferry_error(
		    err, 0,
		    "process.capabilities.%s[%zu]: %s is not in this host's bounding "
		    "set, so it cannot be granted",
		    cap_set_names[set], i, cap_name(c, canon));
	}
	return 0;
}

/* Checks the relation the kernel enforces: E within P. */
static int caps_validate_relations(const struct ferry_process *proc, ferry_err_t *err)
{
	uint64_t m[FERRY_CAP__COUNT];

	for (int s = 0; s < FERRY_CAP__COUNT; s++)
		if (cap_set_mask(proc, s, &m[s], err) < 0)
			return -1;
	for (size_t i = 0; i < proc->caps.n[FERRY_CAP_EFFECTIVE]; i++) {
		cap_value_t c;

		if (cap_parse(proc->caps.names[FERRY_CAP_EFFECTIVE][i], &c) < 0 ||
		    !cap_kernel_knows(c) || (m[FERRY_CAP_PERMITTED] >> c) & 1)
			continue;
		return ferry_error(
		    err, 0, "process.capabilities.effective[%zu]: %s is not in the permitted set",
		    i, proc->caps.names[FERRY_CAP_EFFECTIVE][i]);
	}
	/* An ambient capability outside P and I is not raised (runc only warns): runc's own
	 * default spec lists ambient capabilities without inheritable ones. */
	return 0;
}

/* True when the kernel has an AppArmor LSM enabled. */
static bool apparmor_enabled(void)
{
	_cleanup_fclose_ FILE *f = fopen("/sys/module/apparmor/parameters/enabled", "re");
	int c = f ? fgetc(f) : EOF;

	return c == 'Y';
}

/* Refuses the LSM settings this runtime cannot apply. Returns 0 or -1. */
static int lsm_validate(const struct ferry_process *proc, ferry_err_t *err)
{
	if (proc->apparmor_profile && proc->apparmor_profile[0]) {
		if (!apparmor_enabled())
			return ferry_error(
			    err, 0,
			    "process.apparmorProfile: AppArmor is not available on this "
			    "host");
		return ferry_error(err, 0,
				   "process.apparmorProfile: applying AppArmor profiles is not "
				   "supported yet");
	}
	if (proc->selinux_label && proc->selinux_label[0])
		return ferry_error(err, 0,
				   "process.selinuxLabel: SELinux is not available on this host");
	return 0;
}

int lx_process_validate(const struct ferry_process *proc, ferry_err_t *err)
{
	if (proc->has_caps) {
		for (int s = 0; s < FERRY_CAP__COUNT; s++)
			if (caps_validate_set(proc, s, err) < 0)
				return -1;
		if (caps_validate_relations(proc, err) < 0)
			return -1;
	}
	if (lx_rlimits_validate(proc, err) < 0)
		return -1;
	return lsm_validate(proc, err);
}

int lx_caps_bound(const struct ferry_process *proc, ferry_err_t *err)
{
	uint64_t keep;
	unsigned max = cap_max_bits();

	if (!proc->has_caps)
		return 0;
	if (cap_set_mask(proc, FERRY_CAP_BOUNDING, &keep, err) < 0)
		return -1;
	for (cap_value_t c = 0; (unsigned)c < max && c < 64; c++) {
		if ((keep >> c) & 1 || cap_get_bound(c) <= 0)
			continue;
		if (cap_drop_bound(c) < 0) {
			char name[32];

			return ferry_error_errno(err, "drop %s from the bounding set",
						 cap_name(c, name));
		}
	}
	return 0;
}

/* Builds a cap_t with E, P and I from the config (bounded by what the kernel knows). */
static cap_t caps_from_config(const struct ferry_process *proc, ferry_err_t *err)
{
	static const struct {
		enum ferry_cap_set set;
		cap_flag_t flag;
	} map[] = {
	    {FERRY_CAP_EFFECTIVE, CAP_EFFECTIVE},
	    {FERRY_CAP_PERMITTED, CAP_PERMITTED},
	    {FERRY_CAP_INHERITABLE, CAP_INHERITABLE},
	};
	_cleanup_cap_ cap_t caps = cap_init();

	if (!caps) {
		ferry_error_errno(err, "allocate capability state");
		return NULL;
	}
	for (size_t m = 0; m < ARRAY_SIZE(map); m++) {
		uint64_t mask;

		if (cap_set_mask(proc, map[m].set, &mask, err) < 0)
			return NULL;
		for (cap_value_t c = 0; c < 64; c++) {
			if (!((mask >> c) & 1))
				continue;
			if (cap_set_flag(caps, map[m].flag, 1, &c, CAP_SET) < 0) {
				ferry_error_errno(err, "set capability %d", c);
				return NULL;
			}
		}
	}
	return steal_ptr(caps);
}

/* Clears the ambient set, then raises each configured ambient capability. Returns 0 or -1. */
static int caps_apply_ambient(const struct ferry_process *proc, ferry_err_t *err)
{
	uint64_t mask;

	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return ferry_error_errno(err, "clear the ambient capabilities");
	if (cap_set_mask(proc, FERRY_CAP_AMBIENT, &mask, err) < 0)
		return -1;
	for (cap_value_t c = 0; c < 64; c++) {
		if (!((mask >> c) & 1))
			continue;
		if (cap_set_ambient(c, CAP_SET) < 0 && errno != EPERM) {
			char name[32];

			return ferry_error_errno(err, "process.capabilities.ambient: raise %s",
						 cap_name(c, name));
		}
	}
	return 0;
}

int lx_caps_apply(const struct ferry_process *proc, ferry_err_t *err)
{
	_cleanup_cap_ cap_t caps = NULL;

	if (!proc->has_caps && proc->user.uid == 0)
		goto out;
	if (proc->has_caps)
		caps = caps_from_config(proc, err);
	else
		caps = cap_init(); /* non-root without capabilities: none at all */
	if (!caps)
		return proc->has_caps ? -1 : ferry_error_errno(err, "allocate capability state");
	if (cap_set_proc(caps) < 0)
		return ferry_error_errno(err, "set the process capabilities");
	if (caps_apply_ambient(proc, err) < 0)
		return -1;
out:
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return ferry_error_errno(err, "clear PR_SET_KEEPCAPS");
	return 0;
}

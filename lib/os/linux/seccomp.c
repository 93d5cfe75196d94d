// SPDX-License-Identifier: Apache-2.0
/*
 * linux.seccomp (libseccomp): validation, compilation and loading of the filter, with runc's
 * semantics: syscall names libseccomp does not know are skipped, a rule whose action equals the
 * default action is skipped, several args on one index turn every arg of that rule into a rule of
 * its own (OR) while args on distinct indexes are ANDed, and errnoRet defaults to EPERM for both
 * SCMP_ACT_ERRNO and SCMP_ACT_TRACE.
 *
 * The filter is built with SCMP_FLTATR_CTL_NNP off, so loading it never sets no_new_privs
 * behind the config's back. The kernel then accepts the load only when the thread has
 * no_new_privs set or holds CAP_SYS_ADMIN. The caller (the container's init, or an exec'd
 * process) must therefore use runc's order:
 *
 *   lx_seccomp_prepare                 (in the runtime, before any privilege drop)
 *   lx_rlimits_apply
 *   if process.noNewPrivileges:  prctl(PR_SET_NO_NEW_PRIVS, 1)
 *   else:                        lx_seccomp_load   (still holds CAP_SYS_ADMIN)
 *   lx_caps_bound, lx_user_apply, lx_caps_apply
 *   if process.noNewPrivileges:  lx_seccomp_load   (as late as possible)
 *   execve
 *
 * Without noNewPrivileges the filter thus also applies to the capability and user set-up
 * syscalls, exactly as with runc. A load in the wrong order fails with a clear error, not EACCES.
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>

/* gnu11 predefines `linux`, which ferry/spec.h uses as a member name. */
#undef linux

#include "core/cleanup.h"
#include "os/linux/security.h"

#define SECCOMP_MAX_ARGS 6

struct lx_seccomp {
	scmp_filter_ctx ctx;
};

enum action_kind {
	ACT_KILL,
	ACT_KILL_PROCESS,
	ACT_KILL_THREAD,
	ACT_TRAP,
	ACT_ERRNO,
	ACT_TRACE,
	ACT_ALLOW,
	ACT_LOG,
	ACT_NOTIFY,
};

static const char *const action_names[] = {
    [ACT_KILL] = "SCMP_ACT_KILL",
    [ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
    [ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
    [ACT_TRAP] = "SCMP_ACT_TRAP",
    [ACT_ERRNO] = "SCMP_ACT_ERRNO",
    [ACT_TRACE] = "SCMP_ACT_TRACE",
    [ACT_ALLOW] = "SCMP_ACT_ALLOW",
    [ACT_LOG] = "SCMP_ACT_LOG",
    [ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const struct {
	const char *name;
	enum scmp_compare op;
} op_names[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	enum scmp_filter_attr attr;
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
};

/* "SCMP_ACT_ERRNO" -> ACT_ERRNO, or -1. */
static int action_kind(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(action_names); i++)
		if (strcmp(name, action_names[i]) == 0)
			return (int)i;
	return -1;
}

/* The libseccomp action for a kind; ret is errnoRet (ERRNO) or the trace value (TRACE). */
static uint32_t action_value(enum action_kind kind, bool has_ret, uint32_t ret)
{
	uint32_t data = has_ret ? ret : EPERM;

	switch (kind) {
	case ACT_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case ACT_TRAP:
		return SCMP_ACT_TRAP;
	case ACT_ERRNO:
		return SCMP_ACT_ERRNO(data);
	case ACT_TRACE:
		return SCMP_ACT_TRACE(data);
	case ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case ACT_LOG:
		return SCMP_ACT_LOG;
	case ACT_NOTIFY:
		return SCMP_ACT_NOTIFY;
	case ACT_KILL:
	case ACT_KILL_THREAD:
	default:
		return SCMP_ACT_KILL_THREAD;
	}
}

/* "SCMP_CMP_EQ" -> SCMP_CMP_EQ, or 0 (_SCMP_CMP_MIN). */
static enum scmp_compare op_value(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(op_names); i++)
		if (strcmp(name, op_names[i].name) == 0)
			return op_names[i].op;
	return _SCMP_CMP_MIN;
}

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64, or 0. */
static uint32_t arch_value(const char *name)
{
	char lower[32];
	size_t len;

	if (!name || strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	len = strlen(name + 10);
	if (len == 0 || len >= sizeof(lower))
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = name[10 + i];

		lower[i] = (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
	}
	return seccomp_arch_resolve_name(lower);
}

/* Checks an action name and its errno/trace value; field names the config entry. */
static int action_validate(const char *action, bool has_ret, uint32_t ret, const char *listener,
			   const char *field, ferry_err_t *err)
{
	int kind = action_kind(action);

	if (kind < 0)
		return ferry_error(err, 0, "%s: unknown action \"%s\"", field,
				   action ? action : "");
	if (has_ret && ret > 0xffff && (kind == ACT_ERRNO || kind == ACT_TRACE))
		return ferry_error(err, 0, "%s: return value %u does not fit in 16 bits", field,
				   ret);
	if (kind == ACT_NOTIFY && !(listener && listener[0]))
		return ferry_error(err, 0, "%s: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath",
				   field);
	if (kind == ACT_NOTIFY)
		return ferry_error(
		    err, 0,
		    "%s: SCMP_ACT_NOTIFY (seccomp user notification) is not supported "
		    "yet",
		    field);
	return 0;
}

/* Checks one entry of linux.seccomp.syscalls. Returns 0 or -1. */
static int rule_validate(const struct ferry_seccomp *sc, size_t i, ferry_err_t *err)
{
	const struct ferry_seccomp_rule *r = &sc->rules[i];
	char field[64];

	snprintf(field, sizeof(field), "linux.seccomp.syscalls[%zu].action", i);
	if (action_validate(r->action, r->has_errno_ret, r->errno_ret, sc->listener_path, field,
			    err) < 0)
		return -1;
	for (size_t a = 0; a < r->n_args; a++) {
		const struct ferry_seccomp_arg *arg = &r->args[a];

		if (arg->index >= SECCOMP_MAX_ARGS)
			return ferry_error(
			    err, 0,
			    "linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of "
			    "range (0-5)",
			    i, a, arg->index);
		if (op_value(arg->op) == _SCMP_CMP_MIN)
			return ferry_error(
			    err, 0,
			    "linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator "
			    "\"%s\"",
			    i, a, arg->op ? arg->op : "");
	}
	return 0;
}

int lx_seccomp_validate(const struct ferry_seccomp *sc, ferry_err_t *err)
{
	if (!sc)
		return 0;
	if (action_kind(sc->default_action) == ACT_NOTIFY)
		return ferry_error(
		    err, 0,
		    "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default "
		    "action");
	if (action_validate(sc->default_action, sc->has_default_errno_ret, sc->default_errno_ret,
			    sc->listener_path, "linux.seccomp.defaultAction", err) < 0)
		return -1;
	for (size_t i = 0; i < sc->n_architectures; i++)
		if (!arch_value(sc->architectures[i]))
			return ferry_error(
			    err, 0, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
			    i, sc->architectures[i] ? sc->architectures[i] : "");
	for (size_t i = 0; i < sc->n_flags; i++) {
		size_t f = 0;

		while (f < ARRAY_SIZE(flag_names) &&
		       !(sc->flags[i] && strcmp(sc->flags[i], flag_names[f].name) == 0))
			f++;
		if (f == ARRAY_SIZE(flag_names))
			return ferry_error(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"",
					   i, sc->flags[i] ? sc->flags[i] : "");
	}
	for (size_t i = 0; i < sc->n_rules; i++)
		if (rule_validate(sc, i, err) < 0)
			return -1;
	return 0;
}

/* Adds the architectures and sets the flags and attributes. Returns 0 or -1. */
static int filter_setup(scmp_filter_ctx ctx, const struct ferry_seccomp *sc, ferry_err_t *err)
{
	int rc;

	for (size_t i = 0; i < sc->n_architectures; i++) {
		rc = seccomp_arch_add(ctx, arch_value(sc->architectures[i]));
		if (rc < 0 && rc != -EEXIST)
			return ferry_error(err, -rc, "linux.seccomp.architectures[%zu]: add %s", i,
					   sc->architectures[i]);
	}
	for (size_t i = 0; i < sc->n_flags; i++)
		for (size_t f = 0; f < ARRAY_SIZE(flag_names); f++) {
			if (strcmp(sc->flags[i], flag_names[f].name) != 0)
				continue;
			rc = seccomp_attr_set(ctx, flag_names[f].attr, 1);
			if (rc < 0)
				return ferry_error(err, -rc, "linux.seccomp.flags[%zu]: set %s", i,
						   sc->flags[i]);
		}
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return ferry_error(err, -rc, "seccomp: turn off no_new_privs on load");
	/* Report the kernel's errno from seccomp_load, not ECANCELED. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc < 0)
		return ferry_error(err, -rc, "seccomp: ask for raw system error codes");
	return 0;
}

/* Adds one syscall of a rule: its args ANDed, or one rule per arg when an index repeats. */
static int rule_add_syscall(scmp_filter_ctx ctx, const struct ferry_seccomp_rule *r,
			    uint32_t action, int nr, struct scmp_arg_cmp *cmps, bool split)
{
	int rc;

	if (r->n_args == 0 || !split)
		return seccomp_rule_add_array(ctx, action, nr, (unsigned)r->n_args, cmps);
	for (size_t a = 0; a < r->n_args; a++) {
		rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[a]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Adds entry i of linux.seccomp.syscalls to the filter. Returns 0 or -1. */
static int rule_add(scmp_filter_ctx ctx, const struct ferry_seccomp *sc, size_t i,
		    uint32_t default_action, ferry_err_t *err)
{
	const struct ferry_seccomp_rule *r = &sc->rules[i];
	uint32_t action = action_value(action_kind(r->action), r->has_errno_ret, r->errno_ret);
	_cleanup_free_ struct scmp_arg_cmp *cmps = calloc(r->n_args + 1, sizeof(*cmps));
	unsigned per_index[SECCOMP_MAX_ARGS] = {0};
	bool split = false;

	if (!cmps)
		return ferry_error_errno(err, "linux.seccomp.syscalls[%zu]", i);
	if (action == default_action)
		return 0; /* libseccomp refuses it; runc skips it too */
	for (size_t a = 0; a < r->n_args; a++) {
		const struct ferry_seccomp_arg *arg = &r->args[a];
		enum scmp_compare op = op_value(arg->op);

		cmps[a] = (struct scmp_arg_cmp){.arg = arg->index, .op = op, .datum_a = arg->value};
		if (op == SCMP_CMP_MASKED_EQ)
			cmps[a].datum_b = arg->value_two;
		if (++per_index[arg->index] > 1)
			split = true;
	}
	for (size_t n = 0; n < r->n_names; n++) {
		int nr = r->names[n] ? seccomp_syscall_resolve_name(r->names[n]) : __NR_SCMP_ERROR;
		int rc;

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to libseccomp: skipped, as runc does */
		rc = rule_add_syscall(ctx, r, action, nr, cmps, split);
		if (rc < 0)
			return ferry_error(err, -rc, "linux.seccomp.syscalls[%zu]: add rule for %s",
					   i, r->names[n]);
	}
	return 0;
}

int lx_seccomp_prepare(const struct ferry_seccomp *sc, struct lx_seccomp **out, ferry_err_t *err)
{
	struct lx_seccomp *f;
	uint32_t def;

	*out = NULL;
	if (!sc)
		return 0;
	if (lx_seccomp_validate(sc, err) < 0)
		return -1;
	def = action_value(action_kind(sc->default_action), sc->has_default_errno_ret,
			   sc->default_errno_ret);
	f = calloc(1, sizeof(*f));
	if (!f)
		return ferry_error_errno(err, "seccomp: allocate the filter");
	f->ctx = seccomp_init(def);
	if (!f->ctx) {
		free(f);
		return ferry_error(err, 0, "seccomp: cannot create a filter with default action %s",
				   sc->default_action);
	}
	if (filter_setup(f->ctx, sc, err) < 0)
		goto fail;
	for (size_t i = 0; i < sc->n_rules; i++)
		if (rule_add(f->ctx, sc, i, def, err) < 0)
			goto fail;
	*out = f;
	return 0;
fail:
	lx_seccomp_free(f);
	return -1;
}

int lx_seccomp_load(struct lx_seccomp *f, ferry_err_t *err)
{
	int rc;

	if (!f)
		return 0;
	rc = seccomp_load(f->ctx);
	if (rc == -EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
		return ferry_error(err, 0,
				   "load the seccomp filter: without no_new_privs it needs "
				   "CAP_SYS_ADMIN, so it must be loaded before capabilities are "
				   "dropped");
	if (rc < 0)
		return ferry_error(err, -rc, "load the seccomp filter");
	return 0;
}

int lx_seccomp_export(struct lx_seccomp *f, void **bpf, size_t *len, ferry_err_t *err)
{
	_cleanup_close_ int fd = memfd_create("seccomp", MFD_CLOEXEC);
	struct stat st;
	int rc;

	*bpf = NULL;
	*len = 0;
	if (!f)
		return 0;
	if (fd < 0)
		return ferry_error_errno(err, "seccomp filter: memfd");
	rc = seccomp_export_bpf(f->ctx, fd);
	if (rc < 0)
		return ferry_error(err, -rc, "seccomp filter: export");
	if (fstat(fd, &st) < 0 || !(*bpf = malloc((size_t)st.st_size + 1)))
		return ferry_error(err, ENOMEM, "seccomp filter");
	if (pread(fd, *bpf, (size_t)st.st_size, 0) != st.st_size) {
		free(*bpf);
		*bpf = NULL;
		return ferry_error_errno(err, "seccomp filter: read back");
	}
	*len = (size_t)st.st_size;
	return 0;
}

void lx_seccomp_free(struct lx_seccomp *f)
{
	if (!f)
		return;
	seccomp_release(f->ctx);
	free(f);
}

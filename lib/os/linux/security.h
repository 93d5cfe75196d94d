/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process's privileges: user and groups, capabilities (libcap), rlimits, no_new_privs and
 * seccomp (libseccomp). The *_validate functions run in the runtime before anything is created
 * and name the config field that is wrong; the others run in the container's init (or an exec'd
 * process) just before execve.
 */
#ifndef LX_SECURITY_H
#define LX_SECURITY_H

#include <stdbool.h>

#include "ferry/error.h"
#include "ferry/spec.h"

/* Checks every capability name, rlimit type and seccomp name/action/op/arch/flag of the spec,
 * and that no capability is asked for that this host cannot grant (bounding set); also refuses
 * apparmorProfile/selinuxLabel (not available on this host). Errors name the field, e.g.
 * "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"". Returns 0 or -1. */
int lx_process_validate(const struct ferry_process *proc, ferry_err_t *err);
int lx_seccomp_validate(const struct ferry_seccomp *sc, ferry_err_t *err);

/* Checks rlimit names and soft <= hard; returns 0 or -1. */
int lx_rlimits_validate(const struct ferry_process *proc, ferry_err_t *err);

/* Applies process.rlimits with setrlimit; raising a hard limit above the current one without
 * CAP_SYS_RESOURCE is a clear error naming the limit. Returns 0 or -1. */
int lx_rlimits_apply(const struct ferry_process *proc, ferry_err_t *err);

/* Drops every capability not in the bounding list from the bounding set (needs CAP_SETPCAP, so
 * call before lx_user_apply). No-op when proc->has_caps is false. Returns 0 or -1. */
int lx_caps_bound(const struct ferry_process *proc, ferry_err_t *err);

/* setgroups(additionalGids) (skipped when setgroups is denied in a user namespace and the list is
 * empty), setresgid, setresuid, keeping capabilities across the uid change; umask. Returns 0 or -1. */
int lx_user_apply(const struct ferry_process *proc, ferry_err_t *err);

/* Sets the effective, permitted and inheritable sets, then raises the ambient ones (after
 * lx_user_apply). Without process.capabilities, clears all sets for a non-root user and keeps
 * them for root, as runc does. Returns 0 or -1. */
int lx_caps_apply(const struct ferry_process *proc, ferry_err_t *err);

/* An opaque compiled seccomp filter. */
struct lx_seccomp;

/* Compiles the filter (before any privilege drop); *out is NULL when sc is NULL. Returns 0 or -1. */
int lx_seccomp_prepare(const struct ferry_seccomp *sc, struct lx_seccomp **out, ferry_err_t *err);

/* Loads the filter into the calling thread (the last step before execve); accepts NULL.
 * Returns 0 or -1. */
int lx_seccomp_load(struct lx_seccomp *f, ferry_err_t *err);

/* Frees a prepared filter; accepts NULL. */
void lx_seccomp_free(struct lx_seccomp *f);

/* The compiled filter as a BPF program (struct sock_filter array, malloc'd; NULL for none);
 * returns 0 or -1. */
int lx_seccomp_export(struct lx_seccomp *f, void **bpf, size_t *len, ferry_err_t *err);

#endif

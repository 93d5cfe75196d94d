/* SPDX-License-Identifier: Apache-2.0 */
/* Device access on cgroup v2: an eBPF BPF_CGROUP_DEVICE program built from the device rules. */
#ifndef LX_CGROUP_DEVICES_BPF_H
#define LX_CGROUP_DEVICES_BPF_H

#include <linux/bpf.h>
#include <stddef.h>

#include "ferry/error.h"
#include "limits/limits.h"

/*
 * Builds the program for rules with cgroup v1 semantics: the last matching rule wins, and when no
 * rule matches the answer is deny if the list starts with "deny all" (a) and allow otherwise. An
 * allow rule matches a request whose access is within its own; a deny rule one that asks for any
 * of its access. *insns is malloc'd. Returns 0 or -1.
 */
int lx_devbpf_build(const struct lim_device_rule *rules, size_t n, struct bpf_insn **insns,
		    size_t *n_insns, ferry_err_t *err);

/* Loads the program for rules and attaches it to the cgroup directory dir (BPF_F_ALLOW_MULTI),
 * then detaches the device programs attached there before. Returns 0 or -1. */
int lx_devbpf_apply(const char *dir, const struct lim_device_rule *rules, size_t n,
		    ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: each runs with the container's state JSON on stdin, its args, env and timeout. */
#ifndef FERRY_HOOKS_H
#define FERRY_HOOKS_H

#include "ferry/spec.h"

/* Runs every hook of one kind in order, stopping at the first failure; returns 0 or -1 with an
 * error naming the hook ("hooks.prestart[0] /usr/bin/x: exited with status 1"). */
int hooks_run(const struct ferry_spec *spec, enum ferry_hook_kind kind, const char *state_json,
	      ferry_err_t *err);

/* Returns the OCI name of a hook kind ("prestart", "createRuntime", ...). */
const char *hooks_kind_name(enum ferry_hook_kind kind);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FERRY_CONTAINER_LIMITS_H
#define FERRY_CONTAINER_LIMITS_H

#include "ferry/spec.h"

/* Checks linux.resources JSON (NULL: nothing to check) before anything is made; returns 0 or -1. */
int container_limits_check(const char *json, ferry_err_t *err);

/* Applies the spec's linux.resources to a new container's cgroup; returns 0 or -1. */
int container_limits_apply(const char *cgroup, const struct ferry_spec *spec, ferry_err_t *err);

#endif

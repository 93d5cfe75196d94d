/* SPDX-License-Identifier: Apache-2.0 */
/* What a container's namespaces hold beyond its processes, for its checkpoint and restore. */
#ifndef LX_CONTAINER_NS_H
#define LX_CONTAINER_NS_H

#include <sys/types.h>

#include "cr/model.h"
#include "ferry/error.h"
#include "ferry/spec.h"

/* os_ops.ct_collect; returns 0 or -1. */
int lx_ct_collect(pid_t init, const struct ferry_spec *spec, struct cr_container *c,
		  ferry_err_t *err);

/* os_ops.ct_prepare; returns 0 or -1. */
int lx_ct_prepare(pid_t init, const struct ferry_spec *spec, struct cr_image *img,
		  ferry_err_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
#ifndef LX_LOOPBACK_H
#define LX_LOOPBACK_H

#include "ferry/error.h"

/* Brings lo up in the calling thread's network namespace; returns 0 or -1. */
int lx_loopback_up(ferry_err_t *err);

#endif

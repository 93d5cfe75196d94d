/* SPDX-License-Identifier: Apache-2.0 */
#ifndef FERRY_TIMEFMT_H
#define FERRY_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>

/* Writes the current UTC time as RFC 3339 ("2026-11-23T02:51:44Z", or with nanoseconds) into
 * buf; returns buf. */
char *ferry_time_rfc3339(char *buf, size_t size, bool nanos);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* Checkpoint images, as the command line looks at them. */
#ifndef FERRY_PUBLIC_IMAGE_H
#define FERRY_PUBLIC_IMAGE_H

#include <stdint.h>

#include "ferry/error.h"

struct ferry_image_summary {
	uint64_t processes;
	uint64_t threads;
	uint64_t pages;
};

/* Reads and validates the whole image in dir; returns it as JSON (new string) or NULL. */
char *ferry_image_show(const char *dir, ferry_err_t *err);

/* Reads and validates the whole image in dir; fills *sum. Returns 0 or -1. */
int ferry_image_check(const char *dir, struct ferry_image_summary *sum, ferry_err_t *err);

#endif

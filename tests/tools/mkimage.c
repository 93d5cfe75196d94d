// SPDX-License-Identifier: Apache-2.0
/* mkimage DIR: writes the sample checkpoint image of tests/unit/image_sample.h into DIR. */
#include <stdio.h>

#include "tests/unit/image_sample.h"

int main(int argc, char **argv)
{
	ferry_err_t err = NULL;
	struct cr_image img;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: mkimage DIR\n");
		return 2;
	}
	r = sample_write(argv[1], &img, &err);
	cr_image_free(&img);
	if (r < 0) {
		fprintf(stderr, "mkimage: %s\n", err->msg);
		ferry_error_free(&err);
		return 1;
	}
	return 0;
}

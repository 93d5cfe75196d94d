// SPDX-License-Identifier: Apache-2.0
/* The public face of the image layer (include/ferry/image.h). */
#include "ferry/image.h"
#include "image/image.h"

char *ferry_image_show(const char *dir, ferry_err_t *err)
{
	struct cr_image img;
	char *json;

	if (image_read(dir, 0, &img, err) < 0)
		return NULL;
	json = image_to_json(&img, err);
	cr_image_free(&img);
	return json;
}

int ferry_image_check(const char *dir, struct ferry_image_summary *sum, ferry_err_t *err)
{
	struct image_summary s;
	struct cr_image img;

	if (image_read(dir, 0, &img, err) < 0)
		return -1;
	image_summarize(&img, &s);
	cr_image_free(&img);
	sum->processes = s.processes;
	sum->threads = s.threads;
	sum->pages = s.pages;
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "os/linux/rootfs_mountinfo.h"

/* Decodes the octal escapes (\040 for a space) of a mountinfo field, in place. */
static char *unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Splits one line into *mi (pointing into line); returns 0, or -1 when malformed. */
static int parse_line(char *line, struct lx_mountinfo *mi)
{
	char *f[6], *sep, *save = NULL;
	size_t n = 0;

	line[strcspn(line, "\n")] = '\0';
	sep = strstr(line, " - ");
	if (!sep)
		return -1;
	*sep = '\0';
	for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 6)
		return -1;
	mi->root = unescape(f[3]);
	mi->mountpoint = unescape(f[4]);
	mi->optional = save ? save : "";
	mi->fstype = strtok_r(sep + 3, " ", &save);
	mi->source = strtok_r(NULL, " ", &save);
	mi->superopts = strtok_r(NULL, " ", &save);
	if (!mi->fstype || !mi->source)
		return -1;
	if (!mi->superopts)
		mi->superopts = "";
	unescape(mi->source);
	return 0;
}

int lx_mountinfo_foreach(int (*fn)(const struct lx_mountinfo *mi, void *arg, ferry_err_t *err),
			 void *arg, ferry_err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;

	if (!f)
		return ferry_error_errno(err, "open /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		struct lx_mountinfo mi;
		int r;

		if (parse_line(line, &mi) < 0)
			continue;
		r = fn(&mi, arg, err);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

bool lx_list_has(const char *list, const char *word, size_t len)
{
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, word, len) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

// SPDX-License-Identifier: Apache-2.0
/* cgroup v2 specifics: subtree controllers, cgroup.freeze / cgroup.events and cgroup.kill. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup_internal.h"

#define FREEZE_TIMEOUT_MS 5000

void lx_cgv2_enable_controllers(const char *dir)
{
	_cleanup_free_ char *avail = lx_cg_read(dir, "cgroup.controllers", NULL);
	char *save = NULL, *tok;

	if (!avail)
		return;
	for (tok = strtok_r(avail, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		char buf[128];

		snprintf(buf, sizeof(buf), "+%s", tok);
		lx_cg_write(dir, "cgroup.subtree_control", buf, NULL);
	}
}

/* Reads the "frozen" key of cgroup.events; a missing cgroup reads as 0. Returns 0/1 or -1. */
static int read_frozen(const char *dir, ferry_err_t *err)
{
	bool missing = false;
	_cleanup_free_ char *ev = lx_cg_read_opt(dir, "cgroup.events", &missing, err);
	char *line;

	if (!ev)
		return missing ? 0 : -1;
	for (line = ev; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "frozen ", 7) == 0)
			return line[7] == '1';
	}
	return ferry_error(err, ENOTSUP, "%s/cgroup.events has no frozen key", dir);
}

int lx_cgv2_freeze(const char *dir, bool frozen, ferry_err_t *err)
{
	long long deadline = lx_cg_now_ms() + FREEZE_TIMEOUT_MS;
	useconds_t delay = 100;
	int state;

	if (lx_cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	for (;;) {
		state = read_frozen(dir, err);
		if (state < 0)
			return -1;
		if (state == frozen)
			return 0;
		if (lx_cg_now_ms() > deadline)
			break;
		usleep(delay);
		if (delay < 10000)
			delay *= 2;
	}
	if (frozen)
		lx_cg_write(dir, "cgroup.freeze", "0", NULL);
	return ferry_error(err, ETIMEDOUT, "%s/cgroup.events still reads frozen %d", dir, state);
}

int lx_cgv2_frozen(const char *dir, bool *frozen, ferry_err_t *err)
{
	int state = read_frozen(dir, err);

	if (state < 0)
		return -1;
	*frozen = state;
	return 0;
}

int lx_cgv2_kill(const char *dir, ferry_err_t *err)
{
	_cleanup_free_ char *file = NULL;

	if (asprintf(&file, "%s/cgroup.kill", dir) < 0)
		return ferry_error(err, ENOMEM, "cgroup.kill");
	if (access(file, W_OK) < 0)
		return 0;
	if (lx_cg_write(dir, "cgroup.kill", "1", err) < 0)
		return -1;
	return 1;
}

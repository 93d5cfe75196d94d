// SPDX-License-Identifier: Apache-2.0
/* cgroup v1 specifics: cpuset inheritance and the freezer controller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup_internal.h"

#define FREEZE_TIMEOUT_MS 5000

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static int copy_from_parent(const char *dir, const char *parent, const char *file, ferry_err_t *err)
{
	_cleanup_free_ char *cur = lx_cg_read(dir, file, err);
	_cleanup_free_ char *val = NULL;

	if (!cur)
		return -1;
	trim(cur);
	if (*cur)
		return 0;
	val = lx_cg_read(parent, file, err);
	if (!val)
		return -1;
	trim(val);
	if (!*val)
		return 0;
	return lx_cg_write(dir, file, val, err);
}

int lx_cgv1_copy_cpuset(const char *dir, bool noprefix, ferry_err_t *err)
{
	_cleanup_free_ char *parent = strdup(dir);
	char *slash;

	if (!parent)
		return ferry_error(err, ENOMEM, "cpuset %s", dir);
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return 0;
	*slash = '\0';
	if (copy_from_parent(dir, parent, noprefix ? "cpus" : "cpuset.cpus", err) < 0)
		return -1;
	return copy_from_parent(dir, parent, noprefix ? "mems" : "cpuset.mems", err);
}

/* Reads freezer.state into buf ("FROZEN", "FREEZING", "THAWED"); a missing cgroup is "". */
static int read_state(const char *dir, char *buf, size_t len, ferry_err_t *err)
{
	bool missing = false;
	_cleanup_free_ char *s = lx_cg_read_opt(dir, "freezer.state", &missing, err);

	if (!s && !missing)
		return -1;
	snprintf(buf, len, "%s", s ? s : "");
	trim(buf);
	return 0;
}

int lx_cgv1_freeze(const char *dir, bool frozen, ferry_err_t *err)
{
	const char *want = frozen ? "FROZEN" : "THAWED";
	long long deadline = lx_cg_now_ms() + FREEZE_TIMEOUT_MS;
	useconds_t delay = 100;
	char state[32];

	for (;;) {
		if (lx_cg_write(dir, "freezer.state", want, err) < 0)
			return -1;
		if (read_state(dir, state, sizeof(state), err) < 0)
			return -1;
		if (strcmp(state, want) == 0)
			return 0;
		if (lx_cg_now_ms() > deadline)
			break;
		usleep(delay);
		if (delay < 10000)
			delay *= 2;
	}
	if (frozen)
		lx_cg_write(dir, "freezer.state", "THAWED", NULL);
	return ferry_error(err, ETIMEDOUT, "%s/freezer.state still reads %s, not %s", dir, state,
			   want);
}

int lx_cgv1_frozen(const char *dir, bool *frozen, ferry_err_t *err)
{
	char state[32];

	if (read_state(dir, state, sizeof(state), err) < 0)
		return -1;
	*frozen = strcmp(state, "FROZEN") == 0;
	return 0;
}

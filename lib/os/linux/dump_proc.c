// SPDX-License-Identifier: Apache-2.0
/* The facts of a process that /proc tells from outside: mm fields, auxv, exe, rlimits, umask,
 * credentials, cwd, root, personality, names. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"

/* Reads a whole /proc file into a new NUL-terminated buffer (*len bytes); returns it or NULL. */
static char *read_proc(const char *path, size_t *len, ferry_err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 4096;
	ssize_t r;

	if (fd < 0) {
		ferry_error_errno(err, "%s", path);
		return NULL;
	}
	buf = malloc(cap);
	if (!buf) {
		ferry_error(err, ENOMEM, "%s", path);
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n - 1)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ferry_error_errno(err, "%s", path);
			return NULL;
		}
		n += (size_t)r;
		if (cap - n < 2) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				ferry_error(err, ENOMEM, "%s", path);
				return NULL;
			}
			buf = b, cap *= 2;
		}
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return steal_ptr(buf);
}

char *lx_dump_comm(pid_t pid, pid_t tid)
{
	char path[64];
	char *s;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	s = read_proc(path, NULL, NULL);
	if (s)
		s[strcspn(s, "\n")] = 0;
	return s;
}

/* Fields 26-52 of /proc/PID/stat, after the ")" of comm. */
static int read_stat_mm(struct cr_process *p, ferry_err_t *err)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	unsigned long long f[53] = {0};
	char *c, *end;

	snprintf(path, sizeof(path), "/proc/%d/stat", p->pid);
	s = read_proc(path, NULL, err);
	if (!s)
		return -1;
	c = strrchr(s, ')');
	if (!c)
		return ferry_error(err, EINVAL, "%s: no comm", path);
	c += 2; /* field 3, the state */
	for (int i = 3; i <= 52 && *c; i++) {
		if (i == 3) {
			c++;
			continue;
		}
		f[i] = strtoull(c, &end, 10);
		if (end == c)
			return ferry_error(err, EINVAL, "%s: field %d unreadable", path, i);
		c = end;
		if (i == 52)
			break;
	}
	p->mm.start_code = f[26], p->mm.end_code = f[27], p->mm.start_stack = f[28];
	p->mm.start_data = f[45], p->mm.end_data = f[46], p->mm.start_brk = f[47];
	p->mm.arg_start = f[48], p->mm.arg_end = f[49];
	p->mm.env_start = f[50], p->mm.env_end = f[51];
	return 0;
}

static int read_auxv_exe(struct cr_process *p, ferry_err_t *err)
{
	char path[64], exe[PATH_MAX];
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, words;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/auxv", p->pid);
	buf = read_proc(path, &len, err);
	if (!buf)
		return -1;
	words = len / 8;
	words -= words % 2;
	p->mm.auxv = calloc(words ? words : 1, sizeof(uint64_t));
	if (!p->mm.auxv)
		return ferry_error(err, ENOMEM, "%s", path);
	memcpy(p->mm.auxv, buf, words * 8);
	p->mm.n_auxv = words;
	snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : ferry_error_errno(err, "%s", path);
	exe[n] = 0;
	p->mm.exe = strdup(exe);
	return p->mm.exe ? 0 : ferry_error(err, ENOMEM, "%s", path);
}

/* /proc/PID/limits: a header, then one line per RLIMIT_* in Linux order: a 25-column name, the
 * soft and hard values ("unlimited" or a number), the unit. */
static int read_limits(struct cr_process *p, ferry_err_t *err)
{
	char path[64], soft[32], hard[32];
	_cleanup_free_ char *s = NULL;
	char *line, *save = NULL;
	int i = -1;

	snprintf(path, sizeof(path), "/proc/%d/limits", p->pid);
	s = read_proc(path, NULL, err);
	if (!s)
		return -1;
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		if (i < 0)
			continue; /* the header */
		if (i >= CR_RLIMIT_COUNT)
			break;
		if (strlen(line) < 26 || sscanf(line + 25, "%31s %31s", soft, hard) != 2)
			return ferry_error(err, EINVAL, "%s: line %d unreadable", path, i + 2);
		p->rlimits[i].cur =
		    !strcmp(soft, "unlimited") ? CR_RLIM_INFINITY : strtoull(soft, NULL, 10);
		p->rlimits[i].max =
		    !strcmp(hard, "unlimited") ? CR_RLIM_INFINITY : strtoull(hard, NULL, 10);
	}
	if (i < CR_RLIMIT_COUNT)
		return ferry_error(err, EINVAL, "%s: %d limits, expected %d", path, i,
				   CR_RLIMIT_COUNT);
	return 0;
}

static int parse_groups(struct cr_creds *c, const char *v, ferry_err_t *err)
{
	size_t n = 0;
	char *end;

	for (const char *q = v; *q; q++)
		n += *q >= '0' && *q <= '9' && (q == v || q[-1] == ' ' || q[-1] == '\t');
	c->groups = calloc(n ? n : 1, sizeof(uint32_t));
	if (!c->groups)
		return ferry_error(err, ENOMEM, "groups");
	for (c->n_groups = 0; c->n_groups < n; c->n_groups++) {
		c->groups[c->n_groups] = (uint32_t)strtoul(v, &end, 10);
		if (end == v)
			break;
		v = end;
	}
	return 0;
}

/* One line "Key:\tvalue" of /proc/PID/status. */
static int status_line(struct cr_process *p, const char *key, const char *v, ferry_err_t *err)
{
	struct cr_creds *c = &p->creds;

	if (!strcmp(key, "Umask"))
		p->umask = (uint32_t)strtoul(v, NULL, 8) & 0777;
	else if (!strcmp(key, "Uid"))
		sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &c->uid, &c->euid,
		       &c->suid, &c->fsuid);
	else if (!strcmp(key, "Gid"))
		sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &c->gid, &c->egid,
		       &c->sgid, &c->fsgid);
	else if (!strcmp(key, "Groups"))
		return parse_groups(c, v, err);
	else if (!strcmp(key, "CapInh"))
		c->cap_inh = strtoull(v, NULL, 16);
	else if (!strcmp(key, "CapPrm"))
		c->cap_prm = strtoull(v, NULL, 16);
	else if (!strcmp(key, "CapEff"))
		c->cap_eff = strtoull(v, NULL, 16);
	else if (!strcmp(key, "CapBnd"))
		c->cap_bnd = strtoull(v, NULL, 16);
	else if (!strcmp(key, "CapAmb"))
		c->cap_amb = strtoull(v, NULL, 16);
	else if (!strcmp(key, "NoNewPrivs"))
		c->no_new_privs = strtoul(v, NULL, 10) != 0;
	else if (!strcmp(key, "THP_enabled"))
		p->thp_disable = strtoul(v, NULL, 10) == 0;
	return 0;
}

static int read_status(struct cr_process *p, ferry_err_t *err)
{
	char path[64];
	_cleanup_free_ char *s = NULL;
	char *line, *save = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
	s = read_proc(path, NULL, err);
	if (!s)
		return -1;
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon++ = 0;
		colon += strspn(colon, " \t");
		if (status_line(p, line, colon, err) < 0)
			return ferry_error_wrap(err, "%s", path);
	}
	return 0;
}

static int read_link(pid_t pid, const char *name, char **out, ferry_err_t *err)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return ferry_error_errno(err, "%s", path);
	buf[n] = 0;
	if (buf[0] != '/' || strstr(buf, " (deleted)"))
		return ferry_error(err, ENOTSUP, "%s: \"%s\": not supported yet", path, buf);
	*out = strdup(buf);
	return *out ? 0 : ferry_error(err, ENOMEM, "%s", path);
}

int lx_dump_proc_facts(struct cr_process *p, ferry_err_t *err)
{
	char path[64];
	_cleanup_free_ char *pers = NULL, *oom = NULL;

	p->comm = lx_dump_comm(p->pid, 0);
	if (read_stat_mm(p, err) < 0 || read_auxv_exe(p, err) < 0 || read_limits(p, err) < 0 ||
	    read_status(p, err) < 0 || read_link(p->pid, "cwd", &p->cwd, err) < 0 ||
	    read_link(p->pid, "root", &p->root, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/personality", p->pid);
	pers = read_proc(path, NULL, err);
	if (!pers)
		return -1;
	p->personality = (uint32_t)strtoul(pers, NULL, 16);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", p->pid);
	oom = read_proc(path, NULL, err);
	if (!oom)
		return -1;
	p->oom_score_adj = (int32_t)strtol(oom, NULL, 10);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Restore: what a process may do. Credentials are per thread: groups, gids, uids, then the
 * capability sets the image holds (the copy of ferry has all of them), kept across the uid
 * change with keep-caps as a runtime does it; the bounding set is dropped per process before its
 * threads are made; the process's seccomp filters (the image's chain, or for an image without
 * one a container's config filter, which every process of it had) are installed on all threads
 * at once while they can still do it. The restore's tracees are
 * seized with their filters suspended, so the remote calls that follow are not filtered. */
#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/linux/remote_fast.h"
#include "os/linux/restore.h"

#ifndef SECBIT_KEEP_CAPS
#define SECBIT_KEEP_CAPS (1 << 4)
#endif

static int64_t call(struct lx_rst_proc *rp, pid_t tid, long nr, uint64_t a0, uint64_t a1,
		    uint64_t a2, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2};

	return lx_rfast_call(tid, rp->r.syscall_ip, nr, a, err);
}

/* Queues syscall nr in thread tid; what ("thread TID: " is put before it) names the step in an
 * error. Returns 0 or -1. */
static int queue(pid_t tid, const char *what, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		 ferry_err_t *err)
{
	const uint64_t a[6] = {a0, a1, a2};
	char step[96];

	snprintf(step, sizeof(step), "thread %d: %s", tid, what);
	return lx_rbatch_call(tid, step, nr, a, 0, NULL, 0, err) < 0 ? -1 : 0;
}

/* ferry's own capability sets (the copy's): effective, permitted, inheritable. */
static void own_caps(uint64_t *eff, uint64_t *prm, uint64_t *inh)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};

	syscall(SYS_capget, &h, d);
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
}

/* A status field of tid in hex (CapBnd, ...); 0 when unreadable. */
static uint64_t status_hex(pid_t tid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			sscanf(line + klen + 1, "%lx", &v);
	if (f)
		fclose(f);
	return v;
}

int lx_rst_bounding(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	uint64_t have = status_hex(rp->r.tid, "CapBnd"), drop = have & ~rp->p->creds.cap_bnd;
	char what[64];

	(void)rs;
	for (int cap = 0; cap < 64; cap++) {
		if (!((drop >> cap) & 1))
			continue;
		snprintf(what, sizeof(what), "drop capability %d from the bounding set", cap);
		if (queue(rp->r.tid, what, SYS_prctl, PR_CAPBSET_DROP, (uint64_t)cap, 0, err) < 0)
			return -1;
	}
	return lx_rbatch_flush(rp->r.tid, err);
}

/* Securebits first, while CAP_SETPCAP is held; keep-caps too when the uid changes with
 * capabilities wanted after it. */
static int securebits(struct lx_rst_proc *rp, pid_t tid, bool keep, ferry_err_t *err)
{
	uint32_t want = rp->p->creds.securebits | (keep ? SECBIT_KEEP_CAPS : 0);
	char what[32];

	if (want == (uint32_t)prctl(PR_GET_SECUREBITS))
		return 0;
	snprintf(what, sizeof(what), "securebits 0x%x", want);
	return queue(tid, what, SYS_prctl, PR_SET_SECUREBITS, want, 0, err);
}

static int capsets(struct lx_rst_proc *rp, pid_t tid, ferry_err_t *err)
{
	const struct cr_creds *c = &rp->p->creds;
	struct {
		struct __user_cap_header_struct h;
		struct __user_cap_data_struct d[2];
	} v = {{_LINUX_CAPABILITY_VERSION_3, 0},
	       {{(uint32_t)c->cap_eff, (uint32_t)c->cap_prm, (uint32_t)c->cap_inh},
		{(uint32_t)(c->cap_eff >> 32), (uint32_t)(c->cap_prm >> 32),
		 (uint32_t)(c->cap_inh >> 32)}}};
	uint64_t at;
	char what[48];

	if (lx_rbatch_room(tid, 1, sizeof(v), err) < 0 ||
	    !(at = lx_rbatch_data(tid, &v, sizeof(v), err)) ||
	    queue(tid, "capabilities", SYS_capset, at, at + sizeof(v.h), 0, err) < 0)
		return -1;
	for (int cap = 0; cap < 64; cap++) {
		if (!((c->cap_amb >> cap) & 1))
			continue;
		snprintf(what, sizeof(what), "ambient capability %d", cap);
		if (queue(tid, what, SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (uint64_t)cap,
			  err) < 0)
			return -1;
	}
	return 0;
}

int lx_rst_creds(struct lx_rst *rs, struct lx_rst_proc *rp, pid_t tid, ferry_err_t *err)
{
	const struct cr_creds *c = &rp->p->creds;
	uint64_t eff, prm, inh;
	gid_t groups[256];
	int n = getgroups(256, groups);
	uid_t r, e, s;
	gid_t gr, ge, gs;
	bool uid_change, caps_change;
	uint64_t at;

	own_caps(&eff, &prm, &inh);
	getresuid(&r, &e, &s);
	uid_change = r != c->uid || e != c->euid || s != c->suid;
	caps_change = eff != c->cap_eff || prm != c->cap_prm || inh != c->cap_inh || c->cap_amb;
	if (securebits(rp, tid, uid_change && c->cap_prm, err) < 0)
		return -1;
	if (c->no_new_privs &&
	    queue(tid, "no_new_privs", SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, err) < 0)
		return -1;
	if (n < 0 || (size_t)n != c->n_groups ||
	    memcmp(groups, c->groups, (size_t)n * sizeof(gid_t))) {
		at = 0;
		if (lx_rbatch_room(tid, 1, c->n_groups * 4, err) < 0 ||
		    (c->n_groups && !(at = lx_rbatch_data(tid, c->groups, c->n_groups * 4, err))) ||
		    queue(tid, "groups", SYS_setgroups, c->n_groups, at, 0, err) < 0)
			return -1;
	}
	getresgid(&gr, &ge, &gs);
	if ((gr != c->gid || ge != c->egid || gs != c->sgid) &&
	    queue(tid, "gids", SYS_setresgid, c->gid, c->egid, c->sgid, err) < 0)
		return -1;
	if (uid_change && queue(tid, "uids", SYS_setresuid, c->uid, c->euid, c->suid, err) < 0)
		return -1;
	if ((uid_change || caps_change) && capsets(rp, tid, err) < 0)
		return -1;
	if (uid_change && c->cap_prm && !(c->securebits & SECBIT_KEEP_CAPS) &&
	    queue(tid, "keep-caps off", SYS_prctl, PR_SET_KEEPCAPS, 0, 0, err) < 0)
		return -1;
	return 0;
}

/* Installs the filter bpf (len bytes) with flags on every thread of rp (TSYNC); returns 0 or -1. */
static int install_filter(struct lx_rst *rs, struct lx_rst_proc *rp, const void *bpf, size_t len,
			  uint32_t flags, ferry_err_t *err)
{
	struct sock_fprog prog;
	uint64_t at, at_prog;
	int64_t r;

	if (len % sizeof(struct sock_filter) || !len ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return ferry_error(err, EINVAL, "seccomp filter of %zu bytes", len);
	at = lx_rst_put(rs, rp, 64, bpf, len, err);
	if (!at)
		return -1;
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	prog.filter = (struct sock_filter *)(uintptr_t)at;
	at_prog = lx_rst_put(rs, rp, 0, &prog, sizeof(prog), err);
	if (!at_prog)
		return -1;
	r = call(rp, rp->r.tid, SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		 SECCOMP_FILTER_FLAG_TSYNC | flags, at_prog, err);
	if (r < 0)
		return -1;
	if (r > 0)
		return ferry_error(err, EBUSY, "thread %lld could not take it", (long long)r);
	return 0;
}

int lx_rst_seccomp(struct lx_rst *rs, struct lx_rst_proc *rp, ferry_err_t *err)
{
	const struct cr_process *p = rp->p;

	/* The image's chain where it has one (a container's config filter is its first) */
	for (size_t i = 0; i < p->n_seccomp; i++)
		if (install_filter(rs, rp, p->seccomp[i].bpf, p->seccomp[i].len,
				   p->seccomp[i].flags, err) < 0)
			return ferry_error_wrap(err, "seccomp filter %zu", i + 1);
	if (!p->n_seccomp && rs->seccomp_len &&
	    install_filter(rs, rp, rs->seccomp, rs->seccomp_len, 0, err) < 0)
		return ferry_error_wrap(err, "seccomp filter");
	return 0;
}

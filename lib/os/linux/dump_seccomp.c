// SPDX-License-Identifier: Apache-2.0
/* A process's seccomp filters, read from its stopped threads with PTRACE_SECCOMP_GET_FILTER
 * (CAP_SYS_ADMIN): filter 0 is the one installed last, so the chain is stored the other way
 * round, oldest first, as a restore installs it again. Every thread must have the same chain
 * (installed with TSYNC, or inherited before the threads were made): threads with chains of their
 * own, and the strict mode, are refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "core/cleanup.h"
#include "os/linux/dump.h"
#include "os/linux/proc.h"

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef PTRACE_SECCOMP_GET_METADATA
#define PTRACE_SECCOMP_GET_METADATA 0x420d
#endif

#define MAX_FILTERS 512 /* a chain of more would pass the kernel's instruction limit anyway */

struct metadata {
	uint64_t filter_off, flags;
};

static void free_chain(struct cr_seccomp_filter *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].bpf);
	free(v);
}

/* Filter i of thread tid (0: the last installed) into *f; returns 0, 1 when there is none, or
 * -1. */
static int read_filter(pid_t tid, unsigned long i, struct cr_seccomp_filter *f, ferry_err_t *err)
{
	struct metadata md = {.filter_off = i};
	long n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, NULL);

	if (n < 0 && errno == ENOENT)
		return 1;
	if (n <= 0)
		return ferry_error(err, n < 0 ? errno : EIO, "seccomp filter %lu", i);
	f->len = (size_t)n * 8;
	f->bpf = malloc(f->len);
	if (!f->bpf)
		return ferry_error(err, ENOMEM, "seccomp filter %lu", i);
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)i, f->bpf) != n)
		return ferry_error_errno(err, "seccomp filter %lu", i);
	if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(md), &md) < 0)
		return ferry_error_errno(err, "seccomp filter %lu: flags", i);
	f->flags = (uint32_t)md.flags & CR_SECCOMP_FLAGS;
	return 0;
}

/* Thread tid's chain, oldest first, into *v, *n; returns 0 or -1. */
static int read_chain(pid_t tid, struct cr_seccomp_filter **v, size_t *n, ferry_err_t *err)
{
	struct cr_seccomp_filter *c = calloc(MAX_FILTERS, sizeof(*c));
	size_t k = 0;
	int r = 0;

	if (!c)
		return ferry_error(err, ENOMEM, "seccomp filters");
	while (k < MAX_FILTERS && (r = read_filter(tid, k, &c[k], err)) == 0)
		k++;
	if (r < 0 || k == MAX_FILTERS) {
		free_chain(c, k + (r < 0));
		return r < 0 ? -1
			     : ferry_error(err, E2BIG, "more than %d seccomp filters", MAX_FILTERS);
	}
	for (size_t i = 0; i < k / 2; i++) {
		struct cr_seccomp_filter t = c[i];

		c[i] = c[k - 1 - i], c[k - 1 - i] = t;
	}
	*v = c, *n = k;
	return 0;
}

static bool same_chain(const struct cr_seccomp_filter *a, size_t na,
		       const struct cr_seccomp_filter *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (a[i].len != b[i].len || a[i].flags != b[i].flags ||
		    memcmp(a[i].bpf, b[i].bpf, a[i].len))
			return false;
	return true;
}

int lx_dump_seccomp(const struct lx_proc *lx, struct cr_process *p, ferry_err_t *err)
{
	for (size_t i = 0; i < lx->ntids; i++) {
		pid_t tid = lx->tids[i];
		int mode = lx_proc_seccomp_mode(lx->pid, tid);
		struct cr_seccomp_filter *v = NULL;
		size_t n = 0;

		if (mode == 1)
			return ferry_error(
			    err, ENOTSUP, "thread %d: seccomp strict mode: not supported yet", tid);
		if (mode == 2 && read_chain(tid, &v, &n, err) < 0)
			return ferry_error_wrap(err, "thread %d", tid);
		if (i == 0) {
			p->seccomp = v, p->n_seccomp = n;
			continue;
		}
		if (!same_chain(p->seccomp, p->n_seccomp, v, n)) {
			free_chain(v, n);
			return ferry_error(err, ENOTSUP,
					   "thread %d: seccomp filters other than its process's: "
					   "not supported yet",
					   tid);
		}
		free_chain(v, n);
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Batches of remote syscalls: a queue per thread, run by a runner in the thread's process (see
 * remote_batch.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "os/linux/remote.h"
#include "os/linux/remote_batch.h"
#include "os/linux/remote_fast.h"

/* The area: the runner at 0, the queue from QUEUE_AT, the data from DATA_AT. */
#define QUEUE_AT 128u
#define MAX_CALLS 384u
#define DATA_AT (QUEUE_AT + MAX_CALLS * 64u)
#define DATA_SIZE (LX_RBATCH_SIZE - DATA_AT)
#define COPY_NR ((uint64_t)-1) /* a queue entry that copies a result instead of a syscall */

_Static_assert(DATA_AT < LX_RBATCH_SIZE, "batch area too small");

/*
 * rbx: the first entry, r12: their number. An entry is 8 words: nr, six arguments, result. The
 * runner makes each syscall and stores its result; a result from -4095 to -1 (an error) stops it.
 * An entry with nr -1 copies the word at its first argument to the address in its second. Then
 * int3: rbx points at the failed entry, r12 counts the entries not done.
 *
 *  0: test %r12,%r12       3: je 4d                 5: mov (%rbx),%rax
 *  8: cmp $-1,%rax          c: je 3d                 e: mov 0x8(%rbx),%rdi
 * 12: mov 0x10(%rbx),%rsi  16: mov 0x18(%rbx),%rdx  1a: mov 0x20(%rbx),%r10
 * 1e: mov 0x28(%rbx),%r8   22: mov 0x30(%rbx),%r9   26: syscall
 * 28: mov %rax,0x38(%rbx)  2c: cmp $-4095,%rax      32: jae 4d
 * 34: add $0x40,%rbx       38: dec %r12             3b: jmp 0
 * 3d: mov 0x8(%rbx),%rcx   41: mov (%rcx),%rcx      44: mov 0x10(%rbx),%rdx
 * 48: mov %rcx,(%rdx)      4b: jmp 34               4d: int3
 */
static const uint8_t runner[] = {
    0x4d, 0x85, 0xe4, 0x74, 0x48, 0x48, 0x8b, 0x03, 0x48, 0x83, 0xf8, 0xff, 0x74, 0x2f, 0x48, 0x8b,
    0x7b, 0x08, 0x48, 0x8b, 0x73, 0x10, 0x48, 0x8b, 0x53, 0x18, 0x4c, 0x8b, 0x53, 0x20, 0x4c, 0x8b,
    0x43, 0x28, 0x4c, 0x8b, 0x4b, 0x30, 0x0f, 0x05, 0x48, 0x89, 0x43, 0x38, 0x48, 0x3d, 0x01, 0xf0,
    0xff, 0xff, 0x73, 0x19, 0x48, 0x83, 0xc3, 0x40, 0x49, 0xff, 0xcc, 0xeb, 0xc3, 0x48, 0x8b, 0x4b,
    0x08, 0x48, 0x8b, 0x09, 0x48, 0x8b, 0x53, 0x10, 0x48, 0x89, 0x0a, 0xeb, 0xe7, 0xcc,
};

_Static_assert(sizeof(runner) <= QUEUE_AT, "runner too long");

struct entry {
	uint64_t w[8]; /* as the runner reads it */
};

struct batch {
	pid_t tid;
	uint64_t at; /* the area in the thread's process */
	/* The queue and its data grow as calls come (a thread's few calls touch little memory of
	 * ferry's: a new page costs a fault, slow on a VM). */
	struct entry *q; /* the calls not run yet */
	char **what;
	size_t cap;
	size_t n;
	size_t first; /* index of q[0] among every call queued since the reset */
	size_t room;  /* calls of the current group not yet queued (lx_rbatch_room) */
	uint8_t *data;
	size_t dcap;
	size_t used;
	int64_t *ret; /* results of the calls run, by index */
	size_t n_ret;
	int patch_arg; /* >= 0: the next call's argument patch_arg is patch_val */
	uint64_t patch_val;
	struct lx_rfast_kids *kids; /* where the tasks the calls make go, or NULL */
};

/* The address in the thread's process of word w (0: nr, 1-6: the arguments, 7: the result) of
 * queue entry i (q[i] once written there). */
static uint64_t slot(const struct batch *b, size_t i, size_t w)
{
	return b->at + QUEUE_AT + i * sizeof(struct entry) + 8 * w;
}

static _Thread_local struct batch **batches;
static _Thread_local size_t n_batches;
static _Thread_local uint64_t calls_run, batches_run;

static void drop_queue(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->what[i]);
	b->first += b->n;
	b->n = 0;
	b->used = 0;
	b->room = 0;
	b->patch_arg = -1;
}

void lx_rbatch_reset(void)
{
	for (size_t i = 0; i < n_batches; i++) {
		drop_queue(batches[i]);
		free(batches[i]->ret);
		free(batches[i]->q);
		free(batches[i]->what);
		free(batches[i]->data);
		free(batches[i]);
	}
	free(batches);
	batches = NULL;
	n_batches = 0;
	calls_run = batches_run = 0;
}

void lx_rbatch_counts(uint64_t *calls, uint64_t *nbatches)
{
	*calls = calls_run;
	*nbatches = batches_run;
}

static struct batch *find(pid_t tid)
{
	for (size_t i = 0; i < n_batches; i++)
		if (batches[i]->tid == tid)
			return batches[i];
	return NULL;
}

static struct batch *get(pid_t tid, ferry_err_t *err)
{
	struct batch *b = find(tid);

	if (!b)
		ferry_error(err, EINVAL, "thread %d has no batch area", tid);
	return b;
}

int lx_rbatch_open(pid_t tid, uint64_t at, bool write_runner, ferry_err_t *err)
{
	struct batch **v, *b = find(tid);

	if (write_runner && lx_remote_write(tid, at, runner, sizeof(runner), err) < 0)
		return ferry_error_wrap(err, "batch runner");
	if (b) {
		drop_queue(b);
		b->at = at;
		b->kids = NULL;
		return 0;
	}
	b = calloc(1, sizeof(*b));
	v = b ? realloc(batches, (n_batches + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(b);
		return ferry_error(err, ENOMEM, "batch of thread %d", tid);
	}
	batches = v;
	b->tid = tid;
	b->at = at;
	b->patch_arg = -1;
	v[n_batches++] = b;
	return 0;
}

/* Keeps the results of q[0..done) (read back from the area into q). Returns 0 or -1. */
static int keep_results(struct batch *b, size_t done, ferry_err_t *err)
{
	int64_t *v = realloc(b->ret, (b->first + done + 1) * sizeof(*v));

	if (!v)
		return ferry_error(err, ENOMEM, "batch results");
	b->ret = v;
	for (size_t i = 0; i < done; i++)
		v[b->first + i] = (int64_t)b->q[i].w[7];
	b->n_ret = b->first + done;
	return 0;
}

/* The error of q[k], which failed with result ret. */
static int failed(struct batch *b, size_t k, int64_t ret, ferry_err_t *err)
{
	ferry_error(err, (int)-ret, "remote syscall %llu in %d", (unsigned long long)b->q[k].w[0],
		    b->tid);
	return b->what[k] ? ferry_error_wrap(err, "%s", b->what[k]) : -1;
}

/* Writes the queue and its data, runs it, reads the results back; returns 0 or -1. */
static int run(struct batch *b, ferry_err_t *err)
{
	struct iovec loc[2] = {{b->q, b->n * sizeof(b->q[0])}, {b->data, b->used}};
	struct iovec rem[2] = {{(void *)slot(b, 0, 0), loc[0].iov_len},
			       {(void *)(b->at + DATA_AT), b->used}};
	size_t want = loc[0].iov_len + loc[1].iov_len, done;
	struct user_regs_struct regs;

	if (process_vm_writev(b->tid, loc, b->used ? 2 : 1, rem, b->used ? 2 : 1, 0) !=
	    (ssize_t)want)
		return ferry_error_errno(err, "write a batch into %d", b->tid);
	if (lx_rfast_run(b->tid, b->at, slot(b, 0, 0), b->n, b->kids, &regs, err) < 0)
		return ferry_error_wrap(err, "run a batch in %d", b->tid);
	if (regs.rip != b->at + sizeof(runner) || regs.r12 > b->n ||
	    regs.rbx != slot(b, b->n - regs.r12, 0))
		return ferry_error(err, EFAULT, "batch in %d: stopped at 0x%llx", b->tid,
				   (unsigned long long)regs.rip);
	done = b->n - regs.r12;
	loc[0].iov_len = rem[0].iov_len = done * sizeof(b->q[0]);
	if (done && process_vm_readv(b->tid, loc, 1, rem, 1, 0) != (ssize_t)loc[0].iov_len)
		return ferry_error_errno(err, "read a batch's results in %d", b->tid);
	if (keep_results(b, done, err) < 0)
		return -1;
	calls_run += done;
	batches_run++;
	if (regs.r12)
		return failed(b, done, (int64_t)regs.rax, err);
	return 0;
}

int lx_rbatch_flush(pid_t tid, ferry_err_t *err)
{
	struct batch *b = find(tid);
	int rc;

	if (!b || !b->n)
		return 0;
	rc = run(b, err);
	drop_queue(b);
	return rc;
}

int lx_rbatch_room(pid_t tid, size_t calls, size_t bytes, ferry_err_t *err)
{
	struct batch *b = get(tid, err);

	if (!b)
		return -1;
	if (calls > MAX_CALLS || bytes > DATA_SIZE)
		return ferry_error(err, E2BIG, "batch of %zu calls, %zu bytes", calls, bytes);
	if ((b->n + calls > MAX_CALLS || b->used + bytes > DATA_SIZE) &&
	    lx_rbatch_flush(tid, err) < 0)
		return -1;
	b->room = calls;
	return 0;
}

/* Makes the queue hold at least want entries (want <= MAX_CALLS); returns 0 or -1. */
static int grow_queue(struct batch *b, size_t want, ferry_err_t *err)
{
	size_t cap = b->cap ? b->cap : 16;
	struct entry *q;
	char **what;

	while (cap < want)
		cap *= 2;
	cap = cap < MAX_CALLS ? cap : MAX_CALLS;
	if (cap <= b->cap)
		return 0;
	q = realloc(b->q, cap * sizeof(*q));
	if (q)
		b->q = q;
	what = q ? realloc(b->what, cap * sizeof(*what)) : NULL;
	if (!what)
		return ferry_error(err, ENOMEM, "batch of %d", b->tid);
	b->what = what;
	b->cap = cap;
	return 0;
}

/* Appends an entry to the group room was made for; returns its index or -1. */
static int64_t append(struct batch *b, const uint64_t w[7], const char *what, ferry_err_t *err)
{
	struct entry *e;

	if (!b->room || b->n == MAX_CALLS)
		return ferry_error(err, E2BIG, "batch of %d: no room made", b->tid);
	if (b->n == b->cap && grow_queue(b, b->n + 1, err) < 0)
		return -1;
	e = &b->q[b->n];
	memcpy(e->w, w, 7 * sizeof(uint64_t));
	e->w[7] = 0;
	b->what[b->n] = what ? strdup(what) : NULL;
	if (what && !b->what[b->n])
		return ferry_error(err, ENOMEM, "batch of %d", b->tid);
	b->room--;
	return (int64_t)(b->first + b->n++);
}

int64_t lx_rbatch_add(pid_t tid, long nr, const uint64_t args[6], const char *what,
		      ferry_err_t *err)
{
	struct batch *b = get(tid, err);
	uint64_t w[7];

	if (!b)
		return -1;
	w[0] = (uint64_t)nr;
	memcpy(w + 1, args, 6 * sizeof(uint64_t));
	if (b->patch_arg >= 0)
		w[1 + b->patch_arg] = b->patch_val;
	b->patch_arg = -1;
	return append(b, w, what, err);
}

uint64_t lx_rbatch_data(pid_t tid, const void *data, size_t len, ferry_err_t *err)
{
	struct batch *b = get(tid, err);
	size_t at;

	if (!b)
		return 0;
	at = (b->used + 7) & ~(size_t)7;
	if (at + len > DATA_SIZE) {
		ferry_error(err, E2BIG, "batch of %d: no room made for %zu bytes", tid, len);
		return 0;
	}
	if (at + len > b->dcap) {
		size_t cap = b->dcap ? b->dcap : 256;
		uint8_t *v;

		while (cap < at + len)
			cap *= 2;
		cap = cap < DATA_SIZE ? cap : DATA_SIZE;
		v = realloc(b->data, cap);
		if (!v) {
			ferry_error(err, ENOMEM, "batch of %d", tid);
			return 0;
		}
		b->data = v;
		b->dcap = cap;
	}
	memcpy(b->data + at, data, len);
	b->used = at + len;
	return b->at + DATA_AT + at;
}

/* Where the result of call `from` is: *known set to its value when it has run, else the address
 * of its result in the area. Returns 0 or -1 (no such call, or one a failed batch left undone). */
static int result_of(struct batch *b, int64_t from, bool *known, uint64_t *v, ferry_err_t *err)
{
	if (from < 0 || (size_t)from >= b->first + b->n ||
	    ((size_t)from < b->first && (size_t)from >= b->n_ret))
		return ferry_error(err, EINVAL, "batch of %d: no call %lld", b->tid,
				   (long long)from);
	*known = (size_t)from < b->first;
	if (*known)
		*v = (uint64_t)b->ret[from];
	else
		*v = slot(b, (size_t)from - b->first, 7);
	return 0;
}

/* Queues the copy of the word at src (a result) to dst when the runner gets there. */
static int append_copy(struct batch *b, uint64_t src, uint64_t dst, ferry_err_t *err)
{
	const uint64_t w[7] = {COPY_NR, src, dst};

	return append(b, w, NULL, err) < 0 ? -1 : 0;
}

int lx_rbatch_next_arg(pid_t tid, int64_t from, int arg, ferry_err_t *err)
{
	struct batch *b = get(tid, err);
	bool known;
	uint64_t v;

	if (!b || result_of(b, from, &known, &v, err) < 0)
		return -1;
	if (arg < 0 || arg > 5)
		return ferry_error(err, EINVAL, "batch of %d: argument %d", tid, arg);
	if (known) {
		b->patch_arg = arg;
		b->patch_val = v;
		return 0;
	}
	/* The copy, then the call: room was made for both. */
	return append_copy(b, v, slot(b, b->n + 1, 1 + (size_t)arg), err);
}

int lx_rbatch_result_to(pid_t tid, int64_t from, uint64_t dst, ferry_err_t *err)
{
	struct batch *b = get(tid, err);
	bool known;
	uint64_t v;

	if (!b || result_of(b, from, &known, &v, err) < 0)
		return -1;
	if (known) {
		if (dst < b->at + DATA_AT || dst + 8 > b->at + DATA_AT + b->used)
			return ferry_error(err, EINVAL, "batch of %d: 0x%llx is not its data", tid,
					   (unsigned long long)dst);
		memcpy(b->data + (dst - b->at - DATA_AT), &v, 8);
		return 0;
	}
	return append_copy(b, v, dst, err);
}

int64_t lx_rbatch_call(pid_t tid, const char *what, long nr, const uint64_t args[6], int arg,
		       const void *data, size_t len, ferry_err_t *err)
{
	uint64_t a[6];

	memcpy(a, args, sizeof(a));
	if (lx_rbatch_room(tid, 1, data ? len + 8 : 0, err) < 0)
		return -1;
	if (data && (arg < 0 || arg > 5 || !(a[arg] = lx_rbatch_data(tid, data, len, err))))
		return arg < 0 || arg > 5 ? ferry_error(err, EINVAL, "argument %d", arg) : -1;
	return lx_rbatch_add(tid, nr, a, what, err);
}

int lx_rbatch_result(pid_t tid, int64_t idx, int64_t *ret, ferry_err_t *err)
{
	struct batch *b = get(tid, err);

	if (!b)
		return -1;
	if (idx < 0 || (size_t)idx >= b->n_ret)
		return ferry_error(err, EINVAL, "batch of %d: call %lld has not run", tid,
				   (long long)idx);
	*ret = b->ret[idx];
	return 0;
}

int lx_rbatch_kids(pid_t tid, struct lx_rfast_kids *kids, ferry_err_t *err)
{
	struct batch *b = get(tid, err);

	if (!b)
		return -1;
	b->kids = kids;
	return 0;
}

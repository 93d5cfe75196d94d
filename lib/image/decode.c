// SPDX-License-Identifier: Apache-2.0
/* Protobuf records to the process model, each record checked as it is read. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.pb-c.h"
#include "core/cleanup.h"
#include "image/internal.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "proc.pb-c.h"
#include "pstree.pb-c.h"

#define NOMEM(in, err) img_in_error((in), (err), "out of memory")
#define X(v) ((unsigned long long)(v))

static bool pid_ok(int32_t pid)
{
	return pid > 0 && pid < IMG_MAX_PID;
}

/* Reads the one record a single-record file holds; returns 0 or -1. */
static int only_record(struct img_in *in, const ProtobufCMessageDescriptor *d, ProtobufCMessage **m,
		       ferry_err_t *err)
{
	ProtobufCMessage *extra = NULL;
	int r = img_in_next(in, d, m, err);

	if (r == 0)
		return ferry_error(err, 0, "%s: no %s record", in->name, d->short_name);
	if (r < 0)
		return -1;
	r = img_in_next(in, d, &extra, err);
	if (extra)
		protobuf_c_message_free_unpacked(extra, NULL);
	if (r > 0)
		return img_in_error(in, err, "unexpected record after the %s", d->short_name);
	return r;
}

static int dec_pstree_entry(struct img_in *in, struct cr_process *p, FerryImg__PstreeEntry *e,
			    ferry_err_t *err)
{
	/* a group or session led from outside the pid namespace reads as 0 */
	if (!pid_ok(e->pid) || e->ppid < 0 || e->ppid >= IMG_MAX_PID || e->pgid < 0 ||
	    e->pgid >= IMG_MAX_PID || e->sid < 0 || e->sid >= IMG_MAX_PID)
		return img_in_error(in, err, "(process %d) pid, ppid, pgid or sid out of range",
				    e->pid);
	if (e->n_tids == 0 || e->n_tids > IMG_MAX_THREADS)
		return img_in_error(in, err, "(process %d) %zu threads", e->pid, e->n_tids);
	if (e->tids[0] != e->pid)
		return img_in_error(in, err, "(process %d) first thread %d is not the leader",
				    e->pid, e->tids[0]);
	p->pid = e->pid, p->ppid = e->ppid, p->pgid = e->pgid, p->sid = e->sid;
	p->threads = calloc(e->n_tids, sizeof(*p->threads));
	if (!p->threads)
		return NOMEM(in, err);
	p->n_threads = e->n_tids;
	for (size_t i = 0; i < e->n_tids; i++) {
		if (!pid_ok(e->tids[i]))
			return img_in_error(in, err, "(process %d) tid %d out of range", e->pid,
					    e->tids[i]);
		p->threads[i].tid = e->tids[i];
	}
	return 0;
}

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Every pid and tid appears once in the whole tree. */
static int check_ids_unique(struct img_in *in, struct cr_image *img, ferry_err_t *err)
{
	size_t n = 0, k = 0;
	_cleanup_free_ int32_t *ids = NULL;

	for (size_t i = 0; i < img->n_procs; i++)
		n += img->procs[i].n_threads;
	ids = malloc((n + 1) * sizeof(*ids));
	if (!ids)
		return ferry_error(err, ENOMEM, "%s", in->name);
	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t t = 0; t < img->procs[i].n_threads; t++)
			ids[k++] = img->procs[i].threads[t].tid;
	qsort(ids, n, sizeof(*ids), cmp_i32);
	for (size_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return ferry_error(err, 0, "%s: pid/tid %d appears twice", in->name,
					   ids[i]);
	return 0;
}

int dec_pstree(struct img_in *in, struct cr_image *img, int32_t root_pid, ferry_err_t *err)
{
	size_t cap = 0;
	int r;

	for (;;) {
		_cleanup_pb_ FerryImg__PstreeEntry *e = NULL;

		r = img_in_next(in, &ferry_img__pstree_entry__descriptor, (void *)&e, err);
		if (r <= 0)
			break;
		if (img->n_procs == IMG_MAX_PROCS)
			return img_in_error(in, err, "more than %d processes", IMG_MAX_PROCS);
		if (img->n_procs == cap) {
			struct cr_process *p;

			cap = cap ? 2 * cap : 16;
			p = realloc(img->procs, cap * sizeof(*p));
			if (!p)
				return NOMEM(in, err);
			img->procs = p;
		}
		memset(&img->procs[img->n_procs], 0, sizeof(*img->procs));
		img->n_procs++;
		if (dec_pstree_entry(in, &img->procs[img->n_procs - 1], e, err) < 0)
			return -1;
		if (img->n_procs == 1 && e->pid != root_pid)
			return img_in_error(in, err,
					    "(process %d) is not the root %d of the inventory",
					    e->pid, root_pid);
	}
	if (r < 0)
		return -1;
	if (img->n_procs == 0)
		return ferry_error(err, 0, "%s: no process", in->name);
	if (check_ids_unique(in, img, err) < 0)
		return -1;
	for (size_t i = 1; i < img->n_procs; i++)
		if (!cr_image_find_process(img, img->procs[i].ppid))
			return ferry_error(err, 0, "%s: process %d: parent %d is not in the tree",
					   in->name, img->procs[i].pid, img->procs[i].ppid);
	return 0;
}

static int dup_str(struct img_in *in, char **dst, const char *src, bool is_path, const char *what,
		   ferry_err_t *err)
{
	const char *why;

	if (!src)
		return 0;
	if (is_path && (why = img_path_problem(src)))
		return img_in_error(in, err, "%s \"%.200s\": %s", what, src, why);
	if (!is_path && strlen(src) > IMG_MAX_PATH)
		return img_in_error(in, err, "%s too long", what);
	*dst = strdup(src);
	return *dst ? 0 : NOMEM(in, err);
}

static int dup_siginfo(struct img_in *in, struct cr_siginfo **dst, size_t *n,
		       const ProtobufCBinaryData *src, size_t count, ferry_err_t *err)
{
	if (count > IMG_MAX_PENDING)
		return img_in_error(in, err, "%zu pending signals", count);
	*dst = calloc(count + 1, sizeof(**dst));
	if (!*dst)
		return NOMEM(in, err);
	for (size_t i = 0; i < count; i++) {
		int32_t signo;

		if (src[i].len != CR_SIGINFO_SIZE)
			return img_in_error(in, err, "pending signal %zu: %zu bytes, not %d", i,
					    src[i].len, CR_SIGINFO_SIZE);
		memcpy(&signo, src[i].data, sizeof(signo));
		if (signo < 1 || signo > CR_NSIG)
			return img_in_error(in, err, "pending signal %zu: signal %d", i, signo);
		memcpy((*dst)[i].raw, src[i].data, CR_SIGINFO_SIZE);
	}
	*n = count;
	return 0;
}

static void dec_regs(struct cr_regs *g, const FerryImg__Regs *r)
{
	g->r15 = r->r15, g->r14 = r->r14, g->r13 = r->r13, g->r12 = r->r12, g->rbp = r->rbp;
	g->rbx = r->rbx, g->r11 = r->r11, g->r10 = r->r10, g->r9 = r->r9, g->r8 = r->r8;
	g->rax = r->rax, g->rcx = r->rcx, g->rdx = r->rdx, g->rsi = r->rsi, g->rdi = r->rdi;
	g->orig_rax = r->orig_rax, g->rip = r->rip, g->cs = r->cs, g->eflags = r->eflags;
	g->rsp = r->rsp, g->ss = r->ss, g->fs_base = r->fs_base, g->gs_base = r->gs_base;
	g->ds = r->ds, g->es = r->es, g->fs = r->fs, g->gs = r->gs;
}

/* A thread's scheduling: a policy Linux has, its parameters in range. Returns 0 or -1. */
static int dec_sched(struct img_in *in, struct cr_sched *s, const FerryImg__Sched *c,
		     ferry_err_t *err)
{
	bool rt = c->policy == 1 || c->policy == 2;

	if ((c->policy > 3 && c->policy != 5 && c->policy != 6) ||
	    c->flags & ~CR_SCHED_RESET_ON_FORK || c->nice < -20 || c->nice > 19 ||
	    (rt ? c->priority < 1 || c->priority > 99 : c->priority) ||
	    (c->policy == 6 &&
	     (!c->runtime || c->runtime > c->deadline || (c->period && c->deadline > c->period))))
		return img_in_error(in, err,
				    "scheduling: policy %u, flags 0x%x, nice %d, priority %u",
				    c->policy, c->flags, c->nice, c->priority);
	if (c->has_ioprio && c->ioprio >> 13 > 3)
		return img_in_error(in, err, "scheduling: I/O priority class %u", c->ioprio >> 13);
	*s = (struct cr_sched){c->policy,  c->flags,	c->nice,   c->priority,
			       c->runtime, c->deadline, c->period, c->has_ioprio ? c->ioprio : 0};
	return 0;
}

int dec_thread(struct img_in *in, struct cr_thread *t, int32_t tid, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__ThreadCore *c = NULL;

	if (only_record(in, &ferry_img__thread_core__descriptor, (void *)&c, err) < 0)
		return -1;
	if (c->tid != tid)
		return img_in_error(in, err, "thread %d, expected %d", c->tid, tid);
	if (c->has_xsave && c->xsave.len > IMG_MAX_XSAVE)
		return img_in_error(in, err, "xsave area of %zu bytes", c->xsave.len);
	if (c->altstack->flags & ~(1u | 2u | (1u << 31)))
		return img_in_error(in, err, "sigaltstack flags 0x%x", c->altstack->flags);
	if (dup_str(in, &t->comm, c->comm, false, "comm", err) < 0)
		return -1;
	dec_regs(&t->regs, c->regs);
	if (c->has_xsave && c->xsave.len) {
		t->xsave = malloc(c->xsave.len);
		if (!t->xsave)
			return NOMEM(in, err);
		memcpy(t->xsave, c->xsave.data, c->xsave.len);
		t->xsave_len = c->xsave.len;
	}
	t->xsave_mask = c->xsave_mask;
	t->sigmask = c->sigmask;
	t->altstack =
	    (struct cr_sigaltstack){c->altstack->sp, c->altstack->size, c->altstack->flags};
	t->robust_list = c->robust_list;
	t->robust_list_len = c->robust_list_len;
	t->clear_child_tid = c->has_clear_child_tid ? c->clear_child_tid : 0;
	if (c->has_rseq && c->rseq) {
		if (c->rseq % 32 || !c->has_rseq_len || c->rseq_len < 32 || c->rseq_len > 4096)
			return img_in_error(in, err, "rseq area 0x%llx of %u bytes",
					    (unsigned long long)c->rseq, c->rseq_len);
		t->rseq = c->rseq, t->rseq_len = c->rseq_len, t->rseq_sig = c->rseq_sig;
	}
	if (c->has_pdeath_sig && (c->pdeath_sig < 1 || c->pdeath_sig > 64))
		return img_in_error(in, err, "parent death signal %u", c->pdeath_sig);
	t->pdeath_sig = c->has_pdeath_sig ? (int32_t)c->pdeath_sig : 0;
	if (c->sched && dec_sched(in, &t->sched, c->sched, err) < 0)
		return -1;
	t->has_sched = c->sched != NULL;
	return dup_siginfo(in, &t->pending, &t->n_pending, c->pending, c->n_pending, err);
}

static int dec_creds(struct img_in *in, struct cr_creds *k, const FerryImg__Creds *c,
		     ferry_err_t *err)
{
	k->uid = c->uid, k->euid = c->euid, k->suid = c->suid, k->fsuid = c->fsuid;
	k->gid = c->gid, k->egid = c->egid, k->sgid = c->sgid, k->fsgid = c->fsgid;
	if (c->n_groups > IMG_MAX_GROUPS)
		return img_in_error(in, err, "%zu supplementary groups", c->n_groups);
	k->groups = calloc(c->n_groups + 1, sizeof(*k->groups));
	if (!k->groups)
		return NOMEM(in, err);
	memcpy(k->groups, c->groups, c->n_groups * sizeof(*k->groups));
	k->n_groups = c->n_groups;
	k->cap_inh = c->cap_inh, k->cap_prm = c->cap_prm, k->cap_eff = c->cap_eff;
	k->cap_bnd = c->cap_bnd, k->cap_amb = c->cap_amb;
	k->securebits = c->securebits, k->no_new_privs = c->no_new_privs;
	return 0;
}

static int dec_proc_arrays(struct img_in *in, struct cr_process *p, const FerryImg__ProcCore *c,
			   ferry_err_t *err)
{
	if (c->n_sigactions != CR_NSIG || c->n_rlimits != CR_RLIMIT_COUNT || c->n_itimers != 3)
		return img_in_error(in, err,
				    "%zu signal actions, %zu rlimits, %zu itimers "
				    "(expected %d, %d, 3)",
				    c->n_sigactions, c->n_rlimits, c->n_itimers, CR_NSIG,
				    CR_RLIMIT_COUNT);
	for (int i = 0; i < CR_NSIG; i++) {
		const FerryImg__SigAction *a = c->sigactions[i];

		p->sigactions[i] =
		    (struct cr_sigaction){a->handler, a->flags, a->restorer, a->mask};
	}
	for (int i = 0; i < CR_RLIMIT_COUNT; i++) {
		if (c->rlimits[i]->cur > c->rlimits[i]->max)
			return img_in_error(in, err, "rlimit %d: soft limit above the hard one", i);
		p->rlimits[i] = (struct cr_rlimit){c->rlimits[i]->cur, c->rlimits[i]->max};
	}
	for (int i = 0; i < 3; i++)
		p->itimers[i] =
		    (struct cr_itimer){c->itimers[i]->interval_us, c->itimers[i]->value_us};
	if (c->n_timers > IMG_MAX_LIST)
		return img_in_error(in, err, "%zu POSIX timers", c->n_timers);
	p->timers = calloc(c->n_timers + 1, sizeof(*p->timers));
	if (!p->timers)
		return NOMEM(in, err);
	for (size_t i = 0; i < c->n_timers; i++) {
		const FerryImg__PosixTimer *t = c->timers[i];

		p->timers[i] = (struct cr_posix_timer){
		    t->id,	   t->clock,	   t->notify,	t->signo,  t->sigev_value,
		    t->notify_tid, t->interval_ns, t->value_ns, t->overrun};
	}
	p->n_timers = c->n_timers;
	return 0;
}

/* The seccomp filters: each a whole number of instructions, at most BPF_MAXINSNS, flags known,
 * the chain within the kernel's limit. Returns 0 or -1. */
static int dec_seccomp(struct img_in *in, struct cr_process *p, const FerryImg__ProcCore *c,
		       ferry_err_t *err)
{
	size_t insns = 0;

	if (!c->n_seccomp)
		return 0;
	p->seccomp = calloc(c->n_seccomp, sizeof(*p->seccomp));
	if (!p->seccomp)
		return NOMEM(in, err);
	for (size_t i = 0; i < c->n_seccomp; i++) {
		const FerryImg__SeccompFilter *f = c->seccomp[i];
		size_t n = f->bpf.len / 8;

		if (f->bpf.len % 8 || n == 0 || n > CR_SECCOMP_FILTER_MAX_INSNS ||
		    f->flags & ~CR_SECCOMP_FLAGS)
			return img_in_error(in, err, "seccomp filter %zu: %zu bytes, flags 0x%x", i,
					    f->bpf.len, f->flags);
		insns += n + 4;
		if (insns > CR_SECCOMP_MAX_INSNS)
			return img_in_error(in, err, "seccomp filters: more than %d instructions",
					    CR_SECCOMP_MAX_INSNS);
		p->seccomp[i].bpf = malloc(f->bpf.len);
		if (!p->seccomp[i].bpf)
			return NOMEM(in, err);
		memcpy(p->seccomp[i].bpf, f->bpf.data, f->bpf.len);
		p->seccomp[i].len = f->bpf.len, p->seccomp[i].flags = f->flags;
		p->n_seccomp = i + 1;
	}
	return 0;
}

int dec_proc(struct img_in *in, struct cr_process *p, ferry_err_t *err)
{
	_cleanup_pb_ FerryImg__ProcCore *c = NULL;

	if (only_record(in, &ferry_img__proc_core__descriptor, (void *)&c, err) < 0)
		return -1;
	if (c->pid != p->pid)
		return img_in_error(in, err, "process %d, expected %d", c->pid, p->pid);
	if (c->umask & ~0777u)
		return img_in_error(in, err, "umask 0%o", c->umask);
	if (dec_proc_arrays(in, p, c, err) < 0 || dec_creds(in, &p->creds, c->creds, err) < 0 ||
	    dec_seccomp(in, p, c, err) < 0 ||
	    dup_str(in, &p->comm, c->comm, false, "comm", err) < 0 ||
	    dup_str(in, &p->cwd, c->cwd, true, "cwd", err) < 0 ||
	    dup_str(in, &p->root, c->root, true, "root", err) < 0)
		return -1;
	p->umask = c->umask;
	p->personality = c->personality;
	p->has_prctl = c->has_oom_score_adj && c->has_dumpable;
	if (p->has_prctl &&
	    (c->oom_score_adj < -1000 || c->oom_score_adj > 1000 || c->dumpable > 2))
		return img_in_error(in, err, "oom_score_adj %d, dumpable %u", c->oom_score_adj,
				    c->dumpable);
	p->oom_score_adj = c->oom_score_adj, p->dumpable = c->dumpable;
	p->child_subreaper = c->child_subreaper, p->thp_disable = c->thp_disable;
	return dup_siginfo(in, &p->shared_pending, &p->n_shared_pending, c->shared_pending,
			   c->n_shared_pending, err);
}

// SPDX-License-Identifier: Apache-2.0
/* The process model to protobuf records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core.pb-c.h"
#include "fd.pb-c.h"
#include "image/internal.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "proc.pb-c.h"
#include "pstree.pb-c.h"
#include "shm.pb-c.h"

#define GHOST_CHUNK (1u << 20)

int enc_pstree(struct img_out *o, const struct cr_process *p, ferry_err_t *err)
{
	FerryImg__PstreeEntry e = FERRY_IMG__PSTREE_ENTRY__INIT;
	_cleanup_free_ int32_t *tids = calloc(p->n_threads + 1, sizeof(*tids));

	if (!tids)
		return ferry_error(err, ENOMEM, "pstree");
	for (size_t i = 0; i < p->n_threads; i++)
		tids[i] = p->threads[i].tid;
	e.pid = p->pid;
	e.ppid = p->ppid;
	e.pgid = p->pgid;
	e.sid = p->sid;
	e.n_tids = p->n_threads;
	e.tids = tids;
	return img_out_record(o, &e.base, err);
}

/* ProtobufCBinaryData views of siginfo arrays (no copy). */
static ProtobufCBinaryData *siginfo_views(const struct cr_siginfo *s, size_t n)
{
	ProtobufCBinaryData *v = calloc(n + 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++)
		v[i] = (ProtobufCBinaryData){CR_SIGINFO_SIZE, (uint8_t *)s[i].raw};
	return v;
}

int enc_thread(struct img_out *o, const struct cr_thread *t, ferry_err_t *err)
{
	FerryImg__ThreadCore c = FERRY_IMG__THREAD_CORE__INIT;
	FerryImg__Regs r = FERRY_IMG__REGS__INIT;
	FerryImg__SigAltStack ss = FERRY_IMG__SIG_ALT_STACK__INIT;
	FerryImg__Sched sc = FERRY_IMG__SCHED__INIT;
	_cleanup_free_ ProtobufCBinaryData *pend = siginfo_views(t->pending, t->n_pending);
	const struct cr_regs *g = &t->regs;

	if (!pend)
		return ferry_error(err, ENOMEM, "core-%d.img", t->tid);
	r.r15 = g->r15, r.r14 = g->r14, r.r13 = g->r13, r.r12 = g->r12, r.rbp = g->rbp;
	r.rbx = g->rbx, r.r11 = g->r11, r.r10 = g->r10, r.r9 = g->r9, r.r8 = g->r8;
	r.rax = g->rax, r.rcx = g->rcx, r.rdx = g->rdx, r.rsi = g->rsi, r.rdi = g->rdi;
	r.orig_rax = g->orig_rax, r.rip = g->rip, r.cs = g->cs, r.eflags = g->eflags;
	r.rsp = g->rsp, r.ss = g->ss, r.fs_base = g->fs_base, r.gs_base = g->gs_base;
	r.ds = g->ds, r.es = g->es, r.fs = g->fs, r.gs = g->gs;
	ss.sp = t->altstack.sp, ss.size = t->altstack.size, ss.flags = t->altstack.flags;
	c.tid = t->tid;
	c.comm = t->comm;
	c.regs = &r;
	c.has_xsave = t->xsave_len > 0;
	c.xsave = (ProtobufCBinaryData){t->xsave_len, t->xsave};
	c.xsave_mask = t->xsave_mask;
	c.sigmask = t->sigmask;
	c.n_pending = t->n_pending;
	c.pending = pend;
	c.altstack = &ss;
	c.robust_list = t->robust_list;
	c.robust_list_len = t->robust_list_len;
	c.has_clear_child_tid = t->clear_child_tid != 0;
	c.clear_child_tid = t->clear_child_tid;
	c.has_rseq = c.has_rseq_len = c.has_rseq_sig = t->rseq != 0;
	c.rseq = t->rseq, c.rseq_len = t->rseq_len, c.rseq_sig = t->rseq_sig;
	if (t->has_sched) {
		sc.policy = t->sched.policy, sc.flags = t->sched.flags, sc.nice = t->sched.nice;
		sc.priority = t->sched.priority, sc.runtime = t->sched.runtime;
		sc.deadline = t->sched.deadline, sc.period = t->sched.period;
		sc.has_ioprio = t->sched.ioprio != 0, sc.ioprio = t->sched.ioprio;
		c.sched = &sc;
	}
	c.has_pdeath_sig = t->pdeath_sig != 0;
	c.pdeath_sig = (uint32_t)t->pdeath_sig;
	return img_out_record(o, &c.base, err);
}

static int enc_proc_lists(FerryImg__ProcCore *c, const struct cr_process *p, void **mem,
			  ferry_err_t *err)
{
	size_t nt = p->n_timers;
	char *m = calloc(1, CR_NSIG * (sizeof(FerryImg__SigAction) + sizeof(void *)) +
				CR_RLIMIT_COUNT * (sizeof(FerryImg__Rlimit) + sizeof(void *)) +
				3 * (sizeof(FerryImg__Itimer) + sizeof(void *)) +
				nt * (sizeof(FerryImg__PosixTimer) + sizeof(void *)));
	FerryImg__SigAction *sa = (void *)m, **sap;
	FerryImg__Rlimit *rl, **rlp;
	FerryImg__Itimer *it, **itp;
	FerryImg__PosixTimer *pt, **ptp;

	if (!m)
		return ferry_error(err, ENOMEM, "proc-%d.img", p->pid);
	*mem = m;
	rl = (void *)(sa + CR_NSIG), it = (void *)(rl + CR_RLIMIT_COUNT), pt = (void *)(it + 3);
	sap = (void *)(pt + nt), rlp = (void *)(sap + CR_NSIG),
	itp = (void *)(rlp + CR_RLIMIT_COUNT);
	ptp = (void *)(itp + 3);
	for (int i = 0; i < CR_NSIG; i++) {
		const struct cr_sigaction *a = &p->sigactions[i];

		ferry_img__sig_action__init(&sa[i]);
		sa[i].handler = a->handler, sa[i].flags = a->flags;
		sa[i].restorer = a->restorer, sa[i].mask = a->mask;
		sap[i] = &sa[i];
	}
	for (int i = 0; i < CR_RLIMIT_COUNT; i++) {
		ferry_img__rlimit__init(&rl[i]);
		rl[i].cur = p->rlimits[i].cur, rl[i].max = p->rlimits[i].max;
		rlp[i] = &rl[i];
	}
	for (int i = 0; i < 3; i++) {
		ferry_img__itimer__init(&it[i]);
		it[i].interval_us = p->itimers[i].interval_us,
		it[i].value_us = p->itimers[i].value_us;
		itp[i] = &it[i];
	}
	for (size_t i = 0; i < nt; i++) {
		const struct cr_posix_timer *t = &p->timers[i];

		ferry_img__posix_timer__init(&pt[i]);
		pt[i].id = t->id, pt[i].clock = t->clock, pt[i].notify = t->notify;
		pt[i].signo = t->signo, pt[i].sigev_value = t->sigev_value;
		pt[i].notify_tid = t->notify_tid, pt[i].interval_ns = t->interval_ns;
		pt[i].value_ns = t->value_ns, pt[i].overrun = t->overrun;
		ptp[i] = &pt[i];
	}
	c->n_sigactions = CR_NSIG, c->sigactions = sap;
	c->n_rlimits = CR_RLIMIT_COUNT, c->rlimits = rlp;
	c->n_itimers = 3, c->itimers = itp;
	c->n_timers = nt, c->timers = ptp;
	return 0;
}

/* The process's seccomp filters as records in *mem; returns 0 or -1. */
static int enc_seccomp(FerryImg__ProcCore *c, const struct cr_process *p, void **mem,
		       ferry_err_t *err)
{
	size_t n = p->n_seccomp;
	FerryImg__SeccompFilter *f, **fp;

	if (!n)
		return 0;
	f = calloc(n, sizeof(*f) + sizeof(*fp));
	if (!f)
		return ferry_error(err, ENOMEM, "proc-%d.img", p->pid);
	*mem = f;
	fp = (void *)(f + n);
	for (size_t i = 0; i < n; i++) {
		ferry_img__seccomp_filter__init(&f[i]);
		f[i].bpf = (ProtobufCBinaryData){p->seccomp[i].len, p->seccomp[i].bpf};
		f[i].flags = p->seccomp[i].flags;
		fp[i] = &f[i];
	}
	c->n_seccomp = n, c->seccomp = fp;
	return 0;
}

int enc_proc(struct img_out *o, const struct cr_process *p, ferry_err_t *err)
{
	FerryImg__ProcCore c = FERRY_IMG__PROC_CORE__INIT;
	FerryImg__Creds cr = FERRY_IMG__CREDS__INIT;
	const struct cr_creds *k = &p->creds;
	_cleanup_free_ void *mem = NULL, *filters = NULL;
	_cleanup_free_ ProtobufCBinaryData *pend =
	    siginfo_views(p->shared_pending, p->n_shared_pending);

	if (!pend || enc_proc_lists(&c, p, &mem, err) < 0)
		return ferry_error(err, ENOMEM, "proc-%d.img", p->pid);
	if (enc_seccomp(&c, p, &filters, err) < 0)
		return -1;
	cr.uid = k->uid, cr.euid = k->euid, cr.suid = k->suid, cr.fsuid = k->fsuid;
	cr.gid = k->gid, cr.egid = k->egid, cr.sgid = k->sgid, cr.fsgid = k->fsgid;
	cr.n_groups = k->n_groups, cr.groups = k->groups;
	cr.cap_inh = k->cap_inh, cr.cap_prm = k->cap_prm, cr.cap_eff = k->cap_eff;
	cr.cap_bnd = k->cap_bnd, cr.cap_amb = k->cap_amb;
	cr.securebits = k->securebits, cr.no_new_privs = k->no_new_privs;
	c.pid = p->pid;
	c.comm = p->comm;
	c.n_shared_pending = p->n_shared_pending;
	c.shared_pending = pend;
	c.umask = p->umask;
	c.cwd = p->cwd ? p->cwd : "/";
	c.root = p->root ? p->root : "/";
	c.creds = &cr;
	c.personality = p->personality;
	c.has_oom_score_adj = c.has_dumpable = c.has_child_subreaper = c.has_thp_disable =
	    p->has_prctl;
	c.oom_score_adj = p->oom_score_adj, c.dumpable = p->dumpable;
	c.child_subreaper = p->child_subreaper, c.thp_disable = p->thp_disable;
	return img_out_record(o, &c.base, err);
}

int enc_mm(struct img_out *o, const struct cr_process *p, ferry_err_t *err)
{
	FerryImg__MmInfo m = FERRY_IMG__MM_INFO__INIT;
	const struct cr_mm *s = &p->mm;

	m.pid = p->pid;
	m.start_code = s->start_code, m.end_code = s->end_code;
	m.start_data = s->start_data, m.end_data = s->end_data;
	m.start_brk = s->start_brk, m.brk = s->brk, m.start_stack = s->start_stack;
	m.arg_start = s->arg_start, m.arg_end = s->arg_end;
	m.env_start = s->env_start, m.env_end = s->env_end;
	m.n_auxv = s->n_auxv, m.auxv = s->auxv;
	m.exe = s->exe;
	m.nr_vmas = p->n_vmas;
	if (img_out_record(o, &m.base, err) < 0)
		return -1;
	for (size_t i = 0; i < p->n_vmas; i++) {
		const struct cr_vma *a = &p->vmas[i];
		FerryImg__Vma v = FERRY_IMG__VMA__INIT;

		v.start = a->start, v.end = a->end, v.prot = a->prot, v.flags = a->flags;
		v.madv = a->madv, v.path = a->path;
		v.has_pgoff = v.has_dev = v.has_ino = a->path != NULL;
		v.pgoff = a->pgoff, v.dev = a->dev, v.ino = a->ino;
		v.has_shm_id = a->shm_id != 0, v.shm_id = a->shm_id;
		if (img_out_record(o, &v.base, err) < 0)
			return -1;
	}
	return 0;
}

static int enc_run(struct img_out *o, const struct cr_pagemap *pm, const struct cr_page_run *r,
		   ferry_err_t *err)
{
	FerryImg__PageRun e = FERRY_IMG__PAGE_RUN__INIT;

	e.vaddr = r->vaddr, e.nr_pages = r->nr_pages, e.offset = r->offset;
	if (r->pages_id && r->pages_id != pm->pages_id)
		e.has_pages_id = 1, e.pages_id = r->pages_id;
	return img_out_record(o, &e.base, err);
}

int enc_pagemap(struct img_out *o, int32_t pid, const struct cr_pagemap *pm, ferry_err_t *err)
{
	FerryImg__PagemapHead h = FERRY_IMG__PAGEMAP_HEAD__INIT;

	h.pid = pid, h.pages_id = pm->pages_id, h.nr_runs = pm->n_runs;
	if (img_out_record(o, &h.base, err) < 0)
		return -1;
	for (size_t i = 0; i < pm->n_runs; i++)
		if (enc_run(o, pm, &pm->runs[i], err) < 0)
			return -1;
	return 0;
}

static void enc_tcp(FerryImg__TcpSocket *m, const struct cr_tcp *t)
{
	size_t alen = t->family == 10 ? 16 : 4;

	m->family = t->family, m->state = t->state;
	m->has_src = m->has_dst = true;
	m->src = (ProtobufCBinaryData){alen, (uint8_t *)t->src};
	m->dst = (ProtobufCBinaryData){alen, (uint8_t *)t->dst};
	m->has_sport = m->has_dport = m->has_backlog = true;
	m->sport = t->sport, m->dport = t->dport, m->backlog = t->backlog;
	m->has_snd_seq = m->has_rcv_seq = m->has_unsent = true;
	m->snd_seq = t->snd_seq, m->rcv_seq = t->rcv_seq, m->unsent = t->unsent;
	m->has_sendq = t->sendq.len > 0,
	m->sendq = (ProtobufCBinaryData){t->sendq.len, t->sendq.data};
	m->has_recvq = t->recvq.len > 0,
	m->recvq = (ProtobufCBinaryData){t->recvq.len, t->recvq.data};
	m->has_mss = m->has_snd_wscale = m->has_rcv_wscale = m->has_timestamp = true;
	m->mss = t->mss, m->snd_wscale = t->snd_wscale, m->rcv_wscale = t->rcv_wscale;
	m->timestamp = t->timestamp;
	m->has_options = m->has_has_window = true;
	m->options = t->options, m->has_window = t->has_window;
	m->has_snd_wl1 = m->has_snd_wnd = m->has_max_window = m->has_rcv_wnd = m->has_rcv_wup =
	    t->has_window;
	m->snd_wl1 = t->snd_wl1, m->snd_wnd = t->snd_wnd, m->max_window = t->max_window;
	m->rcv_wnd = t->rcv_wnd, m->rcv_wup = t->rcv_wup;
	m->has_reuseaddr = m->has_reuseport = m->has_keepalive = m->has_nodelay = true;
	m->reuseaddr = t->reuseaddr, m->reuseport = t->reuseport;
	m->keepalive = t->keepalive, m->nodelay = t->nodelay;
	m->has_keepidle = m->has_keepintvl = m->has_keepcnt = true;
	m->keepidle = t->keepidle, m->keepintvl = t->keepintvl, m->keepcnt = t->keepcnt;
	m->has_rcvbuf = m->has_sndbuf = m->has_netns_locked = true;
	m->rcvbuf = t->rcvbuf, m->sndbuf = t->sndbuf, m->netns_locked = t->netns_locked;
}

static void enc_fd_kind(FerryImg__FdEntry *e, const struct cr_fd *f)
{
	switch (f->kind) {
	case CR_FD_PIPE:
	case CR_FD_FIFO:
		e->has_write_end = true, e->write_end = f->write_end;
		e->has_data = f->data.len > 0;
		e->data = (ProtobufCBinaryData){f->data.len, f->data.data};
		break;
	case CR_FD_UNIX:
		e->has_sock_type = true, e->sock_type = f->unix_sk.type;
		e->has_peer = true, e->peer = f->unix_sk.peer;
		e->has_shut_rd = true, e->shut_rd = f->unix_sk.shut_rd;
		e->has_shut_wr = true, e->shut_wr = f->unix_sk.shut_wr;
		break;
	case CR_FD_EVENTFD:
		e->has_efd_counter = true, e->efd_counter = f->eventfd.counter;
		e->has_efd_flags = true, e->efd_flags = f->eventfd.flags;
		break;
	case CR_FD_TIMERFD:
		e->has_tfd_clock = true, e->tfd_clock = f->timerfd.clock;
		e->has_tfd_settime_flags = true, e->tfd_settime_flags = f->timerfd.settime_flags;
		e->has_tfd_ticks = true, e->tfd_ticks = f->timerfd.ticks;
		e->has_tfd_interval_ns = true, e->tfd_interval_ns = f->timerfd.interval_ns;
		e->has_tfd_value_ns = true, e->tfd_value_ns = f->timerfd.value_ns;
		break;
	case CR_FD_SIGNALFD:
		e->has_sfd_mask = true, e->sfd_mask = f->signalfd_mask;
		break;
	default:
		break;
	}
}

int enc_fd(struct img_out *o, int32_t pid, const struct cr_fd *f, ferry_err_t *err)
{
	FerryImg__FdEntry e = FERRY_IMG__FD_ENTRY__INIT;
	size_t nq = f->unix_sk.n_queue, nt = f->epoll.n_targets;
	_cleanup_free_ ProtobufCBinaryData *q = calloc(nq + 1, sizeof(*q));
	_cleanup_free_ FerryImg__EpollTarget *t = calloc(nt + 1, sizeof(*t));
	_cleanup_free_ FerryImg__EpollTarget **tp = calloc(nt + 1, sizeof(*tp));
	FerryImg__TcpSocket tcp = FERRY_IMG__TCP_SOCKET__INIT;

	if (!q || !t || !tp)
		return ferry_error(err, ENOMEM, "files.img");
	e.pid = pid, e.fd = f->fd, e.cloexec = f->cloexec, e.kind = f->kind;
	e.has_flags = true, e.flags = f->flags;
	e.has_offset = true, e.offset = f->offset;
	e.has_mode = true, e.mode = f->mode;
	e.path = f->path;
	e.has_id = f->id != 0, e.id = f->id;
	e.has_rdev = f->kind == CR_FD_CHR, e.rdev = f->rdev;
	e.has_termios = f->termios.len > 0;
	e.termios = (ProtobufCBinaryData){f->termios.len, f->termios.data};
	enc_fd_kind(&e, f);
	if (f->kind == CR_FD_TCP) {
		enc_tcp(&tcp, &f->tcp);
		e.tcp = &tcp;
	}
	for (size_t i = 0; i < nq; i++)
		q[i] = (ProtobufCBinaryData){f->unix_sk.queue[i].len, f->unix_sk.queue[i].data};
	e.n_queue = nq, e.queue = q;
	for (size_t i = 0; i < nt; i++) {
		ferry_img__epoll_target__init(&t[i]);
		t[i].fd = f->epoll.targets[i].fd;
		t[i].events = f->epoll.targets[i].events;
		t[i].data = f->epoll.targets[i].data;
		tp[i] = &t[i];
	}
	e.n_targets = nt, e.targets = tp;
	return img_out_record(o, &e.base, err);
}

int enc_shm(struct img_out *o, const struct cr_shm *s, ferry_err_t *err)
{
	FerryImg__ShmEntry e = FERRY_IMG__SHM_ENTRY__INIT;
	size_t n = s->pages.n_runs;
	_cleanup_free_ FerryImg__PageRun *r = calloc(n + 1, sizeof(*r));
	_cleanup_free_ FerryImg__PageRun **rp = calloc(n + 1, sizeof(*rp));

	if (!r || !rp)
		return ferry_error(err, ENOMEM, "shm.img");
	e.id = s->id, e.kind = s->kind, e.size = s->size, e.name = s->name;
	e.has_key = s->kind == CR_SHM_SYSV, e.key = s->key;
	e.mode = s->mode;
	e.has_seals = s->seals != 0, e.seals = s->seals;
	e.pages_id = s->pages.pages_id;
	for (size_t i = 0; i < n; i++) {
		ferry_img__page_run__init(&r[i]);
		r[i].vaddr = s->pages.runs[i].vaddr;
		r[i].nr_pages = s->pages.runs[i].nr_pages;
		r[i].offset = s->pages.runs[i].offset;
		rp[i] = &r[i];
	}
	e.n_runs = n, e.runs = rp;
	return img_out_record(o, &e.base, err);
}

int enc_ghost(struct img_out *o, const struct cr_ghost *g, ferry_err_t *err)
{
	FerryImg__GhostHead h = FERRY_IMG__GHOST_HEAD__INIT;

	h.id = g->id, h.mode = g->mode, h.size = g->data.len;
	if (img_out_record(o, &h.base, err) < 0)
		return -1;
	for (size_t off = 0; off < g->data.len; off += GHOST_CHUNK) {
		FerryImg__GhostChunk c = FERRY_IMG__GHOST_CHUNK__INIT;
		size_t n = g->data.len - off < GHOST_CHUNK ? g->data.len - off : GHOST_CHUNK;

		c.data = (ProtobufCBinaryData){n, g->data.data + off};
		if (img_out_record(o, &c.base, err) < 0)
			return -1;
	}
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* The model as JSON for `ferry image show`: every field; pages as runs and byte counts. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/internal.h"

static json_t *hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
	return json_string(buf);
}

static json_t *str(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The four flag words of a recorded termios (little-endian u32s at its start). */
static json_t *termios_json(const struct cr_bytes *t)
{
	uint32_t w[4];

	for (int i = 0; i < 4; i++)
		w[i] = (uint32_t)t->data[4 * i] | (uint32_t)t->data[4 * i + 1] << 8 |
		       (uint32_t)t->data[4 * i + 2] << 16 | (uint32_t)t->data[4 * i + 3] << 24;
	return json_pack("{s:o,s:o,s:o,s:o}", "iflag", hex(w[0]), "oflag", hex(w[1]), "cflag",
			 hex(w[2]), "lflag", hex(w[3]));
}

static json_t *pagemap_json(const struct cr_pagemap *pm)
{
	json_t *runs = json_array();
	uint64_t pages = 0;

	for (size_t i = 0; i < pm->n_runs; i++) {
		const struct cr_page_run *r = &pm->runs[i];

		json_t *run = json_pack("{s:o,s:o,s:I,s:I}", "start", hex(r->vaddr), "end",
					hex(r->vaddr + r->nr_pages * CR_PAGE_SIZE), "pages",
					(json_int_t)r->nr_pages, "offset", (json_int_t)r->offset);

		if (r->pages_id)
			json_object_set_new(run, "pages_id", json_integer(r->pages_id));
		json_array_append_new(runs, run);
		pages += r->nr_pages;
	}
	return json_pack("{s:i,s:I,s:I,s:o}", "pages_id", (int)pm->pages_id, "pages",
			 (json_int_t)pages, "bytes", (json_int_t)(pages * CR_PAGE_SIZE), "runs",
			 runs);
}

static json_t *regs_json(const struct cr_regs *g)
{
	static const char *const names[CR_NREGS] = {
	    "r15",    "r14", "r13", "r12",     "rbp",	  "rbx", "r11",	     "r10", "r9",
	    "r8",     "rax", "rcx", "rdx",     "rsi",	  "rdi", "orig_rax", "rip", "cs",
	    "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds",	 "es",	     "fs",  "gs"};
	const uint64_t *v = (const uint64_t *)g;
	json_t *o = json_object();

	for (int i = 0; i < CR_NREGS; i++)
		json_object_set_new(o, names[i], hex(v[i]));
	return o;
}

static json_t *siginfo_json(const struct cr_siginfo *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		int32_t signo, code;

		memcpy(&signo, s[i].raw, 4);
		memcpy(&code, s[i].raw + 8, 4);
		json_array_append_new(a, json_pack("{s:i,s:i}", "signo", signo, "code", code));
	}
	return a;
}

/* A thread's scheduling, or null. */
static json_t *sched_json(const struct cr_thread *t)
{
	const struct cr_sched *s = &t->sched;

	if (!t->has_sched)
		return json_null();
	return json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:i}", "policy", (int)s->policy, "flags",
			 (int)s->flags, "nice", s->nice, "priority", (int)s->priority, "runtime",
			 (json_int_t)s->runtime, "deadline", (json_int_t)s->deadline, "period",
			 (json_int_t)s->period, "ioprio", (int)s->ioprio);
}

static json_t *thread_json(const struct cr_thread *t)
{
	json_t *o = json_pack(
	    "{s:i,s:o,s:o,s:I,s:o,s:o,s:o,s:o,s:{s:o,s:I,s:i},s:o,s:I,s:o,s:{s:o,s:I,s:o}}", "tid",
	    t->tid, "comm", str(t->comm), "regs", regs_json(&t->regs), "xsave_bytes",
	    (json_int_t)t->xsave_len, "xsave_mask", hex(t->xsave_mask), "sigmask", hex(t->sigmask),
	    "pending", siginfo_json(t->pending, t->n_pending), "clear_child_tid",
	    hex(t->clear_child_tid), "sigaltstack", "sp", hex(t->altstack.sp), "size",
	    (json_int_t)t->altstack.size, "flags", (int)t->altstack.flags, "robust_list",
	    hex(t->robust_list), "robust_list_len", (json_int_t)t->robust_list_len, "xsave_present",
	    json_boolean(t->xsave != NULL), "rseq", "area", hex(t->rseq), "len",
	    (json_int_t)t->rseq_len, "sig", hex(t->rseq_sig));

	json_object_set_new(o, "sched", sched_json(t));
	json_object_set_new(o, "pdeath_sig", json_integer(t->pdeath_sig));
	return o;
}

static json_t *vma_json(const struct cr_vma *a)
{
	return json_pack("{s:o,s:o,s:i,s:i,s:i,s:o,s:I,s:I,s:I,s:I}", "start", hex(a->start), "end",
			 hex(a->end), "prot", (int)a->prot, "flags", (int)a->flags, "madv",
			 (int)a->madv, "path", str(a->path), "pgoff", (json_int_t)a->pgoff, "dev",
			 (json_int_t)a->dev, "ino", (json_int_t)a->ino, "shm_id",
			 (json_int_t)a->shm_id);
}

static json_t *mm_json(const struct cr_mm *m)
{
	json_t *auxv = json_array();

	for (size_t i = 0; i < m->n_auxv; i++)
		json_array_append_new(auxv, hex(m->auxv[i]));
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "start_code",
			 hex(m->start_code), "end_code", hex(m->end_code), "start_data",
			 hex(m->start_data), "end_data", hex(m->end_data), "start_brk",
			 hex(m->start_brk), "brk", hex(m->brk), "start_stack", hex(m->start_stack),
			 "arg_start", hex(m->arg_start), "arg_end", hex(m->arg_end), "env_start",
			 hex(m->env_start), "env_end", hex(m->env_end), "auxv", auxv, "exe",
			 str(m->exe));
}

static const char *const fd_kinds[] = {"?",	  "file",     "deleted", "dir",	    "chr",
				       "pipe",	  "fifo",     "unix",	 "eventfd", "epoll",
				       "timerfd", "signalfd", "memfd",	 "tcp"};

static json_t *tcp_addr(const struct cr_tcp *t, const uint8_t *a)
{
	char ip[64] = "?";

	inet_ntop(t->family == 10 ? AF_INET6 : AF_INET, a, ip, sizeof(ip));
	return json_string(ip);
}

static json_t *tcp_json(const struct cr_tcp *t)
{
	static const char *const states[] = {"same socket as an earlier fd", "ESTABLISHED"};
	json_t *o =
	    json_pack("{s:i,s:s,s:o,s:i,s:o,s:i,s:b}", "family", (int)t->family, "state",
		      t->state == 10 ? "LISTEN" : states[t->state == 1], "src", tcp_addr(t, t->src),
		      "sport", (int)t->sport, "dst", tcp_addr(t, t->dst), "dport", (int)t->dport,
		      "netns_locked", t->netns_locked);
	json_t *opts =
	    json_pack("{s:b,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:i,s:i,s:i}", "reuseaddr", t->reuseaddr,
		      "reuseport", t->reuseport, "keepalive", t->keepalive, "nodelay", t->nodelay,
		      "sack", (t->options & CR_TCP_OPT_SACK) != 0, "timestamps",
		      (t->options & CR_TCP_OPT_TIMESTAMPS) != 0, "keepidle", (int)t->keepidle,
		      "keepintvl", (int)t->keepintvl, "keepcnt", (int)t->keepcnt, "rcvbuf",
		      (int)t->rcvbuf, "sndbuf", (int)t->sndbuf);

	json_object_set_new(o, "options", opts);
	if (t->state == 10)
		json_object_set_new(o, "backlog", json_integer(t->backlog));
	if (t->state != 1)
		return o;
	json_object_set_new(
	    o, "repair",
	    json_pack("{s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:I}", "snd_seq", (json_int_t)t->snd_seq,
		      "rcv_seq", (json_int_t)t->rcv_seq, "send_queue_bytes",
		      (json_int_t)t->sendq.len, "unsent_bytes", (json_int_t)t->unsent,
		      "recv_queue_bytes", (json_int_t)t->recvq.len, "mss", (int)t->mss,
		      "snd_wscale", (int)(t->options & CR_TCP_OPT_WSCALE ? t->snd_wscale : 0),
		      "rcv_wscale", (int)(t->options & CR_TCP_OPT_WSCALE ? t->rcv_wscale : 0),
		      "timestamp", (json_int_t)t->timestamp));
	if (t->has_window)
		json_object_set_new(
		    o, "window",
		    json_pack("{s:I,s:I,s:I,s:I,s:I}", "snd_wl1", (json_int_t)t->snd_wl1, "snd_wnd",
			      (json_int_t)t->snd_wnd, "max_window", (json_int_t)t->max_window,
			      "rcv_wnd", (json_int_t)t->rcv_wnd, "rcv_wup",
			      (json_int_t)t->rcv_wup));
	return o;
}

static json_t *fd_json(const struct cr_fd *f)
{
	json_t *o = json_pack("{s:i,s:s,s:b,s:i,s:I,s:i,s:o,s:I}", "fd", f->fd, "kind",
			      fd_kinds[f->kind <= CR_FD_KIND_MAX ? f->kind : 0], "cloexec",
			      f->cloexec, "flags", (int)f->flags, "offset", (json_int_t)f->offset,
			      "mode", (int)f->mode, "path", str(f->path), "id", (json_int_t)f->id);
	json_t *q = json_array(), *t = json_array();

	if (f->kind == CR_FD_CHR)
		json_object_set_new(o, "rdev", json_integer(f->rdev));
	if (f->termios.len >= 16)
		json_object_set_new(o, "termios", termios_json(&f->termios));
	if (f->kind == CR_FD_PIPE || f->kind == CR_FD_FIFO) {
		json_object_set_new(o, "write_end", json_boolean(f->write_end));
		json_object_set_new(o, "data_bytes", json_integer(f->data.len));
	}
	for (size_t i = 0; i < f->unix_sk.n_queue; i++)
		json_array_append_new(q, json_integer(f->unix_sk.queue[i].len));
	for (size_t i = 0; i < f->epoll.n_targets; i++)
		json_array_append_new(t, json_pack("{s:i,s:i,s:o}", "fd", f->epoll.targets[i].fd,
						   "events", (int)f->epoll.targets[i].events,
						   "data", hex(f->epoll.targets[i].data)));
	if (f->kind == CR_FD_UNIX)
		json_object_set_new(o, "unix",
				    json_pack("{s:i,s:I,s:o,s:b,s:b}", "type", (int)f->unix_sk.type,
					      "peer", (json_int_t)f->unix_sk.peer, "queued_bytes",
					      q, "shut_rd", f->unix_sk.shut_rd, "shut_wr",
					      f->unix_sk.shut_wr));
	else
		json_decref(q);
	if (f->kind == CR_FD_TCP)
		json_object_set_new(o, "tcp", tcp_json(&f->tcp));
	if (f->kind == CR_FD_EPOLL)
		json_object_set_new(o, "targets", t);
	else
		json_decref(t);
	if (f->kind == CR_FD_EVENTFD)
		json_object_set_new(o, "eventfd",
				    json_pack("{s:I,s:i}", "counter",
					      (json_int_t)f->eventfd.counter, "flags",
					      (int)f->eventfd.flags));
	if (f->kind == CR_FD_TIMERFD)
		json_object_set_new(o, "timerfd",
				    json_pack("{s:i,s:i,s:I,s:I,s:I}", "clock", f->timerfd.clock,
					      "settime_flags", (int)f->timerfd.settime_flags,
					      "ticks", (json_int_t)f->timerfd.ticks, "interval_ns",
					      (json_int_t)f->timerfd.interval_ns, "value_ns",
					      (json_int_t)f->timerfd.value_ns));
	if (f->kind == CR_FD_SIGNALFD)
		json_object_set_new(o, "sigmask", hex(f->signalfd_mask));
	return o;
}

static json_t *creds_json(const struct cr_creds *c)
{
	json_t *g = json_array();

	for (size_t i = 0; i < c->n_groups; i++)
		json_array_append_new(g, json_integer(c->groups[i]));
	return json_pack("{s:[iiii],s:[iiii],s:o,s:o,s:o,s:o,s:o,s:o,s:i,s:b}", "uids", (int)c->uid,
			 (int)c->euid, (int)c->suid, (int)c->fsuid, "gids", (int)c->gid,
			 (int)c->egid, (int)c->sgid, (int)c->fsgid, "groups", g, "cap_inh",
			 hex(c->cap_inh), "cap_prm", hex(c->cap_prm), "cap_eff", hex(c->cap_eff),
			 "cap_bnd", hex(c->cap_bnd), "cap_amb", hex(c->cap_amb), "securebits",
			 (int)c->securebits, "no_new_privs", c->no_new_privs);
}

static json_t *limits_json(const struct cr_process *p)
{
	json_t *sa = json_array(), *rl = json_array(), *it = json_array(), *tm = json_array(),
	       *sc = json_array();

	for (int i = 0; i < CR_NSIG; i++) {
		const struct cr_sigaction *a = &p->sigactions[i];

		json_array_append_new(sa,
				      json_pack("{s:i,s:o,s:o,s:o,s:o}", "signo", i + 1, "handler",
						hex(a->handler), "flags", hex(a->flags), "restorer",
						hex(a->restorer), "mask", hex(a->mask)));
	}
	for (int i = 0; i < CR_RLIMIT_COUNT; i++)
		json_array_append_new(rl, json_pack("{s:o,s:o}", "cur", hex(p->rlimits[i].cur),
						    "max", hex(p->rlimits[i].max)));
	for (int i = 0; i < 3; i++)
		json_array_append_new(
		    it, json_pack("{s:I,s:I}", "interval_us", (json_int_t)p->itimers[i].interval_us,
				  "value_us", (json_int_t)p->itimers[i].value_us));
	for (size_t i = 0; i < p->n_timers; i++) {
		const struct cr_posix_timer *t = &p->timers[i];

		json_array_append_new(
		    tm, json_pack("{s:i,s:i,s:i,s:i,s:o,s:i,s:I,s:I,s:i}", "id", t->id, "clock",
				  t->clock, "notify", t->notify, "signo", t->signo, "sigev_value",
				  hex(t->sigev_value), "notify_tid", t->notify_tid, "interval_ns",
				  (json_int_t)t->interval_ns, "value_ns", (json_int_t)t->value_ns,
				  "overrun", t->overrun));
	}
	for (size_t i = 0; i < p->n_seccomp; i++)
		json_array_append_new(sc, json_pack("{s:I,s:i}", "instructions",
						    (json_int_t)(p->seccomp[i].len / 8), "flags",
						    (int)p->seccomp[i].flags));
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "sigactions", sa, "rlimits", rl, "itimers", it,
			 "posix_timers", tm, "seccomp", sc);
}

static json_t *process_json(const struct cr_process *p)
{
	json_t *th = json_array(), *vm = json_array(), *fds = json_array();
	json_t *o;

	for (size_t i = 0; i < p->n_threads; i++)
		json_array_append_new(th, thread_json(&p->threads[i]));
	for (size_t i = 0; i < p->n_vmas; i++)
		json_array_append_new(vm, vma_json(&p->vmas[i]));
	for (size_t i = 0; i < p->n_fds; i++)
		json_array_append_new(fds, fd_json(&p->fds[i]));
	o = json_pack("{s:i,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "pid",
		      p->pid, "ppid", p->ppid, "pgid", p->pgid, "sid", p->sid, "comm", str(p->comm),
		      "threads", th, "mm", mm_json(&p->mm), "vmas", vm, "pages",
		      pagemap_json(&p->pages), "creds", creds_json(&p->creds), "umask",
		      json_integer(p->umask), "cwd", str(p->cwd), "root", str(p->root),
		      "personality", hex(p->personality), "shared_pending",
		      siginfo_json(p->shared_pending, p->n_shared_pending), "fds", fds);
	json_object_update_new(o, limits_json(p));
	if (p->has_prctl)
		json_object_set_new(o, "prctl",
				    json_pack("{s:i,s:i,s:b,s:b}", "oom_score_adj",
					      p->oom_score_adj, "dumpable", (int)p->dumpable,
					      "child_subreaper", p->child_subreaper, "thp_disable",
					      p->thp_disable));
	return o;
}

static json_t *image_json(const struct cr_image *img)
{
	const struct cr_host *h = &img->host;
	json_t *vdso = json_array(), *procs = json_array(), *shm = json_array();
	json_t *ghosts = json_array();

	for (size_t i = 0; i < h->n_vdso; i++)
		json_array_append_new(vdso,
				      json_pack("{s:s,s:o,s:o}", "name", h->vdso[i].name, "start",
						hex(h->vdso[i].start), "end", hex(h->vdso[i].end)));
	for (size_t i = 0; i < img->n_procs; i++)
		json_array_append_new(procs, process_json(&img->procs[i]));
	for (size_t i = 0; i < img->n_shm; i++) {
		const struct cr_shm *s = &img->shm[i];

		json_array_append_new(
		    shm, json_pack("{s:I,s:i,s:I,s:o,s:i,s:i,s:i,s:o}", "id", (json_int_t)s->id,
				   "kind", (int)s->kind, "size", (json_int_t)s->size, "name",
				   str(s->name), "key", s->key, "mode", (int)s->mode, "seals",
				   (int)s->seals, "pages", pagemap_json(&s->pages)));
	}
	for (size_t i = 0; i < img->n_ghosts; i++)
		json_array_append_new(ghosts, json_pack("{s:I,s:i,s:I}", "id",
							(json_int_t)img->ghosts[i].id, "mode",
							(int)img->ghosts[i].mode, "bytes",
							(json_int_t)img->ghosts[i].data.len));
	return json_pack("{s:i,s:{s:o,s:o,s:o,s:o,s:o,s:o},s:i,s:o,s:o,s:o,s:o}", "format_version",
			 IMAGE_FORMAT_VERSION, "host", "os", str(h->os), "kernel", str(h->kernel),
			 "arch", str(h->arch), "xsave_mask", hex(h->xsave_mask), "vdso", vdso,
			 "ferry_version", str(h->ferry_version), "root_pid", img->root_pid,
			 "processes", procs, "shm", shm, "ghosts", ghosts, "container",
			 img_container_json(img->container));
}

char *image_to_json(const struct cr_image *img, ferry_err_t *err)
{
	json_t *j = image_json(img);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (!s)
		ferry_error(err, ENOMEM, "image as JSON");
	return s;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* A sample process model touching every field, and a writer for it (tests only). */
#ifndef FERRY_TEST_IMAGE_SAMPLE_H
#define FERRY_TEST_IMAGE_SAMPLE_H

#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define S_BASE 0x7f0000000000ull

static void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n ? n : 1, s);

	if (!p)
		abort();
	return p;
}

static void sample_thread(struct cr_thread *t, int32_t tid)
{
	uint64_t *r = (uint64_t *)&t->regs;

	t->tid = tid;
	t->comm = strdup("worker");
	for (int i = 0; i < CR_NREGS; i++)
		r[i] = 0x1000ull * tid + i;
	t->xsave_len = 832;
	t->xsave = xcalloc(1, 832);
	for (int i = 0; i < 832; i++)
		t->xsave[i] = (uint8_t)(i * 7 + tid);
	t->xsave_mask = 0x7;
	t->sigmask = 1ull << 9;
	t->n_pending = 1;
	t->pending = xcalloc(1, sizeof(*t->pending));
	t->pending[0].raw[0] = 10; /* SIGUSR1 */
	t->pending[0].raw[100] = 0xab;
	t->altstack = (struct cr_sigaltstack){S_BASE + 0x8000, 8192, 0};
	t->robust_list = S_BASE + 0x100 + tid, t->robust_list_len = 24;
	t->clear_child_tid = S_BASE + 0x200;
	t->rseq = S_BASE + 0x300 + 32 * (uint64_t)(tid % 4), t->rseq_len = 32;
	t->rseq_sig = 0x53053053;
	t->has_sched = true;
	t->sched = (struct cr_sched){.policy = 3, .nice = 7, .ioprio = 2 << 13 | 3};
	t->pdeath_sig = tid % 2 ? 1 : 0;
}

static void sample_fds(struct cr_process *p, int32_t pid)
{
	struct cr_fd *f;

	p->n_fds = 6;
	p->fds = f = xcalloc(6, sizeof(*f));
	f[0] = (struct cr_fd){.fd = 0,
			      .kind = CR_FD_CHR,
			      .flags = 2,
			      .mode = 020666,
			      .path = strdup("/dev/null"),
			      .rdev = 0x103};
	f[1] = (struct cr_fd){.fd = 1,
			      .kind = CR_FD_REG,
			      .flags = 02001,
			      .offset = 12345,
			      .mode = 0100644,
			      .path = strdup("/tmp/log.txt"),
			      .cloexec = true};
	f[2] = (struct cr_fd){.fd = 3, .kind = CR_FD_PIPE, .id = 7, .write_end = false};
	f[2].data.len = 5, f[2].data.data = (uint8_t *)strdup("hello");
	f[3] = (struct cr_fd){.fd = 4, .kind = CR_FD_UNIX, .id = 100 + pid};
	f[3].unix_sk.type = 1, f[3].unix_sk.peer = 100 + pid, f[3].unix_sk.n_queue = 2;
	f[3].unix_sk.queue = xcalloc(2, sizeof(struct cr_bytes));
	f[3].unix_sk.queue[0] = (struct cr_bytes){(uint8_t *)strdup("abc"), 3};
	f[3].unix_sk.queue[1] = (struct cr_bytes){(uint8_t *)strdup("de"), 2};
	f[4] = (struct cr_fd){.fd = 5, .kind = CR_FD_EPOLL};
	f[4].epoll.n_targets = 1;
	f[4].epoll.targets = xcalloc(1, sizeof(struct cr_epoll_target));
	f[4].epoll.targets[0] = (struct cr_epoll_target){3, 1, 0xdeadbeef};
	f[5] = (struct cr_fd){
	    .fd = 9, .kind = CR_FD_DELETED, .id = 1, .mode = 0100600, .path = strdup("/tmp/gone")};
}

static void sample_process(struct cr_process *p, int32_t pid, int32_t ppid, int nthreads)
{
	p->pid = pid, p->ppid = ppid, p->pgid = pid, p->sid = ppid ? ppid : pid;
	p->comm = strdup("sample");
	p->n_threads = nthreads;
	p->threads = xcalloc(nthreads, sizeof(*p->threads));
	for (int i = 0; i < nthreads; i++)
		sample_thread(&p->threads[i], pid + i);
	p->n_vmas = 3;
	p->vmas = xcalloc(3, sizeof(*p->vmas));
	p->vmas[0] =
	    (struct cr_vma){0x400000, 0x402000, 5, 0, 0, strdup("/bin/sample"), 0, 0x801, 42, 0};
	p->vmas[1] = (struct cr_vma){S_BASE, S_BASE + 0x10000, 3, CR_VMA_ANON, CR_MADV_DONTFORK};
	p->vmas[2] = (struct cr_vma){S_BASE + 0x20000,
				     S_BASE + 0x22000,
				     3,
				     CR_VMA_ANON | CR_VMA_SHARED,
				     0,
				     NULL,
				     0,
				     0,
				     0,
				     1};
	p->mm = (struct cr_mm){0x400000,	0x402000, 0x600000, 0x601000, 0x700000, 0x721000,
			       S_BASE + 0x9000, 1,	  2,	    3,	      4};
	p->mm.n_auxv = 4;
	p->mm.auxv = xcalloc(4, sizeof(uint64_t));
	p->mm.auxv[0] = 6, p->mm.auxv[1] = 4096;
	p->mm.exe = strdup("/bin/sample");
	for (int i = 0; i < CR_NSIG; i++)
		p->sigactions[i] = (struct cr_sigaction){i, i * 2, i * 3, i * 4};
	for (int i = 0; i < CR_RLIMIT_COUNT; i++)
		p->rlimits[i] = (struct cr_rlimit){i, CR_RLIM_INFINITY};
	p->umask = 022;
	p->cwd = strdup("/tmp");
	p->root = strdup("/");
	p->creds = (struct cr_creds){1, 2, 3, 4, 5, 6, 7, 8, NULL, 2, 1, 2, 3, 4, 5, 6, true};
	p->creds.groups = xcalloc(2, sizeof(uint32_t));
	p->creds.groups[0] = 10, p->creds.groups[1] = 20;
	p->personality = 0x0400000;
	p->itimers[0] = (struct cr_itimer){1000, 2000};
	p->n_timers = 1;
	p->timers = xcalloc(1, sizeof(*p->timers));
	p->timers[0] = (struct cr_posix_timer){0, 1, 0, 14, 99, pid, 5, 6, 0};
	p->has_prctl = true;
	p->oom_score_adj = -17, p->dumpable = 0, p->child_subreaper = true;
	p->n_seccomp = 1;
	p->seccomp = xcalloc(1, sizeof(*p->seccomp));
	p->seccomp[0] = (struct cr_seccomp_filter){xcalloc(4, 8), 32, CR_SECCOMP_LOG};
	p->seccomp[0].bpf[0] = 0x20, p->seccomp[0].bpf[31] = (uint8_t)pid;
	p->n_shared_pending = 1;
	p->shared_pending = xcalloc(1, sizeof(*p->shared_pending));
	p->shared_pending[0].raw[0] = 15;
	sample_fds(p, pid);
}

/* Builds the sample (a root and a two-thread child sharing an anonymous object), writes it with
 * its pages into dir; returns 0 or -1. *img holds the written model. */
static int sample_write(const char *dir, struct cr_image *img, ferry_err_t *err)
{
	struct image_writer *w;
	uint8_t page[2 * CR_PAGE_SIZE];

	memset(img, 0, sizeof(*img));
	img->host = (struct cr_host){strdup("Linux"), strdup("6.18.0"), strdup("x86_64"), 0x2e7};
	img->host.n_vdso = 1;
	img->host.vdso = xcalloc(1, sizeof(struct cr_vdso_area));
	img->host.vdso[0] =
	    (struct cr_vdso_area){strdup("[vdso]"), S_BASE + 0x50000, S_BASE + 0x52000};
	img->host.ferry_version = strdup("0.1.0");
	img->root_pid = 42;
	img->n_procs = 2;
	img->procs = xcalloc(2, sizeof(*img->procs));
	sample_process(&img->procs[0], 42, 1, 1);
	sample_process(&img->procs[1], 50, 42, 2);
	img->n_shm = 1;
	img->shm = xcalloc(1, sizeof(*img->shm));
	img->shm[0] = (struct cr_shm){.id = 1, .kind = CR_SHM_ANON, .size = 0x2000, .mode = 0600};
	img->n_ghosts = 1;
	img->ghosts = xcalloc(1, sizeof(*img->ghosts));
	img->ghosts[0] = (struct cr_ghost){1, 0100600, {(uint8_t *)strdup("gone but open"), 13}};
	w = image_writer_open(dir, err);
	if (!w)
		return -1;
	for (size_t i = 0; i < img->n_procs; i++) {
		struct cr_process *p = &img->procs[i];

		p->pages.pages_id = image_writer_new_pages_id(w);
		for (int k = 0; k < 4; k++) {
			memset(page, 'a' + k + (int)i, sizeof(page));
			if (image_write_pages(w, &p->pages, S_BASE + k * 0x4000, page, 2, err) < 0)
				goto fail;
		}
	}
	img->shm[0].pages.pages_id = img->procs[0].pages.pages_id;
	memset(page, 's', sizeof(page));
	if (image_write_pages(w, &img->shm[0].pages, 0x1000, page, 1, err) < 0 ||
	    image_write_all(w, img, err) < 0)
		goto fail;
	return image_writer_close(w, &img->host, img->root_pid, err);
fail:
	image_writer_abort(w);
	return -1;
}

#endif

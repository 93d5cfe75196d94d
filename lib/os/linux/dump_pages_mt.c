// SPDX-License-Identifier: Apache-2.0
/* A large address space moved into several pages files at once (parasite.h, lx_pages_mt): its
 * present pages are cut into as many contiguous chunks of about the same size as the injected
 * code has writers (when it has no pipes) or else pipes, one stream each. With writers, this thread
 * (the tracer) hands each writer its stream's pages file with its first batch and keeps two in
 * flight per writer; the process's own threads write them (one copy, on as many CPUs). With pipes,
 * it sends the streams' batches to the code in turn and records the checksums it answers, while one
 * thread per stream splices that stream's pipe into its own pages file. Filling one tmpfs file
 * costs a page-cache page allocated and copied per page under the file's lock; several files fill
 * on several CPUs at once.
 *
 * The splicing threads touch nothing but their pipe, their file and their own stream record: the
 * image writer, the error objects and every ptrace call stay in this thread. They stop at the end
 * of their stream, on an error, or when told to (checked at least every POLL_MS). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "image/image.h"
#include "os/linux/parasite.h"

#define POLL_MS 50

/* One range that went through the code: where it is and the file's checksum after it. */
struct run_rec {
	uint64_t vaddr, nr_pages;
	uint32_t crc;
};

struct stream {
	uint32_t id;	       /* its pages file */
	int file;	       /* that file's descriptor (the writer's) */
	int pipe;	       /* ferry's read end of its pipe */
	uint32_t crc0;	       /* the file's checksum before the stream */
	bool sent_any;	       /* a command went out (the code continues the checksum) */
	uint64_t off;	       /* writers: where the next batch goes in the file */
	struct lx_page_list l; /* its ranges */
	size_t next;	       /* the next range to send */
	uint64_t at;	       /* bytes of it already sent */
	struct run_rec *runs;
	size_t n_runs, cap_runs;
	/* the splicing thread's: */
	pthread_t th;
	bool started;
	uint64_t total, drained;
	int error;	  /* errno of its failure, or 0 */
	uint64_t written; /* bytes in the file when it failed */
	atomic_bool *stop;
};

/* A command in flight: its stream and ranges. */
struct inflight {
	size_t k, n;
	struct lx_page_range r[LX_PARASITE_MAX_RANGES];
};

struct mt {
	struct lx_parasite *ps;
	const struct lx_pages_mt *job;
	struct stream *s;
	size_t n;
	size_t batch; /* bytes per command at most */
	size_t piece; /* bytes per range at most */
	struct inflight q[LX_PARASITE_QUEUE];
	struct inflight wq[LX_PARASITE_MAX_WRITERS][LX_PARASITE_QUEUE]; /* writers' in flight */
	atomic_bool stop;
};

/* Waits up to POLL_MS for data in the stream's pipe. */
static void wait_data(const struct stream *s)
{
	struct pollfd p = {.fd = s->pipe, .events = POLLIN};

	poll(&p, 1, POLL_MS);
}

/* After a failed splice: reads and drops the rest of the stream, so that the code never blocks
 * on a full pipe while this thread's caller waits for its answers. */
static void discard(struct stream *s)
{
	char buf[65536];

	while (s->drained < s->total && !atomic_load(s->stop)) {
		ssize_t k = read(s->pipe, buf, sizeof(buf));

		if (k > 0)
			s->drained += (uint64_t)k;
		else if (k < 0 && errno != EAGAIN && errno != EINTR)
			return;
		else if (k < 0)
			wait_data(s);
		else
			return;
	}
}

/* Splices the stream's pipe into its file until total bytes went through, an error or a stop. */
static void *splicer(void *arg)
{
	struct stream *s = arg;

	while (s->drained < s->total && !atomic_load(s->stop)) {
		ssize_t k = splice(s->pipe, NULL, s->file, NULL, s->total - s->drained,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

		if (k > 0) {
			s->drained += (uint64_t)k;
			continue;
		}
		if (k < 0 && errno == EAGAIN) {
			wait_data(s);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		s->error = k < 0 ? errno : EIO;
		s->written = s->drained;
		discard(s);
		break;
	}
	return NULL;
}

/* Cuts the ranges of l into m->n streams of about the same size, in address order; returns 0 or
 * -1. */
static int split(struct mt *m, const struct lx_page_list *l, ferry_err_t *err)
{
	uint64_t share = (l->bytes / m->n + CR_PAGE_SIZE - 1) / CR_PAGE_SIZE * CR_PAGE_SIZE;
	size_t k = 0;

	for (size_t i = 0; i < l->n; i++) {
		uint64_t at = l->v[i].start;

		while (at < l->v[i].end) {
			struct stream *s = &m->s[k];
			uint64_t take = l->v[i].end - at;

			if (k + 1 < m->n && take > share - s->l.bytes)
				take = share - s->l.bytes;
			if (lx_page_list_add(&s->l, at, at + take, err) < 0)
				return -1;
			at += take;
			if (k + 1 < m->n && s->l.bytes == share)
				k++;
		}
	}
	return 0;
}

/* Fills q with the stream's next ranges, each up to m->piece bytes, up to m->batch in all. */
static void next_batch(struct mt *m, size_t k, struct inflight *q)
{
	struct stream *s = &m->s[k];
	uint64_t bytes = 0;

	q->k = k, q->n = 0;
	while (s->next < s->l.n && q->n < LX_PARASITE_MAX_RANGES && bytes < m->batch) {
		const struct lx_page_range *v = &s->l.v[s->next];
		uint64_t start = v->start + s->at, take = v->end - start;

		if (take > m->batch - bytes)
			take = m->batch - bytes;
		if (take > m->piece)
			take = m->piece;
		q->r[q->n++] = (struct lx_page_range){start, start + take};
		bytes += take, s->at += take;
		if (v->start + s->at == v->end)
			s->next++, s->at = 0;
	}
}

/* Keeps the checksums of q's ranges in its stream and tells the progress; returns 0 or -1. */
static int keep_runs(struct mt *m, const struct inflight *q, const uint32_t *crc, ferry_err_t *err)
{
	struct stream *s = &m->s[q->k];

	if (s->n_runs + q->n > s->cap_runs) {
		size_t cap = 2 * s->cap_runs + q->n;
		struct run_rec *v = realloc(s->runs, cap * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "pages");
		s->runs = v, s->cap_runs = cap;
	}
	for (size_t i = 0; i < q->n; i++)
		s->runs[s->n_runs++] = (struct run_rec){
		    q->r[i].start, (q->r[i].end - q->r[i].start) / CR_PAGE_SIZE, crc[i]};
	if (m->job->progress)
		m->job->progress(m->job->arg, q->r, q->n);
	return 0;
}

/* Reads the oldest command's result and keeps its ranges' checksums; returns 0 or -1. */
static int take_result(struct mt *m, ferry_err_t *err)
{
	uint32_t crc[LX_PARASITE_MAX_RANGES];

	if (lx_parasite_result(m->ps, crc, err) < 0 || keep_runs(m, &m->q[0], crc, err) < 0)
		return -1;
	memmove(&m->q[0], &m->q[1], sizeof(m->q) - sizeof(m->q[0]));
	return 0;
}

/* Sends every stream's batches to the code in turn and collects the results; returns 0 or -1. */
static int pump(struct mt *m, ferry_err_t *err)
{
	size_t turn = 0;

	for (;;) {
		size_t k = m->n;
		struct inflight *q;
		struct stream *s;

		for (size_t j = 0; j < m->n && k == m->n; j++)
			if (m->s[(turn + j) % m->n].next < m->s[(turn + j) % m->n].l.n)
				k = (turn + j) % m->n;
		if (k == m->n)
			break;
		turn = k + 1;
		if (m->ps->queued == LX_PARASITE_QUEUE && take_result(m, err) < 0)
			return -1;
		s = &m->s[k];
		q = &m->q[m->ps->queued];
		next_batch(m, k, q);
		if (lx_parasite_send(m->ps, k, q->r, q->n, s->sent_any ? NULL : &s->crc0, err) < 0)
			return -1;
		s->sent_any = true;
	}
	while (m->ps->queued)
		if (take_result(m, err) < 0)
			return -1;
	return 0;
}

/* Reads writer k's oldest result and keeps its ranges' checksums; returns 0 or -1. */
static int take_written(struct mt *m, size_t k, ferry_err_t *err)
{
	uint32_t crc[LX_PARASITE_MAX_RANGES];
	struct inflight *q = m->wq[k];

	if (lx_parasite_write_result(m->ps, k, crc, err) < 0 || keep_runs(m, &q[0], crc, err) < 0)
		return -1;
	memmove(&q[0], &q[1], (LX_PARASITE_QUEUE - 1) * sizeof(q[0]));
	return 0;
}

/* Keeps up to LX_PARASITE_QUEUE batches in flight with writer k; returns 0 or -1. */
static int feed(struct mt *m, size_t k, ferry_err_t *err)
{
	struct stream *s = &m->s[k];

	while (m->ps->wqueued[k] < LX_PARASITE_QUEUE && s->next < s->l.n) {
		struct inflight *q = &m->wq[k][m->ps->wqueued[k]];
		uint64_t bytes = 0;

		next_batch(m, k, q);
		for (size_t i = 0; i < q->n; i++)
			bytes += q->r[i].end - q->r[i].start;
		if (lx_parasite_write(m->ps, k, q->r, q->n, s->off, s->sent_any ? NULL : &s->crc0,
				      s->sent_any ? -1 : s->file, err) < 0)
			return -1;
		s->sent_any = true;
		s->off += bytes;
	}
	return 0;
}

/* Opens stream k's pages file (the page map's own for the first, new ones for the others) for
 * appending, with the file's checksum so far in s->crc0; returns 0 or -1. */
static int open_file(struct mt *m, size_t k, ferry_err_t *err)
{
	struct stream *s = &m->s[k];

	s->id = k ? image_writer_new_pages_id(m->job->w) : m->job->pm->pages_id;
	s->file = image_pages_append_fd(m->job->w, s->id, &s->crc0, err);
	return s->file < 0 ? -1 : 0;
}

/* Opens each writer's pages file (for appending through the image writer; the writers write at
 * known offsets, and the file position is put at the end afterwards): its first command hands it
 * over. Returns 0 or -1. */
static int open_files(struct mt *m, ferry_err_t *err)
{
	for (size_t k = 0; k < m->n; k++) {
		struct stream *s = &m->s[k];
		off_t at;

		if (open_file(m, k, err) < 0)
			return -1;
		at = lseek(s->file, 0, SEEK_CUR);
		if (at < 0)
			return ferry_error_errno(err, "pages-%u.img", s->id);
		s->off = (uint64_t)at;
	}
	return 0;
}

/* Writes every stream through its writer; returns 0 or -1. */
static int pump_writers(struct mt *m, ferry_err_t *err)
{
	if (open_files(m, err) < 0)
		return -1;
	for (;;) {
		bool busy = false;
		int ready;

		for (size_t k = 0; k < m->n; k++) {
			if (feed(m, k, err) < 0)
				return -1;
			busy = busy || m->ps->wqueued[k];
		}
		if (!busy)
			break;
		ready = lx_parasite_wait_writers(m->ps, err);
		if (ready < 0)
			return -1;
		for (size_t k = 0; k < m->n; k++)
			if ((ready & (1 << k)) && take_written(m, k, err) < 0)
				return -1;
	}
	for (size_t k = 0; k < m->n; k++) {
		struct stream *s = &m->s[k];

		if (lseek(s->file, (off_t)s->off, SEEK_SET) < 0)
			return ferry_error_errno(err, "pages-%u.img", s->id);
	}
	lx_parasite_release_writers(m->ps);
	return 0;
}

/* Opens each stream's file and starts its thread; returns 0 or -1. */
static int start_streams(struct mt *m, ferry_err_t *err)
{
	for (size_t k = 0; k < m->n; k++) {
		struct stream *s = &m->s[k];
		int e;

		if (open_file(m, k, err) < 0)
			return -1;
		s->pipe = m->ps->pipe_fd[k];
		s->total = s->l.bytes;
		s->stop = &m->stop;
		e = pthread_create(&s->th, NULL, splicer, s);
		if (e)
			return ferry_error(err, e, "start a thread for pages-%u.img", s->id);
		s->started = true;
	}
	return 0;
}

/* Waits for the threads; returns 0, or -1 when one failed or fell short (with ok: err set). */
static int join_streams(struct mt *m, bool ok, ferry_err_t *err)
{
	int r = 0;

	for (size_t k = 0; k < m->n; k++) {
		struct stream *s = &m->s[k];

		if (!s->started)
			continue;
		pthread_join(s->th, NULL);
		if (ok && r == 0 && (s->error || s->drained != s->total))
			r = ferry_error(err, s->error ? s->error : EIO,
					"splice pages into pages-%u.img: %llu of %llu bytes", s->id,
					(unsigned long long)(s->error ? s->written : s->drained),
					(unsigned long long)s->total);
	}
	return r;
}

/* Records every stream's runs in the page map, stream after stream (address order). */
static int record(struct mt *m, ferry_err_t *err)
{
	for (size_t k = 0; k < m->n; k++)
		for (size_t i = 0; i < m->s[k].n_runs; i++) {
			const struct run_rec *v = &m->s[k].runs[i];

			if (image_pages_appended_to(m->job->w, m->job->pm, m->s[k].id, v->vaddr,
						    v->nr_pages, v->crc, err) < 0)
				return -1;
		}
	return 0;
}

int lx_pages_mt(struct lx_parasite *ps, const struct lx_pages_mt *job, const struct lx_page_list *l,
		ferry_err_t *err)
{
	_cleanup_free_ struct mt *m = calloc(1, sizeof(*m));
	bool writers = ps->n_pipes == 0;
	size_t n = writers ? ps->n_writers : ps->n_pipes;
	int r = -1;

	if (!m || !(m->s = calloc(n, sizeof(*m->s))))
		return ferry_error(err, ENOMEM, "pages");
	m->ps = ps, m->job = job, m->n = n;
	m->batch =
	    writers ? LX_PARASITE_WRITE_BATCH : ps->pipe_size / 2 / CR_PAGE_SIZE * CR_PAGE_SIZE;
	m->piece = writers ? LX_PARASITE_WRITE_PIECE : m->batch;
	atomic_init(&m->stop, false);
	if (m->batch && split(m, l, err) == 0 &&
	    (writers			  ? pump_writers(m, err)
	     : start_streams(m, err) == 0 ? pump(m, err)
					  : -1) == 0)
		r = 0;
	if (r < 0)
		atomic_store(&m->stop, true);
	if (join_streams(m, r == 0, err) < 0)
		r = -1;
	if (r == 0)
		r = record(m, err);
	for (size_t k = 0; k < m->n; k++) {
		lx_page_list_free(&m->s[k].l);
		free(m->s[k].runs);
	}
	free(m->s);
	return r;
}

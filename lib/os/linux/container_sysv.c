// SPDX-License-Identifier: Apache-2.0
/*
 * SysV semaphore sets and message queues of a container's own IPC namespace. The work runs in a
 * thread that joins the namespace (the IPC namespace is per thread and dies with it), so what it
 * reads lands in the caller's memory. Ids are kept: the processes name the objects by id, and
 * /proc/sys/kernel/{sem,msg}_next_id choose the id of the next object made.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/container_sysv.h"

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct job {
	pid_t init;
	struct cr_container *out;      /* collect */
	const struct cr_container *in; /* prepare */
	int (*fn)(struct job *j, ferry_err_t *err);
	ferry_err_t err;
	int r;
};

static void *job_thread(void *arg)
{
	struct job *j = arg;
	char path[64];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)j->init);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		j->r = ferry_error_errno(&j->err, "open %s", path);
		return NULL;
	}
	if (setns(fd, CLONE_NEWIPC) < 0) {
		j->r = ferry_error_errno(&j->err, "join the IPC namespace of %d", (int)j->init);
		return NULL;
	}
	j->r = j->fn(j, &j->err);
	return NULL;
}

/* Runs j->fn in a thread inside init's IPC namespace (the caller may be in it already: a dump
 * works there); returns its result. */
static int in_ipc_ns(struct job *j, ferry_err_t *err)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, job_thread, j);

	if (e)
		return ferry_error(err, e, "start a thread for the IPC namespace");
	pthread_join(t, NULL);
	if (j->r < 0) {
		if (err && !*err)
			*err = ferry_error_steal(&j->err);
		ferry_error_free(&j->err);
		return -1;
	}
	return 0;
}

/* /proc/sys/kernel/<name> of the caller's IPC namespace. */
static int read_kernel(const char *name, long *v, ferry_err_t *err)
{
	char path[96];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%ld", v) != 1)
		return ferry_error_errno(err, "read %s", path);
	return 0;
}

static int write_kernel(const char *name, long v, ferry_err_t *err)
{
	char path[96], buf[32];
	_cleanup_close_ int fd = -1;
	int len = snprintf(buf, sizeof(buf), "%ld", v);

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return ferry_error_errno(err, "write %s to %s", buf, path);
	return 0;
}

/* Writes msgmnb or msgmax: an IPC namespace's limits are writable by the root of the user
 * namespace that owns it (the owner of the file), not by the host's root; this thread takes
 * that uid as its effective one for the write (the raw syscall: glibc's setresuid would change
 * every thread) and takes 0 back. Returns 0 or -1. */
static int write_limit(const char *name, long v, ferry_err_t *err)
{
	char path[96];
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s", name);
	if (stat(path, &st) < 0)
		return ferry_error_errno(err, "stat %s", path);
	if (st.st_uid && syscall(SYS_setresuid, -1, st.st_uid, -1) < 0)
		return ferry_error_errno(err, "take uid %u to write %s", st.st_uid, path);
	r = write_kernel(name, v, err);
	if (st.st_uid && syscall(SYS_setresuid, -1, 0, -1) < 0)
		return ferry_error_errno(err, "take uid 0 back");
	return r;
}

static int collect_sem(int id, const struct semid_ds *ds, struct cr_container *c, ferry_err_t *err)
{
	struct cr_sysv_sem *s = realloc(c->sems, (c->n_sems + 1) * sizeof(*s));
	union semun arg;

	if (!s)
		return ferry_error(err, ENOMEM, "semaphore sets");
	c->sems = s;
	s = &c->sems[c->n_sems];
	*s = (struct cr_sysv_sem){
	    .key = ds->sem_perm.__key,
	    .id = id,
	    .mode = ds->sem_perm.mode & 0777,
	    .uid = ds->sem_perm.uid,
	    .gid = ds->sem_perm.gid,
	    .cuid = ds->sem_perm.cuid,
	    .cgid = ds->sem_perm.cgid,
	    .nsems = ds->sem_nsems,
	};
	s->values = calloc(s->nsems + 1, sizeof(*s->values));
	if (!s->values)
		return ferry_error(err, ENOMEM, "semaphore values");
	c->n_sems++;
	arg.array = s->values;
	if (semctl(id, 0, GETALL, arg) < 0)
		return ferry_error_errno(err, "the values of semaphore set %d", id);
	return 0;
}

static int collect_sems(struct job *j, ferry_err_t *err)
{
	struct seminfo info;
	union semun arg = {.__buf = &info};
	int max = semctl(0, 0, SEM_INFO, arg);

	if (max < 0)
		return ferry_error_errno(err, "semctl SEM_INFO");
	for (int idx = 0; idx <= max; idx++) {
		struct semid_ds ds;
		int id;

		arg.buf = &ds;
		id = semctl(idx, 0, SEM_STAT_ANY, arg);
		if (id < 0 && errno == EINVAL) /* a free slot */
			continue;
		if (id < 0)
			return ferry_error_errno(err, "semctl SEM_STAT_ANY %d", idx);
		if (collect_sem(id, &ds, j->out, err) < 0)
			return -1;
	}
	return 0;
}

/* The messages of queue q (cbytes bytes in qnum messages), copied in order, left in place. */
static int copy_messages(int id, struct cr_sysv_queue *q, size_t qnum, size_t cbytes,
			 ferry_err_t *err)
{
	_cleanup_free_ struct msgbuf *buf = malloc(sizeof(*buf) + cbytes + 1);

	q->msgs = calloc(qnum + 1, sizeof(*q->msgs));
	if (!buf || !q->msgs)
		return ferry_error(err, ENOMEM, "messages of queue %d", id);
	for (size_t k = 0; k < qnum; k++) {
		ssize_t n = msgrcv(id, buf, cbytes + 1, (long)k, MSG_COPY | IPC_NOWAIT);
		struct cr_sysv_msg *m = &q->msgs[k];

		if (n < 0)
			return ferry_error_errno(err, "message %zu of SysV message queue %d", k,
						 id);
		m->type = buf->mtype;
		m->data.data = malloc((size_t)n + 1);
		if (!m->data.data)
			return ferry_error(err, ENOMEM, "messages of queue %d", id);
		memcpy(m->data.data, buf->mtext, (size_t)n);
		m->data.len = (size_t)n;
		q->n_msgs = k + 1;
	}
	return 0;
}

static int collect_queue(int id, const struct msqid_ds *ds, struct cr_container *c,
			 ferry_err_t *err)
{
	struct cr_sysv_queue *q;

	if (ds->__msg_cbytes > LX_SYSV_MAX_QUEUE_BYTES)
		return ferry_error(err, 0,
				   "SysV message queue %d holds %lu bytes: more than a checkpoint "
				   "carries (%u)",
				   id, (unsigned long)ds->__msg_cbytes, LX_SYSV_MAX_QUEUE_BYTES);
	q = realloc(c->queues, (c->n_queues + 1) * sizeof(*q));
	if (!q)
		return ferry_error(err, ENOMEM, "message queues");
	c->queues = q;
	q = &c->queues[c->n_queues++];
	*q = (struct cr_sysv_queue){
	    .key = ds->msg_perm.__key,
	    .id = id,
	    .mode = ds->msg_perm.mode & 0777,
	    .uid = ds->msg_perm.uid,
	    .gid = ds->msg_perm.gid,
	    .cuid = ds->msg_perm.cuid,
	    .cgid = ds->msg_perm.cgid,
	    .qbytes = ds->msg_qbytes,
	};
	return copy_messages(id, q, ds->msg_qnum, ds->__msg_cbytes, err);
}

/* Copies every queue of the namespace (indexes 0 to max). */
static int copy_queues(struct job *j, int max, ferry_err_t *err)
{
	for (int idx = 0; idx <= max; idx++) {
		struct msqid_ds ds;
		int id = msgctl(idx, MSG_STAT_ANY, &ds);

		if (id < 0 && errno == EINVAL)
			continue;
		if (id < 0)
			return ferry_error_errno(err, "msgctl MSG_STAT_ANY %d", idx);
		if (collect_queue(id, &ds, j->out, err) < 0)
			return -1;
	}
	return 0;
}

/* The queues. MSG_COPY copies no message above msgmax: when a queue holds more bytes than
 * msgmax, msgmax is raised meanwhile (the processes are stopped), then put back. */
static int collect_queues(struct job *j, ferry_err_t *err)
{
	struct msginfo info;
	int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info), r = 0;
	long msgmax, most = 0;

	if (max < 0)
		return ferry_error_errno(err, "msgctl MSG_INFO");
	if (read_kernel("msgmax", &msgmax, err) < 0)
		return -1;
	for (int idx = 0; idx <= max; idx++) {
		struct msqid_ds ds;

		if (msgctl(idx, MSG_STAT_ANY, &ds) >= 0 && (long)ds.__msg_cbytes > most)
			most = (long)ds.__msg_cbytes;
	}
	most = most > LX_SYSV_MAX_QUEUE_BYTES ? LX_SYSV_MAX_QUEUE_BYTES : most;
	if (most > msgmax && write_limit("msgmax", most, err) < 0)
		return -1;
	r = copy_queues(j, max, err);
	if (most > msgmax && write_limit("msgmax", msgmax, r < 0 ? NULL : err) < 0)
		r = -1;
	return r;
}

static int collect_all(struct job *j, ferry_err_t *err)
{
	if (collect_sems(j, err) < 0 || collect_queues(j, err) < 0)
		return ferry_error_wrap(err, "the container's IPC namespace");
	return 0;
}

int lx_sysv_collect(pid_t init, struct cr_container *c, ferry_err_t *err)
{
	struct job j = {.init = init, .out = c, .fn = collect_all};

	return in_ipc_ns(&j, err);
}

/* An object was made with another id than the one asked for: removes it; returns -1. */
static int wrong_id(const char *what, int32_t want, int got, bool sem, ferry_err_t *err)
{
	if (sem)
		semctl(got, 0, IPC_RMID);
	else
		msgctl(got, IPC_RMID, NULL);
	return ferry_error(err, 0, "%s %d came back with id %d: the id is taken", what, want, got);
}

static int prepare_sem(const struct cr_sysv_sem *s, ferry_err_t *err)
{
	struct semid_ds ds;
	union semun arg;
	int id;

	if (write_kernel("sem_next_id", s->id, err) < 0)
		return -1;
	id = semget(s->key, (int)s->nsems, IPC_CREAT | IPC_EXCL | (int)(s->mode & 0777));
	if (id < 0)
		return ferry_error_errno(err, "make semaphore set %d (key 0x%x)", s->id,
					 (unsigned)s->key);
	if (id != s->id)
		return wrong_id("semaphore set", s->id, id, true, err);
	arg.array = s->values;
	if (semctl(id, 0, SETALL, arg) < 0)
		return ferry_error_errno(err, "the values of semaphore set %d", id);
	arg.buf = &ds;
	if (semctl(id, 0, IPC_STAT, arg) < 0)
		return ferry_error_errno(err, "semaphore set %d", id);
	ds.sem_perm.uid = s->uid, ds.sem_perm.gid = s->gid, ds.sem_perm.mode = s->mode;
	if (semctl(id, 0, IPC_SET, arg) < 0)
		return ferry_error_errno(err, "the owner and mode of semaphore set %d", id);
	return 0;
}

/* Makes queue q: qbytes, owner and mode, then the messages. */
static int prepare_queue(const struct cr_sysv_queue *q, ferry_err_t *err)
{
	_cleanup_free_ struct msgbuf *buf = NULL;
	struct msqid_ds ds;
	size_t most = 0;
	int id;

	for (size_t k = 0; k < q->n_msgs; k++)
		most = q->msgs[k].data.len > most ? q->msgs[k].data.len : most;
	buf = malloc(sizeof(*buf) + most + 1);
	if (!buf)
		return ferry_error(err, ENOMEM, "message queue %d", q->id);
	if (write_kernel("msg_next_id", q->id, err) < 0)
		return -1;
	id = msgget(q->key, IPC_CREAT | IPC_EXCL | (int)(q->mode & 0777));
	if (id < 0)
		return ferry_error_errno(err, "make message queue %d (key 0x%x)", q->id,
					 (unsigned)q->key);
	if (id != q->id)
		return wrong_id("message queue", q->id, id, false, err);
	if (msgctl(id, IPC_STAT, &ds) < 0)
		return ferry_error_errno(err, "message queue %d", id);
	ds.msg_perm.uid = q->uid, ds.msg_perm.gid = q->gid, ds.msg_perm.mode = q->mode;
	ds.msg_qbytes = q->qbytes;
	if (msgctl(id, IPC_SET, &ds) < 0)
		return ferry_error_errno(err, "the size, owner and mode of message queue %d", id);
	for (size_t k = 0; k < q->n_msgs; k++) {
		buf->mtype = (long)q->msgs[k].type;
		memcpy(buf->mtext, q->msgs[k].data.data, q->msgs[k].data.len);
		if (msgsnd(id, buf, q->msgs[k].data.len, IPC_NOWAIT) < 0)
			return ferry_error_errno(err, "message %zu of queue %d", k, id);
	}
	return 0;
}

/* The queues. A qbytes above msgmnb (IPC_SET past msgmnb needs CAP_SYS_RESOURCE) or a message
 * above msgmax has them raised meanwhile, and put back after. */
static int prepare_queues(const struct cr_container *c, ferry_err_t *err)
{
	long mnb, max, most = 0, qbytes = 0;
	int r = 0;

	if (!c->n_queues)
		return 0;
	if (read_kernel("msgmnb", &mnb, err) < 0 || read_kernel("msgmax", &max, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_queues; i++) {
		if ((long)c->queues[i].qbytes > qbytes)
			qbytes = (long)c->queues[i].qbytes;
		for (size_t k = 0; k < c->queues[i].n_msgs; k++)
			if ((long)c->queues[i].msgs[k].data.len > most)
				most = (long)c->queues[i].msgs[k].data.len;
	}
	if ((qbytes > mnb && write_limit("msgmnb", qbytes, err) < 0) ||
	    (most > max && write_limit("msgmax", most, err) < 0))
		r = -1;
	for (size_t i = 0; i < c->n_queues && r == 0; i++)
		r = prepare_queue(&c->queues[i], err);
	if ((qbytes > mnb && write_limit("msgmnb", mnb, r < 0 ? NULL : err) < 0) ||
	    (most > max && write_limit("msgmax", max, r < 0 ? NULL : err) < 0))
		r = -1;
	return r;
}

static int prepare_all(struct job *j, ferry_err_t *err)
{
	for (size_t i = 0; i < j->in->n_sems; i++)
		if (prepare_sem(&j->in->sems[i], err) < 0)
			return ferry_error_wrap(err, "the container's IPC namespace");
	if (prepare_queues(j->in, err) < 0)
		return ferry_error_wrap(err, "the container's IPC namespace");
	return 0;
}

int lx_sysv_prepare(pid_t init, const struct cr_container *c, ferry_err_t *err)
{
	struct job j = {.init = init, .in = c, .fn = prepare_all};

	if (!c->n_sems && !c->n_queues)
		return 0;
	return in_ipc_ns(&j, err);
}

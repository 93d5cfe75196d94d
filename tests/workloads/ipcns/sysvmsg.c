// SPDX-License-Identifier: Apache-2.0
/* sysvmsg [DIR]: a SysV message queue and semaphore set used by id, for a container with its own
 * IPC namespace (its checkpoint carries them; a process checkpoint on the host does not, hence
 * not in tests/workloads/). An empty queue and set are made first and removed, so the ids kept
 * are not the ones a fresh namespace gives. The queue (IPC_PRIVATE, mode 0640, qbytes lowered
 * to 9000) holds three messages of types 3, 1, 2, one of 5000 bytes; the set (key 0x5e11, mode
 * 0600) holds the values 1, 42, 7. Prints READY; on SIGUSR1 checks the ids still name them (mode,
 * qbytes, message count, values), takes 1 from the second semaphore without waiting, receives
 * the messages by type and then in order, removes both, and prints PASS or FAIL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#define SEM_KEY 0x5e11
#define BIG 5000
#define QBYTES 9000

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static const long types[3] = {3, 1, 2};
static const size_t sizes[3] = {11, BIG, 0};
static volatile sig_atomic_t verify;
static int qid = -1, sid = -1;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static unsigned char byte(size_t msg, size_t i)
{
	return (unsigned char)(i * 13 + msg * 7 + 1);
}

struct msg {
	long type;
	unsigned char text[BIG];
};

static int setup(void)
{
	static struct msg m;
	unsigned short v[3] = {1, 42, 7};
	union semun arg = {.array = v};
	struct msqid_ds ds;
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600), s = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);

	if (q < 0 || s < 0 || msgctl(q, IPC_RMID, NULL) < 0 || semctl(s, 0, IPC_RMID) < 0)
		return -1;
	qid = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
	sid = semget(SEM_KEY, 3, IPC_CREAT | IPC_EXCL | 0600);
	if (qid < 0 || sid < 0 || semctl(sid, 0, SETALL, arg) < 0 || msgctl(qid, IPC_STAT, &ds) < 0)
		return -1;
	ds.msg_qbytes = QBYTES;
	if (msgctl(qid, IPC_SET, &ds) < 0)
		return -1;
	for (size_t k = 0; k < 3; k++) {
		m.type = types[k];
		for (size_t i = 0; i < sizes[k]; i++)
			m.text[i] = byte(k, i);
		if (msgsnd(qid, &m, sizes[k], IPC_NOWAIT) < 0)
			return -1;
	}
	return 0;
}

/* Receives message k (by its type when by_type, else the next one) and checks it. */
static const char *receive(size_t k, int by_type)
{
	static struct msg m;
	ssize_t n = msgrcv(qid, &m, BIG, by_type ? types[k] : 0, IPC_NOWAIT);

	if (n < 0)
		return "msgrcv";
	if (m.type != types[k] || (size_t)n != sizes[k])
		return "message type or size";
	for (size_t i = 0; i < sizes[k]; i++)
		if (m.text[i] != byte(k, i))
			return "message bytes";
	return NULL;
}

static const char *check(void)
{
	unsigned short v[3];
	union semun arg = {.array = v};
	struct msqid_ds qd;
	struct semid_ds sd;
	struct sembuf op = {.sem_num = 1, .sem_op = -1, .sem_flg = IPC_NOWAIT};
	const char *bad;

	if (msgctl(qid, IPC_STAT, &qd) < 0 || (qd.msg_perm.mode & 0777) != 0640 ||
	    qd.msg_qbytes != QBYTES || qd.msg_qnum != 3 || qd.msg_perm.__key != IPC_PRIVATE)
		return "the queue by its id";
	if (semctl(sid, 0, GETALL, arg) < 0 || v[0] != 1 || v[1] != 42 || v[2] != 7)
		return "the semaphore values";
	arg.buf = &sd;
	if (semctl(sid, 0, IPC_STAT, arg) < 0 || (sd.sem_perm.mode & 0777) != 0600 ||
	    semget(SEM_KEY, 0, 0) != sid)
		return "the semaphore set by its id and key";
	if (semop(sid, &op, 1) < 0 || semctl(sid, 1, GETVAL) != 41)
		return "semop";
	if ((bad = receive(1, 1)))
		return bad;
	if ((bad = receive(0, 0)) || (bad = receive(2, 0)))
		return bad;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *bad;

	(void)argc, (void)argv;
	signal(SIGUSR1, on_usr1);
	if (setup() < 0) {
		printf("FAIL setup: %s\n", strerror(errno));
		return 1;
	}
	printf("READY queue %d, semaphore set %d\n", qid, sid);
	fflush(stdout);
	while (!verify)
		usleep(10000);
	bad = check();
	msgctl(qid, IPC_RMID, NULL);
	semctl(sid, 0, IPC_RMID);
	if (bad) {
		printf("FAIL %s: %s\n", bad, strerror(errno));
		return 1;
	}
	printf("PASS queue %d (3 messages), semaphore set %d\n", qid, sid);
	return 0;
}

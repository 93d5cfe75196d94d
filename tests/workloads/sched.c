// SPDX-License-Identifier: Apache-2.0
/* sched [DIR]: what a process sets about how it runs: its main thread at nice 5 in the idle I/O
 * class, a thread under SCHED_BATCH at nice 3 with best-effort I/O at level 6, another under
 * SCHED_FIFO at priority 2 (reset on fork), oom_score_adj
 * 321, not dumpable, a child subreaper, transparent huge pages disabled; and a child asking for
 * SIGHUP when its parent dies (PR_SET_PDEATHSIG). Prints READY. On SIGUSR1 it checks every one
 * of them (the child its own, told by SIGUSR1 and answering by its exit status), prints PASS or
 * FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

#define IOPRIO(class, level) ((class) << 13 | (level))

static const struct {
	uint32_t policy, priority;
	uint64_t flags;
	int nice;
	int ioprio; /* 0: none set */
} want[3] = {
    {SCHED_OTHER, 0, 0, 5, IOPRIO(3, 0)}, /* idle I/O class */
    {SCHED_BATCH, 0, 0, 3, IOPRIO(2, 6)}, /* best effort, level 6 */
    {SCHED_FIFO, 2, 1 /* SCHED_FLAG_RESET_ON_FORK */, 0, 0},
};

static volatile sig_atomic_t verify;
static pthread_barrier_t go, check;
static char result[3][160];

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

/* Gives this thread want[k]; returns 0 or -1. */
static int set_sched(int k)
{
	struct attr a = {.size = sizeof(a),
			 .policy = want[k].policy,
			 .flags = want[k].flags,
			 .nice = want[k].nice,
			 .priority = want[k].priority};

	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return -1;
	return want[k].ioprio ? (int)syscall(SYS_ioprio_set, 1, 0, want[k].ioprio) : 0;
}

/* This thread's scheduling against want[k], into out ("" when it holds). */
static void check_sched(int k, char *out, size_t size)
{
	struct attr a = {0};
	long io = syscall(SYS_ioprio_get, 1, 0);

	out[0] = 0;
	if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0)
		snprintf(out, size, "sched_getattr: %m");
	else if (want[k].ioprio && io != want[k].ioprio)
		snprintf(out, size, "I/O priority %#lx, wanted %#x", io, want[k].ioprio);
	else if (a.policy != want[k].policy || a.priority != want[k].priority ||
		 (a.flags & 1) != want[k].flags ||
		 (a.policy != SCHED_FIFO && a.nice != want[k].nice))
		snprintf(out, size,
			 "policy %u, priority %u, flags %#llx, nice %d (wanted %u, %u, %#llx, %d)",
			 a.policy, a.priority, (unsigned long long)a.flags, a.nice, want[k].policy,
			 want[k].priority, (unsigned long long)want[k].flags, want[k].nice);
}

static void *thread_main(void *arg)
{
	int k = (int)(intptr_t)arg;

	if (set_sched(k) < 0)
		snprintf(result[k], sizeof(result[k]), "sched_setattr: %m");
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&check);
	if (!result[k][0])
		check_sched(k, result[k], sizeof(result[k]));
	return NULL;
}

/* The child: asks for SIGHUP at its parent's death; on SIGUSR1 exits 0 if it still has it. */
static int child_main(void)
{
	struct timespec step = {0, 1000000};
	int sig = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0)
		return 2;
	while (!verify)
		nanosleep(&step, NULL);
	return prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGHUP ? 0 : 1;
}

/* The process-wide settings; returns NULL or what is wrong. */
static const char *check_process(void)
{
	char line[256];
	int thp = -1, adj = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "THP_enabled: %d", &thp);
	if (f)
		fclose(f);
	f = fopen("/proc/self/oom_score_adj", "re");
	if (!f || fscanf(f, "%d", &adj) != 1)
		adj = -1;
	if (f)
		fclose(f);
	int reaper = 0;
	prctl(PR_GET_CHILD_SUBREAPER, &reaper);
	if (adj != 321)
		return "oom_score_adj is not 321";
	if (prctl(PR_GET_DUMPABLE) != 0)
		return "dumpable again";
	if (!reaper)
		return "no longer a child subreaper";
	if (thp != 0)
		return "transparent huge pages enabled again";
	return NULL;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	pthread_t t[2];
	const char *bad;
	pid_t child;
	int st;
	FILE *adj;

	signal(SIGUSR1, on_usr1);
	child = fork();
	if (child == 0)
		return child_main();
	adj = fopen("/proc/self/oom_score_adj", "we");
	if (child < 0 || !adj || fprintf(adj, "321\n") < 0 || fclose(adj) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0) < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ||
	    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0 || set_sched(0) < 0) {
		printf("FAIL setting up: %m\n");
		return 1;
	}
	pthread_barrier_init(&go, NULL, 3);
	pthread_barrier_init(&check, NULL, 3);
	for (int k = 1; k < 3; k++)
		if (pthread_create(&t[k - 1], NULL, thread_main, (void *)(intptr_t)k)) {
			printf("FAIL pthread_create\n");
			return 1;
		}
	pthread_barrier_wait(&go);
	for (int k = 1; k < 3; k++)
		if (result[k][0]) {
			printf("FAIL thread %d: %s\n", k, result[k]);
			return 1;
		}
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	check_sched(0, result[0], sizeof(result[0]));
	pthread_barrier_wait(&check);
	for (int k = 1; k < 3; k++)
		pthread_join(t[k - 1], NULL);
	kill(child, SIGUSR1);
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("FAIL the child lost its parent death signal (status %#x)\n", st);
		return 1;
	}
	for (int k = 0; k < 3; k++)
		if (result[k][0]) {
			printf("FAIL thread %d: %s\n", k, result[k]);
			return 1;
		}
	if ((bad = check_process())) {
		printf("FAIL %s\n", bad);
		return 1;
	}
	printf(
	    "PASS scheduling of 3 threads, oom_score_adj, dumpable, subreaper, THP, parent death "
	    "signal\n");
	return 0;
}

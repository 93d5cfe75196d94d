// SPDX-License-Identifier: Apache-2.0
/* tree [DIR]: a process tree three deep below its root, with its own session and groups:
 *   R (setsid)
 *   +- A1 (own group)
 *   |  +- B1 (A1's group)
 *   |  |  +- C1 (joins R's group)
 *   |  +- B2 (own group)
 *   +- A2 (R's group)
 * Each process records its pid, ppid, pgid and sid, and its children's pgid and sid. Prints READY
 * once every process is set up; on SIGUSR1 each process checks its ids and its children's,
 * passes SIGUSR1 down, waits for its children and exits 0 only when its whole subtree passed; the
 * root prints "PASS <n> processes" or "FAIL ...". */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KIDS 4

enum group { OWN_GROUP, PARENT_GROUP, ROOT_GROUP };

struct node {
	const char *name;
	enum group group;
	int kids[MAX_KIDS]; /* indexes in tree[], 0-terminated */
};

static const struct node tree[] = {
    {"R", OWN_GROUP, {1, 5}},  /* 0 */
    {"A1", OWN_GROUP, {2, 4}}, /* 1 */
    {"B1", PARENT_GROUP, {3}}, /* 2 */
    {"C1", ROOT_GROUP, {0}},   /* 3 */
    {"B2", OWN_GROUP, {0}},    /* 4 */
    {"A2", PARENT_GROUP, {0}}, /* 5 */
};
#define NODES (int)(sizeof(tree) / sizeof(tree[0]))

static volatile sig_atomic_t verify;
static pid_t root_pid;

struct ids {
	pid_t pid, ppid, pgid, sid;
};

static struct ids self;
static pid_t kid_pid[MAX_KIDS];
static struct ids kid_ids[MAX_KIDS];
static int n_kids;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static struct ids ids_now(void)
{
	return (struct ids){getpid(), getppid(), getpgid(0), getsid(0)};
}

static int fail(const char *name, const char *what, long got, long want)
{
	printf("FAIL %s: %s %ld, was %ld\n", name, what, got, want);
	fflush(stdout);
	return 1;
}

/* Checks this process's ids and its children's; returns 0 or 1 (printed). */
static int check_ids(int me)
{
	struct ids now = ids_now();
	const char *name = tree[me].name;

	if (now.pid != self.pid)
		return fail(name, "pid", now.pid, self.pid);
	if (me != 0 && now.ppid != self.ppid)
		return fail(name, "ppid", now.ppid, self.ppid);
	if (now.pgid != self.pgid)
		return fail(name, "pgid", now.pgid, self.pgid);
	if (now.sid != self.sid)
		return fail(name, "sid", now.sid, self.sid);
	for (int i = 0; i < n_kids; i++) {
		if (getpgid(kid_pid[i]) != kid_ids[i].pgid)
			return fail(name, "child's pgid", getpgid(kid_pid[i]), kid_ids[i].pgid);
		if (getsid(kid_pid[i]) != kid_ids[i].sid)
			return fail(name, "child's sid", getsid(kid_pid[i]), kid_ids[i].sid);
	}
	return 0;
}

/* Tells the parent this subtree is set up (a queued real-time signal: none is lost). */
static void tell_parent(void)
{
	union sigval v = {0};

	sigqueue(getppid(), SIGRTMIN, v);
}

static int run_node(int me);

/* Starts node i as a child; returns its pid or -1. */
static pid_t start_kid(int i)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		/* A subtree whose parent failed goes too (not carried by a checkpoint). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		n_kids = 0; /* the parent's children are not ours */
		exit(run_node(i));
	}
	return pid;
}

/* Waits for every child's "set up" signal; returns 0 or -1. */
static int wait_kids_ready(void)
{
	struct timespec limit = {5, 0};
	sigset_t rt;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	for (int i = 0; i < n_kids; i++)
		if (sigtimedwait(&rt, NULL, &limit) < 0)
			return -1;
	return 0;
}

/* Verifies this process, passes SIGUSR1 down and collects the children; returns the exit code. */
static int verify_subtree(int me)
{
	int bad = check_ids(me), status;

	for (int i = 0; i < n_kids; i++) {
		kill(kid_pid[i], SIGUSR1);
		while (waitpid(kid_pid[i], &status, 0) < 0)
			if (errno != EINTR)
				return fail(tree[me].name, "waitpid errno", errno, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	}
	return bad;
}

static int run_node(int me)
{
	struct timespec step = {0, 1000000};

	if (tree[me].group == OWN_GROUP && me != 0 && setpgid(0, 0) < 0)
		return fail(tree[me].name, "setpgid errno", errno, 0);
	if (tree[me].group == ROOT_GROUP && setpgid(0, root_pid) < 0)
		return fail(tree[me].name, "setpgid errno", errno, 0);
	for (int k = 0; k < MAX_KIDS && tree[me].kids[k]; k++) {
		pid_t pid = start_kid(tree[me].kids[k]);

		if (pid < 0)
			return fail(tree[me].name, "fork errno", errno, 0);
		kid_pid[n_kids++] = pid;
	}
	if (wait_kids_ready() < 0)
		return fail(tree[me].name, "children set up, errno", errno, 0);
	self = ids_now();
	for (int i = 0; i < n_kids; i++)
		kid_ids[i] =
		    (struct ids){kid_pid[i], self.pid, getpgid(kid_pid[i]), getsid(kid_pid[i])};
	if (me != 0)
		tell_parent();
	else {
		printf("READY\n");
		fflush(stdout);
	}
	while (!verify)
		nanosleep(&step, NULL);
	return verify_subtree(me);
}

int main(void)
{
	sigset_t rt;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	signal(SIGUSR1, on_usr1);
	if (setsid() < 0) {
		printf("FAIL setsid: %m\n");
		return 1;
	}
	root_pid = getpid();
	if (run_node(0)) {
		printf("FAIL the tree\n");
		return 1;
	}
	printf("PASS %d processes\n", NODES);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* seccomp [DIR]: starts a thread, then installs two seccomp filters on both (TSYNC): the first
 * makes getppid fail with EPERM, the second (with SECCOMP_FILTER_FLAG_LOG) makes uname fail with
 * ENOSYS; prints READY. On SIGUSR1 it checks, in both threads, that /proc shows the filter mode
 * and two filters and that both calls still fail that way (a restore that dropped them would
 * leave the process unconfined), prints PASS or FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify;
static pthread_barrier_t ready, done;
static char result[2][128];

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

/* Installs a filter that fails syscall nr with errno e (flags: SECCOMP_FILTER_FLAG_*, with TSYNC);
 * returns 0 or -1. */
static int deny(long nr, int e, unsigned flags)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)e),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC | flags,
		       &prog) == 0
		   ? 0
		   : -1;
}

/* This thread's check into out ("" when it holds). */
static void check(char *out, size_t size)
{
	char path[64], line[256];
	int mode = -1, filters = -1;
	struct utsname u;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", &mode);
		sscanf(line, "Seccomp_filters: %d", &filters);
	}
	if (f)
		fclose(f);
	errno = 0;
	long ppid = syscall(SYS_getppid);
	int e1 = errno;
	errno = 0;
	int un = uname(&u);
	int e2 = errno;

	if (mode != 2 || filters != 2)
		snprintf(out, size, "seccomp mode %d, %d filters", mode, filters);
	else if (ppid != -1 || e1 != EPERM)
		snprintf(out, size, "getppid gave %ld (%s)", ppid, strerror(e1));
	else if (un != -1 || e2 != ENOSYS)
		snprintf(out, size, "uname gave %d (%s)", un, strerror(e2));
	else
		out[0] = 0;
}

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&ready);
	pthread_barrier_wait(&done); /* released to check */
	check(result[1], sizeof(result[1]));
	return NULL;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	pthread_t t;

	pthread_barrier_init(&ready, NULL, 2);
	pthread_barrier_init(&done, NULL, 2);
	if (pthread_create(&t, NULL, thread_main, NULL)) {
		printf("FAIL pthread_create\n");
		return 1;
	}
	pthread_barrier_wait(&ready);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || deny(SYS_getppid, EPERM, 0) < 0 ||
	    deny(SYS_uname, ENOSYS, SECCOMP_FILTER_FLAG_LOG) < 0) {
		printf("FAIL seccomp: %m\n");
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	check(result[0], sizeof(result[0]));
	pthread_barrier_wait(&done);
	pthread_join(t, NULL);
	for (int i = 0; i < 2; i++)
		if (result[i][0]) {
			printf("FAIL thread %d: %s\n", i, result[i]);
			return 1;
		}
	printf("PASS two filters in both threads, getppid and uname still denied\n");
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* rseq [DIR]: the C library's rseq registration of two threads (the kernel keeps each area's
 * cpu_id up to date, and aborts a restartable sequence that is preempted); prints READY. On
 * SIGUSR1 each thread spoils its area's cpu_id and takes a signal, on whose way back the kernel
 * writes it again if the area is still registered; prints PASS or FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SPOILT 0xffffff00u

static volatile sig_atomic_t verify;
static pthread_barrier_t go;
static uint32_t seen[2];

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void on_usr2(int sig)
{
	(void)sig;
}

/* The cpu_id of this thread's area after a signal, its value spoilt before. */
static uint32_t cpu_after_signal(void)
{
	volatile struct rseq *r =
	    (volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);

	r->cpu_id = SPOILT;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	return r->cpu_id;
}

static void *thread_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&go);
	seen[1] = cpu_after_signal();
	return NULL;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	pthread_t t;

	if (__rseq_size == 0) {
		printf("READY\n");
		fflush(stdout);
		while (!verify)
			nanosleep(&step, NULL);
		printf("PASS the C library registers no rseq here\n");
		return 0;
	}
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	pthread_barrier_init(&go, NULL, 2);
	if (pthread_create(&t, NULL, thread_main, NULL)) {
		printf("FAIL pthread_create\n");
		return 1;
	}
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	seen[0] = cpu_after_signal();
	pthread_barrier_wait(&go);
	pthread_join(t, NULL);
	for (int i = 0; i < 2; i++)
		if (seen[i] >= (uint32_t)cpus) {
			printf("FAIL thread %d: rseq cpu_id %#x after a signal: not registered\n",
			       i, seen[i]);
			return 1;
		}
	printf("PASS both threads' rseq areas still registered (cpu %u, %u)\n", seen[0], seen[1]);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* rseq [DIR]: the C library's rseq registration of three threads (the kernel keeps each area's
 * cpu_id up to date, and aborts a restartable sequence that is preempted or takes a signal); the
 * third spins inside a critical section whose abort handler counts and enters it again; prints
 * READY. On SIGUSR1 two threads spoil their area's cpu_id and take a signal, on whose way back
 * the kernel writes it again if the area is still registered, and the spinner takes signals
 * that must each abort its section (they would not if a checkpoint had left it inside with its
 * rseq_cs cleared); prints PASS or FAIL and exits 0 or 1. x86-64. */
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

/* spin(area, descriptor, counter): sets the area's rseq_cs and spins in [cs_start, cs_post); the
 * abort handler (after the signature) counts and starts again. Never returns. */
void spin(volatile struct rseq *r, const struct rseq_cs *d, volatile long *aborts);
extern const char cs_start[], cs_post[], cs_abort[];
__asm__(".text\n"
	".globl spin, cs_start, cs_post, cs_abort\n"
	"spin:\n"
	"1:	movq %rsi, 8(%rdi)\n"
	"cs_start:\n"
	"	jmp cs_start\n"
	"cs_post:\n"
	"	.long 0x53053053\n"
	"cs_abort:\n"
	"	lock incq (%rdx)\n"
	"	jmp 1b\n");

static struct rseq_cs desc __attribute__((aligned(32)));
static volatile long aborts;
static volatile pid_t spinner;

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

static void *spinner_main(void *arg)
{
	(void)arg;
	desc = (struct rseq_cs){0, 0, (uintptr_t)cs_start, (uintptr_t)(cs_post - cs_start),
				(uintptr_t)cs_abort};
	spinner = (pid_t)syscall(SYS_gettid);
	spin((volatile struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset), &desc,
	     &aborts);
	return NULL;
}

/* Whether each of a few signals to the spinner aborts its section; returns 0 or -1 (printed). */
static int check_spinner(void)
{
	struct timespec step = {0, 2000000};

	for (int i = 0; i < 5; i++) {
		long before = aborts;

		syscall(SYS_tgkill, getpid(), spinner, SIGUSR2);
		for (int k = 0; k < 500 && aborts == before; k++)
			nanosleep(&step, NULL);
		if (aborts == before) {
			printf("FAIL signal %d to the spinner did not abort its section\n", i);
			return -1;
		}
	}
	return 0;
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
	pthread_t t, s;

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
	if (pthread_create(&t, NULL, thread_main, NULL) ||
	    pthread_create(&s, NULL, spinner_main, NULL)) {
		printf("FAIL pthread_create\n");
		return 1;
	}
	while (!spinner)
		nanosleep(&step, NULL);
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
	if (check_spinner() < 0)
		return 1;
	printf("PASS both threads' rseq areas still registered (cpu %u, %u), the spinner's section "
	       "aborted by each signal (%ld aborts)\n",
	       seen[0], seen[1], aborts);
	return 0;
}

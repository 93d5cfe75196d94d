// SPDX-License-Identifier: Apache-2.0
/* threads [DIR]: starts 4 threads, each keeping thread-local state (__thread variables: its
 * index, a counter with a shadow, an array filled from its index) that it updates and checks
 * about every millisecond. Prints READY once every thread runs; on SIGUSR1 every thread checks
 * its thread-local state, its tid and that its counter went on, the main thread joins them,
 * prints "PASS <counts>" or "FAIL ..." and exits 0 or 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4
#define TLS_WORDS 512

static volatile sig_atomic_t verify;
static volatile int started;

static __thread int tls_index = -1;
static __thread uint64_t tls_count, tls_shadow;
static __thread uint64_t tls_words[TLS_WORDS];
static __thread char tls_name[32] = "unset";

struct worker {
	pthread_t thread;
	int index;
	pid_t tid;
	uint64_t count;
	char fail[160];
};

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static uint64_t word_of(int index, int i)
{
	return ((uint64_t)(index + 1) << 40) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ull);
}

/* Checks this thread's thread-local state; returns 0 or -1 with w->fail set. */
static int check_tls(struct worker *w)
{
	char want[32];

	snprintf(want, sizeof(want), "worker-%d", w->index);
	if (tls_index != w->index)
		snprintf(w->fail, sizeof(w->fail), "thread %d: tls index %d", w->index, tls_index);
	else if (tls_shadow != ~tls_count)
		snprintf(w->fail, sizeof(w->fail), "thread %d: count %llu shadow %llx", w->index,
			 (unsigned long long)tls_count, (unsigned long long)tls_shadow);
	else if (strcmp(tls_name, want))
		snprintf(w->fail, sizeof(w->fail), "thread %d: tls name '%s'", w->index, tls_name);
	else if (gettid() != w->tid)
		snprintf(w->fail, sizeof(w->fail), "thread %d: tid %d, was %d", w->index, gettid(),
			 w->tid);
	for (int i = 0; !w->fail[0] && i < TLS_WORDS; i++)
		if (tls_words[i] != word_of(w->index, i))
			snprintf(w->fail, sizeof(w->fail), "thread %d: tls word %d", w->index, i);
	return w->fail[0] ? -1 : 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct timespec step = {0, 1000000};

	tls_index = w->index;
	w->tid = gettid();
	snprintf(tls_name, sizeof(tls_name), "worker-%d", w->index);
	for (int i = 0; i < TLS_WORDS; i++)
		tls_words[i] = word_of(w->index, i);
	tls_shadow = ~tls_count;
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);
	while (!verify) {
		if (check_tls(w) < 0)
			return NULL;
		tls_count++;
		tls_shadow = ~tls_count;
		w->count = tls_count;
		nanosleep(&step, NULL);
	}
	if (check_tls(w) == 0 && tls_count == 0)
		snprintf(w->fail, sizeof(w->fail), "thread %d never counted", w->index);
	return NULL;
}

int main(void)
{
	struct worker w[NTHREADS];
	struct timespec step = {0, 1000000};
	int failed = 0;

	memset(w, 0, sizeof(w));
	signal(SIGUSR1, on_usr1);
	tls_index = -2;
	for (int i = 0; i < NTHREADS; i++) {
		w[i].index = i;
		if (pthread_create(&w[i].thread, NULL, work, &w[i])) {
			printf("FAIL pthread_create\n");
			return 1;
		}
	}
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) < NTHREADS)
		nanosleep(&step, NULL);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].thread, NULL);
		if (w[i].fail[0]) {
			printf("FAIL %s\n", w[i].fail);
			failed = 1;
		}
	}
	if (tls_index != -2) {
		printf("FAIL main thread tls index %d\n", tls_index);
		failed = 1;
	}
	if (failed)
		return 1;
	printf("PASS");
	for (int i = 0; i < NTHREADS; i++)
		printf(" %llu", (unsigned long long)w[i].count);
	printf("\n");
	return 0;
}

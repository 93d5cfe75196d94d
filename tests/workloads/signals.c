// SPDX-License-Identifier: Apache-2.0
/* signals [DIR]: pending and blocked signals with custom handlers and alternate signal stacks.
 * The main thread blocks SIGUSR2 and two real-time signals, queues SIGUSR2 to itself (value 333),
 * and SIGRTMIN+1 twice to the process (values 111, 222); a second thread blocks SIGRTMIN+2 and
 * gets it queued to itself (value 444). Each thread has its own sigaltstack; the handlers are
 * SA_SIGINFO | SA_ONSTACK, SIGHUP has a plain SA_RESTART handler and SIGINT is ignored. Prints
 * READY; on SIGUSR1 it checks the actions, the altstacks, the blocked and pending sets, then
 * unblocks the signals and checks that each handler ran once per queued signal, in order, with
 * its siginfo value and sender, on its thread's alternate stack; prints PASS or FAIL. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ALT_SIZE (64 * 1024)
#define MAX_SEEN 8

struct seen {
	int signo, code, value;
	pid_t sender;
	int on_alt;
};

static char alt_main[ALT_SIZE], alt_thread[ALT_SIZE];
static struct seen seen[MAX_SEEN];
static volatile int n_seen;
static volatile sig_atomic_t verify, thread_go, thread_done;
static char thread_result[256];
static pid_t self;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void on_hup(int sig)
{
	(void)sig;
}

static int on_stack(const char *alt)
{
	char here;

	return &here >= alt && &here < alt + ALT_SIZE;
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (n_seen < MAX_SEEN) {
		seen[n_seen] = (struct seen){sig, si->si_code, si->si_value.sival_int, si->si_pid,
					     on_stack(alt_main) || on_stack(alt_thread)};
		n_seen++;
	}
}

static int fail(const char *what)
{
	printf("FAIL %s\n", what);
	fflush(stdout);
	return 1;
}

static int set_alt(char *stack)
{
	stack_t ss = {.ss_sp = stack, .ss_size = ALT_SIZE};

	return sigaltstack(&ss, NULL);
}

static int check_alt(const char *stack)
{
	stack_t ss;

	return sigaltstack(NULL, &ss) == 0 && ss.ss_sp == stack && ss.ss_size == ALT_SIZE &&
	       ss.ss_flags == 0;
}

static int block(int a, int b, int c)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	if (c)
		sigaddset(&s, c);
	return pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static int unblock_all(void)
{
	sigset_t s;

	sigemptyset(&s);
	return pthread_sigmask(SIG_SETMASK, &s, NULL);
}

/* Checks the thread's own state, then takes its signal; the verdict in thread_result. */
static void thread_check(void)
{
	sigset_t mask, pend;
	int before = n_seen;

	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	sigpending(&pend);
	if (!check_alt(alt_thread))
		snprintf(thread_result, sizeof(thread_result), "thread altstack");
	else if (!sigismember(&mask, SIGRTMIN + 2) || sigismember(&mask, SIGUSR2))
		snprintf(thread_result, sizeof(thread_result), "thread mask");
	else if (!sigismember(&pend, SIGRTMIN + 2))
		snprintf(thread_result, sizeof(thread_result), "thread pending");
	else if (unblock_all() < 0 || n_seen != before + 1)
		snprintf(thread_result, sizeof(thread_result), "thread handler ran %d times",
			 n_seen - before);
	else if (seen[before].signo != SIGRTMIN + 2 || seen[before].value != 444 ||
		 seen[before].code != SI_QUEUE || seen[before].sender != self ||
		 !seen[before].on_alt)
		snprintf(thread_result, sizeof(thread_result),
			 "thread siginfo sig %d value %d code %d pid %d alt %d", seen[before].signo,
			 seen[before].value, seen[before].code, seen[before].sender,
			 seen[before].on_alt);
}

static void *thread_main(void *arg)
{
	struct timespec step = {0, 1000000};

	sigset_t usr2;

	(void)arg;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (pthread_sigmask(SIG_UNBLOCK, &usr2, NULL) != 0 || set_alt(alt_thread) < 0) {
		snprintf(thread_result, sizeof(thread_result), "thread sigaltstack: %m");
		thread_done = 1;
		return NULL;
	}
	thread_done = 1; /* set up */
	while (!thread_go)
		nanosleep(&step, NULL);
	thread_check();
	thread_done = 2;
	return NULL;
}

static int setup_actions(void)
{
	struct sigaction sa = {.sa_sigaction = on_info, .sa_flags = SA_SIGINFO | SA_ONSTACK};

	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	if (sigaction(SIGUSR2, &sa, NULL) < 0 || sigaction(SIGRTMIN + 1, &sa, NULL) < 0 ||
	    sigaction(SIGRTMIN + 2, &sa, NULL) < 0)
		return -1;
	sa = (struct sigaction){.sa_handler = on_hup, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	sa = (struct sigaction){.sa_handler = on_usr1};
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -1;
	sa = (struct sigaction){.sa_handler = SIG_IGN};
	return sigaction(SIGINT, &sa, NULL);
}

static int check_action(int sig, void *handler, int flags)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) < 0)
		return 0;
	if ((void *)sa.sa_sigaction != handler)
		return 0;
	return (sa.sa_flags & (SA_SIGINFO | SA_ONSTACK | SA_RESTART)) == flags &&
	       (handler == (void *)SIG_IGN || flags != (SA_SIGINFO | SA_ONSTACK) ||
		sigismember(&sa.sa_mask, SIGTERM));
}

static int check_main(void)
{
	static const int want_value[3] = {333, 111, 222};
	sigset_t mask, pend;

	if (!check_action(SIGUSR2, on_info, SA_SIGINFO | SA_ONSTACK) ||
	    !check_action(SIGRTMIN + 1, on_info, SA_SIGINFO | SA_ONSTACK) ||
	    !check_action(SIGRTMIN + 2, on_info, SA_SIGINFO | SA_ONSTACK) ||
	    !check_action(SIGHUP, on_hup, SA_RESTART) || !check_action(SIGINT, SIG_IGN, 0))
		return fail("signal actions");
	if (!check_alt(alt_main))
		return fail("main altstack");
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	sigpending(&pend);
	if (!sigismember(&mask, SIGUSR2) || !sigismember(&mask, SIGRTMIN + 1) ||
	    !sigismember(&mask, SIGRTMIN + 2) || sigismember(&mask, SIGUSR1))
		return fail("main mask");
	if (!sigismember(&pend, SIGUSR2) || !sigismember(&pend, SIGRTMIN + 1) ||
	    sigismember(&pend, SIGRTMIN + 2))
		return fail("main pending set");
	if (n_seen != 0)
		return fail("a handler ran before the signals were unblocked");
	if (unblock_all() < 0)
		return fail("unblock");
	if (n_seen != 3) {
		printf("FAIL main handlers ran %d times\n", n_seen);
		return 1;
	}
	/* Nested delivery runs the last frame set up first: only the order of the two queued
	 * SIGRTMIN+1 is fixed. */
	for (int i = 0, rt = 0; i < 3; i++) {
		int want_sig = seen[i].value == 333 ? SIGUSR2 : SIGRTMIN + 1;
		int want_val = seen[i].value == 333 ? 333 : rt < 2 ? want_value[1 + rt++] : -1;

		if (seen[i].signo != want_sig || seen[i].value != want_val ||
		    seen[i].code != SI_QUEUE || seen[i].sender != self || !seen[i].on_alt) {
			printf("FAIL siginfo %d: sig %d value %d code %d pid %d alt %d\n", i,
			       seen[i].signo, seen[i].value, seen[i].code, seen[i].sender,
			       seen[i].on_alt);
			return 1;
		}
	}
	return 0;
}

static int queue_signals(pthread_t th)
{
	if (pthread_sigqueue(pthread_self(), SIGUSR2, (union sigval){.sival_int = 333}) != 0 ||
	    sigqueue(self, SIGRTMIN + 1, (union sigval){.sival_int = 111}) < 0 ||
	    sigqueue(self, SIGRTMIN + 1, (union sigval){.sival_int = 222}) < 0 ||
	    pthread_sigqueue(th, SIGRTMIN + 2, (union sigval){.sival_int = 444}) != 0)
		return -1;
	return 0;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	pthread_t th;

	self = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup_actions() < 0 || set_alt(alt_main) < 0 ||
	    block(SIGUSR2, SIGRTMIN + 1, SIGRTMIN + 2) < 0)
		return fail("setup");
	/* The thread inherits the mask and unblocks SIGUSR2 (queued to the main thread only). */
	if (pthread_create(&th, NULL, thread_main, NULL) != 0)
		return fail("pthread_create");
	while (!thread_done)
		nanosleep(&step, NULL);
	if (thread_result[0])
		return fail(thread_result);
	if (queue_signals(th) < 0)
		return fail("queue signals");
	printf("READY\n");
	while (!verify)
		nanosleep(&step, NULL);
	if (check_main())
		return 1;
	thread_go = 1;
	pthread_join(th, NULL);
	if (thread_result[0])
		return fail(thread_result);
	printf("PASS signals\n");
	return 0;
}

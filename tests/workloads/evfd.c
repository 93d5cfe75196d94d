// SPDX-License-Identifier: Apache-2.0
/* evfd: an eventfd holding 42 (fd 3), a semaphore eventfd holding 3 (fd 4), an armed periodic
 * timerfd (fd 5: 1,000 s, then every 1 s), an expired one-shot timerfd with one unread tick
 * (fd 6), an epoll watching fds 3 and 6 (fd 7) and a signalfd for SIGUSR2 with one SIGUSR2
 * pending (fd 8); prints READY and waits. On SIGUSR1 it checks each counter, timer, the epoll
 * readiness and the queued signal, then prints PASS or FAIL (exit 0 or 1). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define DATA3 0x1111222233334444ull

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static int fail(const char *what)
{
	printf("FAIL %s\n", what);
	return 1;
}

static int empty(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == -1 && errno == EAGAIN;
}

static int check_epoll(void)
{
	struct epoll_event ev[4];
	int n = epoll_wait(7, ev, 4, 0), seen = 0;

	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 == DATA3 && (ev[i].events & EPOLLIN))
			seen |= 1;
		else if (ev[i].data.u64 == 6 && (ev[i].events & EPOLLIN))
			seen |= 2;
		else
			seen |= 4;
	}
	return n == 2 && seen == 3 ? 0 : fail("epoll readiness");
}

static int check_timers(void)
{
	struct itimerspec its;
	uint64_t v = 0;

	if (timerfd_gettime(5, &its) < 0 || its.it_interval.tv_sec != 1 ||
	    its.it_interval.tv_nsec != 0 || its.it_value.tv_sec < 900 || its.it_value.tv_sec > 1000)
		return fail("armed timerfd");
	if (!empty(5))
		return fail("armed timerfd has ticks");
	if (read(6, &v, sizeof(v)) != sizeof(v) || v != 1 || !empty(6))
		return fail("expired timerfd ticks");
	if (timerfd_gettime(6, &its) < 0 || its.it_value.tv_sec || its.it_value.tv_nsec)
		return fail("expired timerfd is armed");
	return 0;
}

/* After a write to fd 3 only it is ready. */
static int check_epoll_one(void)
{
	struct epoll_event ev[4];
	uint64_t v;

	if (epoll_wait(7, ev, 4, 0) != 1 || ev[0].data.u64 != DATA3 ||
	    read(3, &v, sizeof(v)) != sizeof(v) || v != 5)
		return fail("epoll after a write");
	return 0;
}

static int check(void)
{
	struct signalfd_siginfo si;
	uint64_t v = 0;

	if (check_epoll())
		return 1;
	if (read(3, &v, sizeof(v)) != sizeof(v) || v != 42 || !empty(3))
		return fail("eventfd counter");
	for (int i = 0; i < 3; i++)
		if (read(4, &v, sizeof(v)) != sizeof(v) || v != 1)
			return fail("semaphore eventfd");
	if (!empty(4))
		return fail("semaphore eventfd count");
	if (check_timers())
		return 1;
	if (read(8, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR2 ||
	    read(8, &si, sizeof(si)) != -1 || errno != EAGAIN)
		return fail("signalfd");
	v = 5;
	if (write(3, &v, sizeof(v)) != sizeof(v) || check_epoll_one())
		return 1;
	return 0;
}

int main(void)
{
	struct itimerspec armed = {{1, 0}, {1000, 0}}, once = {{0, 0}, {0, 1000000}};
	struct epoll_event e3 = {EPOLLIN, {.u64 = DATA3}}, e6 = {EPOLLIN | EPOLLET, {.u64 = 6}};
	struct timespec pause = {0, 20000000};
	sigset_t none, usr2;

	for (int i = 3; i < 64; i++)
		close(i);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	if (eventfd(42, EFD_NONBLOCK) != 3 || eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK) != 4 ||
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK) != 5 ||
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK) != 6 || epoll_create1(0) != 7)
		return fail("setup");
	if (timerfd_settime(5, 0, &armed, NULL) < 0 || timerfd_settime(6, 0, &once, NULL) < 0 ||
	    epoll_ctl(7, EPOLL_CTL_ADD, 3, &e3) < 0 || epoll_ctl(7, EPOLL_CTL_ADD, 6, &e6) < 0)
		return fail("setup");
	if (sigprocmask(SIG_BLOCK, &usr2, NULL) < 0 || signalfd(-1, &usr2, SFD_NONBLOCK) != 8 ||
	    raise(SIGUSR2) < 0 || nanosleep(&pause, NULL) < 0)
		return fail("setup");
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	sigaddset(&none, SIGUSR2);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (check())
		return 1;
	printf("PASS\n");
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* timers [DIR]: an ITIMER_REAL firing every 20 ms (SIGALRM), a POSIX timer on CLOCK_MONOTONIC
 * firing every 10 ms (SIGRTMIN+3 with sigev_value 77) and a disarmed POSIX timer on
 * CLOCK_REALTIME (SIGUSR2). Prints READY; on SIGUSR1 it checks the intervals and the timer ids
 * are still theirs, that both armed timers go on firing over 200 ms at about their rate (with
 * the POSIX timer's siginfo: SI_TIMER, its value, its id), that the disarmed one stayed
 * disarmed, and prints PASS or FAIL. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify, alarms, ticks, bad_info, usr2;
static volatile int bad_value, bad_code, bad_id;
static int armed_id, idle_id; /* kernel timer ids */

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_usr2(int sig)
{
	(void)sig;
	usr2++;
}

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 77 || si->si_timerid != armed_id) {
		bad_info++;
		bad_code = si->si_code, bad_value = si->si_value.sival_int, bad_id = si->si_timerid;
	}
	ticks++;
}

static int fail(const char *what)
{
	printf("FAIL %s\n", what);
	return 1;
}

/* timer_create with the raw syscall: the kernel's id, whatever the C library makes of it. */
static int make_timer(clockid_t clock, int signo, int value, int *id)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = signo;
	ev.sigev_value.sival_int = value;
	return (int)syscall(SYS_timer_create, clock, &ev, id);
}

static int set_timer(int id, long interval_ns, long value_ns)
{
	struct itimerspec its = {{0, interval_ns}, {0, value_ns}};

	return (int)syscall(SYS_timer_settime, id, 0, &its, NULL);
}

static int get_timer(int id, struct itimerspec *its)
{
	return (int)syscall(SYS_timer_gettime, id, its);
}

static int setup(void)
{
	struct sigaction sa = {.sa_sigaction = on_tick, .sa_flags = SA_SIGINFO | SA_RESTART};
	struct itimerval it = {{0, 20000}, {0, 20000}};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN + 3, &sa, NULL) < 0)
		return -1;
	sa = (struct sigaction){.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = on_usr2;
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		return -1;
	if (make_timer(CLOCK_REALTIME, SIGUSR2, 5, &idle_id) < 0 ||
	    make_timer(CLOCK_MONOTONIC, SIGRTMIN + 3, 77, &armed_id) < 0 ||
	    set_timer(armed_id, 10000000, 10000000) < 0)
		return -1;
	return setitimer(ITIMER_REAL, &it, NULL);
}

/* Sleeps ms milliseconds of CLOCK_MONOTONIC whatever signals come. */
static void sleep_ms(long ms)
{
	struct timespec end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000)
		end.tv_sec++, end.tv_nsec -= 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) != 0)
		;
}

static int check(void)
{
	struct itimerspec its;
	struct itimerval it;
	int a0, t0, da, dt;

	if (getitimer(ITIMER_REAL, &it) < 0 || it.it_interval.tv_sec != 0 ||
	    it.it_interval.tv_usec != 20000 || (!it.it_value.tv_sec && !it.it_value.tv_usec))
		return fail("itimer");
	if (get_timer(armed_id, &its) < 0 || its.it_interval.tv_sec != 0 ||
	    its.it_interval.tv_nsec != 10000000 || (!its.it_value.tv_sec && !its.it_value.tv_nsec))
		return fail("armed POSIX timer");
	if (get_timer(idle_id, &its) < 0 || its.it_interval.tv_sec || its.it_interval.tv_nsec ||
	    its.it_value.tv_sec || its.it_value.tv_nsec)
		return fail("disarmed POSIX timer");
	a0 = alarms, t0 = ticks;
	sleep_ms(200);
	da = alarms - a0, dt = ticks - t0;
	/* Their intervals are checked exactly above; here that they go on firing. On a loaded
	 * machine a late process gets fewer signals (standard ones coalesce), never more. */
	if (da < 2 || da > 15 || dt < 4 || dt > 30) {
		printf("FAIL in 200 ms: %d alarms (every 20 ms), %d ticks (every 10 ms)\n", da, dt);
		return 1;
	}
	if (bad_info) {
		printf("FAIL POSIX timer siginfo: code %d value %d id %d (want %d)\n", bad_code,
		       bad_value, bad_id, armed_id);
		return 1;
	}
	if (usr2)
		return fail("the disarmed timer fired");
	printf("PASS timers: %d alarms, %d ticks in 200 ms\n", da, dt);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (setup() < 0)
		return fail("setup");
	printf("READY\n");
	while (!verify)
		pause();
	return check();
}

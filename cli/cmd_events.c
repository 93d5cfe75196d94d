// SPDX-License-Identifier: Apache-2.0
/* events: the container's resource usage (and OOM kills) as runc's JSON lines. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/options.h"

#define OOM_POLL_NS 100000000LL /* how often the OOM count is read */

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* Go's time.ParseDuration ("5s", "500ms", "1m30s", "1.5h", "0"); returns nanoseconds or -1. */
static long long parse_duration(const char *s)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
	    {"ns", 1},	 {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
	    {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	  {"h", 3600e9},
	};
	double total = 0;
	const char *p = s;

	if (!strcmp(s, "0"))
		return 0;
	if (!*p)
		return -1;
	while (*p) {
		char *end;
		double v;
		size_t k, len = 0;

		if (*p < '0' || *p > '9') {
			if (*p != '.' || p[1] < '0' || p[1] > '9')
				return -1;
		}
		end = (char *)p;
		while ((*end >= '0' && *end <= '9') || *end == '.')
			end++;
		v = strtod(p, NULL); /* stops where the digits do */
		if (memchr(p, '.', end - p) != memrchr(p, '.', end - p))
			return -1;
		p = end;
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
			len = strlen(units[k].unit);
			/* "ms" is tried before "m" */
			if (!strncmp(p, units[k].unit, len))
				break;
		}
		if (k == sizeof(units) / sizeof(units[0]))
			return -1;
		total += v * units[k].ns;
		p += len;
	}
	return total > 9.2e18 ? -1 : (long long)total;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};

	nanosleep(&ts, NULL); /* a stop signal ends it early */
}

/* Prints the stats line; returns 0 or -1 with *err set. */
static int print_stats(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	char *json = ferry_container_stats(ctx, id, err);

	if (!json)
		return -1;
	printf("%s\n", json);
	fflush(stdout);
	free(json);
	return 0;
}

/* Prints an oom line when the count went up since *last; returns 0 or -1 with *err set. */
static int check_oom(const struct ferry_ctx *ctx, const char *id, unsigned long long *last,
		     ferry_err_t *err)
{
	unsigned long long n;

	if (ferry_container_oom_count(ctx, id, &n, err) < 0)
		return -1;
	if (n > *last) {
		printf("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
		fflush(stdout);
	}
	*last = n;
	return 0;
}

/* Returns 1 while the container is created, running or paused, 0 once it stopped or is gone. */
static int alive(const struct ferry_ctx *ctx, const char *id)
{
	struct ferry_state st;
	ferry_err_t err = NULL;
	int r;

	if (ferry_container_state(ctx, id, &st, &err) < 0) {
		ferry_error_free(&err);
		return 0;
	}
	r = st.status != FERRY_STATUS_STOPPED;
	ferry_state_clear(&st);
	return r;
}

static void catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: sleeps end early */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* An error while polling ends the loop: quietly (exit 0) when the container just stopped. */
static int poll_failed(const struct ferry_ctx *ctx, const char *id, ferry_err_t *err)
{
	if (!alive(ctx, id)) {
		ferry_error_free(err);
		return 0;
	}
	return cli_fail(err);
}

static int follow(const struct ferry_ctx *ctx, const char *id, long long interval)
{
	unsigned long long ooms = 0;
	long long next_stats;
	ferry_err_t err = NULL;

	if (ferry_container_oom_count(ctx, id, &ooms, &err) < 0)
		return cli_fail(&err);
	catch_stop_signals();
	next_stats = now_ns() + interval;
	while (!stop_signal) {
		long long wait = next_stats - now_ns();

		sleep_ns(wait < OOM_POLL_NS ? (wait > 0 ? wait : 0) : OOM_POLL_NS);
		if (stop_signal)
			break;
		/* an OOM kill of the init stops the container: its count is read first */
		if (check_oom(ctx, id, &ooms, &err) < 0)
			return poll_failed(ctx, id, &err);
		if (!alive(ctx, id))
			return 0;
		if (now_ns() >= next_stats) {
			if (print_stats(ctx, id, &err) < 0)
				return poll_failed(ctx, id, &err);
			next_stats += interval;
			if (next_stats < now_ns())
				next_stats = now_ns() + interval;
		}
	}
	return 0;
}

int cmd_events(const struct ferry_ctx *ctx, int argc, char **argv)
{
	const char *interval_text = "5s";
	bool stats = false;
	struct opt opts[] = {
	    {"stats", 0, OPT_BOOL, &stats},
	    {"interval", 0, OPT_STRING, &interval_text},
	    {NULL, 0, 0, NULL},
	};
	struct ferry_state st;
	ferry_err_t err = NULL;
	long long interval;
	int i = 1, r = opts_parse("events", opts, argc, argv, &i);

	if (r)
		return r > 0 ? cli_help("events") : 1;
	if (i != argc - 1)
		return cli_usage_error("events", "expects exactly one container id");
	interval = parse_duration(interval_text);
	if (interval <= 0) {
		fprintf(stderr,
			"ferry events: --interval: invalid duration \"%s\" (expected a positive Go "
			"duration such as 5s, 500ms, 1m)\n",
			interval_text);
		return 1;
	}
	if (ferry_container_state(ctx, argv[i], &st, &err) < 0)
		return cli_fail(&err);
	r = st.status == FERRY_STATUS_STOPPED;
	ferry_state_clear(&st);
	if (r) {
		fprintf(stderr, "ferry: container %s is not running\n", argv[i]);
		return 1;
	}
	if (stats)
		return print_stats(ctx, argv[i], &err) < 0 ? cli_fail(&err) : 0;
	return follow(ctx, argv[i], interval);
}

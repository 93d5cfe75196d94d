// SPDX-License-Identifier: Apache-2.0
/* Anonymous inodes from /proc/PID/fdinfo: eventfd (counter, semaphore mode), epoll (the watched
 * set: "tfd: N events: M data: D"), timerfd (clock, remaining time and interval, ticks) and
 * signalfd (its mask). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "os/linux/dump_fd.h"

#define EFD_SEMAPHORE_FLAG 1u

static int add_target(struct cr_fd *f, int tfd, unsigned int events, unsigned long long data,
		      ferry_err_t *err)
{
	struct cr_epoll_target *t =
	    realloc(f->epoll.targets, (f->epoll.n_targets + 1) * sizeof(*t));

	if (!t)
		return ferry_error(err, ENOMEM, "epoll targets");
	f->epoll.targets = t;
	t[f->epoll.n_targets++] = (struct cr_epoll_target){tfd, events, data};
	return 0;
}

/* One line of fdinfo into f (of kind already set); returns 0 or -1. */
static int parse_line(struct cr_fd *f, const char *line, ferry_err_t *err)
{
	unsigned long long a, b;
	unsigned int u;
	int i;

	switch (f->kind) {
	case CR_FD_EVENTFD:
		if (sscanf(line, "eventfd-count: %llx", &a) == 1)
			f->eventfd.counter = a;
		else if (sscanf(line, "eventfd-semaphore: %u", &u) == 1 && u)
			f->eventfd.flags |= EFD_SEMAPHORE_FLAG;
		return 0;
	case CR_FD_EPOLL:
		if (sscanf(line, "tfd: %d events: %x data: %llx", &i, &u, &a) == 3)
			return add_target(f, i, u, a, err);
		return 0;
	case CR_FD_TIMERFD:
		if (sscanf(line, "clockid: %d", &i) == 1)
			f->timerfd.clock = i;
		else if (sscanf(line, "ticks: %llu", &a) == 1)
			f->timerfd.ticks = a;
		else if (sscanf(line, "settime flags: %o", &u) == 1)
			f->timerfd.settime_flags = u;
		else if (sscanf(line, "it_value: (%llu, %llu)", &a, &b) == 2)
			f->timerfd.value_ns = a * 1000000000ull + b;
		else if (sscanf(line, "it_interval: (%llu, %llu)", &a, &b) == 2)
			f->timerfd.interval_ns = a * 1000000000ull + b;
		return 0;
	case CR_FD_SIGNALFD:
		if (sscanf(line, "sigmask: %llx", &a) == 1)
			f->signalfd_mask = a;
		return 0;
	default:
		return 0;
	}
}

int lx_dump_fd_anon(pid_t pid, struct cr_fd *f, const char *link, ferry_err_t *err)
{
	static const struct {
		const char *link;
		enum cr_fd_kind kind;
	} kinds[] = {
	    {"anon_inode:[eventfd]", CR_FD_EVENTFD},
	    {"anon_inode:[eventpoll]", CR_FD_EPOLL},
	    {"anon_inode:[timerfd]", CR_FD_TIMERFD},
	    {"anon_inode:[signalfd]", CR_FD_SIGNALFD},
	};
	char path[64], line[512];
	_cleanup_fclose_ FILE *in = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(kinds) && !f->kind; i++)
		if (!strcmp(link, kinds[i].link))
			f->kind = kinds[i].kind;
	if (!f->kind)
		return ferry_error(err, ENOTSUP, "%s: not supported yet", link);
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, f->fd);
	in = fopen(path, "re");
	if (!in)
		return ferry_error_errno(err, "%s", path);
	while (fgets(line, sizeof(line), in))
		if (parse_line(f, line, err) < 0)
			return -1;
	f->offset = 0;
	return 0;
}

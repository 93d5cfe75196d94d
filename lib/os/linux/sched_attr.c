// SPDX-License-Identifier: Apache-2.0
/* A thread's scheduling (policy, its flag, nice, priority, deadline parameters) through
 * sched_getattr/sched_setattr on its tid, and its I/O priority (ioprio_get/ioprio_set): ferry
 * reads them from a dumped thread and gives them to the restored one, last, as root (a real-time
 * policy, a lower nice and the real-time I/O class need privileges). */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/linux/sched_attr.h"

#define SCHED_FLAG_RESET_ON_FORK_ 1
#define IOPRIO_WHO_PROCESS_ 1 /* a thread, by its tid */

struct sched_attr_ {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

int lx_sched_get(pid_t tid, struct cr_sched *s, ferry_err_t *err)
{
	struct sched_attr_ a = {0};
	long io;

	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) < 0)
		return ferry_error_errno(err, "scheduling of thread %d", tid);
	io = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS_, tid);
	if (io < 0)
		return ferry_error_errno(err, "I/O priority of thread %d", tid);
	*s = (struct cr_sched){
	    .policy = a.policy,
	    .flags = a.flags & SCHED_FLAG_RESET_ON_FORK_ ? CR_SCHED_RESET_ON_FORK : 0,
	    .nice = a.nice,
	    .priority = a.priority,
	    .runtime = a.runtime,
	    .deadline = a.deadline,
	    .period = a.period,
	    .ioprio = (uint32_t)io,
	};
	return 0;
}

int lx_sched_set(pid_t tid, const struct cr_sched *s, ferry_err_t *err)
{
	struct sched_attr_ a = {
	    .size = sizeof(a),
	    .policy = s->policy,
	    .flags = s->flags & CR_SCHED_RESET_ON_FORK ? SCHED_FLAG_RESET_ON_FORK_ : 0,
	    .nice = s->nice,
	    .priority = s->priority,
	    .runtime = s->runtime,
	    .deadline = s->deadline,
	    .period = s->period,
	};

	if (syscall(SYS_sched_setattr, tid, &a, 0) < 0)
		return ferry_error_errno(err,
					 "scheduling of thread %d: policy %u, nice %d, priority %u",
					 tid, s->policy, s->nice, s->priority);
	if (s->ioprio && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, tid, s->ioprio) < 0)
		return ferry_error_errno(err, "I/O priority of thread %d: class %u, level %u", tid,
					 s->ioprio >> 13, s->ioprio & 0x1fff);
	return 0;
}

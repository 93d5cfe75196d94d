// SPDX-License-Identifier: Apache-2.0
/* A thread's scheduling (policy, its flag, nice, priority, deadline parameters) through
 * sched_getattr/sched_setattr on its tid: ferry reads it from a dumped thread and gives it to the
 * restored one, last, as root (a real-time policy and a lower nice need CAP_SYS_NICE). */
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "os/linux/sched_attr.h"

#define SCHED_FLAG_RESET_ON_FORK_ 1

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

	if (syscall(SYS_sched_getattr, tid, &a, sizeof(a), 0) < 0)
		return ferry_error_errno(err, "scheduling of thread %d", tid);
	*s = (struct cr_sched){
	    .policy = a.policy,
	    .flags = a.flags & SCHED_FLAG_RESET_ON_FORK_ ? CR_SCHED_RESET_ON_FORK : 0,
	    .nice = a.nice,
	    .priority = a.priority,
	    .runtime = a.runtime,
	    .deadline = a.deadline,
	    .period = a.period,
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
	return 0;
}

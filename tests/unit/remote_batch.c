// SPDX-License-Identifier: Apache-2.0
/* Batches of remote syscalls (os/linux/remote_batch.h) in a real traced process: calls run in
 * order, an fd opened in the batch reaches the calls that use it, a failed call stops the batch
 * and names its step, a full queue runs by itself, and a remote syscall runs the queue first. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/linux/ptrace.h"
#include "os/linux/remote.h"
#include "os/linux/remote_batch.h"
#include "os/linux/remote_fast.h"
#include "tap.h"

static pid_t child = -1;
static char dir[] = "/tmp/ferry-rbatch-XXXXXX";
static uint64_t ip, area;

static void cleanup(void)
{
	char cmd[PATH_MAX];

	if (child > 0) {
		kill(child, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0) /* the threads the tests made, traced, too */
			;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
}

/* The fd number fd of the child, as its /proc link ("" when it has none). */
static const char *fd_link(int fd)
{
	static char buf[PATH_MAX];
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", child, fd);
	n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static bool exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* Queues openat(AT_FDCWD, dir/name, flags, 0600); returns its index. */
static int64_t q_open(const char *name, int flags)
{
	char path[PATH_MAX];
	uint64_t a[6] = {(uint64_t)AT_FDCWD, 0, (uint64_t)flags, 0600};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lx_rbatch_call(child, name, SYS_openat, a, 1, path, strlen(path) + 1, NULL);
}

static int64_t q(long nr, uint64_t a0, uint64_t a1, uint64_t a2, const char *what)
{
	const uint64_t a[6] = {a0, a1, a2};

	return lx_rbatch_call(child, what, nr, a, -1, NULL, 0, NULL);
}

static int start_child(void)
{
	uint64_t a[6] = {0,
			 LX_RBATCH_SIZE,
			 PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS,
			 (uint64_t)-1,
			 0};
	struct lx_remote r;
	int64_t at;
	int st;

	child = fork();
	if (child == 0) {
		sigset_t all;

		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (;;)
			pause();
	}
	if (child < 0 ||
	    ptrace(PTRACE_SEIZE, child, NULL,
		   (void *)(PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK)) < 0 ||
	    ptrace(PTRACE_INTERRUPT, child, NULL, NULL) < 0 || waitpid(child, &st, __WALL) < 0 ||
	    lx_sigmask_set(child, ~0ULL, NULL) < 0 || lx_remote_init(&r, child, child, NULL) < 0 ||
	    !r.syscall_ip)
		return -1;
	ip = r.syscall_ip;
	at = lx_rfast_call(child, ip, SYS_mmap, a, NULL);
	if (at < 0)
		return -1;
	area = (uint64_t)at;
	return lx_rbatch_open(child, area, true, NULL);
}

int main(void)
{
	ferry_err_t err = NULL;
	uint64_t calls, batches, slot, a[6] = {0};
	int64_t o, got = -1;
	long stored = -1;
	int rc;

	if (!mkdtemp(dir) || start_child() < 0) {
		printf("1..0 # SKIP cannot trace a child here\n");
		cleanup();
		return 0;
	}

	/* an fd opened in the batch, moved to 50 and closed where it was opened */
	o = q_open("one", O_RDWR | O_CREAT);
	rc = o >= 0 && lx_rbatch_room(child, 4, 0, NULL) == 0 &&
	     lx_rbatch_next_arg(child, o, 0, NULL) == 0 &&
	     lx_rbatch_add(child, SYS_dup3, (uint64_t[6]){0, 50, O_CLOEXEC}, "dup", NULL) >= 0 &&
	     lx_rbatch_next_arg(child, o, 0, NULL) == 0 &&
	     lx_rbatch_add(child, SYS_close, a, "close", NULL) >= 0;
	ok(rc && lx_rbatch_flush(child, &err) == 0, "a queue with an open, dup3 and close runs");
	ok(lx_rbatch_result(child, o, &got, NULL) == 0 && got >= 0, "the open's result is kept");
	ok(strstr(fd_link(50), "/one") != NULL, "fd 50 is the file opened in the batch");
	ok(got != 50 && fd_link((int)got)[0] == 0, "the fd it was opened at is closed (%lld)",
	   (long long)got);

	/* a result stored into the queue's data, and an fd from an earlier batch */
	o = q_open("two", O_RDWR | O_CREAT);
	slot = o >= 0 && lx_rbatch_room(child, 1, 8, NULL) == 0
		   ? lx_rbatch_data(child, &stored, sizeof(stored), NULL)
		   : 0;
	ok(slot && lx_rbatch_result_to(child, o, slot, NULL) == 0 &&
	       lx_rbatch_flush(child, &err) == 0 &&
	       lx_remote_read(child, slot, &stored, sizeof(stored), NULL) == 0,
	   "a result is copied into the data");
	ok(lx_rbatch_result(child, o, &got, NULL) == 0 && stored == got,
	   "the data holds the open's fd (%ld)", stored);
	rc = lx_rbatch_room(child, 2, 0, NULL) == 0 && lx_rbatch_next_arg(child, o, 0, NULL) == 0 &&
	     lx_rbatch_add(child, SYS_dup3, (uint64_t[6]){0, 60}, "dup", NULL) >= 0;
	ok(rc && lx_rbatch_flush(child, &err) == 0 && strstr(fd_link(60), "/two"),
	   "an fd opened by an earlier batch reaches a later one");

	/* a failed call stops the batch and names its step */
	q_open("three", O_RDWR | O_CREAT);
	q(SYS_close, (uint64_t)-1, 0, 0, "the step that fails");
	q_open("four", O_RDWR | O_CREAT);
	ok(lx_rbatch_flush(child, &err) < 0, "a batch with a failing call fails");
	ok(err && err->errnum == EBADF, "with the call's errno");
	ok(err && strstr(err->msg, "the step that fails: remote syscall 3"),
	   "the error names the step and the syscall: %s", err ? err->msg : "");
	ok(exists("three") && !exists("four"), "the calls before it ran, those after did not");
	ferry_error_free(&err);
	q_open("four", O_RDWR | O_CREAT);
	ok(lx_rbatch_flush(child, &err) == 0 && exists("four"), "the next batch runs");

	/* a call needs room made for it */
	ok(lx_rbatch_add(child, SYS_getpid, a, NULL, &err) < 0 && err && err->errnum == E2BIG,
	   "a call queued without room is refused");
	ferry_error_free(&err);

	/* a full queue runs by itself */
	lx_rbatch_counts(&calls, &batches);
	rc = 0;
	for (int i = 0; i < 1000; i++)
		rc |= q(SYS_getppid, 0, 0, 0, "getppid") < 0;
	ok(!rc && lx_rbatch_flush(child, &err) == 0, "a thousand calls run");
	{
		uint64_t c2, b2;

		lx_rbatch_counts(&c2, &b2);
		ok(c2 - calls == 1000 && b2 - batches >= 3, "in %llu batches",
		   (unsigned long long)(b2 - batches));
	}

	/* a remote syscall runs the queue first */
	q_open("five", O_RDWR | O_CREAT);
	ok(lx_rfast_call(child, ip, SYS_getpid, a, &err) == child && exists("five"),
	   "a remote syscall runs what was queued before it");

	/* the thread is left as it was after its batches: it still takes remote syscalls */
	ok(lx_rfast_call(child, ip, SYS_getppid, a, &err) == getpid(),
	   "a remote syscall after the batches");
	/* a thread made by the batch (its first stop reached, never run) */
	{
		struct clone_args_ {
			uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
			    stack_size, tls, set_tid, set_tid_size, cgroup;
		} ca = {.flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD};
		pid_t made[2];
		struct lx_rfast_kids kids = {made, 0, 2};
		char task[64];
		int64_t idx;

		ok(lx_rbatch_kids(child, &kids, NULL) == 0, "tasks the batch makes are collected");
		idx = lx_rbatch_call(child, "thread", SYS_clone3, (uint64_t[6]){0, sizeof(ca)}, 0,
				     &ca, sizeof(ca), NULL);
		ok(idx >= 0 && lx_rbatch_flush(child, &err) == 0 && kids.n == 1,
		   "a batch with a clone3 runs, one task made");
		snprintf(task, sizeof(task), "/proc/%d/task/%d", child, made[0]);
		ok(kids.n == 1 && lx_rbatch_result(child, idx, &got, NULL) == 0 && got == made[0] &&
		       access(task, F_OK) == 0,
		   "the thread is the process's, its tid the clone3's result");
		lx_rbatch_kids(child, NULL, NULL);
		lx_rbatch_call(child, "thread", SYS_clone3, (uint64_t[6]){0, sizeof(ca)}, 0, &ca,
			       sizeof(ca), NULL);
		ok(lx_rbatch_flush(child, &err) < 0 && err && strstr(err->msg, "made task"),
		   "a task made where none is expected is an error: %s", err ? err->msg : "");
		ferry_error_free(&err);
	}

	ferry_error_free(&err);
	cleanup();
	return done_testing();
}

// SPDX-License-Identifier: Apache-2.0
/* Seizing a process tree with ptrace and the per-thread state read through it. */
#include <cpuid.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/ptrace.h"

/* Kernel-internal syscall restart codes (include/linux/errno.h), seen in rax by a tracer. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

/* ---- waiting for stops ---- */

int lx_wait_stop(pid_t tid, int *status, ferry_err_t *err)
{
	int st = 0;
	pid_t r;

	do
		r = waitpid(tid, &st, __WALL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ferry_error_errno(err, "wait for thread %d", tid);
	*status = st;
	if (WIFEXITED(st) || WIFSIGNALED(st))
		return 1;
	return 0;
}

int lx_resume_stop(pid_t tid, int req, int *status, ferry_err_t *err)
{
	for (;;) {
		int r;

		if (ptrace(req, tid, NULL, NULL) < 0)
			return ferry_error_errno(err, "resume thread %d", tid);
		r = lx_wait_stop(tid, status, err);
		if (r < 0)
			return -1;
		if (r == 1)
			return ferry_error(err, ESRCH, "thread %d died", tid);
		if (*status >> 16 != PTRACE_EVENT_STOP)
			return 0;
	}
}

/* Waits until tid sits in the stop a PTRACE_INTERRUPT asked for. A signal-delivery stop met on
 * the way is handed back to the thread (the interrupt stays pending, so the thread traps right
 * after the kernel has set the signal up). *stop_sig gets the group-stop signal, or 0.
 * Returns 0 when stopped, 1 when the thread is gone, -1 on error. */
static int wait_interrupt(pid_t tid, int *stop_sig, ferry_err_t *err)
{
	for (;;) {
		int st, r = lx_wait_stop(tid, &st, err);

		if (r != 0)
			return r;
		if (st >> 16 == PTRACE_EVENT_STOP) {
			*stop_sig = WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st);
			return 0;
		}
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)) < 0) {
			if (errno == ESRCH)
				continue;
			return ferry_error_errno(err, "resume thread %d with signal %d", tid,
						 WSTOPSIG(st));
		}
	}
}

/* ---- /proc ---- */

static int read_stat(pid_t pid, struct lx_proc *p)
{
	char path[64], buf[1024], *s;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 2, "%c %d %d %d", &p->state, &p->ppid, &p->pgid, &p->sid) != 4) {
		errno = EINVAL;
		return -1;
	}
	p->pid = pid;
	p->zombie = p->state == 'Z' || p->state == 'X';
	return 0;
}

/* Whether the thread has exited (zombie, dead or gone): PTRACE_SEIZE then fails with EPERM. */
static bool thread_exited(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *s;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	s = strrchr(buf, ')');
	return !s || s[1] == '\0' || s[2] == 'Z' || s[2] == 'X';
}

/* Returns the pid tracing pid (TracerPid in /proc/PID/status), 0 if none or unknown. */
static pid_t tracer_of(pid_t pid)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	pid_t tracer = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	return tracer;
}

/* Reads the pids listed in a /proc/.../children or the names of a /proc/PID/task directory into
 * a malloc'd array. Returns the count, or -1 (errno set) when the file or directory is gone. */
static ssize_t read_children(pid_t pid, pid_t tid, pid_t **out)
{
	char path[96];
	_cleanup_fclose_ FILE *f = NULL;
	pid_t *v = NULL, c;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%d", &c) == 1) {
		if (n == cap) {
			pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[n++] = c;
	}
	*out = v;
	return (ssize_t)n;
}

static ssize_t read_tasks(pid_t pid, pid_t **out)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	pid_t *v = NULL;
	size_t n = 0, cap = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			pid_t *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[n++] = atoi(de->d_name);
	}
	closedir(d);
	*out = v;
	return (ssize_t)n;
}

/* ---- the tree ---- */

void lx_tree_free(struct lx_tree *tree)
{
	for (size_t i = 0; i < tree->n; i++) {
		free(tree->procs[i].tids);
		free(tree->procs[i].stop_sig);
	}
	free(tree->procs);
	free(tree->cgroup);
	memset(tree, 0, sizeof(*tree));
}

struct lx_proc *lx_tree_find(struct lx_tree *tree, pid_t pid)
{
	for (size_t i = 0; i < tree->n; i++)
		if (tree->procs[i].pid == pid)
			return &tree->procs[i];
	return NULL;
}

static bool has_tid(const struct lx_proc *p, pid_t tid)
{
	for (size_t i = 0; i < p->ntids; i++)
		if (p->tids[i] == tid)
			return true;
	return false;
}

static int add_tid(struct lx_proc *p, pid_t tid, ferry_err_t *err)
{
	if (p->ntids == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		pid_t *t = realloc(p->tids, cap * sizeof(*t));
		int *s;

		if (!t)
			return ferry_error(err, ENOMEM, "seize %d", p->pid);
		p->tids = t;
		s = realloc(p->stop_sig, cap * sizeof(*s));
		if (!s)
			return ferry_error(err, ENOMEM, "seize %d", p->pid);
		p->stop_sig = s;
		p->cap = cap;
	}
	p->tids[p->ntids] = tid;
	p->stop_sig[p->ntids++] = -1; /* seized, stop not seen yet */
	return 0;
}

static void drop_tid(struct lx_proc *p, size_t i)
{
	memmove(p->tids + i, p->tids + i + 1, (p->ntids - i - 1) * sizeof(*p->tids));
	memmove(p->stop_sig + i, p->stop_sig + i + 1, (p->ntids - i - 1) * sizeof(*p->stop_sig));
	p->ntids--;
}

/* Appends the process pid (read from /proc) to the tree; returns 0, 1 if it is gone, or -1. */
static int add_proc(struct lx_tree *tree, pid_t pid, ferry_err_t *err)
{
	struct lx_proc p = {0};

	if (read_stat(pid, &p) < 0)
		return 1;
	if (tree->n == tree->cap) {
		size_t cap = tree->cap ? tree->cap * 2 : 8;
		struct lx_proc *v = realloc(tree->procs, cap * sizeof(*v));

		if (!v)
			return ferry_error(err, ENOMEM, "seize %d", pid);
		tree->procs = v;
		tree->cap = cap;
	}
	tree->procs[tree->n++] = p;
	return 0;
}

/* PTRACE_SEIZE + PTRACE_INTERRUPT one thread; returns 0, 1 if it is gone, or -1. */
static int seize_thread(pid_t pid, pid_t tid, ferry_err_t *err)
{
	long r = ptrace(PTRACE_SEIZE, tid, NULL,
			(void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_SUSPEND_SECCOMP));

	/* Seccomp filters are suspended while traced (remote syscalls must not be filtered);
	 * without the privilege for that, seize plainly. */
	if (r < 0 && (errno == EPERM || errno == EINVAL))
		r = ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD);
	if (r < 0) {
		pid_t tracer;

		if (errno == ESRCH || (errno == EPERM && thread_exited(pid, tid)))
			return 1;
		if (errno == EPERM && (tracer = tracer_of(tid)) > 0)
			return ferry_error(err, EPERM, "cannot trace %d (thread %d): traced by %d",
					   pid, tid, tracer);
		return ferry_error_errno(err, "cannot trace %d (thread %d)", pid, tid);
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0) {
		int e = errno;

		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		if (e == ESRCH)
			return 1;
		return ferry_error(err, e, "interrupt %d (thread %d)", pid, tid);
	}
	return 0;
}

/* Seizes the threads of p not seized yet (and waits for their stops when wait is set); sets
 * *changed when a thread was added. Returns 0 or -1. */
static int scan_threads(struct lx_proc *p, bool wait, bool *changed, ferry_err_t *err)
{
	_cleanup_free_ pid_t *tids = NULL;
	ssize_t n = read_tasks(p->pid, &tids);

	if (n < 0)
		n = 0; /* exited: its threads report their exit below */
	for (ssize_t i = 0; i < n; i++) {
		int r;

		if (has_tid(p, tids[i]))
			continue;
		r = seize_thread(p->pid, tids[i], err);
		if (r < 0)
			return -1;
		if (r == 0 && add_tid(p, tids[i], err) < 0) {
			ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
			return -1;
		}
		*changed = *changed || r == 0;
	}
	for (size_t i = 0; wait && i < p->ntids; i++) {
		int r;

		if (p->stop_sig[i] >= 0)
			continue;
		r = wait_interrupt(p->tids[i], &p->stop_sig[i], err);
		if (r < 0)
			return ferry_error_wrap(err, "seize %d", p->pid);
		if (r == 1)
			drop_tid(p, i--);
	}
	if (n > 0 && p->ntids == 0)
		p->zombie = true;
	return 0;
}

/* Adds the children of every thread of p not in the tree yet; returns 0 or -1. */
static int scan_children(struct lx_tree *tree, size_t pi, bool *changed, ferry_err_t *err)
{
	for (size_t t = 0; t < tree->procs[pi].ntids; t++) {
		_cleanup_free_ pid_t *kids = NULL;
		ssize_t n = read_children(tree->procs[pi].pid, tree->procs[pi].tids[t], &kids);

		for (ssize_t k = 0; k < n; k++) {
			int r;

			if (lx_tree_find(tree, kids[k]))
				continue;
			r = add_proc(tree, kids[k], err);
			if (r < 0)
				return -1;
			*changed = *changed || r == 0;
		}
	}
	return 0;
}

/* One pass over the tree, parents before children; returns 0 or -1. */
static int scan_tree(struct lx_tree *tree, bool wait, bool *changed, ferry_err_t *err)
{
	*changed = false;
	for (size_t i = 0; i < tree->n; i++) {
		if (tree->procs[i].zombie)
			continue;
		if (scan_threads(&tree->procs[i], wait, changed, err) < 0)
			return -1;
		if (i == 0 && tree->procs[0].ntids == 0)
			return ferry_error(err, ESRCH, "seize %d: the process exited",
					   tree->procs[0].pid);
		if (scan_children(tree, i, changed, err) < 0)
			return -1;
	}
	return 0;
}

/* Detaches one thread, first stopping it if it runs (a failure path may leave it so). */
static int detach_thread(pid_t tid, ferry_err_t *err)
{
	int sig = 0;

	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0)
		return 0;
	if (errno != ESRCH)
		return ferry_error_errno(err, "detach thread %d", tid);
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return 0; /* not traced by us any more: gone */
	if (wait_interrupt(tid, &sig, err) != 0)
		return 0;
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL) < 0 && errno != ESRCH)
		return ferry_error_errno(err, "detach thread %d", tid);
	return 0;
}

int lx_tree_detach(struct lx_tree *tree, ferry_err_t *err)
{
	int r = 0;

	for (size_t i = 0; i < tree->n; i++)
		for (size_t t = 0; t < tree->procs[i].ntids; t++)
			if (detach_thread(tree->procs[i].tids[t], err) < 0)
				r = -1;
	if (tree->cgroup && tree->refreeze && lx_cgroup_freeze(tree->cgroup, true, err) < 0)
		r = -1;
	lx_tree_free(tree);
	return r;
}

/* Freezes the cgroup and seizes everything in reach while it is frozen, then thaws it: the
 * interrupts are then taken as the threads leave the freezer. Returns 0 or -1. */
static int seize_frozen(struct lx_tree *tree, const char *cgroup, ferry_err_t *err)
{
	bool was = false, changed = true;
	int r = 0;

	tree->cgroup = strdup(cgroup);
	if (!tree->cgroup)
		return ferry_error(err, ENOMEM, "seize");
	if (lx_cgroup_frozen(cgroup, &was, err) < 0)
		return -1;
	tree->refreeze = was;
	if (!was && lx_cgroup_freeze(cgroup, true, err) < 0)
		return -1;
	while (r == 0 && changed)
		r = scan_tree(tree, false, &changed, err);
	if (lx_cgroup_freeze(cgroup, false, err) < 0)
		r = -1;
	return r;
}

int lx_tree_seize(pid_t root, const char *cgroup, struct lx_tree *tree, ferry_err_t *err)
{
	bool changed = true;
	int r;

	memset(tree, 0, sizeof(*tree));
	if (root <= 0 || root == getpid())
		return ferry_error(err, EINVAL, "seize %d: not a traceable process", root);
	r = add_proc(tree, root, err);
	if (r != 0) {
		lx_tree_free(tree);
		return r < 0 ? -1 : ferry_error(err, ESRCH, "seize %d", root);
	}
	if (tree->procs[0].zombie) {
		lx_tree_free(tree);
		return ferry_error(err, ESRCH, "seize %d: the process exited (zombie)", root);
	}
	r = cgroup ? seize_frozen(tree, cgroup, err) : 0;
	while (r == 0 && changed)
		r = scan_tree(tree, true, &changed, err);
	if (r == 0)
		return 0;
	if (tree->cgroup)
		lx_cgroup_freeze(tree->cgroup, false, NULL);
	lx_tree_detach(tree, NULL);
	return -1;
}

/* ---- registers ---- */

static int regset(pid_t tid, int req, int type, void *buf, size_t *len, const char *what,
		  ferry_err_t *err)
{
	struct iovec iov = {.iov_base = buf, .iov_len = *len};

	if (ptrace(req, tid, (void *)(long)type, &iov) < 0)
		return ferry_error_errno(err, "%s %s of thread %d",
					 req == PTRACE_GETREGSET ? "read" : "write", what, tid);
	*len = iov.iov_len;
	return 0;
}

int lx_regs_get(pid_t tid, struct user_regs_struct *regs, ferry_err_t *err)
{
	size_t len = sizeof(*regs);

	if (regset(tid, PTRACE_GETREGSET, NT_PRSTATUS, regs, &len, "registers", err) < 0)
		return -1;
	if (len != sizeof(*regs))
		return ferry_error(err, EIO, "read registers of thread %d: %zu bytes", tid, len);
	return 0;
}

int lx_regs_set(pid_t tid, const struct user_regs_struct *regs, ferry_err_t *err)
{
	size_t len = sizeof(*regs);

	return regset(tid, PTRACE_SETREGSET, NT_PRSTATUS, (void *)regs, &len, "registers", err);
}

size_t lx_xsave_size(void)
{
	unsigned int a = 0, b = 0, c = 0, d = 0;

	if (!__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || c < 512 + 64)
		return 4096;
	return c;
}

int lx_xsave_get(pid_t tid, void **buf, size_t *len, ferry_err_t *err)
{
	size_t size = lx_xsave_size();
	_cleanup_free_ void *b = calloc(1, size);

	if (!b)
		return ferry_error(err, ENOMEM, "read xsave area of thread %d", tid);
	if (regset(tid, PTRACE_GETREGSET, NT_X86_XSTATE, b, &size, "xsave area", err) < 0)
		return -1;
	*buf = steal_ptr(b);
	*len = size;
	return 0;
}

int lx_xsave_set(pid_t tid, const void *buf, size_t len, ferry_err_t *err)
{
	size_t l = len;

	return regset(tid, PTRACE_SETREGSET, NT_X86_XSTATE, (void *)buf, &l, "xsave area", err);
}

int lx_sigmask_get(pid_t tid, uint64_t *mask, ferry_err_t *err)
{
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(*mask), mask) < 0)
		return ferry_error_errno(err, "read signal mask of thread %d", tid);
	return 0;
}

int lx_sigmask_set(pid_t tid, uint64_t mask, ferry_err_t *err)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) < 0)
		return ferry_error_errno(err, "write signal mask of thread %d", tid);
	return 0;
}

int lx_sigqueue_peek(pid_t tid, bool shared, siginfo_t **out, size_t *n, ferry_err_t *err)
{
	_cleanup_free_ siginfo_t *v = NULL;
	size_t count = 0, cap = 0;

	for (;;) {
		struct __ptrace_peeksiginfo_args a = {
		    .off = count, .flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0, .nr = 32};
		long r;

		if (count + 32 > cap) {
			siginfo_t *nv = realloc(v, (cap = count + 64) * sizeof(*v));

			if (!nv)
				return ferry_error(err, ENOMEM, "read pending signals of %d", tid);
			v = nv;
		}
		r = ptrace(PTRACE_PEEKSIGINFO, tid, &a, v + count);
		if (r < 0)
			return ferry_error_errno(err, "read %s pending signals of thread %d",
						 shared ? "shared" : "private", tid);
		if (r == 0)
			break;
		count += (size_t)r;
	}
	*out = count ? steal_ptr(v) : NULL;
	*n = count;
	return 0;
}

int lx_robust_list_get(pid_t tid, uint64_t *head, size_t *len, ferry_err_t *err)
{
	void *h = NULL;
	size_t l = 0;

	if (syscall(SYS_get_robust_list, tid, &h, &l) < 0)
		return ferry_error_errno(err, "read robust list of thread %d", tid);
	*head = (uint64_t)(unsigned long)h;
	*len = l;
	return 0;
}

enum lx_rewind lx_regs_rewind_syscall(struct user_regs_struct *regs)
{
	if ((long)regs->orig_rax < 0)
		return LX_REWIND_NONE;
	switch ((long)regs->rax) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
		regs->rax = regs->orig_rax;
		regs->rip -= 2;
		regs->orig_rax = (unsigned long long)-1;
		return LX_REWIND_RESTART;
	case -ERESTART_RESTARTBLOCK:
		regs->rax = (unsigned long long)-EINTR;
		regs->orig_rax = (unsigned long long)-1;
		return LX_REWIND_EINTR;
	default:
		return LX_REWIND_NONE;
	}
}

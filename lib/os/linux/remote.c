// SPDX-License-Identifier: Apache-2.0
/* Remote syscalls through ptrace, and memory copies in and out of a tracee. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "ferry/log.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote.h"

#define SYSCALL_STOP (SIGTRAP | 0x80)

/* ---- memory ---- */

/* Word-wise PTRACE_PEEKDATA/POKEDATA copy of [addr, addr + len); returns 0 or -1 (errno). */
static int poke_copy(pid_t pid, uint64_t addr, void *buf, size_t len, bool write)
{
	unsigned char *b = buf;

	while (len > 0) {
		uint64_t base = addr & ~7ULL, off = addr - base;
		size_t n = 8 - off < len ? 8 - off : len;
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, (void *)base, NULL);
		if (errno)
			return -1;
		if (!write) {
			memcpy(b, (char *)&word + off, n);
		} else {
			memcpy((char *)&word + off, b, n);
			if (ptrace(PTRACE_POKEDATA, pid, (void *)base, (void *)word) < 0)
				return -1;
		}
		b += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static int vm_copy(pid_t pid, uint64_t addr, void *buf, size_t len, bool write, ferry_err_t *err)
{
	size_t done = 0;

	while (done < len) {
		struct iovec local = {(char *)buf + done, len - done};
		struct iovec remote = {(void *)(addr + done), len - done};
		ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
				  : process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done == len)
		return 0;
	/* A page process_vm_* refuses (read-only for a write, PROT_NONE): go word by word. */
	if (poke_copy(pid, addr + done, (char *)buf + done, len - done, write) == 0)
		return 0;
	return ferry_error_errno(err, "%s %zu bytes at 0x%llx in %d", write ? "write" : "read",
				 len - done, (unsigned long long)(addr + done), pid);
}

int lx_remote_write(pid_t pid, uint64_t addr, const void *buf, size_t len, ferry_err_t *err)
{
	return vm_copy(pid, addr, (void *)buf, len, true, err);
}

int lx_remote_read(pid_t pid, uint64_t addr, void *buf, size_t len, ferry_err_t *err)
{
	return vm_copy(pid, addr, buf, len, false, err);
}

/* ---- finding a syscall instruction ---- */

/* Finds [vdso] in /proc/PID/maps; returns 0 with its bounds, or -1 when there is none. */
static int find_vdso(pid_t pid, uint64_t *start, uint64_t *end)
{
	char path[64], line[512];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char perms[8];

		if (!strstr(line, "[vdso]"))
			continue;
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && perms[2] == 'x') {
			*start = s;
			*end = e;
			return 0;
		}
	}
	return -1;
}

int lx_remote_init(struct lx_remote *r, pid_t pid, pid_t tid, ferry_err_t *err)
{
	_cleanup_free_ unsigned char *code = NULL;
	uint64_t start, end;
	unsigned char *hit;

	*r = (struct lx_remote){.pid = pid, .tid = tid}; /* unguarded */
	if (find_vdso(pid, &start, &end) < 0 || end - start > (64 << 20))
		return 0;
	code = malloc(end - start);
	if (!code)
		return ferry_error(err, ENOMEM, "remote syscalls in %d", pid);
	if (lx_remote_read(pid, start, code, end - start, err) < 0)
		return ferry_error_wrap(err, "remote syscalls in %d: vDSO", pid);
	hit = memmem(code, end - start, "\x0f\x05", 2);
	if (hit)
		r->syscall_ip = start + (uint64_t)(hit - code);
	return 0;
}

/* ---- running a syscall ---- */

/* Resumes tid with PTRACE_SYSCALL until its next syscall stop; *regs gets its registers there.
 * Job-control stops are passed through; a signal is an error. Returns 0 or -1. */
static int next_syscall_stop(pid_t tid, struct user_regs_struct *regs, ferry_err_t *err)
{
	int st;

	if (lx_resume_stop(tid, PTRACE_SYSCALL, &st, err) < 0)
		return -1;
	if (WSTOPSIG(st) == SYSCALL_STOP)
		return lx_regs_get(tid, regs, err);
	return ferry_error(err, EFAULT, "thread %d got signal %d (%s)", tid, WSTOPSIG(st),
			   strsignal(WSTOPSIG(st)));
}

int lx_back_to_interrupt_stop(pid_t tid, ferry_err_t *err)
{
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0)
		return ferry_error_errno(err, "interrupt thread %d", tid);
	if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
		return ferry_error_errno(err, "resume thread %d", tid);
	for (;;) {
		int st, r = lx_wait_stop(tid, &st, err);

		if (r < 0)
			return -1;
		if (r == 1)
			return ferry_error(err, ESRCH, "thread %d died", tid);
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal stop before the trap cannot happen with the jobctl trap pending first;
		 * hand anything else back to the thread. */
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)) < 0)
			return ferry_error_errno(err, "resume thread %d", tid);
	}
}

/* Writes 0f 05 at the 8-byte-aligned address at or below rip, keeping the word in *saved;
 * returns the address or 0 (err set). */
static uint64_t patch_syscall(pid_t tid, uint64_t rip, long *saved, ferry_err_t *err)
{
	uint64_t at = rip & ~7ULL;
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, tid, (void *)at, NULL);
	if (errno) {
		ferry_error_errno(err, "read code at 0x%llx in %d", (unsigned long long)at, tid);
		return 0;
	}
	*saved = word;
	word = (long)(((unsigned long)word & ~0xffffUL) | 0x050fUL);
	if (ptrace(PTRACE_POKEDATA, tid, (void *)at, (void *)word) < 0) {
		ferry_error_errno(err, "write code at 0x%llx in %d", (unsigned long long)at, tid);
		return 0;
	}
	return at;
}

void lx_regs_syscall_setup(struct user_regs_struct *regs, uint64_t ip, long nr, const uint64_t a[6])
{
	regs->rax = (unsigned long long)nr;
	regs->orig_rax = (unsigned long long)-1; /* not in a syscall: no restart on resume */
	regs->rdi = a[0];
	regs->rsi = a[1];
	regs->rdx = a[2];
	regs->r10 = a[3];
	regs->r8 = a[4];
	regs->r9 = a[5];
	regs->rip = ip;
}

/* ---- fault injection: FERRY_FAULT=remote-entry|remote-exit|remote-done:N ---- */

enum fault_at { FAULT_NONE, FAULT_ENTRY, FAULT_EXIT, FAULT_DONE };

static struct {
	bool read;
	enum fault_at at;
	unsigned long n; /* 1-based, counted over every remote syscall of this process */
} fault;

static void fault_read(void)
{
	static const char *const names[] = {"", "remote-entry:", "remote-exit:", "remote-done:"};
	const char *v = getenv("FERRY_FAULT");

	fault.read = true;
	for (size_t i = 1; v && i < ARRAY_SIZE(names); i++)
		if (!strncmp(v, names[i], strlen(names[i]))) {
			fault.at = (enum fault_at)i;
			fault.n = strtoul(v + strlen(names[i]), NULL, 10);
		}
}

/* SIGKILLs ferry itself. */
static _Noreturn void die(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

/* SIGKILLs ferry itself when call n at point `at` is the one FERRY_FAULT names. */
static void fault_point(enum fault_at at, unsigned long n)
{
	if (fault.at == at && fault.n == n)
		die();
}

void lx_remote_fault(const char *point)
{
	const char *v = getenv("FERRY_FAULT");

	if (v && !strcmp(v, point))
		die();
}

/* Sets the syscall up in the stopped thread and runs it to its exit; *ret gets rax. The
 * registers go in before every signal is blocked (see remote_exit.c for why). */
static int run_syscall(const struct lx_remote *r, const struct user_regs_struct *saved, uint64_t ip,
		       uint64_t sp, long nr, const uint64_t a[6], unsigned long n, int64_t *ret,
		       ferry_err_t *err)
{
	struct user_regs_struct regs = *saved;
	pid_t tid = r->tid;

	lx_regs_syscall_setup(&regs, ip, nr, a);
	if (sp)
		regs.rsp = sp; /* `ret` then pops the rt_sigreturn gadget onto the frame */
	if (lx_regs_set(tid, &regs, err) < 0 || lx_sigmask_set(tid, ~0ULL, err) < 0)
		return -1;
	if (next_syscall_stop(tid, &regs, err) < 0)
		return -1;
	fault_point(FAULT_ENTRY, n);
	if ((long)regs.orig_rax != nr || regs.rip != ip + 2)
		return ferry_error(err, EFAULT, "thread %d stopped in syscall %lld at 0x%llx", tid,
				   (long long)regs.orig_rax, (unsigned long long)regs.rip);
	if (next_syscall_stop(tid, &regs, err) < 0)
		return -1;
	fault_point(FAULT_EXIT, n);
	*ret = (int64_t)regs.rax;
	return 0;
}

static const char *syscall_name(long nr);

static const uint64_t no_args[6];
static unsigned long calls; /* remote syscalls so far, numbered from 1 (FERRY_FAULT, the log) */

/* Numbers a new remote syscall and logs it; returns its number. */
static unsigned long call_begin(const struct lx_remote *r, long nr, bool guarded)
{
	if (!fault.read)
		fault_read();
	ferry_log(FERRY_LOG_DEBUG, "remote syscall %lu: %s (%ld) in %d%s", calls + 1,
		  syscall_name(nr) ? syscall_name(nr) : "syscall", nr, r->tid,
		  guarded ? ", guarded" : ", unguarded");
	return ++calls;
}

int lx_remote_syscall(struct lx_remote *r, long nr, const uint64_t args[6], int64_t *ret,
		      ferry_err_t *err)
{
	struct user_regs_struct saved;
	uint64_t mask, ip = r->exit_sp ? r->exit_gadget : r->syscall_ip;
	unsigned long n = call_begin(r, nr, r->exit_sp != 0);
	bool patched = !ip;
	long code = 0;
	int rc;

	if (lx_regs_get(r->tid, &saved, err) < 0 || lx_sigmask_get(r->tid, &mask, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld", nr);
	if (patched && !(ip = patch_syscall(r->tid, saved.rip, &code, err)))
		return ferry_error_wrap(err, "remote syscall %ld", nr);
	rc = run_syscall(r, &saved, ip, r->exit_sp, nr, args ? args : no_args, n, ret, err);
	/* Put everything back whatever happened: the mask before the registers. */
	if (patched && ptrace(PTRACE_POKEDATA, r->tid, (void *)ip, (void *)code) < 0)
		rc = ferry_error_errno(err, "restore code at 0x%llx", (unsigned long long)ip);
	if (lx_sigmask_set(r->tid, mask, err) < 0 || lx_regs_set(r->tid, &saved, err) < 0)
		rc = -1;
	fault_point(FAULT_DONE, n);
	if (lx_back_to_interrupt_stop(r->tid, err) < 0)
		rc = -1;
	return rc < 0 ? ferry_error_wrap(err, "remote syscall %ld in %d", nr, r->tid) : 0;
}

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_mmap:
		return "mmap";
	case SYS_munmap:
		return "munmap";
	case SYS_mprotect:
		return "mprotect";
	case SYS_mremap:
		return "mremap";
	case SYS_open:
		return "open";
	case SYS_openat:
		return "openat";
	case SYS_close:
		return "close";
	case SYS_dup2:
		return "dup2";
	case SYS_dup3:
		return "dup3";
	case SYS_lseek:
		return "lseek";
	case SYS_prctl:
		return "prctl";
	case SYS_rt_sigaction:
		return "rt_sigaction";
	case SYS_sigaltstack:
		return "sigaltstack";
	case SYS_getpid:
		return "getpid";
	case SYS_brk:
		return "brk";
	case SYS_getitimer:
		return "getitimer";
	case SYS_timer_gettime:
		return "timer_gettime";
	case SYS_pipe2:
		return "pipe2";
	case SYS_socketpair:
		return "socketpair";
	default:
		return NULL;
	}
}

/* The error of syscall nr that returned ret (-errno) in r->tid: returns -1. */
static int call_failed(const struct lx_remote *r, long nr, int64_t ret, ferry_err_t *err)
{
	const char *name = syscall_name(nr);

	if (name)
		return ferry_error(err, (int)-ret, "remote %s in %d", name, r->tid);
	return ferry_error(err, (int)-ret, "remote syscall %ld in %d", nr, r->tid);
}

int64_t lx_remote_call_stay(struct lx_remote *r, long nr, const uint64_t args[6], uint64_t sp,
			    ferry_err_t *err)
{
	struct user_regs_struct saved;
	unsigned long n = call_begin(r, nr, true);
	uint64_t mask;
	int64_t ret = 0;

	if (!r->exit_sp || !sp)
		return ferry_error(err, ENOTSUP, "remote syscall %ld in %d: no guard", nr, r->tid);
	if (lx_regs_get(r->tid, &saved, err) < 0 || lx_sigmask_get(r->tid, &mask, err) < 0)
		return ferry_error_wrap(err, "remote syscall %ld", nr);
	if (run_syscall(r, &saved, r->exit_gadget, sp, nr, args ? args : no_args, n, &ret, err) ==
		0 &&
	    (uint64_t)ret < (uint64_t)-4095) {
		fault_point(FAULT_DONE, n);
		return ret;
	}
	if ((uint64_t)ret >= (uint64_t)-4095)
		call_failed(r, nr, ret, err);
	/* failed: put everything back, the mask before the registers */
	if (lx_sigmask_set(r->tid, mask, NULL) == 0 && lx_regs_set(r->tid, &saved, NULL) == 0)
		lx_back_to_interrupt_stop(r->tid, NULL);
	return ferry_error_wrap(err, "remote syscall %ld in %d", nr, r->tid);
}

int64_t lx_remote_call(struct lx_remote *r, long nr, const uint64_t args[6], ferry_err_t *err)
{
	int64_t ret = 0;

	if (lx_remote_syscall(r, nr, args, &ret, err) < 0)
		return -1;
	if ((uint64_t)ret < (uint64_t)-4095)
		return ret;
	return call_failed(r, nr, ret, err);
}

/* ---- per-thread state only visible from inside ---- */

int lx_remote_sigaltstack(struct lx_remote *r, const stack_t *set, stack_t *old, ferry_err_t *err)
{
	const size_t page = 4096;
	uint64_t map[6] = {
	    0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0};
	int64_t at = lx_remote_call(r, SYS_mmap, map, err);
	uint64_t a[6] = {0};
	int rc = 0;

	if (at < 0)
		return ferry_error_wrap(err, "sigaltstack of %d", r->tid);
	if (set) {
		a[0] = (uint64_t)at;
		rc = lx_remote_write(r->pid, a[0], set, sizeof(*set), err);
	}
	if (old)
		a[1] = (uint64_t)at + sizeof(stack_t);
	if (rc == 0 && lx_remote_call(r, SYS_sigaltstack, a, err) < 0)
		rc = -1;
	if (rc == 0 && old)
		rc = lx_remote_read(r->pid, a[1], old, sizeof(*old), err);
	map[0] = (uint64_t)at;
	if (lx_remote_call(r, SYS_munmap, map, err) < 0)
		rc = -1;
	return rc < 0 ? ferry_error_wrap(err, "sigaltstack of %d", r->tid) : 0;
}

// SPDX-License-Identifier: Apache-2.0
/* Seizing a real process tree, its registers and signals, remote syscalls, and the tree running on
 * unchanged after the detach (as root, on the real kernel). */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/cgroup.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote.h"
#include "tap.h"

#define PAT_A(i) (0x11 + (i))
#define PAT_B(i) (0xa0 + (i))

struct shared {
	volatile unsigned long counter, gcounter, ymm_checks;
	volatile pid_t tids[3]; /* main, ymm thread, reader */
	volatile pid_t grandchild, pgid, sid, gpgid, gsid;
	volatile int gready;
	volatile int ymm_state; /* 1: ymm7 holds A, 2: B, 0: something else */
	volatile int avx;
	volatile long read_ret;
	char read_buf[8];
	char altstack[16384];
};

static struct shared *sh;
static pid_t kids[4];
static size_t nkids;
static int pipefd[2] = {-1, -1};
static char tmpdir[64];

static void usr1_handler(int sig)
{
	(void)sig;
}

/* ---- the traced program ---- */

static int ymm_match(void)
{
	unsigned char out[32] __attribute__((aligned(32)));
	volatile uint64_t *o = (volatile uint64_t *)out;
	uint64_t a = 0, b = 0;

	__asm__ volatile("vmovdqu %%ymm7, %0" : "=m"(*(unsigned char(*)[32])out));
	for (int i = 7; i >= 0; i--) {
		a = (a << 8) | PAT_A(i);
		b = (b << 8) | PAT_B(i);
	}
	/* Byte i of each word w is PAT(8w + i) = PAT(i) + 8w. */
	if (o[0] == a && o[1] == a + 0x0808080808080808ULL && o[2] == a + 0x1010101010101010ULL &&
	    o[3] == a + 0x1818181818181818ULL)
		return 1;
	if (o[0] == b && o[1] == b + 0x0808080808080808ULL && o[2] == b + 0x1010101010101010ULL &&
	    o[3] == b + 0x1818181818181818ULL)
		return 2;
	return 0;
}

static void *ymm_thread(void *arg)
{
	unsigned char pat[32] __attribute__((aligned(32)));

	sh->tids[1] = (pid_t)syscall(SYS_gettid);
	if (!sh->avx)
		for (;;)
			sh->ymm_checks++;
	for (int i = 0; i < 32; i++)
		pat[i] = (unsigned char)PAT_A(i);
	__asm__ volatile("vmovdqu %0, %%ymm7" ::"m"(*(unsigned char(*)[32])pat) : "xmm7");
	for (;;) {
		sh->ymm_state = ymm_match();
		sh->ymm_checks++;
	}
	return arg;
}

static void *reader_thread(void *arg)
{
	char buf[8] = {0};
	long r;

	sh->tids[2] = (pid_t)syscall(SYS_gettid);
	r = read(pipefd[0], buf, 5);
	memcpy(sh->read_buf, buf, sizeof(buf));
	sh->read_ret = r;
	return arg;
}

static void child_main(void)
{
	stack_t ss = {.ss_sp = sh->altstack, .ss_size = sizeof(sh->altstack)};
	struct sigaction sa = {.sa_handler = usr1_handler};
	sigset_t usr2;
	pthread_t t;
	pid_t g;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpgid(0, 0);
	sh->pgid = getpgid(0);
	sh->sid = getsid(0);
	sigaction(SIGUSR1, &sa, NULL);
	sigaltstack(&ss, NULL);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	g = fork();
	if (g == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sh->gpgid = getpgid(0);
		sh->gsid = getsid(0);
		sh->gready = 1;
		for (;;)
			sh->gcounter++;
	}
	sh->grandchild = g;
	sh->tids[0] = getpid();
	pthread_create(&t, NULL, ymm_thread, NULL);
	pthread_create(&t, NULL, reader_thread, NULL);
	for (;;)
		sh->counter++;
}

/* ---- helpers ---- */

static void kill_all(void)
{
	if (sh && sh->grandchild > 0)
		kill(sh->grandchild, SIGKILL);
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	if (sh && sh->grandchild > 0)
		waitpid(sh->grandchild, NULL, __WALL);
	for (size_t i = 0; i < nkids; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, __WALL);
	nkids = 0;
	if (sh)
		sh->grandchild = 0;
	if (tmpdir[0]) {
		char path[128];

		snprintf(path, sizeof(path), "%s/file", tmpdir);
		unlink(path);
		rmdir(tmpdir);
		tmpdir[0] = '\0';
	}
}

static void on_signal(int sig)
{
	kill_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Waits up to 5 s for *v to differ from old; returns whether it did. */
static bool advances(volatile unsigned long *v)
{
	unsigned long old = *v;

	for (int i = 0; i < 500 && *v == old; i++)
		sleep_ms(10);
	return *v != old;
}

static bool child_ready(void)
{
	for (int i = 0; i < 500; i++) {
		if (sh->tids[0] && sh->tids[1] && sh->tids[2] && sh->grandchild && sh->gready &&
		    sh->counter && sh->gcounter && sh->ymm_checks > 100)
			return true;
		sleep_ms(10);
	}
	return false;
}

/* Whether addr lies in an executable mapping of pid. */
static bool in_exec_mapping(pid_t pid, uint64_t addr)
{
	char path[64], line[512];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && addr >= s && addr < e)
			return perms[2] == 'x';
	}
	return false;
}

/* The permissions of the mapping starting at addr in pid ("" when there is none). */
static const char *mapping_perms(pid_t pid, uint64_t addr)
{
	static char perms[8];
	char path[64], line[512];
	_cleanup_fclose_ FILE *f = NULL;

	perms[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s;

		if (sscanf(line, "%llx-%*x %7s", &s, perms) == 2 && s == addr)
			return perms;
		perms[0] = '\0';
	}
	return perms;
}

static bool same_tids(const struct lx_proc *p)
{
	if (p->ntids != 3)
		return false;
	for (int i = 0; i < 3; i++) {
		bool found = false;

		for (size_t t = 0; t < p->ntids; t++)
			found = found || p->tids[t] == sh->tids[i];
		if (!found)
			return false;
	}
	return true;
}

/* Names the first field where two register sets differ, or NULL. */
static const char *regs_diff(const struct user_regs_struct *a, const struct user_regs_struct *b)
{
	static char buf[32];
	const unsigned long long *x = (const void *)a, *y = (const void *)b;

	for (size_t i = 0; i < sizeof(*a) / sizeof(*x); i++)
		if (x[i] != y[i]) {
			snprintf(buf, sizeof(buf), "word %zu", i);
			return buf;
		}
	return NULL;
}

static const char *msg(ferry_err_t e)
{
	return e && e->msg ? e->msg : "";
}

/* ---- the tests ---- */

static void test_tree(struct lx_tree *tree, pid_t child)
{
	struct lx_proc *p = lx_tree_find(tree, child), *g = lx_tree_find(tree, sh->grandchild);

	ok(tree->n == 2 && tree->procs[0].pid == child, "tree: root first, 2 processes (%zu)",
	   tree->n);
	ok(p && same_tids(p), "all 3 threads of the child seized (%zu)", p ? p->ntids : 0);
	ok(p && p->pgid == sh->pgid && p->sid == sh->sid && p->ppid == getpid(),
	   "child pgid %d sid %d ppid %d", p ? p->pgid : 0, p ? p->sid : 0, p ? p->ppid : 0);
	ok(g && g->ntids == 1 && g->tids[0] == sh->grandchild && g->ppid == child &&
	       g->pgid == sh->gpgid && g->sid == sh->gsid,
	   "grandchild seized with its ppid, pgid, sid");
}

static void test_frozen(void)
{
	unsigned long c = sh->counter, gc = sh->gcounter, y = sh->ymm_checks;

	sleep_ms(100);
	ok(c == sh->counter && gc == sh->gcounter && y == sh->ymm_checks,
	   "nothing runs while seized (counters %lu %lu %lu)", c, gc, y);
}

static void test_regs(pid_t child)
{
	struct user_regs_struct r, rw;
	ferry_err_t err = NULL;
	bool all = true;
	unsigned char code[2] = {0};

	for (int i = 0; i < 3; i++) {
		all =
		    all && lx_regs_get(sh->tids[i], &r, &err) == 0 && in_exec_mapping(child, r.rip);
		all = all && r.fs_base != 0 && r.rsp != 0;
	}
	ok(all, "registers of every thread: rip in an executable mapping, fs base set (%s)",
	   msg(err));
	ferry_error_free(&err);

	ok(lx_regs_get(sh->tids[2], &r, &err) == 0 && (long)r.orig_rax == SYS_read &&
	       (long)r.rax == -512,
	   "reader stopped inside read(): orig_rax %lld rax %lld", (long long)r.orig_rax,
	   (long long)r.rax);
	rw = r;
	ok(lx_regs_rewind_syscall(&rw) == LX_REWIND_RESTART && rw.rax == SYS_read &&
	       rw.rip == r.rip - 2 && (long)rw.orig_rax == -1,
	   "rewound: rax = read, rip back 2, not in a syscall");
	ok(lx_remote_read(child, rw.rip, code, 2, &err) == 0 && code[0] == 0x0f && code[1] == 0x05,
	   "the rewound rip points at a syscall instruction");
	rw = r;
	rw.rax = (unsigned long long)-516; /* -ERESTART_RESTARTBLOCK, as a nanosleep leaves it */
	ok(lx_regs_rewind_syscall(&rw) == LX_REWIND_EINTR && (long)rw.rax == -EINTR &&
	       rw.rip == r.rip && (long)rw.orig_rax == -1,
	   "a restart block becomes EINTR, rip kept");
	rw = r;
	rw.rax = (unsigned long long)-EINTR;
	r = rw;
	ok(lx_regs_rewind_syscall(&rw) == LX_REWIND_NONE && !regs_diff(&rw, &r),
	   "a plain -EINTR is left alone");
	ok(lx_regs_get(sh->tids[0], &rw, &err) == 0 &&
	       lx_regs_rewind_syscall(&rw) == LX_REWIND_NONE,
	   "a thread in user code is not rewound");
	ferry_error_free(&err);
}

static void test_signals(pid_t child)
{
	_cleanup_free_ siginfo_t *priv = NULL, *shared = NULL;
	size_t np = 0, ns = 0, len = 0;
	uint64_t mask = 0, head = 0;
	ferry_err_t err = NULL;

	ok(lx_sigmask_get(sh->tids[0], &mask, &err) == 0 && (mask & (1ULL << (SIGUSR2 - 1))),
	   "signal mask has SIGUSR2 blocked (%llx)", (unsigned long long)mask);
	ok(lx_sigqueue_peek(sh->tids[0], false, &priv, &np, &err) == 0 && np == 1 &&
	       priv[0].si_signo == SIGUSR2 && priv[0].si_code == SI_TKILL,
	   "one private pending SIGUSR2 from tgkill (%zu) %s", np, msg(err));
	ok(lx_sigqueue_peek(sh->tids[0], true, &shared, &ns, &err) == 0 && ns == 1 &&
	       shared[0].si_signo == SIGUSR2 && shared[0].si_code == SI_USER &&
	       shared[0].si_pid == getpid(),
	   "one shared pending SIGUSR2 from kill (%zu) %s", ns, msg(err));
	ok(lx_robust_list_get(sh->tids[1], &head, &len, &err) == 0 && head != 0 && len == 24,
	   "robust list of a thread: head %llx len %zu", (unsigned long long)head, len);
	ferry_error_free(&err);
}

static int64_t rcall(struct lx_remote *r, long nr, uint64_t a0, uint64_t a1, uint64_t a2,
		     uint64_t a3, ferry_err_t *err)
{
	uint64_t a[6] = {a0, a1, a2, a3, 0, 0};

	if (nr == SYS_mmap) {
		a[4] = (uint64_t)-1;
		a[5] = 0;
	}
	return lx_remote_call(r, nr, a, err);
}

static void test_remote_memory(struct lx_remote *r, pid_t child)
{
	ferry_err_t err = NULL;
	int64_t at =
	    rcall(r, SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, &err);
	char back[16] = {0};

	ok(at > 0 && strcmp(mapping_perms(child, (uint64_t)at), "rw-p") == 0,
	   "remote mmap: a rw-p mapping at %llx in maps (%s)", (long long)at, msg(err));
	ok(lx_remote_write(child, (uint64_t)at + 100, "in and out", 11, &err) == 0 &&
	       lx_remote_read(child, (uint64_t)at + 100, back, 11, &err) == 0 &&
	       strcmp(back, "in and out") == 0,
	   "process_vm write and read back");
	ok(rcall(r, SYS_mprotect, (uint64_t)at, 8192, PROT_READ, 0, &err) == 0 &&
	       strcmp(mapping_perms(child, (uint64_t)at), "r--p") == 0,
	   "remote mprotect to read-only");
	memset(back, 0, sizeof(back));
	ok(lx_remote_write(child, (uint64_t)at + 4095, "across", 7, &err) == 0 &&
	       lx_remote_read(child, (uint64_t)at + 4095, back, 7, &err) == 0 &&
	       strcmp(back, "across") == 0,
	   "write into a read-only page falls back to POKEDATA (%s)", msg(err));
	ok(rcall(r, SYS_munmap, (uint64_t)at, 8192, 0, 0, &err) == 0 &&
	       mapping_perms(child, (uint64_t)at)[0] == '\0',
	   "remote munmap: the mapping is gone");
	ok(rcall(r, SYS_munmap, 1, 8192, 0, 0, &err) < 0 && err && err->errnum == EINVAL &&
	       strstr(msg(err), "munmap"),
	   "a failing remote syscall names itself: %s", msg(err));
	ferry_error_free(&err);
}

static bool fd_is(pid_t pid, int fd, const char *target, long pos)
{
	char path[64], link[256] = {0}, line[128];
	_cleanup_fclose_ FILE *f = NULL;
	long p = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	if (readlink(path, link, sizeof(link) - 1) < 0)
		return target == NULL;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "pos: %ld", &p) == 1)
			break;
	return target && strcmp(link, target) == 0 && p == pos;
}

static void test_remote_files(struct lx_remote *r, pid_t child)
{
	ferry_err_t err = NULL;
	char path[128];
	int64_t at, fd;
	struct sigaction old = {0};
	uint64_t act[4] = {0};
	_cleanup_close_ int lfd = -1;

	snprintf(path, sizeof(path), "%s/file", tmpdir);
	lfd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ok(lfd >= 0 && write(lfd, "hello remote world", 18) == 18, "temp file %s", path);
	at = rcall(r, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, &err);
	ok(at > 0 && lx_remote_write(child, (uint64_t)at, path, strlen(path) + 1, &err) == 0,
	   "scratch page with the path (%s)", msg(err));
	fd = rcall(r, SYS_open, (uint64_t)at, O_RDWR, 0, 0, &err);
	ok(fd >= 3 && fd_is(child, (int)fd, path, 0), "remote open: fd %lld (%s)", (long long)fd,
	   msg(err));
	ok(rcall(r, SYS_lseek, (uint64_t)fd, 6, SEEK_SET, 0, &err) == 6 &&
	       fd_is(child, (int)fd, path, 6),
	   "remote lseek: offset 6");
	ok(rcall(r, SYS_dup2, (uint64_t)fd, 200, 0, 0, &err) == 200 && fd_is(child, 200, path, 6),
	   "remote dup2 to 200");
	ok(rcall(r, SYS_close, 200, 0, 0, 0, &err) == 0 &&
	       rcall(r, SYS_close, (uint64_t)fd, 0, 0, 0, &err) == 0 &&
	       fd_is(child, (int)fd, NULL, 0) && fd_is(child, 200, NULL, 0),
	   "remote close of both");
	ok(rcall(r, SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, &err) == 1,
	   "remote prctl(PR_GET_DUMPABLE)");
	ok(rcall(r, SYS_rt_sigaction, SIGUSR1, 0, (uint64_t)at + 1024, 8, &err) == 0 &&
	       lx_remote_read(child, (uint64_t)at + 1024, act, sizeof(act), &err) == 0 &&
	       act[0] == (uint64_t)(uintptr_t)usr1_handler,
	   "remote rt_sigaction reads the SIGUSR1 handler (%llx)", (unsigned long long)act[0]);
	ok(rcall(r, SYS_munmap, (uint64_t)at, 4096, 0, 0, &err) == 0, "scratch page unmapped");
	(void)old;
	ferry_error_free(&err);
}

static void test_remote(pid_t child)
{
	struct user_regs_struct before, after;
	struct lx_remote r = {0};
	ferry_err_t err = NULL;
	uint64_t m1 = 0, m2 = 0, word1 = 0, word2 = 0;
	stack_t ss = {0};
	const char *d = NULL;

	ok(lx_remote_init(&r, child, child, &err) == 0 && r.syscall_ip != 0 &&
	       in_exec_mapping(child, r.syscall_ip),
	   "a syscall instruction in the vDSO at %llx (%s)", (unsigned long long)r.syscall_ip,
	   msg(err));
	lx_regs_get(child, &before, NULL);
	lx_sigmask_get(child, &m1, NULL);
	ok(rcall(&r, SYS_getpid, 0, 0, 0, 0, &err) == child, "remote getpid is the child's pid");
	test_remote_memory(&r, child);
	test_remote_files(&r, child);
	ok(lx_remote_sigaltstack(&r, NULL, &ss, &err) == 0 && ss.ss_sp == sh->altstack &&
	       ss.ss_size == sizeof(sh->altstack),
	   "remote sigaltstack reads the alternate stack (%s)", msg(err));
	ok(lx_regs_get(child, &after, &err) == 0 && !(d = regs_diff(&before, &after)),
	   "all 27 registers unchanged after the remote syscalls (%s)", d ? d : "");
	ok(lx_sigmask_get(child, &m2, &err) == 0 && m1 == m2, "signal mask unchanged");

	/* Without a known syscall instruction: one is written at rip, then taken away. */
	r.syscall_ip = 0;
	lx_remote_read(child, before.rip & ~7ULL, &word1, 8, NULL);
	ok(rcall(&r, SYS_getpid, 0, 0, 0, 0, &err) == child, "remote getpid with 0f 05 at rip (%s)",
	   msg(err));
	lx_remote_read(child, before.rip & ~7ULL, &word2, 8, NULL);
	ok(word1 == word2 && lx_regs_get(child, &after, &err) == 0 && !regs_diff(&before, &after),
	   "code and registers restored");

	/* In the thread blocked in read(): its syscall must still restart afterwards. */
	lx_remote_init(&r, child, sh->tids[2], NULL);
	lx_regs_get(sh->tids[2], &before, NULL);
	ok(rcall(&r, SYS_getpid, 0, 0, 0, 0, &err) == child &&
	       lx_regs_get(sh->tids[2], &after, &err) == 0 && !regs_diff(&before, &after),
	   "remote getpid in the thread blocked in read(), registers unchanged (%s)", msg(err));
	ferry_error_free(&err);
}

/* ymm7 of the ymm thread: checks pattern A in the xsave area, writes B there. */
static void test_xsave(void)
{
	unsigned int a, b = 0, c, d;
	_cleanup_free_ unsigned char *x = NULL, *y = NULL;
	size_t len = 0, len2 = 0;
	ferry_err_t err = NULL;
	pid_t tid = sh->tids[1];
	bool isa = true, isb = true;

	if (!sh->avx || !__get_cpuid_count(0xd, 2, &a, &b, &c, &d) || !b) {
		ok(1, "# SKIP no AVX");
		return;
	}
	ok(lx_xsave_get(tid, (void **)&x, &len, &err) == 0 && len >= b + 256 &&
	       len <= lx_xsave_size() && (x[512] & 6) == 6,
	   "xsave area of %zu bytes with SSE and AVX state (%s)", len, msg(err));
	if (!x || len < b + 256)
		return;
	for (int i = 0; i < 16; i++) {
		isa = isa && x[160 + 7 * 16 + i] == PAT_A(i) && x[b + 7 * 16 + i] == PAT_A(16 + i);
		x[160 + 7 * 16 + i] = (unsigned char)PAT_B(i);
		x[b + 7 * 16 + i] = (unsigned char)PAT_B(16 + i);
	}
	ok(isa, "ymm7 holds the pattern the thread set");
	ok(lx_xsave_set(tid, x, len, &err) == 0 &&
	       lx_xsave_get(tid, (void **)&y, &len2, &err) == 0 && len2 == len,
	   "xsave area written back (%s)", msg(err));
	for (int i = 0; y && i < 16; i++)
		isb = isb && y[160 + 7 * 16 + i] == PAT_B(i) && y[b + 7 * 16 + i] == PAT_B(16 + i);
	ok(y && isb, "ymm7 reads back as the new value");
	ferry_error_free(&err);
}

static void test_after_detach(void)
{
	ok(advances(&sh->counter) && advances(&sh->gcounter) && advances(&sh->ymm_checks),
	   "after detach the child, its thread and the grandchild run again");
	for (int i = 0; i < 500 && sh->avx && sh->ymm_state != 2; i++)
		sleep_ms(10);
	ok(!sh->avx || sh->ymm_state == 2, "the thread sees the ymm7 value written (state %d)",
	   sh->ymm_state);
	ok(sh->read_ret == 0 && write(pipefd[1], "hello", 5) == 5, "reader still blocked");
	for (int i = 0; i < 500 && sh->read_ret == 0; i++)
		sleep_ms(10);
	ok(sh->read_ret == 5 && memcmp(sh->read_buf, "hello", 5) == 0,
	   "the interrupted read() restarted and got the data (%ld)", sh->read_ret);
}

static void test_gone(void)
{
	ferry_err_t err = NULL;
	struct lx_tree tree;
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	ok(lx_tree_seize(p, NULL, &tree, &err) < 0 && err && err->errnum == ESRCH &&
	       strstr(msg(err), "No such process"),
	   "seizing a pid that is gone: %s", msg(err));
	ferry_error_free(&err);
	ok(lx_tree_seize(getpid(), NULL, &tree, &err) < 0 && err && err->errnum == EINVAL,
	   "seizing oneself is refused: %s", msg(err));
	ferry_error_free(&err);
}

/* The cgroup freezer path: a spinning process with a thread in its own freezer cgroup. */
static void *spin(void *arg)
{
	for (;;)
		sh->gcounter++;
	return arg;
}

static void test_freezer(void)
{
	char cg[64];
	ferry_err_t err = NULL;
	struct lx_tree tree;
	bool frozen = true;
	pid_t p;

	snprintf(cg, sizeof(cg), "/ferry-test-ptrace-%d", getpid());
	if (lx_cgroup_create(cg, &err) < 0) {
		ok(1, "# SKIP no freezer cgroup: %s", msg(err));
		ferry_error_free(&err);
		return;
	}
	p = fork();
	if (p == 0) {
		pthread_t t;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pthread_create(&t, NULL, spin, NULL);
		for (;;)
			sh->counter++;
	}
	kids[nkids++] = p;
	ok(lx_cgroup_enter(cg, p, &err) == 0 && advances(&sh->gcounter), "spinner in %s", cg);
	ok(lx_tree_seize(p, cg, &tree, &err) == 0 && tree.n == 1 && tree.procs[0].ntids == 2,
	   "seized through the freezer: %zu threads (%s)", tree.n ? tree.procs[0].ntids : 0,
	   msg(err));
	ok(lx_cgroup_frozen(cg, &frozen, &err) == 0 && !frozen, "the cgroup is thawed again");
	test_frozen();
	ok(lx_tree_detach(&tree, &err) == 0 && advances(&sh->counter) && advances(&sh->gcounter),
	   "detached: it runs again (%s)", msg(err));
	kill_all();
	ok(lx_cgroup_destroy(cg, &err) == 0, "cgroup removed (%s)", msg(err));
	ferry_error_free(&err);
}

/* The state letter of pid in /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f) || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

/* A process stopped by SIGSTOP is seized and stays stopped after the detach. */
static void test_stopped(void)
{
	ferry_err_t err = NULL;
	struct lx_tree tree;
	unsigned long c;
	int st = 0;
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			sh->counter++;
	}
	kids[nkids++] = p;
	ok(advances(&sh->counter) && kill(p, SIGSTOP) == 0 && waitpid(p, &st, WUNTRACED) == p &&
	       WIFSTOPPED(st),
	   "a process stopped by SIGSTOP");
	ok(lx_tree_seize(p, NULL, &tree, &err) == 0 && tree.n == 1 && tree.procs[0].state == 'T' &&
	       tree.procs[0].stop_sig[0] == SIGSTOP,
	   "seized in its group stop (%s)", msg(err));
	ok(lx_tree_detach(&tree, &err) == 0, "detach (%s)", msg(err));
	/* The detach wakes it up; it goes back into its group stop at once. */
	for (int i = 0; i < 100 && proc_state(p) != 'T'; i++)
		sleep_ms(10);
	c = sh->counter;
	sleep_ms(100);
	ok(proc_state(p) == 'T' && c == sh->counter, "still stopped after the detach (%c)",
	   proc_state(p));
	ok(kill(p, SIGCONT) == 0 && advances(&sh->counter), "SIGCONT resumes it");
	ferry_error_free(&err);
	kill_all();
}

static void *short_thread(void *arg)
{
	return arg;
}

/* A process creating threads and children all the time: everything there once seized. */
static void churn(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		pthread_t t;
		pid_t c;

		if (pthread_create(&t, NULL, short_thread, NULL) == 0)
			pthread_detach(t);
		c = fork();
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(0);
		}
		waitpid(-1, NULL, WNOHANG);
		sh->counter++;
	}
}

static ssize_t count_missing(struct lx_tree *tree)
{
	ssize_t missing = 0;

	for (size_t i = 0; i < tree->n; i++) {
		struct lx_proc *p = &tree->procs[i];
		char path[64];
		DIR *d;
		struct dirent *de;

		if (p->zombie)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
		d = opendir(path);
		while (d && (de = readdir(d))) {
			pid_t tid = atoi(de->d_name);
			bool found = false;

			for (size_t t = 0; tid > 0 && t < p->ntids; t++)
				found = found || p->tids[t] == tid;
			if (tid > 0 && !found && proc_state(tid) != 'Z')
				missing++;
		}
		if (d)
			closedir(d);
	}
	return missing;
}

static void test_churn(void)
{
	ferry_err_t err = NULL;
	struct lx_tree tree;
	pid_t p = fork();

	if (p == 0)
		churn();
	kids[nkids++] = p;
	ok(advances(&sh->counter), "a process creating threads and children");
	sleep_ms(50);
	for (int round = 0; round < 5; round++) {
		unsigned long c;
		bool good = lx_tree_seize(p, NULL, &tree, &err) == 0;

		c = sh->counter;
		good = good && count_missing(&tree) == 0;
		sleep_ms(20);
		good = good && c == sh->counter;
		ok(good,
		   "round %d: %zu processes, %zu threads of the root, none missing, none running "
		   "(%s)",
		   round, tree.n, tree.n ? tree.procs[0].ntids : 0, msg(err));
		ok(lx_tree_detach(&tree, &err) == 0 && advances(&sh->counter),
		   "detached, it runs on");
		ferry_error_free(&err);
	}
	kill_all();
}

int main(void)
{
	unsigned int a, b, c = 0, d;
	struct lx_tree tree;
	ferry_err_t err = NULL;
	pid_t child;

	alarm(120);
	signal(SIGALRM, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	atexit(kill_all);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ferry-ptrace-XXXXXX");
	if (sh == MAP_FAILED || pipe(pipefd) < 0 || !mkdtemp(tmpdir)) {
		ok(0, "setup: %s", strerror(errno));
		return done_testing();
	}
	sh->avx = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_OSXSAVE);
	child = fork();
	if (child == 0)
		child_main();
	kids[nkids++] = child;
	ok(child_ready(), "child %d with 3 threads and a grandchild running", child);
	syscall(SYS_tgkill, child, child, SIGUSR2);
	kill(child, SIGUSR2);

	ok(lx_tree_seize(child, NULL, &tree, &err) == 0, "seize the tree of %d (%s)", child,
	   msg(err));
	if (tree.n) {
		test_tree(&tree, child);
		test_frozen();
		test_regs(child);
		test_signals(child);
		test_remote(child);
		test_xsave();
		ok(lx_tree_detach(&tree, &err) == 0, "detach (%s)", msg(err));
		test_after_detach();
	}
	ferry_error_free(&err);
	kill_all();
	test_gone();
	test_stopped();
	test_churn();
	memset((void *)sh, 0, sizeof(*sh));
	test_freezer();
	kill_all();
	return done_testing();
}

// SPDX-License-Identifier: Apache-2.0
/* The guard of remote syscalls (remote_exit.h).
 *
 * When ferry dies, the kernel detaches its tracees (__ptrace_unlink): a thread in a ptrace stop is
 * woken with TIF_SIGPENDING set and runs on, untraced, from its current registers and mask and
 * whatever syscall it is in. A guarded call (lx_remote_syscall) runs from a `syscall; ret` of the
 * process with rsp on the guard's frame ([rt_sigreturn gadget][signal frame of the thread]), and
 * sets the registers before it blocks every signal, and puts the mask back before the registers.
 * Where ferry can die, and what the thread then does:
 *
 * - Before the call's registers are set: nothing changed; the thread leaves its interrupt stop
 *   and its own interrupted syscall restarts as it would have.
 * - Registers set, signals not blocked yet: the thread runs the syscall itself with its own
 *   mask (a handler may run at the gadget, below the frame or on its alternate stack, and comes
 *   back to it); `ret` pops the rt_sigreturn gadget, which restores registers, mask and FPU state
 *   from the frame. Blocking first would leave a window where the thread resumes its own
 *   registers with every signal blocked.
 * - Every signal blocked, at the syscall-entry stop, inside the syscall, at the exit stop: the
 *   syscall runs or completes untraced, then `ret`, rt_sigreturn: as above, the mask coming
 *   from the frame. The exit code a dead tracer leaves in a syscall stop (SIGTRAP | 0x80) is not
 *   a signal number, so the kernel sends nothing for it.
 * - Mask put back, registers not yet: the thread is still at the gadget's `ret`, now with its own
 *   mask: as above. Putting the registers back first would leave a window where the thread
 *   resumes its own code with every signal blocked.
 * - Registers put back, at the exit stop or inside lx_back_to_interrupt_stop (PTRACE_INTERRUPT
 * sent, or PTRACE_CONT under way): the thread returns to its own code with its own registers; as
 * the detach set TIF_SIGPENDING the kernel's signal path runs first and restarts its interrupted
 *   syscall from orig_rax and rax exactly as from the interrupt stop it was seized in. Once back in
 *   that stop, it is as before the call.
 *
 * What a syscall did stays done: a munmap or close completes, an mmap would stay mapped (which is
 * why the dump's scratch goes on the stack below the frame, lx_remote_guard_scratch). After
 * rt_sigreturn the thread differs in what a signal handler would change too: an interrupted
 * syscall with a restart block (nanosleep) returns EINTR instead of restarting, and a
 * sigsuspend-style temporary mask is gone (as with any remote syscall). With glibc's
 * `syscall; cmp $-4095, %rax; jae` gadget (taken only where its area has no plain one), a syscall
 * failing in that window sets the thread's errno. The alternate signal stack is left as it is
 * without being read (which would take a remote syscall): the frame's uc_stack has ss_flags
 * SS_ONSTACK | SS_DISABLE, which do_sigaltstack() refuses (EPERM on the altstack, else EINVAL)
 * before changing anything, and restore_altstack() ignores every error but EFAULT (kernel/signal.c,
 * rt_sigreturn in arch/x86/kernel/signal_64.c).
 *
 * Not guarded (calls run as before): no gadgets in the process (a static binary without them),
 * a thread with a user shadow stack (the `ret` and rt_sigreturn would not match it), or no room
 * for the frame on the stack (it must stay a page above the start of the stack's mapping). A
 * seccomp filter suspended while ferry traces the thread applies again once ferry is dead: the
 * syscall and rt_sigreturn then meet it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "os/linux/ptrace.h"
#include "os/linux/remote_exit.h"

#define PAGE 4096u
#define RED_ZONE 128
#define SCAN_CHUNK (64u << 10)
#define SCAN_MAX (64u << 20) /* executable bytes read at most */

/* The kernel's x86-64 signal frame (struct rt_sigframe, ucontext, sigcontext) as rt_sigreturn
 * reads it, pretcode first; the FPU state follows it, pointed at by fpstate. */
struct sigframe {
	uint64_t pretcode;
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
	    eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
	uint64_t sigmask;
	uint8_t info[128];
};

_Static_assert(sizeof(struct sigframe) == 440, "rt_sigframe");

#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define FX_MAGIC1 0x46505853u
#define FX_MAGIC2 0x46505845u
#define SW_BYTES 464 /* struct _fpx_sw_bytes in the legacy area's software-reserved bytes */
#define SS_REFUSED (SS_ONSTACK | SS_DISABLE) /* an ss_flags do_sigaltstack() refuses */

/* ---- gadgets ---- */

/* Looks for the gadgets in one executable area [start, end) of pid's memory (mem: its
 * /proc/PID/mem), a chunk at a time (overlapping by a pattern's length), until the rt_sigreturn
 * and a plain `syscall; ret` are found (*plain) or the area ends: glibc's variant, which sets
 * errno when the syscall fails, is only kept when the area has no plain one. *budget limits the
 * bytes read. */
static void scan_area(int mem, uint64_t start, uint64_t end, struct lx_exit_gadgets *g, bool *plain,
		      size_t *budget)
{
	static const struct {
		const char *bytes;
		size_t len;
		int kind; /* 0: plain `syscall; ret`, 1: glibc's, 2: rt_sigreturn */
	} pat[] = {
	    {"\x0f\x05\xc3", 3, 0},
	    {"\x0f\x05\x48\x3d\x01\xf0\xff\xff\x73\x01\xc3", 11, 1},
	    {"\x48\xc7\xc0\x0f\x00\x00\x00\x0f\x05", 9, 2},
	    {"\xb8\x0f\x00\x00\x00\x0f\x05", 7, 2},
	};
	const size_t overlap = 16;
	_cleanup_free_ char *buf = malloc(SCAN_CHUNK);

	for (uint64_t at = start; buf && at < end && (!*plain || !g->sigreturn);) {
		size_t len = end - at < SCAN_CHUNK ? (size_t)(end - at) : SCAN_CHUNK;

		if (len > *budget || pread(mem, buf, len, (off_t)at) != (ssize_t)len)
			return;
		*budget -= len;
		for (size_t i = 0; i < ARRAY_SIZE(pat); i++) {
			uint64_t *slot = pat[i].kind == 2 ? &g->sigreturn : &g->syscall_ret;
			bool want = pat[i].kind == 0 ? !*plain : !*slot;
			char *hit = want ? memmem(buf, len, pat[i].bytes, pat[i].len) : NULL;

			if (hit)
				*slot = at + (uint64_t)(hit - buf);
			if (hit && pat[i].kind == 0)
				*plain = true;
		}
		at += len < SCAN_CHUNK ? len : len - overlap;
	}
}

/* The start time of pid (/proc/PID/stat, field 22), or 0: with the pid, a process's identity. */
static uint64_t start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	_cleanup_close_ int fd = -1;
	unsigned long long t = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* after the command, which may hold spaces */
	if (p && sscanf(p + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			"%*d %*d %llu",
			&t) != 1)
		t = 0;
	return t;
}

/* The last search (per tracing thread): the dump's guard and the injected code's want the same
 * process's gadgets, and a search reads up to SCAN_MAX bytes of code. */
static _Thread_local struct {
	pid_t pid;
	uint64_t start;
	struct lx_exit_gadgets g;
} last;

static int gadgets_scan(pid_t pid, struct lx_exit_gadgets *g, ferry_err_t *err);

int lx_exit_gadgets_find(pid_t pid, struct lx_exit_gadgets *g, ferry_err_t *err)
{
	uint64_t start = start_time(pid);
	int r;

	if (start && last.pid == pid && last.start == start) {
		*g = last.g;
		return g->syscall_ret && g->sigreturn ? 1 : 0;
	}
	r = gadgets_scan(pid, g, err);
	if (r >= 0 && start)
		last.pid = pid, last.start = start, last.g = *g;
	return r;
}

static int gadgets_scan(pid_t pid, struct lx_exit_gadgets *g, ferry_err_t *err)
{
	char path[64], line[512], perms[8];
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_close_ int mem = -1;
	unsigned long long s, e;
	size_t budget = SCAN_MAX;
	bool plain = false;

	*g = (struct lx_exit_gadgets){0};
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return ferry_error_errno(err, "open %s", path);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	mem = open(path, O_RDONLY | O_CLOEXEC);
	if (mem < 0)
		return ferry_error_errno(err, "open %s", path);
	while (fgets(line, sizeof(line), f) && (!g->syscall_ret || !g->sigreturn))
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && perms[2] == 'x' &&
		    !strstr(line, "[vsyscall]"))
			scan_area(mem, s, e, g, &plain, &budget);
	return g->syscall_ret && g->sigreturn ? 1 : 0;
}

/* ---- the frame ---- */

/* PROCMAP_QUERY of /proc/PID/maps (Linux 6.11; <linux/fs.h> here may predate it). */
struct procmap_query {
	uint64_t size, query_flags, query_addr, vma_start, vma_end, vma_flags, vma_page_size,
	    vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02

/* The mapping holding addr in maps (an open /proc/PID/maps) found by lines; 0 or -1. */
static int find_area_text(FILE *maps, uint64_t addr, uint64_t *start, bool *rw)
{
	char line[512], perms[8];
	unsigned long long s, e;

	while (fgets(line, sizeof(line), maps))
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) == 3 && addr >= s && addr < e) {
			*start = s;
			*rw = perms[0] == 'r' && perms[1] == 'w';
			return 0;
		}
	return -1;
}

uint64_t lx_exit_stack_floor(pid_t pid, uint64_t sp)
{
	char path[64];
	_cleanup_fclose_ FILE *f = NULL;
	struct procmap_query q = {.size = sizeof(q), .query_addr = sp - 1};
	uint64_t start = 0;
	bool rw = false;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (ioctl(fileno(f), PROCMAP_QUERY, &q) == 0) {
		start = q.vma_start;
		rw = (q.vma_flags & PROCMAP_QUERY_VMA_READABLE) &&
		     (q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE);
	} else if (errno != ENOTTY && errno != EINVAL) {
		return 0; /* ENOENT: nothing holds it */
	} else if (find_area_text(f, sp - 1, &start, &rw) < 0) {
		return 0;
	}
	return rw ? start + PAGE : 0;
}

/* The FPU part of the frame: the thread's xsave area (standard format) with the software bytes
 * rt_sigreturn checks (struct _fpx_sw_bytes; ptrace leaves XCR0 in their place) and the closing
 * magic. Returns 0 with a new buffer in *fpu of *len bytes, or -1. */
static int frame_fpu(pid_t tid, uint8_t **fpu, size_t *len, ferry_err_t *err)
{
	struct {
		uint32_t magic1, extended_size;
		uint64_t xfeatures;
		uint32_t xstate_size, pad[7];
	} sw = {.magic1 = FX_MAGIC1};
	const uint32_t magic2 = FX_MAGIC2;
	void *x;
	size_t n;

	if (lx_xsave_get(tid, &x, &n, err) < 0)
		return -1;
	*fpu = realloc(x, n + sizeof(magic2));
	if (!*fpu) {
		free(x);
		return ferry_error(err, ENOMEM, "signal frame");
	}
	if (n < SW_BYTES + sizeof(sw))
		return ferry_error(err, ENOTSUP, "xsave area of %zu bytes", n);
	memcpy(&sw.xfeatures, *fpu + SW_BYTES, sizeof(sw.xfeatures)); /* XCR0 */
	sw.extended_size = (uint32_t)(n + sizeof(magic2));
	sw.xstate_size = (uint32_t)n;
	memcpy(*fpu + SW_BYTES, &sw, sizeof(sw));
	memcpy(*fpu + n, &magic2, sizeof(magic2));
	*len = n + sizeof(magic2);
	return 0;
}

/* The signal frame of registers g (already rewound), mask and altstack (NULL: refused), with the
 * FPU state at fp and sigreturn as its return address. */
static struct sigframe frame_of(const struct user_regs_struct *g, uint64_t mask,
				const stack_t *altstack, uint64_t fp, uint64_t sigreturn)
{
	return (struct sigframe){
	    .pretcode = sigreturn,
	    .uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
	    .ss_sp = altstack ? (uint64_t)altstack->ss_sp : 0,
	    .ss_flags = altstack ? altstack->ss_flags : SS_REFUSED,
	    .ss_size = altstack ? altstack->ss_size : 0,
	    .r8 = g->r8,
	    .r9 = g->r9,
	    .r10 = g->r10,
	    .r11 = g->r11,
	    .r12 = g->r12,
	    .r13 = g->r13,
	    .r14 = g->r14,
	    .r15 = g->r15,
	    .rdi = g->rdi,
	    .rsi = g->rsi,
	    .rbp = g->rbp,
	    .rbx = g->rbx,
	    .rdx = g->rdx,
	    .rax = g->rax,
	    .rcx = g->rcx,
	    .rsp = g->rsp,
	    .rip = g->rip,
	    .eflags = g->eflags,
	    .cs = (uint16_t)g->cs,
	    .ss = (uint16_t)g->ss,
	    .fpstate = fp,
	    .sigmask = mask,
	};
}

int lx_exit_frame_write(pid_t pid, pid_t tid, uint64_t sigreturn,
			const struct user_regs_struct *regs, uint64_t mask, const stack_t *altstack,
			uint64_t floor, uint64_t *at, ferry_err_t *err)
{
	struct user_regs_struct g = *regs;
	_cleanup_free_ uint8_t *fpu = NULL;
	struct sigframe f;
	size_t fpu_len = 0;
	uint64_t fp, frame;

	*at = 0;
	lx_regs_rewind_syscall(&g);
	if (frame_fpu(tid, &fpu, &fpu_len, err) < 0)
		return -1;
	if (g.rsp < floor || g.rsp - floor < RED_ZONE + fpu_len + sizeof(f) + 128)
		return 0; /* no room */
	fp = (g.rsp - RED_ZONE - fpu_len) & ~63ULL;
	frame = (fp - sizeof(f)) & ~15ULL;
	f = frame_of(&g, mask, altstack, fp, sigreturn);
	if (lx_remote_write(pid, fp, fpu, fpu_len, err) < 0 ||
	    lx_remote_write(pid, frame, &f, sizeof(f), err) < 0)
		return -1;
	*at = frame;
	return 0;
}

int lx_exit_undo_frame_write(const struct lx_remote *r, const struct user_regs_struct *regs,
			     long nr, uint64_t a0, uint64_t a1, uint64_t *at, ferry_err_t *err)
{
	struct user_regs_struct g = *regs;
	uint64_t frame = (r->exit_sp - sizeof(struct sigframe) - 64) & ~15ULL;
	struct sigframe f;

	*at = 0;
	if (!r->exit_sp || frame < r->exit_floor + 256)
		return 0;
	g.rip = r->exit_gadget, g.rsp = r->exit_sp;
	g.rax = (uint64_t)nr, g.rdi = a0, g.rsi = a1;
	f = frame_of(&g, ~0ULL, NULL, 0, r->exit_sigret);
	f.uc_flags &= ~(uint64_t)UC_FP_XSTATE; /* no FPU state: the guard's frame brings it back */
	if (lx_remote_write(r->pid, frame, &f, sizeof(f), err) < 0)
		return -1;
	*at = frame;
	return 0;
}

/* ---- the guard ---- */

#define ARCH_SHSTK_STATUS 0x5005
#define ARCH_SHSTK_SHSTK (1ULL << 0)

/* Whether thread tid runs with an x86 user shadow stack (kernels without them refuse to say). */
static bool shadow_stack(pid_t tid)
{
	unsigned long features = 0;

	return ptrace(PTRACE_ARCH_PRCTL, tid, &features, (void *)ARCH_SHSTK_STATUS) == 0 &&
	       (features & ARCH_SHSTK_SHSTK);
}

int lx_remote_guard(struct lx_remote *r, ferry_err_t *err)
{
	struct lx_exit_gadgets g;
	struct user_regs_struct regs;
	uint64_t mask, floor, at;
	ferry_err_t e = NULL;

	r->exit_sp = 0;
	if (!r->exit_searched) {
		if (lx_exit_gadgets_find(r->pid, &g, err) < 0)
			return ferry_error_wrap(err, "way out of thread %d", r->tid);
		r->exit_gadget = g.syscall_ret, r->exit_sigret = g.sigreturn;
		r->exit_searched = true;
	}
	if (!r->exit_gadget || !r->exit_sigret || shadow_stack(r->tid))
		return 0;
	if (lx_regs_get(r->tid, &regs, err) < 0 || lx_sigmask_get(r->tid, &mask, err) < 0)
		return ferry_error_wrap(err, "way out of thread %d", r->tid);
	floor = lx_exit_stack_floor(r->pid, regs.rsp);
	if (!floor)
		return 0;
	/* A frame that cannot be written leaves the calls unguarded, as before. */
	if (lx_exit_frame_write(r->pid, r->tid, r->exit_sigret, &regs, mask, NULL, floor, &at, &e) <
	    0) {
		ferry_error_free(&e);
		return 0;
	}
	r->exit_sp = at;
	r->exit_floor = floor;
	return 0;
}

bool lx_remote_guard_holds(const struct lx_remote *r, uint64_t addr)
{
	return r->exit_sp && addr >= r->exit_floor && addr < r->exit_sp;
}

/* Whether [lo, hi) may be used for r->tid's scratch with the thread's alternate stack ss:
 * within it when the frame (r->exit_sp) is on it, clear of it otherwise. */
static bool fits_altstack(const struct lx_remote *r, const stack_t *ss, uint64_t lo, uint64_t hi)
{
	uint64_t a = (uint64_t)ss->ss_sp, b = a + ss->ss_size;

	if (ss->ss_size == 0)
		return true;
	if (r->exit_sp > a && r->exit_sp <= b)
		return lo >= a;
	return hi <= a || lo >= b;
}

int lx_remote_guard_scratch(struct lx_remote *r, size_t len, uint64_t *at, ferry_err_t *err)
{
	uint64_t lo, q, a[6] = {0};
	stack_t ss;

	*at = 0;
	if (!r->exit_sp || r->exit_sp < len + 64 + PAGE)
		return 0;
	q = r->exit_sp - 32; /* the stack_t, at the top of the scratch */
	lo = (r->exit_sp - 32 - len) & ~63ULL;
	if (lo < r->exit_floor)
		return 0;
	a[1] = q;
	if (lx_remote_call(r, SYS_sigaltstack, a, err) < 0 ||
	    lx_remote_read(r->pid, q, &ss, sizeof(ss), err) < 0)
		return ferry_error_wrap(err, "scratch of thread %d", r->tid);
	if (fits_altstack(r, &ss, lo, r->exit_sp))
		*at = lo;
	return 0;
}

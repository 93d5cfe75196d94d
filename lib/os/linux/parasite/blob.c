// SPDX-License-Identifier: Apache-2.0
/* Code run inside a stopped process (freestanding, position independent, raw syscalls): hands
 * the process's own pages to a pipe with vmsplice, so that ferry moves them into the image with
 * splice and never copies them through its own memory, or writes them into pages files itself.
 *
 * It makes its pipes and socket pairs, stops at PARASITE_READY_NR for ferry to take its ends
 * (proto.h), then starts one thread per socket. Each serves commands read from its socket until
 * the socket says ferry is gone (end of file, hang up, a failed send) and leaves; the injected
 * thread waits for them, closes every descriptor and leaves through a `syscall; ret` gadget of
 * the process that unmaps the injected area and returns into an rt_sigreturn gadget, onto a
 * signal frame ferry wrote below the thread's stack pointer: the thread goes on exactly where it
 * was stopped, with its own registers, FPU state and signal mask. The cure follows it out that
 * way with PTRACE_SYSCALL and catches it at the end of the munmap (lib/os/linux/parasite.h). */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define NR_CLOSE 3
#define NR_POLL 7
#define NR_MPROTECT 10
#define NR_MUNMAP 11
#define NR_PIPE2 293
#define NR_SOCKETPAIR 53
#define NR_SENDTO 44
#define NR_RECVMSG 47
#define NR_FUTEX 202
#define NR_VMSPLICE 278
#define NR_PWRITEV 296

#define E_BADF 9
#define E_INTR 4
#define E_AGAIN 11
#define E_INVAL 22
#define SPLICE_NONBLOCK 2
#define MSG_NOSIGNAL_ 0x4000
#define MSG_CMSG_CLOEXEC_ 0x40000000
#define POLLOUT_ 4
#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define FUTEX_WAIT_ 0
#define O_CLOEXEC_ 02000000
#define AF_UNIX_ 1
#define SOCK_SEQPACKET_ 5
#define SOCK_CLOEXEC_ O_CLOEXEC_
#define PROT_RX 5
/* a thread of the process (CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM), its id written
 * when it starts and cleared, with a futex wake, when it has left (PARENT_SETTID, CHILD_CLEARTID)
 */
#define CLONE_WORKER (0x00050f00UL | 0x00100000UL | 0x00200000UL)

struct pollfd_ {
	int32_t fd;
	int16_t events, revents;
};

struct iovec_ {
	void *base;
	uint64_t len;
};

struct msghdr_ {
	void *name;
	uint32_t namelen, pad0;
	struct iovec_ *iov;
	uint64_t iovlen;
	void *control;
	uint64_t controllen;
	int32_t flags, pad1;
};

struct cmsghdr_ {
	uint64_t len;
	int32_t level, type;
	int32_t fd; /* the one descriptor ferry passes */
	int32_t pad;
};

/* What one serving thread (a started one) has: its socket, its pages file, its running checksums.
 */
struct self {
	const struct parasite_args *a;
	int32_t fold; /* checksums with crc_fold (its own vector registers: it leaves with them) */
	int32_t sock;
	int32_t file; /* -1: none */
	uint32_t crc_pipe[PARASITE_MAX_PIPES];
	uint32_t crc_file;
	struct parasite_cmd *cmd;
	struct parasite_res *res;
};

/* Starts a thread of the process on stack top running fn(a, k), its id in *tid (entry.S);
 * returns its id or -errno. */
long parasite_clone(unsigned long flags, uint64_t top, int32_t *tid,
		    void (*fn)(struct parasite_args *, long), struct parasite_args *a, long k);

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static inline uint64_t crc8(uint64_t c, const uint8_t *p)
{
	__asm__("crc32q %1, %0" : "+r"(c) : "rm"(*(const uint64_t *)p));
	return c;
}

/* The register c after n zero bytes (t: the table for n). */
static inline uint64_t shift(const uint32_t t[4][256], uint64_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^
	       t[3][(c >> 24) & 0xff];
}

/* Runs blocks of three lanes of n bytes each over *p while they fit, the lanes' registers joined
 * with t; returns the register. */
static uint64_t lanes(uint64_t c0, const uint8_t **p, uint64_t *len, uint64_t n,
		      const uint32_t t[4][256])
{
	const uint8_t *q = *p;

	while (*len >= 3 * n) {
		uint64_t c1 = 0, c2 = 0;
		const uint8_t *end = q + n;

		do {
			c0 = crc8(c0, q);
			c1 = crc8(c1, q + n);
			c2 = crc8(c2, q + 2 * n);
			q += 8;
		} while (q < end);
		c0 = shift(t, c0) ^ c1;
		c0 = shift(t, c0) ^ c2;
		q += 2 * n;
		*len -= 3 * n;
	}
	*p = q;
	return c0;
}

/* CRC32C of [p, p + len) continuing from crc (the image's pre- and post-inverted form). */
static uint32_t crc32c(const struct self *s, uint32_t crc, const uint8_t *p, uint64_t len)
{
	const struct parasite_args *a = s->a;
	uint64_t c = (uint32_t)~crc;

	if (s->fold)
		c = crc_fold(&a->keys, (uint32_t)c, &p, &len);

	c = lanes(c, &p, &len, PARASITE_CRC_LONG, a->crc_long);
	c = lanes(c, &p, &len, PARASITE_CRC_MID, a->crc_mid);
	c = lanes(c, &p, &len, PARASITE_CRC_SHORT, a->crc_short);
	for (; len >= 8; p += 8, len -= 8)
		c = crc8(c, p);
	while (len--) {
		uint32_t c32 = (uint32_t)c;

		__asm__("crc32b %1, %0" : "+r"(c32) : "rm"(*p++));
		c = c32;
	}
	return ~(uint32_t)c;
}

/* Waits until every started thread has left (its id cleared by the kernel). */
static void wait_workers(struct parasite_args *a)
{
	for (int32_t k = 0; k < a->n_socks && k < PARASITE_MAX_WRITERS; k++) {
		volatile int32_t *tid = (volatile int32_t *)&a->tid[k];
		int32_t t;

		while ((t = *tid) != 0)
			sys6(NR_FUTEX, (long)tid, FUTEX_WAIT_, t, 0, 0, 0);
	}
}

/* Closes *fd unless it is -1, and sets it to -1. */
static void drop(int32_t *fd)
{
	if (*fd >= 0)
		sys3(NR_CLOSE, *fd, 0, 0);
	*fd = -1;
}

/* Closes every descriptor the code made. */
static void drop_all(struct parasite_args *a)
{
	for (int32_t k = 0; k < PARASITE_MAX_WRITERS; k++) {
		drop(&a->socks[k]);
		drop(&a->peers[k]);
	}
	for (int32_t i = 0; i < PARASITE_MAX_PIPES; i++) {
		drop(&a->pipe_r[i]);
		drop(&a->pipe_w[i]);
	}
}

/* Leaves: waits for the started threads, closes the descriptors, then unmaps the area and
 * returns to the thread's own code through the gadgets and the frame (see the top of the
 * file). */
static void __attribute__((noreturn)) leave(struct parasite_args *a)
{
	wait_workers(a);
	drop_all(a);
	__asm__ volatile("mov %[sp], %%rsp\n\t"
			 "jmp *%[gadget]"
			 :
			 : "a"(NR_MUNMAP), "D"(a->area),
			   "S"(a->area_len), [sp] "r"(a->frame), [gadget] "r"(a->gadget)
			 : "memory");
	__builtin_unreachable();
}

/* vmsplices every range of cmd into its pipe, waiting for room while ferry drains it; returns
 * the bytes spliced, -errno, or 1 when ferry is gone. */
static int64_t do_vmsplice(const struct self *s, struct parasite_cmd *cmd)
{
	int32_t pipe_w = s->a->pipe_w[cmd->pipe];
	struct parasite_iov *v = cmd->iov;
	uint32_t n = cmd->n_iov;
	int64_t total = 0;

	while (n) {
		struct pollfd_ p[2] = {{pipe_w, POLLOUT_, 0}, {s->sock, 0, 0}};
		long k;

		/* Wait for room without the pipe's lock, which ferry's splice holds while it
		 * copies (a vmsplice would spin on it). */
		sys3(NR_POLL, p, 2, -1);
		if (p[1].revents)
			return 1; /* hang up or error: ferry is gone */
		k = sys6(NR_VMSPLICE, pipe_w, (long)v, n, SPLICE_NONBLOCK, 0, 0);
		if (k == -E_AGAIN)
			continue;
		if (k == -E_INTR)
			continue;
		if (k <= 0)
			return k < 0 ? k : -5;
		total += k;
		while (n && (uint64_t)k >= v->len)
			k -= (long)v->len, v++, n--;
		if (n)
			v->base += (uint64_t)k, v->len -= (uint64_t)k;
	}
	return total;
}

/* Writes v[0..n) at off of the thread's pages file (v left as it is: a short write goes on from
 * a copy of the rest); returns the bytes written or -errno. */
static int64_t write_ranges(const struct self *s, const struct parasite_iov *v, uint32_t n,
			    uint64_t off)
{
	struct parasite_iov rest[PARASITE_MAX_IOV];
	int64_t total = 0;

	while (n) {
		long k = sys6(NR_PWRITEV, s->file, (long)v, n, (long)off, 0, 0);

		if (k == -E_INTR)
			continue;
		if (k <= 0)
			return k < 0 ? k : -5;
		total += k, off += (uint64_t)k;
		while (n && (uint64_t)k >= v->len)
			k -= (long)v->len, v++, n--;
		if (!n)
			break;
		for (uint32_t i = 0; i < n; i++)
			rest[i] = v[i];
		rest[0].base += (uint64_t)k, rest[0].len -= (uint64_t)k;
		v = rest;
	}
	return total;
}

/* Writes every range of cmd at cmd->off of the thread's pages file, a piece of at most
 * PARASITE_WRITE_PIECE bytes at a time, each checksummed right after its write (the pages then
 * come from the cache) into res->crc; returns the bytes written or -errno. */
static int64_t do_write(struct self *s, const struct parasite_cmd *cmd, struct parasite_res *res)
{
	uint64_t off = cmd->off;
	uint32_t i = 0;

	if (s->file < 0)
		return -E_BADF;
	if (cmd->crc_set)
		s->crc_file = cmd->crc_in;
	while (i < cmd->n_iov) {
		uint64_t bytes = cmd->iov[i].len;
		uint32_t j = i + 1;
		int64_t k;

		while (j < cmd->n_iov && bytes + cmd->iov[j].len <= PARASITE_WRITE_PIECE)
			bytes += cmd->iov[j++].len;
		k = write_ranges(s, &cmd->iov[i], j - i, off);
		if (k < 0)
			return k;
		for (; i < j; i++) {
			s->crc_file = crc32c(s, s->crc_file, (const uint8_t *)cmd->iov[i].base,
					     cmd->iov[i].len);
			res->crc[i] = s->crc_file;
		}
		off += bytes;
	}
	return (int64_t)(off - cmd->off);
}

/* Checksums every range of cmd from *crc (or cmd->crc_in) into res->crc. */
static void checksum(const struct self *s, const struct parasite_cmd *cmd, struct parasite_res *res,
		     uint32_t *crc)
{
	if (cmd->crc_set)
		*crc = cmd->crc_in;
	for (uint32_t i = 0; i < cmd->n_iov; i++) {
		*crc = crc32c(s, *crc, (const uint8_t *)cmd->iov[i].base, cmd->iov[i].len);
		res->crc[i] = *crc;
	}
}

/* Runs one command (fd: a descriptor passed with it, or -1) into s->res; returns 1 when ferry is
 * gone, else 0. */
static int serve(struct self *s, int32_t fd)
{
	struct parasite_cmd *cmd = s->cmd;
	struct parasite_res *res = s->res;

	if (cmd->nr == PARASITE_WRITE && fd >= 0) {
		if (s->file >= 0)
			sys3(NR_CLOSE, s->file, 0, 0);
		s->file = fd;
	} else if (fd >= 0) {
		sys3(NR_CLOSE, fd, 0, 0);
	}
	if (cmd->n_iov == 0 || cmd->n_iov > PARASITE_MAX_IOV) {
		res->ret = -E_INVAL;
	} else if (cmd->nr == PARASITE_WRITE) {
		res->ret = do_write(s, cmd, res);
	} else if (cmd->nr == PARASITE_VMSPLICE && cmd->pipe < (uint32_t)s->a->n_pipes) {
		checksum(s, cmd, res, &s->crc_pipe[cmd->pipe]);
		res->ret = do_vmsplice(s, cmd);
	} else {
		res->ret = -E_INVAL;
	}
	return res->ret == 1 && cmd->nr == PARASITE_VMSPLICE;
}

/* Reads one command into s->cmd, with the descriptor passed along in *fd (or -1); returns its
 * length or -errno. */
static long receive(struct self *s, int32_t *fd)
{
	struct iovec_ v = {s->cmd, sizeof(*s->cmd)};
	struct cmsghdr_ c;
	struct msghdr_ m;
	long n;

	m.name = 0, m.namelen = 0, m.pad0 = 0;
	m.iov = &v, m.iovlen = 1;
	m.control = &c, m.controllen = sizeof(c);
	m.flags = 0, m.pad1 = 0;
	c.len = 0;
	*fd = -1;
	n = sys3(NR_RECVMSG, s->sock, &m, MSG_CMSG_CLOEXEC_);
	if (n >= 0 && m.controllen >= 20 && c.len >= 20 && c.level == SOL_SOCKET_ &&
	    c.type == SCM_RIGHTS_)
		*fd = c.fd;
	return n;
}

/* Serves commands from s->sock until ferry is gone or a message is bad; then drops the file. */
static void serve_all(struct self *s)
{
	for (;;) {
		int32_t fd;
		long n = receive(s, &fd);

		if (n == -E_INTR)
			continue;
		if (n < (long)PARASITE_CMD_SIZE(0) ||
		    (uint64_t)n != PARASITE_CMD_SIZE((uint64_t)s->cmd->n_iov)) {
			if (fd >= 0)
				sys3(NR_CLOSE, fd, 0, 0);
			break; /* end of file (ferry is gone), an error or a bad message */
		}
		if (serve(s, fd))
			break;
		n = sys6(NR_SENDTO, s->sock, (long)s->res, (long)PARASITE_RES_SIZE(s->cmd->n_iov),
			 MSG_NOSIGNAL_, 0, 0);
		if (n < 0)
			break;
	}
	if (s->file >= 0)
		sys3(NR_CLOSE, s->file, 0, 0);
	s->file = -1;
}

static void self_init(struct self *s, const struct parasite_args *a, int32_t sock,
		      struct parasite_cmd *cmd, struct parasite_res *res)
{
	s->a = a, s->sock = sock, s->file = -1, s->fold = a->fold;
	for (int i = 0; i < PARASITE_MAX_PIPES; i++)
		s->crc_pipe[i] = 0;
	s->crc_file = 0;
	s->cmd = cmd, s->res = res;
}

/* A started thread: serves socket k with buffers on its own stack, then returns (and leaves,
 * entry.S). It closes its socket itself but for socket 0, which the injected thread also uses
 * (the hello): the fewer syscalls the injected thread makes on its way out, the fewer stops the
 * cure follows. */
static void worker_main(struct parasite_args *a, long k)
{
	struct parasite_cmd cmd;
	struct parasite_res res;
	struct self s;

	self_init(&s, a, a->socks[k], &cmd, &res);
	serve_all(&s);
	if (k)
		drop(&a->socks[k]);
}

/* Starts a thread for each socket while the kernel lets it; returns how many started. */
static int32_t start_workers(struct parasite_args *a)
{
	int32_t k = 0;

	for (; k < a->n_socks && k < PARASITE_MAX_WRITERS; k++)
		if (parasite_clone(CLONE_WORKER, a->stack_top[k], &a->tid[k], worker_main, a, k) <
		    0)
			break;
	return k;
}

/* Makes the pipes and the socket pairs, close-on-exec; returns 1 or -errno. */
static int32_t make_channels(struct parasite_args *a)
{
	int32_t fds[2];
	long r;

	for (int32_t i = 0; i < a->n_pipes && i < PARASITE_MAX_PIPES; i++) {
		r = sys3(NR_PIPE2, fds, O_CLOEXEC_, 0);
		if (r < 0)
			return (int32_t)r;
		a->pipe_r[i] = fds[0], a->pipe_w[i] = fds[1];
	}
	for (int32_t k = 0; k < a->n_socks && k < PARASITE_MAX_WRITERS; k++) {
		r = sys6(NR_SOCKETPAIR, AF_UNIX_, SOCK_SEQPACKET_ | SOCK_CLOEXEC_, 0, (long)fds, 0,
			 0);
		if (r < 0)
			return (int32_t)r;
		a->socks[k] = fds[0], a->peers[k] = fds[1];
	}
	return 1;
}

void parasite_main(struct parasite_args *a);

void parasite_main(struct parasite_args *a)
{
	struct parasite_res *res = (struct parasite_res *)(a + 1); /* for the hello */
	struct pollfd_ gone = {0, 0, 0};

	*(volatile int32_t *)&a->made = make_channels(a);
	/* ferry, alive, takes its ends and sets taken at this syscall's entry stop */
	sys3(PARASITE_READY_NR, 0, 0, 0);
	if (*(volatile int32_t *)&a->taken != 1 || a->made != 1)
		leave(a);
	for (int32_t k = 0; k < PARASITE_MAX_WRITERS; k++)
		drop(&a->peers[k]);
	sys3(NR_MPROTECT, a->area, a->code_len, PROT_RX);
	/* Threads it starts serve the sockets; never this one, whose registered rseq area (in the
	 * process's memory, maybe in a page being dumped) the kernel rewrites as it runs. */
	res->ret = start_workers(a);
	/* none started: ferry lets it go; it waits for socket 0 to hang up */
	gone.fd = a->socks[0];
	if (sys6(NR_SENDTO, a->socks[0], (long)res, (long)PARASITE_RES_SIZE(0), MSG_NOSIGNAL_, 0,
		 0) >= 0 &&
	    res->ret == 0)
		while (sys3(NR_POLL, &gone, 1, -1) == -E_INTR)
			;
	leave(a);
}

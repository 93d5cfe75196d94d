// SPDX-License-Identifier: Apache-2.0
/* Code run inside a stopped process (freestanding, position independent, raw syscalls): hands
 * the process's own pages to a pipe with vmsplice, so that ferry moves them into the image with
 * splice and never copies them through its own memory.
 *
 * It serves commands read from a socket until the socket says ferry is gone (end of file, hang
 * up, a failed send): then it closes its descriptors and leaves through a `syscall; ret` gadget
 * of the process that unmaps the injected area and returns into an rt_sigreturn gadget, onto a
 * signal frame ferry wrote below the thread's stack pointer: the thread goes on exactly where it
 * was stopped, with its own registers, FPU state and signal mask. While ferry lives it never lets
 * the code get that far: it takes the thread back with PTRACE_INTERRUPT. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define NR_READ 0
#define NR_CLOSE 3
#define NR_POLL 7
#define NR_MUNMAP 11
#define NR_SENDTO 44
#define NR_VMSPLICE 278

#define E_INTR 4
#define E_AGAIN 11
#define SPLICE_NONBLOCK 2
#define MSG_NOSIGNAL_ 0x4000
#define POLLOUT_ 4

struct pollfd_ {
	int32_t fd;
	int16_t events, revents;
};

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
static uint32_t crc32c(const struct parasite_args *a, uint32_t crc, const uint8_t *p, uint64_t len)
{
	uint64_t c = (uint32_t)~crc;

	c = lanes(c, &p, &len, PARASITE_CRC_LONG, a->crc_long);
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

/* Leaves: closes the descriptors, then unmaps the area and returns to the thread's own code
 * through the gadgets and the frame (see the top of the file). */
static void __attribute__((noreturn)) leave(const struct parasite_args *a)
{
	sys3(NR_CLOSE, a->sock, 0, 0);
	for (int32_t i = 0; i < a->n_pipes; i++) {
		sys3(NR_CLOSE, a->pipe_r[i], 0, 0);
		sys3(NR_CLOSE, a->pipe_w[i], 0, 0);
	}
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
static int64_t do_vmsplice(const struct parasite_args *a, struct parasite_cmd *cmd)
{
	int32_t pipe_w = a->pipe_w[cmd->pipe];
	struct parasite_iov *v = cmd->iov;
	uint32_t n = cmd->n_iov;
	int64_t total = 0;

	while (n) {
		struct pollfd_ p[2] = {{pipe_w, POLLOUT_, 0}, {a->sock, 0, 0}};
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

/* Runs one command into res (crcs: the running checksum of each pipe); returns 1 when ferry is
 * gone, else 0. */
static int serve(const struct parasite_args *a, struct parasite_cmd *cmd, struct parasite_res *res,
		 uint32_t *crcs)
{
	uint32_t *crc = &crcs[cmd->pipe < PARASITE_MAX_PIPES ? cmd->pipe : 0];

	if (cmd->nr != PARASITE_VMSPLICE || cmd->n_iov == 0 || cmd->n_iov > PARASITE_MAX_IOV ||
	    cmd->pipe >= (uint32_t)a->n_pipes) {
		res->ret = -22;
		return 0;
	}
	if (cmd->crc_set)
		*crc = cmd->crc_in;
	for (uint32_t i = 0; i < cmd->n_iov; i++) {
		*crc = crc32c(a, *crc, (const uint8_t *)cmd->iov[i].base, cmd->iov[i].len);
		res->crc[i] = *crc;
	}
	res->ret = do_vmsplice(a, cmd);
	return res->ret == 1;
}

void parasite_main(const struct parasite_args *a);

void parasite_main(const struct parasite_args *a)
{
	struct parasite_cmd *cmd = (struct parasite_cmd *)(a + 1);
	struct parasite_res *res = (struct parasite_res *)(cmd + 1);
	uint32_t crc[PARASITE_MAX_PIPES] = {0};

	for (;;) {
		long n = sys3(NR_READ, a->sock, cmd, sizeof(*cmd));

		if (n == -E_INTR)
			continue;
		if (n < 24 || (uint64_t)n != PARASITE_CMD_SIZE((uint64_t)cmd->n_iov))
			break; /* end of file (ferry is gone), an error or a bad message */
		if (serve(a, cmd, res, crc))
			break;
		n = sys6(NR_SENDTO, a->sock, (long)res, (long)PARASITE_RES_SIZE(cmd->n_iov),
			 MSG_NOSIGNAL_, 0, 0);
		if (n < 0)
			break;
	}
	leave(a);
}

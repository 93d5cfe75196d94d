// SPDX-License-Identifier: Apache-2.0
/* Code run inside a stopped process (freestanding, position independent, raw syscalls): hands
 * the process's own pages to a pipe with vmsplice, so that ferry moves them into the image with
 * splice and never copies them through its own memory. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define NR_CLOSE 3
#define NR_VMSPLICE 278

static long sys3(long nr, long a, long b, long c)
{
	long ret;
	register long r10 __asm__("r10") = 0;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static long sys4(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

/* CRC32C of [p, p + len) continuing from crc (the image's pre- and post-inverted form). */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, uint64_t len)
{
	uint64_t c = (uint32_t)~crc;

	while (len >= 8) {
		__asm__("crc32q %1, %0" : "+r"(c) : "rm"(*(const uint64_t *)p));
		p += 8, len -= 8;
	}
	while (len--) {
		uint32_t c32 = (uint32_t)c;

		__asm__("crc32b %1, %0" : "+r"(c32) : "rm"(*p++));
		c = c32;
	}
	return ~(uint32_t)c;
}

static int64_t do_vmsplice(struct parasite_cmd *cmd)
{
	uint32_t crc = cmd->crc_in;
	int64_t total = 0;

	if (cmd->n_iov > PARASITE_MAX_IOV)
		return -22;
	for (uint32_t i = 0; i < cmd->n_iov; i++) {
		struct parasite_iov v = cmd->iov[i];

		crc = crc32c(crc, (const uint8_t *)v.base, v.len);
		cmd->crc[i] = crc;
		while (v.len) {
			long n = sys4(NR_VMSPLICE, cmd->fd, (long)&v, 1, 0);

			if (n == -4)
				continue;
			if (n <= 0)
				return n < 0 ? n : -5;
			v.base += (uint64_t)n, v.len -= (uint64_t)n;
			total += n;
		}
	}
	return total;
}

void parasite_run(struct parasite_cmd *cmd);

void parasite_run(struct parasite_cmd *cmd)
{
	switch (cmd->nr) {
	case PARASITE_VMSPLICE:
		cmd->ret = do_vmsplice(cmd);
		break;
	case PARASITE_FINISH:
		cmd->ret = sys3(NR_CLOSE, cmd->fd, 0, 0);
		break;
	default:
		cmd->ret = -22;
	}
}

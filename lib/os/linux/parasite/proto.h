/* SPDX-License-Identifier: Apache-2.0 */
/* What ferry and the code it runs inside a stopped process (blob.c) share. ferry writes the
 * arguments into the injected area before the code starts; then commands and results go over a
 * SOCK_SEQPACKET socket pair, one message each, and page data over one of up to PARASITE_MAX_PIPES
 * pipes (one per stream of pages; each has its own running checksum). Plain fixed-size types
 * only: both sides are x86-64. */
#ifndef LX_PARASITE_PROTO_H
#define LX_PARASITE_PROTO_H

#include <stdint.h>

#define PARASITE_MAX_IOV 256   /* ranges per command (1 MiB of pages) */
#define PARASITE_CRC_LONG 8192 /* lane lengths of the three-lane checksum */
#define PARASITE_CRC_SHORT 256
#define PARASITE_MAX_PIPES 4

enum parasite_cmd_nr {
	PARASITE_VMSPLICE = 1, /* vmsplice iov[0..n_iov) into pipe `pipe`; crc[i]: after iov[i] */
};

struct parasite_iov {
	uint64_t base, len;
};

/* Set by ferry before the code starts; the code only reads it. */
struct parasite_args {
	int32_t sock;	 /* the process's end of the socket pair */
	int32_t n_pipes; /* 1..PARASITE_MAX_PIPES */
	/* the pipes' read ends (kept here so that no write raises SIGPIPE) and write ends */
	int32_t pipe_r[PARASITE_MAX_PIPES], pipe_w[PARASITE_MAX_PIPES];
	uint64_t area; /* the injected area, unmapped on the way out */
	uint64_t area_len;
	uint64_t gadget; /* a `syscall` that returns (ret) right after, in the process's code */
	uint64_t frame;	 /* the stack pointer for the way out: an rt_sigreturn gadget's address,
			    then a signal frame holding the thread's own registers and mask */
	/* CRC32C register after PARASITE_CRC_LONG (SHORT) zero bytes, by byte of the register:
	 * the checksum runs three lanes at once and joins them with these. */
	uint32_t crc_long[4][256], crc_short[4][256];
};

/* One command (ferry to the code); a message carries iov[0..n_iov) only. */
struct parasite_cmd {
	uint32_t nr;	  /* enum parasite_cmd_nr */
	uint32_t n_iov;	  /* ranges */
	uint32_t crc_in;  /* checksum (CRC32C) to start from, when crc_set */
	uint32_t crc_set; /* 0: continue from the previous command's last checksum on that pipe */
	uint32_t pipe;	  /* 0..n_pipes - 1 */
	uint32_t pad;
	struct parasite_iov iov[PARASITE_MAX_IOV];
};

#define PARASITE_CMD_SIZE(n) (24 + (n) * sizeof(struct parasite_iov))

/* One result (the code to ferry); a message carries crc[0..n_iov) only. */
struct parasite_res {
	int64_t ret; /* bytes put into the pipe, or -errno */
	uint32_t crc[PARASITE_MAX_IOV];
};

#define PARASITE_RES_SIZE(n) (8 + (n) * sizeof(uint32_t))

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* What ferry and the code it runs inside a stopped process (blob.c) share. ferry writes the
 * arguments into the injected area before the code starts; then commands and results go over
 * SOCK_SEQPACKET socket pairs, one message each. Pages leave either through one of up to
 * PARASITE_MAX_PIPES pipes (vmsplice; ferry splices them into the image; one running checksum per
 * pipe) or, written by the process itself, into a pages file ferry hands over (one per writer
 * thread: the injected thread starts one thread per socket, each serving its socket and keeping
 * one running checksum, and waits for them to leave). The code makes its own pipes and socket
 * pairs; ferry takes its ends with pidfd_getfd. Plain fixed-size types only: both sides are x86-64.
 */
#ifndef LX_PARASITE_PROTO_H
#define LX_PARASITE_PROTO_H

#include <stdint.h>

#include "crc_fold.h"

#define PARASITE_MAX_IOV 256 /* ranges per command (1 MiB of pages) */
/* lane lengths of the three-lane checksum: long lanes stream from memory (a few lanes a few KiB
 * long kept the prefetchers restarting: half the speed), short ones finish a range */
#define PARASITE_CRC_LONG (128u << 10)
#define PARASITE_CRC_MID 4096
#define PARASITE_CRC_SHORT 256
#define PARASITE_MAX_PIPES 4
#define PARASITE_MAX_WRITERS 4
/* a write command's ranges go out in pieces of at most this many bytes, each written and then
 * checksummed while its pages are still in the cache */
#define PARASITE_WRITE_PIECE (2u << 20)
#define PARASITE_WORKER_STACK (32u << 10) /* each started thread's stack, in the area */

enum parasite_cmd_nr {
	PARASITE_VMSPLICE = 1, /* vmsplice iov[0..n_iov) into pipe `pipe`; crc[i]: after iov[i] */
	/* write iov[0..n_iov) at `off` of this thread's pages file (pwritev, PARASITE_WRITE_PIECE
	 * bytes at a time; a descriptor passed with it, SCM_RIGHTS, first becomes that file in
	 * place of the one it had); crc[i]: after iov[i]; ret: bytes written or -errno */
	PARASITE_WRITE = 3,
};

struct parasite_iov {
	uint64_t base, len;
};

/* Set by ferry before the code starts, but for what the code writes as it starts (made, socks,
 * peers, pipe_r, pipe_w), what ferry writes at the code's ready stop (taken) and tid[]. */
struct parasite_args {
	int32_t n_pipes; /* 1..PARASITE_MAX_PIPES */
	int32_t n_socks; /* 1..PARASITE_MAX_WRITERS: threads wanted, one per socket */
	/* the code, once it made its descriptors: 1, or -errno; then it stops at PARASITE_READY_NR
	 */
	int32_t made;
	/* ferry, at that stop: 1 when it took its ends (peers[], pipe_r[]); anything else (a dead
	 * ferry leaves 0) makes the code close everything and leave */
	int32_t taken;
	int32_t socks[PARASITE_MAX_WRITERS]; /* the process's ends of the socket pairs, or -1 */
	int32_t peers[PARASITE_MAX_WRITERS]; /* their other ends, for ferry to take, or -1 */
	/* the pipes' read ends (kept here so that no write raises SIGPIPE) and write ends, or -1 */
	int32_t pipe_r[PARASITE_MAX_PIPES], pipe_w[PARASITE_MAX_PIPES];
	/* each started thread's id, serving socket k: set by the kernel when it starts
	 * (CLONE_PARENT_SETTID), back to 0 when it has left (CLONE_CHILD_CLEARTID, with a futex
	 * wake) */
	int32_t tid[PARASITE_MAX_WRITERS];
	uint64_t stack_top[PARASITE_MAX_WRITERS]; /* each started thread's stack */
	uint64_t area;				  /* the injected area, unmapped on the way out */
	uint64_t area_len;
	uint64_t code_len; /* the code at the start of the area, made read-only once ferry took */
	uint64_t gadget;   /* a `syscall` that returns (ret) right after, in the process's code */
	uint64_t frame;	   /* the stack pointer for the way out: an rt_sigreturn gadget's address,
			      then a signal frame holding the thread's own registers and mask */
	/* 1: the started threads checksum with crc_fold (AVX-512; the injected thread never does,
	 * its vector registers being the process's), with these keys */
	int32_t fold;
	int32_t pad;
	struct crc_fold_keys keys;
	/* CRC32C register after PARASITE_CRC_LONG (MID, SHORT) zero bytes, by byte of the
	 * register: the checksum runs three lanes at once and joins them with these. */
	uint32_t crc_long[4][256], crc_mid[4][256], crc_short[4][256];
};

/* The syscall (getpid) at whose entry the code, its descriptors made, waits for ferry (traced
 * with PTRACE_SYSCALL until then): a dead ferry lets it run through with taken still 0. */
#define PARASITE_READY_NR 39

/* One command (ferry to the code); a message carries iov[0..n_iov) only. */
struct parasite_cmd {
	uint32_t nr;	  /* enum parasite_cmd_nr */
	uint32_t n_iov;	  /* ranges */
	uint32_t crc_in;  /* checksum (CRC32C) to start from, when crc_set */
	uint32_t crc_set; /* 0: continue from the previous command's last checksum on that pipe */
	uint32_t pipe;	  /* 0..n_pipes - 1 */
	uint32_t pad;
	uint64_t off; /* PARASITE_WRITE: where in the file */
	struct parasite_iov iov[PARASITE_MAX_IOV];
};

#define PARASITE_CMD_SIZE(n) (32 + (n) * sizeof(struct parasite_iov))

/* One result (the code to ferry); a message carries crc[0..n_iov) only. The first message on
 * socket 0, before any command, is a hello: ret = the threads it started, each serving its socket
 * (0: none could start, and the injected thread only waits for ferry to let it go). */
struct parasite_res {
	int64_t ret; /* bytes put into the pipe, or -errno */
	uint32_t crc[PARASITE_MAX_IOV];
};

#define PARASITE_RES_SIZE(n) (8 + (n) * sizeof(uint32_t))

#endif

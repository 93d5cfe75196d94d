/* SPDX-License-Identifier: Apache-2.0 */
/* The command area shared by ferry and the code it runs inside a stopped process (blob.c): one
 * command at a time, written by ferry with process_vm_writev, results read back the same way.
 * Plain fixed-size types only: both sides are x86-64. */
#ifndef LX_PARASITE_PROTO_H
#define LX_PARASITE_PROTO_H

#include <stdint.h>

#define PARASITE_MAX_IOV 256 /* ranges per command (1 MiB of pages) */

enum parasite_cmd_nr {
	PARASITE_VMSPLICE = 1, /* vmsplice iov[0..n_iov) into fd; crc[i]: checksum after iov[i] */
	PARASITE_FINISH = 2,   /* close fd */
};

struct parasite_iov {
	uint64_t base, len;
};

struct parasite_cmd {
	uint32_t nr;			/* enum parasite_cmd_nr */
	int32_t fd;			/* the pipe's write end, in the process */
	uint32_t n_iov;			/* VMSPLICE: ranges */
	uint32_t crc_in;		/* VMSPLICE: checksum (CRC32C) to continue from */
	int64_t ret;			/* out: bytes spliced, 0, or -errno */
	uint32_t crc[PARASITE_MAX_IOV]; /* out: checksum after each range */
	struct parasite_iov iov[PARASITE_MAX_IOV];
};

#endif

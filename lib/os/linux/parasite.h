/* SPDX-License-Identifier: Apache-2.0 */
/* Code run inside a stopped process (lib/os/linux/parasite/, built into ferry by mk/parasite.mk):
 * injected into one thread held in a ptrace stop, it hands the process's own pages to a pipe with
 * vmsplice; ferry moves them on with splice, without copying them through its own memory.
 *
 * Injection maps one anonymous area at an address the kernel picks (the code read-only and
 * executable, then the command area and a stack), makes a pipe in the process (its write end
 * stays there, ferry takes the read end with pidfd_getfd) and blocks every signal but SIGTRAP:
 * each command ends with int3, a SIGTRAP stop that ferry never delivers. The cure closes the
 * process's pipe end, unmaps the area and puts registers and signal mask back exactly; nothing is
 * left in the process. Called from the thread that seized it; x86-64 only. */
#ifndef LX_PARASITE_H
#define LX_PARASITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "ferry/error.h"
#include "os/linux/pages.h"
#include "os/linux/remote.h"

#define LX_PARASITE_PIPE_SIZE (1u << 20) /* wanted pipe size; fs.pipe-max-size may cut it */
#define LX_PARASITE_MAX_RANGES 256	 /* ranges per lx_parasite_vmsplice */

struct lx_parasite {
	struct lx_remote r;
	uint64_t area;	 /* the mapped area in the process (0: none) */
	size_t area_len; /* its length */
	uint64_t cmd;	 /* the command area in it */
	uint64_t stack;	 /* the top of the stack in it */
	int remote_fd;	 /* the pipe's write end in the process, or -1 */
	int pipe_fd;	 /* the pipe's read end in ferry, or -1 */
	size_t pipe_size;
	struct user_regs_struct saved; /* the thread's registers before injection */
	uint64_t mask;		       /* and its signal mask */
	bool touched;		       /* registers or mask changed: the cure restores them */
};

/* Injects the code into process pid through thread tid (held in a ptrace stop). Returns 0, or -1
 * with err saying why it cannot be used (the process left as it was). */
int lx_parasite_start(struct lx_parasite *ps, pid_t pid, pid_t tid, ferry_err_t *err);

/* Has the process vmsplice the n ranges (page aligned, at most LX_PARASITE_MAX_RANGES and
 * ps->pipe_size bytes in all) of its own memory into the pipe (ps->pipe_fd), checksumming them
 * on the way: crc[i] is the CRC32C of everything from crc_in through range i. Returns the bytes
 * now in the pipe (the ranges' total) or -1 (the pipe may then hold part of them). */
int64_t lx_parasite_vmsplice(struct lx_parasite *ps, const struct lx_page_range *r, size_t n,
			     uint32_t crc_in, uint32_t *crc, ferry_err_t *err);

/* Removes everything the injection added and restores the thread; accepts a zeroed or already
 * cured ps (pid 0). Returns 0, or -1 if something could not be removed. */
int lx_parasite_cure(struct lx_parasite *ps, ferry_err_t *err);

#endif

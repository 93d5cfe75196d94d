/* SPDX-License-Identifier: Apache-2.0 */
/* Code run inside a stopped process (lib/os/linux/parasite/, built into ferry by mk/parasite.mk):
 * injected into one thread held in a ptrace stop, it hands the process's own pages to a pipe with
 * vmsplice; ferry moves them on with splice, without copying them through its own memory. Or,
 * with writers, the code writes them into pages files ferry hands it: the injected thread starts
 * up to LX_PARASITE_MAX_WRITERS threads of the process, each serving a socket of its own and
 * checksumming with the folding CRC32C where the CPU has it (parasite/crc_fold.h; the injected
 * thread's vector registers are the process's), so that as many files fill at once, each copied
 * once (a splice into tmpfs costs more per byte than a write: bench/cr-pages). Pages written by the
 * process are charged to its memory cgroup and limited by its RLIMIT_FSIZE: the caller uses writers
 * only where that changes nothing (lib/os/linux/dump_mem.c).
 *
 * Injection guards the thread's remote syscalls (remote_exit.h: a signal frame of the thread's
 * own registers, FPU state and signal mask below its stack pointer, where a signal would put
 * one, under the address of an rt_sigreturn of the process) and makes exactly one: the mmap of
 * the area (code, arguments, the hello, stacks) at a free address ferry picks, run on an
 * undo frame below the guard's that unmaps it. The thread is held at that mmap's exit stop, so
 * that a ferry killed from then on lets it return into the undo frame: munmap, then the guard's
 * way out. Ferry copies the code in and points the thread at it; the code makes its pipes and
 * SOCK_SEQPACKET socket pairs itself and stops at a ready syscall (traced with PTRACE_SYSCALL
 * until then), where ferry takes its ends with pidfd_getfd and sets `taken`; a dead ferry never
 * sets it, and the code then closes everything and leaves. With `taken`, the code closes
 * ferry's ends, protects its code, starts one thread per socket and greets ferry (when none can
 * start, ferry lets it go: the injected thread never serves, since the kernel rewrites its rseq
 * area, maybe in a page being dumped, whenever it returns to user mode). Each thread serves
 * commands from its socket: ferry sends the page ranges of a batch, the thread checksums and
 * vmsplices them and answers with the checksums; ferry splices the pipe into the image meanwhile,
 * so the two overlap (up to LX_PARASITE_QUEUE batches). With several pipes (lx_pages_mt) each
 * command names its pipe and one ferry thread per pipe splices it into its own pages file.
 *
 * A dead ferry (killed at any point) leaves the process running as it was: while the code runs,
 * the sockets' other ends close, the started threads drop their files and leave, and the code
 * closes its descriptors, unmaps its area from a `syscall; ret` of the process's own code and
 * returns into an rt_sigreturn of it onto the guard's frame, so the thread goes on where it was
 * stopped. The cure (ferry alive) takes the thread back with PTRACE_INTERRUPT, closes ferry's
 * ends of the sockets and follows the thread with PTRACE_SYSCALL on that same way out (or the
 * undo frame's, before the code ran) to the end of its munmap, where it puts mask and registers
 * back exactly (an rt_sigreturn would lose a restart block): no remote syscall, so a ferry
 * killed then leaves nothing behind. Only code that faulted is removed with remote syscalls.
 * Called from the thread that seized the process; x86-64 only. */
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

#define LX_PARASITE_PIPE_SIZE (1u << 20)    /* wanted pipe size; fs.pipe-max-size may cut it */
#define LX_PARASITE_MAX_RANGES 256	    /* ranges per command */
#define LX_PARASITE_QUEUE 2		    /* commands sent and not yet received */
#define LX_PARASITE_MAX_PIPES 4		    /* pipes (streams of pages) at most */
#define LX_PARASITE_MAX_WRITERS 4	    /* threads writing pages files at most */
#define LX_PARASITE_WRITE_BATCH (32u << 20) /* bytes per write command at most */
#define LX_PARASITE_WRITE_PIECE (2u << 20)  /* bytes per range of a write command at most */

/* How far the injection went (what the cure undoes). */
enum lx_parasite_stage {
	LX_PARASITE_NONE,   /* nothing in the process */
	LX_PARASITE_MAPPED, /* the area mapped; the thread at its mmap's exit, on the undo frame */
	LX_PARASITE_LAUNCHED, /* the thread pointed at the code (runs it once resumed) */
	LX_PARASITE_READY,    /* the code made its descriptors and waits at its ready stop */
	LX_PARASITE_RUNNING,  /* the code took over its descriptors and runs */
	LX_PARASITE_STRANDED, /* the code stopped where it should not (a fault): removed remotely */
};

struct lx_parasite {
	struct lx_remote r;
	enum lx_parasite_stage stage;
	uint64_t area;			    /* the mapped area in the process (0: none) */
	size_t area_len;		    /* its length */
	uint64_t args;			    /* the arguments in it */
	uint64_t stack;			    /* the top of the injected thread's stack in it */
	int sock;			    /* ferry's end of socket 0, or -1 */
	int pipe_fd[LX_PARASITE_MAX_PIPES]; /* the pipes' read ends in ferry, or -1 */
	size_t n_pipes;			    /* pipes made */
	size_t pipe_size;		    /* of each */
	int wsock[LX_PARASITE_MAX_WRITERS]; /* ferry's ends of the sockets (wsock[0] == sock) */
	size_t n_socks;			    /* sockets made (threads wanted) */
	size_t n_writers;		    /* threads serving them */
	struct {
		size_t n;				  /* ranges */
		uint64_t len;				  /* bytes */
	} wq[LX_PARASITE_MAX_WRITERS][LX_PARASITE_QUEUE]; /* write commands in flight */
	size_t wqueued[LX_PARASITE_MAX_WRITERS];
	struct user_regs_struct saved; /* the thread's registers before injection */
	uint64_t mask;		       /* and its signal mask */
	bool running;		       /* the thread runs the code (not in a ptrace stop) */
	size_t queued;		       /* commands sent and not received */
	uint64_t spliced;	       /* bytes spliced into files so far */
	struct {
		size_t n;     /* ranges */
		uint64_t len; /* bytes */
		size_t pipe;  /* into which */
	} queue[LX_PARASITE_QUEUE];
};

/* Injects the code into process pid (mapped as m says, read while it is stopped) through thread
 * tid (held in a ptrace stop) with n_pipes pipes (0..LX_PARASITE_MAX_PIPES; none when the threads
 * write the pages files) and n_socks sockets (1..LX_PARASITE_MAX_WRITERS: the threads wanted;
 * ps->n_writers says how many the process let start) and starts it. Returns 0, or -1 with err
 * saying why it cannot be used (the process left as it was). */
int lx_parasite_start(struct lx_parasite *ps, const struct lx_memmap *m, pid_t pid, pid_t tid,
		      size_t n_pipes, size_t n_socks, ferry_err_t *err);

/* Sends the n ranges (page aligned, readable by the process, at most LX_PARASITE_MAX_RANGES and
 * LX_PARASITE_WRITE_BATCH bytes) to writer k (< ps->n_writers), to be written at off of its
 * pages file, checksummed on the way from *crc_in (NULL: from where its previous command ended).
 * fd (a pages file opened for writing, or -1) goes along and becomes that file first, in place of
 * the one the writer had: its first command must carry one. At most LX_PARASITE_QUEUE commands
 * per writer may be outstanding. Returns 0 or -1. */
int lx_parasite_write(struct lx_parasite *ps, size_t k, const struct lx_page_range *r, size_t n,
		      uint64_t off, const uint32_t *crc_in, int fd, ferry_err_t *err);

/* Waits (at most about 100 ms) until writers with commands outstanding have an answer; returns
 * the mask of those that have (bit k: writer k; 0: none yet), or -1 when the process or one of
 * its writers is gone. */
int lx_parasite_wait_writers(struct lx_parasite *ps, ferry_err_t *err);

/* Lets the started writers go once their work is done: each drops its file and leaves while the
 * caller goes on (lx_parasite_cure waits for them). */
void lx_parasite_release_writers(struct lx_parasite *ps);

/* Reads writer k's oldest outstanding result (see lx_parasite_receive for crc). Returns the bytes
 * written or -1. */
int64_t lx_parasite_write_result(struct lx_parasite *ps, size_t k, uint32_t *crc, ferry_err_t *err);

/* Sends the n ranges (page aligned, readable by the process, at most LX_PARASITE_MAX_RANGES and
 * ps->pipe_size bytes in all) to be vmspliced into pipe `pipe`, checksummed on the way from
 * *crc_in (NULL: from where the previous command on that pipe ended). At most LX_PARASITE_QUEUE
 * commands may be outstanding. Returns 0 or -1. */
int lx_parasite_send(struct lx_parasite *ps, size_t pipe, const struct lx_page_range *r, size_t n,
		     const uint32_t *crc_in, ferry_err_t *err);

/* Splices the oldest outstanding command's bytes from its pipe into fd at its offset and reads
 * its result: crc[i] is the CRC32C of everything through range i. Returns the bytes written or
 * -1 (fd may then hold part of them: ps->spliced counts every byte spliced so far). */
int64_t lx_parasite_receive(struct lx_parasite *ps, int fd, uint32_t *crc, ferry_err_t *err);

/* Reads the oldest outstanding command's result while another thread drains its pipe (see
 * lx_parasite_receive for crc). Returns the bytes the code put into the pipe, or -1. */
int64_t lx_parasite_result(struct lx_parasite *ps, uint32_t *crc, ferry_err_t *err);

/* What lx_pages_mt fills: pm (pm->pages_id set) through w; progress, when set, is told of each
 * batch of ranges done. */
struct image_writer;
struct cr_pagemap;
struct lx_pages_mt {
	struct image_writer *w;
	struct cr_pagemap *pm;
	void (*progress)(void *arg, const struct lx_page_range *r, size_t n);
	void *arg;
};

/* Moves the pages of l (every range readable by the process) into as many pages files at once
 * (pm->pages_id's, then new ones) as the code has writers (no pipes: each writes its own file)
 * or else pipes (one ferry thread splicing each; lib/os/linux/dump_pages_mt.c), and
 * records the runs in job->pm. Returns 0 or -1 (the files may then hold part of the pages). */
int lx_pages_mt(struct lx_parasite *ps, const struct lx_pages_mt *job, const struct lx_page_list *l,
		ferry_err_t *err);

/* Removes everything the injection added and restores the thread; accepts a zeroed or already
 * cured ps (pid 0). Returns 0, or -1 if something could not be removed. */
int lx_parasite_cure(struct lx_parasite *ps, ferry_err_t *err);

#endif

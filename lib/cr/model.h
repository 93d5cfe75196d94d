/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OS-neutral process model: what a checkpoint captures and a restore rebuilds. Its canonical
 * ABI is Linux x86-64 (registers in user_regs_struct order, Linux signal numbers, open flags, mmap
 * protections); a backend translates at its edge. Every pointer is owned by the struct that holds
 * it; cr_image_free() releases a whole image. Portable: no OS headers.
 */
#ifndef FERRY_CR_MODEL_H
#define FERRY_CR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

#define CR_PAGE_SIZE 4096u
#define CR_NSIG 64	    /* signals 1..64; index signo - 1 */
#define CR_RLIMIT_COUNT 16  /* RLIMIT_CPU .. RLIMIT_RTTIME, Linux numbering */
#define CR_SIGINFO_SIZE 128 /* sizeof(siginfo_t) on Linux x86-64 */
#define CR_RLIM_INFINITY UINT64_MAX
#define CR_TERMIOS_SIZE 36 /* the kernel struct termios (TCGETS) on Linux x86-64 */

/* General registers, in the order and with the names of Linux x86-64 struct user_regs_struct. The
 * thread's fs and gs base are fs_base and gs_base here. */
struct cr_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	uint64_t rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss;
	uint64_t fs_base, gs_base, ds, es, fs, gs;
};
#define CR_NREGS 27

/* A queued signal: the kernel's siginfo_t bytes (Linux x86-64 layout). */
struct cr_siginfo {
	uint8_t raw[CR_SIGINFO_SIZE];
};

struct cr_sigaltstack {
	uint64_t sp, size;
	uint32_t flags; /* SS_ONSTACK 1, SS_DISABLE 2, SS_AUTODISARM 1u << 31 */
};

/* A thread's scheduling, as sched_getattr(2) gives it. */
enum {
	CR_SCHED_RESET_ON_FORK = 1u << 0, /* SCHED_FLAG_RESET_ON_FORK */
};

struct cr_sched {
	uint32_t policy;   /* SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6 */
	uint32_t flags;	   /* CR_SCHED_RESET_ON_FORK */
	int32_t nice;	   /* -20..19 (OTHER, BATCH) */
	uint32_t priority; /* 1..99 (FIFO, RR), else 0 */
	uint64_t runtime, deadline, period; /* ns (DEADLINE) */
	uint32_t ioprio;		    /* ioprio_get(2): class << 13 | level; 0: none set */
};

struct cr_thread {
	int32_t tid;
	char *comm; /* thread name, may be NULL */
	struct cr_regs regs;
	uint8_t *xsave; /* the XSAVE area as PTRACE_GETREGSET NT_X86_XSTATE returns it */
	size_t xsave_len;
	uint64_t xsave_mask;	    /* XSTATE_BV of that area: the components it holds */
	uint64_t sigmask;	    /* blocked signals, bit signo - 1 */
	struct cr_siginfo *pending; /* signals queued to this thread */
	size_t n_pending;
	struct cr_sigaltstack altstack;
	uint64_t robust_list, robust_list_len; /* set_robust_list(head, len) */
	uint64_t clear_child_tid;	       /* set_tid_address(), 0 if unset */
	uint64_t rseq;			       /* its registered rseq area, 0 if none */
	uint32_t rseq_len, rseq_sig;	       /* and the length and signature it was given */
	bool has_sched;			       /* sched holds the thread's (older images: no) */
	struct cr_sched sched;
	int32_t pdeath_sig; /* PR_SET_PDEATHSIG: the signal it gets when its parent dies (leader) */
};

/* Area flags. */
enum {
	CR_VMA_SHARED = 1u << 0, /* MAP_SHARED; otherwise private */
	CR_VMA_ANON = 1u << 1,	 /* no file behind it (or a shm object, see shm_id) */
	CR_VMA_GROWSDOWN = 1u << 2,
	CR_VMA_HEAP = 1u << 3,	      /* [heap] */
	CR_VMA_STACK = 1u << 4,	      /* [stack] */
	CR_VMA_VDSO = 1u << 5,	      /* [vdso] */
	CR_VMA_VVAR = 1u << 6,	      /* [vvar] */
	CR_VMA_VVAR_VCLOCK = 1u << 7, /* [vvar_vclock] (Linux 6.13+) */
	CR_VMA_VSYSCALL = 1u << 8,    /* [vsyscall]: recorded, never mapped again */
	CR_VMA_LOCKED = 1u << 9,      /* mlock */
	CR_VMA_NORESERVE =
	    1u << 10, /* MAP_NORESERVE: no swap space set aside (sparse reservations) */
	CR_VMA_ALL = (1u << 11) - 1,
};

/* madvise state of an area (VmFlags of smaps). */
enum {
	CR_MADV_DONTFORK = 1u << 0,   /* dc */
	CR_MADV_DONTDUMP = 1u << 1,   /* dd */
	CR_MADV_HUGEPAGE = 1u << 2,   /* hg */
	CR_MADV_NOHUGEPAGE = 1u << 3, /* nh */
	CR_MADV_MERGEABLE = 1u << 4,  /* mg */
	CR_MADV_WIPEONFORK = 1u << 5, /* wf */
	CR_MADV_RANDOM = 1u << 6,     /* rr */
	CR_MADV_SEQUENTIAL = 1u << 7, /* sr */
	CR_MADV_ALL = (1u << 8) - 1,
};

#define CR_PROT_ALL 7u /* PROT_READ 1 | PROT_WRITE 2 | PROT_EXEC 4 */

struct cr_vma {
	uint64_t start, end; /* [start, end), page aligned */
	uint32_t prot;	     /* PROT_* */
	uint32_t flags;	     /* CR_VMA_* */
	uint32_t madv;	     /* CR_MADV_* */
	char *path;	     /* backing file, NULL for anonymous memory */
	uint64_t pgoff;	     /* offset of start in the file, bytes */
	uint64_t dev, ino;   /* of the file, to check it is the same one */
	uint64_t shm_id;     /* shared object (MAP_SHARED anonymous, memfd, SysV), 0: none */
};

/* One run of present pages: nr_pages pages at vaddr, stored at offset (bytes from the start of the
 * page data) of a pages file: pages_id, or the pagemap's when 0. */
struct cr_page_run {
	uint64_t vaddr, nr_pages, offset;
	uint32_t pages_id;
};

/* Where the contents of an address space (or a shm object) are: a pages file and its runs, sorted
 * by vaddr, not overlapping. */
struct cr_pagemap {
	uint32_t pages_id; /* pages-<pages_id>.img; 0: no pages */
	struct cr_page_run *runs;
	size_t n_runs, cap_runs;
};

struct cr_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t *auxv; /* (type, value) pairs as /proc/PID/auxv, ending with AT_NULL */
	size_t n_auxv;	/* number of u64 words, even */
	char *exe;	/* /proc/PID/exe */
};

struct cr_sigaction {
	uint64_t handler, flags, restorer, mask; /* kernel struct sigaction (rt_sigaction) */
};

struct cr_rlimit {
	uint64_t cur, max;
};

struct cr_itimer {
	uint64_t interval_us, value_us;
};

struct cr_posix_timer {
	int32_t id, clock;
	int32_t notify, signo; /* SIGEV_* and its signal */
	uint64_t sigev_value;
	int32_t notify_tid;
	uint64_t interval_ns, value_ns;
	int32_t overrun;
};

/* A seccomp filter: its BPF program and the flags it was installed with. */
enum {
	CR_SECCOMP_LOG = 1u << 1,	 /* SECCOMP_FILTER_FLAG_LOG */
	CR_SECCOMP_SPEC_ALLOW = 1u << 2, /* SECCOMP_FILTER_FLAG_SPEC_ALLOW */
	CR_SECCOMP_FLAGS = CR_SECCOMP_LOG | CR_SECCOMP_SPEC_ALLOW,
	CR_SECCOMP_FILTER_MAX_INSNS = 4096, /* in one filter (the kernel's BPF_MAXINSNS) */
	CR_SECCOMP_MAX_INSNS = 32768, /* in a chain, 4 more counted per filter (the kernel's) */
};

struct cr_seccomp_filter {
	uint8_t *bpf; /* struct sock_filter[len / 8] */
	size_t len;
	uint32_t flags; /* CR_SECCOMP_LOG, CR_SECCOMP_SPEC_ALLOW */
};

struct cr_creds {
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	uint32_t *groups;
	size_t n_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	uint32_t securebits;
	bool no_new_privs;
};

enum cr_fd_kind {
	CR_FD_REG = 1, /* regular file: path, flags, offset, mode */
	CR_FD_DELETED, /* unlinked regular file: contents in ghost id */
	CR_FD_DIR,
	CR_FD_CHR,  /* character device: path, rdev */
	CR_FD_PIPE, /* pipe id, end, data in flight */
	CR_FD_FIFO, /* a named pipe: path + pipe id, end, data */
	CR_FD_UNIX, /* unix socket id, type, peer, queued data */
	CR_FD_EVENTFD,
	CR_FD_EPOLL,
	CR_FD_TIMERFD,
	CR_FD_SIGNALFD,
	CR_FD_MEMFD, /* shm object id, flags, offset */
	CR_FD_TCP,   /* TCP socket id (inode), struct cr_tcp */
	CR_FD_KIND_MAX = CR_FD_TCP,
};

struct cr_bytes {
	uint8_t *data;
	size_t len;
};

struct cr_epoll_target {
	int32_t fd;
	uint32_t events;
	uint64_t data;
};

/* tcpi_options bits of the options a connection negotiated */
#define CR_TCP_OPT_TIMESTAMPS 1u
#define CR_TCP_OPT_SACK 2u
#define CR_TCP_OPT_WSCALE 4u

/* A TCP socket: ESTABLISHED (carried by TCP repair) or LISTEN. Addresses are in network byte
 * order (IPv4 in the first 4 bytes), ports in host order. */
struct cr_tcp {
	uint32_t family;	  /* 2 AF_INET, 10 AF_INET6 */
	uint32_t state;		  /* 1 ESTABLISHED, 10 LISTEN; 0: an earlier fd has it */
	uint8_t src[16], dst[16]; /* dst: zero for LISTEN */
	uint32_t sport, dport;
	uint32_t backlog;	      /* LISTEN */
	uint32_t snd_seq, rcv_seq;    /* sequence number at the end of each queue */
	struct cr_bytes sendq, recvq; /* sendq: unacknowledged bytes, then never sent ones */
	uint32_t unsent;	      /* bytes at the end of sendq never sent */
	uint32_t mss, snd_wscale, rcv_wscale, timestamp;
	uint32_t options; /* CR_TCP_OPT_* */
	bool has_window;  /* the five window fields below are set */
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
	bool reuseaddr, reuseport, keepalive, nodelay;
	uint32_t keepidle, keepintvl, keepcnt; /* seconds, seconds, probes */
	uint32_t rcvbuf, sndbuf;	       /* as the user set them (0: kernel's choice) */
	bool netns_locked; /* the checkpoint locked the whole network namespace */
};

struct cr_fd {
	int32_t fd;
	bool cloexec;
	enum cr_fd_kind kind;
	uint32_t flags; /* open flags (O_* of Linux), O_CLOEXEC excluded */
	uint64_t offset;
	uint32_t mode;	/* st_mode */
	char *path;	/* REG, DELETED (where it was), DIR, CHR, FIFO; memfd name for MEMFD */
	uint64_t id;	/* DELETED: ghost id; PIPE/FIFO: pipe id; UNIX: socket id; MEMFD: shm id */
	uint64_t rdev;	/* CHR */
	bool write_end; /* PIPE/FIFO: this fd writes */
	struct cr_bytes data; /* PIPE/FIFO: bytes in flight (on one end only) */
	struct {
		uint32_t type;		/* SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5 */
		uint64_t peer;		/* peer socket id, 0: none */
		struct cr_bytes *queue; /* messages queued for reading, in order */
		size_t n_queue;
		bool shut_rd, shut_wr;
	} unix_sk;
	struct {
		uint64_t counter;
		uint32_t flags; /* EFD_SEMAPHORE 1 */
	} eventfd;
	struct {
		struct cr_epoll_target *targets;
		size_t n_targets;
	} epoll;
	struct {
		int32_t clock;
		uint32_t settime_flags;
		uint64_t ticks, interval_ns, value_ns;
	} timerfd;
	uint64_t signalfd_mask;	 /* SIGNALFD */
	struct cr_bytes termios; /* CHR on a terminal: its termios (CR_TERMIOS_SIZE bytes) */
	struct cr_tcp tcp;	 /* TCP */
	bool inherit;	    /* restore only, never in an image: ferry's own fd inherit_fd takes */
	int32_t inherit_fd; /* its place (a container's stdio, from whoever restores it) */
};

struct cr_process {
	int32_t pid, ppid, pgid, sid;
	char *comm;
	struct cr_thread *threads; /* threads[0] is the leader (tid == pid) */
	size_t n_threads;
	struct cr_vma *vmas; /* sorted by start, not overlapping */
	size_t n_vmas;
	struct cr_pagemap pages;
	struct cr_mm mm;
	struct cr_sigaction sigactions[CR_NSIG];
	struct cr_siginfo *shared_pending; /* signals queued to the process */
	size_t n_shared_pending;
	struct cr_rlimit rlimits[CR_RLIMIT_COUNT];
	uint32_t umask;
	char *cwd, *root;
	struct cr_creds creds;
	uint32_t personality;
	struct cr_itimer itimers[3]; /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
	struct cr_posix_timer *timers;
	size_t n_timers;
	struct cr_seccomp_filter *seccomp; /* oldest first; every thread has them */
	size_t n_seccomp;
	bool has_prctl;	       /* the four below are the process's (older images: no) */
	int32_t oom_score_adj; /* -1000..1000 */
	uint32_t dumpable;     /* PR_GET_DUMPABLE: 0, 1 or 2 */
	bool child_subreaper;  /* PR_SET_CHILD_SUBREAPER */
	bool thp_disable;      /* PR_SET_THP_DISABLE */
	struct cr_fd *fds;     /* sorted by fd number */
	size_t n_fds;
};

enum cr_shm_kind {
	CR_SHM_ANON = 1, /* MAP_SHARED | MAP_ANONYMOUS */
	CR_SHM_SYSV,
	CR_SHM_MEMFD,
	CR_SHM_KIND_MAX = CR_SHM_MEMFD,
};

/* A shared memory object, dumped once and shared again on restore; vmas and fds refer to its id. */
struct cr_shm {
	uint64_t id;
	enum cr_shm_kind kind;
	uint64_t size;
	char *name;  /* memfd name */
	int32_t key; /* SysV key */
	uint32_t mode;
	uint32_t seals;		 /* memfd F_SEAL_* */
	struct cr_pagemap pages; /* vaddr = offset in the object */
};

/* Contents of a deleted-but-open file. */
struct cr_ghost {
	uint64_t id;
	uint32_t mode;
	struct cr_bytes data;
};

struct cr_vdso_area {
	char *name; /* "[vdso]", "[vvar]", "[vvar_vclock]" */
	uint64_t start, end;
};

/* Facts about the host the image was taken on; the OS layer gathers them. */
struct cr_host {
	char *os;	     /* "Linux", "FreeBSD" */
	char *kernel;	     /* release, uname -r */
	char *arch;	     /* "x86_64" */
	uint64_t xsave_mask; /* XCR0 (xgetbv 0): the xsave features the CPU enables */
	struct cr_vdso_area *vdso;
	size_t n_vdso;
	char *ferry_version;
};

/* Namespaces a container made itself (not joined by path). */
enum {
	CR_NS_PID = 1u << 0,
	CR_NS_NET = 1u << 1,
	CR_NS_IPC = 1u << 2,
	CR_NS_UTS = 1u << 3,
	CR_NS_MOUNT = 1u << 4,
	CR_NS_USER = 1u << 5,
	CR_NS_CGROUP = 1u << 6,
	CR_NS_TIME = 1u << 7,
};

/* One file of a tmpfs mount (regular, directory or symbolic link). */
struct cr_mount_file {
	char *path; /* relative to the mount point */
	uint32_t mode, uid, gid;
	struct cr_bytes data; /* regular file */
	char *target;	      /* symbolic link */
	uint64_t mtime_ns;
};

/* The contents of a tmpfs mount of the container. */
struct cr_mount_files {
	char *destination;
	struct cr_mount_file *files; /* parents before children */
	size_t n_files;
};

/* What an image of a whole container adds to its process tree. */
/* A SysV semaphore set of a container's IPC namespace. */
struct cr_sysv_sem {
	int32_t key, id; /* id at checkpoint: the restore makes the same one */
	uint32_t mode;	 /* permission bits */
	uint32_t uid, gid, cuid, cgid;
	uint16_t *values; /* nsems of them */
	size_t nsems;
};

struct cr_sysv_msg {
	int64_t type;
	struct cr_bytes data;
};

/* A SysV message queue of a container's IPC namespace, its messages in order. */
struct cr_sysv_queue {
	int32_t key, id;
	uint32_t mode;
	uint32_t uid, gid, cuid, cgid;
	uint64_t qbytes;
	struct cr_sysv_msg *msgs;
	size_t n_msgs;
};

struct cr_container {
	char *id;
	char *config; /* config.json text */
	char *limits; /* live linux.resources JSON, or NULL */
	char *hostname, *domainname;
	uint32_t namespaces; /* CR_NS_* */
	bool netns_locked;
	char **sysctls; /* "key=value" */
	size_t n_sysctls;
	struct cr_mount_files *mounts;
	size_t n_mounts;
	struct cr_sysv_sem *sems; /* SysV objects of its own IPC namespace */
	size_t n_sems;
	struct cr_sysv_queue *queues;
	size_t n_queues;
};

struct cr_image {
	struct cr_host host;
	struct cr_container *container; /* NULL in an image of a process tree */
	int32_t root_pid;
	struct cr_process *procs; /* procs[0] is the root */
	size_t n_procs;
	struct cr_shm *shm;
	size_t n_shm;
	struct cr_ghost *ghosts;
	size_t n_ghosts;
};

/* Frees everything an image owns and zeroes it; accepts NULL. */
void cr_image_free(struct cr_image *img);

/* Frees what a process owns and zeroes it; accepts NULL. */
void cr_process_free(struct cr_process *p);

/* Frees a container record and what it owns; accepts NULL. */
void cr_container_free(struct cr_container *c);

/* Frees what an fd owns and zeroes it; accepts NULL. */
void cr_fd_free(struct cr_fd *fd);

/* Whether the image holds unix socket id. */
bool cr_image_has_socket(const struct cr_image *img, uint64_t id);

/* Every connected unix socket's peer is in the image (a tree talking to a socket outside it
 * cannot be restored: refused at checkpoint, before anything is killed). Returns 0 or -1. */
int cr_image_check_peers(const struct cr_image *img, ferry_err_t *err);

/* Looks a process up by pid; returns it or NULL. */
struct cr_process *cr_image_find_process(const struct cr_image *img, int32_t pid);

#endif

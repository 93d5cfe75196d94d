/* SPDX-License-Identifier: Apache-2.0 */
/* A process's memory map from /proc/PID/smaps (or /proc/PID/maps): one lx_area per line. */
#ifndef LX_MEMMAP_H
#define LX_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/error.h"

/* What backs an area, from its path column (and the device, for the shmem ones). */
enum lx_area_kind {
	LX_AREA_ANON,  /* private anonymous, also named by prctl ("[anon:NAME]") */
	LX_AREA_FILE,  /* a file mapping (private or shared), path in ->path */
	LX_AREA_SHMEM, /* MAP_SHARED|MAP_ANONYMOUS: "/dev/zero (deleted)", "[anon_shmem:NAME]" */
	LX_AREA_MEMFD, /* a memfd: "/memfd:NAME (deleted)", NAME in ->name */
	LX_AREA_SYSV,  /* SysV shm: "/SYSVkkkkkkkk (deleted)", the key in ->sysv_key, shmid = inode
			*/
	LX_AREA_HEAP,  /* [heap] */
	LX_AREA_STACK, /* [stack] */
	LX_AREA_VDSO,  /* [vdso] */
	LX_AREA_VVAR,  /* [vvar] */
	LX_AREA_VVAR_VCLOCK, /* [vvar_vclock] (kernel 6.13+) */
	LX_AREA_VSYSCALL,    /* [vsyscall] */
	LX_AREA_SPECIAL,     /* another "[...]" name ([uprobes] ...), as is in ->path */
};

/* VmFlags of smaps, one bit per two-letter mnemonic (fs/proc/task_mmu.c). */
enum lx_vmflag {
	LX_VM_RD = 1ULL << 0,	    /* rd: readable */
	LX_VM_WR = 1ULL << 1,	    /* wr: writable */
	LX_VM_EX = 1ULL << 2,	    /* ex: executable */
	LX_VM_SH = 1ULL << 3,	    /* sh: shared */
	LX_VM_MR = 1ULL << 4,	    /* mr: may read */
	LX_VM_MW = 1ULL << 5,	    /* mw: may write */
	LX_VM_ME = 1ULL << 6,	    /* me: may execute */
	LX_VM_MS = 1ULL << 7,	    /* ms: may share */
	LX_VM_GD = 1ULL << 8,	    /* gd: grows down (MAP_GROWSDOWN, the main stack) */
	LX_VM_PF = 1ULL << 9,	    /* pf: pure PFN range (VM_PFNMAP) */
	LX_VM_LO = 1ULL << 10,	    /* lo: locked (mlock) */
	LX_VM_IO = 1ULL << 11,	    /* io: memory-mapped I/O */
	LX_VM_SR = 1ULL << 12,	    /* sr: MADV_SEQUENTIAL */
	LX_VM_RR = 1ULL << 13,	    /* rr: MADV_RANDOM */
	LX_VM_DC = 1ULL << 14,	    /* dc: MADV_DONTFORK */
	LX_VM_DE = 1ULL << 15,	    /* de: do not expand (mremap) */
	LX_VM_AC = 1ULL << 16,	    /* ac: accounted */
	LX_VM_NR = 1ULL << 17,	    /* nr: MAP_NORESERVE */
	LX_VM_HT = 1ULL << 18,	    /* ht: hugetlb */
	LX_VM_SF = 1ULL << 19,	    /* sf: MAP_SYNC */
	LX_VM_AR = 1ULL << 20,	    /* ar: architecture specific */
	LX_VM_WF = 1ULL << 21,	    /* wf: MADV_WIPEONFORK */
	LX_VM_DD = 1ULL << 22,	    /* dd: MADV_DONTDUMP */
	LX_VM_BT = 1ULL << 23,	    /* bt: arm64 BTI guarded */
	LX_VM_SD = 1ULL << 24,	    /* sd: soft-dirty (never on kernels without soft-dirty) */
	LX_VM_MM = 1ULL << 25,	    /* mm: mixed map */
	LX_VM_HG = 1ULL << 26,	    /* hg: MADV_HUGEPAGE */
	LX_VM_NH = 1ULL << 27,	    /* nh: MADV_NOHUGEPAGE */
	LX_VM_MG = 1ULL << 28,	    /* mg: MADV_MERGEABLE (KSM) */
	LX_VM_UM = 1ULL << 29,	    /* um: userfaultfd missing tracking */
	LX_VM_UW = 1ULL << 30,	    /* uw: userfaultfd write-protect tracking */
	LX_VM_UI = 1ULL << 31,	    /* ui: userfaultfd minor faults */
	LX_VM_LF = 1ULL << 32,	    /* lf: MLOCK_ONFAULT */
	LX_VM_SS = 1ULL << 33,	    /* ss: shadow stack */
	LX_VM_SL = 1ULL << 34,	    /* sl: sealed (mseal) */
	LX_VM_DP = 1ULL << 35,	    /* dp: MAP_DROPPABLE */
	LX_VM_MT = 1ULL << 36,	    /* mt: arm64 MTE */
	LX_VM_UNKNOWN = 1ULL << 63, /* a mnemonic this table does not know */
};

struct lx_area {
	uint64_t start, end; /* [start, end), page aligned */
	int prot;	     /* PROT_READ | PROT_WRITE | PROT_EXEC of the perms column */
	bool shared;	     /* 's' in perms (MAP_SHARED), else 'p' */
	bool deleted;	     /* the path ended in " (deleted)" (stripped from ->path) */
	enum lx_area_kind kind;
	uint64_t offset; /* file offset of start (bytes) */
	unsigned int dev_major, dev_minor;
	uint64_t inode;	   /* 0 for anonymous areas */
	char *path;	   /* path column without " (deleted)"; NULL when empty */
	char *name;	   /* memfd name, prctl name of [anon:NAME]/[anon_shmem:NAME]; or NULL */
	uint32_t sysv_key; /* LX_AREA_SYSV: the IPC key */
	uint64_t vmflags;  /* LX_VM_* (smaps only) */
	uint64_t rss_kb, anon_kb, swap_kb; /* smaps Rss, Anonymous, Swap (smaps only) */
};

struct lx_memmap {
	struct lx_area *areas; /* sorted by address, as the kernel prints them */
	size_t n;
	bool have_smaps; /* VmFlags and counters are filled */
};

/* True for the areas backed by the kernel's internal shmem (shared anonymous, memfd, SysV shm):
 * their identity is (dev, inode), the same in every process that maps the object. */
bool lx_area_is_shmem(const struct lx_area *a);

/* True for an area without a file behind it (private or shared anonymous, heap, stack). */
bool lx_area_is_anon(const struct lx_area *a);

/* Parses the text of /proc/PID/maps or smaps; shmem_dev is the device of the kernel's internal
 * shmem mount (lx_shmem_dev()). Returns 0 with *m filled (free with lx_memmap_free), or -1. */
int lx_memmap_parse(const char *text, dev_t shmem_dev, struct lx_memmap *m, ferry_err_t *err);

/* Reads /proc/PID/smaps (with_smaps) or /proc/PID/maps; returns 0 with *m filled, or -1. */
int lx_memmap_read(pid_t pid, bool with_smaps, struct lx_memmap *m, ferry_err_t *err);

/* Frees the areas of m and zeroes it; accepts a zeroed m. */
void lx_memmap_free(struct lx_memmap *m);

/* Returns the device of the kernel's internal shmem mount (that of a memfd), or 0 if unknown. */
dev_t lx_shmem_dev(void);

/* Returns the area that contains addr, or NULL. */
const struct lx_area *lx_memmap_find(const struct lx_memmap *m, uint64_t addr);

#endif

// SPDX-License-Identifier: Apache-2.0
/* madvise [DIR]: areas with madvise flags, each holding a pattern: MADV_DONTDUMP (left out of core
 * dumps, as secret keys, guest memory or thread stacks are: a restore must still bring it back),
 * MADV_DONTFORK, MADV_WIPEONFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_RANDOM, MADV_SEQUENTIAL,
 * and one locked with mlock; prints READY. On SIGUSR1 it checks every area's pattern and that
 * /proc/self/smaps still shows its flag, prints PASS or FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define AREA_PAGES 64
#define PAGE 4096
#define MLOCKED -1 /* not an advice: mlock */

static const struct {
	int advice;
	const char *flag; /* its VmFlags mnemonic in smaps */
} advice[] = {
    {MADV_DONTDUMP, "dd"},   {MADV_DONTFORK, "dc"}, {MADV_WIPEONFORK, "wf"}, {MADV_HUGEPAGE, "hg"},
    {MADV_NOHUGEPAGE, "nh"}, {MADV_RANDOM, "rr"},   {MADV_SEQUENTIAL, "sr"}, {MLOCKED, "lo"},
};
#define N_AREAS (sizeof(advice) / sizeof(advice[0]))

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static uint64_t word_of(size_t area, size_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ull ^ (area + 1) * 0x0123456789abcdefull;
}

/* Whether the smaps entry of the area starting at start lists flag in its VmFlags. */
static int has_flag(uintptr_t start, const char *flag)
{
	char line[512], head[32];
	int in = 0, found = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return 0;
	snprintf(head, sizeof(head), "%lx-", (unsigned long)start);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, head, strlen(head)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			for (char *t = strtok(line + 8, " \n"); t; t = strtok(NULL, " \n"))
				found = found || !strcmp(t, flag);
			break;
		}
	}
	fclose(f);
	return found;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	uint64_t *area[N_AREAS];

	for (size_t a = 0; a < N_AREAS; a++) {
		/* a page of PROT_NONE between the areas keeps the kernel from merging them */
		uint8_t *p = mmap(NULL, (AREA_PAGES + 1) * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || mprotect(p + AREA_PAGES * PAGE, PAGE, PROT_NONE) < 0 ||
		    (advice[a].advice == MLOCKED
			 ? mlock(p, AREA_PAGES * PAGE)
			 : madvise(p, AREA_PAGES * PAGE, advice[a].advice)) < 0) {
			printf("FAIL area %s: %m\n", advice[a].flag);
			return 1;
		}
		area[a] = (uint64_t *)p;
		for (size_t i = 0; i < AREA_PAGES * PAGE / 8; i++)
			area[a][i] = word_of(a, i);
	}
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	for (size_t a = 0; a < N_AREAS; a++) {
		for (size_t i = 0; i < AREA_PAGES * PAGE / 8; i++)
			if (area[a][i] != word_of(a, i)) {
				printf("FAIL area %s: word %zu is %#llx\n", advice[a].flag, i,
				       (unsigned long long)area[a][i]);
				return 1;
			}
		if (!has_flag((uintptr_t)area[a], advice[a].flag)) {
			printf("FAIL area %s: the flag is gone from smaps\n", advice[a].flag);
			return 1;
		}
	}
	printf("PASS %zu areas, their contents and flags\n", N_AREAS);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* madvise [DIR]: memory areas with flags of their own, each holding a pattern: advised
 * MADV_DONTDUMP (left out of core dumps, as secret keys, guest memory or thread stacks are: a
 * restore must still bring it back), MADV_DONTFORK, MADV_WIPEONFORK, MADV_HUGEPAGE,
 * MADV_NOHUGEPAGE, MADV_RANDOM or MADV_SEQUENTIAL; locked with mlock; and a sparse reservation of
 * 1 TiB mapped MAP_NORESERVE (as sanitizers and runtimes make: without the flag no such mapping
 * fits), three of its pages written. Prints READY. On SIGUSR1 it checks every area's pattern and
 * that /proc/self/smaps still shows its flag, prints PASS or FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define AREA_PAGES 64
#define PAGE 4096
#define MLOCKED -1   /* not an advice: mlock */
#define NORESERVE -2 /* not an advice: a reservation mapped MAP_NORESERVE */
#define RESERVED (1ULL << 40)

static const struct {
	int advice;
	const char *flag; /* its VmFlags mnemonic in smaps */
} advice[] = {
    {MADV_DONTDUMP, "dd"},   {MADV_DONTFORK, "dc"},   {MADV_WIPEONFORK, "wf"},
    {MADV_HUGEPAGE, "hg"},   {MADV_NOHUGEPAGE, "nh"}, {MADV_RANDOM, "rr"},
    {MADV_SEQUENTIAL, "sr"}, {MLOCKED, "lo"},	      {NORESERVE, "nr"},
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

/* The pages of area a holding the pattern: every page, or three of the reservation's. */
static size_t n_pages(size_t a)
{
	return advice[a].advice == NORESERVE ? 3 : AREA_PAGES;
}

static uint64_t *page(uint8_t *base, size_t a, size_t k)
{
	size_t last = RESERVED / PAGE - 1;

	if (advice[a].advice != NORESERVE)
		return (uint64_t *)(base + k * PAGE);
	return (uint64_t *)(base + (k == 0 ? 0 : k == 1 ? last / 2 : last) * PAGE);
}

/* Maps area a (a page of PROT_NONE after it keeps the kernel from merging it with the next),
 * gives it its flag and fills its pages; returns its start or NULL. */
static uint8_t *make_area(size_t a)
{
	int noreserve = advice[a].advice == NORESERVE;
	size_t len = noreserve ? RESERVED : AREA_PAGES * PAGE;
	uint8_t *p = mmap(NULL, len + PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0), -1, 0);

	if (p == MAP_FAILED || mprotect(p + len, PAGE, PROT_NONE) < 0)
		return NULL;
	if (advice[a].advice == MLOCKED && mlock(p, len) < 0)
		return NULL;
	if (advice[a].advice >= 0 && madvise(p, len, advice[a].advice) < 0)
		return NULL;
	for (size_t k = 0; k < n_pages(a); k++)
		for (size_t i = 0; i < PAGE / 8; i++)
			page(p, a, k)[i] = word_of(a, k * PAGE / 8 + i);
	return p;
}

/* Checks area a's pattern and flag; returns 0 or -1 (printed). */
static int check_area(uint8_t *p, size_t a)
{
	for (size_t k = 0; k < n_pages(a); k++)
		for (size_t i = 0; i < PAGE / 8; i++)
			if (page(p, a, k)[i] != word_of(a, k * PAGE / 8 + i)) {
				printf("FAIL area %s: page %zu word %zu is %#llx\n", advice[a].flag,
				       k, i, (unsigned long long)page(p, a, k)[i]);
				return -1;
			}
	if (!has_flag((uintptr_t)p, advice[a].flag)) {
		printf("FAIL area %s: the flag is gone from smaps\n", advice[a].flag);
		return -1;
	}
	return 0;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	uint8_t *area[N_AREAS];

	for (size_t a = 0; a < N_AREAS; a++)
		if (!(area[a] = make_area(a))) {
			printf("FAIL area %s: %m\n", advice[a].flag);
			return 1;
		}
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		nanosleep(&step, NULL);
	for (size_t a = 0; a < N_AREAS; a++)
		if (check_area(area[a], a) < 0)
			return 1;
	printf("PASS %zu areas, their contents and flags\n", N_AREAS);
	return 0;
}

// SPDX-License-Identifier: Apache-2.0
/* memory MIB: fills MIB MiB of anonymous memory with pseudo-random data, keeps its checksum,
 * prints READY and waits; on SIGUSR1 it sums the memory again and prints PASS or FAIL (exit 0 or
 * 1). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static uint64_t sum(const uint64_t *v, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ v[i]) * 1099511628211ull;
	return h;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256, n = mib << 17;
	uint64_t x = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid(), want;
	uint64_t *v = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sigset_t none;

	if (v == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i] = x;
	}
	want = sum(v, n);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&none);
	printf("READY\n");
	fflush(stdout);
	while (!verify)
		sigsuspend(&none);
	if (sum(v, n) != want) {
		printf("FAIL checksum of %zu MiB\n", mib);
		return 1;
	}
	printf("PASS %zu MiB\n", mib);
	return 0;
}

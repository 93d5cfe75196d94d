// SPDX-License-Identifier: Apache-2.0
/* counter FILE: counts in memory, about every millisecond, and writes the count to FILE (at offset
 * 0, fixed width) after each step; keeps a shadow copy to check its memory. Prints READY once
 * counting; on SIGUSR1 it checks the count against its shadow and that the count never went back,
 * prints "PASS <count>" or "FAIL ..." and exits 0 or 1. A harness tells a restored counter
 * continued from its checkpointed value by reading FILE before the dump and after the restore. */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

int main(int argc, char **argv)
{
	struct timespec step = {0, 1000000};
	volatile uint64_t count = 0, shadow = ~(uint64_t)0;
	uint64_t last_written = 0;
	char line[32];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: counter FILE\n");
		return 2;
	}
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	while (!verify) {
		if (shadow != ~count || count < last_written) {
			printf("FAIL count %llu shadow %llx\n", (unsigned long long)count,
			       (unsigned long long)shadow);
			return 1;
		}
		count++;
		shadow = ~count;
		snprintf(line, sizeof(line), "%020llu\n", (unsigned long long)count);
		if (pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line)) {
			printf("FAIL write: %m\n");
			return 1;
		}
		last_written = count;
		nanosleep(&step, NULL);
	}
	if (shadow != ~count) {
		printf("FAIL count %llu shadow %llx\n", (unsigned long long)count,
		       (unsigned long long)shadow);
		return 1;
	}
	printf("PASS %llu\n", (unsigned long long)count);
	return 0;
}

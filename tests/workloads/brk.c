// SPDX-License-Identifier: Apache-2.0
/* brk [DIR]: grows the heap with sbrk by 1 MiB and fills it with a pattern, prints READY. On
 * SIGUSR1 it checks that the break is where it was and the old heap is intact, grows it by another
 * 4 MiB (and checks the new memory is zero and writable), shrinks it back by 2 MiB, checks the old
 * contents again, prints PASS or FAIL and exits 0 or 1. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define OLD_SIZE (1u << 20)
#define NEW_SIZE (4u << 20)

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static uint64_t word_of(size_t i)
{
	return i * 0x9e3779b97f4a7c15ull ^ 0x0123456789abcdefull;
}

static int check_old(const uint64_t *heap)
{
	for (size_t i = 0; i < OLD_SIZE / 8; i++)
		if (heap[i] != word_of(i)) {
			printf("FAIL old heap word %zu\n", i);
			return -1;
		}
	return 0;
}

/* Grows the heap after the restore, uses and shrinks it; returns 0 or -1 (printed). */
static int grow(void *end)
{
	uint8_t *more = sbrk(NEW_SIZE);

	if (more == (void *)-1) {
		printf("FAIL sbrk(%u) after the checkpoint: %m\n", NEW_SIZE);
		return -1;
	}
	if ((void *)more != end) {
		printf("FAIL the new heap starts at %p, not at the break %p\n", (void *)more, end);
		return -1;
	}
	for (size_t i = 0; i < NEW_SIZE; i += 4096)
		if (more[i]) {
			printf("FAIL new heap memory is not zero at +%zu\n", i);
			return -1;
		}
	for (size_t i = 0; i < NEW_SIZE; i++)
		more[i] = (uint8_t)i;
	for (size_t i = 0; i < NEW_SIZE; i++)
		if (more[i] != (uint8_t)i) {
			printf("FAIL new heap byte %zu\n", i);
			return -1;
		}
	if (sbrk(-(intptr_t)(NEW_SIZE / 2)) == (void *)-1 ||
	    sbrk(0) != (void *)(more + NEW_SIZE / 2)) {
		printf("FAIL shrinking the heap: %m\n");
		return -1;
	}
	return 0;
}

int main(void)
{
	struct timespec step = {0, 1000000};
	uint64_t *heap;
	void *end;

	heap = sbrk(OLD_SIZE);
	if (heap == (void *)-1) {
		printf("FAIL sbrk: %m\n");
		return 1;
	}
	for (size_t i = 0; i < OLD_SIZE / 8; i++)
		heap[i] = word_of(i);
	signal(SIGUSR1, on_usr1);
	printf("READY\n");
	fflush(stdout);
	end = sbrk(0); /* after stdio's buffer took its part of the heap */
	while (!verify)
		nanosleep(&step, NULL);
	if (sbrk(0) != end) {
		printf("FAIL the break is %p, was %p\n", sbrk(0), end);
		return 1;
	}
	if (check_old(heap) < 0 || grow(end) < 0 || check_old(heap) < 0)
		return 1;
	printf("PASS break %p\n", sbrk(0));
	return 0;
}

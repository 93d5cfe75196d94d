// SPDX-License-Identifier: Apache-2.0
/* fpu [DIR]: keeps values in the vector registers across the checkpoint. In blocks of a few
 * milliseconds, an assembly loop holds 16 ymm registers (and, with AVX-512, zmm16-31 and the mask
 * registers k1-k7) live, adding an increment each round, then stores them; the result is checked
 * against the arithmetic. The rounding mode is upward (x87 control word and MXCSR), checked with
 * long double and double divisions. Prints READY once running; on SIGUSR1 it finishes its block,
 * checks everything, prints "PASS <blocks>" or "FAIL ..." and exits 0 or 1. */
#define _GNU_SOURCE
#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ITERS 1000000ull

static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

#define R4(op, a, b, c, d) op(a) op(b) op(c) op(d)
#define R16(op) R4(op, 0, 1, 2, 3) R4(op, 4, 5, 6, 7) R4(op, 8, 9, 10, 11) R4(op, 12, 13, 14, 15)
#define Z16(op) \
	R4(op, 16, 17, 18, 19) R4(op, 20, 21, 22, 23) R4(op, 24, 25, 26, 27) R4(op, 28, 29, 30, 31)
#define YLOAD(i) "vmovdqu " #i "*32(%[in]), %%ymm" #i "\n\t"
#define YSTORE(i) "vmovdqu %%ymm" #i ", " #i "*32(%[out])\n\t"
#define YADD(i) "vpaddq %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
#define ZLOAD(i) "vmovdqu64 (" #i "-16)*64(%[in]), %%zmm" #i "\n\t"
#define ZSTORE(i) "vmovdqu64 %%zmm" #i ", (" #i "-16)*64(%[out])\n\t"
#define ZADD(i) "vpaddq %%zmm31, %%zmm" #i ", %%zmm" #i "\n\t"

/* ymm0-14 += ymm15, n times, all in registers. */
static void ymm_block(const uint64_t in[16][4], uint64_t out[16][4], uint64_t n)
{
	__asm__ volatile(
	    R16(YLOAD) "1:\n\t" R4(YADD, 0, 1, 2, 3) R4(YADD, 4, 5, 6, 7) R4(YADD, 8, 9, 10, 11)
		YADD(12) YADD(13) YADD(14) "dec %[n]\n\t"
					   "jnz 1b\n\t" R16(YSTORE) "vzeroupper\n\t"
	    : [n] "+r"(n)
	    : [in] "r"(in), [out] "r"(out)
	    : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
	      "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* zmm16-30 += zmm31 and k1-7 kept, n times; masks in and out through kin/kout. */
__attribute__((target("avx512f"))) static void zmm_block(const uint64_t in[16][8],
							 uint64_t out[16][8], const uint16_t kin[8],
							 uint16_t kout[8], uint64_t n)
{
	__asm__ volatile(
	    Z16(ZLOAD) "kmovw 2(%[kin]), %%k1\n\t"
		       "kmovw 4(%[kin]), %%k2\n\t"
		       "kmovw 6(%[kin]), %%k3\n\t"
		       "kmovw 8(%[kin]), %%k4\n\t"
		       "kmovw 10(%[kin]), %%k5\n\t"
		       "kmovw 12(%[kin]), %%k6\n\t"
		       "kmovw 14(%[kin]), %%k7\n\t"
		       "1:\n\t" R4(ZADD, 16, 17, 18, 19) R4(ZADD, 20, 21, 22, 23)
			   R4(ZADD, 24, 25, 26, 27) ZADD(28) ZADD(29)
			       ZADD(30) "dec %[n]\n\t"
					"jnz 1b\n\t" Z16(ZSTORE) "kmovw %%k1, 2(%[kout])\n\t"
								 "kmovw %%k2, 4(%[kout])\n\t"
								 "kmovw %%k3, 6(%[kout])\n\t"
								 "kmovw %%k4, 8(%[kout])\n\t"
								 "kmovw %%k5, 10(%[kout])\n\t"
								 "kmovw %%k6, 12(%[kout])\n\t"
								 "kmovw %%k7, 14(%[kout])\n\t"
								 "vzeroupper\n\t"
	    : [n] "+r"(n)
	    : [in] "r"(in), [out] "r"(out), [kin] "r"(kin), [kout] "r"(kout)
	    : "memory", "cc", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22",
	      "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "k1",
	      "k2", "k3", "k4", "k5", "k6", "k7");
}

static uint64_t seed_of(uint64_t block, int reg, int lane)
{
	return (block + 1) * 0x9e3779b97f4a7c15ull ^ ((uint64_t)reg << 48) ^ ((uint64_t)lane << 40);
}

/* One ymm block; returns 0 or -1 (printed). */
static int run_ymm(uint64_t block)
{
	uint64_t in[16][4], out[16][4];

	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 4; l++)
			in[r][l] = seed_of(block, r, l);
	memset(out, 0, sizeof(out));
	ymm_block(in, out, ITERS);
	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 4; l++) {
			uint64_t want = r == 15 ? in[r][l] : in[r][l] + ITERS * in[15][l];

			if (out[r][l] != want) {
				printf("FAIL block %llu: ymm%d lane %d %llx, want %llx\n",
				       (unsigned long long)block, r, l,
				       (unsigned long long)out[r][l], (unsigned long long)want);
				return -1;
			}
		}
	return 0;
}

/* One zmm block (AVX-512); returns 0 or -1 (printed). */
static int run_zmm(uint64_t block)
{
	uint64_t in[16][8], out[16][8];
	uint16_t kin[8], kout[8];

	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 8; l++)
			in[r][l] = seed_of(block, r + 16, l);
	for (int k = 0; k < 8; k++)
		kin[k] = (uint16_t)(block * 31 + (uint64_t)k * 0x1111), kout[k] = 0;
	memset(out, 0, sizeof(out));
	zmm_block(in, out, kin, kout, ITERS);
	for (int k = 1; k < 8; k++)
		if (kout[k] != kin[k]) {
			printf("FAIL block %llu: k%d %x, want %x\n", (unsigned long long)block, k,
			       kout[k], kin[k]);
			return -1;
		}
	for (int r = 0; r < 16; r++)
		for (int l = 0; l < 8; l++) {
			uint64_t want = r == 15 ? in[r][l] : in[r][l] + ITERS * in[15][l];

			if (out[r][l] != want) {
				printf("FAIL block %llu: zmm%d lane %d\n",
				       (unsigned long long)block, r + 16, l);
				return -1;
			}
		}
	return 0;
}

static volatile long double ld_one = 1, ld_three = 3;
static volatile double d_one = 1, d_three = 3;

/* The upward rounding mode in x87 and SSE (1/3 rounded up and down differ in the last bit). */
static int check_rounding(long double ld_up, double d_up)
{
	uint16_t cw;
	uint32_t csr;

	__asm__ volatile("fnstcw %0" : "=m"(cw));
	__asm__ volatile("stmxcsr %0" : "=m"(csr));
	if (fegetround() != FE_UPWARD || ((cw >> 10) & 3) != 2 || ((csr >> 13) & 3) != 2) {
		printf("FAIL rounding mode: x87 cw %#x, mxcsr %#x\n", cw, csr);
		return -1;
	}
	if (ld_one / ld_three != ld_up || d_one / d_three != d_up) {
		printf("FAIL long double or double division rounds differently\n");
		return -1;
	}
	return 0;
}

int main(void)
{
	int zmm = __builtin_cpu_supports("avx512f");
	long double ld_up;
	double d_up;
	uint64_t block = 0;

	if (!__builtin_cpu_supports("avx")) {
		printf("FAIL no AVX on this CPU\n");
		return 1;
	}
	fesetround(FE_UPWARD);
	ld_up = ld_one / ld_three;
	d_up = d_one / d_three;
	fesetround(FE_DOWNWARD);
	if (ld_one / ld_three == ld_up || d_one / d_three == d_up) {
		printf("FAIL the rounding modes give the same quotient\n");
		return 1;
	}
	fesetround(FE_UPWARD);
	signal(SIGUSR1, on_usr1);
	printf("READY%s\n", zmm ? " avx512" : "");
	fflush(stdout);
	while (!verify) {
		if (run_ymm(block) < 0 || (zmm && run_zmm(block) < 0) ||
		    check_rounding(ld_up, d_up) < 0)
			return 1;
		block++;
	}
	if (run_ymm(block) < 0 || (zmm && run_zmm(block) < 0) || check_rounding(ld_up, d_up) < 0)
		return 1;
	printf("PASS %llu blocks%s\n", (unsigned long long)block + 1, zmm ? " with avx512" : "");
	return 0;
}

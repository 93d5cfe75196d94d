// SPDX-License-Identifier: Apache-2.0
/* The keys of the folding CRC32C the injected code runs (parasite/crc_fold.h): powers of x modulo
 * the Castagnoli polynomial (image_crc32c_xpow); and whether this CPU and kernel can run it. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "image/image.h"
#include "os/linux/parasite/crc_fold.h"

/* x^e mod P as a reflected 64-bit operand (bit j: x^(63-j)): in its upper half. */
static uint64_t key(uint64_t e)
{
	return (uint64_t)image_crc32c_xpow(e) << 32;
}

/* A fold over d bits takes a 128-bit lane L*x^64 + H to H*x^(d+64) + L*x^d (L: the low,
 * earlier, 64 bits). A reflected carry-less product of 64-bit operands comes out one degree
 * short in the 128-bit lane, hence the keys x^(d+63) and x^(d-1). */
static void pair(uint64_t k[2], uint64_t d)
{
	k[0] = key(d + 63);
	k[1] = key(d - 1);
}

void crc_fold_keys_init(struct crc_fold_keys *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 3; i++)
		pair(&k->lanes[2 * i], 8 * (48 - 16 * i));
	pair(k->k256, 8 * 256);
	pair(k->k128, 8 * 128);
	pair(k->k64, 8 * 64);
}

#if defined(__x86_64__)
static uint64_t xcr0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

bool crc_fold_usable(void)
{
	/* XCR0: SSE, AVX, opmask, upper halves of ZMM0-15, ZMM16-31 */
	const uint64_t xstate = 1u << 1 | 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7;
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	if (!(c & bit_PCLMUL) || !(c & bit_SSE4_2) || !(c & bit_OSXSAVE))
		return false;
	if ((xcr0() & xstate) != xstate)
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & bit_AVX512F) && (b & bit_AVX512VL) && (b & bit_AVX512BW) &&
	       (c & bit_VPCLMULQDQ);
}
#else
bool crc_fold_usable(void)
{
	return false;
}
#endif

// SPDX-License-Identifier: Apache-2.0
/* The keys of the folding CRC32C the injected code runs (parasite/crc_fold.h): powers of x modulo
 * the Castagnoli polynomial (image_crc32c_xpow); and whether this CPU and kernel can run it. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
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
bool crc_fold_usable(void)
{
	/* What the compiler's runtime read once at start (a cpuid traps to the hypervisor on a VM,
	 * at tens of microseconds each); its AVX-512 features count only when XCR0 shows the OS
	 * saves those registers. */
	__builtin_cpu_init();
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.2") &&
	       __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("vpclmulqdq");
}
#else
bool crc_fold_usable(void)
{
	return false;
}
#endif

// SPDX-License-Identifier: Apache-2.0
/* CRC32C by folding (see crc_fold.h): four 512-bit registers, each four 128-bit lanes, carry 256
 * bytes of the message; each step multiplies every lane by x^2048 (mod P, carry-less, in two
 * 64-bit halves) and adds the next 256 bytes. At the end the registers are folded onto one, its
 * lanes onto the last, and the 128 bits left are the CRC register's worth: two crc32q turn them
 * into it. Only the arithmetic: every constant comes from the keys, no data of its own, no call;
 * it builds freestanding (the injected code) and hosted. The target attribute lets a hosted file
 * build it without -mavx512f and the like. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>

#include "crc_fold.h"

#define CRC_FOLD_TARGET "avx512f,avx512vl,avx512bw,vpclmulqdq,pclmul,sse4.2"

/* x carried over D bits (k: the pair for D, in every lane), plus d. */
__attribute__((target(CRC_FOLD_TARGET))) static inline __m512i fold(__m512i x, __m512i k, __m512i d)
{
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
					 _mm512_clmulepi64_epi128(x, k, 0x11), d, 0x96);
}

__attribute__((target(CRC_FOLD_TARGET))) static inline __m512i load(const uint8_t *p)
{
	return _mm512_loadu_si512((const void *)p);
}

__attribute__((target(CRC_FOLD_TARGET))) static inline __m512i pair(const uint64_t k[2])
{
	return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)k));
}

__attribute__((target(CRC_FOLD_TARGET))) uint32_t
crc_fold(const struct crc_fold_keys *k, uint32_t reg, const uint8_t **p, uint64_t *len)
{
	const uint8_t *q = *p;
	uint64_t n = *len;
	__m512i a0, a1, a2, a3, key;
	__m256i y;
	__m128i x;
	uint64_t c;

	if (n < CRC_FOLD_MIN)
		return reg;
	/* the register enters as the first 32 bits of the message */
	a0 = _mm512_xor_si512(load(q), _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)reg)));
	if (n >= 256) {
		a1 = load(q + 64);
		a2 = load(q + 128);
		a3 = load(q + 192);
		q += 256;
		n -= 256;
		key = pair(k->k256);
		while (n >= 256) {
			a0 = fold(a0, key, load(q));
			a1 = fold(a1, key, load(q + 64));
			a2 = fold(a2, key, load(q + 128));
			a3 = fold(a3, key, load(q + 192));
			q += 256;
			n -= 256;
		}
		key = pair(k->k128);
		a2 = fold(a0, key, a2);
		a3 = fold(a1, key, a3);
		key = pair(k->k64);
		a0 = fold(a2, key, a3);
	} else {
		q += 64;
		n -= 64;
		key = pair(k->k64);
	}
	while (n >= 64) {
		a0 = fold(a0, key, load(q));
		q += 64;
		n -= 64;
	}
	/* lanes 0..2 onto lane 3 (its key is zero), then the four lanes summed */
	key = _mm512_loadu_si512((const void *)k->lanes);
	a1 = _mm512_xor_si512(_mm512_clmulepi64_epi128(a0, key, 0x00),
			      _mm512_clmulepi64_epi128(a0, key, 0x11));
	y = _mm256_xor_si256(_mm512_castsi512_si256(a1), _mm512_extracti64x4_epi64(a1, 1));
	x = _mm_ternarylogic_epi64(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1),
				   _mm512_extracti32x4_epi32(a0, 3), 0x96);
	/* 128 bits congruent to the whole: their CRC from a zero register is the register */
	c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(x));
	c = _mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(x, 1));
	*p = q;
	*len = n;
	return (uint32_t)c;
}
#endif

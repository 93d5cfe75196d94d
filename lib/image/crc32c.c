// SPDX-License-Identifier: Apache-2.0
/* CRC32C (Castagnoli, reflected polynomial 0x82f63b78): the image checksum. Table driven
 * (slicing by 8); on x86-64 the SSE4.2 crc32 instruction when the CPU has it. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "image/image.h"

static uint32_t table[8][256];
static bool table_ready;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	table_ready = true;
}

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t len)
{
	if (!table_ready)
		table_init();
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v ^= c; /* little-endian layout assumed: x86-64 and arm64 */
		c = table[7][v & 0xff] ^ table[6][(v >> 8) & 0xff] ^ table[5][(v >> 16) & 0xff] ^
		    table[4][(v >> 24) & 0xff] ^ table[3][(v >> 32) & 0xff] ^
		    table[2][(v >> 40) & 0xff] ^ table[1][(v >> 48) & 0xff] ^ table[0][v >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t c64 = c;

	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		len -= 8;
	}
	c = (uint32_t)c64;
	while (len--)
		c = __builtin_ia32_crc32qi(c, *p++);
	return c;
}

static bool have_hw(void)
{
	static int have = -1;

	if (have < 0)
		have = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	return have;
}
#else
static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
	return crc_soft(c, p, len);
}

static bool have_hw(void)
{
	return false;
}
#endif

#if defined(__linux__) && defined(__x86_64__)
#include <pthread.h>

#include "os/linux/parasite/crc_fold.h"

static struct crc_fold_keys fold_keys;
static bool fold_ok;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void fold_init(void)
{
	fold_ok = crc_fold_usable();
	if (fold_ok)
		crc_fold_keys_init(&fold_keys);
}

/* Folds what it can of [*p, *p + *len) into c with AVX-512 VPCLMULQDQ where the CPU has it. */
static uint32_t crc_wide(uint32_t c, const uint8_t **p, size_t *len)
{
	uint64_t n = *len;

	if (n < 256)
		return c;
	pthread_once(&fold_once, fold_init);
	if (!fold_ok)
		return c;
	c = crc_fold(&fold_keys, c, p, &n);
	*len = (size_t)n;
	return c;
}
#else
static uint32_t crc_wide(uint32_t c, const uint8_t **p, size_t *len)
{
	return c;
}
#endif

uint32_t image_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = crc_wide(~crc, &p, &len);

	c = have_hw() ? crc_hw(c, p, len) : crc_soft(c, p, len);
	return ~c;
}

uint32_t image_crc32c_mulmod(uint32_t a, uint32_t b)
{
	uint32_t p = 0;

	for (int i = 0; i < 32; i++, a <<= 1) {
		if (a & 0x80000000u)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return p;
}

uint32_t image_crc32c_xpow(uint64_t n)
{
	uint32_t xn = 0x80000000u, sq = 0x40000000u; /* 1 and x */

	for (; n; n >>= 1, sq = image_crc32c_mulmod(sq, sq))
		if (n & 1)
			xn = image_crc32c_mulmod(xn, sq);
	return xn;
}

uint32_t image_crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b)
{
	return image_crc32c_mulmod(crc_a, image_crc32c_xpow(8 * len_b)) ^ crc_b;
}

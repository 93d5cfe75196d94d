// SPDX-License-Identifier: Apache-2.0
/*
 * The folding CRC32C of the injected code (os/linux/parasite/crc_fold.c) equals CRC32C by the
 * SSE4.2 crc32 instruction alone (image_crc32c() itself folds where it can) for every length
 * 0..4096 at every alignment 0..63 and several starting checksums, for large random buffers, for
 * all-zero and all-0xff buffers, and chained over pieces; it takes what its header says (nothing
 * below CRC_FOLD_MIN, whole blocks, less than a block left) and leaves the register alone when it
 * takes nothing. Skipped on a CPU without AVX-512 VPCLMULQDQ.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "tap.h"

#if defined(__x86_64__)
/* crc_fold() as libferry builds it (lib/os/linux/crc_fold_host.c, for image_crc32c()); the same
 * source is the injected code's. */
#include <immintrin.h>

#include "os/linux/parasite/crc_fold.h"

static struct crc_fold_keys keys;
static int contract_bad; /* calls that took or left what they should not have */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(next() >> 56);
}

/* The rest of the message after crc_fold(), as the injected code finishes it. */
__attribute__((target("sse4.2"))) static uint32_t finish(uint32_t reg, const uint8_t *p,
							 uint64_t len)
{
	uint64_t c = reg;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
	}
	reg = (uint32_t)c;
	while (len--)
		reg = _mm_crc32_u8(reg, *p++);
	return reg;
}

/* The yardstick: CRC32C of [p, p + len) from crc by crc32 instructions only. */
static uint32_t reference(uint32_t crc, const uint8_t *p, size_t len)
{
	return ~finish(~crc, p, len);
}

/* CRC32C of [p, p + len) from crc through crc_fold(); checks what it took. */
static uint32_t fold_crc(uint32_t crc, const uint8_t *p, uint64_t len)
{
	const uint8_t *q = p;
	uint64_t n = len;
	uint32_t reg = crc_fold(&keys, ~crc, &q, &n);
	uint64_t took = len - n;

	if (n > len || q != p + took || took % CRC_FOLD_BLOCK ||
	    (len < CRC_FOLD_MIN ? took != 0 || reg != ~crc : n >= CRC_FOLD_BLOCK))
		contract_bad++;
	return ~finish(reg, q, n);
}

static void test_lengths(uint8_t *buf)
{
	static const uint32_t starts[] = {0, 0xffffffffu, 0x12345678u, 0x8a9136aau};

	fill_random(buf, 4096 + 64);
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		uint32_t crc = starts[s];
		unsigned bad = 0, first_len = 0, first_off = 0;

		contract_bad = 0;
		for (unsigned off = 0; off < 64; off++)
			for (unsigned len = 0; len <= 4096; len++) {
				if (fold_crc(crc, buf + off, len) == reference(crc, buf + off, len))
					continue;
				if (!bad++)
					first_len = len, first_off = off;
			}
		ok(!bad, "lengths 0..4096 at offsets 0..63 from crc %08x (%u wrong)", crc, bad);
		if (bad)
			diag("first wrong: %u bytes at offset %u", first_len, first_off);
		ok(!contract_bad, "from crc %08x: whole blocks taken, less than one left (%d not)",
		   crc, contract_bad);
	}
}

static void test_large(uint8_t *buf, size_t size)
{
	static const size_t lens[] = {1 << 20, (8 << 20) + 13};
	static const unsigned offs[] = {0, 1, 17, 63};

	fill_random(buf, size);
	contract_bad = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			uint32_t crc = (uint32_t)next();
			uint32_t got = fold_crc(crc, buf + offs[j], lens[i]);
			uint32_t want = reference(crc, buf + offs[j], lens[i]);

			ok(got == want,
			   "%zu random bytes at offset %u from crc %08x: %08x (want %08x)", lens[i],
			   offs[j], crc, got, want);
		}
	ok(!contract_bad, "large buffers: whole blocks taken, less than one left");
}

static void test_constant(uint8_t *buf)
{
	static const size_t lens[] = {64, 255, 256, 4096, 4096 + 64 + 7, (1 << 20) + 7};
	static const uint8_t bytes[] = {0x00, 0xff};
	static const uint32_t starts[] = {0, 0xffffffffu};

	for (size_t b = 0; b < 2; b++) {
		memset(buf, bytes[b], (1 << 20) + 64);
		for (size_t s = 0; s < 2; s++)
			for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				uint32_t got = fold_crc(starts[s], buf, lens[i]);
				uint32_t want = reference(starts[s], buf, lens[i]);

				ok(got == want, "%zu bytes of %02x from crc %08x: %08x (want %08x)",
				   lens[i], bytes[b], starts[s], got, want);
			}
	}
}

/* One checksum carried over pieces of every size, as the injected code carries it over ranges. */
static void test_chained(uint8_t *buf)
{
	size_t len = 1 << 20, at = 0;
	uint32_t crc = 0x0badcafe, want;

	fill_random(buf, len);
	want = reference(crc, buf, len);
	while (at < len) {
		size_t piece = (size_t)(next() % 9000);

		if (piece > len - at)
			piece = len - at;
		crc = fold_crc(crc, buf + at, piece);
		at += piece;
	}
	ok(crc == want, "1 MiB in random pieces: %08x (want %08x)", crc, want);
}

/* image_crc32c(), which folds what it can, gives the same checksums. */
static void test_image_crc(const uint8_t *buf, size_t size)
{
	static const size_t lens[] = {0, 1, 255, 256, 257, 4096, 65536 + 7, (1 << 20) + 3};
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]) && lens[i] + 5 <= size; i++)
		for (size_t off = 0; off < 5; off++)
			bad += image_crc32c(0x1234u, buf + off, lens[i]) !=
			       reference(0x1234u, buf + off, lens[i]);
	ok(!bad, "image_crc32c() equals the yardstick (%u wrong)", bad);
}

int main(void)
{
	size_t size = (8 << 20) + 13 + 64;
	uint8_t *buf;

	if (!crc_fold_usable()) {
		printf("1..0 # SKIP no AVX-512 VPCLMULQDQ (or not enabled by the kernel)\n");
		return 0;
	}
	crc_fold_keys_init(&keys);
	buf = aligned_alloc(64, (size + 63) / 64 * 64);
	if (!buf) {
		printf("Bail out! no memory\n");
		return 1;
	}
	test_lengths(buf);
	test_large(buf, size);
	test_constant(buf);
	test_chained(buf);
	test_image_crc(buf, size);
	free(buf);
	return done_testing();
}
#else
int main(void)
{
	printf("1..0 # SKIP x86-64 only\n");
	return 0;
}
#endif

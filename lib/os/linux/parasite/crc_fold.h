/* SPDX-License-Identifier: Apache-2.0 */
/* CRC32C (Castagnoli, reflected polynomial 0x82f63b78) by folding with carry-less multiplies on
 * 512-bit registers (AVX-512 VPCLMULQDQ): shared by the code injected into a dumped process
 * (freestanding, crc_fold.c) and ferry (hosted, which computes the keys: crc_fold_keys.c).
 *
 * The register is the CRC's raw state, with no pre- or post-inversion:
 *
 *	reg = ~crc;
 *	reg = crc_fold(&keys, reg, &p, &len);
 *	... the rest of [p, p + len) with crc32q / crc32b on reg ...
 *	crc = ~reg;
 */
#ifndef FERRY_PARASITE_CRC_FOLD_H
#define FERRY_PARASITE_CRC_FOLD_H

#include <stdbool.h>
#include <stdint.h>

/* crc_fold() takes nothing below CRC_FOLD_MIN bytes, else a multiple of CRC_FOLD_BLOCK bytes,
 * leaving fewer than CRC_FOLD_BLOCK. Its main loop runs over 256 bytes (4 x 64) at a time. */
#define CRC_FOLD_MIN 64
#define CRC_FOLD_BLOCK 64

/* The folding constants. Each pair is {x^(D+63) mod P, x^(D-1) mod P}, bit-reflected into the
 * upper 32 bits of a 64-bit word, for a fold over D bits: the first multiplies the low (earlier)
 * 64 bits of a 128-bit lane, the second its high 64 bits. Plain data, no pointers, fixed size: it
 * can be copied anywhere; the code loads it unaligned (alignment on 64 bytes only saves a split
 * load per call). */
struct crc_fold_keys {
	/* the four 128-bit lanes of the last 64 bytes onto the last one: D = 384, 256, 128 bits,
	 * then zero (the last lane is taken as it is) */
	uint64_t lanes[8];
	uint64_t k256[2]; /* D = 256 bytes: the main loop's four registers */
	uint64_t k128[2]; /* D = 128 bytes: the first two registers onto the last two */
	uint64_t k64[2];  /* D = 64 bytes: one register onto the next */
	uint64_t pad[2];
};

_Static_assert(sizeof(struct crc_fold_keys) == 128, "struct crc_fold_keys has a fixed size");

/* Folds as much of [*p, *p + *len) into the register reg as it can (see CRC_FOLD_MIN,
 * CRC_FOLD_BLOCK), advances *p and decreases *len by as much; returns the register. Needs
 * crc_fold_usable(); no alignment of *p. */
uint32_t crc_fold(const struct crc_fold_keys *k, uint32_t reg, const uint8_t **p, uint64_t *len);

/* Fills *k (ferry's side, lib/os/linux/crc_fold_keys.c). */
void crc_fold_keys_init(struct crc_fold_keys *k);

/* Whether this CPU and kernel run crc_fold(): AVX-512 F, VL and BW, VPCLMULQDQ, PCLMULQDQ,
 * SSE4.2, and the opmask and ZMM state enabled by the kernel (XCR0). */
bool crc_fold_usable(void);

#endif

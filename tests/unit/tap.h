/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal TAP producer for unit tests run under prove. */
#ifndef FERRY_TAP_H
#define FERRY_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                                              \
	do {                                                                                       \
		int _c = !!(cond);                                                                 \
		tap_n++;                                                                           \
		if (!_c)                                                                           \
			tap_failed++;                                                              \
		printf("%sok %d - ", _c ? "" : "not ", tap_n);                                     \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		if (!_c)                                                                           \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__);                           \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *_g = (got), *_w = (want);                                              \
		int _sc = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                             \
		ok(_sc, __VA_ARGS__);                                                              \
		if (!_sc)                                                                          \
			printf("#   got: '%s'\n#   expected: '%s'\n", _g ? _g : "(null)",            \
			       _w ? _w : "(null)");                                                \
	} while (0)

#define diag(...)                                                                                  \
	do {                                                                                       \
		printf("# ");                                                                      \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif

// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer entry for the config.json parser. Build and run, for example:
 *   clang -g -O1 -fsanitize=fuzzer,address -D_GNU_SOURCE -Iinclude -Ilib \
 *     tests/fuzz/spec_fuzz.c lib/core/spec*.c lib/core/error.c -ljansson -o spec_fuzz
 *   ./spec_fuzz -max_total_time=60
 * `make check` runs a short deterministic mutation run instead (tests/unit/spec_fuzz.c).
 */
#include <stddef.h>
#include <stdint.h>

#undef linux /* gnu11 predefines it; the spec model has a member of that name */
#include "ferry/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ferry_err_t err = NULL;
	struct ferry_spec *spec = ferry_spec_parse((const char *)data, size, "/bundle", &err);
	struct ferry_process proc;

	ferry_spec_free(spec);
	ferry_error_free(&err);
	if (ferry_spec_parse_process((const char *)data, size, &proc, &err) == 0)
		ferry_process_clear(&proc);
	ferry_error_free(&err);
	return 0;
}

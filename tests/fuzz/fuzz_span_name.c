// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for span_name.c.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *         user/span_name.c tests/fuzz/fuzz_span_name.c -o fuzz_span_name
 *
 * Input: byte 0 picks the output cap, byte 1 the method length, the rest is
 * method then request target.  Method and target are copied to buffers of
 * exactly their size so any over-read is reported by AddressSanitizer.
 * Besides memory errors it checks the contract: NUL-terminated, printable
 * ASCII, length returned, cut output a prefix of the uncut one, path a
 * slice of the target (or the static "/").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "span/span_name.h"

#define FUZZ_FULL_CAP 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char full[FUZZ_FULL_CAP];
	char *out, *method, *target;
	size_t cap, method_len, target_len, n, full_len, path_len;
	const char *path;

	if (size < 2)
		return 0;
	cap = data[0];
	method_len = data[1] <= size - 2 ? data[1] : size - 2;
	target_len = size - 2 - method_len;
	method = malloc(method_len ? method_len : 1);
	target = malloc(target_len ? target_len : 1);
	out = malloc(cap ? cap : 1);
	if (!method || !target || !out)
		abort();
	memcpy(method, data + 2, method_len);
	memcpy(target, data + 2 + method_len, target_len);

	n = span_name_http(out, cap, method, method_len, target, target_len);
	full_len = span_name_http(full, sizeof(full), method, method_len, target, target_len);
	if (cap == 0 ? n != 0 : (n >= cap || out[n] != '\0' || strlen(out) != n))
		abort();
	if (full_len != strlen(full))
		abort();
	for (size_t i = 0; i < full_len; i++)
		if (full[i] < 0x20 || full[i] > 0x7e)
			abort();
	/* While the full name fits, the cut one is its prefix. */
	if (full_len < sizeof(full) - 1 &&
	    (n != (full_len < cap ? full_len : (cap ? cap - 1 : 0)) || memcmp(out, full, n) != 0))
		abort();

	span_http_path(target, target_len, &path, &path_len);
	if (!(path_len == 1 && path[0] == '/') &&
	    (path < target || path + path_len > target + target_len || path_len == 0))
		abort();

	free(out);
	free(method);
	free(target);
	return 0;
}

/*
 * libFuzzer target for user/view/raw_mask.c, the secrets hidden from --raw.
 *
 * Input: one byte picking the protocol (enum raw_mask_proto, modulo 4), one
 * byte picking a split point, a skip length and a dump limit, then the bytes
 * of one direction of a stream. Besides memory errors (ASan/UBSan, exact-size
 * heap copies), it checks the contracts: every byte shown is the input's or
 * '*'; nothing is masked for an unknown protocol, nor CR or LF in HTTP/1;
 * HTTP/1 and Redis mask the same bytes whatever the chunks (whole, split in
 * two, byte by byte), as their walkers keep their place across chunks; a
 * shorter dump is the start of the longer one.
 *
 *   ./build/fuzz/fuzz_raw_mask tests/fuzz/corpus/raw_mask
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "view/raw_mask.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)
/* Byte-by-byte feeding is quadratic in libFuzzer's eyes: short inputs only. */
#define FUZZ_BYTEWISE_MAX 4096

/* s masked in chunks ending at cuts[0..n) (the last is len) into out. */
static void feed(enum raw_mask_proto p, const uint8_t *s, const size_t *cuts, size_t n, uint8_t *out)
{
	struct raw_mask_state st = { 0 };
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = cuts[i] - from;
		uint8_t *a = malloc(len ? len : 1);

		CHECK(a);
		memcpy(a, s + from, len);
		raw_mask(&st, p, a, len, out + from, len);
		free(a);
		from = cuts[i];
	}
}

static void check_shown(enum raw_mask_proto p, const uint8_t *s, const uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		CHECK(out[i] == s[i] || out[i] == '*');
		CHECK(p != RAW_MASK_NONE || out[i] == s[i]);
		CHECK(p != RAW_MASK_HTTP1 || (s[i] != '\r' && s[i] != '\n') || out[i] == s[i]);
	}
}

/* A prefix, n bytes skipped, the rest: whatever the walkers do, only the
 * input's bytes or '*', within the buffers. */
static void skip_then_feed(enum raw_mask_proto p, const uint8_t *s, size_t len, size_t cut, uint64_t n)
{
	struct raw_mask_state st = { 0 };
	uint8_t *out = malloc(len ? len : 1);

	CHECK(out);
	raw_mask(&st, p, s, cut, out, cut);
	raw_mask_skip(&st, p, n);
	raw_mask(&st, p, s + cut, len - cut, out + cut, len - cut);
	check_shown(p, s, out, len);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum raw_mask_proto p;
	size_t len, cuts[2], *bytes, limit;
	uint8_t *s, *whole, *other, seed;

	if (size < 2)
		return 0;
	p = (enum raw_mask_proto)(data[0] % 4);
	seed = data[1];
	len = size - 2;
	s = malloc(len ? len : 1);
	whole = malloc(len ? len : 1);
	other = malloc(len ? len : 1);
	CHECK(s && whole && other);
	memcpy(s, data + 2, len);

	cuts[0] = len;
	feed(p, s, cuts, 1, whole);
	check_shown(p, s, whole, len);
	if (len > 1) {
		cuts[0] = 1 + seed % (len - 1);
		cuts[1] = len;
		feed(p, s, cuts, 2, other);
		check_shown(p, s, other, len);
		CHECK(p == RAW_MASK_H2 || memcmp(whole, other, len) == 0);
	}
	if (len <= FUZZ_BYTEWISE_MAX) {
		bytes = malloc((len + 1) * sizeof(*bytes));
		CHECK(bytes);
		for (size_t i = 0; i < len; i++)
			bytes[i] = i + 1;
		feed(p, s, bytes, len, other);
		check_shown(p, s, other, len);
		CHECK(p == RAW_MASK_H2 || memcmp(whole, other, len) == 0);
		free(bytes);
	}
	{
		struct raw_mask_state st = { 0 };

		limit = len ? seed % (len + 1) : 0;
		memset(other, 0, len);
		raw_mask(&st, p, s, len, other, limit);
		CHECK(memcmp(whole, other, limit) == 0);
	}
	skip_then_feed(p, s, len, len ? seed % (len + 1) : 0, seed & 1 ? seed : (uint64_t)seed << 20);
	free(s);
	free(whole);
	free(other);
	return 0;
}

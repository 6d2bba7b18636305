/*
 * Unit tests for user/view/raw_mask.c: the secrets of HTTP/1 headers, HTTP/2
 * header blocks and Redis AUTH/HELLO masked whatever the chunks' split
 * points, nothing else masked, uncaptured bytes never uncovering a secret.
 * Inputs end right before an unmapped page.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard_page.h"
#include "view/raw_mask.h"

/* in split in two chunks at every position, each masked on its own, must
 * give want; also one byte at a time. */
static void expect_masked(enum raw_mask_proto p, const void *in, size_t len, const void *want)
{
	struct guard g = guard_new(len);
	uint8_t *out = malloc(len + 1);

	cr_assert(out);
	for (size_t cut = 0; cut <= len; cut++) {
		struct raw_mask_state st = { 0 };
		const char *a = guard_put(&g, in, cut);

		raw_mask(&st, p, (const uint8_t *)a, cut, out, cut);
		a = guard_put(&g, (const uint8_t *)in + cut, len - cut);
		raw_mask(&st, p, (const uint8_t *)a, len - cut, out + cut, len - cut);
		cr_assert(memcmp(out, want, len) == 0, "split at %zu: %.*s", cut, (int)len, (const char *)out);
	}
	{
		struct raw_mask_state st = { 0 };

		for (size_t i = 0; i < len; i++) {
			const char *a = guard_put(&g, (const uint8_t *)in + i, 1);

			raw_mask(&st, p, (const uint8_t *)a, 1, out + i, 1);
		}
		cr_assert(memcmp(out, want, len) == 0, "byte by byte: %.*s", (int)len, (const char *)out);
	}
	free(out);
	guard_free(&g);
}

#define EXPECT_MASKED(p, in, want) \
	do { \
		cr_assert_eq(sizeof(in), sizeof(want)); \
		expect_masked(p, in, sizeof(in) - 1, want); \
	} while (0)

Test(raw_mask_http1, secret_headers_at_every_split)
{
	EXPECT_MASKED(RAW_MASK_HTTP1,
		      "GET /a?token=abc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET123\r\n"
		      "Cookie: a=SECRET456; b=2\r\nproxy-AUTHORIZATION:\tBasic eDp5\r\nAccept: */*\r\n\r\n",
		      "GET /a?token=abc HTTP/1.1\r\nHost: x\r\nAuthorization: ****************\r\n"
		      "Cookie: ****************\r\nproxy-AUTHORIZATION:\t**********\r\nAccept: */*\r\n\r\n");
}

Test(raw_mask_http1, set_cookie_in_a_response_and_body_left_alone)
{
	EXPECT_MASKED(RAW_MASK_HTTP1,
		      "HTTP/1.1 200 OK\r\nSET-COOKIE: sid=42; HttpOnly\r\nContent-Length: 9\r\n\r\nCookie: x",
		      "HTTP/1.1 200 OK\r\nSET-COOKIE: ****************\r\nContent-Length: 9\r\n\r\nCookie: *");
}

Test(raw_mask_http1, other_names_not_masked)
{
	EXPECT_MASKED(RAW_MASK_HTTP1,
		      "X-Authorization: a\r\nCookies: b\r\nAuthorization-Hint: c\r\nset-cookie2: d\r\n"
		      "Referer: /?Cookie: e\r\n",
		      "X-Authorization: a\r\nCookies: b\r\nAuthorization-Hint: c\r\nset-cookie2: d\r\n"
		      "Referer: /?Cookie: e\r\n");
}

Test(raw_mask_http1, folded_value_and_blank_before_colon)
{
	EXPECT_MASKED(RAW_MASK_HTTP1, "Cookie: a=1\r\n  b=2\r\nHost: h\r\nCookie : c\r\nCookie x: d\r\n",
		      "Cookie: ***\r\n*****\r\nHost: h\r\nCookie : *\r\nCookie x: d\r\n");
}

Test(raw_mask_http1, bare_lf_lines_and_empty_value)
{
	EXPECT_MASKED(RAW_MASK_HTTP1, "A: 1\nCookie:\nCookie: zz\nB: 2\n", "A: 1\nCookie:\nCookie: **\nB: 2\n");
}

Test(raw_mask_http1, skipped_bytes_inside_a_value_keep_it_masked)
{
	struct raw_mask_state st = { 0 };
	uint8_t out[32];

	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)"Cookie: ab", 10, out, sizeof(out));
	raw_mask_skip(&st, RAW_MASK_HTTP1, 100);
	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)"cd\r\nHost: h\r\n", 13, out, sizeof(out));
	cr_assert(memcmp(out, "**\r\nHost: h\r\n", 13) == 0);
	/* A skip elsewhere: the line it lands in is not trusted as a name. */
	raw_mask_skip(&st, RAW_MASK_HTTP1, 5);
	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)"ie: x\r\nCookie: y\r\n", 18, out, sizeof(out));
	cr_assert(memcmp(out, "ie: x\r\nCookie: *\r\n", 18) == 0);
}

Test(raw_mask, out_shorter_than_the_chunk_gets_its_start_and_the_state_all)
{
	struct raw_mask_state st = { 0 };
	uint8_t out[8] = "........";
	const char *a = "Cookie: abcdef", *b = "gh\r\n";

	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)a, strlen(a), out, 4);
	cr_assert(memcmp(out, "Cook....", 8) == 0);
	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)b, strlen(b), out, sizeof(out));
	cr_assert(memcmp(out, "**\r\n", 4) == 0);
	raw_mask(&st, RAW_MASK_HTTP1, (const uint8_t *)a, strlen(a), out, 0);
	cr_assert(memcmp(out, "**\r\n", 4) == 0);
}

Test(raw_mask, unknown_protocol_shown_as_it_is)
{
	EXPECT_MASKED(RAW_MASK_NONE, "Cookie: a\r\n*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n",
		      "Cookie: a\r\n*2\r\n$4\r\nAUTH\r\n$1\r\nx\r\n");
}

/* Client preface, SETTINGS (6 bytes), HEADERS (5, END_HEADERS unset),
 * CONTINUATION (3), DATA (4), PUSH_PROMISE (6), PING (8). */
static const uint8_t h2_in[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
			       "\x00\x00\x06\x04\x00\x00\x00\x00\x00" "\x00\x03\x00\x00\x00\x64"
			       "\x00\x00\x05\x01\x00\x00\x00\x00\x01" "\x82\x84\x86\x41\x01"
			       "\x00\x00\x03\x09\x04\x00\x00\x00\x01" "xyz"
			       "\x00\x00\x04\x00\x01\x00\x00\x00\x01" "body"
			       "\x00\x00\x06\x05\x04\x00\x00\x00\x01" "\x00\x00\x00\x02\x82\x84"
			       "\x00\x00\x08\x06\x00\x00\x00\x00\x00" "pingpong";
static const uint8_t h2_want[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
				 "\x00\x00\x06\x04\x00\x00\x00\x00\x00" "\x00\x03\x00\x00\x00\x64"
				 "\x00\x00\x05\x01\x00\x00\x00\x00\x01" "*****"
				 "\x00\x00\x03\x09\x04\x00\x00\x00\x01" "***"
				 "\x00\x00\x04\x00\x01\x00\x00\x00\x01" "body"
				 "\x00\x00\x06\x05\x04\x00\x00\x00\x01" "******"
				 "\x00\x00\x08\x06\x00\x00\x00\x00\x00" "pingpong";

Test(raw_mask_h2, header_blocks_at_every_split)
{
	EXPECT_MASKED(RAW_MASK_H2, h2_in, h2_want);
}

Test(raw_mask_h2, server_side_without_preface)
{
	expect_masked(RAW_MASK_H2, h2_in + 24, sizeof(h2_in) - 25, h2_want + 24);
}

Test(raw_mask_h2, lost_framing_masks_until_a_chunk_starts_with_frames)
{
	struct raw_mask_state st = { 0 };
	const uint8_t *frames = h2_in + 24;
	size_t n = sizeof(h2_in) - 25;
	uint8_t out[sizeof(h2_in)];

	/* Not the preface, not frames: nothing to read, all masked. */
	raw_mask(&st, RAW_MASK_H2, (const uint8_t *)"HTTP/1.1 101 Switching", 22, out, sizeof(out));
	cr_assert(memcmp(out, "**********************", 22) == 0);
	raw_mask(&st, RAW_MASK_H2, frames, n, out, sizeof(out));
	cr_assert(memcmp(out, h2_want + 24, n) == 0);
	/* A skip inside DATA keeps the place, one over its end does not. */
	raw_mask(&st, RAW_MASK_H2, frames + 41, 11, out, sizeof(out)); /* DATA header and "bo" */
	raw_mask_skip(&st, RAW_MASK_H2, 1);
	raw_mask(&st, RAW_MASK_H2, (const uint8_t *)"y", 1, out, sizeof(out));
	cr_assert_eq(out[0], 'y');
	raw_mask_skip(&st, RAW_MASK_H2, 9);
	raw_mask(&st, RAW_MASK_H2, (const uint8_t *)"\xff\xff\xff", 3, out, sizeof(out));
	cr_assert(memcmp(out, "***", 3) == 0);
}

Test(raw_mask_h2, bad_frame_header_loses_the_place)
{
	struct raw_mask_state st = { 0 };
	/* SETTINGS on stream 1 is never valid: what follows is masked. */
	const uint8_t in[] = "\x00\x00\x00\x04\x00\x00\x00\x00\x01" "abc";
	uint8_t out[sizeof(in)];

	raw_mask(&st, RAW_MASK_H2, (const uint8_t *)"\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9, out, 9);
	raw_mask(&st, RAW_MASK_H2, in, sizeof(in) - 1, out, sizeof(out));
	cr_assert(memcmp(out, in, 9) == 0);
	cr_assert(memcmp(out + 9, "***", 3) == 0);
}

Test(raw_mask_redis, auth_and_hello_arguments_at_every_split)
{
	EXPECT_MASKED(RAW_MASK_REDIS,
		      "*2\r\n$4\r\nauth\r\n$9\r\nSECRET789\r\n*3\r\n$3\r\nGET\r\n$4\r\nauth\r\n$-1\r\n"
		      "*6\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$2\r\npw\r\n$-1\r\n"
		      "*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$3\r\np\r\n\r\n*1\r\n$4\r\nPING\r\n",
		      "*2\r\n$4\r\nauth\r\n$9\r\n*********\r\n*3\r\n$3\r\nGET\r\n$4\r\nauth\r\n$-1\r\n"
		      "*6\r\n$5\r\nHELLO\r\n$1\r\n*\r\n$4\r\n****\r\n$7\r\n*******\r\n$2\r\n**\r\n$-1\r\n"
		      "*3\r\n$4\r\nAUTH\r\n$1\r\n*\r\n$3\r\n***\r\n*1\r\n$4\r\nPING\r\n");
}

Test(raw_mask_redis, inline_commands_and_replies)
{
	EXPECT_MASKED(RAW_MASK_REDIS,
		      "AUTH hunter2\r\nauth u p\r\nPING\r\n+OK\r\n$4\r\nAUTH\r\n-ERR auth x\r\nSET auth x\r\n",
		      "AUTH *******\r\nauth ***\r\nPING\r\n+OK\r\n$4\r\nAUTH\r\n-ERR auth x\r\nSET auth x\r\n");
}

Test(raw_mask_redis, skip_inside_a_secret_masks_to_the_end_of_the_line)
{
	struct raw_mask_state st = { 0 };
	uint8_t out[32];

	raw_mask(&st, RAW_MASK_REDIS, (const uint8_t *)"*2\r\n$4\r\nAUTH\r\n$9\r\nSEC", 21, out, sizeof(out));
	cr_assert(memcmp(out + 18, "***", 3) == 0);
	raw_mask_skip(&st, RAW_MASK_REDIS, 2);
	raw_mask(&st, RAW_MASK_REDIS, (const uint8_t *)"T789\r\n*1\r\n", 10, out, sizeof(out));
	cr_assert(memcmp(out, "****\r\n*1\r\n", 10) == 0);
	/* Past the end of the bulk string: not in step any more. */
	raw_mask_skip(&st, RAW_MASK_REDIS, 100);
	raw_mask(&st, RAW_MASK_REDIS, (const uint8_t *)"xx\r\nGET k\r\n", 11, out, sizeof(out));
	cr_assert(memcmp(out, "xx\r\nGET k\r\n", 11) == 0);
}

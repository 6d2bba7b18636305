/*
 * Unit tests for user/h2_frame.c: frame headers, payload layout, the
 * preface, and the strict check used for detection and resynchronisation.
 * Every input is copied to a heap buffer of exactly its length, so under
 * AddressSanitizer a read one byte too far fails the test.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/h2_frame.h"

static uint8_t *dup_exact(const void *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	cr_assert_not_null(b);
	memcpy(b, p, n);
	return b;
}

/* Appends a frame to buf at *len. */
static void put_frame(uint8_t *buf, size_t *len, uint32_t length, uint8_t type, uint8_t flags, uint32_t sid,
		      const void *payload)
{
	uint8_t *p = buf + *len;

	p[0] = (uint8_t)(length >> 16);
	p[1] = (uint8_t)(length >> 8);
	p[2] = (uint8_t)length;
	p[3] = type;
	p[4] = flags;
	p[5] = (uint8_t)(sid >> 24);
	p[6] = (uint8_t)(sid >> 16);
	p[7] = (uint8_t)(sid >> 8);
	p[8] = (uint8_t)sid;
	if (length && payload)
		memcpy(p + 9, payload, length);
	else if (length)
		memset(p + 9, 0, length);
	*len += 9 + length;
}

static ssize_t header(const uint8_t *raw, size_t n, uint32_t max, struct h2_frame_header *h)
{
	uint8_t *b = dup_exact(raw, n);
	ssize_t r = h2_parse_frame_header(b, n, max, h);

	free(b);
	return r;
}

Test(h2_frame, header_fields)
{
	static const uint8_t raw[] = { 0x00, 0x01, 0x02, 0x01, 0x25, 0x80, 0x00, 0x00, 0x05 };
	struct h2_frame_header h;

	cr_assert_eq(header(raw, sizeof(raw), H2_DEFAULT_MAX_FRAME_SIZE, &h), 9);
	cr_expect_eq(h.length, 0x102);
	cr_expect_eq(h.type, H2_HEADERS);
	cr_expect_eq(h.flags, 0x25);
	cr_expect(h.reserved);
	cr_expect_eq(h.stream_id, 5);
	for (size_t n = 0; n < sizeof(raw); n++)
		cr_expect_eq(header(raw, n, H2_DEFAULT_MAX_FRAME_SIZE, &h), H2_NEED_MORE, "n=%zu", n);
}

Test(h2_frame, header_length_bound)
{
	uint8_t raw[9] = { 0x00, 0x40, 0x01, H2_DATA, 0, 0, 0, 0, 1 };
	struct h2_frame_header h;

	cr_expect_eq(header(raw, 9, H2_DEFAULT_MAX_FRAME_SIZE, &h), H2_ERROR);
	cr_expect_eq(header(raw, 9, H2_DEFAULT_MAX_FRAME_SIZE + 1, &h), 9);
	raw[0] = raw[1] = raw[2] = 0xff;
	cr_expect_eq(header(raw, 9, H2_MAX_FRAME_SIZE_CEILING, &h), 9);
	cr_expect_eq(h.length, H2_MAX_FRAME_SIZE_CEILING);
}

/* Stream id and length rules of each type. */
Test(h2_frame, header_type_rules)
{
	static const struct {
		uint32_t length;
		uint8_t type, flags;
		uint32_t sid;
		int ok;
	} cases[] = {
		{ 0, H2_DATA, 0, 0, 0 },          { 0, H2_DATA, 0, 1, 1 },
		{ 0, H2_HEADERS, 0, 0, 0 },       { 5, H2_PRIORITY, 0, 3, 1 },
		{ 4, H2_PRIORITY, 0, 3, 0 },      { 4, H2_RST_STREAM, 0, 3, 1 },
		{ 4, H2_RST_STREAM, 0, 0, 0 },    { 8, H2_RST_STREAM, 0, 1, 0 },
		{ 12, H2_SETTINGS, 0, 0, 1 },     { 7, H2_SETTINGS, 0, 0, 0 },
		{ 6, H2_SETTINGS, 0, 1, 0 },      { 0, H2_SETTINGS, H2_FLAG_ACK, 0, 1 },
		{ 6, H2_SETTINGS, H2_FLAG_ACK, 0, 0 }, { 3, H2_PUSH_PROMISE, 0, 1, 0 },
		{ 4, H2_PUSH_PROMISE, 0, 1, 1 },  { 8, H2_PING, 0, 0, 1 },
		{ 8, H2_PING, 0, 1, 0 },          { 9, H2_PING, 0, 0, 0 },
		{ 8, H2_GOAWAY, 0, 0, 1 },        { 7, H2_GOAWAY, 0, 0, 0 },
		{ 8, H2_GOAWAY, 0, 1, 0 },        { 4, H2_WINDOW_UPDATE, 0, 0, 1 },
		{ 4, H2_WINDOW_UPDATE, 0, 7, 1 }, { 5, H2_WINDOW_UPDATE, 0, 7, 0 },
		{ 0, H2_CONTINUATION, 0, 0, 0 },  { 0, H2_CONTINUATION, 0, 1, 1 },
		{ 100, 0xa, 0xff, 0, 1 },         { 3, 0xfa, 0, 9, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[9 + 100];
		size_t len = 0;
		struct h2_frame_header h;

		put_frame(buf, &len, cases[i].length, cases[i].type, cases[i].flags, cases[i].sid, NULL);
		cr_expect_eq(header(buf, 9, H2_DEFAULT_MAX_FRAME_SIZE, &h), cases[i].ok ? 9 : H2_ERROR,
			     "case %zu (type %u)", i, cases[i].type);
	}
}

static ssize_t frame(const uint8_t *raw, size_t n, struct h2_frame *f)
{
	uint8_t *b = dup_exact(raw, n);
	ssize_t r = h2_parse_frame(b, n, H2_DEFAULT_MAX_FRAME_SIZE, f);

	if (r > 0) {
		/* Report the slices relative to the caller's copy. */
		f->content = raw + (f->content - b);
		f->payload = raw + (f->payload - b);
	}
	free(b);
	return r;
}

Test(h2_frame, headers_padded_priority)
{
	/* pad length 3, priority (5 bytes), fragment "abcd", padding */
	static const uint8_t payload[] = { 3, 0x80, 0, 0, 1, 200, 'a', 'b', 'c', 'd', 0, 0, 0 };
	uint8_t buf[64];
	size_t len = 0;
	struct h2_frame f;

	put_frame(buf, &len, sizeof(payload), H2_HEADERS,
		  H2_FLAG_PADDED | H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 3, payload);
	cr_assert_eq(frame(buf, len, &f), (ssize_t)len);
	cr_expect_eq(f.layout.prefix_len, 6);
	cr_expect_eq(f.layout.pad_len, 3);
	cr_expect_eq(f.layout.content_len, 4);
	cr_expect_eq(memcmp(f.content, "abcd", 4), 0);
	for (size_t n = 0; n < len; n++)
		cr_expect_eq(frame(buf, n, &f), H2_NEED_MORE, "n=%zu", n);
}

Test(h2_frame, data_padded)
{
	static const uint8_t payload[] = { 2, 'h', 'i', 0, 0 };
	uint8_t buf[64];
	size_t len = 0;
	struct h2_frame f;

	put_frame(buf, &len, sizeof(payload), H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1, payload);
	cr_assert_eq(frame(buf, len, &f), (ssize_t)len);
	cr_expect_eq(f.layout.content_len, 2);
	cr_expect_eq(f.layout.pad_len, 2);
	cr_expect_eq(memcmp(f.content, "hi", 2), 0);
}

/* Padding as long as the rest of the payload is fine; one more is not. */
Test(h2_frame, padding_bounds)
{
	uint8_t p1[] = { 4, 1, 2, 3, 4 };
	uint8_t buf[64];
	size_t len = 0;
	struct h2_frame f;

	put_frame(buf, &len, sizeof(p1), H2_DATA, H2_FLAG_PADDED, 1, p1);
	cr_expect_eq(frame(buf, len, &f), (ssize_t)len);
	cr_expect_eq(f.layout.content_len, 0);
	p1[0] = 5;
	len = 0;
	put_frame(buf, &len, sizeof(p1), H2_DATA, H2_FLAG_PADDED, 1, p1);
	cr_expect_eq(frame(buf, len, &f), H2_ERROR);
	/* PADDED with an empty payload: no room for the pad length. */
	len = 0;
	put_frame(buf, &len, 0, H2_DATA, H2_FLAG_PADDED, 1, NULL);
	cr_expect_eq(frame(buf, len, &f), H2_ERROR);
	/* PRIORITY needs 5 bytes. */
	len = 0;
	put_frame(buf, &len, 4, H2_HEADERS, H2_FLAG_PRIORITY, 1, NULL);
	cr_expect_eq(frame(buf, len, &f), H2_ERROR);
}

Test(h2_frame, push_promise)
{
	static const uint8_t payload[] = { 1, 0, 0, 0, 2, 0x82, 0 };
	uint8_t buf[64];
	size_t len = 0;
	struct h2_frame f;

	put_frame(buf, &len, sizeof(payload), H2_PUSH_PROMISE, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, payload);
	cr_assert_eq(frame(buf, len, &f), (ssize_t)len);
	cr_expect_eq(f.layout.promised_id, 2);
	cr_expect_eq(f.layout.prefix_len, 5);
	cr_expect_eq(f.layout.content_len, 1);
	cr_expect_eq(f.content[0], 0x82);
}

/* The layout needs only the prefix, not the whole payload. */
Test(h2_frame, layout_from_prefix)
{
	struct h2_frame_header h = { .length = 1000, .type = H2_HEADERS,
				     .flags = H2_FLAG_PADDED | H2_FLAG_PRIORITY, .stream_id = 1 };
	static const uint8_t prefix[] = { 10, 0, 0, 0, 0, 16 };
	struct h2_frame_layout l;

	for (size_t n = 0; n < sizeof(prefix); n++) {
		uint8_t *b = dup_exact(prefix, n);

		cr_expect_eq(h2_frame_layout(&h, b, n, &l), H2_NEED_MORE, "n=%zu", n);
		free(b);
	}
	cr_assert_eq(h2_frame_layout(&h, prefix, sizeof(prefix), &l), 6);
	cr_expect_eq(l.content_len, 1000 - 6 - 10);
	cr_expect_eq(l.pad_len, 10);
}

Test(h2_frame, preface)
{
	static const char p[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	for (size_t n = 0; n < H2_PREFACE_LEN; n++) {
		uint8_t *b = dup_exact(p, n);

		cr_expect_eq(h2_parse_preface(b, n), H2_NEED_MORE, "n=%zu", n);
		free(b);
	}
	cr_expect_eq(h2_parse_preface((const uint8_t *)p, H2_PREFACE_LEN), H2_PREFACE_LEN);
	cr_expect_eq(h2_parse_preface((const uint8_t *)"PRI * HTTP/1.1\r\n", 16), H2_ERROR);
	cr_expect_eq(h2_parse_preface((const uint8_t *)"GET / HTTP/1.1\r\n", 16), H2_ERROR);
}

static int looks(const uint8_t *raw, size_t n)
{
	uint8_t *b = dup_exact(raw, n);
	int r = h2_looks_like_frames(b, n, NULL);

	free(b);
	return r;
}

/* What a server sends first, and then answers. */
static size_t server_start(uint8_t *buf)
{
	static const uint8_t settings[] = { 0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff };
	static const uint8_t wu[] = { 0, 0, 0x10, 0 };
	static const uint8_t hdr[] = { 0x88 };
	size_t len = 0;

	put_frame(buf, &len, sizeof(settings), H2_SETTINGS, 0, 0, settings);
	put_frame(buf, &len, 0, H2_SETTINGS, H2_FLAG_ACK, 0, NULL);
	put_frame(buf, &len, sizeof(wu), H2_WINDOW_UPDATE, 0, 0, wu);
	put_frame(buf, &len, sizeof(hdr), H2_HEADERS, H2_FLAG_END_HEADERS, 1, hdr);
	put_frame(buf, &len, 5, H2_DATA, H2_FLAG_END_STREAM, 1, "hello");
	return len;
}

/* Every prefix of a valid sequence: need-more inside a frame, yes at each
 * boundary, and yes from H2_DETECT_FRAMES frames on. */
Test(h2_frame, looks_like_frames_split)
{
	uint8_t buf[256];
	size_t len = server_start(buf);
	size_t bounds[] = { 0, 21, 30, 43, 53, 67 };

	cr_assert_eq(len, 67);
	for (size_t n = 1; n <= len; n++) {
		int want = H2_NEED_MORE;

		if (n >= bounds[H2_DETECT_FRAMES])
			want = 1;
		for (size_t i = 1; i < sizeof(bounds) / sizeof(bounds[0]); i++)
			if (n == bounds[i])
				want = 1;
		cr_expect_eq(looks(buf, n), want, "n=%zu", n);
	}
	cr_expect_eq(looks(buf, 0), H2_NEED_MORE);
}

Test(h2_frame, looks_like_frames_refuses)
{
	static const char *const texts[] = {
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
		"+OK\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	};
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
	uint8_t buf[64];
	size_t len;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		cr_expect_eq(looks((const uint8_t *)texts[i], strlen(texts[i])), 0, "%s", texts[i]);
	cr_expect_eq(looks(tls, sizeof(tls)), 0);
	for (size_t n = 1; n < 3; n++)
		cr_expect_eq(looks(tls, n), 0, "tls n=%zu", n);

	/* Reserved bit, undefined flag, unknown type, bad SETTINGS value,
	 * zero window increment, unknown error code, stray CONTINUATION. */
	len = 0;
	put_frame(buf, &len, 0, H2_SETTINGS, 0, 0x80000000u, NULL);
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 0, H2_SETTINGS, 0x2, 0, NULL);
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 0, 0xb, 0, 0, NULL);
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 6, H2_SETTINGS, 0, 0, "\x00\x02\x00\x00\x00\x02");
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 6, H2_SETTINGS, 0, 0, "\x00\x05\x00\x00\x10\x00");
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 4, H2_WINDOW_UPDATE, 0, 0, "\x00\x00\x00\x00");
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 4, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x20");
	cr_expect_eq(looks(buf, len), 0);
	len = 0;
	put_frame(buf, &len, 1, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "\x82");
	cr_expect_eq(looks(buf, len), 0);
	/* HEADERS without END_HEADERS, then a frame of another stream. */
	len = 0;
	put_frame(buf, &len, 1, H2_HEADERS, 0, 1, "\x82");
	put_frame(buf, &len, 1, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "\x82");
	cr_expect_eq(looks(buf, len), 0);
	/* ... and with its CONTINUATION: fine. */
	len = 0;
	put_frame(buf, &len, 1, H2_HEADERS, 0, 1, "\x82");
	put_frame(buf, &len, 1, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "\x82");
	cr_expect_eq(looks(buf, len), 1);
	/* Bytes left over that are not a frame. */
	len = 0;
	put_frame(buf, &len, 0, H2_SETTINGS, H2_FLAG_ACK, 0, NULL);
	memcpy(buf + len, "GET / HTTP/1.1\r\n", 16);
	cr_expect_eq(looks(buf, len + 16), 0);
}

/* Random bytes: never taken for frames. */
Test(h2_frame, looks_like_frames_random)
{
	uint64_t x = 0x243f6a8885a308d3ull;
	unsigned yes = 0;

	for (int i = 0; i < 200000; i++) {
		uint8_t buf[64];
		size_t n = 9 + (size_t)(i % 50);

		for (size_t j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = (uint8_t)(x >> 32);
		}
		yes += h2_looks_like_frames(buf, n, NULL) == 1;
	}
	cr_expect_eq(yes, 0);
}

Test(h2_frame, error_names)
{
	cr_expect_str_eq(h2_error_name(0), "NO_ERROR");
	cr_expect_str_eq(h2_error_name(8), "CANCEL");
	cr_expect_str_eq(h2_error_name(0xd), "HTTP_1_1_REQUIRED");
	cr_expect_null(h2_error_name(0xe));
}

/*
 * libFuzzer target for user/http1_parser.c.
 *
 * Every input goes through every entry point: as a request stream, as a
 * response stream, as the start of a connection for detection, and as a raw
 * chunked body. Besides memory errors (run with ASan/UBSan), it checks the
 * contracts: results stay inside the buffer, a prefix of a head never parses
 * differently than "need more", and a body fed whole, split or byte by byte
 * ends the same way. Buffers handed to the parser are exact-size heap copies,
 * so ASan sees any over-read.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iuser \
 *     user/http1_parser.c tests/fuzz/fuzz_http1_parser.c -o fuzz_http1_parser
 *   ./fuzz_http1_parser tests/fuzz/corpus/http1_parser
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse/http1_parser.h"

/* Byte-by-byte feeding copies each byte to its own allocation: only bodies up to this size, to keep exec/s up. */
#define FUZZ_BYTEWISE_MAX 4096

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

/* An exact-size heap copy, so reading past len is a heap overflow ASan reports. */
static char *copy(const char *src, size_t len)
{
	char *p = malloc(len ? len : 1);

	CHECK(p != NULL);
	if (len)
		memcpy(p, src, len);
	return p;
}

static void check_slice(struct h1_slice s, const char *buf, ssize_t head_len)
{
	CHECK(s.len == 0 || (s.p >= buf && s.p + s.len <= buf + head_len));
}

static void check_headers(const struct h1_header *h, size_t n, const char *buf, ssize_t head_len)
{
	CHECK(n <= H1_MAX_HEADERS);
	/* A lookup that hits must hit a field of that name, whatever its case. */
	const struct h1_slice *v = h1_find_header(h, n, "X-Sockspan");
	if (v) {
		const struct h1_header *f = (const struct h1_header *)((const char *)v - offsetof(struct h1_header, value));
		CHECK(f >= h && f < h + n && f->name.len == 10 && strncasecmp(f->name.p, "x-sockspan", 10) == 0);
	}
	for (size_t i = 0; i < n; i++) {
		CHECK(h[i].name.len > 0);
		check_slice(h[i].name, buf, head_len);
		check_slice(h[i].value, buf, head_len);
		if (h[i].value.len) {
			CHECK(h[i].value.p[0] != ' ' && h[i].value.p[0] != '\t');
			CHECK(h[i].value.p[h[i].value.len - 1] != ' ' && h[i].value.p[h[i].value.len - 1] != '\t');
		}
		/* Lookup by the field's own name finds a field of that name. */
		char name[64];
		if (h[i].name.len < sizeof(name)) {
			memcpy(name, h[i].name.p, h[i].name.len);
			name[h[i].name.len] = '\0';
			const struct h1_slice *v = h1_find_header(h, n, name);
			CHECK(v != NULL && v >= &h[0].value && v <= &h[i].value);
		}
	}
}

struct body_outcome {
	ssize_t consumed; /* or H1_ERROR */
	int done;
};

static struct body_outcome feed(struct h1_body b, const char *data, size_t len, size_t cut)
{
	struct body_outcome o = { 0, 0 };
	char *p1 = copy(data, cut), *p2 = copy(data + cut, len - cut);
	ssize_t n = h1_body_consume(&b, p1, cut, &o.done);

	if (n < 0) {
		CHECK(n == H1_ERROR);
		o.consumed = H1_ERROR;
		goto out;
	}
	CHECK((size_t)n <= cut);
	CHECK(o.done || (size_t)n == cut);
	o.consumed = n;
	if (!o.done) {
		n = h1_body_consume(&b, p2, len - cut, &o.done);
		if (n < 0) {
			CHECK(n == H1_ERROR);
			o.consumed = H1_ERROR;
			goto out;
		}
		CHECK((size_t)n <= len - cut);
		CHECK(o.done || (size_t)n == len - cut);
		o.consumed += n;
	}
out:
	if (o.consumed < 0)
		CHECK(h1_body_consume(&b, p1, cut, &o.done) == H1_ERROR && !o.done); /* errors are sticky */
	free(p1);
	free(p2);
	return o;
}

static struct body_outcome feed_bytewise(struct h1_body b, const char *data, size_t len)
{
	struct body_outcome o = { 0, 0 };
	ssize_t n = h1_body_consume(&b, NULL, 0, &o.done);

	CHECK(n == 0 || n == H1_ERROR);
	if (n < 0)
		o.consumed = H1_ERROR;
	for (size_t i = 0; i < len && !o.done && o.consumed >= 0; i++) {
		char *p = copy(data + i, 1);

		n = h1_body_consume(&b, p, 1, &o.done);
		free(p);
		if (n < 0) {
			CHECK(n == H1_ERROR);
			o.consumed = H1_ERROR;
		} else {
			CHECK(n == 1);
			o.consumed += n;
		}
	}
	return o;
}

/* The body after a head: whole, split at a cut chosen by the input, byte by byte; then a gap. */
static void fuzz_body(const struct h1_body *framing, const char *data, size_t len, uint64_t seed)
{
	struct body_outcome whole = feed(*framing, data, len, len);
	struct body_outcome split = feed(*framing, data, len, len ? (size_t)(seed % (len + 1)) : 0);

	CHECK(whole.consumed == split.consumed);
	CHECK(whole.consumed < 0 || whole.done == split.done);
	if (framing->kind == H1_BODY_UNTIL_CLOSE)
		CHECK(whole.consumed == (ssize_t)len && !whole.done);
	if (framing->kind == H1_BODY_NONE)
		CHECK(whole.consumed == 0 && whole.done);
	if (len <= FUZZ_BYTEWISE_MAX) {
		struct body_outcome bytes = feed_bytewise(*framing, data, len);

		CHECK(whole.consumed == bytes.consumed);
		CHECK(whole.consumed < 0 || whole.done == bytes.done);
	}

	/* Consume part, then skip a gap of a size taken from the input. */
	struct h1_body b = *framing;
	size_t cut = len ? (size_t)((seed >> 8) % (len + 1)) : 0;
	char *p = copy(data, cut);
	int done;
	ssize_t n = h1_body_consume(&b, p, cut, &done);

	free(p);
	if (n >= 0 && !done) {
		struct h1_body before = b;
		uint64_t gap = seed >> 16;

		if (h1_body_skip(&b, gap, &done) == 0) {
			if (b.kind == H1_BODY_LENGTH)
				CHECK(b.remaining == before.remaining - gap && done == (b.remaining == 0));
			if (b.kind == H1_BODY_CHUNKED && gap)
				CHECK(before.chunk_state == H1_CHUNK_DATA && before.remaining >= gap && !done);
		} else {
			CHECK(memcmp(&b, &before, sizeof(b)) == 0);
		}
		/* Whatever the skip did, the decoder must go on safely. */
		p = copy(data + cut, len - cut);
		n = h1_body_consume(&b, p, len - cut, &done);
		CHECK(n == H1_ERROR || (n >= 0 && (size_t)n <= len - cut));
		free(p);
	}
}

static uint64_t seed_of(const char *data, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < len && i < 16; i++)
		h = (h ^ (unsigned char)data[len - 1 - i]) * 1099511628211u;
	return h;
}

static void fuzz_request(const char *data, size_t len, uint64_t seed)
{
	static struct h1_request req, req2;
	char *buf = copy(data, len);
	ssize_t r = h1_parse_request(buf, len, &req);

	CHECK(r == H1_ERROR || r == H1_NEED_MORE || (r > 0 && (size_t)r <= len && r <= H1_MAX_HEAD_LEN));
	CHECK(r != H1_NEED_MORE || len < H1_MAX_HEAD_LEN);

	/* A cut inside a head needs more, one past it parses the same; an unparsable buffer has no parsable prefix. */
	size_t cut = len ? (size_t)(seed % len) : 0;
	if (r > 0 && seed & 1)
		cut = (size_t)r - 1;
	char *pre = copy(data, cut);
	ssize_t r2 = h1_parse_request(pre, cut, &req2);
	if (r > 0)
		CHECK(cut < (size_t)r ? r2 == H1_NEED_MORE : r2 == r);
	else
		CHECK(r2 == H1_NEED_MORE || (r == H1_ERROR && r2 == H1_ERROR));
	free(pre);

	if (r > 0) {
		struct h1_body body;

		CHECK(req.method.len > 0 && req.target.len > 0);
		check_slice(req.method, buf, r);
		check_slice(req.target, buf, r);
		CHECK(req.minor_version == 0 || req.minor_version == 1);
		check_headers(req.headers, req.num_headers, buf, r);
		CHECK(h1_request_wants_close(&req) <= 1);
		if (h1_request_body(&req, &body) == 0) {
			CHECK(body.kind != H1_BODY_UNTIL_CLOSE);
			fuzz_body(&body, buf + r, len - (size_t)r, seed);
		}
	}
	free(buf);
}

static void fuzz_response(const char *data, size_t len, uint64_t seed)
{
	static struct h1_response resp, resp2;
	static const char *const methods[] = { "GET", "HEAD", "CONNECT", NULL };
	char *buf = copy(data, len);
	ssize_t r = h1_parse_response(buf, len, &resp);

	CHECK(r == H1_ERROR || r == H1_NEED_MORE || (r > 0 && (size_t)r <= len && r <= H1_MAX_HEAD_LEN));
	CHECK(r != H1_NEED_MORE || len < H1_MAX_HEAD_LEN);

	size_t cut = len ? (size_t)(seed % len) : 0;
	if (r > 0 && seed & 1)
		cut = (size_t)r - 1;
	char *pre = copy(data, cut);
	ssize_t r2 = h1_parse_response(pre, cut, &resp2);
	if (r > 0)
		CHECK(cut < (size_t)r ? r2 == H1_NEED_MORE : r2 == r);
	else
		CHECK(r2 == H1_NEED_MORE || (r == H1_ERROR && r2 == H1_ERROR));
	free(pre);

	if (r > 0) {
		const char *m = methods[(seed >> 4) % 4];
		struct h1_slice method = { m, m ? strlen(m) : 0 };
		struct h1_body body;

		CHECK(h1_looks_like_response(buf, len) == 1 || h1_empty_lines_len(buf, len) > H1_DETECT_EMPTY_MAX);
		CHECK(resp.status >= 100 && resp.status <= 999);
		CHECK(resp.minor_version == 0 || resp.minor_version == 1);
		check_slice(resp.reason, buf, r);
		check_headers(resp.headers, resp.num_headers, buf, r);
		CHECK(h1_response_wants_close(&resp) <= 1);
		CHECK(h1_is_tunnel_response(&resp, method) <= 1);
		if (h1_response_body(&resp, method, &body) == 0)
			fuzz_body(&body, buf + r, len - (size_t)r, seed);
	}
	free(buf);
}

static void fuzz_detect(const char *data, size_t len)
{
	char *buf = copy(data, len);
	int q = h1_looks_like_request(buf, len), s = h1_looks_like_response(buf, len);

	CHECK(q == 0 || q == 1 || q == H1_NEED_MORE);
	CHECK(s == 0 || s == 1 || s == H1_NEED_MORE);
	CHECK(q != H1_NEED_MORE || len <= H1_DETECT_EMPTY_MAX + H1_DETECT_METHOD_MAX + 1);
	CHECK(s != H1_NEED_MORE || len < H1_DETECT_EMPTY_MAX + 9);
	CHECK(!(q == 1 && s == 1));
	free(buf);
}

static void fuzz_chunked(const char *data, size_t len, uint64_t seed)
{
	static const char head[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	static struct h1_request req;
	struct h1_body body;

	CHECK(h1_parse_request(head, sizeof(head) - 1, &req) == (ssize_t)sizeof(head) - 1);
	CHECK(h1_request_body(&req, &body) == 0 && body.kind == H1_BODY_CHUNKED);
	fuzz_body(&body, data, len, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	uint64_t seed = seed_of(buf, size);

	fuzz_detect(buf, size);
	fuzz_request(buf, size, seed);
	fuzz_response(buf, size, seed);
	fuzz_chunked(buf, size, seed);
	return 0;
}

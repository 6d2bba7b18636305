/*
 * Unit tests for user/http1_parser.c.
 *
 * Conversations recorded from curl 7.88, Python 3.11 http.client and
 * http.server, and nginx 1.22 (the chunked-with-trailers, CONNECT and 101
 * answers are written after the RFC 9112 and RFC 6455 examples) are fed
 * whole, split at every byte, and byte by byte through the body decoder.
 * Every buffer handed to the parser ends right before a PROT_NONE page, so
 * reading one byte too far crashes the test.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard_page.h"
#include "parse/http1_parser.h"

static int slice_is(struct h1_slice s, const char *str)
{
	return s.len == strlen(str) && memcmp(s.p, str, s.len) == 0;
}

static struct h1_slice method_slice(const char *m)
{
	struct h1_slice s = { m, m ? strlen(m) : 0 };

	return s;
}

/* ---- recorded conversations ---- */

struct lit {
	const char *p;
	size_t len;
};
#define S(x) { x, sizeof(x) - 1 }

struct expect {
	struct lit head, body;
	const char *method;         /* request: its method; response: the method it answers, or NULL */
	const char *target;         /* request only */
	int status;                 /* response only */
	const char *reason;         /* response only */
	int minor_version;
	size_t num_headers;
	const char *field, *value;  /* one field looked up with h1_find_header */
	enum h1_body_kind body_kind;
	int wants_close;
	int tunnel;
};

struct recording {
	const char *name;
	int is_request;
	size_t n_msgs;
	struct expect msgs[2];
	struct lit tail; /* bytes after the last message that are not HTTP/1 (a tunnel) */
};

static const struct recording curl_get = {
	.name = "curl GET", .is_request = 1, .n_msgs = 1, .msgs = { {
		.head = S("GET /api/v1/users?id=42&verbose=true HTTP/1.1\r\n"
			  "Host: 127.0.0.1:18081\r\n"
			  "User-Agent: curl/7.88.1\r\n"
			  "Accept: application/json\r\n"
			  "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
			  "X-B3-SpanId: e457b5a2e4d86bd1\r\n"
			  "X-B3-Sampled: 1\r\n"
			  "\r\n"),
		.body = S(""),
		.method = "GET", .target = "/api/v1/users?id=42&verbose=true", .minor_version = 1,
		.num_headers = 6, .field = "x-b3-traceid", .value = "80f198ee56343ba864fe8b2a57d3eff7",
		.body_kind = H1_BODY_NONE,
	} },
};

static const struct recording python_post = {
	.name = "python http.client POST", .is_request = 1, .n_msgs = 1, .msgs = { {
		.head = S("POST /orders HTTP/1.1\r\n"
			  "Host: 127.0.0.1:18082\r\n"
			  "Accept-Encoding: identity\r\n"
			  "Content-Length: 26\r\n"
			  "Content-Type: application/json\r\n"
			  "\r\n"),
		.body = S("{\"item\": \"book\", \"qty\": 2}"),
		.method = "POST", .target = "/orders", .minor_version = 1,
		.num_headers = 4, .field = "Content-Type", .value = "application/json",
		.body_kind = H1_BODY_LENGTH,
	} },
};

static const struct recording curl_chunked_upload = {
	.name = "curl chunked PUT", .is_request = 1, .n_msgs = 1, .msgs = { {
		.head = S("PUT /upload/notes.txt HTTP/1.1\r\n"
			  "Host: 127.0.0.1:18084\r\n"
			  "User-Agent: curl/7.88.1\r\n"
			  "Accept: */*\r\n"
			  "Transfer-Encoding: chunked\r\n"
			  "Content-Type: text/plain\r\n"
			  "\r\n"),
		.body = S("17\r\n"
			  "first line\n"
			  "second line\n"
			  "\r\n"
			  "0\r\n"
			  "\r\n"),
		.method = "PUT", .target = "/upload/notes.txt", .minor_version = 1,
		.num_headers = 5, .field = "transfer-encoding", .value = "chunked",
		.body_kind = H1_BODY_CHUNKED,
	} },
};

static const struct recording pipelined = {
	.name = "pipelined GETs", .is_request = 1, .n_msgs = 2, .msgs = {
		{
			.head = S("GET /a HTTP/1.1\r\n"
				  "Host: 127.0.0.1:18081\r\n"
				  "User-Agent: curl/7.88.1\r\n"
				  "Accept: */*\r\n"
				  "\r\n"),
			.body = S(""),
			.method = "GET", .target = "/a", .minor_version = 1,
			.num_headers = 3, .field = "HOST", .value = "127.0.0.1:18081",
			.body_kind = H1_BODY_NONE,
		},
		{
			.head = S("GET /b HTTP/1.1\r\n"
				  "Host: 127.0.0.1:18081\r\n"
				  "User-Agent: curl/7.88.1\r\n"
				  "Accept: */*\r\n"
				  "Connection: close\r\n"
				  "\r\n"),
			.body = S(""),
			.method = "GET", .target = "/b", .minor_version = 1,
			.num_headers = 4, .field = "connection", .value = "close",
			.body_kind = H1_BODY_NONE, .wants_close = 1,
		},
	},
};

static const struct recording nginx_200 = {
	.name = "nginx 200", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 200 OK\r\n"
			  "Server: nginx/1.22.1\r\n"
			  "Date: Sat, 21 Nov 2026 22:49:08 GMT\r\n"
			  "Content-Type: text/html\r\n"
			  "Content-Length: 60\r\n"
			  "Last-Modified: Sat, 21 Nov 2026 22:48:58 GMT\r\n"
			  "Connection: keep-alive\r\n"
			  "ETag: \"6b021fda-3c\"\r\n"
			  "Accept-Ranges: bytes\r\n"
			  "\r\n"),
		.body = S("<!DOCTYPE html>\n"
			  "<html><body><h1>sockspan</h1></body></html>\n"),
		.method = "GET", .status = 200, .reason = "OK", .minor_version = 1,
		.num_headers = 8, .field = "etag", .value = "\"6b021fda-3c\"",
		.body_kind = H1_BODY_LENGTH,
	} },
};

static const struct recording chunked_trailers = {
	.name = "chunked with extensions and trailers", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 200 OK\r\n"
			  "Content-Type: text/plain\r\n"
			  "Transfer-Encoding: chunked\r\n"
			  "Trailer: Server-Timing, X-Checksum\r\n"
			  "\r\n"),
		.body = S("7;name=\"first chunk\"\r\n"
			  "Mozilla\r\n"
			  "9 ; ext\r\n"
			  "Developer\r\n"
			  "1A\r\n"
			  "abcdefghijklmnopqrstuvwxyz\r\n"
			  "0;last\r\n"
			  "Server-Timing: db;dur=53\r\n"
			  "X-Checksum: 0xdeadbeef\r\n"
			  "\r\n"),
		.method = "GET", .status = 200, .reason = "OK", .minor_version = 1,
		.num_headers = 3, .field = "Trailer", .value = "Server-Timing, X-Checksum",
		.body_kind = H1_BODY_CHUNKED,
	} },
};

static const struct recording nginx_gzip_chunked = {
	.name = "nginx gzip chunked", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 200 OK\r\n"
			  "Server: nginx/1.22.1\r\n"
			  "Date: Sat, 21 Nov 2026 22:49:11 GMT\r\n"
			  "Content-Type: text/html\r\n"
			  "Last-Modified: Sat, 21 Nov 2026 22:49:08 GMT\r\n"
			  "Transfer-Encoding: chunked\r\n"
			  "Connection: keep-alive\r\n"
			  "ETag: W/\"6b021fe4-3c\"\r\n"
			  "Content-Encoding: gzip\r\n"
			  "\r\n"),
		.body = S("43\r\n"
			  "\037\213\010\000\000\000\000\000\004\003\263Qt\361w\016\211\014pU\310(\311\315\261\343\262\001"
			  "S6I\371)\225v6\031\206v\305\371\311\331\305\005\211y6\372@\216\215>D\\\037\242\026\000\244\307"
			  "\254\334<\000\000\000\r\n"
			  "0\r\n"
			  "\r\n"),
		.method = "GET", .status = 200, .reason = "OK", .minor_version = 1,
		.num_headers = 8, .field = "content-encoding", .value = "gzip",
		.body_kind = H1_BODY_CHUNKED,
	} },
};

static const struct recording nginx_304 = {
	.name = "nginx 304", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 304 Not Modified\r\n"
			  "Server: nginx/1.22.1\r\n"
			  "Date: Sat, 21 Nov 2026 22:49:09 GMT\r\n"
			  "Last-Modified: Sat, 21 Nov 2026 22:48:58 GMT\r\n"
			  "Connection: keep-alive\r\n"
			  "ETag: \"6b021fda-3c\"\r\n"
			  "\r\n"),
		.body = S(""),
		.method = "GET", .status = 304, .reason = "Not Modified", .minor_version = 1,
		.num_headers = 5, .field = "server", .value = "nginx/1.22.1",
		.body_kind = H1_BODY_NONE,
	} },
};

static const struct recording nginx_100_continue = {
	.name = "nginx 100-continue then 200", .is_request = 0, .n_msgs = 2, .msgs = {
		{
			.head = S("HTTP/1.1 100 Continue\r\n"
				  "\r\n"),
			.body = S(""),
			.method = "POST", .status = 100, .reason = "Continue", .minor_version = 1,
			.num_headers = 0, .body_kind = H1_BODY_NONE,
		},
		{
			.head = S("HTTP/1.1 200 OK\r\n"
				  "Server: nginx/1.22.1\r\n"
				  "Date: Sat, 21 Nov 2026 22:49:10 GMT\r\n"
				  "Content-Type: text/plain\r\n"
				  "Content-Length: 3\r\n"
				  "Connection: keep-alive\r\n"
				  "\r\n"),
			.body = S("ok\n"),
			.method = "POST", .status = 200, .reason = "OK", .minor_version = 1,
			.num_headers = 5, .field = "content-length", .value = "3",
			.body_kind = H1_BODY_LENGTH,
		},
	},
};

static const struct recording nginx_head = {
	.name = "nginx answer to HEAD", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 200 OK\r\n"
			  "Server: nginx/1.22.1\r\n"
			  "Date: Sat, 21 Nov 2026 22:49:10 GMT\r\n"
			  "Content-Type: text/html\r\n"
			  "Content-Length: 60\r\n"
			  "Last-Modified: Sat, 21 Nov 2026 22:48:58 GMT\r\n"
			  "Connection: keep-alive\r\n"
			  "ETag: \"6b021fda-3c\"\r\n"
			  "Accept-Ranges: bytes\r\n"
			  "\r\n"),
		.body = S(""),
		.method = "HEAD", .status = 200, .reason = "OK", .minor_version = 1,
		.num_headers = 8, .field = "Content-Length", .value = "60",
		.body_kind = H1_BODY_NONE,
	} },
};

static const struct recording connect_200 = {
	.name = "proxy answer to CONNECT", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 200 Connection established\r\n"
			  "\r\n"),
		.body = S(""),
		.method = "CONNECT", .status = 200, .reason = "Connection established", .minor_version = 1,
		.num_headers = 0, .body_kind = H1_BODY_NONE, .tunnel = 1,
	} },
	.tail = S("\026\003\001\002\000\001\000\001\374\003\003[/\016*"),
};

static const struct recording websocket_101 = {
	.name = "101 Switching Protocols", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.1 101 Switching Protocols\r\n"
			  "Upgrade: websocket\r\n"
			  "Connection: Upgrade\r\n"
			  "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			  "\r\n"),
		.body = S(""),
		.method = "GET", .status = 101, .reason = "Switching Protocols", .minor_version = 1,
		.num_headers = 3, .field = "upgrade", .value = "websocket",
		.body_kind = H1_BODY_NONE, .tunnel = 1,
	} },
	.tail = S("\201\005Hello"),
};

static const struct recording python_http10_close = {
	.name = "python http.server HTTP/1.0 until close", .is_request = 0, .n_msgs = 1, .msgs = { {
		.head = S("HTTP/1.0 200 OK\r\n"
			  "Server: BaseHTTP/0.6 Python/3.11.7\r\n"
			  "Date: Sat, 21 Nov 2026 22:49:16 GMT\r\n"
			  "Content-Type: text/plain; charset=utf-8\r\n"
			  "\r\n"),
		.body = S("streamed until the server closes\n"),
		.method = "GET", .status = 200, .reason = "OK", .minor_version = 0,
		.num_headers = 3, .field = "content-type", .value = "text/plain; charset=utf-8",
		.body_kind = H1_BODY_UNTIL_CLOSE, .wants_close = 1,
	} },
};

/* Parse e's head from buf and check every field; returns the framing in *body. */
static void check_head(const struct recording *rec, const struct expect *e, const char *buf, size_t len,
		       struct h1_body *body)
{
	struct h1_request req;
	struct h1_response resp;
	const struct h1_header *h;
	size_t n;
	ssize_t r;

	if (rec->is_request) {
		r = h1_parse_request(buf, len, &req);
		cr_assert_eq(r, (ssize_t)e->head.len, "%s: head of %zu bytes, got %zd", rec->name, e->head.len, r);
		cr_assert(slice_is(req.method, e->method), "%s: method", rec->name);
		cr_assert(slice_is(req.target, e->target), "%s: target", rec->name);
		cr_assert_eq(req.minor_version, e->minor_version, "%s: version", rec->name);
		cr_assert_eq(h1_request_body(&req, body), 0, "%s: framing", rec->name);
		cr_assert_eq(h1_request_wants_close(&req), e->wants_close, "%s: close", rec->name);
		h = req.headers;
		n = req.num_headers;
	} else {
		r = h1_parse_response(buf, len, &resp);
		cr_assert_eq(r, (ssize_t)e->head.len, "%s: head of %zu bytes, got %zd", rec->name, e->head.len, r);
		cr_assert_eq(resp.status, e->status, "%s: status", rec->name);
		cr_assert(slice_is(resp.reason, e->reason), "%s: reason", rec->name);
		cr_assert_eq(resp.minor_version, e->minor_version, "%s: version", rec->name);
		cr_assert_eq(h1_response_body(&resp, method_slice(e->method), body), 0, "%s: framing", rec->name);
		cr_assert_eq(h1_response_wants_close(&resp), e->wants_close, "%s: close", rec->name);
		cr_assert_eq(h1_is_tunnel_response(&resp, method_slice(e->method)), e->tunnel, "%s: tunnel", rec->name);
		h = resp.headers;
		n = resp.num_headers;
	}
	cr_assert_eq(n, e->num_headers, "%s: %zu headers, got %zu", rec->name, e->num_headers, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert(h[i].name.p >= buf && h[i].value.p + h[i].value.len <= buf + r,
			  "%s: header %zu outside the head", rec->name, i);
	}
	if (e->field) {
		const struct h1_slice *v = h1_find_header(h, n, e->field);

		cr_assert_not_null(v, "%s: %s missing", rec->name, e->field);
		cr_assert(slice_is(*v, e->value), "%s: %s is \"%.*s\"", rec->name, e->field, (int)v->len, v->p);
	}
	cr_assert_eq(body->kind, e->body_kind, "%s: body kind %d, got %d", rec->name, e->body_kind, body->kind);
}

/* How consuming k bytes of the stream after the head must go. */
static void expect_consumed(const struct recording *rec, const struct expect *e, size_t k, ssize_t n, int done)
{
	int ends = e->body_kind != H1_BODY_UNTIL_CLOSE;
	size_t want = k < e->body.len ? k : e->body.len;

	if (!ends)
		want = k;
	cr_assert_eq(n, (ssize_t)want, "%s: fed %zu body bytes, consumed %zd, want %zu", rec->name, k, n, want);
	cr_assert_eq(done, ends && k >= e->body.len, "%s: fed %zu body bytes, done %d", rec->name, k, done);
}

static void check_body(const struct recording *rec, const struct expect *e, const struct h1_body *framing,
		       const char *data, size_t len, struct guard *g)
{
	struct h1_body b;
	int done;
	ssize_t n;

	/* Whole. */
	b = *framing;
	n = h1_body_consume(&b, guard_put(g, data, len), len, &done);
	expect_consumed(rec, e, len, n, done);

	/* Split at every position: the second call picks up where the first stopped. */
	for (size_t k = 0; k <= len; k++) {
		ssize_t n2 = 0;

		b = *framing;
		n = h1_body_consume(&b, guard_put(g, data, k), k, &done);
		expect_consumed(rec, e, k, n, done);
		if (!done) {
			n2 = h1_body_consume(&b, guard_put(g, data + k, len - k), len - k, &done);
			cr_assert_geq(n2, 0, "%s: split at %zu", rec->name, k);
		}
		expect_consumed(rec, e, len, n + n2, done);
	}

	/* Byte by byte, each byte alone before the guard page. */
	b = *framing;
	n = h1_body_consume(&b, guard_put(g, "", 0), 0, &done);
	expect_consumed(rec, e, 0, n, done);
	for (size_t k = 0; k < len && !done; k++) {
		n = h1_body_consume(&b, guard_put(g, data + k, 1), 1, &done);
		cr_assert_eq(n, 1, "%s: byte %zu of the body", rec->name, k);
		expect_consumed(rec, e, k + 1, (ssize_t)k + 1, done);
	}
	if (done) {
		n = h1_body_consume(&b, guard_put(g, "X", 1), 1, &done);
		cr_assert_eq(n, 0, "%s: consumed past the end", rec->name);
		cr_assert_eq(done, 1, "%s: done must stay set", rec->name);
	}
}

static void run_recording(const struct recording *rec)
{
	size_t total = rec->tail.len, off = 0;
	char *all;

	for (size_t i = 0; i < rec->n_msgs; i++)
		total += rec->msgs[i].head.len + rec->msgs[i].body.len;
	all = malloc(total);
	cr_assert_not_null(all);
	for (size_t i = 0; i < rec->n_msgs; i++) {
		memcpy(all + off, rec->msgs[i].head.p, rec->msgs[i].head.len);
		memcpy(all + off + rec->msgs[i].head.len, rec->msgs[i].body.p, rec->msgs[i].body.len);
		off += rec->msgs[i].head.len + rec->msgs[i].body.len;
	}
	if (rec->tail.len)
		memcpy(all + off, rec->tail.p, rec->tail.len);

	struct guard whole = guard_new(total), part = guard_new(total);

	off = 0;
	for (size_t i = 0; i < rec->n_msgs; i++) {
		const struct expect *e = &rec->msgs[i];
		size_t rest = total - off;
		struct h1_body framing;

		/* Every split of the stream from this message on: a prefix of the head needs more, a longer one parses the same. */
		for (size_t k = 0; k <= rest; k++) {
			const char *p = guard_put(&part, all + off, k);

			if (k < e->head.len) {
				struct h1_request req;
				struct h1_response resp;
				ssize_t r = rec->is_request ? h1_parse_request(p, k, &req) : h1_parse_response(p, k, &resp);

				cr_assert_eq(r, H1_NEED_MORE, "%s: message %zu cut at %zu: %zd", rec->name, i, k, r);
			} else {
				check_head(rec, e, p, k, &framing);
			}
		}
		check_head(rec, e, guard_put(&whole, all + off, rest), rest, &framing);
		check_body(rec, e, &framing, all + off + e->head.len, rest - e->head.len, &part);
		off += e->head.len + e->body.len;
	}
	cr_assert_eq(off + rec->tail.len, total);
	guard_free(&whole);
	guard_free(&part);
	free(all);
}

Test(h1_recorded, curl_get) { run_recording(&curl_get); }
Test(h1_recorded, python_post) { run_recording(&python_post); }
Test(h1_recorded, curl_chunked_upload) { run_recording(&curl_chunked_upload); }
Test(h1_recorded, pipelined_requests) { run_recording(&pipelined); }
Test(h1_recorded, nginx_200) { run_recording(&nginx_200); }
Test(h1_recorded, chunked_extensions_trailers) { run_recording(&chunked_trailers); }
Test(h1_recorded, nginx_gzip_chunked) { run_recording(&nginx_gzip_chunked); }
Test(h1_recorded, nginx_304) { run_recording(&nginx_304); }
Test(h1_recorded, continue_then_200) { run_recording(&nginx_100_continue); }
Test(h1_recorded, head_response) { run_recording(&nginx_head); }
Test(h1_recorded, connect_response) { run_recording(&connect_200); }
Test(h1_recorded, switching_protocols) { run_recording(&websocket_101); }
Test(h1_recorded, http10_until_close) { run_recording(&python_http10_close); }

/* ---- head parsing details ---- */

static ssize_t parse_req(struct guard *g, const char *s, struct h1_request *req)
{
	return h1_parse_request(guard_put(g, s, strlen(s)), strlen(s), req);
}

static ssize_t parse_resp(struct guard *g, const char *s, struct h1_response *resp)
{
	return h1_parse_response(guard_put(g, s, strlen(s)), strlen(s), resp);
}

Test(h1_head, bare_lf_line_endings)
{
	struct guard g = guard_new(4096);
	struct h1_request req;
	struct h1_response resp;
	const char *rq = "GET /x HTTP/1.0\nHost: a\r\nUser-Agent: nc\n\nrest";
	const char *rs = "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n";

	cr_assert_eq(parse_req(&g, rq, &req), (ssize_t)strlen(rq) - 4);
	cr_assert_eq(req.num_headers, 2);
	cr_assert(slice_is(req.headers[1].value, "nc"));
	cr_assert_eq(parse_resp(&g, rs, &resp), (ssize_t)strlen(rs));
	cr_assert_eq(resp.status, 404);
	cr_assert(slice_is(resp.reason, "Not Found"));
	guard_free(&g);
}

Test(h1_head, leading_empty_lines_skipped)
{
	struct guard g = guard_new(4096);
	struct h1_request req;
	struct h1_response resp;

	cr_assert_eq(parse_req(&g, "\r\nGET / HTTP/1.1\r\n\r\n", &req), 20);
	cr_assert(slice_is(req.method, "GET"));
	cr_assert_eq(parse_req(&g, "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n", &req), 23);
	cr_assert(slice_is(req.method, "GET"));
	cr_assert_eq(parse_req(&g, "\r\n\r", &req), H1_NEED_MORE);
	cr_assert_eq(parse_req(&g, "\r\rGET / HTTP/1.1\r\n\r\n", &req), H1_ERROR);
	cr_assert_eq(parse_resp(&g, "\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", &resp), 31);
	cr_assert_eq(resp.status, 204);
	cr_assert_eq(parse_resp(&g, "\n", &resp), H1_NEED_MORE);
	cr_assert_eq(h1_looks_like_request("\r\n\r\nGET / HTTP/1.1", 19), 1);
	cr_assert_eq(h1_looks_like_response("\r\nHTTP/1.1 200 OK", 17), 1);
	cr_assert_eq(h1_looks_like_request("\r\n\r\n", 4), H1_NEED_MORE);
	cr_assert_eq(h1_looks_like_response("\r\nGET / HTTP/1.1", 16), 0);
	/* Detection wants a start line soon: a stream of empty lines is not HTTP. */
	cr_assert_eq(h1_looks_like_request("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nGET / HTTP/1.1", 30), 1);
	cr_assert_eq(h1_looks_like_request("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nGET / HTTP/1.1", 31), 0);
	guard_free(&g);
}

Test(h1_head, ows_trimmed_and_empty_values)
{
	struct guard g = guard_new(4096);
	struct h1_request req;

	cr_assert_gt(parse_req(&g, "GET / HTTP/1.1\r\nX-A: \t two  words \t \r\nX-B:\r\nX-C:   \r\n\r\n", &req), 0);
	cr_assert_eq(req.num_headers, 3);
	cr_assert(slice_is(req.headers[0].value, "two  words"));
	cr_assert_eq(req.headers[1].value.len, 0);
	cr_assert_eq(req.headers[2].value.len, 0);
	guard_free(&g);
}

Test(h1_head, status_line_variants)
{
	struct guard g = guard_new(4096);
	struct h1_response resp;

	cr_assert_eq(parse_resp(&g, "HTTP/1.1 200\r\n\r\n", &resp), 16);
	cr_assert_eq(resp.status, 200);
	cr_assert_eq(resp.reason.len, 0);
	cr_assert_eq(parse_resp(&g, "HTTP/1.1 999 \r\n\r\n", &resp), 17);
	cr_assert_eq(resp.status, 999);
	cr_assert_eq(parse_resp(&g, "HTTP/1.0 503 Service\tUnavailable\r\n\r\n", &resp), 36);
	cr_assert(slice_is(resp.reason, "Service\tUnavailable"));
	guard_free(&g);
}

Test(h1_head, find_header_is_case_insensitive_first_match)
{
	struct guard g = guard_new(4096);
	struct h1_request req;

	cr_assert_gt(parse_req(&g, "GET / HTTP/1.1\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Type: a\r\n\r\n", &req), 0);
	cr_assert(slice_is(*h1_find_header(req.headers, req.num_headers, "X-DUP"), "1"));
	cr_assert(slice_is(*h1_find_header(req.headers, req.num_headers, "content-type"), "a"));
	cr_assert_null(h1_find_header(req.headers, req.num_headers, "content-typ"));
	cr_assert_null(h1_find_header(req.headers, req.num_headers, "host"));
	cr_assert_null(h1_find_header(req.headers, 0, "x-dup"));
	guard_free(&g);
}

Test(h1_head, wants_close)
{
	struct guard g = guard_new(4096);
	struct h1_request req;
	struct h1_response resp;

	cr_assert_gt(parse_req(&g, "GET / HTTP/1.0\r\n\r\n", &req), 0);
	cr_assert_eq(h1_request_wants_close(&req), 1);
	cr_assert_gt(parse_req(&g, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req), 0);
	cr_assert_eq(h1_request_wants_close(&req), 0);
	cr_assert_gt(parse_req(&g, "GET / HTTP/1.1\r\n\r\n", &req), 0);
	cr_assert_eq(h1_request_wants_close(&req), 0);
	cr_assert_gt(parse_req(&g, "GET / HTTP/1.1\r\nConnection: upgrade\r\nConnection: TE, Close\r\n\r\n", &req), 0);
	cr_assert_eq(h1_request_wants_close(&req), 1);
	cr_assert_gt(parse_req(&g, "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &req), 0);
	cr_assert_eq(h1_request_wants_close(&req), 0);
	cr_assert_gt(parse_resp(&g, "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n", &resp), 0);
	cr_assert_eq(h1_response_wants_close(&resp), 1);
	cr_assert_gt(parse_resp(&g, "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", &resp), 0);
	cr_assert_eq(h1_response_wants_close(&resp), 0);
	guard_free(&g);
}

/* ---- head errors ---- */

struct bad_head {
	int is_request;
	struct lit bytes;
};

static const struct bad_head bad_heads[] = {
	{ 1, S("GE(T / HTTP/1.1\r\n\r\n") },                     /* non-token method */
	{ 1, S("G\"ET / HTTP/1.1\r\n\r\n") },
	{ 1, S(" GET / HTTP/1.1\r\n\r\n") },                     /* empty method */
	{ 1, S("GET /\r\nHost: a\r\n\r\n") },                    /* missing version (HTTP/0.9) */
	{ 1, S("GET / \r\n\r\n") },
	{ 1, S("GET / HTTP/2.0\r\n\r\n") },                      /* bad versions */
	{ 1, S("GET / HTTP/1.2\r\n\r\n") },
	{ 1, S("GET / http/1.1\r\n\r\n") },
	{ 1, S("GET / HTTP/1.1 \r\n\r\n") },
	{ 1, S("GET /a\001b HTTP/1.1\r\n\r\n") },                 /* control byte in the target */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\000b\r\n\r\n") },        /* NUL in a value */
	{ 1, S("GET / HTTP/1.1\r\nX\000A: a\r\n\r\n") },          /* NUL in a name */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\001b\r\n\r\n") },        /* other control bytes */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\177\r\n\r\n") },
	{ 1, S("GET / HTTP/1.1\r\nX-A : a\r\n\r\n") },           /* SP before the colon */
	{ 1, S("GET / HTTP/1.1\r\n: a\r\n\r\n") },               /* empty field name */
	{ 1, S("GET / HTTP/1.1\r\nX-A a\r\n\r\n") },             /* no colon */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n") },  /* obs-fold */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\r\n\tfolded\r\n\r\n") },
	{ 1, S("GET / HTTP/1.1\r\n X-A: a\r\n\r\n") },           /* whitespace before the first field */
	{ 1, S("GET / HTTP/1.1\rX-A: a\r\n\r\n") },              /* CR without LF */
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\r\r\n\r\n") },
	{ 1, S("GET / HTTP/1.1\r\nX-A: a\r\n\r\r\n") },
	{ 1, S("\026\003\001\002\000\001\000\001\374\003\003") }, /* TLS ClientHello */
	{ 1, S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") },             /* HTTP/2 preface */
	{ 1, S("*1\r\n$4\r\nPING\r\n") },                         /* RESP */
	{ 0, S("HTTP/1.1 20 OK\r\n\r\n") },                      /* bad status codes */
	{ 0, S("HTTP/1.1 2000 OK\r\n\r\n") },
	{ 0, S("HTTP/1.1 099 OK\r\n\r\n") },
	{ 0, S("HTTP/1.1 2x0 OK\r\n\r\n") },
	{ 0, S("HTTP/1.1 OK\r\n\r\n") },
	{ 0, S("HTTP/2 200\r\n\r\n") },                          /* bad versions */
	{ 0, S("HTTP/1.2 200 OK\r\n\r\n") },
	{ 0, S("HTTP/1.1 200 O\001K\r\n\r\n") },                  /* control bytes */
	{ 0, S("HTTP/1.1 200 OK\r\nServer: a\000b\r\n\r\n") },
	{ 0, S("HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\n  c=d\r\n\r\n") }, /* obs-fold */
	{ 0, S("GET / HTTP/1.1\r\n\r\n") },                      /* a request is no response */
};

Test(h1_errors, bad_heads_and_all_their_prefixes)
{
	struct guard g = guard_new(4096);

	for (size_t i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++) {
		const struct bad_head *b = &bad_heads[i];

		for (size_t k = 0; k <= b->bytes.len; k++) {
			struct h1_request req;
			struct h1_response resp;
			const char *p = guard_put(&g, b->bytes.p, k);
			ssize_t r = b->is_request ? h1_parse_request(p, k, &req) : h1_parse_response(p, k, &resp);

			if (k == b->bytes.len)
				cr_assert_eq(r, H1_ERROR, "bad head %zu: got %zd", i, r);
			else
				cr_assert(r == H1_NEED_MORE || r == H1_ERROR, "bad head %zu cut at %zu: got %zd", i, k, r);
		}
	}
	guard_free(&g);
}

/* ---- every byte value at every offset of each part of a head ---- */

/* RFC 9110's classes, byte by byte, as the oracle of the word-at-a-time scans. */
static int oracle_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int oracle_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

enum part { PART_METHOD, PART_TARGET, PART_NAME, PART_VALUE, PART_REASON };

#define RUN_LEN 21 /* more than two words, not a multiple of 8 */

/* The head with a run of RUN_LEN 'a's in part, byte c at offset i of it. */
static size_t head_with_byte(char *buf, enum part part, size_t i, unsigned char c)
{
	char run[RUN_LEN + 1];
	size_t len;

	memset(run, 'a', RUN_LEN);
	run[RUN_LEN] = '\0';
	run[i] = (char)c;
	switch (part) {
	case PART_METHOD: len = (size_t)sprintf(buf, "%.*s / HTTP/1.1\r\n\r\n", RUN_LEN, run); break;
	case PART_TARGET: len = (size_t)sprintf(buf, "GET /%.*s HTTP/1.1\r\n\r\n", RUN_LEN, run); break;
	case PART_NAME: len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX%.*s: v\r\n\r\n", RUN_LEN, run); break;
	case PART_VALUE: len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX: v%.*sv\r\n\r\n", RUN_LEN, run); break;
	default: len = (size_t)sprintf(buf, "HTTP/1.1 200 %.*s\r\n\r\n", RUN_LEN, run); break;
	}
	/* sprintf stopped at a NUL: put the run back whole. */
	if (c == 0) {
		char *at = memchr(buf, 0, len + 1);

		memmove(at + (RUN_LEN - i), at, len + 1 - (size_t)(at - buf));
		memcpy(at, run + i, RUN_LEN - i);
		at[0] = 0;
		len += RUN_LEN - i;
	}
	return len;
}

Test(h1_errors, every_byte_at_every_offset)
{
	struct guard g = guard_new(4096);
	char buf[128];

	for (int part = PART_METHOD; part <= PART_REASON; part++) {
		for (size_t i = 0; i < RUN_LEN; i++) {
			for (unsigned c = 0; c < 256; c++) {
				size_t len = head_with_byte(buf, part, i, (unsigned char)c);
				const char *p = guard_put(&g, buf, len);
				struct h1_request req;
				struct h1_response resp;
				ssize_t r = part == PART_REASON ? h1_parse_response(p, len, &resp)
								: h1_parse_request(p, len, &req);
				int ok, last = i == RUN_LEN - 1;

				switch (part) {
				/* A bare LF first is an empty line before the head; a
				 * space last, one more before the next part. */
				case PART_METHOD: ok = oracle_tchar(c) || (i == 0 && c == '\n') || (last && c == ' '); break;
				case PART_TARGET: ok = (c > 0x20 && c != 0x7f) || (last && c == ' '); break;
				/* A colon ends the name early: the rest is the value. */
				case PART_NAME: ok = oracle_tchar(c) || c == ':'; break;
				default: ok = oracle_text(c); break;
				}
				cr_assert_eq(r == (ssize_t)len, ok, "part %d, byte 0x%02x at %zu: got %zd of %zu", part, c,
					     i, r, len);
				if (!ok)
					continue;
				if (part == PART_TARGET)
					cr_assert_eq(req.target.len, RUN_LEN + 1 - (c == ' '));
				else if (part == PART_NAME && c != ':')
					cr_assert_eq(req.headers[0].name.len, RUN_LEN + 1);
				else if (part == PART_VALUE)
					cr_assert_eq(req.headers[0].value.len, RUN_LEN + 2);
				else if (part == PART_REASON)
					cr_assert_eq(resp.reason.len, RUN_LEN - (i == 0 && c == ' '));
			}
		}
	}
	guard_free(&g);
}

/* A request head with n fields "X-Hnn: v", unterminated if end is NULL. */
static size_t head_with_fields(char *buf, size_t cap, size_t n, const char *end)
{
	size_t len = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\n");

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "X-H%zu: v\r\n", i);
	if (end)
		len += (size_t)snprintf(buf + len, cap - len, "%s", end);
	cr_assert_lt(len, cap);
	return len;
}

Test(h1_errors, too_many_headers)
{
	struct guard g = guard_new(4096);
	struct h1_request req;
	char buf[2048];
	size_t len;

	len = head_with_fields(buf, sizeof(buf), H1_MAX_HEADERS, "\r\n");
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, len), len, &req), (ssize_t)len);
	cr_assert_eq(req.num_headers, H1_MAX_HEADERS);
	len = head_with_fields(buf, sizeof(buf), H1_MAX_HEADERS, "\r");
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, len), len, &req), H1_NEED_MORE);
	/* The first byte of a field past the limit is enough to give up. */
	len = head_with_fields(buf, sizeof(buf), H1_MAX_HEADERS, "X");
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, len), len, &req), H1_ERROR);
	len = head_with_fields(buf, sizeof(buf), H1_MAX_HEADERS + 1, "\r\n");
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, len), len, &req), H1_ERROR);
	guard_free(&g);
}

/* A request head of exactly len bytes, padded in one field; terminated or not. */
static void padded_head(char *buf, size_t len, int terminated)
{
	static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ";

	memcpy(buf, start, sizeof(start) - 1);
	memset(buf + sizeof(start) - 1, 'a', len - (sizeof(start) - 1));
	if (terminated)
		memcpy(buf + len - 4, "\r\n\r\n", 4);
}

Test(h1_errors, head_too_long)
{
	size_t cap = H1_MAX_HEAD_LEN + 64;
	struct guard g = guard_new(cap);
	struct h1_request req;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	padded_head(buf, H1_MAX_HEAD_LEN, 1);
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, H1_MAX_HEAD_LEN), H1_MAX_HEAD_LEN, &req), H1_MAX_HEAD_LEN);
	cr_assert_eq(req.headers[0].value.len, H1_MAX_HEAD_LEN - 27);
	/* A complete head at the limit, followed by more bytes, is still fine. */
	memset(buf + H1_MAX_HEAD_LEN, 'b', 64);
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, cap), cap, &req), H1_MAX_HEAD_LEN);

	padded_head(buf, H1_MAX_HEAD_LEN + 1, 1);
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, H1_MAX_HEAD_LEN + 1), H1_MAX_HEAD_LEN + 1, &req), H1_ERROR);
	padded_head(buf, H1_MAX_HEAD_LEN - 1, 0);
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, H1_MAX_HEAD_LEN - 1), H1_MAX_HEAD_LEN - 1, &req),
		     H1_NEED_MORE);
	padded_head(buf, H1_MAX_HEAD_LEN, 0);
	cr_assert_eq(h1_parse_request(guard_put(&g, buf, H1_MAX_HEAD_LEN), H1_MAX_HEAD_LEN, &req), H1_ERROR);

	/* Same bound for responses. */
	memcpy(buf, "HTTP/1.1 200 OK\r\nX-Pad: ", 24);
	memset(buf + 24, 'a', cap - 24);
	struct h1_response resp;
	cr_assert_eq(h1_parse_response(guard_put(&g, buf, cap), cap, &resp), H1_ERROR);
	cr_assert_eq(h1_parse_response(guard_put(&g, buf, 4096), 4096, &resp), H1_NEED_MORE);
	free(buf);
	guard_free(&g);
}

/* ---- body framing ---- */

static int req_framing(struct guard *g, const char *head, struct h1_body *body)
{
	struct h1_request req;

	cr_assert_gt(parse_req(g, head, &req), 0, "%s", head);
	return h1_request_body(&req, body);
}

static int resp_framing(struct guard *g, const char *head, const char *method, struct h1_body *body)
{
	struct h1_response resp;

	cr_assert_gt(parse_resp(g, head, &resp), 0, "%s", head);
	return h1_response_body(&resp, method_slice(method), body);
}

Test(h1_framing, content_length)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	char head[256];

	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_LENGTH);
	cr_assert_eq(b.remaining, 0);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", &b), 0);
	cr_assert_eq(b.remaining, UINT64_MAX);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n", &b), 0);
	cr_assert_eq(b.remaining, 7);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 7, 7\r\n\r\n", &b), 0);
	cr_assert_eq(b.remaining, 7);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n", &b), 0);
	cr_assert_eq(b.remaining, 7);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nHost: a\r\n\r\n", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_NONE);
	cr_assert_eq(resp_framing(&g, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_LENGTH);
	cr_assert_eq(b.remaining, 42);

	/* Conflicting, negative, garbage, empty or overflowing: the framing is unknowable. */
	static const char *const bad[] = {
		"Content-Length: 5\r\nContent-Length: 6",
		"Content-Length: 5, 6",
		"Content-Length: 5,",
		"Content-Length: -1",
		"Content-Length: +5",
		"Content-Length: 12abc",
		"Content-Length: 0x10",
		"Content-Length: 1 2",
		"Content-Length:",
		"Content-Length: 18446744073709551616",
		"Content-Length: 99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(head, sizeof(head), "POST / HTTP/1.1\r\n%s\r\n\r\n", bad[i]);
		cr_assert_eq(req_framing(&g, head, &b), H1_ERROR, "%s", head);
		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n%s\r\n\r\n", bad[i]);
		cr_assert_eq(resp_framing(&g, head, "GET", &b), H1_ERROR, "%s", head);
	}
	guard_free(&g);
}

Test(h1_framing, transfer_encoding)
{
	struct guard g = guard_new(4096);
	struct h1_body b;

	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_CHUNKED);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_CHUNKED);
	/* Transfer-Encoding overrides Content-Length, even an invalid one. */
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_CHUNKED);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &b), H1_ERROR);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &b), H1_ERROR);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", &b), H1_ERROR);
	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding:\r\nContent-Length: 1\r\n\r\n", &b), H1_ERROR);

	cr_assert_eq(resp_framing(&g, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_UNTIL_CLOSE);
	cr_assert_eq(resp_framing(&g, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
				      "Content-Length: 9\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_CHUNKED);
	guard_free(&g);
}

Test(h1_framing, responses_without_body)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	static const char cl[] = "Content-Length: 10\r\n\r\n";
	char head[128];
	static const struct {
		int status;
		const char *method;
		enum h1_body_kind kind;
		int tunnel;
	} cases[] = {
		{ 100, "GET", H1_BODY_NONE, 0 },        { 101, "GET", H1_BODY_NONE, 1 },
		{ 199, NULL, H1_BODY_NONE, 0 },         { 204, "DELETE", H1_BODY_NONE, 0 },
		{ 304, "GET", H1_BODY_NONE, 0 },        { 200, "HEAD", H1_BODY_NONE, 0 },
		{ 404, "HEAD", H1_BODY_NONE, 0 },       { 200, "CONNECT", H1_BODY_NONE, 1 },
		{ 299, "CONNECT", H1_BODY_NONE, 1 },    { 407, "CONNECT", H1_BODY_LENGTH, 0 },
		{ 200, "GET", H1_BODY_LENGTH, 0 },      { 200, NULL, H1_BODY_LENGTH, 0 },
		{ 200, "connect", H1_BODY_LENGTH, 0 },  { 205, "POST", H1_BODY_LENGTH, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h1_response resp;

		snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n%s", cases[i].status, cl);
		cr_assert_gt(parse_resp(&g, head, &resp), 0);
		cr_assert_eq(h1_response_body(&resp, method_slice(cases[i].method), &b), 0);
		cr_assert_eq(b.kind, cases[i].kind, "%d to %s", cases[i].status, cases[i].method);
		cr_assert_eq(h1_is_tunnel_response(&resp, method_slice(cases[i].method)), cases[i].tunnel,
			     "%d to %s", cases[i].status, cases[i].method);
	}
	cr_assert_eq(resp_framing(&g, "HTTP/1.1 200 OK\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(b.kind, H1_BODY_UNTIL_CLOSE);
	guard_free(&g);
}

/* ---- chunked decoding ---- */

static void chunked_body(struct h1_body *b)
{
	struct guard g = guard_new(4096);

	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b), 0);
	guard_free(&g);
}

/* Feed s whole, then byte by byte; both must end in result (H1_ERROR or the consumed count). */
static void expect_chunked(struct lit s, ssize_t result, int done_want)
{
	struct guard g = guard_new(s.len + 1);
	struct h1_body b;
	ssize_t n = 0, r;
	int done;

	chunked_body(&b);
	r = h1_body_consume(&b, guard_put(&g, s.p, s.len), s.len, &done);
	cr_assert_eq(r, result, "\"%.*s\": whole gave %zd", (int)s.len, s.p, r);
	if (r >= 0)
		cr_assert_eq(done, done_want, "\"%.*s\"", (int)s.len, s.p);
	else
		cr_assert_eq(h1_body_consume(&b, guard_put(&g, "0\r\n\r\n", 5), 5, &done), H1_ERROR,
			     "errors are sticky");

	chunked_body(&b);
	for (size_t k = 0; k < s.len; k++) {
		r = h1_body_consume(&b, guard_put(&g, s.p + k, 1), 1, &done);
		if (r <= 0)
			break;
		n += r;
	}
	if (result < 0)
		cr_assert_eq(r, H1_ERROR, "\"%.*s\": byte by byte gave %zd", (int)s.len, s.p, r);
	else
		cr_assert_eq(n, result, "\"%.*s\": byte by byte consumed %zd", (int)s.len, s.p, n);
	guard_free(&g);
}

Test(h1_chunked, valid_encodings)
{
	expect_chunked((struct lit)S("0\r\n\r\n"), 5, 1);
	expect_chunked((struct lit)S("0\n\nnext"), 3, 1);
	expect_chunked((struct lit)S("3\nabc\n0\n\n"), 9, 1);
	expect_chunked((struct lit)S("000A\r\n0123456789\r\n0\r\n\r\n"), 23, 1);
	expect_chunked((struct lit)S("a;x=\"\t;\"\r\n0123456789\r\n0\r\nA: b\r\nC:\r\n\r\nGET"), 37, 1);
	expect_chunked((struct lit)S("ffffffffffffffff\r\nab"), 20, 0);
	expect_chunked((struct lit)S("5\r\nhel"), 6, 0);
	expect_chunked((struct lit)S("2 \t\r\nab\r\n1\t;a=b\r\nc\r\n0 \r\n\r\n"), 26, 1);
}

Test(h1_chunked, bad_encodings)
{
	char ext[H1_MAX_CHUNK_EXT_LEN + 16];
	struct lit l = { ext, 0 };

	expect_chunked((struct lit)S("zz\r\n"), H1_ERROR, 0);                    /* not hex */
	expect_chunked((struct lit)S("\r\n"), H1_ERROR, 0);                      /* no digits */
	expect_chunked((struct lit)S(";x\r\n"), H1_ERROR, 0);
	expect_chunked((struct lit)S("-1\r\n"), H1_ERROR, 0);
	expect_chunked((struct lit)S("0x5\r\nhello\r\n"), H1_ERROR, 0);
	expect_chunked((struct lit)S("5 5\r\nhello\r\n"), H1_ERROR, 0);          /* junk after BWS */
	expect_chunked((struct lit)S("10000000000000000\r\n"), H1_ERROR, 0);     /* 17 digits: overflow */
	expect_chunked((struct lit)S("00000000000000001\r\n"), H1_ERROR, 0);     /* 17 digits, even if small */
	expect_chunked((struct lit)S("5\rhello\r\n"), H1_ERROR, 0);             /* CR without LF */
	expect_chunked((struct lit)S("5\r\nhelloX\r\n"), H1_ERROR, 0);         /* data longer than its size */
	expect_chunked((struct lit)S("5\r\nhello\rX"), H1_ERROR, 0);
	expect_chunked((struct lit)S("5;a\000b\r\nhello\r\n"), H1_ERROR, 0);    /* control byte in an extension */
	expect_chunked((struct lit)S("0\r\nA: \001\r\n\r\n"), H1_ERROR, 0);     /* control byte in a trailer */
	expect_chunked((struct lit)S("0\r\nA: b\rX"), H1_ERROR, 0);
	expect_chunked((struct lit)S("0\r\n\rX"), H1_ERROR, 0);

	/* An extension at the bound is skipped; one byte more is an error. */
	l.len = (size_t)snprintf(ext, sizeof(ext), "1;");
	memset(ext + l.len, 'e', H1_MAX_CHUNK_EXT_LEN - 1);
	l.len += H1_MAX_CHUNK_EXT_LEN - 1;
	memcpy(ext + l.len, "\r\nx\r\n", 5);
	l.len += 5;
	expect_chunked(l, (ssize_t)l.len, 0);
	memmove(ext + 3, ext + 2, l.len - 2);
	l.len++;
	expect_chunked(l, H1_ERROR, 0);
}

Test(h1_chunked, trailer_section_bound)
{
	size_t cap = H1_MAX_TRAILER_LEN + 64;
	char *buf = malloc(cap);
	struct lit l = { buf, 0 };

	cr_assert_not_null(buf);
	memcpy(buf, "0\r\nX: ", 6);
	memset(buf + 6, 'a', cap - 6);
	l.len = 3 + H1_MAX_TRAILER_LEN;
	memcpy(buf + l.len - 4, "\r\n\r\n", 4);
	expect_chunked(l, (ssize_t)l.len, 1);
	memset(buf + 6, 'a', cap - 6);
	l.len = 3 + H1_MAX_TRAILER_LEN + 1;
	memcpy(buf + l.len - 4, "\r\n\r\n", 4);
	expect_chunked(l, H1_ERROR, 0);
	free(buf);
}

/* ---- gaps ---- */

Test(h1_skip, within_content_length)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	int done;

	cr_assert_eq(req_framing(&g, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", &b), 0);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "0123456789", 10), 10, &done), 10);
	cr_assert_eq(h1_body_skip(&b, 50, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(b.remaining, 40);
	cr_assert_eq(h1_body_skip(&b, 41, &done), H1_ERROR);
	cr_assert_eq(b.remaining, 40, "a failed skip leaves the body alone");
	cr_assert_eq(h1_body_skip(&b, 40, &done), 0);
	cr_assert_eq(done, 1);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "GET", 3), 3, &done), 0);
	cr_assert_eq(done, 1);
	guard_free(&g);
}

Test(h1_skip, within_chunk_data)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	int done;

	chunked_body(&b);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "a\r\n0123", 7), 7, &done), 7);
	cr_assert_eq(b.chunk_state, H1_CHUNK_DATA);
	cr_assert_eq(h1_body_skip(&b, 4, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(h1_body_skip(&b, 2, &done), 0);
	cr_assert_eq(b.chunk_state, H1_CHUNK_DATA_CR);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "\r\n0\r\n\r\n", 7), 7, &done), 7);
	cr_assert_eq(done, 1);
	guard_free(&g);
}

Test(h1_skip, across_chunk_boundary_is_an_error)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	int done;

	chunked_body(&b);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "a\r\n", 3), 3, &done), 3);
	cr_assert_eq(h1_body_skip(&b, 11, &done), H1_ERROR);
	cr_assert_eq(b.remaining, 10, "a failed skip leaves the body alone");
	cr_assert_eq(h1_body_skip(&b, 10, &done), 0);
	cr_assert_eq(h1_body_skip(&b, 1, &done), H1_ERROR, "the CRLF after the data is framing");
	cr_assert_eq(h1_body_skip(&b, 0, &done), 0);

	/* In a size line or the trailers the framing is unknown. */
	chunked_body(&b);
	cr_assert_eq(h1_body_skip(&b, 1, &done), H1_ERROR);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "0\r\n", 3), 3, &done), 3);
	cr_assert_eq(h1_body_skip(&b, 1, &done), H1_ERROR);
	guard_free(&g);
}

Test(h1_skip, until_close_and_none)
{
	struct guard g = guard_new(4096);
	struct h1_body b;
	int done;

	cr_assert_eq(resp_framing(&g, "HTTP/1.0 200 OK\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(h1_body_skip(&b, UINT64_C(1) << 40, &done), 0);
	cr_assert_eq(done, 0);
	cr_assert_eq(h1_body_consume(&b, guard_put(&g, "abc", 3), 3, &done), 3);
	cr_assert_eq(done, 0);

	cr_assert_eq(resp_framing(&g, "HTTP/1.1 204 No Content\r\n\r\n", "GET", &b), 0);
	cr_assert_eq(h1_body_skip(&b, 0, &done), 0);
	cr_assert_eq(done, 1);
	cr_assert_eq(h1_body_skip(&b, 1, &done), H1_ERROR);
	guard_free(&g);
}

/* ---- detection ---- */

static int looks(int request, const char *s, size_t len)
{
	struct guard g = guard_new(4096);
	const char *p = guard_put(&g, s, len);
	int r = request ? h1_looks_like_request(p, len) : h1_looks_like_response(p, len);

	guard_free(&g);
	return r;
}

Test(h1_detect, requests)
{
	static const char *const methods[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"PROPFIND", "MKCOL", "M-SEARCH", "VERSION-CONTROL", "UPDATEREDIRECTREF",
	};
	char line[64];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t mlen = strlen(methods[i]);
		int len = snprintf(line, sizeof(line), "%s /index.html HTTP/1.1\r\n", methods[i]);

		cr_assert_eq(looks(1, line, (size_t)len), 1, "%s", methods[i]);
		cr_assert_eq(looks(1, line, mlen + 2), 1, "%s", methods[i]);
		for (size_t k = 0; k <= mlen + 1; k++)
			cr_assert_eq(looks(1, line, k), H1_NEED_MORE, "%s cut at %zu", methods[i], k);
		cr_assert_eq(looks(0, line, (size_t)len), 0, "%s is no response", methods[i]);
	}
	cr_assert_eq(looks(1, "CONNECT example.com:443 HTTP/1.1\r\n", 13), 1);
	cr_assert_eq(looks(1, "OPTIONS * HTTP/1.1\r\n", 10), 1);
}

Test(h1_detect, responses)
{
	static const char *const lines[] = { "HTTP/1.0 200 OK\r\n", "HTTP/1.1 404 Not Found\r\n", "HTTP/1.1 101 " };

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cr_assert_eq(looks(0, lines[i], strlen(lines[i])), 1, "%s", lines[i]);
		cr_assert_eq(looks(0, lines[i], 9), 1, "%s", lines[i]);
		for (size_t k = 0; k < 9; k++)
			cr_assert_eq(looks(0, lines[i], k), H1_NEED_MORE, "%s cut at %zu", lines[i], k);
		cr_assert_eq(looks(1, lines[i], strlen(lines[i])), 0, "%s is no request", lines[i]);
	}
	cr_assert_eq(looks(0, "HTTP/1.2 200 OK", 15), 0);
	cr_assert_eq(looks(0, "HTTP/2 200", 10), 0);
	cr_assert_eq(looks(0, "HTTP/1.1\t200", 12), 0);
	cr_assert_eq(looks(0, "http/1.1 200", 12), 0);
}

Test(h1_detect, rejects_other_protocols)
{
	static const struct lit others[] = {
		S("\026\003\001\002\000\001\000\001\374\003\003"),   /* TLS ClientHello */
		S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),               /* HTTP/2 preface */
		S("*1\r\n$4\r\nPING\r\n"),                           /* RESP */
		S("+OK\r\n"),
		S("\000\000\000\004\001\000\000\000\000"),           /* HTTP/2 SETTINGS ack */
		S("get / HTTP/1.1\r\n"),                               /* lowercase: valid token, never seen */
		S("GE / HTTP/1.1\r\n"),                                /* shorter than any method */
		S("ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\n"),              /* longer than any method */
		S("GET\t/ HTTP/1.1\r\n"),
		S("GET  / HTTP/1.1\r\n"),
		S("GET \r\n"),
		S("SSH-2.0-OpenSSH_9.2\r\n"),
	};

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		cr_assert_eq(looks(1, others[i].p, others[i].len), 0, "request %zu", i);
		cr_assert_eq(looks(0, others[i].p, others[i].len), 0, "response %zu", i);
	}
	cr_assert_eq(looks(1, "PRI ", 4), 0, "the HTTP/2 preface is decided at its SP");
	cr_assert_eq(looks(1, "PRI", 3), H1_NEED_MORE);
	cr_assert_eq(looks(1, "PRIX / HTTP/1.1", 15), 1);
}

Test(h1_detect, rejects_random_bytes)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	unsigned char buf[64];

	for (int round = 0; round < 20000; round++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (unsigned char)x;
		}
		cr_assert_eq(h1_looks_like_request((const char *)buf, sizeof(buf)), 0, "round %d", round);
		cr_assert_eq(h1_looks_like_response((const char *)buf, sizeof(buf)), 0, "round %d", round);
	}
}

/*
 * Unit tests for user/h2_session.c (and grpc.c), driven like the capture
 * drives it: synthetic events through user/conn_tracker.c, spans caught at
 * trace.c's sink with all their tags, compared exactly.
 *
 * Conversations are either recorded from real peers (the .rec files of tests/data/h2,
 * made by tests/data/h2/record.py: nghttp/nghttpd, curl/h2o, python grpcio)
 * and replayed whole and split at every byte, or built here frame by frame
 * with nghttp2's own HPACK deflater.
 */
#include <criterion/criterion.h>

#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_builder.h"
#include "parse/h2_frame.h"
#include "conn/proto.h"
#include "session/h2_streams.h"

#define IN SS_DIR_INGRESS
#define OUT SS_DIR_EGRESS
#define SERVER SPAN_KIND_SERVER
#define CLIENT SPAN_KIND_CLIENT

/* ---- spans with every tag ---- */

#define T_MAX_SPANS 1024

struct tspan {
	enum span_kind kind;
	uint8_t trace_id[16], trace_id_len, parent_id[8];
	bool has_parent;
	char name[SPAN_NAME_MAX];
	uint64_t timestamp_us, duration_us;
	unsigned ntags;
	const char *keys[SPAN_MAX_TAGS];
	char values[SPAN_MAX_TAGS][SPAN_TAG_VALUE_MAX];
};

static struct tspan spans[T_MAX_SPANS];
static size_t nspans;

static void sink(void *ctx, const struct span *s)
{
	struct tspan *o;

	(void)ctx;
	if (nspans++ >= T_MAX_SPANS)
		return;
	o = &spans[nspans - 1];
	o->kind = s->kind;
	memcpy(o->trace_id, s->trace_id, sizeof(o->trace_id));
	o->trace_id_len = s->trace_id_len;
	memcpy(o->parent_id, s->parent_id, sizeof(o->parent_id));
	o->has_parent = s->has_parent;
	snprintf(o->name, sizeof(o->name), "%s", s->name);
	o->timestamp_us = s->timestamp_us;
	o->duration_us = s->duration_us;
	o->ntags = s->num_tags;
	for (unsigned i = 0; i < s->num_tags; i++) {
		o->keys[i] = s->tags[i].key;
		snprintf(o->values[i], sizeof(o->values[i]), "%s", s->tags[i].value);
	}
}

static void setup(void)
{
	eb_setup();
	nspans = 0;
	eb_sink_fn = sink;
}

TestSuite(h2_recorded, .init = setup, .fini = eb_teardown);
TestSuite(h2_upgrade, .init = setup, .fini = eb_teardown);
TestSuite(h2_frames, .init = setup, .fini = eb_teardown);
TestSuite(h2_hpack, .init = setup, .fini = eb_teardown);
TestSuite(h2_grpc, .init = setup, .fini = eb_teardown);
TestSuite(h2_attach, .init = setup, .fini = eb_teardown);
TestSuite(h2_loss, .init = setup, .fini = eb_teardown);
TestSuite(h2_detect, .init = setup, .fini = eb_teardown);
TestSuite(h2_limits, .init = setup, .fini = eb_teardown);

/* Tags of span i as "key=value" lines, in order. */
static void tags_of(size_t i, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned t = 0; t < spans[i].ntags && o < cap; t++)
		o += (size_t)snprintf(out + o, cap - o, "%s=%s\n", spans[i].keys[t], spans[i].values[t]);
}

/* Span i has this kind, name and exactly these tags ("k=v\n" lines, in order). */
static bool span_is(size_t i, enum span_kind kind, const char *name, const char *tags)
{
	char got[4096];

	if (i >= nspans || i >= T_MAX_SPANS)
		return false;
	tags_of(i, got, sizeof(got));
	return spans[i].kind == kind && strcmp(spans[i].name, name) == 0 && strcmp(got, tags) == 0;
}

__attribute__((unused)) static void expect_span(size_t i, enum span_kind kind, const char *name, const char *tags)
{
	char got[4096];

	cr_assert_lt(i, nspans, "span %zu missing (%zu emitted)", i, nspans);
	tags_of(i, got, sizeof(got));
	cr_expect_eq(spans[i].kind, kind, "span %zu: kind", i);
	cr_expect_str_eq(spans[i].name, name, "span %zu: name \"%s\", want \"%s\"", i, spans[i].name, name);
	cr_expect_str_eq(got, tags, "span %zu tags:\n%s\nwant:\n%s", i, got, tags);
}

__attribute__((unused)) static void expect_times(size_t i, uint64_t start_ns, uint64_t end_ns)
{
	cr_assert_lt(i, nspans);
	cr_expect_eq(spans[i].timestamp_us, clock_mono_to_epoch_us(start_ns), "span %zu: timestamp", i);
	cr_expect_eq(spans[i].duration_us, (end_ns - start_ns) / 1000, "span %zu: duration %lu, want %lu", i,
		     (unsigned long)spans[i].duration_us, (unsigned long)((end_ns - start_ns) / 1000));
}

/* Index of the span with this name and tags, or -1. */
static ssize_t find_span(enum span_kind kind, const char *name, const char *tags)
{
	for (size_t i = 0; i < nspans && i < T_MAX_SPANS; i++)
		if (span_is(i, kind, name, tags))
			return (ssize_t)i;
	return -1;
}

static void check_h2_clean(void)
{
	cr_expect_eq(stats.h2_frame_errors, 0, "h2_frame_errors %lu", (unsigned long)stats.h2_frame_errors);
	cr_expect_eq(stats.h2_hpack_errors, 0, "h2_hpack_errors %lu", (unsigned long)stats.h2_hpack_errors);
	cr_expect_eq(stats.h2_streams_unspanned, 0, "h2_streams_unspanned %lu",
		     (unsigned long)stats.h2_streams_unspanned);
	cr_expect_eq(stats.h2_streams_overflow, 0);
	cr_expect_eq(stats.stream_resyncs, 0, "stream_resyncs %lu", (unsigned long)stats.stream_resyncs);
	cr_expect_eq(stats.stream_overflows, 0);
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(stats.http1_unmatched, 0);
}

static struct conn_tracker *tracker(void)
{
	return eb_tracker(1024);
}

/* ---- recorded conversations ---- */

struct rec_chunk {
	int from_server;
	uint8_t *data;
	size_t len;
};

struct rec {
	struct rec_chunk chunk[256];
	size_t n;
	size_t total[2]; /* bytes by from_server */
};

static struct rec *rec_load(const char *name)
{
	char path[256];
	struct rec *r = calloc(1, sizeof(*r));
	FILE *f;
	uint8_t hdr[5];

	cr_assert_not_null(r);
	snprintf(path, sizeof(path), "tests/data/h2/%s", name);
	f = fopen(path, "rb");
	cr_assert_not_null(f, "%s (run from the repository root)", path);
	while (fread(hdr, 1, 5, f) == 5) {
		struct rec_chunk *c = &r->chunk[r->n++];

		cr_assert_lt(r->n, 256);
		c->from_server = hdr[0];
		c->len = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 | hdr[4];
		c->data = malloc(c->len);
		cr_assert_not_null(c->data);
		cr_assert_eq(fread(c->data, 1, c->len, f), c->len);
		r->total[c->from_server] += c->len;
	}
	fclose(f);
	cr_assert_gt(r->n, 1);
	return r;
}

static void rec_free(struct rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->chunk[i].data);
	free(r);
}

/* Which direction the client's bytes take for the traced side. */
static enum ss_dir client_dir(uint8_t role)
{
	return role == SS_ROLE_CLIENT ? OUT : IN;
}

/*
 * Replays r on a new connection traced as role (UNKNOWN: traced as the
 * server, but as if capture began before the connection's first bytes were
 * known to be a new connection). split_side/split_at: the byte of that side's
 * stream where one chunk is cut into two events (no cut if split_at is 0).
 * ts[i] gets the timestamp of chunk i's (last) event.
 */
static void replay(const struct rec *r, uint8_t role, int split_side, size_t split_at, uint64_t *ts)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 7, 5, 77, role);
	size_t pos[2] = { 0, 0 };
	enum ss_dir cdir = client_dir(role);

	for (size_t i = 0; i < r->n; i++) {
		const struct rec_chunk *k = &r->chunk[i];
		enum ss_dir d = k->from_server ? !cdir : cdir;
		size_t cut = 0;

		if (k->from_server == split_side && split_at > pos[k->from_server] &&
		    split_at < pos[k->from_server] + k->len)
			cut = split_at - pos[k->from_server];
		if (cut)
			eb_data(&c, d, k->data, cut);
		ts[i] = eb_data(&c, d, k->data + cut, k->len - cut);
		pos[k->from_server] += k->len;
	}
	eb_close(&c);
	conn_tracker_free(t);
}

struct want_span {
	const char *name;
	const char *tags;
};

static bool spans_are(enum span_kind kind, const struct want_span *w, size_t n)
{
	if (nspans != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (find_span(kind, w[i].name, w[i].tags) < 0)
			return false;
	return true;
}

static void expect_spans_set(enum span_kind kind, const struct want_span *w, size_t n)
{
	cr_expect_eq(nspans, n, "%zu spans, want %zu", nspans, n);
	for (size_t i = 0; i < n; i++)
		cr_expect_geq(find_span(kind, w[i].name, w[i].tags), 0, "missing %s {%s}", w[i].name, w[i].tags);
	if (nspans != n || !spans_are(kind, w, n))
		for (size_t i = 0; i < nspans && i < T_MAX_SPANS; i++) {
			char got[4096];

			tags_of(i, got, sizeof(got));
			cr_log_info("got %s {%s}", spans[i].name, got);
		}
}

/* The recording replayed whole, as server, client and unknown role, then
 * cut at every byte of each side (traced as the server). */
static void check_recording(const char *file, const struct want_span *w, size_t n)
{
	struct rec *r = rec_load(file);
	uint64_t ts[256];
	static const uint8_t roles[] = { SS_ROLE_SERVER, SS_ROLE_CLIENT, SS_ROLE_UNKNOWN };

	for (size_t i = 0; i < sizeof(roles); i++) {
		setup();
		replay(r, roles[i], -1, 0, ts);
		expect_spans_set(roles[i] == SS_ROLE_CLIENT ? CLIENT : SERVER, w, n);
		check_h2_clean();
	}
	for (int side = 0; side < 2; side++) {
		size_t bad = 0;

		for (size_t at = 1; at < r->total[side]; at++) {
			setup();
			replay(r, SS_ROLE_SERVER, side, at, ts);
			if (!spans_are(SERVER, w, n) || stats.h2_frame_errors || stats.h2_hpack_errors ||
			    stats.h2_streams_unspanned || stats.stream_resyncs) {
				if (!bad++)
					cr_log_error("%s: side %d cut at %zu: %zu spans", file, side, at, nspans);
			}
		}
		cr_expect_eq(bad, 0, "%s: %zu of %zu cuts of side %d went wrong", file, bad, r->total[side] - 1,
			     side);
	}
	rec_free(r);
}

Test(h2_recorded, nghttp_prior_knowledge)
{
	static const struct want_span w[] = {
		{ "get /index.html", "http.method=GET\nhttp.path=/index.html\nhttp.status_code=200\n" },
		{ "get /a/{id}", "http.method=GET\nhttp.path=/a/1\nhttp.status_code=200\n" },
		{ "get /missing", "http.method=GET\nhttp.path=/missing\nhttp.status_code=404\n" },
		{ "get /big", "http.method=GET\nhttp.path=/big\nhttp.status_code=200\n" },
	};

	check_recording("nghttp_prior.rec", w, 4);
}

Test(h2_recorded, grpc_calls)
{
	static const struct want_span w[] = {
		{ "/demo.Echo/Say", "rpc.system=grpc\nrpc.service=demo.Echo\nrpc.method=Say\ngrpc.status_code=0\n"
				    "rpc.request.messages=1\nrpc.request.bytes=5\n"
				    "rpc.response.messages=1\nrpc.response.bytes=10\n" },
		{ "/demo.Echo/Say", "rpc.system=grpc\nrpc.service=demo.Echo\nrpc.method=Say\ngrpc.status_code=5\n"
				    "grpc.message=no such thing: 100%\nerror=NOT_FOUND\n"
				    "rpc.request.messages=1\nrpc.request.bytes=4\n"
				    "rpc.response.messages=0\nrpc.response.bytes=0\n" },
		{ "/demo.Echo/Parts", "rpc.system=grpc\nrpc.service=demo.Echo\nrpc.method=Parts\ngrpc.status_code=0\n"
				      "rpc.request.messages=1\nrpc.request.bytes=1\n"
				      "rpc.response.messages=3\nrpc.response.bytes=15\n" },
		{ "/demo.Echo/Join", "rpc.system=grpc\nrpc.service=demo.Echo\nrpc.method=Join\ngrpc.status_code=0\n"
				     "rpc.request.messages=3\nrpc.request.bytes=6\n"
				     "rpc.response.messages=1\nrpc.response.bytes=8\n" },
		{ "/demo.Echo/Shout", "rpc.system=grpc\nrpc.service=demo.Echo\nrpc.method=Shout\ngrpc.status_code=0\n"
				      "rpc.request.messages=2\nrpc.request.bytes=3\n"
				      "rpc.response.messages=2\nrpc.response.bytes=3\n" },
	};

	check_recording("grpc_calls.rec", w, 5);
}

Test(h2_upgrade, curl_h2o)
{
	static const struct want_span w[] = {
		{ "get /index.html", "http.method=GET\nhttp.path=/index.html\nhttp.status_code=200\n" },
		{ "get /missing", "http.method=GET\nhttp.path=/missing\nhttp.status_code=404\n" },
	};
	struct rec *r = rec_load("curl_h2o_upgrade.rec");
	uint64_t ts[256];

	check_recording("curl_h2o_upgrade.rec", w, 2);
	/* Stream 1 starts with the HTTP/1.1 request and ends with the HTTP/2 response. */
	setup();
	replay(r, SS_ROLE_SERVER, -1, 0, ts);
	cr_assert_eq(nspans, 2);
	expect_times(0, ts[0], ts[1]);
	expect_times(1, ts[4], ts[5]);
	rec_free(r);
}

/* ---- conversations built frame by frame ---- */

#define T_BUF_MAX (1 << 20)

struct h2t {
	struct conn_tracker *t;
	struct eb_conn c;
	enum ss_dir cdir;                  /* direction of the client's bytes */
	nghttp2_hd_deflater *def[2];       /* by sender: 0 client, 1 server */
	uint8_t *buf;                      /* frames not sent yet */
	size_t len;
	bool unseen;                       /* t_send drops the bytes: before capture started */
};

enum { C = 0, S = 1 }; /* who sends */

static void t_open(struct h2t *h, uint8_t role)
{
	memset(h, 0, sizeof(*h));
	h->t = tracker();
	h->c = eb_open(h->t, 7, 5, 77, role);
	h->cdir = client_dir(role);
	cr_assert_eq(nghttp2_hd_deflate_new(&h->def[C], 65536), 0);
	cr_assert_eq(nghttp2_hd_deflate_new(&h->def[S], 65536), 0);
	h->buf = malloc(T_BUF_MAX);
	cr_assert_not_null(h->buf);
}

static void t_close(struct h2t *h)
{
	nghttp2_hd_deflate_del(h->def[C]);
	nghttp2_hd_deflate_del(h->def[S]);
	free(h->buf);
	conn_tracker_free(h->t);
}

static enum ss_dir t_dir(const struct h2t *h, int who)
{
	return who == C ? h->cdir : !h->cdir;
}

static void t_frame(struct h2t *h, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
	uint8_t *o;

	cr_assert_leq(h->len + 9 + n, T_BUF_MAX);
	o = h->buf + h->len;
	o[0] = (uint8_t)(n >> 16);
	o[1] = (uint8_t)(n >> 8);
	o[2] = (uint8_t)n;
	o[3] = type;
	o[4] = flags;
	o[5] = (uint8_t)(sid >> 24);
	o[6] = (uint8_t)(sid >> 16);
	o[7] = (uint8_t)(sid >> 8);
	o[8] = (uint8_t)sid;
	if (n)
		memcpy(o + 9, p, n);
	h->len += 9 + n;
}

/* Sends what was built as one event from who; returns its timestamp. */
static uint64_t t_send(struct h2t *h, int who)
{
	uint64_t ts = h->unseen ? 0 : eb_data(&h->c, t_dir(h, who), h->buf, h->len);

	h->len = 0;
	return ts;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE }

/* HPACK-encodes nv with who's deflater into out; returns the block length. */
static size_t t_deflate(struct h2t *h, int who, const nghttp2_nv *nv, size_t n, uint8_t *out, size_t cap)
{
	ssize_t r = nghttp2_hd_deflate_hd(h->def[who], out, cap, nv, n);

	cr_assert_geq(r, 0);
	return (size_t)r;
}

/*
 * A header block from who on sid as HEADERS (flags: END_STREAM, PADDED with
 * pad bytes of padding, PRIORITY) followed by CONTINUATION frames when the
 * block is longer than frag bytes.
 */
static void t_headers_ex(struct h2t *h, int who, uint32_t sid, uint8_t flags, const nghttp2_nv *nv, size_t n,
			 size_t frag, uint8_t pad)
{
	uint8_t blk[16384], payload[16384 + 300];
	size_t blen = t_deflate(h, who, nv, n, blk, sizeof(blk));
	size_t first = blen < frag ? blen : frag, pl = 0, off;

	if (flags & H2_FLAG_PADDED)
		payload[pl++] = pad;
	if (flags & H2_FLAG_PRIORITY) {
		memcpy(payload + pl, "\x80\x00\x00\x00\x0f", 5); /* exclusive on stream 0, weight 16 */
		pl += 5;
	}
	memcpy(payload + pl, blk, first);
	pl += first;
	if (flags & H2_FLAG_PADDED) {
		memset(payload + pl, 0, pad);
		pl += pad;
	}
	t_frame(h, H2_HEADERS, (uint8_t)(flags | (first == blen ? H2_FLAG_END_HEADERS : 0)), sid, payload, pl);
	for (off = first; off < blen; off += frag) {
		size_t k = blen - off < frag ? blen - off : frag;

		t_frame(h, H2_CONTINUATION, off + k == blen ? H2_FLAG_END_HEADERS : 0, sid, blk + off, k);
	}
}

static void t_headers(struct h2t *h, int who, uint32_t sid, uint8_t flags, const nghttp2_nv *nv, size_t n)
{
	t_headers_ex(h, who, sid, flags, nv, n, 16384, 0);
}

static void t_get(struct h2t *h, uint32_t sid, const char *path, uint8_t flags)
{
	nghttp2_nv nv[] = {
		NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "example.com"),
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE },
		NV("user-agent", "unit/1.0"), NV("accept", "*/*"),
	};

	t_headers(h, C, sid, (uint8_t)(H2_FLAG_END_STREAM | flags), nv, sizeof(nv) / sizeof(nv[0]));
}

static void t_status(struct h2t *h, uint32_t sid, const char *status, uint8_t flags)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE },
		NV("server", "unit-server"), NV("content-type", "text/plain"),
	};

	t_headers(h, S, sid, flags, nv, sizeof(nv) / sizeof(nv[0]));
}

static void t_preface(struct h2t *h)
{
	static const char p[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

	memcpy(h->buf + h->len, p, H2_PREFACE_LEN);
	h->len += H2_PREFACE_LEN;
	t_frame(h, H2_SETTINGS, 0, 0, "\x00\x02\x00\x00\x00\x00\x00\x04\x00\x00\xff\xff", 12);
}

/* Preface, SETTINGS both ways and their ACKs, as real peers do. */
static void t_start(struct h2t *h)
{
	t_preface(h);
	t_send(h, C);
	t_frame(h, H2_SETTINGS, 0, 0, "\x00\x03\x00\x00\x00\x64", 6);
	t_frame(h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(h, S);
	t_frame(h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(h, C);
}

#define HTTP_TAGS(m, p, s) "http.method=" m "\nhttp.path=" p "\nhttp.status_code=" s "\n"

Test(h2_frames, one_request_exact_times)
{
	struct h2t h;
	uint64_t start, end;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/users/42?x=1", 0);
	start = t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_send(&h, S);
	t_frame(&h, H2_DATA, 0, 1, "hello", 5);
	t_send(&h, S);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "!", 1);
	end = t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /users/{id}", HTTP_TAGS("GET", "/users/42", "200"));
	expect_times(0, start, end);
	check_h2_clean();
	t_close(&h);
}

/* Trace context in the request's header block (gRPC metadata the same) reaches correlation. */
Test(h2_frames, trace_context_from_the_header_block)
{
	static const uint8_t trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					   0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	nghttp2_nv nv[] = {
		NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "example.com"),
		NV(":path", "/a"),
		NV("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
		NV("x-request-id", "5f1e0c8a"),
	};
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_headers(&h, C, 1, H2_FLAG_END_STREAM, nv, sizeof(nv) / sizeof(nv[0]));
	t_send(&h, C);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	cr_expect_eq(spans[0].trace_id_len, 16);
	cr_expect_arr_eq(spans[0].trace_id, trace, 16);
	cr_expect(spans[0].has_parent);
	cr_expect_arr_eq(spans[0].parent_id, parent, 8);
	check_h2_clean();
	t_close(&h);
}

Test(h2_frames, client_side_5xx_is_error)
{
	struct h2t h;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_get(&h, 1, "/boom", 0);
	t_send(&h, C);
	t_status(&h, 1, "503", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, CLIENT, "get /boom", HTTP_TAGS("GET", "/boom", "503") "error=503\n");
	check_h2_clean();
	t_close(&h);
}

/* Three streams whose frames interleave, answered out of order. */
Test(h2_frames, interleaved_streams)
{
	struct h2t h;
	nghttp2_nv post[] = { NV(":method", "POST"), NV(":scheme", "http"), NV(":authority", "x"),
			      NV(":path", "/upload"), NV("content-type", "application/json") };

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/one", 0);
	t_headers(&h, C, 3, 0, post, 5);
	t_get(&h, 5, "/three", 0);
	t_frame(&h, H2_DATA, 0, 3, "{\"a\":", 5);
	t_send(&h, C);
	t_status(&h, 5, "204", H2_FLAG_END_STREAM);
	t_status(&h, 1, "200", 0);
	t_frame(&h, H2_DATA, 0, 1, "part", 4);
	t_send(&h, S);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 3, "1}", 2);
	t_send(&h, C);
	t_status(&h, 3, "201", 0);
	t_frame(&h, H2_DATA, 0, 1, "more", 4);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 3, "ok", 2);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "end", 3);
	t_send(&h, S);
	cr_assert_eq(nspans, 3);
	expect_span(0, SERVER, "get /three", HTTP_TAGS("GET", "/three", "204"));
	expect_span(1, SERVER, "post /upload", HTTP_TAGS("POST", "/upload", "201"));
	expect_span(2, SERVER, "get /one", HTTP_TAGS("GET", "/one", "200"));
	check_h2_clean();
	t_close(&h);
}

/* Header blocks cut into HEADERS + CONTINUATION frames, both ways, with
 * frames of other types between the streams' blocks. */
Test(h2_frames, continuation)
{
	struct h2t h;
	char big[3000];
	nghttp2_nv nv[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "x"), NV(":path", "/c"),
			    { (uint8_t *)"cookie", (uint8_t *)big, 6, sizeof(big), NGHTTP2_NV_FLAG_NONE } };
	nghttp2_nv rnv[] = { NV(":status", "200"),
			     { (uint8_t *)"set-cookie", (uint8_t *)big, 10, sizeof(big), NGHTTP2_NV_FLAG_NONE } };

	memset(big, 'q', sizeof(big));
	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_headers_ex(&h, C, 1, H2_FLAG_END_STREAM, nv, 5, 100, 0);
	t_frame(&h, H2_PING, 0, 0, "12345678", 8);
	t_send(&h, C);
	t_headers_ex(&h, S, 1, H2_FLAG_END_STREAM, rnv, 2, 1000, 0);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /c", HTTP_TAGS("GET", "/c", "200"));
	check_h2_clean();
	t_close(&h);
}

/* A frame between HEADERS and its CONTINUATION breaks the framing. */
Test(h2_frames, continuation_interrupted)
{
	struct h2t h;
	uint8_t blk[256];
	nghttp2_nv nv[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "x"), NV(":path", "/c") };
	size_t n;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	n = t_deflate(&h, C, nv, 4, blk, sizeof(blk));
	t_frame(&h, H2_HEADERS, H2_FLAG_END_STREAM, 1, blk, 3);
	t_frame(&h, H2_PING, 0, 0, "12345678", 8);
	t_frame(&h, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, blk + 3, n - 3);
	t_send(&h, C);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_frame_errors, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	t_close(&h);
}

Test(h2_frames, padding_and_priority)
{
	struct h2t h;
	nghttp2_nv nv[] = { NV(":method", "PUT"), NV(":scheme", "http"), NV(":authority", "x"), NV(":path", "/p") };

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_headers_ex(&h, C, 1, H2_FLAG_PADDED | H2_FLAG_PRIORITY, nv, 4, 16384, 17);
	t_frame(&h, H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1, "\x03" "abc\0\0\0", 7);
	t_frame(&h, H2_PRIORITY, 0, 1, "\x00\x00\x00\x00\x20", 5);
	t_send(&h, C);
	t_headers_ex(&h, S, 1, H2_FLAG_PADDED, (nghttp2_nv[]){ NV(":status", "200") }, 1, 16384, 255);
	t_frame(&h, H2_DATA, H2_FLAG_PADDED, 1, "\x00" "x", 2);
	t_frame(&h, H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1, "\x05\0\0\0\0\0", 6);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, CLIENT, "put /p", HTTP_TAGS("PUT", "/p", "200"));
	check_h2_clean();
	t_close(&h);
}

/* Padding longer than the frame: framing error, no span. */
Test(h2_frames, bad_padding)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/a", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_PADDED | H2_FLAG_END_STREAM, 1, "\x09" "abc", 4);
	t_send(&h, S);
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_frame_errors, 1);
	cr_expect_eq(stats.stream_resyncs, 1);
	t_close(&h);
}

Test(h2_frames, rst_stream)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	/* The client gives up before any answer. */
	t_get(&h, 1, "/slow", 0);
	t_send(&h, C);
	t_frame(&h, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	t_send(&h, C);
	/* The server resets after its headers. */
	t_get(&h, 3, "/half", 0);
	t_send(&h, C);
	t_status(&h, 3, "200", 0);
	t_frame(&h, H2_DATA, 0, 3, "par", 3);
	t_frame(&h, H2_RST_STREAM, 0, 3, "\x00\x00\x00\x02", 4);
	t_send(&h, S);
	/* An unknown error code; and a reset of a stream already done changes nothing. */
	t_get(&h, 5, "/odd", 0);
	t_send(&h, C);
	t_frame(&h, H2_RST_STREAM, 0, 5, "\x00\x00\x01\x00", 4);
	t_frame(&h, H2_RST_STREAM, 0, 3, "\x00\x00\x00\x00", 4);
	t_send(&h, S);
	cr_assert_eq(nspans, 3);
	expect_span(0, SERVER, "get /slow", "http.method=GET\nhttp.path=/slow\nerror=RST_STREAM CANCEL\n");
	expect_span(1, SERVER, "get /half", HTTP_TAGS("GET", "/half", "200") "error=RST_STREAM INTERNAL_ERROR\n");
	expect_span(2, SERVER, "get /odd", "http.method=GET\nhttp.path=/odd\nerror=RST_STREAM 0x100\n");
	check_h2_clean();
	t_close(&h);
}

/* Streams above GOAWAY's last stream id were never processed: no span. */
Test(h2_frames, goaway)
{
	struct h2t h;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_get(&h, 1, "/a", 0);
	t_get(&h, 3, "/b", 0);
	t_get(&h, 5, "/c", 0);
	t_send(&h, C);
	t_frame(&h, H2_GOAWAY, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00" "bye", 11);
	t_status(&h, 3, "200", H2_FLAG_END_STREAM);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 2);
	expect_span(0, CLIENT, "get /b", HTTP_TAGS("GET", "/b", "200"));
	expect_span(1, CLIENT, "get /a", HTTP_TAGS("GET", "/a", "200"));
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	t_close(&h);
}

/* PING, WINDOW_UPDATE, PRIORITY, unknown types and 1xx answers change nothing;
 * a pushed stream is counted, without a span. */
Test(h2_frames, other_frames_and_push)
{
	struct h2t h;
	uint8_t pp[256];
	nghttp2_nv pushed[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "x"),
				NV(":path", "/style.css") };
	size_t n;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_get(&h, 1, "/", 0);
	t_frame(&h, H2_WINDOW_UPDATE, 0, 0, "\x00\x01\x00\x00", 4);
	t_frame(&h, 0xfa, 0xff, 1, "whatever", 8);
	t_send(&h, C);
	t_frame(&h, H2_PING, 0, 0, "abcdefgh", 8);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "103"), NV("link", "</style.css>") }, 2);
	/* PUSH_PROMISE: promised stream 2, header block from the server's encoder. */
	pp[0] = 0, pp[1] = 0, pp[2] = 0, pp[3] = 2;
	n = t_deflate(&h, S, pushed, 4, pp + 4, sizeof(pp) - 4);
	t_frame(&h, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, pp, 4 + n);
	t_status(&h, 1, "200", 0);
	t_status(&h, 2, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 2, "css", 3);
	t_frame(&h, 0x10, 0, 0, "\x00\x00\x00\x01", 4);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "html", 4);
	t_send(&h, S);
	t_frame(&h, H2_PING, H2_FLAG_ACK, 0, "abcdefgh", 8);
	t_send(&h, C);
	cr_assert_eq(nspans, 1);
	expect_span(0, CLIENT, "get /", HTTP_TAGS("GET", "/", "200"));
	cr_expect_eq(stats.h2_pushed_streams, 1);
	check_h2_clean();
	t_close(&h);
}

/* A frame above the receiver's SETTINGS_MAX_FRAME_SIZE is an error; once the
 * receiver advertised more, it is fine. */
Test(h2_frames, max_frame_size)
{
	struct h2t h;
	static uint8_t body[20000];

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/big", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, body, sizeof(body));
	t_send(&h, S);
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_frame_errors, 1);
	t_close(&h);

	setup();
	t_open(&h, SS_ROLE_SERVER);
	t_preface(&h);
	t_frame(&h, H2_SETTINGS, 0, 0, "\x00\x05\x00\x01\x00\x00", 6);
	t_send(&h, C);
	t_frame(&h, H2_SETTINGS, 0, 0, NULL, 0);
	t_frame(&h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(&h, S);
	t_get(&h, 1, "/big", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, body, sizeof(body));
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /big", HTTP_TAGS("GET", "/big", "200"));
	check_h2_clean();
	t_close(&h);
}

/* ---- HPACK ---- */

/* Hundreds of requests on one connection: the dynamic tables of both sides
 * fill, evict and are referenced all along. */
Test(h2_hpack, dynamic_table_evolution)
{
	struct h2t h;
	size_t bad = 0;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	for (unsigned i = 0; i < 400; i++) {
		char path[32], rid[32], cookie[64], status[4], etag[40], name[48], tags[160];
		uint32_t sid = 2 * i + 1;
		nghttp2_nv nv[] = {
			NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "example.com"),
			{ (uint8_t *)":path", (uint8_t *)path, 5, 0, NGHTTP2_NV_FLAG_NONE },
			{ (uint8_t *)"x-request-id", (uint8_t *)rid, 12, 0, NGHTTP2_NV_FLAG_NONE },
			{ (uint8_t *)"cookie", (uint8_t *)cookie, 6, 0, NGHTTP2_NV_FLAG_NONE },
		};
		nghttp2_nv rnv[] = {
			{ (uint8_t *)":status", (uint8_t *)status, 7, 3, NGHTTP2_NV_FLAG_NONE },
			NV("server", "unit"),
			{ (uint8_t *)"etag", (uint8_t *)etag, 4, 0, NGHTTP2_NV_FLAG_NONE },
		};

		/* Paths come back every 7 requests: some are indexed, some evicted. */
		nv[3].valuelen = (size_t)snprintf(path, sizeof(path), "/item/x%u", i % 7 ? i : 7);
		nv[4].valuelen = (size_t)snprintf(rid, sizeof(rid), "req-%u", i);
		nv[5].valuelen = (size_t)snprintf(cookie, sizeof(cookie), "session=%0*u", 20 + i % 30, i % 5);
		snprintf(status, sizeof(status), "%d", i % 3 ? 200 : 404);
		rnv[2].valuelen = (size_t)snprintf(etag, sizeof(etag), "\"%08x\"", i * 2654435761u);
		t_headers(&h, C, sid, H2_FLAG_END_STREAM, nv, 6);
		t_send(&h, C);
		t_headers(&h, S, sid, H2_FLAG_END_STREAM, rnv, 3);
		t_send(&h, S);
		snprintf(name, sizeof(name), "get %s", path);
		snprintf(tags, sizeof(tags), HTTP_TAGS("GET", "%s", "%s"), path, status);
		bad += !span_is(i, SERVER, name, tags);
	}
	cr_expect_eq(nspans, 400);
	cr_expect_eq(bad, 0);
	cr_expect_gt(nghttp2_hd_deflate_get_num_table_entries(h.def[C]), 61 + 10);
	check_h2_clean();
	t_close(&h);
}

/* SETTINGS_HEADER_TABLE_SIZE takes effect in the other side's decoder when
 * acknowledged; the encoder then signals the size in its next block. */
Test(h2_hpack, table_size_settings)
{
	struct h2t h;
	char big[1500];
	nghttp2_nv rnv[] = { NV(":status", "200"),
			     { (uint8_t *)"x-big", (uint8_t *)big, 5, sizeof(big), NGHTTP2_NV_FLAG_NONE } };

	memset(big, 'b', sizeof(big));
	t_open(&h, SS_ROLE_CLIENT);
	t_preface(&h);
	/* The client's decoder may use 16 KiB. */
	t_frame(&h, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x40\x00", 6);
	t_send(&h, C);
	t_frame(&h, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x00\x00", 6); /* and the server's none */
	t_frame(&h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0); /* each SETTINGS has its ACK */
	t_frame(&h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(&h, S);
	t_frame(&h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(&h, C);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(h.def[S], 16384), 0);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(h.def[C], 0), 0);
	for (uint32_t i = 0; i < 8; i++) {
		big[0] = (char)('a' + i);
		t_get(&h, 2 * i + 1, "/t", 0);
		t_send(&h, C);
		t_headers(&h, S, 2 * i + 1, H2_FLAG_END_STREAM, rnv, 2);
		t_send(&h, S);
	}
	/* Well over 4 KiB of entries: only the raised size keeps them. */
	cr_expect_gt(nghttp2_hd_deflate_get_dynamic_table_size(h.def[S]), 8192);
	/* Shrinking to 100 bytes: evictions on both ends. */
	t_frame(&h, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x00\x64", 6);
	t_send(&h, C);
	t_frame(&h, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	t_send(&h, S);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(h.def[S], 100), 0);
	for (uint32_t i = 8; i < 12; i++) {
		t_get(&h, 2 * i + 1, "/t", 0);
		t_send(&h, C);
		t_headers(&h, S, 2 * i + 1, H2_FLAG_END_STREAM, rnv, 2);
		t_send(&h, S);
	}
	cr_expect_eq(nspans, 12);
	for (size_t i = 0; i < 12; i++)
		expect_span(i, CLIENT, "get /t", HTTP_TAGS("GET", "/t", "200"));
	check_h2_clean();
	t_close(&h);
}

/* A size update above what the decoder's side allowed is refused by nghttp2:
 * without the ACK the new size does not apply yet. */
Test(h2_hpack, table_size_needs_ack)
{
	struct h2t h;
	char big[5000];
	nghttp2_nv rnv[] = { NV(":status", "200"),
			     { (uint8_t *)"x-big", (uint8_t *)big, 5, sizeof(big), NGHTTP2_NV_FLAG_NONE } };

	memset(big, 'b', sizeof(big));
	t_open(&h, SS_ROLE_CLIENT);
	t_preface(&h);
	t_frame(&h, H2_SETTINGS, 0, 0, "\x00\x01\x00\x00\x40\x00", 6);
	t_send(&h, C);
	t_frame(&h, H2_SETTINGS, 0, 0, NULL, 0);
	t_send(&h, S);
	cr_assert_eq(nghttp2_hd_deflate_change_table_size(h.def[S], 16384), 0);
	t_get(&h, 1, "/t", 0);
	t_send(&h, C);
	t_headers(&h, S, 1, H2_FLAG_END_STREAM, rnv, 2);
	t_send(&h, S);
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_hpack_errors, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	t_close(&h);
}

/* A header block larger than H2_MAX_HEADER_BLOCK is not decoded; the next
 * block decodes again with a fresh inflater. */
Test(h2_hpack, block_too_long)
{
	struct h2t h;
	static char huge[60000];
	nghttp2_nv nv[] = { NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "x"), NV(":path", "/huge"),
			    { (uint8_t *)"x-a", (uint8_t *)huge, 3, sizeof(huge), NGHTTP2_NV_FLAG_NO_INDEX },
			    { (uint8_t *)"x-b", (uint8_t *)huge, 3, sizeof(huge), NGHTTP2_NV_FLAG_NO_INDEX },
			    { (uint8_t *)"x-c", (uint8_t *)huge, 3, sizeof(huge), NGHTTP2_NV_FLAG_NO_INDEX },
			    { (uint8_t *)"x-d", (uint8_t *)huge, 3, sizeof(huge), NGHTTP2_NV_FLAG_NO_INDEX },
			    { (uint8_t *)"x-e", (uint8_t *)huge, 3, sizeof(huge), NGHTTP2_NV_FLAG_NO_INDEX } };
	uint8_t *blk = malloc(400000);
	size_t n, off;

	cr_assert_not_null(blk);
	for (size_t i = 0; i < sizeof(huge); i++)
		huge[i] = (char)('!' + (i * 7919) % 90);
	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	n = t_deflate(&h, C, nv, 9, blk, 400000);
	cr_assert_gt(n, 256 * 1024);
	for (off = 0; off < n; off += 16384) {
		size_t k = n - off < 16384 ? n - off : 16384;

		t_frame(&h, off ? H2_CONTINUATION : H2_HEADERS,
			(uint8_t)((off ? 0 : H2_FLAG_END_STREAM) | (off + k == n ? H2_FLAG_END_HEADERS : 0)), 1,
			blk + off, k);
		t_send(&h, C);
	}
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	t_headers(&h, C, 3, H2_FLAG_END_STREAM,
		  (nghttp2_nv[]){ NV(":method", "GET"), NV(":scheme", "http"), NV(":authority", "y"),
				  NV(":path", "/after") }, 4);
	t_send(&h, C);
	t_status(&h, 3, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /after", HTTP_TAGS("GET", "/after", "200"));
	cr_expect_eq(stats.h2_hpack_errors, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	cr_expect_eq(stats.h2_frame_errors, 0);
	free(blk);
	t_close(&h);
}

/* ---- gRPC ---- */

#define GRPC_CT NV("content-type", "application/grpc")

static void t_grpc_call(struct h2t *h, uint32_t sid, const char *path)
{
	nghttp2_nv nv[] = {
		NV(":method", "POST"), NV(":scheme", "http"), NV(":authority", "svc:50051"),
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE },
		NV("te", "trailers"), GRPC_CT, NV("user-agent", "grpc-c/1.51"),
	};

	t_headers(h, C, sid, 0, nv, 7);
}

static void t_grpc_msg(struct h2t *h, int who, uint32_t sid, const char *msg, uint8_t flags)
{
	uint8_t buf[512];
	size_t n = strlen(msg);

	buf[0] = 0;
	buf[1] = 0, buf[2] = 0, buf[3] = (uint8_t)(n >> 8), buf[4] = (uint8_t)n;
	memcpy(buf + 5, msg, n);
	t_frame(h, H2_DATA, flags, sid, buf, 5 + n);
	(void)who;
}

static void t_grpc_trailers(struct h2t *h, uint32_t sid, const char *status, const char *message)
{
	nghttp2_nv nv[] = {
		{ (uint8_t *)"grpc-status", (uint8_t *)status, 11, strlen(status), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"grpc-message", (uint8_t *)message, 12, message ? strlen(message) : 0,
		  NGHTTP2_NV_FLAG_NONE },
	};

	t_headers(h, S, sid, H2_FLAG_END_STREAM, nv, message ? 2 : 1);
}

#define GRPC_TAGS(svc, m) "rpc.system=grpc\nrpc.service=" svc "\nrpc.method=" m "\n"
#define COUNTS(rm, rb, sm, sb) "rpc.request.messages=" rm "\nrpc.request.bytes=" rb "\n" \
			       "rpc.response.messages=" sm "\nrpc.response.bytes=" sb "\n"

Test(h2_grpc, unary_ok_exact_times)
{
	struct h2t h;
	uint64_t start, end;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/helloworld.Greeter/SayHello");
	start = t_send(&h, C);
	t_grpc_msg(&h, C, 1, "world", H2_FLAG_END_STREAM);
	t_send(&h, C);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_msg(&h, S, 1, "Hello world", 0);
	t_grpc_trailers(&h, 1, "0", NULL);
	end = t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "/helloworld.Greeter/SayHello",
		    GRPC_TAGS("helloworld.Greeter", "SayHello") "grpc.status_code=0\n" COUNTS("1", "5", "1", "11"));
	expect_times(0, start, end);
	check_h2_clean();
	t_close(&h);
}

/* Trailers-Only: the status comes in the only HEADERS of the response. */
Test(h2_grpc, trailers_only_error)
{
	struct h2t h;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_grpc_call(&h, 1, "/pkg.v1.Store/Get");
	t_grpc_msg(&h, C, 1, "key", H2_FLAG_END_STREAM);
	t_send(&h, C);
	t_headers(&h, S, 1, H2_FLAG_END_STREAM,
		  (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT, NV("grpc-status", "7"),
				  NV("grpc-message", "caller %3Cbob%3E may not %E2%9C%93 100%") }, 4);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, CLIENT, "/pkg.v1.Store/Get",
		    GRPC_TAGS("pkg.v1.Store", "Get") "grpc.status_code=7\ngrpc.message=caller <bob> may not \u2713 100%\n"
		    "error=PERMISSION_DENIED\n" COUNTS("1", "3", "0", "0"));
	check_h2_clean();
	t_close(&h);
}

/* Streaming both ways: messages cut across DATA frames, prefixes cut too,
 * several messages in one frame, empty messages, a compressed one. */
Test(h2_grpc, bidi_streaming_split_messages)
{
	struct h2t h;
	static const uint8_t req[] = {
		0, 0, 0, 0, 3, 'a', 'b', 'c',       /* 3 */
		0, 0, 0, 0, 0,                      /* empty */
		1, 0, 0, 0, 4, 0x1f, 0x8b, 8, 0,    /* compressed, 4 */
		0, 0, 0, 1, 0,                      /* 256, filled below */
	};
	uint8_t data[sizeof(req) + 256];

	memcpy(data, req, sizeof(req));
	memset(data + sizeof(req), 'z', 256);
	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/chat.Room/Talk");
	t_send(&h, C);
	/* Cut at 2, 9, 15, 23, 100: inside a prefix, a message, a prefix... */
	t_frame(&h, H2_DATA, 0, 1, data, 2);
	t_frame(&h, H2_DATA, 0, 1, data + 2, 7);
	t_send(&h, C);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_msg(&h, S, 1, "hi", 0);
	t_send(&h, S);
	t_frame(&h, H2_DATA, 0, 1, data + 9, 6);
	t_frame(&h, H2_DATA, 0, 1, data + 15, 8);
	t_send(&h, C);
	t_frame(&h, H2_DATA, 0, 1, data + 23, 77);
	t_send(&h, C);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, data + 100, sizeof(data) - 100);
	t_send(&h, C);
	t_grpc_msg(&h, S, 1, "there", 0);
	t_grpc_msg(&h, S, 1, "", 0);
	t_grpc_trailers(&h, 1, "0", "");
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "/chat.Room/Talk",
		    GRPC_TAGS("chat.Room", "Talk") "grpc.status_code=0\ngrpc.message=\n" COUNTS("4", "263", "3", "7"));
	check_h2_clean();
	t_close(&h);
}

/* Many calls on one connection, interleaved, each its own span. */
Test(h2_grpc, concurrent_calls)
{
	struct h2t h;
	size_t bad = 0;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	for (uint32_t i = 0; i < 100; i++) {
		t_grpc_call(&h, 2 * i + 1, i % 2 ? "/demo.Echo/Say" : "/demo.Echo/Other");
		t_grpc_msg(&h, C, 2 * i + 1, "x", H2_FLAG_END_STREAM);
	}
	t_send(&h, C);
	for (uint32_t i = 0; i < 100; i++)
		t_headers(&h, S, 2 * (99 - i) + 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_send(&h, S);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t sid = 2 * (99 - i) + 1;

		t_grpc_msg(&h, S, sid, "yy", 0);
		t_grpc_trailers(&h, sid, sid % 3 ? "0" : "14", sid % 3 ? NULL : "down");
	}
	t_send(&h, S);
	cr_assert_eq(nspans, 100);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t sid = 2 * (99 - i) + 1;
		bool say = (sid / 2) % 2;

		if (sid % 3)
			bad += !span_is(i, CLIENT, say ? "/demo.Echo/Say" : "/demo.Echo/Other",
					say ? GRPC_TAGS("demo.Echo", "Say") "grpc.status_code=0\n" COUNTS("1", "1", "1", "2")
					    : GRPC_TAGS("demo.Echo", "Other") "grpc.status_code=0\n"
					      COUNTS("1", "1", "1", "2"));
		else
			bad += !span_is(i, CLIENT, say ? "/demo.Echo/Say" : "/demo.Echo/Other",
					say ? GRPC_TAGS("demo.Echo", "Say") "grpc.status_code=14\ngrpc.message=down\n"
					      "error=UNAVAILABLE\n" COUNTS("1", "1", "1", "2")
					    : GRPC_TAGS("demo.Echo", "Other") "grpc.status_code=14\ngrpc.message=down\n"
					      "error=UNAVAILABLE\n" COUNTS("1", "1", "1", "2"));
	}
	cr_expect_eq(bad, 0);
	check_h2_clean();
	t_close(&h);
}

/* A cancelled call, and an answer that is not gRPC (a proxy's 404). */
Test(h2_grpc, cancelled_and_not_grpc_answer)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/s.S/Watch");
	t_grpc_msg(&h, C, 1, "w", 0);
	t_send(&h, C);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_msg(&h, S, 1, "e1", 0);
	t_grpc_msg(&h, S, 1, "e2", 0);
	t_send(&h, S);
	t_frame(&h, H2_RST_STREAM, 0, 1, "\x00\x00\x00\x08", 4);
	t_send(&h, C);
	t_grpc_call(&h, 3, "/s.S/Gone");
	t_grpc_msg(&h, C, 3, "", H2_FLAG_END_STREAM);
	t_send(&h, C);
	t_headers(&h, S, 3, H2_FLAG_END_STREAM, (nghttp2_nv[]){ NV(":status", "404"), NV("content-length", "0") }, 2);
	t_send(&h, S);
	cr_assert_eq(nspans, 2);
	expect_span(0, SERVER, "/s.S/Watch",
		    GRPC_TAGS("s.S", "Watch") COUNTS("1", "1", "2", "4") "error=RST_STREAM CANCEL\n");
	expect_span(1, SERVER, "/s.S/Gone",
		    GRPC_TAGS("s.S", "Gone") "http.status_code=404\nerror=404\n" COUNTS("1", "0", "0", "0"));
	check_h2_clean();
	t_close(&h);
}

/* A compressed-flag byte other than 0 or 1: the counts of that direction are unknown. */
Test(h2_grpc, malformed_message_prefix)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/a.B/C");
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "\x07\x00\x00\x00\x01x", 6);
	t_send(&h, C);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_trailers(&h, 1, "0", NULL);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "/a.B/C",
		    GRPC_TAGS("a.B", "C") "grpc.status_code=0\nrpc.response.messages=0\nrpc.response.bytes=0\n");
	t_close(&h);
}

/* ---- attaching to a connection already running ---- */

/* A request or response whose every field is new to the encoder: literals
 * and static-table names only, decodable without the dynamic table. */
static void t_fresh_get(struct h2t *h, uint32_t sid, const char *path)
{
	char auth[32], ua[32];
	nghttp2_nv nv[] = {
		NV(":method", "GET"), NV(":scheme", "http"),
		{ (uint8_t *)":authority", (uint8_t *)auth, 10, 0, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"user-agent", (uint8_t *)ua, 10, 0, NGHTTP2_NV_FLAG_NONE },
	};

	nv[2].valuelen = (size_t)snprintf(auth, sizeof(auth), "host-%u.example", sid);
	nv[4].valuelen = (size_t)snprintf(ua, sizeof(ua), "agent-%u", sid);
	t_headers(h, C, sid, H2_FLAG_END_STREAM, nv, 5);
}

static void t_fresh_status(struct h2t *h, uint32_t sid, const char *status, uint8_t flags)
{
	char server[32];
	nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)status, 7, strlen(status), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"server", (uint8_t *)server, 6, 0, NGHTTP2_NV_FLAG_NONE },
	};

	nv[1].valuelen = (size_t)snprintf(server, sizeof(server), "srv-%u", sid);
	t_headers(h, S, sid, flags, nv, 2);
}

/* Capture starts mid-connection: what references entries from before it is
 * counted, the rest gives spans, and the side is learnt from :method. */
static void attach_conversation(enum ss_dir client_bytes, enum span_kind kind)
{
	struct h2t h;

	t_open(&h, SS_ROLE_UNKNOWN);
	h.cdir = client_bytes;
	/* Before capture: the encoders' tables fill. */
	h.unseen = true;
	t_start(&h);
	t_get(&h, 1, "/old", 0);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_get(&h, 3, "/old3", 0);
	t_send(&h, C);
	h.unseen = false;
	/* First bytes seen: stream 3's answer, in indexed fields. */
	t_status(&h, 3, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 3, "x", 1);
	t_send(&h, S);
	cr_expect_eq(stats.h2_hpack_errors, 1);
	/* Which side asks is not known yet: counted once it is. */
	cr_expect_eq(stats.h2_streams_unspanned, 0);
	t_fresh_get(&h, 5, "/fresh");
	t_send(&h, C);
	t_fresh_status(&h, 5, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	/* This request refers to the table from before. */
	t_get(&h, 7, "/old", 0);
	t_send(&h, C);
	t_fresh_status(&h, 7, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	t_fresh_get(&h, 9, "/fresh2");
	t_send(&h, C);
	t_fresh_status(&h, 9, "500", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 2);
	expect_span(0, kind, "get /fresh", HTTP_TAGS("GET", "/fresh", "200"));
	expect_span(1, kind, "get /fresh2", HTTP_TAGS("GET", "/fresh2", "500") "error=500\n");
	cr_expect_eq(stats.h2_hpack_errors, 2);
	cr_expect_eq(stats.h2_streams_unspanned, 2);
	cr_expect_eq(stats.h2_frame_errors, 0);
	cr_expect_eq(stats.stream_resyncs, 0);
	t_close(&h);
}

Test(h2_attach, server_side)
{
	attach_conversation(IN, SERVER);
}

Test(h2_attach, client_side)
{
	attach_conversation(OUT, CLIENT);
}

/* The first bytes are the middle of a frame, in both directions: nothing is
 * taken until a syscall starts with frames. */
Test(h2_attach, first_bytes_mid_frame)
{
	struct h2t h;
	static uint8_t body[3000];

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 31 + 7);
	t_open(&h, SS_ROLE_UNKNOWN);
	h.unseen = true;
	t_start(&h);
	t_get(&h, 1, "/big", 0);
	t_status(&h, 1, "200", 0);
	t_send(&h, C);
	h.unseen = false;
	t_frame(&h, H2_DATA, 0, 1, body, sizeof(body));
	eb_data(&h.c, t_dir(&h, S), h.buf + 1000, h.len - 1000);
	h.len = 0;
	t_frame(&h, H2_DATA, 0, 1, body, sizeof(body));
	eb_data(&h.c, t_dir(&h, C), h.buf + 5, 40);
	h.len = 0;
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, body, 10);
	t_send(&h, S);
	t_fresh_get(&h, 3, "/next");
	t_send(&h, C);
	t_fresh_status(&h, 3, "204", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /next", HTTP_TAGS("GET", "/next", "204"));
	cr_expect_eq(stats.h2_streams_unspanned, 0);
	cr_expect_eq(stats.h2_frame_errors, 0);
	t_close(&h);
}

/* ---- losses ---- */

/* Payload bytes not captured inside DATA frames: skipped in step, counts kept. */
Test(h2_loss, truncated_data_skipped)
{
	struct h2t h;
	static uint8_t body[9000];

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/f.S/Upload");
	t_send(&h, C);
	body[0] = 0, body[1] = 0, body[2] = 0, body[3] = 0x23, body[4] = 0x23; /* 8995 */
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, body, sizeof(body));
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, C), h.buf, (uint32_t)h.len, 100);
	h.len = 0;
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_msg(&h, S, 1, "ok", 0);
	t_grpc_trailers(&h, 1, "0", NULL);
	t_send(&h, S);
	/* Plain HTTP: a body larger than the capture limit. */
	t_get(&h, 3, "/file", 0);
	t_send(&h, C);
	t_status(&h, 3, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 3, body, sizeof(body));
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, S), h.buf, (uint32_t)h.len, 200);
	h.len = 0;
	cr_assert_eq(nspans, 2);
	expect_span(0, SERVER, "/f.S/Upload", GRPC_TAGS("f.S", "Upload") "grpc.status_code=0\n" COUNTS("1", "8995", "1", "2"));
	expect_span(1, SERVER, "get /file", HTTP_TAGS("GET", "/file", "200"));
	check_h2_clean();
	t_close(&h);
}

/* Lost inside a message prefix: that direction's counts are unknown. */
Test(h2_loss, truncated_in_prefix)
{
	struct h2t h;
	static const uint8_t two[] = { 0, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'b' };

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/f.S/Two");
	t_send(&h, C);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, two, sizeof(two));
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, C), h.buf, (uint32_t)h.len, 9 + 8);
	h.len = 0;
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_grpc_trailers(&h, 1, "0", NULL);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "/f.S/Two",
		    GRPC_TAGS("f.S", "Two") "grpc.status_code=0\nrpc.response.messages=0\nrpc.response.bytes=0\n");
	t_close(&h);
}

/* A lost event between frames: frames are found again at a later syscall's
 * first bytes; the open stream, whose status was seen, still gets its span. */
static void lost_between_frames(int lossy)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/before", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_send(&h, S);
	eb_lose(&h.c, t_dir(&h, lossy), 123);
	/* Not frames at a syscall start: still hunting. */
	eb_data(&h.c, t_dir(&h, lossy), "zzzzzzzzzzzz", 12);
	if (lossy == S) {
		t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "end", 3);
		t_send(&h, S);
	}
	t_fresh_get(&h, 3, "/after");
	t_send(&h, C);
	t_fresh_status(&h, 3, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	if (lossy == C) {
		t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "end", 3);
		t_send(&h, S);
	}
	cr_assert_eq(nspans, 2);
	expect_span(0, SERVER, lossy == S ? "get /before" : "get /after",
		    lossy == S ? HTTP_TAGS("GET", "/before", "200") : HTTP_TAGS("GET", "/after", "200"));
	expect_span(1, SERVER, lossy == S ? "get /after" : "get /before",
		    lossy == S ? HTTP_TAGS("GET", "/after", "200") : HTTP_TAGS("GET", "/before", "200"));
	cr_expect_eq(stats.stream_resyncs, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 0);
	cr_expect_eq(stats.h2_frame_errors, 0);
	t_close(&h);
}

Test(h2_loss, lost_responses)
{
	lost_between_frames(S);
}

Test(h2_loss, lost_requests)
{
	lost_between_frames(C);
}

/* Part of a header block lost: that block is not decoded, the framing holds. */
Test(h2_loss, truncated_header_block)
{
	struct h2t h;

	t_open(&h, SS_ROLE_CLIENT);
	t_start(&h);
	t_get(&h, 1, "/a", 0);
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, C), h.buf, (uint32_t)h.len, 12);
	h.len = 0;
	t_fresh_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	t_fresh_get(&h, 3, "/b");
	t_send(&h, C);
	t_fresh_status(&h, 3, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, CLIENT, "get /b", HTTP_TAGS("GET", "/b", "200"));
	cr_expect_eq(stats.h2_hpack_errors, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	cr_expect_eq(stats.stream_resyncs, 0);
	t_close(&h);
}

/* Streams still open when the connection closes end without a span. */
Test(h2_loss, close_with_open_streams)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/a", 0);
	t_get(&h, 3, "/b", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_send(&h, S);
	eb_close(&h.c);
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_streams_unspanned, 2);
	t_close(&h);
}

/* ---- detection ---- */

Test(h2_detect, verdicts)
{
	static const struct conn any_conn;
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03 };
	static const char *const no[] = { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n",
					  "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", "-ERR x\r\n", ":1\r\n",
					  "SSH-2.0-OpenSSH_9.2\r\n" };

	cr_expect_eq(h2_proto.detect(&any_conn, (const uint8_t *)preface, 24), PROTO_YES);
	cr_expect_eq(h2_proto.detect(&any_conn, (const uint8_t *)preface, 10), PROTO_NEED_MORE);
	cr_expect_eq(h2_proto.detect(&any_conn, client_hello, sizeof(client_hello)), PROTO_NO);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_expect_eq(h2_proto.detect(&any_conn, (const uint8_t *)no[i], strlen(no[i])), PROTO_NO, "%s", no[i]);
	cr_expect_eq(h2_proto.detect(&any_conn, (const uint8_t *)"\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9), PROTO_YES);
}

/* TLS and random bytes through the tracker: no span, no HTTP/2. */
Test(h2_detect, tls_and_random_connections)
{
	struct conn_tracker *t = tracker();
	uint64_t x = 88172645463325252ull;

	for (int k = 0; k < 200; k++) {
		struct eb_conn c = eb_open(t, 3, k + 10, 1000 + (uint64_t)k, SS_ROLE_CLIENT);
		uint8_t buf[300];

		for (int e = 0; e < 12; e++) {
			for (size_t i = 0; i < sizeof(buf); i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				buf[i] = (uint8_t)x;
			}
			if (k % 2 == 0 && e == 0)
				memcpy(buf, "\x16\x03\x01\x01\x00\x01\x00\x00\xfc\x03\x03", 11);
			eb_data(&c, e % 2 ? IN : OUT, buf, 20 + (size_t)(x % 280));
		}
		eb_close(&c);
	}
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.proto_unknown, 200);
	cr_expect_eq(stats.h2_frame_errors + stats.h2_hpack_errors + stats.h2_streams_unspanned, 0);
	conn_tracker_free(t);
}

/* ---- limits ---- */

Test(h2_limits, open_streams_bounded)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	for (uint32_t i = 0; i < 600; i++) {
		t_get(&h, 2 * i + 1, "/s", 0);
		if (h.len > 60000)
			t_send(&h, C);
	}
	t_send(&h, C);
	cr_expect_eq(stats.h2_streams_overflow, 600 - H2_MAX_STREAMS);
	for (uint32_t i = 0; i < 600; i++) {
		t_status(&h, 2 * i + 1, "200", H2_FLAG_END_STREAM);
		if (h.len > 60000)
			t_send(&h, S);
	}
	t_send(&h, S);
	cr_expect_eq(nspans, H2_MAX_STREAMS);
	cr_expect_eq(stats.h2_streams_unspanned, 600 - H2_MAX_STREAMS);
	t_close(&h);
}

/* One request answered on a fresh connection; returns the bytes it holds
 * (the memory budget's count), after an idle trim when asked. */
static size_t one_exchange_footprint(bool idle)
{
	struct h2t h;
	size_t bytes;

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/a", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	if (idle) {
		conn_tracker_trim(h.t, eb_clock_ns + 2000000000ull, 1000000000ull);
		/* and it goes on after */
		t_get(&h, 3, "/b", 0);
		t_send(&h, C);
		t_status(&h, 3, "200", H2_FLAG_END_STREAM);
		t_send(&h, S);
		conn_tracker_trim(h.t, eb_clock_ns + 2000000000ull, 1000000000ull);
	}
	bytes = conn_tracker_shed(h.t, 1);
	t_close(&h);
	return bytes;
}

/* An idle connection gives back its header blocks (3.3 KiB a direction) and
 * its streams' storage; its HPACK tables stay, as they must. */
Test(h2_limits, idle_connection_gives_back_blocks_and_streams)
{
	size_t busy = one_exchange_footprint(false), idle = one_exchange_footprint(true);

	cr_expect_geq(busy, idle + 2 * sizeof(struct h2_block), "busy %zu, idle %zu", busy, idle);
	cr_expect_eq(nspans, 3);
	expect_span(2, SERVER, "get /b", HTTP_TAGS("GET", "/b", "200"));
	check_h2_clean();
}

/* ---- h2c upgrade ---- */

/* Client side, each message in its own syscall, a POST with a body. */
Test(h2_upgrade, client_side_separate_writes)
{
	struct h2t h;
	uint64_t start, end;

	t_open(&h, SS_ROLE_CLIENT);
	start = eb_str(&h.c, OUT, "POST /form HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
				  "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
				  "Content-Length: 5\r\n\r\nhello");
	eb_str(&h.c, IN, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
	t_frame(&h, H2_SETTINGS, 0, 0, NULL, 0);
	t_send(&h, S);
	t_preface(&h);
	t_send(&h, C);
	t_fresh_status(&h, 1, "201", 0);
	t_send(&h, S);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 1, "made", 4);
	end = t_send(&h, S);
	t_fresh_get(&h, 3, "/next");
	t_send(&h, C);
	t_fresh_status(&h, 3, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 2);
	expect_span(0, CLIENT, "post /form", HTTP_TAGS("POST", "/form", "201"));
	expect_times(0, start, end);
	expect_span(1, CLIENT, "get /next", HTTP_TAGS("GET", "/next", "200"));
	check_h2_clean();
	t_close(&h);
}

/* A 101 to another protocol stays an HTTP/1 tunnel, whatever follows. */
Test(h2_upgrade, websocket_is_not_h2)
{
	struct h2t h;

	t_open(&h, SS_ROLE_SERVER);
	eb_str(&h.c, IN, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	eb_str(&h.c, OUT, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	t_start(&h);
	t_get(&h, 1, "/x", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "get /ws", HTTP_TAGS("GET", "/ws", "101"));
	t_close(&h);
}

/* Every block after the attach refers to entries from before it (a gRPC
 * channel with its default tables): no span at all, every block and every
 * call counted, though the sides are never learnt. */
Test(h2_attach, nothing_decodable)
{
	struct h2t h;

	t_open(&h, SS_ROLE_UNKNOWN);
	h.unseen = true;
	t_start(&h);
	for (int seen = 0; seen < 2; seen++) {
		h.unseen = !seen;
		for (uint32_t i = 0; i < 3; i++) {
			uint32_t sid = 2 * (3 * (uint32_t)seen + i) + 1;

			t_grpc_call(&h, sid, "/demo.Echo/Say");
			t_grpc_msg(&h, C, sid, "x", H2_FLAG_END_STREAM);
			t_send(&h, C);
			t_headers(&h, S, sid, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
			t_grpc_msg(&h, S, sid, "y", 0);
			t_grpc_trailers(&h, sid, "0", NULL);
			t_send(&h, S);
		}
	}
	cr_expect_eq(nspans, 0);
	cr_expect_eq(stats.h2_hpack_errors, 9);
	cr_expect_eq(stats.h2_streams_unspanned, 3);
	cr_expect_eq(stats.h2_frame_errors, 0);
	t_close(&h);
}

/* A write cut at the capture limit across frame headers (nghttpd writes many
 * DATA frames at once): the end of one stream and all of another are lost.
 * The first still ends later and gets its span; the second, never ended,
 * is counted; later answers that refer to the lost table keep their :status. */
Test(h2_loss, write_cut_across_frames)
{
	struct h2t h;
	static uint8_t body[16384];

	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_get(&h, 1, "/big", 0);
	t_get(&h, 3, "/small", 0);
	t_send(&h, C);
	t_status(&h, 1, "200", 0);
	t_frame(&h, H2_DATA, 0, 1, body, sizeof(body));
	t_frame(&h, H2_DATA, 0, 1, body, sizeof(body));
	t_status(&h, 3, "200", 0);
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM, 3, "tiny", 4);
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, S), h.buf, (uint32_t)h.len, 16384);
	h.len = 0;
	/* One frame, cut too: it ends where the syscall ends, so frames start here. */
	t_frame(&h, H2_DATA, 0, 1, body, sizeof(body));
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, S), h.buf, (uint32_t)h.len, 16384);
	h.len = 0;
	cr_expect_eq(stats.stream_resyncs, 1);
	/* An undefined flag: only a parser already in step takes this frame. */
	t_frame(&h, H2_DATA, H2_FLAG_END_STREAM | 0x2, 1, "end", 3);
	t_send(&h, S);
	t_fresh_get(&h, 5, "/later");
	t_send(&h, C);
	t_status(&h, 5, "404", H2_FLAG_END_STREAM);
	t_send(&h, S);
	cr_assert_eq(nspans, 2);
	expect_span(0, SERVER, "get /big", HTTP_TAGS("GET", "/big", "200"));
	expect_span(1, SERVER, "get /later", HTTP_TAGS("GET", "/later", "404"));
	cr_expect_eq(stats.stream_resyncs, 1);
	cr_expect_eq(stats.h2_hpack_errors, 1);
	cr_expect_eq(stats.h2_streams_unspanned, 0);
	eb_close(&h.c);
	cr_expect_eq(stats.h2_streams_unspanned, 1);
	t_close(&h);
}

/* The same for a gRPC call: its status comes after the loss, but the
 * messages of the direction that lost bytes are no longer counted. */
Test(h2_loss, grpc_counts_dropped_after_loss)
{
	struct h2t h;
	static uint8_t msg[20000];

	msg[0] = 0, msg[1] = 0, msg[2] = 0, msg[3] = 0x4e, msg[4] = 0x1b; /* 19995 */
	t_open(&h, SS_ROLE_SERVER);
	t_start(&h);
	t_grpc_call(&h, 1, "/f.S/Down");
	t_grpc_msg(&h, C, 1, "q", H2_FLAG_END_STREAM);
	t_send(&h, C);
	t_headers(&h, S, 1, 0, (nghttp2_nv[]){ NV(":status", "200"), GRPC_CT }, 2);
	t_frame(&h, H2_DATA, 0, 1, msg, 16384);
	t_frame(&h, H2_DATA, 0, 1, msg + 16384, sizeof(msg) - 16384);
	eb_event(&h.c, SS_EV_DATA, t_dir(&h, S), h.buf, (uint32_t)h.len, 10000);
	h.len = 0;
	t_grpc_trailers(&h, 1, "0", NULL);
	t_send(&h, S);
	cr_assert_eq(nspans, 1);
	expect_span(0, SERVER, "/f.S/Down",
		    GRPC_TAGS("f.S", "Down") "grpc.status_code=0\nrpc.request.messages=1\nrpc.request.bytes=1\n");
	t_close(&h);
}

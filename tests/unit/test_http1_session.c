/*
 * Unit tests for user/http1_session.c, driven the way the capture drives it:
 * synthetic events through user/conn_tracker.c, spans caught at trace.c's
 * sink. Every test states the exact spans it expects (kind, name, method,
 * path, status, error tag, start and duration from event timestamps).
 *
 * Sequence numbers start just below 2^32 (event_builder.h), so every
 * conversation here also crosses the wraparound.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_builder.h"

TestSuite(h1_role, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_split, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_keepalive, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_pipeline, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_truncated, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_lost, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_nobody, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_close, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_tunnel, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_unknown, .init = eb_setup, .fini = eb_teardown);
TestSuite(h1_hostile, .init = eb_setup, .fini = eb_teardown);

#define IN SS_DIR_INGRESS
#define OUT SS_DIR_EGRESS
#define SERVER SPAN_KIND_SERVER
#define CLIENT SPAN_KIND_CLIENT

static const char get_a[] = "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
static const char get_b[] = "GET /b HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char get_c[] = "GET /c HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char ok_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
static const char created_201[] = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew";
static const char accepted_202[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nlater";
static const char nai_203[] = "HTTP/1.1 203 Non-Authoritative Information\r\nContent-Length: 2\r\n\r\nhi";
static const char nf_404[] = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found";

static struct conn_tracker *tracker(void)
{
	return eb_tracker(1024);
}

static enum ss_dir other(enum ss_dir d)
{
	return d == IN ? OUT : IN;
}

/* One request and its response, each in one event; the span it should give. */
static struct eb_want exchange(struct eb_conn *c, enum ss_dir req_dir, const char *req, const char *resp,
			       enum span_kind kind, const char *name, const char *method, const char *path,
			       int status)
{
	struct eb_want w = { kind, name, method, path, status, 0, 0 };

	w.start_ns = eb_str(c, req_dir, req);
	w.end_ns = eb_str(c, other(req_dir), resp);
	return w;
}

/* The exchange every test uses to show a connection is still in step. */
static struct eb_want exchange_b(struct eb_conn *c, enum ss_dir req_dir, enum span_kind kind)
{
	return exchange(c, req_dir, get_b, nf_404, kind, "get /b", "GET", "/b", 404);
}

/* ---- 1. roles ---- */

Test(h1_role, server_reads_request_writes_response)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 4242, 9, 31337, SS_ROLE_SERVER);
	struct eb_want w = exchange(&c, IN, "GET /users/123/orders?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", ok_200,
				    SERVER, "get /users/{id}/orders", "GET", "/users/123/orders", 200);

	eb_check_spans(&w, 1);
	cr_expect_eq(eb_spans[0].pid, 4242);
	cr_expect_str_eq(eb_spans[0].service, "testproc");
	cr_expect_eq(eb_spans[0].lport, c.lport);
	cr_expect_eq(eb_spans[0].rport, c.rport);
	cr_expect_eq(eb_spans[0].laddr[3], 1);
	cr_expect_eq(eb_spans[0].raddr[3], 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/* Trace headers are read in any letter case; a request marked not sampled makes no span. */
Test(h1_role, trace_headers_reach_correlation)
{
	static const uint8_t trace[8] = { 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w = exchange(&c, IN, "GET /a HTTP/1.1\r\nX-B3-TraceId: a3ce929d0e0e4736\r\n"
					   "x-B3-spanid: 00f067aa0ba902b7\r\nHost: h\r\n\r\n",
				    ok_200, SERVER, "get /a", "GET", "/a", 200);

	exchange(&c, IN, "GET /b HTTP/1.1\r\nB3: 0\r\n\r\n", ok_200, SERVER, "get /b", "GET", "/b", 200);
	eb_check_spans(&w, 1);
	cr_expect_eq(eb_spans[0].trace_id_len, 8);
	cr_expect_arr_eq(eb_spans[0].trace_id, trace, 8);
	cr_expect(eb_spans[0].has_parent);
	cr_expect_arr_eq(eb_spans[0].parent_id, parent, 8);
	cr_expect_eq(stats.spans_not_sampled, 1);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_role, client_writes_request_reads_response)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w = exchange(&c, OUT, get_a, ok_200, CLIENT, "get /a", "GET", "/a", 200);

	eb_check_spans(&w, 1);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_role, unknown_inferred_server_from_request_read)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct eb_want w[2];

	w[0] = exchange(&c, IN, get_a, ok_200, SERVER, "get /a", "GET", "/a", 200);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_role, unknown_inferred_client_from_request_written)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct eb_want w[2];

	w[0] = exchange(&c, OUT, get_a, ok_200, CLIENT, "get /a", "GET", "/a", 200);
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/* Capture started between a request and its answer: the answer read tells the side. */
Test(h1_role, unknown_inferred_client_from_response_read)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct eb_want w;

	eb_str(&c, IN, ok_200);
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.http1_unmatched, 1);
	w = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(&w, 1);
	conn_tracker_free(t);
}

/* Capture started in the middle of a response body: those bytes are not a protocol start. */
Test(h1_role, unknown_first_bytes_mid_body)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct eb_want w;

	eb_str(&c, OUT, "ld\"}, {\"id\": 17, \"name\": \"wor");
	eb_str(&c, OUT, "ld\"}]\n");
	cr_expect_eq(stats.proto_unknown, 0);
	w = exchange_b(&c, IN, SERVER);
	eb_check_spans(&w, 1);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 2. every split ---- */

struct conversation {
	uint8_t role;
	enum ss_dir req_dir;
	const char *req, *resp;
	struct eb_want want; /* start_ns and end_ns are filled per run */
};

/*
 * The request split in two at byte i, the response at byte j, for every i and
 * j; then one more exchange on the same connection, and a close.
 */
static void run_splits(const struct conversation *cv)
{
	struct conn_tracker *t = tracker();
	size_t rl = strlen(cv->req), pl = strlen(cv->resp);
	enum ss_dir resp_dir = other(cv->req_dir);
	uint64_t ino = 1;

	for (size_t i = 1; i < rl; i++) {
		for (size_t j = 1; j < pl; j++) {
			struct eb_conn c = eb_open(t, 7, 3, ino++, cv->role);
			struct eb_want w[2] = { cv->want };

			eb_nspans = 0;
			w[0].start_ns = eb_data(&c, cv->req_dir, cv->req, i);
			eb_data(&c, cv->req_dir, cv->req + i, rl - i);
			eb_data(&c, resp_dir, cv->resp, j);
			w[0].end_ns = eb_data(&c, resp_dir, cv->resp + j, pl - j);
			w[1] = exchange_b(&c, cv->req_dir, cv->want.kind);
			eb_close(&c);
			if (!eb_spans_equal(w, 2)) {
				cr_log_error("request split at %zu, response split at %zu", i, j);
				eb_check_spans(w, 2);
				cr_assert_fail("request split at %zu, response split at %zu", i, j);
			}
		}
	}
	cr_expect_eq(conn_tracker_count(t), 0);
	eb_check_clean();
	conn_tracker_free(t);
}

/* Every byte its own event. */
static void run_bytewise(const struct conversation *cv)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 7, 3, 1, cv->role);
	struct eb_want w[2] = { cv->want };
	size_t rl = strlen(cv->req), pl = strlen(cv->resp);

	for (size_t i = 0; i < rl; i++) {
		uint64_t ts = eb_data(&c, cv->req_dir, cv->req + i, 1);

		if (i == 0)
			w[0].start_ns = ts;
	}
	for (size_t i = 0; i < pl; i++)
		w[0].end_ns = eb_data(&c, other(cv->req_dir), cv->resp + i, 1);
	w[1] = exchange_b(&c, cv->req_dir, cv->want.kind);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

static const struct conversation post_chunked = {
	SS_ROLE_SERVER, IN,
	"POST /api/v1/items HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
	"Content-Length: 13\r\n\r\n{\"name\":\"x\"}\n",
	"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\n",
	{ SERVER, "post /api/v1/items", "POST", "/api/v1/items", 500, 0, 0 },
};

static const struct conversation get_length = {
	SS_ROLE_CLIENT, OUT,
	"GET /users/42?verbose=1 HTTP/1.1\r\nHost: users\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n",
	"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: application/json\r\n"
	"Content-Length: 26\r\nConnection: keep-alive\r\n\r\n{\"id\":42,\"name\":\"arthur\"}\n",
	{ CLIENT, "get /users/{id}", "GET", "/users/42", 200, 0, 0 },
};

/* Role unknown, request body chunked, answer without a body. */
static const struct conversation upload_unknown = {
	SS_ROLE_UNKNOWN, IN,
	"PUT /files/report.txt HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
	{ SERVER, "put /files/report.txt", "PUT", "/files/report.txt", 204, 0, 0 },
};

Test(h1_split, post_with_length_chunked_response) { run_splits(&post_chunked); }
Test(h1_split, get_with_length_response) { run_splits(&get_length); }
Test(h1_split, chunked_upload_unknown_role) { run_splits(&upload_unknown); }
Test(h1_split, bytewise_post_chunked) { run_bytewise(&post_chunked); }
Test(h1_split, bytewise_get_length) { run_bytewise(&get_length); }
Test(h1_split, bytewise_upload_unknown_role) { run_bytewise(&upload_unknown); }

/* ---- 3. keep-alive ---- */

Test(h1_keepalive, hundred_exchanges_in_order)
{
	static const int statuses[] = { 200, 201, 204, 301, 304, 400, 404, 500, 502, 503 };
	static char paths[100][32], reqs[100][160], resps[100][160];
	struct eb_want w[100];
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);

	for (int i = 0; i < 100; i++) {
		int status = statuses[i % 10];
		bool post = i % 3 == 0;

		snprintf(paths[i], sizeof(paths[i]), "/item/%d", 1000 + i);
		if (post)
			snprintf(reqs[i], sizeof(reqs[i]),
				 "POST %s HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", paths[i]);
		else
			snprintf(reqs[i], sizeof(reqs[i]), "GET %s?i=%d HTTP/1.1\r\nHost: h\r\n\r\n", paths[i], i);
		if (status == 204 || status == 304)
			snprintf(resps[i], sizeof(resps[i]), "HTTP/1.1 %d X\r\n\r\n", status);
		else
			snprintf(resps[i], sizeof(resps[i]), "HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%.*s",
				 status, i % 5, i % 5, "abcde");
		w[i] = exchange(&c, IN, reqs[i], resps[i], SERVER, post ? "post /item/{id}" : "get /item/{id}",
				post ? "POST" : "GET", paths[i], status);
	}
	eb_check_spans(w, 100);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 4. pipelining ---- */

static const char pipe_reqs[] =
	"GET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n"
	"POST /p/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
	"DELETE /p/3 HTTP/1.1\r\nHost: x\r\n\r\n";
static const char pipe_resps[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
	"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nthree";

static void pipe_wants(struct eb_want w[3])
{
	const struct eb_want shape[3] = {
		{ SERVER, "get /p/{id}", "GET", "/p/1", 200, 0, 0 },
		{ SERVER, "post /p/{id}", "POST", "/p/2", 201, 0, 0 },
		{ SERVER, "delete /p/{id}", "DELETE", "/p/3", 503, 0, 0 },
	};

	memcpy(w, shape, sizeof(shape));
}

/* Byte offsets where each request starts and each response ends. */
static void pipe_offsets(size_t req_start[3], size_t resp_end[3])
{
	const char *p = pipe_reqs;

	req_start[0] = 0;
	req_start[1] = (size_t)(strstr(p, "POST") - p);
	req_start[2] = (size_t)(strstr(p, "DELETE") - p);
	resp_end[0] = (size_t)(strstr(pipe_resps, "HTTP/1.1 201") - pipe_resps);
	resp_end[1] = (size_t)(strstr(pipe_resps, "HTTP/1.1 503") - pipe_resps);
	resp_end[2] = strlen(pipe_resps);
}

Test(h1_pipeline, three_in_one_event_each_way)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[4];
	uint64_t t0, t1;

	pipe_wants(w);
	t0 = eb_str(&c, IN, pipe_reqs);
	t1 = eb_str(&c, OUT, pipe_resps);
	for (int k = 0; k < 3; k++)
		w[k].start_ns = t0, w[k].end_ns = t1;
	w[3] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 4);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_pipeline, responses_split_at_every_pair_of_positions)
{
	struct conn_tracker *t = tracker();
	size_t n = strlen(pipe_resps), req_start[3], resp_end[3];
	uint64_t ino = 1;

	pipe_offsets(req_start, resp_end);
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			struct eb_conn c = eb_open(t, 1, 9, ino++, SS_ROLE_SERVER);
			struct eb_want w[4];
			uint64_t ts[3], t0;

			eb_nspans = 0;
			pipe_wants(w);
			t0 = eb_str(&c, IN, pipe_reqs);
			ts[0] = eb_data(&c, OUT, pipe_resps, i);
			ts[1] = eb_data(&c, OUT, pipe_resps + i, j - i);
			ts[2] = eb_data(&c, OUT, pipe_resps + j, n - j);
			for (int k = 0; k < 3; k++) {
				size_t last = resp_end[k] - 1;

				w[k].start_ns = t0;
				w[k].end_ns = ts[last < i ? 0 : last < j ? 1 : 2];
			}
			w[3] = exchange_b(&c, IN, SERVER);
			eb_close(&c);
			if (!eb_spans_equal(w, 4)) {
				cr_log_error("responses split at %zu and %zu", i, j);
				eb_check_spans(w, 4);
				cr_assert_fail("responses split at %zu and %zu", i, j);
			}
		}
	}
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_pipeline, requests_split_at_every_position)
{
	struct conn_tracker *t = tracker();
	size_t n = strlen(pipe_reqs), req_start[3], resp_end[3];

	pipe_offsets(req_start, resp_end);
	for (size_t i = 1; i < n; i++) {
		struct eb_conn c = eb_open(t, 1, 9, i, SS_ROLE_CLIENT);
		struct eb_want w[4];
		uint64_t ts[2], t1;

		eb_nspans = 0;
		pipe_wants(w);
		ts[0] = eb_data(&c, OUT, pipe_reqs, i);
		ts[1] = eb_data(&c, OUT, pipe_reqs + i, n - i);
		t1 = eb_str(&c, IN, pipe_resps);
		for (int k = 0; k < 3; k++) {
			w[k].kind = CLIENT;
			w[k].start_ns = ts[req_start[k] < i ? 0 : 1];
			w[k].end_ns = t1;
		}
		w[3] = exchange_b(&c, OUT, CLIENT);
		eb_close(&c);
		if (!eb_spans_equal(w, 4)) {
			cr_log_error("requests split at %zu", i);
			eb_check_spans(w, 4);
			cr_assert_fail("requests split at %zu", i);
		}
	}
	eb_check_clean();
	conn_tracker_free(t);
}

/* Bursts of pipelined requests answered a few at a time: the queue wraps and grows.
 * Statuses 206..254 say which request each answer is for (none is 304). */
/* RFC 9112 section 2.2: empty lines before a request line or a status line
 * are ignored (old clients send one after a POST body, some servers after a
 * response body): each exchange still gets its span, in step, at both ends. */
static const char crlf_reqs[] =
	"\r\nGET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n"
	"POST /p/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody\r\n"
	"\r\n\n\r\nDELETE /p/3 HTTP/1.1\r\nHost: x\r\n\r\n";
static const char crlf_resps[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none\r\n"
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n\r\n\n"
	"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nthree\r\n";

static void check_crlf_exchanges(uint8_t role, enum ss_dir req_dir, enum span_kind kind, bool split)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, role);
	struct eb_want w[4];

	pipe_wants(w);
	for (int k = 0; k < 3; k++)
		w[k].kind = kind;
	if (split) {
		const char *reqs[] = { "\r\nGET /p/1 HTTP/1.1\r\nHost: x\r\n\r\n",
				       "POST /p/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody\r\n",
				       "\r\n\n\r\nDELETE /p/3 HTTP/1.1\r\nHost: x\r\n\r\n" };
		const char *resps[] = { "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none\r\n",
					"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n\r\n\n",
					"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nthree\r\n" };

		for (int k = 0; k < 3; k++) {
			w[k].start_ns = eb_str(&c, req_dir, reqs[k]);
			w[k].end_ns = eb_str(&c, other(req_dir), resps[k]);
		}
	} else {
		uint64_t t0 = eb_str(&c, req_dir, crlf_reqs), t1 = eb_str(&c, other(req_dir), crlf_resps);

		for (int k = 0; k < 3; k++)
			w[k].start_ns = t0, w[k].end_ns = t1;
	}
	w[3] = exchange_b(&c, req_dir, kind);
	eb_check_spans(w, 4);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_pipeline, empty_lines_around_pipelined_messages_at_the_server)
{
	check_crlf_exchanges(SS_ROLE_SERVER, IN, SERVER, false);
}

Test(h1_pipeline, empty_lines_around_pipelined_messages_at_the_client)
{
	check_crlf_exchanges(SS_ROLE_CLIENT, OUT, CLIENT, false);
}

Test(h1_pipeline, empty_lines_around_messages_one_by_one_at_the_server)
{
	check_crlf_exchanges(SS_ROLE_SERVER, IN, SERVER, true);
}

Test(h1_pipeline, empty_lines_around_messages_one_by_one_at_the_client)
{
	check_crlf_exchanges(SS_ROLE_CLIENT, OUT, CLIENT, true);
}

Test(h1_pipeline, empty_lines_in_an_unknown_role_connection)
{
	check_crlf_exchanges(SS_ROLE_UNKNOWN, IN, SERVER, true);
}

/* An idle connection gives back its empty buffers and queue, then goes on. */
Test(h1_keepalive, a_trimmed_idle_connection_goes_on)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2];

	w[0] = exchange(&c, IN, get_a, ok_200, SERVER, "get /a", "GET", "/a", 200);
	conn_tracker_trim(t, eb_clock_ns + 10ull * 1000000000, 1000000000);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_pipeline, queue_wraps_and_grows)
{
	static const int bursts[][2] = { { 3, 2 }, { 4, 3 }, { 5, 6 }, { 7, 2 }, { 1, 7 }, { 9, 9 }, { 20, 1 }, { 0, 19 } };
	static char paths[64][16];
	struct eb_want w[64];
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	int sent = 0, answered = 0;

	for (size_t b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
		char reqs[4096] = "", resps[4096] = "";
		uint64_t ts;

		for (int k = 0; k < bursts[b][0]; k++, sent++) {
			snprintf(paths[sent], sizeof(paths[sent]), "/q/%d", sent);
			snprintf(reqs + strlen(reqs), sizeof(reqs) - strlen(reqs),
				 "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[sent]);
			w[sent] = (struct eb_want){ CLIENT, "get /q/{id}", "GET", paths[sent], 206 + sent, 0, 0 };
		}
		if (bursts[b][0]) {
			ts = eb_str(&c, OUT, reqs);
			for (int k = sent - bursts[b][0]; k < sent; k++)
				w[k].start_ns = ts;
		}
		for (int k = 0; k < bursts[b][1]; k++)
			snprintf(resps + strlen(resps), sizeof(resps) - strlen(resps),
				 "HTTP/1.1 %d X\r\nContent-Length: 1\r\n\r\n%c", 206 + answered + k, 'a' + k);
		ts = eb_str(&c, IN, resps);
		for (int k = 0; k < bursts[b][1]; k++, answered++)
			w[answered].end_ns = ts;
	}
	cr_assert_eq(sent, answered);
	eb_check_spans(w, (size_t)sent);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 5. truncated payloads and sendfile ---- */

#define BIG_BODY (1024 * 1024)
#define EV_LEN 65536
#define CAP_LEN 16384

static char *big_response(const char *head_fmt, size_t *total, size_t *head_len)
{
	char head[256];
	int h = snprintf(head, sizeof(head), head_fmt, BIG_BODY);
	char *buf = malloc((size_t)h + BIG_BODY + 64);

	cr_assert_not_null(buf);
	memcpy(buf, head, (size_t)h);
	memset(buf + h, 'x', BIG_BODY);
	*head_len = (size_t)h;
	*total = (size_t)h + BIG_BODY;
	return buf;
}

/* Sends buf[0..len) in events of EV_LEN bytes with only CAP_LEN copied. Returns the last ts
 * and adds the bytes not copied to *uncopied. */
static uint64_t send_capped(struct eb_conn *c, enum ss_dir dir, const char *buf, size_t len, uint64_t *uncopied)
{
	uint64_t ts = 0;

	for (size_t off = 0; off < len; off += EV_LEN) {
		uint32_t n = (uint32_t)(len - off < EV_LEN ? len - off : EV_LEN);
		uint32_t cap = n < CAP_LEN ? n : CAP_LEN;

		ts = eb_event(c, SS_EV_DATA, dir, buf + off, n, cap);
		*uncopied += n - cap;
	}
	return ts;
}

/* Head and body in 64 KiB writes, 16 KiB of each copied: the body ends in copied bytes. */
Test(h1_truncated, capped_events_body_ends_in_copied_bytes)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	size_t total, head;
	char *resp = big_response("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
				  "Content-Length: %d\r\n\r\n", &total, &head);
	struct eb_want w[2] = { { SERVER, "get /a", "GET", "/a", 200, 0, 0 } };
	uint64_t uncopied = 0;

	cr_assert_lt(total % EV_LEN, CAP_LEN, "the last event must be copied whole");
	w[0].start_ns = eb_str(&c, IN, get_a);
	w[0].end_ns = send_capped(&c, OUT, resp, total, &uncopied);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	free(resp);
	conn_tracker_free(t);
}

/* stats.h: stream_gaps counts "bytes missing from a stream (lost events, truncation)". */
/* Truncation is expected (the kernel counts it): stream_gaps counts only bytes of lost events. */
Test(h1_truncated, truncated_bytes_are_not_counted_as_lost)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	size_t total, head;
	char *resp = big_response("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", &total, &head);
	uint64_t uncopied = 0;

	eb_str(&c, IN, get_a);
	send_capped(&c, OUT, resp, total, &uncopied);
	cr_assert_eq(eb_nspans, 1);
	cr_assert_eq(uncopied, 16 * (EV_LEN - CAP_LEN));
	cr_expect_eq(stats.stream_gaps, 0, "stream_gaps %lu, want 0", (unsigned long)stats.stream_gaps);
	free(resp);
	conn_tracker_free(t);
}

/* Head alone, then the body in capped events: the body ends in bytes never copied. */
Test(h1_truncated, capped_events_body_ends_in_uncopied_bytes)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	size_t total, head;
	char *resp = big_response("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", &total, &head);
	struct eb_want w[2] = { { CLIENT, "get /a", "GET", "/a", 200, 0, 0 } };
	uint64_t uncopied = 0;

	w[0].start_ns = eb_str(&c, OUT, get_a);
	eb_data(&c, IN, resp, head);
	w[0].end_ns = send_capped(&c, IN, resp + head, BIG_BODY, &uncopied);
	cr_assert_eq(eb_nspans, 1, "the body's end was not seen in the gap");
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	eb_check_clean();
	free(resp);
	conn_tracker_free(t);
}

/* One 1 MiB chunk, capped: the gaps fall inside the chunk's data. */
Test(h1_truncated, capped_events_inside_a_chunk)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	size_t total, head;
	char *resp = big_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", &total, &head);
	struct eb_want w[2] = { { SERVER, "get /a", "GET", "/a", 200, 0, 0 } };
	uint64_t uncopied = 0;

	memcpy(resp + total, "\r\n0\r\n\r\n", 7);
	total += 7;
	cr_assert_lt(total % EV_LEN, CAP_LEN);
	w[0].start_ns = eb_str(&c, IN, get_a);
	w[0].end_ns = send_capped(&c, OUT, resp, total, &uncopied);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(stats.stream_resyncs, 0);
	free(resp);
	conn_tracker_free(t);
}

/* Head written, body sent with sendfile: SS_EV_GAP events carry no bytes. */
Test(h1_truncated, sendfile_body)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[3] = { { SERVER, "get /a", "GET", "/a", 200, 0, 0 } };
	char head[128];

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG_BODY);
	w[0].start_ns = eb_str(&c, IN, get_a);
	eb_str(&c, OUT, head);
	for (int i = 0; i < BIG_BODY / EV_LEN; i++) {
		cr_assert_eq(eb_nspans, 0, "span before the last sendfile");
		w[0].end_ns = eb_event(&c, SS_EV_GAP, OUT, NULL, EV_LEN, 0);
	}
	w[1] = exchange_b(&c, IN, SERVER);
	/* and a second sendfile response, in one GAP event */
	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", 300000);
	w[2] = (struct eb_want){ SERVER, "get /c", "GET", "/c", 200, 0, 0 };
	w[2].start_ns = eb_str(&c, IN, get_c);
	eb_str(&c, OUT, head);
	w[2].end_ns = eb_event(&c, SS_EV_GAP, OUT, NULL, 300000, 0);
	eb_check_spans(w, 3);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 6. lost events ---- */

Test(h1_lost, gap_inside_length_body_stays_in_step)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2] = { { SERVER, "get /a", "GET", "/a", 200, 0, 0 } };
	char body[1000];

	memset(body, 'b', sizeof(body));
	w[0].start_ns = eb_str(&c, IN, get_a);
	eb_str(&c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
	eb_data(&c, OUT, body, 100);
	eb_lose(&c, OUT, 400);
	eb_data(&c, OUT, body, 300);
	eb_lose(&c, OUT, 100);
	w[0].end_ns = eb_data(&c, OUT, body, 100);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	cr_expect_eq(stats.stream_gaps, 500);
	conn_tracker_free(t);
}

Test(h1_lost, gap_inside_request_body_and_chunk_stays_in_step)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[2] = { { CLIENT, "post /up", "POST", "/up", 201, 0, 0 } };
	char body[600];

	memset(body, 'b', sizeof(body));
	w[0].start_ns = eb_str(&c, OUT, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n");
	eb_data(&c, OUT, body, 10);
	eb_lose(&c, OUT, 580);
	eb_data(&c, OUT, body, 10);
	/* the answer: one chunk of 0x258 = 600 bytes, the middle lost */
	eb_str(&c, IN, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n");
	eb_data(&c, IN, body, 50);
	eb_lose(&c, IN, 500);
	eb_data(&c, IN, body, 50);
	w[0].end_ns = eb_str(&c, IN, "\r\n0\r\n\r\n");
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	eb_check_clean();
	cr_expect_eq(stats.stream_gaps, 1080);
	conn_tracker_free(t);
}

/* The request's body ends in lost bytes: noticed only with the next request. */
Test(h1_lost, request_body_end_lost)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2] = { { SERVER, "put /k", "PUT", "/k", 200, 0, 0 } };

	w[0].start_ns = eb_str(&c, IN, "PUT /k HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
	eb_lose(&c, IN, 90);
	w[0].end_ns = eb_str(&c, OUT, ok_200);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/*
 * A request head cut by lost bytes: no span for it, its answer matches
 * nothing, bytes after the gap are not parsed from the middle of an event,
 * and the next request at the start of an event is.
 */
Test(h1_lost, request_head_cut_resyncs_at_event_start)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2];

	w[0] = exchange(&c, IN, get_c, ok_200, SERVER, "get /c", "GET", "/c", 200);
	eb_str(&c, IN, "GET /a HTTP/1.1\r\nHo");
	eb_lose(&c, IN, 20);
	eb_str(&c, OUT, created_201);
	/* the first event after the gap: the end of something, then a request inside it */
	eb_str(&c, IN, "ignored-tail\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n");
	eb_str(&c, OUT, accepted_202);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	cr_expect_eq(stats.stream_gaps, 20);
	cr_expect_eq(stats.stream_resyncs, 1);
	cr_expect_eq(stats.http1_unmatched, 2);
	cr_expect_eq(stats.http1_parse_errors, 0);
	conn_tracker_free(t);
}

/* A head cut by the end of a capped payload: the same. */
Test(h1_lost, request_head_cut_by_capture_limit)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w;

	eb_event(&c, SS_EV_DATA, OUT, get_a, (uint32_t)strlen(get_a), 10);
	eb_str(&c, IN, ok_200);
	w = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(&w, 1);
	cr_expect_eq(stats.stream_resyncs, 1);
	cr_expect_eq(stats.http1_unmatched, 1);
	conn_tracker_free(t);
}

/*
 * Spans may be lost around a gap, never misattributed: in these tests each
 * path has its own status (/a 201, /b 202, /c 203). After the gap, /b may
 * or may not get a span (which request the first response after a loss
 * answers is not knowable in general), but any span must carry its own
 * request's status and times, and the exchange after that (/c) must be exact.
 */
static void check_after_response_loss(const struct eb_want *first, const struct eb_want *b,
				      const struct eb_want *c)
{
	for (size_t i = 0; i < eb_nspans && i < EB_MAX_SPANS; i++) {
		const struct eb_span *s = &eb_spans[i];

		cr_expect(strcmp(s->path, "/a") != 0 || strcmp(s->status, "201") == 0,
			  "span %zu: /a paired with status %s, the answer to another request", i, s->status);
		cr_expect(strcmp(s->path, "/b") != 0 || strcmp(s->status, "202") == 0,
			  "span %zu: /b paired with status %s, the answer to another request", i, s->status);
	}
	cr_assert(eb_nspans == 2 || eb_nspans == 3, "%zu spans", eb_nspans);
	eb_check_span(0, first);
	if (eb_nspans == 3)
		eb_check_span(1, b);
	eb_check_span(eb_nspans - 1, c);
}

static const char get_a201[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
static const char get_b202[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
static const char get_c203[] = "GET /c HTTP/1.1\r\nHost: h\r\n\r\n";

/* The event carrying a whole response is lost. */
Test(h1_lost, whole_response_lost_is_not_paired_with_the_next_request)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want first, b, cc;

	/* an exchange first: the response side's byte position is known */
	first = exchange(&c, IN, "GET /first HTTP/1.1\r\n\r\n", ok_200, SERVER, "get /first", "GET", "/first", 200);
	eb_str(&c, IN, get_a201);
	eb_lose(&c, OUT, (uint32_t)strlen(created_201));
	b = exchange(&c, IN, get_b202, accepted_202, SERVER, "get /b", "GET", "/b", 202);
	cc = exchange(&c, IN, get_c203, nai_203, SERVER, "get /c", "GET", "/c", 203);
	check_after_response_loss(&first, &b, &cc);
	cr_expect_eq(stats.stream_gaps, strlen(created_201));
	cr_expect_eq(stats.stream_resyncs, 1);
	conn_tracker_free(t);
}

/* A response head cut by lost bytes. */
Test(h1_lost, response_head_cut_is_not_paired_with_the_next_request)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want first, b, cc;

	first = exchange(&c, OUT, "GET /first HTTP/1.1\r\n\r\n", ok_200, CLIENT, "get /first", "GET", "/first", 200);
	eb_str(&c, OUT, get_a201);
	eb_data(&c, IN, created_201, 20);
	eb_lose(&c, IN, (uint32_t)strlen(created_201) - 20);
	b = exchange(&c, OUT, get_b202, accepted_202, CLIENT, "get /b", "GET", "/b", 202);
	cc = exchange(&c, OUT, get_c203, nai_203, CLIENT, "get /c", "GET", "/c", 203);
	check_after_response_loss(&first, &b, &cc);
	cr_expect_eq(stats.stream_resyncs, 1);
	conn_tracker_free(t);
}

/*
 * A client that waits for each answer loses a whole response (the request
 * after it looks pipelined behind the unanswered one), then later a request
 * whose answer is seen: the exchanges after that still get their spans, the
 * connection does not stay stalled behind the second loss's marker.
 */
Test(h1_lost, two_losses_on_a_keepalive_connection_do_not_stall_it)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[3];

	w[0] = exchange(&c, IN, "GET /first HTTP/1.1\r\n\r\n", ok_200, SERVER, "get /first", "GET", "/first", 200);
	eb_str(&c, IN, get_a201);
	eb_lose(&c, OUT, (uint32_t)strlen(created_201));
	exchange(&c, IN, get_b202, accepted_202, SERVER, "get /b", "GET", "/b", 202);
	eb_lose(&c, IN, (uint32_t)strlen(get_c203));
	eb_str(&c, OUT, nai_203);
	w[1] = exchange_b(&c, IN, SERVER);
	w[2] = exchange(&c, IN, get_a, ok_200, SERVER, "get /a", "GET", "/a", 200);
	cr_assert_geq(eb_nspans, 3, "%zu spans: the connection stalled after the second loss", eb_nspans);
	eb_check_span(0, &w[0]);
	eb_check_span(eb_nspans - 2, &w[1]);
	eb_check_span(eb_nspans - 1, &w[2]);
	conn_tracker_free(t);
}

/* ---- 7. a response whose request was lost ---- */

Test(h1_lost, response_to_a_lost_request_matches_nothing)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[2];

	w[0] = exchange(&c, OUT, get_c, ok_200, CLIENT, "get /c", "GET", "/c", 200);
	eb_lose(&c, OUT, (uint32_t)strlen(get_a));
	eb_str(&c, IN, created_201);
	cr_expect_eq(stats.http1_unmatched, 1);
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	cr_expect_eq(stats.stream_resyncs, 1);
	conn_tracker_free(t);
}

/* The answer to a lost request starts before the next request: never paired with it. */
Test(h1_lost, response_started_before_the_request_is_not_its_answer)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[3];

	w[0] = exchange(&c, IN, get_c, ok_200, SERVER, "get /c", "GET", "/c", 200);
	eb_lose(&c, IN, (uint32_t)strlen(get_a));
	eb_data(&c, OUT, created_201, 10);
	w[1] = (struct eb_want){ SERVER, "get /b", "GET", "/b", 404, 0, 0 };
	w[1].start_ns = eb_str(&c, IN, get_b);
	eb_str(&c, OUT, created_201 + 10);
	cr_expect_eq(stats.http1_unmatched, 1);
	w[1].end_ns = eb_str(&c, OUT, nf_404);
	w[2] = exchange(&c, IN, get_a, ok_200, SERVER, "get /a", "GET", "/a", 200);
	eb_check_spans(w, 3);
	conn_tracker_free(t);
}

/*
 * Pipelined: /one, /two and /three written in three events, /two's lost. The answers
 * come back in order; the one to /two must not become /three's.
 */
Test(h1_lost, pipelined_lost_request_answer_not_paired_with_a_later_request)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want first = { CLIENT, "get /one", "GET", "/one", 201, 0, 0 };
	struct eb_want third = { CLIENT, "get /three", "GET", "/three", 203, 0, 0 };
	struct eb_want last;

	first.start_ns = eb_str(&c, OUT, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
	eb_lose(&c, OUT, (uint32_t)strlen("GET /two HTTP/1.1\r\nHost: h\r\n\r\n"));
	third.start_ns = eb_str(&c, OUT, "GET /three HTTP/1.1\r\nHost: h\r\n\r\n");
	first.end_ns = eb_str(&c, IN, created_201);
	eb_str(&c, IN, accepted_202); /* the answer to /two */
	third.end_ns = eb_str(&c, IN, nai_203);
	last = exchange_b(&c, OUT, CLIENT);

	for (size_t i = 0; i < eb_nspans && i < EB_MAX_SPANS; i++)
		cr_expect(strcmp(eb_spans[i].path, "/three") != 0 || strcmp(eb_spans[i].status, "203") == 0,
			  "span %zu: /three paired with status %s, the answer to the lost /two", i, eb_spans[i].status);
	cr_assert(eb_nspans == 2 || eb_nspans == 3, "%zu spans", eb_nspans);
	eb_check_span(0, &first);
	if (eb_nspans == 3)
		eb_check_span(1, &third);
	eb_check_span(eb_nspans - 1, &last);
	conn_tracker_free(t);
}

/* ---- 8. responses without a body ---- */

Test(h1_nobody, head_answered_with_content_length)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[3];

	w[0] = exchange(&c, OUT, "HEAD /file.iso HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 734003200\r\nContent-Type: application/x-iso\r\n\r\n",
			CLIENT, "head /file.iso", "HEAD", "/file.iso", 200);
	w[1] = exchange(&c, OUT, "HEAD /chunked HTTP/1.1\r\nHost: x\r\n\r\n",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			CLIENT, "head /chunked", "HEAD", "/chunked", 200);
	w[2] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 3);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_nobody, no_content_and_not_modified)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[3];

	w[0] = exchange(&c, IN, "DELETE /k/1 HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n",
			SERVER, "delete /k/{id}", "DELETE", "/k/1", 204);
	w[1] = exchange(&c, IN, "GET /static/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"abc\"\r\n\r\n",
			"HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 52113\r\n\r\n",
			SERVER, "get /static/app.js", "GET", "/static/app.js", 304);
	w[2] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 3);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_nobody, continue_then_final_response)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[2] = { { CLIENT, "post /upload", "POST", "/upload", 200, 0, 0 } };

	w[0].start_ns = eb_str(&c, OUT, "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
					"Content-Length: 5\r\n\r\n");
	eb_str(&c, IN, "HTTP/1.1 100 Continue\r\n\r\n");
	cr_expect_eq(eb_nspans, 0);
	eb_str(&c, OUT, "hello");
	w[0].end_ns = eb_str(&c, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/* A PUT with Expect: 100-continue answered by resp in one event: interim
 * responses (and empty lines after them) come before the final status. */
static void put_answered_in_one_event(const char *resp, int status)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2] = { { SERVER, "put /x", "PUT", "/x", status, 0, 0 } };

	w[0].start_ns = eb_str(&c, IN, "PUT /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
				       "Content-Length: 0\r\n\r\n");
	w[0].end_ns = eb_str(&c, OUT, resp);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_nobody, continue_and_final_response_in_one_event)
{
	put_answered_in_one_event("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
				  "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n",
				  413);
}

Test(h1_nobody, empty_line_after_a_1xx_response)
{
	put_answered_in_one_event("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204);
}

/* ---- 9. body delimited by the close ---- */

Test(h1_close, http10_body_ends_at_close)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w = { SERVER, "get /old", "GET", "/old", 200, 0, 0 };

	w.start_ns = eb_str(&c, IN, "GET /old HTTP/1.0\r\nHost: x\r\n\r\n");
	eb_str(&c, OUT, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n");
	eb_str(&c, OUT, "<html>");
	eb_event(&c, SS_EV_DATA, OUT, "<body>....", 5000, 10);
	eb_str(&c, OUT, "</html>");
	cr_expect_eq(eb_nspans, 0, "span before the close");
	w.end_ns = eb_close(&c);
	eb_check_spans(&w, 1);
	eb_check_clean();
	cr_expect_eq(conn_tracker_count(t), 0);
	conn_tracker_free(t);
}

Test(h1_close, http11_without_length_after_keepalive)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[2];

	w[0] = exchange_b(&c, OUT, CLIENT);
	w[1] = (struct eb_want){ CLIENT, "get /stream", "GET", "/stream", 200, 0, 0 };
	w[1].start_ns = eb_str(&c, OUT, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
	eb_str(&c, IN, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nevent: 1\n");
	eb_str(&c, IN, "HTTP/1.1 200 OK\r\n\r\n"); /* body bytes, whatever they look like */
	w[1].end_ns = eb_close(&c);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_close, close_mid_body_gives_no_span)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);

	eb_str(&c, IN, get_a);
	eb_str(&c, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
	eb_close(&c);
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(conn_tracker_count(t), 0);
	conn_tracker_free(t);
}

/* ---- 10. protocol switches ---- */

/* Binary both ways, some of it looking like HTTP, some of it lost or capped. */
static void tunnel_traffic(struct eb_conn *c)
{
	static const uint8_t frame[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const char looks_http[] = "GET /not-http HTTP/1.1\r\n\r\nHTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n";

	for (int i = 0; i < 20; i++) {
		eb_data(c, OUT, frame, sizeof(frame));
		eb_data(c, IN, frame, sizeof(frame));
		eb_str(c, OUT, looks_http);
		eb_str(c, IN, looks_http);
		eb_lose(c, IN, 77);
		eb_event(c, SS_EV_DATA, OUT, looks_http, 5000, 20);
	}
}

static void check_tunnel_quiet(void)
{
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(stats.http1_unmatched, 0);
	cr_expect_eq(stats.stream_resyncs, 0);
	cr_expect_eq(stats.stream_overflows, 0);
}

Test(h1_tunnel, websocket_upgrade)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w = exchange(&c, IN,
				    "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
				    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
				    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
				    SERVER, "get /chat", "GET", "/chat", 101);

	tunnel_traffic(&c);
	eb_close(&c);
	eb_check_spans(&w, 1);
	check_tunnel_quiet();
	conn_tracker_free(t);
}

/* The 101 and the first frames in one write. */
Test(h1_tunnel, websocket_frames_with_the_101)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w = { CLIENT, "get /ws", "GET", "/ws", 101, 0, 0 };
	static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				   "Connection: Upgrade\r\n\r\n\x81\x05hello\x81\x1dHTTP/1.1 200 OK\r\n\r\nxxxxxx";

	w.start_ns = eb_str(&c, OUT, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	w.end_ns = eb_data(&c, IN, resp, sizeof(resp) - 1);
	tunnel_traffic(&c);
	eb_check_spans(&w, 1);
	check_tunnel_quiet();
	conn_tracker_free(t);
}

Test(h1_tunnel, connect_then_tls)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w = exchange(&c, OUT, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
				    "HTTP/1.1 200 Connection Established\r\n\r\n",
				    CLIENT, "connect example.com:443", "CONNECT", "example.com:443", 200);

	tunnel_traffic(&c);
	eb_check_spans(&w, 1);
	check_tunnel_quiet();
	conn_tracker_free(t);
}

/* The client sends its ClientHello before the proxy's answer is read. */
Test(h1_tunnel, connect_with_early_data)
{
	static const char req[] = "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n"
				  "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00";
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w = { CLIENT, "connect db.internal:5432", "CONNECT", "db.internal:5432", 200, 0, 0 };

	w.start_ns = eb_data(&c, OUT, req, sizeof(req) - 1);
	eb_str(&c, OUT, "GET /inside-the-tunnel HTTP/1.1\r\n\r\n");
	w.end_ns = eb_str(&c, IN, "HTTP/1.1 200 Connection Established\r\n\r\n");
	tunnel_traffic(&c);
	eb_check_spans(&w, 1);
	check_tunnel_quiet();
	conn_tracker_free(t);
}

Test(h1_tunnel, connect_refused_stays_http)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w[2];

	w[0] = exchange(&c, OUT, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
			"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n"
			"Content-Length: 6\r\n\r\ndenied",
			CLIENT, "connect example.com:443", "CONNECT", "example.com:443", 407);
	w[1] = exchange_b(&c, OUT, CLIENT);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(h1_tunnel, upgrade_declined_stays_http)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2];

	w[0] = exchange(&c, IN, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nno ws\r\n",
			SERVER, "get /chat", "GET", "/chat", 200);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/* curl --http2 on an http:// URL with a body offers h2c on a request that has one. */
Test(h1_tunnel, upgrade_with_body_declined_stays_http)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2];

	w[0] = exchange(&c, IN,
			"POST /form HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
			"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			SERVER, "post /form", "POST", "/form", 200);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 11. not HTTP/1 ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint8_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint8_t)(rng_state >> 24);
}

static void send_random(struct eb_conn *c, enum ss_dir dir, size_t len)
{
	uint8_t buf[512];

	cr_assert_leq(len, sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = rnd();
	buf[0] |= 0x80; /* never a method's first letter */
	eb_data(c, dir, buf, len);
}

Test(h1_unknown, random_binary_declared_unknown_after_the_tries)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);

	for (int i = 0; i < TRACKER_DETECT_TRIES - 1; i++)
		send_random(&c, i % 2 ? IN : OUT, 1 + (size_t)i * 37);
	cr_expect_eq(stats.proto_unknown, 0);
	send_random(&c, OUT, 300);
	cr_expect_eq(stats.proto_unknown, 1);
	/* decided: HTTP now is not looked at */
	exchange_b(&c, IN, SERVER);
	for (int i = 0; i < 50; i++)
		send_random(&c, i % 2 ? IN : OUT, 512);
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.proto_unknown, 1);
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(conn_tracker_count(t), 1);
	eb_close(&c);
	cr_expect_eq(conn_tracker_count(t), 0);
	conn_tracker_free(t);
}

Test(h1_unknown, tls_handshake)
{
	static const uint8_t client_hello[] = {
		0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04,
		0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
		0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x00, 0x00, 0x20, 0xcc, 0xa8,
		0xcc, 0xa9, 0xc0, 0x2f, 0xc0, 0x30, 0xc0, 0x2b, 0xc0, 0x2c, 0x00, 0x00, 0x00, 0x18, 0x00, 0x16,
		0x00, 0x00, 0x13, 'e',  'x',  'a',  'm',  'p',  'l',  'e',  '.',  'u',  'l',  'f',  'h',  'e',
		'i',  'm',  '.',  'n',  'e',  't',
	};
	static const uint8_t server_hello[] = { 0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d, 0x03, 0x03 };
	static const uint8_t app_data[] = { 0x17, 0x03, 0x03, 0x00, 0x08, 'G', 'E', 'T', ' ', '/', 'x', 'y', 'z' };
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);

	eb_data(&c, OUT, client_hello, sizeof(client_hello));
	eb_data(&c, IN, server_hello, sizeof(server_hello));
	for (int i = 0; i < 10; i++) {
		eb_data(&c, OUT, app_data, sizeof(app_data));
		eb_data(&c, IN, app_data, sizeof(app_data));
	}
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.proto_unknown, 1);
	cr_expect_eq(stats.http1_parse_errors, 0);
	conn_tracker_free(t);
}

Test(h1_unknown, http2_preface_is_not_http1)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);

	eb_data(&c, IN, preface, sizeof(preface) - 1);
	for (int i = 0; i < TRACKER_DETECT_TRIES; i++)
		eb_data(&c, i % 2 ? IN : OUT, "\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9);
	cr_expect_eq(eb_nspans, 0);
	/* HTTP/2 takes it (user/h2_session.c), HTTP/1 never sees it. */
	cr_expect_eq(stats.proto_unknown, 0);
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(stats.h2_frame_errors, 0);
	conn_tracker_free(t);
}

/* Short events that cannot be told apart yet are kept, not counted as tries. */
Test(h1_unknown, undecided_prefixes_then_http)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_want w = { CLIENT, "options *", "OPTIONS", "*", 200, 0, 0 };

	w.start_ns = eb_str(&c, OUT, "OPT");
	for (int i = 0; i < 2 * TRACKER_DETECT_TRIES; i++)
		eb_str(&c, OUT, "");
	eb_str(&c, OUT, "IONS");
	eb_str(&c, OUT, " * HTTP/1.1\r\nHost: x\r\n\r\n");
	w.end_ns = eb_str(&c, IN, "HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n");
	eb_check_spans(&w, 1);
	cr_expect_eq(stats.proto_unknown, 0);
	eb_check_clean();
	conn_tracker_free(t);
}

/* ---- 13. hostile peers ---- */

/* "GET / HTTP/1.1\r\nX-Long: aaaa..." for 200 KiB, in 50 KiB reads, never ended. */
static void send_endless_head(struct eb_conn *c, enum ss_dir dir, const char *start)
{
	const size_t total = 200 * 1024, ev = 50 * 1024;
	char *buf = malloc(total);

	cr_assert_not_null(buf);
	memset(buf, 'a', total);
	memcpy(buf, start, strlen(start));
	for (size_t off = 0; off < total; off += ev)
		eb_data(c, dir, buf + off, ev);
	free(buf);
}

Test(h1_hostile, endless_request_header_line)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);

	send_endless_head(&c, IN, "GET / HTTP/1.1\r\nX-Long: ");
	eb_str(&c, OUT, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n");
	eb_close(&c);
	cr_expect_eq(eb_nspans, 0);
	/* refused at H1_MAX_HEAD_LEN: never buffered up to STREAM_MAX_BUFFERED */
	cr_expect_eq(stats.http1_parse_errors, 1);
	cr_expect_eq(stats.stream_overflows, 0);
	cr_expect_eq(conn_tracker_count(t), 0);
	conn_tracker_free(t);
}

/* A head trickled one byte per write is parsed again only when a line ends
 * (not once per byte): a bad line is refused as soon as it ends, a good head
 * still gives its span, and the connection goes on in step. */
Test(h1_hostile, a_head_trickled_byte_by_byte_is_parsed_per_line)
{
	static const char good[] = "GET /t HTTP/1.1\r\nHost: x\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	static const char bad[] = "GET / HTTP/1.1\r\nno colon here\r\n";
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_want w[2] = { { SERVER, "get /t", "GET", "/t", 200, 0, 0 } };

	w[0].start_ns = eb_data(&c, IN, good, 1);
	for (size_t i = 1; i < strlen(good); i++)
		eb_data(&c, IN, good + i, 1);
	w[0].end_ns = eb_str(&c, OUT, ok_200);
	w[1] = exchange_b(&c, IN, SERVER);
	eb_check_spans(w, 2);
	eb_check_clean();
	for (size_t i = 0; i < strlen(bad); i++) {
		cr_expect_eq(stats.http1_parse_errors, 0, "refused before the bad line ended (byte %zu)", i);
		eb_data(&c, IN, bad + i, 1);
	}
	cr_expect_eq(stats.http1_parse_errors, 1);
	conn_tracker_free(t);
}

Test(h1_hostile, endless_response_header_line)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);

	eb_str(&c, OUT, get_a);
	send_endless_head(&c, IN, "HTTP/1.1 200 OK\r\nX-Long: ");
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.http1_parse_errors, 1);
	cr_expect_eq(stats.stream_overflows, 0);
	conn_tracker_free(t);
}

/* An endless request line of method characters: never a complete head either. */
Test(h1_hostile, endless_request_line_unknown_role)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);

	send_endless_head(&c, OUT, "GET /");
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.http1_parse_errors, 1);
	cr_expect_eq(stats.stream_overflows, 0);
	conn_tracker_free(t);
}

Test(h1_hostile, pipelined_requests_beyond_the_bound)
{
	static char reqs[65 * 64], resps[65 * 64], paths[65][16];
	struct eb_want w[64];
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	uint64_t t0, t1;

	reqs[0] = resps[0] = '\0';
	for (int i = 0; i < 65; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/p/%d", i);
		snprintf(reqs + strlen(reqs), sizeof(reqs) - strlen(reqs), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
		snprintf(resps + strlen(resps), sizeof(resps) - strlen(resps), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	}
	t0 = eb_str(&c, IN, reqs);
	cr_expect_eq(stats.http1_pending_overflow, 1);
	t1 = eb_str(&c, OUT, resps);
	/* The 65th is dropped and the 64th gives its place to a loss marker
	 * (a request never answered), their two answers are unmatched, the
	 * others paired right. */
	for (int i = 0; i < 63; i++)
		w[i] = (struct eb_want){ SERVER, "get /p/{id}", "GET", paths[i], 200, t0, t1 };
	eb_check_spans(w, 63);
	cr_expect_eq(stats.http1_unmatched, 3, "%lu unmatched", (unsigned long)stats.http1_unmatched);
	cr_expect_eq(stats.http1_parse_errors, 0);
	conn_tracker_free(t);
}

/* A request beyond the bound is dropped: later ones must not take its
 * answer. 65 requests, 30 answers, one more request, the 36 other answers:
 * each answer has its own status, so a shifted pairing shows. */
Test(h1_hostile, a_request_beyond_the_bound_shifts_no_answer)
{
	static char reqs[65 * 64], resps[36 * 64], paths[66][16];
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	char resp[64], req[64];

	reqs[0] = resps[0] = '\0';
	for (int i = 0; i < 66; i++)
		snprintf(paths[i], sizeof(paths[i]), "/p/%d", i);
	for (int i = 0; i < 65; i++)
		snprintf(reqs + strlen(reqs), sizeof(reqs) - strlen(reqs), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
	eb_str(&c, IN, reqs);
	cr_expect_eq(stats.http1_pending_overflow, 1);
	for (int i = 0; i < 30; i++) {
		snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", 200 + i);
		eb_str(&c, OUT, resp);
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[65]);
	eb_str(&c, IN, req);
	for (int i = 30; i < 66; i++)
		snprintf(resps + strlen(resps), sizeof(resps) - strlen(resps),
			 "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", 200 + i);
	eb_str(&c, OUT, resps);
	cr_expect_geq(eb_nspans, 30);
	for (size_t k = 0; k < eb_nspans; k++)
		cr_expect(atoi(eb_spans[k].status) == 200 + atoi(eb_spans[k].path + 3), "span %zu: %s answered %s", k,
			  eb_spans[k].path, eb_spans[k].status);
	conn_tracker_free(t);
}

Test(h1_hostile, unanswered_requests_counted_at_close)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);

	for (int i = 0; i < 100; i++)
		eb_str(&c, OUT, get_a);
	cr_expect_eq(stats.http1_pending_overflow, 36);
	eb_close(&c);
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.http1_unmatched, 64);
	conn_tracker_free(t);
}

/* What --raw masks by: nothing known before the first bytes, HTTP/1 after
 * them, PROTO_NONE once detection gives up, nothing known after a close. */
Test(h1_unknown, tracker_says_what_a_connection_speaks)
{
	struct conn_tracker *t = eb_tracker(16);
	struct eb_conn c = eb_open(t, 7, 5, 77, SS_ROLE_SERVER), u = eb_open(t, 7, 6, 78, SS_ROLE_SERVER);

	cr_expect_eq(conn_tracker_proto(t, 7, 77), CONN_PROTO_UNDETECTED);
	eb_str(&c, SS_DIR_INGRESS, "GET / HTTP/1.1\r\n");
	cr_expect_eq(conn_tracker_proto(t, 7, 77), PROTO_HTTP1);
	for (int i = 0; i < TRACKER_DETECT_TRIES; i++) {
		cr_expect_eq(conn_tracker_proto(t, 7, 78), CONN_PROTO_UNDETECTED);
		eb_str(&u, SS_DIR_INGRESS, "\x16\x03\x01 not a protocol we parse");
	}
	cr_expect_eq(conn_tracker_proto(t, 7, 78), PROTO_NONE);
	eb_close(&c);
	cr_expect_eq(conn_tracker_proto(t, 7, 77), CONN_PROTO_UNDETECTED);
	conn_tracker_free(t);
}

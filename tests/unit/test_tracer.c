/*
 * Unit tests for trace/tracer.c and trace/ids.c: the ids both ends of a
 * request derive alone, attribution of outgoing requests to the request a
 * process is serving (by headers, by thread, never by guess), joins of the
 * two ends seen by one tracer in either order, sampling and the lifecycle of
 * exchanges. Exchanges are reported through the tracer's exchange_sink, as
 * the protocol sessions do.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/clock.h"
#include "trace/ids.h"
#include "trace/peers.h"
#include "span/span_builder.h"
#include "trace/tracer.h"

#define MAX_SPANS 64
#define T128 "4bf92f3577b34da6a3ce929d0e0e4736"
#define S0 "00f067aa0ba902b7"
#define S1 "53995c3f42cd8ad8"

static struct sockspan_stats stats;
static struct span_opts span_opts;
static struct span_builder builder;
static struct span spans[MAX_SPANS];
static size_t nspans;
static struct tracer *tr;
static const struct exchange_sink *xs;

static void sink(void *ctx, const struct span *s)
{
	(void)ctx;
	cr_assert_lt(nspans, MAX_SPANS);
	spans[nspans++] = *s;
}

static void setup_opts(bool ignore_sampling, size_t max_exchanges, uint64_t join_wait_ns)
{
	struct tracer_opts o = { .ignore_sampling = ignore_sampling, .max_exchanges = max_exchanges,
				 .join_wait_ns = join_wait_ns };

	memset(&stats, 0, sizeof(stats));
	nspans = 0;
	clock_sync();
	span_builder_init(&builder, NULL, NULL, &span_opts, &stats);
	cr_assert_eq(span_builder_add_sink(&builder, sink, NULL), 0);
	tr = tracer_new(&o, &stats, span_builder_traced, &builder);
	cr_assert_not_null(tr);
	xs = tracer_exchange_sink(tr);
}

static void setup_with(bool ignore_sampling, size_t max_exchanges)
{
	setup_opts(ignore_sampling, max_exchanges, 0);
}

static void setup(void)
{
	setup_with(false, 1024);
}

/* SERVER spans without trace context wait up to 100 ms for their CLIENT end. */
#define JOIN_WAIT_NS 100000000ull

static void setup_waiting(void)
{
	setup_opts(false, 1024, JOIN_WAIT_NS);
}

static void teardown(void)
{
	cr_expect_eq(tracer_in_flight(tr), 0, "exchanges left in flight");
	tracer_free(tr);
}

TestSuite(ids, .init = setup, .fini = teardown);
TestSuite(tracer_headers, .init = setup, .fini = teardown);
TestSuite(tracer_threads, .init = setup, .fini = teardown);
TestSuite(tracer_join, .init = setup, .fini = teardown);
TestSuite(tracer_wait, .init = setup_waiting, .fini = teardown);
TestSuite(tracer_sampling, .init = setup, .fini = teardown);
TestSuite(tracer_life, .init = setup, .fini = teardown);

/* A connection of process tgid, local laddr:lport, peer raddr:rport. */
static struct conn conn_of(uint32_t tgid, const char *laddr, uint16_t lport, const char *raddr, uint16_t rport)
{
	struct conn c;

	memset(&c, 0, sizeof(c));
	c.key.tgid = tgid;
	c.family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, laddr, c.laddr), 1);
	cr_assert_eq(inet_pton(AF_INET, raddr, c.raddr), 1);
	c.lport = lport;
	c.rport = rport;
	snprintf(c.comm, sizeof(c.comm), "proc%u", tgid);
	return c;
}

/* Headers as "name: value" strings, NULL-terminated (the strings must outlive the call). */
static struct tc_headers headers_of(const char *const *h)
{
	struct tc_headers th;

	memset(&th, 0, sizeof(th));
	for (; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		const char *v = colon + 2;

		tc_headers_add(&th, tc_header_of(*h, (size_t)(colon - *h)), v, strlen(v));
	}
	return th;
}

static exchange_id start_at(const struct conn *c, enum exchange_role role, uint32_t tid, uint32_t seq,
			    uint64_t start_ns, const char *path, const char *const *hdrs)
{
	struct tc_headers th = headers_of(hdrs);
	struct exchange_start x = {
		.role = role, .proto = PROTO_HTTP1, .tid = tid, .seq = seq, .start_ns = start_ns,
		.headers = &th, .ident = { { "GET", 3 }, { path, strlen(path) } },
	};

	return xs->start(xs->ctx, c, &x);
}

/* Started at 1 ms + seq ns. */
static exchange_id start(const struct conn *c, enum exchange_role role, uint32_t tid, uint32_t seq,
			 const char *path, const char *const *hdrs)
{
	return start_at(c, role, tid, seq, 1000000 + seq, path, hdrs);
}

/* Ends id with a 200; returns the span it made (NULL: none). */
static const struct span *end(exchange_id id, const struct conn *c, const char *path)
{
	struct exchange_end e = { .type = EXCHANGE_HTTP, .end_ns = 9000000, .rst = -1 };
	size_t before = nspans;

	e.u.http = (struct exchange_http){ "GET", 3, path, strlen(path), 200 };
	xs->end(xs->ctx, id, c, &e);
	return nspans > before ? &spans[nspans - 1] : NULL;
}

static uint64_t id_of(const struct span *s)
{
	return ids_get64(s->id);
}

static uint64_t parent_of(const struct span *s)
{
	return s->has_parent ? ids_get64(s->parent_id) : 0;
}

static uint64_t hex64(const char *h)
{
	uint8_t b[8];
	enum tc_invalid why;

	cr_assert_eq(tc_parse_hex_id(h, 16, b, 8, &why), 16);
	return ids_get64(b);
}

static bool same_trace(const struct span *a, const struct span *b)
{
	return a->trace_id_len == b->trace_id_len && memcmp(a->trace_id, b->trace_id, a->trace_id_len) == 0;
}

static bool trace_is(const struct span *s, const char *hex)
{
	uint8_t b[16];
	enum tc_invalid why;
	size_t n = strlen(hex) / 2;

	cr_assert_eq(tc_parse_hex_id(hex, strlen(hex), b, n, &why), (ssize_t)strlen(hex));
	return s->trace_id_len == n && memcmp(s->trace_id, b, n) == 0;
}

/* ---- ids ---- */

Test(ids, siphash_reference_vector)
{
	uint8_t key[16], in[15];

	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		in[i] = (uint8_t)i;
	/* SipHash-2-4 paper, appendix A. */
	cr_expect_eq(ids_siphash(key, in, sizeof(in)), 0xa129ca6149be45e5ull);
}

Test(ids, hop_depends_on_every_input)
{
	struct trace_context ctx = { 0 }, other;
	struct tc_slice ident[2] = { { "GET", 3 }, { "/a", 2 } }, ident2[2] = { { "GET", 3 }, { "/b", 2 } };
	uint64_t h = ids_hop(7, &ctx, ident);

	cr_expect_neq(h, 0);
	cr_expect_eq(h, ids_hop(7, &ctx, ident), "deterministic");
	cr_expect_eq(h, ids_hop(7, NULL, ident), "no context is an empty context");
	cr_expect_neq(h, ids_hop(8, &ctx, ident));
	cr_expect_neq(h, ids_hop(7, &ctx, ident2));
	other = ctx;
	other.trace_id_len = 16;
	other.trace_id[0] = 1;
	other.span_id[7] = 1;
	cr_expect_neq(h, ids_hop(7, &other, ident));
	other.span_id[7] = 2;
	cr_expect_neq(ids_hop(7, &other, ident), ids_hop(7, &ctx, ident));
	other = ctx;
	other.request_id = (struct tc_slice){ "abc", 3 };
	cr_expect_neq(h, ids_hop(7, &other, ident));
	/* Fields cannot run together: ("GE", "T/a") is not ("GET", "/a"). */
	cr_expect_neq(h, ids_hop(7, &ctx, (struct tc_slice[2]){ { "GE", 2 }, { "T/a", 3 } }));
}

Test(ids, request_id_trace_is_stable_and_128_bit)
{
	uint8_t a[16], b[16], c[16];

	ids_trace_from_request_id("8d3c1a2e-0000-4000-8000-000000000001", 36, a);
	ids_trace_from_request_id("8d3c1a2e-0000-4000-8000-000000000001", 36, b);
	ids_trace_from_request_id("8d3c1a2e-0000-4000-8000-000000000002", 36, c);
	cr_expect_arr_eq(a, b, 16);
	cr_expect_neq(memcmp(a, c, 16), 0);
	cr_expect_neq(memcmp(a, a + 8, 8), 0, "both halves are hashed apart");
}

/* ---- trace context on the wire ---- */

/* Runs fn against a second tracer that never talks to this one (another node). */
static struct span on_other_node(const struct conn *c, enum exchange_role role, uint32_t seq, const char *path,
				 const char *const *h)
{
	struct tracer *mine = tr;
	struct sockspan_stats saved = stats;
	struct span s;

	setup();
	s = *end(start(c, role, 21, seq, path, h), c, path);
	teardown();
	tr = mine;
	stats = saved;
	xs = tracer_exchange_sink(tr);
	return s;
}

/* A library made a child context for the call: the CLIENT span takes its id,
 * and the SERVER end, which cannot tell, hangs under it. */
Test(tracer_headers, a_minted_span_id_is_the_client_span_and_the_server_parent)
{
	const char *h[] = { "X-B3-TraceId: " T128, "X-B3-SpanId: " S0, "X-B3-Sampled: 1", NULL };
	struct conn cc = conn_of(1, "10.0.0.1", 40000, "10.0.0.2", 80);
	struct conn sc = conn_of(2, "10.0.0.2", 80, "10.0.0.1", 40000);
	struct span client = *end(start(&cc, EXCHANGE_CLIENT, 11, 1000, "/a", h), &cc, "/a");
	struct span server = on_other_node(&sc, EXCHANGE_SERVER, 1000, "/a", h);

	cr_expect(trace_is(&client, T128) && trace_is(&server, T128), "the trace id on the wire");
	cr_expect_eq(id_of(&client), hex64(S0));
	cr_expect(!client.has_parent);
	cr_expect_neq(id_of(&server), hex64(S0), "B may receive the same headers again: never the wire's id");
	cr_expect_eq(parent_of(&server), id_of(&client));
	cr_expect(!server.shared);
}

/* The caller copied the headers it received (Istio's convention): both ends
 * share the hop id, which only the CLIENT end could tell was needed. */
Test(tracer_headers, a_copied_span_id_gives_both_ends_the_hop_id)
{
	const char *h[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S0, "x-b3-sampled: 1", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	exchange_id a_srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", h);
	struct span cli = *end(start(&out, EXCHANGE_CLIENT, 11, 900, "/b", h), &out, "/b");
	struct span srv = *end(a_srv, &in, "/a");
	struct span b = on_other_node(&b_in, EXCHANGE_SERVER, 900, "/b", h);

	cr_expect_eq(id_of(&b), id_of(&cli), "one span id for the RPC, derived at each end");
	cr_expect_neq(id_of(&cli), hex64(S0));
	cr_expect_neq(id_of(&srv), id_of(&cli));
	cr_expect_eq(parent_of(&b), hex64(S0), "the span above the caller");
	cr_expect_eq(parent_of(&srv), hex64(S0));
	cr_expect(!b.shared && !srv.shared, "Zipkin pairs a SERVER with the CLIENT of its id");
	cr_expect(trace_is(&b, T128) && same_trace(&b, &cli));
}

Test(tracer_headers, a_64_bit_trace_id_keeps_its_width)
{
	const char *h[] = { "b3: a3ce929d0e0e4736-" S0 "-1", NULL };
	struct conn sc = conn_of(2, "10.0.0.2", 80, "10.0.0.1", 40000);
	const struct span *s = end(start(&sc, EXCHANGE_SERVER, 21, 5, "/a", h), &sc, "/a");

	cr_assert_not_null(s);
	cr_expect(trace_is(s, "a3ce929d0e0e4736"));
}

/* A -> B with headers copied verbatim (Istio): every hop carries the same span id. */
Test(tracer_headers, copied_headers_still_make_distinct_spans_and_a_tree)
{
	const char *h[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S0, "x-b3-sampled: 1", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id a_srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", h);
	/* another thread: only the copied headers tell who caused it */
	exchange_id a_cli = start(&out, EXCHANGE_CLIENT, 12, 900, "/b", h);
	struct span cli = *end(a_cli, &out, "/b"), srv = *end(a_srv, &in, "/a");

	cr_expect_neq(id_of(&cli), id_of(&srv));
	cr_expect_eq(parent_of(&cli), id_of(&srv));
	cr_expect(same_trace(&cli, &srv) && trace_is(&cli, T128));
	cr_expect_eq(stats.spans_unattributed, 0);
	/* The child reports its parent's local endpoint: Zipkin puts it under the shared SERVER span. */
	cr_expect_eq(cli.local.port, 80);
	cr_expect_arr_eq(cli.local.addr, in.laddr, 4);
}

/* A library (py_zipkin, Brave) mints a child: its parent is the incoming span. */
Test(tracer_headers, minted_child_is_attributed_by_its_parent_id)
{
	const char *hin[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S0, NULL };
	const char *hout[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S1, "x-b3-parentspanid: " S0, NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id a_srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", hin);
	exchange_id a_cli = start(&out, EXCHANGE_CLIENT, 99, 900, "/b", hout);
	struct span cli = *end(a_cli, &out, "/b"), srv = *end(a_srv, &in, "/a");

	cr_expect_eq(parent_of(&cli), id_of(&srv));
	cr_expect(same_trace(&cli, &srv));
}

/* A library with its own client span between: the parent on the wire is an
 * id only the library knows; the trace still names the request served. */
Test(tracer_headers, the_trace_id_names_the_request_served)
{
	const char *hin[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S0, NULL };
	const char *hout[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S1, "x-b3-parentspanid: 1111111111111111",
			       NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn in2 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50001);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id a_srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", hin);
	/* another thread (a pool's) */
	struct span cli = *end(start(&out, EXCHANGE_CLIENT, 99, 900, "/b", hout), &out, "/b");
	exchange_id a2 = start(&in2, EXCHANGE_SERVER, 12, 200, "/a", hin);
	/* two requests of the trace in flight, neither on the writing thread: not attributed */
	struct span amb = *end(start(&out, EXCHANGE_CLIENT, 99, 950, "/b", hout), &out, "/b");
	struct span srv = *end(a_srv, &in, "/a");

	cr_expect_eq(parent_of(&cli), id_of(&srv));
	cr_expect_eq(id_of(&cli), hex64(S1));
	cr_expect_eq(parent_of(&amb), 0x1111111111111111ull, "the wire's parent");
	cr_expect_eq(stats.spans_unattributed, 1);
	end(a2, &in2, "/a");
}

Test(tracer_headers, request_id_alone_makes_one_trace_everywhere)
{
	const char *h[] = { "x-request-id: 5f1e0c8a-2b7d-4c55-9f00-0123456789ab", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	exchange_id a_srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", h);
	exchange_id a_cli = start(&out, EXCHANGE_CLIENT, 12, 900, "/b", h);
	exchange_id b_srv = start(&b_in, EXCHANGE_SERVER, 31, 900, "/b", h);
	struct span bs = *end(b_srv, &b_in, "/b"), cli = *end(a_cli, &out, "/b"), srv = *end(a_srv, &in, "/a");
	uint8_t want[16];

	ids_trace_from_request_id("5f1e0c8a-2b7d-4c55-9f00-0123456789ab", 36, want);
	cr_expect(srv.trace_id_len == 16 && memcmp(srv.trace_id, want, 16) == 0);
	cr_expect(same_trace(&srv, &cli) && same_trace(&cli, &bs));
	cr_expect_eq(parent_of(&cli), id_of(&srv), "the same x-request-id names the parent");
	cr_expect_eq(id_of(&bs), id_of(&cli));
	cr_expect(!bs.shared);
}

Test(tracer_headers, traceparent_and_its_tracestate)
{
	const char *h[] = { "traceparent: 00-" T128 "-" S0 "-01", "tracestate: congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
			    NULL };
	struct conn sc = conn_of(2, "10.0.0.2", 80, "10.0.0.1", 40000);
	const struct span *s = end(start(&sc, EXCHANGE_SERVER, 21, 5, "/a", h), &sc, "/a");

	cr_assert_not_null(s);
	cr_expect(trace_is(s, T128));
	cr_expect_eq(parent_of(s), hex64(S0));
	cr_expect_str_eq(span_tag(s, "w3c.tracestate"), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
}

Test(tracer_headers, invalid_values_are_ignored_and_counted)
{
	const char *h[] = { "x-b3-traceid: " T128, "x-b3-spanid: 00F067AA0BA902B7", "traceparent: 01-" T128 "-" S0 "-01", NULL };
	struct conn sc = conn_of(2, "10.0.0.2", 80, "10.0.0.1", 40000);
	const struct span *s = end(start(&sc, EXCHANGE_SERVER, 21, 5, "/a", h), &sc, "/a");

	cr_assert_not_null(s);
	cr_expect(!trace_is(s, T128), "no valid ids: a trace of its own");
	cr_expect(!s->shared && !s->has_parent);
	cr_expect_eq(stats.trace_context_invalid[TC_INVALID_HEX], 1);
	cr_expect_eq(stats.trace_context_invalid[TC_INVALID_FORMAT], 1);
}

/* ---- no headers: threads ---- */

Test(tracer_threads, the_thread_serving_a_request_makes_its_children)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "127.0.0.1", 41000, "127.0.0.1", 6379);
	exchange_id srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", NULL);
	exchange_id c1 = start(&out, EXCHANGE_CLIENT, 11, 900, "/x", NULL);
	struct span k1 = *end(c1, &out, "/x");
	exchange_id c2 = start(&out, EXCHANGE_CLIENT, 11, 950, "/y", NULL);
	struct span k2 = *end(c2, &out, "/y"), s = *end(srv, &in, "/a");
	/* after the response: nothing in flight on the thread any more */
	struct span late = *end(start(&out, EXCHANGE_CLIENT, 11, 990, "/z", NULL), &out, "/z");

	cr_expect_eq(parent_of(&k1), id_of(&s));
	cr_expect_eq(parent_of(&k2), id_of(&s));
	cr_expect(same_trace(&k1, &s) && same_trace(&k2, &s));
	cr_expect(!late.has_parent && !same_trace(&late, &s));
	cr_expect_eq(k1.local.port, 80, "the parent's local endpoint");
	cr_expect_eq(late.local.port, 41000, "its own");
	cr_expect_eq(stats.spans_unattributed, 0);
}

Test(tracer_threads, another_thread_is_not_attributed_but_counted)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", NULL);
	struct span k = *end(start(&out, EXCHANGE_CLIENT, 12, 900, "/x", NULL), &out, "/x");
	struct span s = *end(srv, &in, "/a");

	cr_expect(!k.has_parent && !same_trace(&k, &s));
	cr_expect_eq(stats.spans_unattributed, 1, "a request was in flight in the process");
}

Test(tracer_threads, two_requests_in_flight_on_the_thread_attribute_neither)
{
	struct conn in1 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn in2 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50001);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id s1 = start(&in1, EXCHANGE_SERVER, 11, 100, "/a", NULL);
	exchange_id s2 = start(&in2, EXCHANGE_SERVER, 11, 200, "/a", NULL);
	struct span k = *end(start(&out, EXCHANGE_CLIENT, 11, 900, "/x", NULL), &out, "/x");
	struct span a = *end(s1, &in1, "/a"), b = *end(s2, &in2, "/a");

	cr_expect(!k.has_parent);
	cr_expect(!same_trace(&k, &a) && !same_trace(&k, &b));
	cr_expect_eq(stats.spans_unattributed, 1);
}

Test(tracer_threads, headers_tell_apart_requests_on_one_thread)
{
	const char *h1[] = { "b3: " T128 "-" S0 "-1", NULL };
	const char *h2[] = { "b3: " T128 "-" S1 "-1", NULL };
	struct conn in1 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn in2 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50001);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id s1 = start(&in1, EXCHANGE_SERVER, 11, 100, "/a", h1);
	exchange_id s2 = start(&in2, EXCHANGE_SERVER, 11, 200, "/a", h2);
	struct span k = *end(start(&out, EXCHANGE_CLIENT, 11, 900, "/x", h2), &out, "/x");
	struct span a = *end(s1, &in1, "/a"), b = *end(s2, &in2, "/a");

	cr_expect_eq(parent_of(&k), id_of(&b));
	cr_expect_neq(parent_of(&k), id_of(&a));
	cr_expect_eq(stats.spans_unattributed, 0);
}

/* Copied headers can reach a process twice (its caller made two calls): the thread decides. */
Test(tracer_threads, the_thread_tells_apart_requests_with_the_same_headers)
{
	const char *h[] = { "b3: " T128 "-" S0 "-1", NULL };
	struct conn in1 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn in2 = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50001);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id s1 = start(&in1, EXCHANGE_SERVER, 11, 100, "/a", h);
	exchange_id s2 = start(&in2, EXCHANGE_SERVER, 12, 200, "/a", h);
	struct span k = *end(start(&out, EXCHANGE_CLIENT, 12, 900, "/x", h), &out, "/x");
	struct span u = *end(start(&out, EXCHANGE_CLIENT, 13, 950, "/x", h), &out, "/x");
	struct span a = *end(s1, &in1, "/a"), b = *end(s2, &in2, "/a");

	cr_expect_eq(parent_of(&k), id_of(&b));
	cr_expect_neq(id_of(&a), id_of(&b));
	cr_expect_eq(parent_of(&u), hex64(S0), "neither: the wire's parent");
	cr_expect(same_trace(&u, &a));
	cr_expect_eq(stats.spans_unattributed, 1);
}

/* ---- one tracer sees both ends ---- */

Test(tracer_join, server_after_client_joins_its_trace)
{
	struct conn a_in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn a_out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	exchange_id as = start(&a_in, EXCHANGE_SERVER, 11, 100, "/a", NULL);
	exchange_id ac = start(&a_out, EXCHANGE_CLIENT, 11, 900, "/b", NULL);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);
	struct span b = *end(bs, &b_in, "/b"), c = *end(ac, &a_out, "/b"), a = *end(as, &a_in, "/a");

	cr_expect(same_trace(&a, &b) && same_trace(&a, &c));
	cr_expect_eq(id_of(&b), id_of(&c));
	cr_expect(b.shared);
	cr_expect_eq(parent_of(&b), id_of(&a), "the client's parent");
	cr_expect_eq(stats.trace_joins, 1);
}

/* The server's read can reach the ring buffer before the client's write. */
Test(tracer_join, server_before_client_joins_with_its_children)
{
	struct conn a_in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn a_out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	struct conn b_out = conn_of(2, "10.0.0.3", 42000, "10.0.0.4", 6379);
	exchange_id as = start(&a_in, EXCHANGE_SERVER, 11, 100, "/a", NULL);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);
	exchange_id bk = start(&b_out, EXCHANGE_CLIENT, 21, 5000, "/get", NULL);
	exchange_id ac = start(&a_out, EXCHANGE_CLIENT, 11, 900, "/b", NULL);
	struct span k = *end(bk, &b_out, "/get"), b = *end(bs, &b_in, "/b");
	struct span c = *end(ac, &a_out, "/b"), a = *end(as, &a_in, "/a");

	cr_expect(same_trace(&a, &b) && same_trace(&a, &c) && same_trace(&a, &k));
	cr_expect(b.shared);
	cr_expect_eq(parent_of(&b), id_of(&a));
	cr_expect_eq(parent_of(&k), id_of(&b));
	cr_expect_eq(stats.trace_joins, 1);
}

Test(tracer_join, no_join_once_the_server_trace_was_emitted_or_ports_differ)
{
	struct conn a_out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	struct conn b_out = conn_of(2, "10.0.0.3", 42000, "10.0.0.4", 6379);
	struct conn other = conn_of(3, "10.0.0.3", 80, "10.0.0.2", 41001);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);
	struct span k = *end(start(&b_out, EXCHANGE_CLIENT, 21, 5000, "/get", NULL), &b_out, "/get");
	exchange_id os = start(&other, EXCHANGE_SERVER, 31, 900, "/b", NULL);
	struct span c = *end(start(&a_out, EXCHANGE_CLIENT, 11, 900, "/b", NULL), &a_out, "/b");
	struct span b = *end(bs, &b_in, "/b"), o = *end(os, &other, "/b");

	cr_expect(same_trace(&k, &b), "the server keeps the trace its child went out in");
	cr_expect(!same_trace(&b, &c) && !b.shared);
	cr_expect(!same_trace(&o, &c) && !o.shared, "not the client's peer port");
	cr_expect_eq(stats.trace_joins, 0);
}

/* ---- sampling ---- */

Test(tracer_sampling, not_sampled_requests_and_their_children_make_no_spans)
{
	const char *h[] = { "b3: 0", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	exchange_id srv = start(&in, EXCHANGE_SERVER, 11, 100, "/a", h);

	cr_expect_null(end(start(&out, EXCHANGE_CLIENT, 11, 900, "/x", NULL), &out, "/x"));
	cr_expect_null(end(srv, &in, "/a"));
	cr_expect_eq(stats.spans_not_sampled, 2);
	cr_expect_eq(nspans, 0);
}

Test(tracer_sampling, ignore_sampling_and_debug)
{
	const char *no[] = { "x-b3-traceid: " T128, "x-b3-spanid: " S0, "x-b3-sampled: 0", NULL };
	const char *dbg[] = { "b3: " T128 "-" S0 "-d", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	const struct span *s;
	exchange_id srv;

	teardown();
	setup_with(true, 1024);
	s = end(start(&in, EXCHANGE_SERVER, 11, 100, "/a", no), &in, "/a");
	cr_assert_not_null(s);
	cr_expect(trace_is(s, T128) && !s->debug);
	srv = start(&in, EXCHANGE_SERVER, 11, 200, "/a", dbg);
	s = end(start(&out, EXCHANGE_CLIENT, 11, 900, "/x", NULL), &out, "/x");
	cr_expect(s && s->debug, "the child inherits debug");
	s = end(srv, &in, "/a");
	cr_expect(s && s->debug);
}

/* ---- lifecycle ---- */

Test(tracer_life, dropped_and_stale_ids_make_nothing)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	exchange_id a = start(&in, EXCHANGE_SERVER, 11, 100, "/a", NULL);

	cr_assert_neq(a, 0);
	xs->drop(xs->ctx, a);
	cr_expect_null(end(a, &in, "/a"), "a dropped id is stale");
	xs->drop(xs->ctx, a);
	cr_expect_null(end(0, &in, "/a"));
	cr_expect_null(end(a ^ (1ull << 33), &in, "/a"), "another generation");
	cr_expect_eq(tracer_in_flight(tr), 0);
}

Test(tracer_life, a_full_table_is_counted)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	exchange_id ids[3];

	teardown();
	setup_with(false, 2);
	for (int i = 0; i < 3; i++)
		ids[i] = start(&in, EXCHANGE_SERVER, 11, 100u * (unsigned)i, "/a", NULL);
	cr_expect(ids[0] && ids[1] && !ids[2]);
	cr_expect_eq(stats.exchanges_untracked, 1);
	xs->drop(xs->ctx, ids[0]);
	xs->drop(xs->ctx, ids[1]);
}

/* ---- spans waiting for a join ---- */

/* The client's write event can come after the server has answered (its
 * writer was preempted): the server's spans waited, and join. */
Test(tracer_wait, a_server_that_ended_first_still_joins)
{
	struct conn a_out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	struct conn b_out = conn_of(2, "10.0.0.3", 42000, "10.0.0.4", 6379);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);
	exchange_id ac;
	struct span b, k, c;

	cr_expect_null(end(start(&b_out, EXCHANGE_CLIENT, 21, 5000, "/get", NULL), &b_out, "/get"));
	cr_expect_null(end(bs, &b_in, "/b"));
	cr_expect_eq(tracer_in_flight(tr), 2, "both wait");
	tracer_tick(tr, 1000000 + JOIN_WAIT_NS - 1); /* not yet */
	cr_expect_eq(nspans, 0);
	ac = start(&a_out, EXCHANGE_CLIENT, 11, 900, "/b", NULL);
	cr_assert_eq(nspans, 2, "released by the join");
	k = spans[0];
	b = spans[1];
	c = *end(ac, &a_out, "/b");
	cr_expect(same_trace(&b, &c) && same_trace(&k, &c));
	cr_expect(b.shared);
	cr_expect_eq(id_of(&b), id_of(&c));
	cr_expect_eq(parent_of(&k), id_of(&b));
	cr_expect_eq(stats.trace_joins, 1);
}

Test(tracer_wait, without_a_client_the_spans_go_out_after_the_wait)
{
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	struct conn b_out = conn_of(2, "10.0.0.3", 42000, "10.0.0.4", 6379);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);

	end(start(&b_out, EXCHANGE_CLIENT, 21, 5000, "/get", NULL), &b_out, "/get");
	end(bs, &b_in, "/b");
	tracer_tick(tr, 1000900 + JOIN_WAIT_NS - 1);
	cr_expect_eq(nspans, 0);
	tracer_tick(tr, 1000900 + JOIN_WAIT_NS);
	cr_assert_eq(nspans, 2);
	cr_expect(same_trace(&spans[0], &spans[1]) && !spans[1].shared && !spans[1].has_parent);
	cr_expect_eq(parent_of(&spans[0]), id_of(&spans[1]));
	cr_expect_eq(stats.trace_joins, 0);
	/* Its trace no longer waits: its next spans go out at once. */
	cr_expect_eq(tracer_in_flight(tr), 0);
}

Test(tracer_wait, not_sampled_requests_do_not_wait_to_be_dropped)
{
	const char *h[] = { "b3: 0", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);

	end(start(&in, EXCHANGE_SERVER, 11, 100, "/a", h), &in, "/a");
	cr_expect_eq(stats.spans_not_sampled, 1);
	cr_expect_eq(tracer_in_flight(tr), 0);
}

Test(tracer_wait, spans_with_context_never_wait_and_flush_sends_the_rest)
{
	const char *h[] = { "b3: " T128 "-" S0 "-1", NULL };
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);

	cr_expect_not_null(end(start(&in, EXCHANGE_SERVER, 11, 100, "/a", h), &in, "/a"));
	end(start(&in, EXCHANGE_SERVER, 11, 200, "/a", NULL), &in, "/a");
	cr_expect_eq(nspans, 1);
	tracer_flush(tr);
	cr_expect_eq(nspans, 2);
}

/* A server span ended and held (nspans unchanged), or sent at once. */
static bool held_after(exchange_id id, const struct conn *c)
{
	size_t before = nspans;

	end(id, c, "/a");
	return nspans == before;
}

/* Clients from an address whose waits ended unjoined (an untraced client, or
 * another node's) no longer make spans wait, but for a probe every
 * PEERS_PROBE_NS; the same address seen by another process still waits. */
Test(tracer_wait, an_address_that_never_joined_stops_waiting_but_for_probes)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	struct conn other = conn_of(2, "10.0.0.5", 80, "10.0.0.9", 50001);
	uint64_t expiry = 1000100 + JOIN_WAIT_NS, probe = expiry + PEERS_PROBE_NS;

	cr_expect(held_after(start(&in, EXCHANGE_SERVER, 11, 100, "/a", NULL), &in), "an unknown address waits");
	tracer_tick(tr, expiry);
	cr_assert_eq(nspans, 1);
	cr_expect_not(held_after(start_at(&in, EXCHANGE_SERVER, 11, 200, expiry + 100, "/a", NULL), &in));
	cr_expect_not(held_after(start_at(&in, EXCHANGE_SERVER, 11, 300, expiry + 200, "/a", NULL), &in));
	cr_expect_eq(stats.join_waits_skipped, 2);
	cr_expect(held_after(start_at(&other, EXCHANGE_SERVER, 21, 400, expiry + 300, "/a", NULL), &other));
	/* The probe waits, and so does what follows it within its wait; not what comes after. */
	cr_expect(held_after(start_at(&in, EXCHANGE_SERVER, 11, 1, probe, "/a", NULL), &in));
	cr_expect(held_after(start_at(&in, EXCHANGE_SERVER, 11, 2, probe + 100, "/a", NULL), &in));
	tracer_tick(tr, probe + JOIN_WAIT_NS);
	cr_expect_eq(nspans, 6, "other's, then the probe and the one that followed it");
	cr_expect_not(held_after(start_at(&in, EXCHANGE_SERVER, 11, 3, probe + JOIN_WAIT_NS + 100, "/a", NULL), &in));
	cr_expect_eq(stats.join_waits_skipped, 3);
	tracer_flush(tr);
}

/* A client's requests that start once its address stopped waiting, while its
 * earlier ones still wait, go out with them: its spans stay in order. */
Test(tracer_wait, spans_of_one_address_stay_in_order_when_it_stops_waiting)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	static const char *const paths[] = { "/a", "/b", "/c", "/d", "/e" };
	const uint32_t seqs[] = { 100, 50000000, 150000000, 160000000, 400000000 };

	for (unsigned i = 0; i < 3; i++)
		end(start(&in, EXCHANGE_SERVER, 11, seqs[i], paths[i], NULL), &in, paths[i]);
	tracer_tick(tr, 1000100 + JOIN_WAIT_NS); /* /a's wait ends: the address stops waiting */
	cr_assert_eq(nspans, 1);
	end(start(&in, EXCHANGE_SERVER, 11, seqs[3], paths[3], NULL), &in, paths[3]);
	cr_expect_eq(nspans, 1, "/d waits for /b and /c");
	tracer_tick(tr, 1000000 + seqs[2] + JOIN_WAIT_NS);
	cr_assert_eq(nspans, 4);
	end(start(&in, EXCHANGE_SERVER, 11, seqs[4], paths[4], NULL), &in, paths[4]);
	cr_assert_eq(nspans, 5, "/e goes out at once");
	for (unsigned i = 0; i < 5; i++) {
		char want[16];

		snprintf(want, sizeof(want), "get %s", paths[i]);
		cr_expect_str_eq(spans[i].name, want);
	}
	cr_expect_eq(stats.join_waits_skipped, 1);
}

/* Where a CLIENT end was joined lately, a wait that ends unjoined (one late
 * event, or an untraced client on the same address) does not stop the next. */
Test(tracer_wait, an_address_that_joined_keeps_waiting)
{
	struct conn a_out = conn_of(1, "10.0.0.2", 41000, "10.0.0.3", 80);
	struct conn b_in = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41000);
	struct conn b_in2 = conn_of(2, "10.0.0.3", 80, "10.0.0.2", 41001);
	exchange_id bs = start(&b_in, EXCHANGE_SERVER, 21, 900, "/b", NULL);
	exchange_id ac = start(&a_out, EXCHANGE_CLIENT, 11, 900, "/b", NULL);

	end(bs, &b_in, "/b");
	end(ac, &a_out, "/b");
	cr_assert_eq(stats.trace_joins, 1);
	cr_expect(held_after(start(&b_in2, EXCHANGE_SERVER, 21, 1000, "/a", NULL), &b_in2));
	tracer_tick(tr, 1001000 + JOIN_WAIT_NS);
	cr_expect(held_after(start(&b_in2, EXCHANGE_SERVER, 21, 2000, "/a", NULL), &b_in2));
	cr_expect_eq(stats.join_waits_skipped, 0);
	tracer_flush(tr);
}

/* A table full of spans waiting for a join makes room for the next request:
 * the longest waiting go out unjoined, and nothing goes untracked
 * (redis-benchmark -P 16 on one traced server lost half its spans so). */
Test(tracer_wait, a_full_table_stops_the_longest_waits_first)
{
	struct conn in = conn_of(1, "10.0.0.2", 80, "10.0.0.9", 50000);
	exchange_id id;

	teardown();
	setup_opts(false, 3, JOIN_WAIT_NS);
	static const char *const paths[] = { "/a", "/b", "/b" };

	for (unsigned i = 0; i < 3; i++)
		cr_expect_null(end(start(&in, EXCHANGE_SERVER, 11, 100 * i, paths[i], NULL), &in, paths[i]));
	cr_expect_eq(nspans, 0, "all three wait");
	id = start(&in, EXCHANGE_SERVER, 11, 300, "/c", NULL);
	cr_assert(id, "the fourth request is tracked");
	cr_assert_eq(nspans, 1, "one wait was cut, no more");
	cr_expect_str_eq(spans[0].name, "get /a", "the oldest");
	cr_expect_eq(stats.join_waits_cut, 1);
	cr_expect_eq(stats.exchanges_untracked, 0);
	end(id, &in, "/c");
	tracer_flush(tr);
	cr_expect_eq(nspans, 4);
}

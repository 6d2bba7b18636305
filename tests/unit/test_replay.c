/* The whole userspace pipeline on event streams recorded from real peers
 * (the .ssev.gz files in tests/data/events, made by tests/bench/record.py):
 * exactly one span per request at each end, every SERVER span joined to its
 * CLIENT span's trace, nothing lost or malformed on the way. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../bench/event_file.h"
#include "capture/clock.h"
#include "pipeline.h"
#include "span/span_format.h"

struct seen {
	uint64_t spans, bad_json;
	char json[SPAN_JSON_MAX];
};

static void check_json(void *ctx, const struct span *s)
{
	struct seen *seen = ctx;

	seen->spans++;
	if (span_zipkin_json(s, seen->json, sizeof(seen->json)) == 0)
		seen->bad_json++;
}

/* Replays file on a fresh pipeline; stats and what the sink saw come back. */
static void replay(const char *file, struct sockspan_stats *st, struct seen *seen)
{
	static struct pipeline p;
	struct pipeline_opts o = {};
	struct event_file e;
	char path[128], err[512];

	snprintf(path, sizeof(path), "tests/data/events/%s", file);
	cr_assert_eq(event_file_load(&e, path, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(e.n, 0);
	clock_sync();
	memset(st, 0, sizeof(*st));
	cr_assert_eq(pipeline_init(&p, &o, st), 0);
	cr_assert_eq(span_builder_add_sink(&p.builder, check_json, seen), 0);
	for (size_t i = 0; i < e.n; i++)
		pipeline_event(&p, e.recs[i], (const uint8_t *)(e.recs[i] + 1));
	pipeline_tick(&p, e.recs[e.n - 1]->ts_ns + 1000000000ull);
	pipeline_flush(&p);
	pipeline_free(&p);
	event_file_free(&e);
}

static void expect(const char *file, enum proto_id proto, uint64_t requests)
{
	static struct sockspan_stats st;
	static struct seen seen;

	memset(&seen, 0, sizeof(seen));
	replay(file, &st, &seen);
	cr_expect_eq(st.proto_spans[proto][SPAN_KIND_SERVER], requests, "%s: %llu SERVER spans", file,
		     (unsigned long long)st.proto_spans[proto][SPAN_KIND_SERVER]);
	cr_expect_eq(st.proto_spans[proto][SPAN_KIND_CLIENT], requests, "%s: %llu CLIENT spans", file,
		     (unsigned long long)st.proto_spans[proto][SPAN_KIND_CLIENT]);
	cr_expect_eq(st.spans, 2 * requests);
	cr_expect_eq(seen.spans, 2 * requests);
	cr_expect_eq(seen.bad_json, 0);
	cr_expect_eq(st.trace_joins, requests, "%s: %llu joins", file, (unsigned long long)st.trace_joins);
	cr_expect_eq(st.spans_unattributed, 0);
	cr_expect_eq(st.stream_gaps + st.stream_resyncs + st.stream_overflows, 0);
	cr_expect_eq(st.http1_parse_errors + st.http1_unmatched, 0);
	cr_expect_eq(st.h2_frame_errors + st.h2_hpack_errors, 0);
	cr_expect_eq(st.redis_parse_errors + st.redis_unmatched, 0);
	cr_expect_eq(st.conns_evicted, 0);
}

/* h2load --h1 -n 2000 -c 4 against nginx. */
Test(replay, http1_h2load_and_nginx)
{
	expect("http1.ssev.gz", PROTO_HTTP1, 2000);
}

/* h2load -n 2000 -c 4 -m 8 against nghttpd (h2c prior knowledge). */
Test(replay, http2_h2load_and_nghttpd)
{
	expect("h2.ssev.gz", PROTO_HTTP2, 2000);
}

/* 1000 unary calls, python3-grpcio at both ends. */
Test(replay, grpc_unary_calls)
{
	expect("grpc.ssev.gz", PROTO_HTTP2, 1000);
}

/* redis-benchmark -n 2000 -c 4 -t set,get: 4000 commands and its 2 CONFIG GETs. */
Test(replay, redis_one_at_a_time)
{
	expect("redis.ssev.gz", PROTO_REDIS, 4002);
}

/* The same pipelined 16 at a time. */
Test(replay, redis_pipelined_by_16)
{
	expect("redis_p16.ssev.gz", PROTO_REDIS, 4002);
}

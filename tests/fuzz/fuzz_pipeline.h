/* The agent's pipeline for session fuzzers: a connection tracker feeding the
 * protocol sessions, reporting to a tracer whose spans go to the fuzzer's
 * sink. Freeing it checks that every exchange started was ended or dropped. */
#ifndef SOCKSPAN_FUZZ_PIPELINE_H
#define SOCKSPAN_FUZZ_PIPELINE_H

#include <stdlib.h>
#include <string.h>

#include "conn/conn_tracker.h"
#include "session/exchange.h"
#include "session/protocols.h"
#include "span/span_builder.h"
#include "stats.h"
#include "trace/tracer.h"

struct fuzz_pipeline {
	struct sockspan_stats stats;
	struct span_opts span_opts;
	struct span_builder builder;
	struct session_env env;
	struct tracer *tracer;
	struct conn_tracker *tracker;
};

/* NULL-free on success (returns 0); -1 without memory. max_conns: the
 * tracker's table (small ones make it evict). */
static inline int fuzz_pipeline_new(struct fuzz_pipeline *p, span_sink_fn sink, bool redis_statement,
				    size_t max_conns)
{
	struct tracer_opts to = { .max_exchanges = 4096, .join_wait_ns = 200000000ull };
	struct conn_tracker_opts ko = {
		.max_conns = max_conns, .protocols = session_protocols, .env = &p->env, .stats = &p->stats,
	};

	memset(p, 0, sizeof(*p));
	p->span_opts.redis_statement = redis_statement;
	span_builder_init(&p->builder, NULL, NULL, &p->span_opts, &p->stats);
	span_builder_add_sink(&p->builder, sink, NULL);
	p->tracer = tracer_new(&to, &p->stats, span_builder_traced, &p->builder);
	if (!p->tracer)
		return -1;
	p->env = (struct session_env){ .sink = tracer_exchange_sink(p->tracer), .stats = &p->stats };
	p->tracker = conn_tracker_new(&ko);
	if (!p->tracker) {
		tracer_free(p->tracer);
		return -1;
	}
	return 0;
}

/* Delivers ev as a data event moving len bytes of data, all captured or the
 * first half (a truncated payload), copied to a buffer of exactly that size
 * so that AddressSanitizer sees any over-read; then its close if asked. */
static inline void fuzz_pipeline_data(struct conn_tracker *t, struct ss_event *ev, const uint8_t *data, size_t len,
				      bool half, bool close)
{
	uint8_t *payload;

	ev->len = (uint32_t)len;
	ev->cap_len = (uint32_t)(half ? len / 2 : len);
	ev->type = SS_EV_DATA;
	payload = malloc(ev->cap_len ? ev->cap_len : 1);
	if (!payload)
		abort();
	memcpy(payload, data, ev->cap_len);
	conn_tracker_event(t, ev, payload);
	free(payload);
	if (close) {
		ev->type = SS_EV_CLOSE;
		ev->len = ev->cap_len = 0;
		conn_tracker_event(t, ev, NULL);
	}
}

static inline void fuzz_pipeline_free(struct fuzz_pipeline *p)
{
	conn_tracker_free(p->tracker);
	tracer_flush(p->tracer); /* the spans waiting for a join */
	/* Sessions end or drop every exchange they start, whatever came in. */
	if (tracer_in_flight(p->tracer) != 0)
		abort();
	tracer_free(p->tracer);
}

#endif

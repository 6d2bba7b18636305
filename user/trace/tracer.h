/* Trace correlation: receives the exchanges protocol sessions report
 * (session/exchange.h), decides each one's trace id, span id and parent when
 * it starts, and says what it decided for each exchange that ends with a
 * span (the span stage builds the span: span/span_builder.h).
 *
 * One tracer per pipeline, owned by main; it keeps the exchanges in flight
 * (bounded) and nothing else between calls. Single-threaded: the capture
 * thread calls it. */
#ifndef SOCKSPAN_TRACER_H
#define SOCKSPAN_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/exchange.h"
#include "stats.h"

/* What correlation decided for an exchange that ended. Pointers are valid during the call only. */
struct traced {
	enum exchange_role role;
	enum proto_id proto;
	uint64_t start_ns;        /* CLOCK_MONOTONIC: the request's first byte */
	uint8_t trace_id[16];     /* a 64-bit trace id in the first 8 bytes */
	uint8_t trace_id_len;     /* 8 or 16 */
	uint64_t id;
	uint64_t parent;          /* 0: none */
	bool shared;              /* a SERVER sharing its id with the CLIENT span of the RPC */
	bool debug;
	/* A CLIENT made while serving a request reports that request's local
	 * endpoint (Zipkin links a child to a shared SERVER span by endpoint). */
	bool has_local;
	uint8_t local_family;
	uint16_t local_port;
	const uint8_t *local_addr; /* 16 bytes */
	const char *tracestate;   /* W3C tracestate the request came with; NULL: none */
};

/* Receives each exchange that ends with a span. */
typedef void (*traced_fn)(void *ctx, const struct conn *c, const struct traced *t, const struct exchange_end *x);

struct tracer_opts {
	bool ignore_sampling;     /* requests marked not sampled get spans too */
	/* A SERVER seen without trace context may be joined by its CLIENT end,
	 * whose events can come later (the writer's event is made after the
	 * reader could run): the spans of its trace wait this long for it
	 * (CLOCK_MONOTONIC ns, event time); 0: they go out at once. */
	uint64_t join_wait_ns;
	size_t max_exchanges;     /* exchanges in flight at most; beyond, new ones get no span (counted) */
};

struct tracer;

/* stats must outlive the tracer; fn(ctx, ...) gets every exchange that ends
 * with a span. NULL on ENOMEM. */
struct tracer *tracer_new(const struct tracer_opts *o, struct sockspan_stats *stats, traced_fn fn, void *ctx);
void tracer_free(struct tracer *t);
/* What sessions report to (valid as long as t). */
const struct exchange_sink *tracer_exchange_sink(struct tracer *t);
/* Exchanges started and not yet ended, or ended and waiting (join_wait_ns). */
size_t tracer_in_flight(const struct tracer *t);
/* Sends out the spans whose wait ended by now_ns (CLOCK_MONOTONIC): call it
 * regularly, events or not. */
void tracer_tick(struct tracer *t, uint64_t now_ns);
/* Sends out every waiting span now (at exit). */
void tracer_flush(struct tracer *t);

#endif

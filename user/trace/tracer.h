/* Trace correlation: receives the exchanges protocol sessions report
 * (session/exchange.h), decides each one's trace id, span id and parent when
 * it starts, and hands its span to every sink when it ends.
 *
 * One tracer per pipeline, owned by main; it keeps the exchanges in flight
 * (bounded) and nothing else between calls. Single-threaded: the capture
 * thread calls it. */
#ifndef SOCKSPAN_TRACER_H
#define SOCKSPAN_TRACER_H

#include <stdbool.h>
#include <stddef.h>

#include "session/exchange.h"
#include "span/span.h"
#include "span/span_exchange.h"
#include "stats.h"

/* Sinks a tracer feeds at most (stdout/file, Zipkin, a view...). */
#define TRACER_MAX_SINKS 4

/* Receives every finished span; the span is valid only during the call. */
typedef void (*span_sink_fn)(void *ctx, const struct span *s);

struct tracer_opts {
	const char *service_name; /* serviceName of every span; NULL: the process name */
	const struct span_opts *span; /* read for every span; outlives the tracer */
	bool ignore_sampling;     /* spans of requests marked not sampled are made too */
	size_t max_exchanges;     /* exchanges in flight at most; beyond, new ones get no span (counted) */
};

struct tracer;

/* stats must outlive the tracer. NULL on ENOMEM. */
struct tracer *tracer_new(const struct tracer_opts *o, struct sockspan_stats *stats);
void tracer_free(struct tracer *t);
/* Adds a sink. Returns 0, or -1 when TRACER_MAX_SINKS are there. */
int tracer_add_sink(struct tracer *t, span_sink_fn fn, void *ctx);
/* What sessions report to (valid as long as t). */
const struct exchange_sink *tracer_exchange_sink(struct tracer *t);
/* Exchanges started and not yet ended. */
size_t tracer_in_flight(const struct tracer *t);

#endif

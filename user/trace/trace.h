/* Trace correlation: turns a matched request/response into a span of the
 * right kind, with its endpoints, and hands it to the output.
 * Ids are random for now; trace headers and in-process causality link spans
 * into trees here later. */
#ifndef SOCKSPAN_TRACE_H
#define SOCKSPAN_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "conn/conn_table.h"
#include "span/span.h"

struct http_exchange {
	const char *method;
	size_t method_len;
	const char *target;   /* request target as sent (path, query...) */
	size_t target_len;
	int status;
	uint64_t start_ns;    /* CLOCK_MONOTONIC: the request's first byte */
	uint64_t end_ns;      /* the response's last byte */
	enum span_kind kind;
};

/* Receives every finished span; the span is valid only during the call. */
typedef void (*trace_span_fn)(void *ctx, const struct span *s);

/* Where spans go, and the serviceName to use instead of the process name
 * (NULL: the process name). */
void trace_set_sink(trace_span_fn fn, void *ctx, const char *service_name);

/* The parts every protocol's span shares: fresh ids, kind, timestamp and
 * duration from CLOCK_MONOTONIC times, local and remote endpoints of c, pid.
 * The caller then sets the name and adds its tags, and calls trace_emit. */
void trace_span_begin(struct span *s, const struct conn *c, enum span_kind kind, uint64_t start_ns,
		      uint64_t end_ns);
/* Hands a finished span to the sink (counted in stats.spans). */
void trace_emit(const struct span *s);

/* Builds the span of one HTTP exchange on c and emits it. */
void trace_http_exchange(const struct conn *c, const struct http_exchange *ex);

#endif

/* Spans from correlated exchanges: ids from the trace stage, endpoints and
 * service from the connection (its pod's name and k8s.* tags when metadata
 * knows it, else the process name), name and tags from the protocol's
 * fields (span_exchange.h); each span goes to every sink (the outputs). */
#ifndef SOCKSPAN_SPAN_BUILDER_H
#define SOCKSPAN_SPAN_BUILDER_H

#include "meta/k8s_meta.h"
#include "span/span.h"
#include "span/span_exchange.h"
#include "stats.h"
#include "trace/tracer.h"

/* Sinks fed at most (stdout/file, Zipkin, a view...). */
#define SPAN_BUILDER_MAX_SINKS 4

/* Receives every span; the span is valid only during the call. */
typedef void (*span_sink_fn)(void *ctx, const struct span *s);

struct span_builder {
	const char *service_name;     /* serviceName of every span; NULL: the pod's, or the process name */
	struct k8s_meta *meta;        /* pods and Services (NULL: none); outlives the builder */
	const struct span_opts *opts; /* read for every span; outlives the builder */
	struct sockspan_stats *stats; /* spans counted by protocol and kind */
	struct {
		span_sink_fn fn;
		void *ctx;
	} sinks[SPAN_BUILDER_MAX_SINKS];
	unsigned nsinks;
};

void span_builder_init(struct span_builder *b, const char *service_name, struct k8s_meta *meta,
		       const struct span_opts *opts, struct sockspan_stats *stats);
/* Returns 0, or -1 when SPAN_BUILDER_MAX_SINKS are there. */
int span_builder_add_sink(struct span_builder *b, span_sink_fn fn, void *ctx);
/* A traced_fn (ctx: the builder): builds the span and hands it to every sink. */
void span_builder_traced(void *ctx, const struct conn *c, const struct traced *t, const struct exchange_end *x);

#endif

/* A span's name and tags from how its exchange ended: the one place per
 * protocol where its fields become Zipkin tags (names follow OpenTelemetry's
 * semantic conventions: http.*, rpc.*, db.*). */
#ifndef SOCKSPAN_SPAN_EXCHANGE_H
#define SOCKSPAN_SPAN_EXCHANGE_H

#include <stdbool.h>

#include "session/exchange.h"
#include "span/span.h"

struct span_opts {
	/* Redis spans get db.statement: the command, each argument a '?'
	 * (off by default: nothing of the arguments is shown). */
	bool redis_statement;
};

/* Sets the name and adds the tags of s for x. */
void span_set_exchange(struct span *s, const struct exchange_end *x, const struct span_opts *o);

/* Per protocol (span_http.c, span_grpc.c, span_redis.c); rst as in exchange_end. */
void span_set_http(struct span *s, const struct exchange_http *x, int64_t rst);
void span_set_grpc(struct span *s, const struct exchange_grpc *x, int64_t rst);
void span_set_redis(struct span *s, const struct exchange_redis *x, const struct span_opts *o);

/* The "error" tag of an exchange ended by RST_STREAM (HTTP/2 and gRPC). */
void span_add_rst_error(struct span *s, int64_t rst);

#endif

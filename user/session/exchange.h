/* The seam between protocol sessions and trace correlation.
 *
 * A session reports each request/response exchange twice: when the request
 * starts (its head is parsed: who sent it, on which thread, at which TCP
 * sequence number, with which trace-context headers) and when it ends
 * (status and the protocol's fields), or that it ended without a span (lost,
 * never answered, connection gone). Correlation decides ids and parents at
 * the start, so a SERVER span that ends after its children can still be
 * their parent; the span is built at the end. Sessions build no spans: the
 * mapping of each protocol's fields to names and tags is in span/. */
#ifndef SOCKSPAN_EXCHANGE_H
#define SOCKSPAN_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn_table.h"
#include "conn/proto_id.h"
#include "parse/grpc.h"
#include "parse/trace_context.h"
#include "stats.h"

/* Which end of the exchange the traced process is. */
enum exchange_role {
	EXCHANGE_CLIENT, /* it wrote the request */
	EXCHANGE_SERVER, /* it read the request */
};

/* Pieces of a request that both ends see byte for byte, besides its trace
 * headers: they tell two requests that start at the same sequence number
 * apart (method and target, a command name). */
#define EXCHANGE_IDENT_PARTS 2

/* A request starts. Pointers are valid during the call only. */
struct exchange_start {
	enum exchange_role role;
	enum proto_id proto;
	uint32_t tid;           /* thread that moved the request's first bytes */
	uint32_t seq;           /* TCP sequence number of its first byte */
	uint64_t start_ns;      /* CLOCK_MONOTONIC: its first byte */
	const struct tc_headers *headers; /* NULL: the protocol carries none (Redis) */
	struct tc_slice ident[EXCHANGE_IDENT_PARTS];
};

/* HTTP/1.x, and HTTP/2 that is not gRPC. */
struct exchange_http {
	const char *method;
	size_t method_len;
	const char *target;     /* request target as sent (path and query; authority for CONNECT) */
	size_t target_len;
	int status;             /* final status; 0: none came (the stream was reset) */
};

struct exchange_grpc {
	const char *path;       /* "/package.Service/Method" */
	size_t path_len;
	int http_status;        /* :status; 0: none came */
	int grpc_status;        /* -1: none came */
	const char *message;    /* decoded grpc-message, NULL if none */
	size_t message_len;
	const struct grpc_msgs *request, *response; /* message counts (broken: unknown) */
};

struct exchange_redis {
	const char *name;       /* lowercase command, with its subcommand ("client setname"), or "unknown" */
	size_t name_len;
	unsigned words;         /* words of name that are the command (1, 2); 0 for "unknown" */
	uint64_t argc;          /* words of the command, arguments included */
	const char *error;      /* an error reply's code ("ERR", "WRONGTYPE") or "error"; NULL: no error */
	size_t error_len;
};

enum exchange_type { EXCHANGE_HTTP, EXCHANGE_GRPC, EXCHANGE_REDIS };

/* An exchange ends with a span. Pointers are valid during the call only. */
struct exchange_end {
	enum exchange_type type;
	uint64_t end_ns;        /* CLOCK_MONOTONIC: the response's last byte, or the reset */
	int64_t rst;            /* HTTP/2 RST_STREAM error code that ended it, -1 otherwise */
	union {
		struct exchange_http http;
		struct exchange_grpc grpc;
		struct exchange_redis redis;
	} u;
};

/* A started exchange, as correlation knows it; 0: not tracked (no span will be made). */
typedef uint64_t exchange_id;

/* Implemented by the trace stage. Every start that returns non-zero is
 * followed by exactly one end or drop with that id. */
struct exchange_sink {
	exchange_id (*start)(void *ctx, const struct conn *c, const struct exchange_start *x);
	void (*end)(void *ctx, exchange_id id, const struct conn *c, const struct exchange_end *x);
	void (*drop)(void *ctx, exchange_id id);
	void *ctx;
};

/* What a protocol session gets from the connection tracker. */
struct session_env {
	const struct exchange_sink *sink;
	struct sockspan_stats *stats;
};

static inline exchange_id exchange_start(const struct session_env *env, const struct conn *c,
					 const struct exchange_start *x)
{
	return env->sink ? env->sink->start(env->sink->ctx, c, x) : 0;
}

/* Ends id with a span; nothing for id 0. */
static inline void exchange_end(const struct session_env *env, exchange_id id, const struct conn *c,
				const struct exchange_end *x)
{
	if (id && env->sink)
		env->sink->end(env->sink->ctx, id, c, x);
}

/* Ends id without a span; nothing for id 0. */
static inline void exchange_drop(const struct session_env *env, exchange_id id)
{
	if (id && env->sink)
		env->sink->drop(env->sink->ctx, id);
}

/* The role of the process on c when dir carries requests. */
static inline enum exchange_role exchange_role_of(int req_dir)
{
	return req_dir == SS_DIR_EGRESS ? EXCHANGE_CLIENT : EXCHANGE_SERVER;
}

#endif

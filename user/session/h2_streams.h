/* The open streams of one HTTP/2 connection: what each needs for its span
 * until its response ends or it is reset. Bounded per connection. */
#ifndef SOCKSPAN_H2_STREAMS_H
#define SOCKSPAN_H2_STREAMS_H

#include <stdbool.h>
#include <stdint.h>

#include "parse/grpc.h"
#include "session/exchange.h"
#include "session/h2_block.h"

/* Open streams tracked per connection (~1.1 KiB each): servers allow 100
 * by default (nghttpd, Go, h2o, grpc); more would let one connection hold
 * hundreds of KiB of streams that are never answered. */
#define H2_MAX_STREAMS 128

struct h2_stream {
	uint32_t id;
	bool damaged;     /* bytes lost or headers undecodable: ends without a span */
	bool grpc;
	bool has_grpc_message;
	uint8_t ended;    /* END_STREAM seen, bit (1 << enum ss_dir) */
	uint8_t method_len;
	uint16_t path_len, grpc_message_len;
	int status;       /* final :status, 0 until the response headers */
	int grpc_status;  /* -1 until seen */
	exchange_id xid;  /* its exchange, 0 when not reported (request not decoded) */
	struct grpc_msgs msgs[2]; /* by enum ss_dir */
	char method[H2_METHOD_MAX];
	char path[H2_PATH_MAX];   /* :path, or :authority for CONNECT */
	char grpc_message[H2_GRPC_MESSAGE_MAX];
};

/* Where a stream is in v: by_id keeps these sorted by id, so that a frame
 * finds its stream in O(log n), whatever ids a peer sends. */
struct h2_stream_ref {
	uint32_t id;
	uint32_t slot;
};

struct h2_streams {
	const struct session_env *env;
	struct h2_stream *v;        /* open streams, in no order: v[0..n) */
	struct h2_stream_ref *by_id; /* n entries, sorted by id */
	unsigned n, cap;
};

struct h2_stream *h2_streams_find(struct h2_streams *ss, uint32_t id);
/* A new stream, zeroed but for its id (grpc_status -1). When H2_MAX_STREAMS
 * are open, a damaged one (which may never end) makes room; NULL when none
 * is, or without memory (counted as h2_streams_overflow). */
struct h2_stream *h2_streams_add(struct h2_streams *ss, uint32_t id);
/* Removes h, whose exchange was ended (pointers to other streams may move). */
void h2_streams_remove(struct h2_streams *ss, struct h2_stream *h);
/* Removes h without a span: its exchange is dropped, counted as h2_streams_unspanned. */
void h2_streams_drop(struct h2_streams *ss, struct h2_stream *h);
/* Drops every stream (connection closed or forgotten). */
void h2_streams_drop_all(struct h2_streams *ss);
/* No stream open: the storage is given back (the next add makes it again). */
void h2_streams_trim(struct h2_streams *ss);
void h2_streams_free(struct h2_streams *ss);

#endif

/* The exchanges of an HTTP/2 connection: a request's header block starts
 * its stream's exchange, the response's blocks give it a status (and gRPC's),
 * its END_STREAM or a reset ends it with a span; see h2_session.c for the
 * frames around them. */
#include <string.h>

#include "session/exchange.h"
#include "session/h2_state.h"

/* The stream's exchange ends with a span (rst: the RST_STREAM error code, or -1). */
static void end_exchange(const struct h2_state *st, const struct conn *c, const struct h2_stream *h,
			 uint64_t end_ns, int64_t rst)
{
	struct exchange_end end = { .end_ns = end_ns, .rst = rst };

	if (h->grpc) {
		end.type = EXCHANGE_GRPC;
		end.u.grpc = (struct exchange_grpc){
			.path = h->path, .path_len = h->path_len,
			.http_status = h->status, .grpc_status = h->grpc_status,
			.message = h->has_grpc_message ? h->grpc_message : NULL, .message_len = h->grpc_message_len,
			.request = &h->msgs[st->req_dir], .response = &h->msgs[!st->req_dir],
		};
	} else {
		end.type = EXCHANGE_HTTP;
		end.u.http = (struct exchange_http){
			.method = h->method, .method_len = h->method_len,
			.target = h->path, .target_len = h->path_len, .status = h->status,
		};
	}
	exchange_end(st->env, h->xid, c, &end);
}

void h2_stream_finish(struct h2_state *st, const struct conn *c, struct h2_stream *h, uint64_t end_ns, int64_t rst)
{
	if (h->damaged || (!h->status && rst < 0)) {
		h2_streams_drop(&st->streams, h);
		return;
	}
	end_exchange(st, c, h, end_ns, rst);
	h2_streams_remove(&st->streams, h);
}

void h2_stream_end(struct h2_state *st, const struct conn *c, enum ss_dir dir, uint32_t id, uint64_t end_ns)
{
	struct h2_stream *h = h2_streams_find(&st->streams, id);

	if (h)
		h->ended |= (uint8_t)(1u << dir);
	if (st->req_dir < 0) {
		/* Sides unknown: a stream is over when both have ended it. */
		if (h && h->ended == 3)
			h2_stream_finish(st, c, h, end_ns, -1);
		return;
	}
	if ((int)dir == st->req_dir)
		return;
	if (h)
		h2_stream_finish(st, c, h, end_ns, -1);
	else if (id % 2)
		st->env->stats->h2_streams_unspanned++; /* its request was never seen or never decoded */
}

/* The side that asks is known from now on; streams kept while it was not
 * (damaged: their requests were not decoded) whose answer already ended are over. */
void h2_set_req_dir(struct h2_state *st, struct conn *c, enum ss_dir dir)
{
	st->req_dir = dir;
	if (c->role == SS_ROLE_UNKNOWN)
		c->role = dir == SS_DIR_EGRESS ? SS_ROLE_CLIENT : SS_ROLE_SERVER;
	for (unsigned i = 0; i < st->streams.n;) {
		struct h2_stream *h = &st->streams.v[i];

		if (h->ended & (1u << !dir))
			h2_stream_finish(st, c, h, 0, -1);
		else
			i++;
	}
}

/* A request's header block is complete: the stream and its exchange begin. */
static void request_block(struct h2_state *st, const struct conn *c, struct h2_block *b)
{
	struct exchange_start x = {
		.role = exchange_role_of(st->req_dir), .proto = PROTO_HTTP2,
		.tid = b->tid, .seq = b->seq, .start_ns = b->start_ns, .headers = &b->trace,
	};
	struct h2_stream *h = h2_streams_find(&st->streams, b->stream_id);
	bool connect = b->has_method && b->method_len == 7 && memcmp(b->method, "CONNECT", 7) == 0;

	if (h)
		return; /* trailers of the request: nothing a span needs */
	/* Without method and path there is nothing to name a span with: the
	 * response's end counts the stream. */
	if (b->failed || b->malformed || !b->has_method || b->stream_id % 2 == 0 ||
	    !(b->has_path || (connect && b->has_authority)))
		return;
	h = h2_streams_add(&st->streams, b->stream_id);
	if (!h)
		return;
	h->grpc = b->grpc;
	h->method_len = b->method_len;
	memcpy(h->method, b->method, b->method_len);
	if (b->has_path) {
		h->path_len = b->path_len;
		memcpy(h->path, b->path, b->path_len);
	} else {
		h->path_len = b->authority_len;
		memcpy(h->path, b->authority, b->authority_len);
	}
	x.ident[0] = (struct tc_slice){ h->method, h->method_len };
	x.ident[1] = (struct tc_slice){ h->path, h->path_len };
	h->xid = exchange_start(st->env, c, &x);
}

/* A response's header block (headers, interim, or trailers) is complete. */
static void response_block(struct h2_state *st, struct h2_block *b)
{
	struct h2_stream *h = h2_streams_find(&st->streams, b->stream_id);

	if (!h)
		return;
	if (b->failed && !b->malformed && !h->grpc) {
		/* What decoded before the failure is right (see the top): a :status
		 * (static table, first in every block) is kept. A gRPC answer's
		 * status may be what could not be decoded. */
		if (b->has_status && b->status >= 200 && !h->status)
			h->status = b->status;
		return;
	}
	if (b->failed || b->malformed) {
		h->damaged = true;
		return;
	}
	if (b->has_status && b->status >= 200) {
		h->damaged |= h->status != 0; /* a second final response */
		h->status = b->status;
	} else if (!b->has_status && !h->status) {
		h->damaged = true; /* trailers before any headers */
	}
	if (b->has_grpc_status)
		h->grpc_status = b->grpc_status;
	if (b->has_grpc_message) {
		h->has_grpc_message = true;
		h->grpc_message_len = b->grpc_message_len;
		memcpy(h->grpc_message, b->grpc_message, b->grpc_message_len);
	}
}

void h2_block_end(struct h2_state *st, struct conn *c, enum ss_dir dir, uint64_t end_ns)
{
	static const uint8_t none[1];
	struct h2_side *side = &st->side[dir];
	struct h2_block *b = side->block;

	h2_block_feed(b, &side->dec, none, 0, true);
	b->open = false;
	if (b->failed)
		st->env->stats->h2_hpack_errors++;
	if (b->push)
		return;
	if (st->req_dir < 0 && !b->failed && !b->malformed) {
		if (b->has_method)
			h2_set_req_dir(st, c, dir);
		else if (b->has_status)
			h2_set_req_dir(st, c, !dir);
	}
	if (st->req_dir < 0) {
		/* Which side asks is unknown: the stream is kept to be counted once, at its end. */
		if (b->stream_id % 2 && !h2_streams_find(&st->streams, b->stream_id)) {
			struct h2_stream *h = h2_streams_add(&st->streams, b->stream_id);

			if (h)
				h->damaged = true;
		}
	} else if ((int)dir == st->req_dir) {
		request_block(st, c, b);
	} else {
		response_block(st, b);
	}
	if (b->end_stream)
		h2_stream_end(st, c, dir, b->stream_id, end_ns);
}
